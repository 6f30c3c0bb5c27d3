"""Stripe's own Python SDK (`stripe` on PyPI, unmodified) against the
gateway's Stripe facade, configured as a Stripe user would move off Stripe:
`stripe.api_key` is the gateway's client key and `stripe.api_base` the
gateway's `/stripe` mount. The target account is the `stripe_account`
option (`Stripe-Account: provider:account`) or, without it, the demo's
routing (config/demo.toml).

The runner (tests/sdk/runner.py) follows tests/sdk/runner.mjs: the demo's addresses from
GATEWAY_URL, GATEWAY_KEY and SANDBOX_URL (.ci/stripe-sdk reads them from
`checkout-gateway demo`), one line per case, then exactly `N passed, M
failed`; exit 1 if M > 0. Seeded records: crates/sandbox/src/<vendor>/seed.rs.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import stripe


# The shared runner (tests/sdk/runner.py), beside this suite's folder.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from runner import check, equal, raises, run  # noqa: E402


def environment(name: str, example: str) -> str:
    value = os.environ.get(name)
    if not value:
        print(f"{name} is not set (e.g. {example}); .ci/stripe-sdk sets it", file=sys.stderr)
        sys.exit(2)
    return value.rstrip("/")


GATEWAY = environment("GATEWAY_URL", "http://127.0.0.1:8080")
KEY = environment("GATEWAY_KEY", "demo-client-key-0000000000000001")
SANDBOX = environment("SANDBOX_URL", "http://127.0.0.1:9100")

stripe.api_key = KEY
stripe.api_base = f"{GATEWAY}/stripe"
stripe.max_network_retries = 2

# The catalog alias every demo account maps to its own plan (config/demo.toml).
PRO = "pro"
SUCCESS_URL = "https://shop.example/ok"
CANCEL_URL = "https://shop.example/no"


@dataclass(frozen=True)
class Account:
    """A demo account and what a Stripe create there needs and gets."""

    name: str
    # The vendor's customer reference (the `customer` a create sends).
    customer: str
    # A second customer, for lists that must see only this run's sessions.
    other_customer: str | None = None
    takes_metadata: bool = False
    can_expire: bool = False
    can_list: bool = False
    has_url: bool = True
    # What the session's mode reads: a Flowglad product session does not say
    # whether its price is one-off or recurring, so it reads `payment`
    # (README, "Where this differs").
    mode: str = "subscription"
    # More create parameters this account needs.
    extra: dict | None = None


METEROID = Account("meteroid:default", "acme", "globex", takes_metadata=True, can_expire=True, can_list=True)
FLOWGLAD = Account("flowglad:default", "acme", "globex", takes_metadata=True, can_list=True, mode="payment")
# Frontier's customer is an organization id; it lists per organization.
FRONTIER_ORG = "e9760ba0-2587-4630-a97e-3f0d634d5d9f"
FRONTIER = Account("frontier:default", FRONTIER_ORG)
FRONTIER_LEGACY = Account("frontier:legacy", FRONTIER_ORG)
# Zenskar's /checkouts family has no idempotency, and the SDK puts an
# Idempotency-Key on every POST: no create there through the SDK (see
# keyed_create_refused). Its /checkout family needs a currency and a start
# date, which the facade takes as `provider_options[…]` (its extension).
ZENSKAR_CUSTOMER = "2e2b4910-61c8-407d-b343-d74c3e4271ac"
ZENSKAR = Account("zenskar:default", ZENSKAR_CUSTOMER, can_expire=True, has_url=False,
                  extra={"provider_options": {"currency": "USD", "start_date": "2026-12-01"}})
ZENSKAR_CHECKOUTS = Account("zenskar:checkouts", ZENSKAR_CUSTOMER, has_url=False)
ACCOUNTS = [METEROID, FLOWGLAD, FRONTIER, FRONTIER_LEGACY, ZENSKAR]


def create(account: Account, customer: str | None = None, **params):
    body = {
        "mode": "subscription",
        "line_items": [{"price": PRO, "quantity": 1}],
        "customer": customer or account.customer,
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        **(account.extra or {}),
        **params,
    }
    return stripe.checkout.Session.create(stripe_account=account.name, **body)


def fresh(session, account: Account):
    """What every new session says, whichever vendor holds it."""
    check(session.id.startswith("cs_"), f"id: {session.id}")
    equal(session.object, "checkout.session", "object")
    equal(session.status, "open", "status")
    equal(session.mode, account.mode, "mode")
    check(session.payment_status in ("unpaid", "no_payment_required"), f"payment_status: {session.payment_status}")
    equal((session.success_url, session.cancel_url), (SUCCESS_URL, CANCEL_URL), "redirect URLs")
    equal(session.livemode, False, "livemode")
    check(isinstance(session.created, int), f"created as unix seconds: {session.created!r}")
    check(session.customer, f"customer: {session.customer!r}")
    if account.has_url:
        check(isinstance(session.url, str) and session.url.startswith("http"), f"url: {session.url!r}")
    return session


def create_and_retrieve(account: Account) -> Callable[[], None]:
    def case() -> None:
        params = {"metadata": {"order": "1234"}} if account.takes_metadata else {}
        created = fresh(create(account, **params), account)
        read = stripe.checkout.Session.retrieve(created.id)
        equal(read.id, created.id, "retrieved id")
        equal((read.status, read.customer, read.created), (created.status, created.customer, created.created),
              "status, customer, created read back")
        if account is FLOWGLAD:
            # Flowglad returns what it holds; Meteroid stores metadata but never returns it.
            equal(read.metadata.to_dict(), {"order": "1234"}, "metadata read back")

    return case


# --- the vendor side, seen past the facade ------------------------------------


def sandbox_fault(vendor: str, fault: dict) -> None:
    body = json.dumps({"vendor": vendor, "op": "create", "times": 1, "fault": fault}).encode()
    request = urllib.request.Request(
        f"{SANDBOX}/_sandbox/faults", data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def clear_faults() -> None:
    """A fault the create never met must not fall on a later case."""
    request = urllib.request.Request(f"{SANDBOX}/_sandbox/faults", method="DELETE")
    with urllib.request.urlopen(request, timeout=10):
        pass


def vendor_sessions(account: str, customer: str) -> set[str]:
    """Every session the vendor holds for `customer`, through the gateway's
    canonical list (not the facade under test), past the cache."""
    ids: set[str] = set()
    cursor = None
    while True:
        query = urllib.parse.urlencode(
            {"accounts": account, "customer": customer, "limit": 100, **({"cursor": cursor} if cursor else {})}
        )
        request = urllib.request.Request(
            f"{GATEWAY}/v1/checkout-sessions?{query}",
            headers={"Authorization": f"Bearer {KEY}", "Cache-Control": "no-cache"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            page = json.load(answer)
        failed = [s for s in page.get("sources", []) if s.get("state") != "ok"]
        check(not failed, f"the canonical list of {account}: {failed}")
        ids.update(s["id"] for s in page["data"])
        cursor = page.get("next_cursor")
        if not cursor:
            return ids


def control(account: Account, canonical_id: str, body: dict) -> None:
    """Move a sandbox session on, as its vendor would (the demo's control lines)."""
    vendor = account.name.split(":", 1)[0]
    vendor_id = canonical_id.split(":", 2)[2]
    request = urllib.request.Request(
        f"{SANDBOX}/_sandbox/{vendor}/sessions/{vendor_id}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


# --- lists --------------------------------------------------------------------


def paginate(account: Account) -> Callable[[], None]:
    """Five sessions of one customer, read two at a time by auto-pagination."""

    def case() -> None:
        made = [create(account, customer=account.other_customer) for _ in range(5)]
        customer = made[0].customer
        since = {"gte": made[0].created}
        first = stripe.checkout.Session.list(stripe_account=account.name, limit=2, customer=customer, created=since)
        equal(len(first.data), 2, "first page size")
        equal(first.has_more, True, "has_more on the first page")
        listed = list(first.auto_paging_iter())
        seen = [s.id for s in listed]
        equal(len(seen), len(set(seen)), "no session twice")
        mine = [s for s in seen if s in {m.id for m in made}]
        equal(mine, [m.id for m in reversed(made)], "this run's sessions, newest first")
        check(len(seen) >= 5, f"at least the 5 created: {len(seen)}")
        check(all(a.created >= b.created for a, b in zip(listed, listed[1:])), "created never increases")
        check(all(s.customer == customer for s in listed), "only the customer asked for")

    return case


def list_by_status() -> None:
    """`status=open` and `status=expired` at a vendor that can expire."""
    session = create(METEROID, customer=METEROID.other_customer)
    opened = stripe.checkout.Session.list(stripe_account=METEROID.name, status="open", customer=session.customer)
    check(session.id in [s.id for s in opened.auto_paging_iter()], "the new session is open")
    stripe.checkout.Session.expire(session.id)
    expired = stripe.checkout.Session.list(stripe_account=METEROID.name, status="expired", customer=session.customer)
    check(session.id in [s.id for s in expired.auto_paging_iter()], "the expired session is listed as expired")
    opened = stripe.checkout.Session.list(stripe_account=METEROID.name, status="open", customer=session.customer)
    check(session.id not in [s.id for s in opened.auto_paging_iter()], "no longer open")


# --- expire -------------------------------------------------------------------


def expire() -> None:
    session = create(METEROID)
    expired = stripe.checkout.Session.expire(session.id)
    equal((expired.id, expired.status), (session.id, "expired"), "expire answers the expired session")
    equal(stripe.checkout.Session.retrieve(session.id).status, "expired", "read back")


def expire_complete() -> None:
    """Stripe expires only open sessions: a paid one is a 400."""
    customer = create(METEROID, customer=METEROID.other_customer).customer
    before = vendor_sessions(METEROID.name, customer)
    session = create(METEROID, customer=METEROID.other_customer)
    new = vendor_sessions(METEROID.name, customer) - before
    equal(len(new), 1, f"new sessions at the vendor ({sorted(new)})")
    (canonical_id,) = new
    control(METEROID, canonical_id, {"status": "COMPLETED"})
    error = raises(stripe.InvalidRequestError, lambda: stripe.checkout.Session.expire(session.id), "expire")
    equal(error.http_status, 400, "HTTP status")
    # The gateway caches an open session for a few seconds (config/demo.toml).
    for _ in range(40):
        status = stripe.checkout.Session.retrieve(session.id).status
        if status == "complete":
            break
        time.sleep(0.25)
    equal(status, "complete", "read back")


def cannot_expire(account: Account) -> Callable[[], None]:
    def case() -> None:
        session = create(account)
        error = raises(stripe.InvalidRequestError, lambda: stripe.checkout.Session.expire(session.id), "expire")
        equal(error.http_status, 400, "HTTP status")
        equal(stripe.checkout.Session.retrieve(session.id).status, "open", "still open")

    return case


def keyed_create_refused() -> None:
    """A vendor that cannot honour the SDK's Idempotency-Key refuses the
    create before any call, rather than risk a second checkout on a retry."""
    error = raises(stripe.InvalidRequestError, lambda: create(ZENSKAR_CHECKOUTS), "create")
    equal(error.http_status, 400, "HTTP status")
    check("Idempotency-Key" in str(error.user_message), f"says why: {error.user_message}")
    equal(error.headers.get("Stripe-Should-Retry"), "false", "Stripe-Should-Retry")


# --- routing ------------------------------------------------------------------


def routed_create() -> None:
    """No Stripe-Account: the demo's routing picks the vendor for `pro`, and
    translates the shop's customer `acme` into that vendor's reference."""
    session = stripe.checkout.Session.create(
        mode="subscription",
        line_items=[{"price": PRO, "quantity": 1}],
        customer="acme",
        success_url=SUCCESS_URL,
        cancel_url=CANCEL_URL,
    )
    check(session.id.startswith("cs_"), f"id: {session.id}")
    equal(session.status, "open", "status")
    equal(stripe.checkout.Session.retrieve(session.id).id, session.id, "retrieved")


# --- errors -------------------------------------------------------------------


def unsupported_parameter() -> None:
    error = raises(
        stripe.InvalidRequestError,
        lambda: create(METEROID, payment_method_types=["card"]),
        "payment_method_types",
    )
    equal(error.http_status, 400, "HTTP status")
    check(error.param and error.param.startswith("payment_method_types"), f"param: {error.param!r}")
    check(error.request_id, "Request-Id")


def unsupported_list_parameter() -> None:
    error = raises(
        stripe.InvalidRequestError,
        lambda: stripe.checkout.Session.list(stripe_account=METEROID.name, payment_intent="pi_123"),
        "payment_intent",
    )
    equal((error.http_status, error.param), (400, "payment_intent"), "status and param")


def unknown_session() -> None:
    error = raises(stripe.InvalidRequestError, lambda: stripe.checkout.Session.retrieve("cs_nosuchsession"), "retrieve")
    equal((error.http_status, error.code), (404, "resource_missing"), "status and code")


def bad_key() -> None:
    error = raises(
        stripe.AuthenticationError,
        lambda: stripe.checkout.Session.list(api_key="sk_test_not_a_gateway_key", stripe_account=METEROID.name),
        "bad key",
    )
    equal(error.http_status, 401, "HTTP status")


def idempotency() -> None:
    key = f"stripe-python-{uuid.uuid4()}"
    first = create(METEROID, idempotency_key=key)
    replayed = create(METEROID, idempotency_key=key)
    equal(replayed.id, first.id, "the same key and parameters replay the first session")
    error = raises(
        stripe.IdempotencyError,
        lambda: create(METEROID, idempotency_key=key, success_url="https://shop.example/other"),
        "the same key with other parameters",
    )
    equal(error.http_status, 400, "HTTP status")


# --- retries ------------------------------------------------------------------


def retried_after_timeout() -> None:
    """The gateway answers later than the SDK waits (the vendor is slow): the
    SDK retries with its own Idempotency-Key, and the gateway answers the
    retry with the session the first attempt made, not a second one."""
    customer = create(METEROID, customer=METEROID.other_customer).customer
    before = vendor_sessions(METEROID.name, customer)
    sandbox_fault("meteroid", {"latency_ms": 4000})
    impatient = stripe.RequestsClient(timeout=2.5)
    saved, stripe.default_http_client = stripe.default_http_client, impatient
    try:
        session = create(METEROID, customer=METEROID.other_customer)
    finally:
        stripe.default_http_client = saved
        clear_faults()
    equal(session.status, "open", "the retried create's session")
    new = vendor_sessions(METEROID.name, customer) - before
    equal(len(new), 1, f"new sessions at the vendor ({sorted(new)})")


def retried_after_vendor_error() -> None:
    """The vendor's first answer is a 500: the gateway finds nothing was made,
    so the SDK's retry (same key) makes the one session."""
    customer = create(FLOWGLAD, customer=FLOWGLAD.other_customer).customer
    before = vendor_sessions(FLOWGLAD.name, customer)
    sandbox_fault("flowglad", {"status": 500, "body": '{"error":"internal"}'})
    try:
        session = create(FLOWGLAD, customer=FLOWGLAD.other_customer)
    finally:
        clear_faults()
    equal(session.status, "open", "the retried create's session")
    new = vendor_sessions(FLOWGLAD.name, customer) - before
    equal(len(new), 1, f"new sessions at the vendor ({sorted(new)})")


CASES: list[tuple[str, Callable[[], None]]] = [
    *[(f"create, retrieve at {a.name} (Stripe-Account)", create_and_retrieve(a)) for a in ACCOUNTS],
    *[(f"list at {a.name}: auto_paging_iter, limit=2 over 5, newest first", paginate(a)) for a in ACCOUNTS if a.can_list],
    ("list: status=open, then status=expired after expire", list_by_status),
    ("expire at meteroid:default: expired, read back", expire),
    ("expire a complete session at meteroid:default: InvalidRequestError 400", expire_complete),
    *[(f"expire at {a.name}: InvalidRequestError 400 (the vendor cannot)", cannot_expire(a))
      for a in ACCOUNTS if not a.can_expire],
    ("create at zenskar:checkouts: InvalidRequestError, the SDK's Idempotency-Key cannot be honoured", keyed_create_refused),
    ("create without Stripe-Account: routed (alias pro, customer acme)", routed_create),
    ("error: unsupported create parameter is InvalidRequestError naming it", unsupported_parameter),
    ("error: unsupported list parameter is InvalidRequestError naming it", unsupported_list_parameter),
    ("error: unknown session is InvalidRequestError 404 resource_missing", unknown_session),
    ("error: bad key is AuthenticationError", bad_key),
    ("idempotency: replay; other parameters are IdempotencyError", idempotency),
    ("retry: SDK timeout, retried with its key, one vendor session", retried_after_timeout),
    ("retry: vendor 500 once, retried with its key, one vendor session", retried_after_vendor_error),
]


def facade_missing() -> str | None:
    """Why the suite cannot run, if the gateway has no Stripe facade."""
    request = urllib.request.Request(
        f"{GATEWAY}/stripe/v1/checkout/sessions?limit=1", headers={"Authorization": f"Bearer {KEY}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30):
            return None
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return f"GET {GATEWAY}/stripe/v1/checkout/sessions answered 404: this gateway has no Stripe facade"
        return None
    except OSError as error:
        return f"the gateway at {GATEWAY} does not answer: {error}"


def main() -> int:
    print(f"stripe (PyPI) {stripe.VERSION} against {stripe.api_base}")
    missing = facade_missing()
    if missing:
        print(f"FAIL  {missing}")
        print(f"0 passed, {len(CASES)} failed")
        return 1
    return run(CASES)


if __name__ == "__main__":
    sys.exit(main())

"""Meteroid's own Python SDK (`meteroid` on PyPI, unmodified) against the
sandbox, configured as its README shows: `Meteroid(api_key=…, base_url=…)`.

The runner (tests/sdk/runner.py) follows tests/sdk/runner.mjs: the sandbox's base URL from
SANDBOX_URL, one line per case, then exactly `N passed, M failed`; exit 1 if
M > 0. Seeded records: crates/sandbox/src/meteroid/seed.rs.
"""

from __future__ import annotations

import os
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from meteroid import AuthenticationError, BadRequestError, Meteroid, NotFoundError
from meteroid.models import CheckoutSessionStatus, CheckoutType

API_KEY = "pv_sand_sfLPedfA3PcVxe91EP48suEoMZD8/325iPXhYKOOez0bJwnd0H"
ACME = ("acme", "cus_5g8x6qqZUyjuNWTs8msARg")
GLOBEX = ("globex", "cus_BnJm5gVNSO5xqdGDAfeEW")
STARTER = "plv_54AOvkF89j9ys99Pfl2DxN"
PRO = "plv_1XBG3KSpeVSfEQiMN1TtL2"
SUCCESS_URL = "https://shop.example/ok"
CANCEL_URL = "https://shop.example/no"


# The shared runner (tests/sdk/runner.py), beside this suite's folder.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from runner import check, equal, raises, run  # noqa: E402


base = os.environ.get("SANDBOX_URL")
if not base:
    print("SANDBOX_URL is not set (e.g. http://127.0.0.1:9100)", file=sys.stderr)
    sys.exit(2)
BASE_URL = f"{base.rstrip('/')}/meteroid"
client = Meteroid(api_key=API_KEY, base_url=BASE_URL)


def fresh(session, customer_id: str, plan_version_id: str, hours: int = 1):
    """What every new session says."""
    check(session.id.startswith("che_"), f"id in the vendor's format: {session.id}")
    equal(session.status, CheckoutSessionStatus.CREATED, "status")
    equal(session.checkout_type, CheckoutType.SELF_SERVE, "checkout_type")
    equal((session.customer_id, session.plan_version_id), (customer_id, plan_version_id), "customer, plan")
    check(session.checkout_url and "/checkout?token=" in session.checkout_url, f"checkout_url: {session.checkout_url}")
    check(session.expires_at is not None, "expires_at")
    equal(session.expires_at - session.created_at, timedelta(hours=hours), "lifetime")
    return session


def create_by_alias() -> None:
    s = fresh(client.checkout_sessions.create(customer_id=ACME[0], plan_version_id=STARTER).session, ACME[1], STARTER)
    equal((s.success_url, s.cancel_url), (None, None), "no redirect URLs asked, none given")


def create_by_id_with_options() -> None:
    s = client.checkout_sessions.create(
        customer_id=GLOBEX[1],
        plan_version_id=PRO,
        expires_in_hours=24,
        trial_duration_days=14,
        net_terms=30,
        billing_day_anchor=15,
        coupon_code="WELCOME10",
    ).session
    fresh(s, GLOBEX[1], PRO, hours=24)
    equal(
        (s.trial_duration_days, s.net_terms, s.billing_day_anchor, s.coupon_code),
        (14, 30, 15, "WELCOME10"),
        "options read back",
    )


def create_with_redirect_urls() -> None:
    created = client.checkout_sessions.create(
        customer_id=ACME[0], plan_version_id=STARTER, success_url=SUCCESS_URL, cancel_url=CANCEL_URL
    ).session
    equal((created.success_url, created.cancel_url), (SUCCESS_URL, CANCEL_URL), "create answers the URLs")
    got = client.checkout_sessions.retrieve(created.id).session
    equal((got.success_url, got.cancel_url), (SUCCESS_URL, CANCEL_URL), "retrieve reads the URLs back")


def retrieve() -> None:
    created = client.checkout_sessions.create(customer_id=ACME[1], plan_version_id=PRO).session
    got = client.checkout_sessions.retrieve(created.id).session
    equal(got.to_dict(), created.to_dict(), "retrieved session")


def list_with_filters() -> None:
    acme = client.checkout_sessions.create(customer_id=ACME[0], plan_version_id=STARTER).session
    globex = client.checkout_sessions.create(customer_id=GLOBEX[0], plan_version_id=STARTER).session
    canceled = client.checkout_sessions.create(customer_id=GLOBEX[0], plan_version_id=PRO).session
    client.checkout_sessions.cancel(canceled.id)

    listed = client.checkout_sessions.list().sessions
    everything = [s.id for s in listed]
    equal(len(set(everything)), len(everything), "no session listed twice")
    created_at = [s.created_at for s in listed]
    equal(created_at, sorted(created_at, reverse=True), "newest first")
    for s in (acme, globex, canceled):
        check(s.id in everything, f"{s.id} not listed")

    of_globex = client.checkout_sessions.list(customer_id=GLOBEX[1]).sessions
    check(all(s.customer_id == GLOBEX[1] for s in of_globex), "customer filter let another customer through")
    check({globex.id, canceled.id} <= {s.id for s in of_globex}, "Globex's sessions not listed")
    check(acme.id not in {s.id for s in of_globex}, "Acme's session under Globex")

    cancelled = client.checkout_sessions.list(status=CheckoutSessionStatus.CANCELLED).sessions
    check(all(s.status == CheckoutSessionStatus.CANCELLED for s in cancelled), "status filter")
    check(canceled.id in {s.id for s in cancelled}, "the cancelled session is listed as cancelled")

    both = client.checkout_sessions.list(customer_id=GLOBEX[1], status="CREATED").sessions
    check(
        all(s.customer_id == GLOBEX[1] and s.status == CheckoutSessionStatus.CREATED for s in both),
        "both filters",
    )
    ids = [s.id for s in both]
    check(globex.id in ids and canceled.id not in ids, f"both filters: {ids}")


def cancel() -> None:
    created = client.checkout_sessions.create(customer_id=ACME[0], plan_version_id=STARTER).session
    cancelled = client.checkout_sessions.cancel(created.id).session
    equal((cancelled.id, cancelled.status), (created.id, CheckoutSessionStatus.CANCELLED), "cancel answers")
    equal(client.checkout_sessions.retrieve(created.id).session.status, CheckoutSessionStatus.CANCELLED, "read back")
    again = raises(BadRequestError, lambda: client.checkout_sessions.cancel(created.id), "cancel twice")
    equal(again.status_code, 400, "status")
    equal(again.body.code, "BAD_REQUEST", "error code")


def unknown_id() -> None:
    # The vendor takes a session id or its UUID; a fresh UUID names nothing.
    error = raises(NotFoundError, lambda: client.checkout_sessions.retrieve(str(uuid.uuid4())), "retrieve")
    equal((error.status_code, error.body.code), (404, "NOT_FOUND"), "status, code")


def bad_key() -> None:
    wrong = Meteroid(api_key="pv_sand_wrongwrongwrongwrongwrongwron/325iPXhYKOOez0bJwnd0H", base_url=BASE_URL)
    error = raises(AuthenticationError, lambda: wrong.checkout_sessions.list(), "list")
    equal((error.status_code, error.body.code), (401, "UNAUTHORIZED"), "status, code")


def unknown_customer() -> None:
    error = raises(
        NotFoundError,
        lambda: client.checkout_sessions.create(customer_id="nobody", plan_version_id=STARTER),
        "create",
    )
    equal(error.status_code, 404, "status")


CASES = [
    ("create: by customer alias", create_by_alias),
    ("create: by customer id, 24 h expiry, trial, net terms, anchor, coupon", create_by_id_with_options),
    ("create: success_url and cancel_url read back", create_with_redirect_urls),
    ("retrieve: the created session, field for field", retrieve),
    ("list: customer_id and status filters, newest first", list_with_filters),
    ("cancel: CANCELLED, read back; twice is BadRequestError", cancel),
    ("error: unknown id is NotFoundError", unknown_id),
    ("error: bad key is AuthenticationError", bad_key),
    ("error: unknown customer alias is NotFoundError", unknown_customer),
]


def main() -> int:
    return run(CASES)


if __name__ == "__main__":
    sys.exit(main())

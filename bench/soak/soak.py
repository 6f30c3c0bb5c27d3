#!/usr/bin/env python3
"""The soak of bench/soak/run.sh (PRODUCT §10): three gateway replicas on one
PostgreSQL schema (and one Redis prefix, when the build has the Redis tier)
in front of one sandbox whose every vendor call fails independently with
probability p (500, 503, reset before or after the vendor acted, a stall past
the gateway's deadline, a truncated body). Clients create checkouts with
their own Idempotency-Keys and retry each key on retryable answers; one
replica is killed with SIGKILL a third of the way through and started again
at two thirds. Then the faults are cleared and every session the vendors
hold is matched to the keys:

  - created: the share of creates that ended in 201 within the clients'
    retries (target >= 99.9 %);
  - duplicates: keys with more than one vendor session (target 0);
  - orphans: vendor sessions no client was given in a 201 (target 0);
  - lost: sessions given in a 201 that the vendor does not hold (target 0);
  - p50/p99 of successful creates as the client saw them, retries included.

Exit status 1 when a target is missed. Python standard library only.

Each client uses one vendor account and its own customer and plan, and
creates one checkout at a time, so a vendor session can be told from
another client's by what it is for (what a gateway resolving an unknown
outcome by customer, plan and time matches on). Every create's return URL
carries its key (`?soak_key=`), which all four vendors echo back, so the
vendors' own lists map each session to its key.
"""

import argparse
import datetime
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# config/demo.toml's client: every account, its SHA-256 in the file.
CLIENT_KEY = "demo-client-key-0000000000000001"
REPLICAS = 3
# A vendor call is abandoned after this; the stall fault outlasts it, and
# an idempotency claim whose replica died is free again after it plus 30 s.
DEADLINE_MS = 2000
RETURN_URL = "https://shop.example/ok"
# The faults every vendor call may get, as tests/e2e/fault_matrix.rs walks
# them (docs/resilience.md shows what the gateway answers to each).
FAULTS = [
    {"status": 500},
    {"status": 503},
    {"reset": "before_read"},
    {"reset": "after_read"},
    {"latency_ms": DEADLINE_MS + 500},
    {"truncate_at": 10},
]


def start_date():
    """Zenskar wants a contract start; a week ahead is always acceptable."""
    return (datetime.date.today() + datetime.timedelta(days=7)).isoformat()


# (customer, plan, extra create fields) per vendor: the seeded customers and
# plans of crates/sandbox/src/<vendor>/seed.rs, one pair per client.
ACME_ORG = "e9760ba0-2587-4630-a97e-3f0d634d5d9f"
GLOBEX_ORG = "df0133c7-2ca6-41fc-a899-38c9b7645d92"
VENDORS = {
    "meteroid": [
        (customer, plan, {})
        for customer in ("acme", "globex")
        for plan in ("plv_54AOvkF89j9ys99Pfl2DxN", "plv_1XBG3KSpeVSfEQiMN1TtL2")
    ],
    "flowglad": [
        (customer, price, {"cancel_url": "https://shop.example/no"})
        for customer in ("acme", "globex")
        for price in ("price_EY4sthb9KB99ZWUimUu2x", "price_hCKezc2rYCZVknJ2JYbgU")
    ],
    "frontier": [
        (org, plan, {"cancel_url": "https://shop.example/no"})
        for org in (ACME_ORG, GLOBEX_ORG)
        for plan in ("74d6592b-c0ce-4a49-b30e-418eddb39ec7",
                     "3235c01d-1dcc-4478-9f08-7c7d0031679c")
    ],
    "zenskar": [
        (customer, plan, {"provider_options": {"currency": currency, "start_date": start_date()}})
        for customer, currency in (("2e2b4910-61c8-407d-b343-d74c3e4271ac", "USD"),
                                   ("5d58e137-0e0d-4807-939b-0c4d351daac6", "JPY"))
        for plan in ("7592c477-cd81-4288-8d30-c542f11f635b",
                     "b816fef6-b709-4fa5-bf4b-964cf53c4d45")
    ],
}
ACCOUNTS = [f"{vendor}:default" for vendor in VENDORS]


# --- HTTP ----------------------------------------------------------------------

def http(method, url, body=None, headers=None, timeout=30):
    """(status, headers, JSON or None). Connection failures raise OSError."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, answer_headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        status, answer_headers, raw = e.code, e.headers, e.read()
    except urllib.error.URLError as e:
        raise OSError(str(e.reason)) from e
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, answer_headers, parsed


AUTH = {"authorization": f"Bearer {CLIENT_KEY}"}


# --- processes -----------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A child of the binary on its own port, logging to a file."""

    def __init__(self, name, argv, port, work: Path, env=None):
        self.name, self.argv, self.port, self.work = name, argv, port, work
        self.env = dict(os.environ, **(env or {}))
        self.url = f"http://127.0.0.1:{port}"
        self.process = None

    def start(self, probe):
        log = open(self.work / f"{self.name}.log", "ab")
        self.process = subprocess.Popen(self.argv, stdout=log, stderr=log, env=self.env,
                                        cwd=ROOT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"{self.name} exited at start:\n{self.log_tail()}")
            try:
                if http("GET", self.url + probe, timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        sys.exit(f"{self.name} never answered {probe}:\n{self.log_tail()}")

    def log_tail(self):
        return (self.work / f"{self.name}.log").read_text(errors="replace")[-3000:]

    def kill_9(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()


def psql(base, sql):
    quiet = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    subprocess.run(["psql", base, "-qAtc", sql], check=True, stdout=subprocess.DEVNULL, env=quiet)


def forget_redis_keys(url, prefix):
    """Delete the run's keys (Redis is shared): only ours, by prefix."""
    if shutil.which("redis-cli") is None:
        print(f"soak: no redis-cli, so keys under {prefix} stay until they expire", file=sys.stderr)
        return
    keys = subprocess.run(["redis-cli", "-u", url, "--scan", "--pattern", prefix + "*"],
                          capture_output=True, text=True, check=False).stdout.split()
    for at in range(0, len(keys), 500):
        subprocess.run(["redis-cli", "-u", url, "del", *keys[at:at + 500]],
                       stdout=subprocess.DEVNULL, check=False)


def schema_url(base, schema):
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-c%20search_path%3D{schema}"


def replica_env(args, sandbox, schema, work: Path, port, redis_prefix):
    """config/demo.toml with these settings over it, from the environment."""
    settings = {
        "server.listen": f"127.0.0.1:{port}",
        "data_dir": str(work / f"data-{port}"),
        "store.url": schema_url(args.postgres, schema),
        "list.cursor_secret": "every-replica-signs-cursors-with-this-one",
        "log.filter": "warn",
        # Creates are retried only where the vendor deduplicates (Zenskar);
        # the breaker keeps its defaults: at p = 0.1 it should never open,
        # and a 503 provider_unavailable in the report would show it did.
        "resilience.deadline_ms": str(DEADLINE_MS),
        "resilience.max_retries": "2",
        "resilience.backoff_base_ms": "50",
        "resilience.backoff_max_ms": "500",
        "resilience.max_in_flight": "256",
        "idempotency.wait_ms": "3000",
        "clients.demo.requests_per_sec": "100000",
        "clients.demo.vendor_calls_per_sec": "100000",
        # Frontier lists per organization: both the clients use.
        "providers.frontier.accounts.default.orgs": f'["{ACME_ORG}", "{GLOBEX_ORG}"]',
    }
    for vendor in VENDORS:
        settings[f"providers.{vendor}.accounts.default.base_url"] = f"{sandbox}/{vendor}"
    if redis_prefix:
        settings["cache.redis_url"] = args.redis
        settings["cache.redis_prefix"] = redis_prefix
    return {"CHECKOUT_GATEWAY__" + key.upper().replace(".", "__"): value
            for key, value in settings.items()}


def redis_supported(args, env):
    """Whether this build takes `cache.redis_url` (issue 17 item 5)."""
    check = subprocess.run([args.bin, "config", "check", "--config", "config/demo.toml"],
                           cwd=ROOT, env=dict(os.environ, **env),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return check.returncode == 0


# --- clients -------------------------------------------------------------------

@dataclass
class Create:
    vendor: str
    key: str
    status: int = 0          # the last answer's status (0: no answer)
    code: str = ""           # its error code
    replayed: bool = False   # whether the last answer was a replay
    session: str = ""        # the id given in a 201
    seconds: float = 0.0     # first send to last answer
    attempts: int = 0
    in_progress: int = 0     # 409 idempotency_in_progress answers
    unreachable: int = 0     # connection failures (the killed replica)


@dataclass
class Run:
    urls: list
    budget: float
    think: float
    creates: list = field(default_factory=list)
    # Requests being answered by each replica right now.
    in_flight: list = field(default_factory=lambda: [0] * REPLICAS)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def done(self):
        with self.lock:
            return len(self.creates)

    def busy(self, replica):
        with self.lock:
            return self.in_flight[replica] > 0

    def send(self, replica, *request, **options):
        with self.lock:
            self.in_flight[replica] += 1
        try:
            return http(*request, **options)
        finally:
            with self.lock:
                self.in_flight[replica] -= 1


def final(status, headers, body):
    """Whether a client stops retrying: 201, a refusal of its request (4xx
    other than 409 in progress and 429), or a replayed failure the gateway
    says retrying cannot change (`"retryable": false`)."""
    if status == 201:
        return True
    error = (body or {}).get("error", {}) if isinstance(body, dict) else {}
    if status in (409, 429) or status >= 500:
        replayed = headers.get("idempotent-replayed") == "true"
        return replayed and error.get("retryable") is False
    return True


def create_one(run: Run, rng: random.Random, vendor, body, key, first):
    c = Create(vendor=vendor, key=key)
    started = time.monotonic()
    at, pause = first, 0.1
    while True:
        c.attempts += 1
        try:
            status, headers, answer = run.send(
                at, "POST", f"{run.urls[at]}/v1/checkout-sessions", body,
                dict(AUTH, **{"idempotency-key": key}), timeout=15)
        except OSError:
            c.unreachable += 1
            status, headers, answer = 0, {}, None
        error = (answer or {}).get("error", {}) if isinstance(answer, dict) else {}
        c.status, c.code = status, error.get("code", "")
        c.replayed = bool(headers) and headers.get("idempotent-replayed") == "true"
        if status == 409 and c.code == "idempotency_in_progress":
            c.in_progress += 1
        if status and final(status, headers, answer):
            if status == 201:
                c.session = answer["id"]
            break
        waited = time.monotonic() - started
        if waited >= run.budget:
            break
        retry_after = headers.get("retry-after") if headers else None
        wait = max(float(retry_after) if retry_after and retry_after.isdigit() else 0,
                   rng.uniform(pause / 2, pause))
        time.sleep(min(wait, max(0.0, run.budget - waited)))
        pause = min(pause * 2, 2.0)
        # A balancer may send the retry to any replica.
        at = (at + 1) % len(run.urls)
    c.seconds = time.monotonic() - started
    return c


def client(run: Run, index, count, run_id, seed):
    vendor = list(VENDORS)[index % len(VENDORS)]
    customer, plan, extra = VENDORS[vendor][(index // len(VENDORS)) % len(VENDORS[vendor])]
    rng = random.Random(seed * 1000 + index)
    for n in range(count):
        key = f"soak-{run_id}-{index}-{n}"
        body = dict({"provider": vendor, "account": "default", "customer": customer,
                     "plan": plan, "success_url": f"{RETURN_URL}?soak_key={key}"}, **extra)
        c = create_one(run, rng, vendor, body, key, (index + n) % len(run.urls))
        with run.lock:
            run.creates.append(c)
        time.sleep(rng.uniform(0, 2 * run.think))


# --- the audit -------------------------------------------------------------------

def key_of(session):
    query = urllib.parse.urlparse(session.get("success_url") or "").query
    return urllib.parse.parse_qs(query).get("soak_key", [None])[0]


def vendor_sessions(gateway, since):
    """Every session the soak's accounts hold, made since `since`, from the
    vendors' lists through a replica (faults cleared); a list item without
    the return URL (Zenskar's are summaries) is read whole."""
    query = {"accounts": ",".join(ACCOUNTS), "created_gte": since, "limit": "100"}
    sessions = []
    while True:
        status, _, page = http("GET", f"{gateway}/v1/checkout-sessions?"
                               + urllib.parse.urlencode(query), headers=AUTH)
        if status != 200:
            sys.exit(f"the audit's list failed: {status} {page}")
        failed = [s for s in page["sources"] if s["state"] != "ok"]
        if failed:
            sys.exit(f"the audit's list missed accounts: {failed}")
        sessions += page["data"]
        if not page.get("next_cursor"):
            break
        query["cursor"] = page["next_cursor"]
    for i, s in enumerate(sessions):
        if s.get("success_url") is None:
            status, _, whole = http("GET", f"{gateway}/v1/checkout-sessions/{s['id']}",
                                    headers=dict(AUTH, **{"cache-control": "no-cache"}))
            if status != 200:
                sys.exit(f"the audit's read of {s['id']} failed: {status} {whole}")
            sessions[i] = whole
    return sessions


def percentile(values, p):
    """Nearest rank."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def problems(creates, sessions):
    """A line per duplicate key and per orphan, with what its client saw."""
    by_key = {c.key: c for c in creates}
    given = {c.session for c in creates if c.session}
    held = {}
    for s in sessions:
        held.setdefault(key_of(s), []).append(s["id"])

    def story(c):
        if c is None:
            return "no client used this key"
        ending = f"{c.status or 'no answer'} {c.code}".strip() + (" (replayed)" if c.replayed else "")
        return (f"its client ended with {ending} after {c.attempts} attempts in {c.seconds:.1f} s "
                f"({c.in_progress}× 409 in progress, {c.unreachable}× connection failed)")

    lines = []
    for key, ids in sorted(held.items(), key=lambda kv: str(kv[0])):
        if key is not None and len(ids) > 1:
            lines.append(f"duplicate: {key} has {len(ids)} vendor sessions; {story(by_key.get(key))}")
        for orphan in (i for i in ids if i not in given):
            lines.append(f"orphan: {orphan} (key {key}); {story(by_key.get(key))}")
    return lines


def report(creates, sessions):
    given = {c.session: c for c in creates if c.session}
    by_key = {}
    for s in sessions:
        by_key.setdefault(key_of(s), []).append(s["id"])
    rows = {}
    for vendor in list(VENDORS) + ["all"]:
        mine = [c for c in creates if vendor in ("all", c.vendor)]
        held = [s for s in sessions if vendor in ("all", s["provider"])]
        ok = [c for c in mine if c.status == 201]
        failures = {}
        for c in mine:
            if c.status != 201:
                label = f"{c.status or 'no answer'} {c.code}".strip() + (" (replayed)" if c.replayed else "")
                failures[label] = failures.get(label, 0) + 1
        keys = {c.key for c in mine}
        millis = [c.seconds * 1000 for c in ok]
        rows[vendor] = {
            "creates": len(mine),
            "created": len(ok),
            "created_pct": round(100 * len(ok) / len(mine), 2) if mine else None,
            "failed": failures,
            "duplicates": sum(1 for k in keys if len(by_key.get(k, [])) > 1),
            "orphans": sum(1 for s in held if s["id"] not in given),
            "lost": sum(1 for c in ok if c.session not in {s["id"] for s in held}),
            "p50_ms": round(percentile(millis, 50)) if millis else None,
            "p99_ms": round(percentile(millis, 99)) if millis else None,
            "max_ms": round(max(millis)) if millis else None,
            "retried": sum(1 for c in mine if c.attempts > 1),
            "in_progress_409s": sum(c.in_progress for c in mine),
            "unreachable": sum(c.unreachable for c in mine),
        }
    return rows


def print_table(rows, out):
    head = ["", "creates", "201", "%", "dup keys", "orphans", "lost", "p50 ms", "p99 ms",
            "retried", "409s", "conn. errors", "other endings"]
    lines = [head]
    for vendor, r in rows.items():
        other = ", ".join(f"{n}× {label}" for label, n in sorted(r["failed"].items())) or "—"
        lines.append([vendor, r["creates"], r["created"], r["created_pct"], r["duplicates"],
                      r["orphans"], r["lost"], r["p50_ms"], r["p99_ms"], r["retried"],
                      r["in_progress_409s"], r["unreachable"], other])
    print("| " + " | ".join(str(h) for h in head) + " |", file=out)
    print("|" + "---|" * len(head), file=out)
    for line in lines[1:]:
        print("| " + " | ".join("—" if v is None else str(v) for v in line) + " |", file=out)


# --- the run ---------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true",
                        help="the CI run: 100 creates (about a minute)")
    parser.add_argument("--creates", type=int, help="creates in all (default 400; --short 100)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (1-16)")
    parser.add_argument("--p", type=float, default=0.1, help="fault probability per vendor call")
    parser.add_argument("--seed", type=int, default=1, help="seeds the faults and the clients")
    parser.add_argument("--think-ms", type=float, default=100,
                        help="a client's mean pause between two creates")
    parser.add_argument("--retry-secs", type=float, default=60,
                        help="how long a client retries one key (past a dead replica's lease)")
    parser.add_argument("--bin", default=str(ROOT / "target" / "debug" / "checkout-gateway"))
    parser.add_argument("--postgres", default=os.environ.get(
        "CHECKOUT_GATEWAY_TEST_POSTGRES") or "postgres://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default=os.environ.get(
        "CHECKOUT_GATEWAY_TEST_REDIS") or "redis://127.0.0.1:6379")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the logs' directory")
    args = parser.parse_args()
    creates = args.creates or (100 if args.short else 400)
    if not 1 <= args.clients <= 16:
        parser.error("--clients: 1 to 16 (four vendors, four customer-plan pairs each)")

    if shutil.which("psql") is None:
        sys.exit("soak: needs psql, to make the replicas' PostgreSQL schema "
                 "(Debian: apt-get install postgresql-client)")
    work = Path(tempfile.mkdtemp(prefix="cg-soak-"))
    run_id = uuid.uuid4().hex[:8]
    # The store's test schemas' prefix: one left behind is dropped by the
    # next test after an hour.
    schema = f"cgtest_{int(time.time())}_{uuid.uuid4().hex}"
    processes = []
    redis_prefix = None
    try:
        psql(args.postgres, f"CREATE SCHEMA {schema}")
        port = free_port()
        sandbox = Process("sandbox", [args.bin, "sandbox", "--listen", f"127.0.0.1:{port}"],
                          port, work)
        processes.append(sandbox)
        sandbox.start("/_sandbox/calls")

        ports = [free_port() for _ in range(REPLICAS)]
        redis_prefix = f"cgsoak:{run_id}:"
        probe_env = replica_env(args, sandbox.url, schema, work, ports[0], redis_prefix)
        if not redis_supported(args, probe_env):
            redis_prefix = None
        replicas = []
        for i, port in enumerate(ports):
            env = replica_env(args, sandbox.url, schema, work, port, redis_prefix)
            replica = Process(f"replica-{i}", [args.bin, "serve", "--config", "config/demo.toml"],
                              port, work, env)
            processes.append(replica)
            replica.start("/healthz")
            replicas.append(replica)

        for i, vendor in enumerate(VENDORS):
            status, _, body = http("POST", f"{sandbox.url}/_sandbox/faults", {
                "vendor": vendor, "times": 0,
                "random": {"p": args.p, "seed": args.seed * 10 + i, "faults": FAULTS}})
            assert status == 204, body

        print(f"soak: {creates} creates by {args.clients} clients over {REPLICAS} replicas "
              f"(PostgreSQL schema {schema}; Redis tier: "
              f"{'on, prefix ' + redis_prefix if redis_prefix else 'not in this build'}), "
              f"every vendor call faulted with p = {args.p}, seed {args.seed}", flush=True)
        since = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
        run = Run(urls=[r.url for r in replicas], budget=args.retry_secs,
                  think=args.think_ms / 1000)
        shares = [creates // args.clients + (1 if i < creates % args.clients else 0)
                  for i in range(args.clients)]
        threads = [threading.Thread(target=client, args=(run, i, shares[i], run_id, args.seed))
                   for i in range(args.clients)]
        started = time.monotonic()
        for t in threads:
            t.start()
        # One replica dies a third of the way through, while it is answering
        # a create if one comes within 5 s, and comes back at two thirds.
        victim = replicas[1]
        events = []
        while run.done() < creates // 3 and any(t.is_alive() for t in threads):
            time.sleep(0.02)
        give_up = time.monotonic() + 5
        while not run.busy(1) and time.monotonic() < give_up:
            time.sleep(0.001)
        victim.kill_9()
        events.append(f"replica-1 killed (SIGKILL) at {time.monotonic() - started:.1f} s, "
                      f"{run.done()} creates done")
        while run.done() < 2 * creates // 3 and any(t.is_alive() for t in threads):
            time.sleep(0.02)
        victim.start("/healthz")
        events.append(f"replica-1 serving again at {time.monotonic() - started:.1f} s, "
                      f"{run.done()} creates done")
        for t in threads:
            t.join()
        if run.done() != creates:
            sys.exit(f"soak: a client stopped early ({run.done()} of {creates} creates made)")
        took = time.monotonic() - started
        events.append(f"clients done at {took:.1f} s")

        http("DELETE", f"{sandbox.url}/_sandbox/faults")
        # A stalled create goes on at the vendor after the gateway gave up.
        time.sleep(FAULTS[4]["latency_ms"] / 1000 + 0.5)
        sessions = vendor_sessions(replicas[0].url, since.isoformat().replace("+00:00", "Z"))
        _, _, calls = http("GET", f"{sandbox.url}/_sandbox/calls")
        rows = report(run.creates, sessions)
        details = problems(run.creates, sessions)
    finally:
        for p in processes:
            p.kill_9()
        if redis_prefix:
            forget_redis_keys(args.redis, redis_prefix)
        try:
            psql(args.postgres, f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        except (subprocess.CalledProcessError, OSError):
            print(f"soak: schema {schema} was not dropped", file=sys.stderr)
        if args.keep:
            print(f"soak: logs in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    for line in events:
        print(f"soak: {line}")
    print()
    print_table(rows, sys.stdout)
    if details:
        print()
        for line in details:
            print(f"soak: {line}")
    total = rows["all"]
    missed = []
    if (total["created_pct"] or 0) < 99.9:
        missed.append(f"{total['created_pct']} % of creates ended in 201 (target >= 99.9 %)")
    for what in ("duplicates", "orphans", "lost"):
        if total[what]:
            missed.append(f"{total[what]} {what} (target 0)")
    if args.json:
        args.json.write_text(json.dumps({
            "creates": creates, "clients": args.clients, "p": args.p, "seed": args.seed,
            "redis": bool(redis_prefix), "seconds": round(took, 1), "events": events,
            "vendor_calls": calls, "rows": rows, "problems": details, "missed": missed},
            indent=2) + "\n")
    print()
    if missed:
        print("soak: targets missed: " + "; ".join(missed))
        return 1
    print("soak: every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())

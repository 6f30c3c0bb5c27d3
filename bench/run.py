#!/usr/bin/env python3
"""The benchmark of bench/run.sh: the gateway side by side with nginx and a
bare hyper server, all on loopback, each configuration run several times
interleaved. Prints a table and writes it into docs/performance.md.

Servers are pinned to one core and the load generator (wrk) to the other,
with the sandbox (the stand-in vendor) beside wrk. CPU per request is the
server's utime+stime from /proc over the requests wrk completed.
"""

import argparse
import datetime
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release"
DOC = ROOT / "docs" / "performance.md"
# The demo client's key (config/demo.toml holds its SHA-256; it may read,
# create, and read /metrics).
KEY = "demo-client-key-0000000000000001"
CLK_TCK = os.sysconf("SC_CLK_TCK")

PORTS = {
    "sandbox": 19100,
    "gateway": 19080,
    "gateway-big": 19081,
    "floor": 19300,
    "floor-large": 19301,
    "nginx-cache": 19400,
    "nginx-pass": 19401,
}

def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


# --- processes ---------------------------------------------------------------

@dataclass
class Server:
    name: str
    process: subprocess.Popen
    port: int

    def pids(self):
        """The process and its children (nginx's workers)."""
        pids = [self.process.pid]
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
            pids += [int(p) for p in children.split()]
        except OSError:
            pass
        return pids

    def cpu_seconds(self):
        total = 0
        for pid in self.pids():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / CLK_TCK

    def rss_kib(self):
        total = 0
        for pid in self.pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total


class Stack:
    def __init__(self, work: Path, server_core: int, load_core: int):
        self.work = work
        self.server_core = server_core
        self.load_core = load_core
        self.servers = {}

    def start(self, name, argv, core, env=None):
        if port_open(PORTS[name]):
            sys.exit(f"port {PORTS[name]} ({name}) is taken: stop whatever listens there")
        log = open(self.work / f"{name}.log", "wb")
        full_env = dict(os.environ, **(env or {}))
        process = subprocess.Popen(
            ["taskset", "-c", str(core), *argv], stdout=log, stderr=log,
            env=full_env, start_new_session=True)
        server = Server(name, process, PORTS[name])
        self.servers[name] = server
        wait_for_port(server, self.work / f"{name}.log")
        return server

    def stop_all(self):
        for server in self.servers.values():
            try:
                os.killpg(server.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for server in self.servers.values():
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.process.pid, signal.SIGKILL)


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def wait_for_port(server: Server, log: Path):
    deadline = time.time() + 30
    while time.time() < deadline:
        if server.process.poll() is not None:
            sys.exit(f"{server.name} exited at start:\n{log.read_text()[-3000:]}")
        if port_open(server.port):
            return
        time.sleep(0.05)
    sys.exit(f"{server.name} did not listen on {server.port}")


def http(method, url, headers=None, body=None):
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


AUTH = {"authorization": f"Bearer {KEY}"}


# --- configuration files -----------------------------------------------------

def gateway_env(port: int, sandbox: str, max_entries: int) -> dict:
    """config/demo.toml (every vendor account, the sandbox's credentials, the
    demo client key), with these settings over it from the environment."""
    settings = {
        "server.listen": f"127.0.0.1:{port}",
        # Sessions stay fresh through the run: the point is the hit path.
        "cache.open_ttl_secs": "3600",
        "cache.max_entries": str(max_entries),
        # Enough for 256 connections of misses on one account.
        "resilience.max_in_flight": "1024",
        # No line per request, as nginx runs with access_log off.
        "log.filter": "warn",
        # The bench measures the gateway, not the demo client's budget.
        "clients.demo.requests_per_sec": "100000000",
        "clients.demo.vendor_calls_per_sec": "100000000",
    }
    for provider, account in demo_accounts():
        settings[f"providers.{provider}.accounts.{account}.base_url"] = f"{sandbox}/{provider}"
    return {"CHECKOUT_GATEWAY__" + key.upper().replace(".", "__"): value
            for key, value in settings.items()}


def demo_accounts():
    """Every (provider, account) of config/demo.toml, the config the gateways run."""
    with open(ROOT / "config" / "demo.toml", "rb") as f:
        demo = tomllib.load(f)
    return [(provider, account)
            for provider, p in demo.get("providers", {}).items()
            for account in p.get("accounts", {})]


def miss_accounts(port: int):
    """The vendor accounts measured on the miss path, and a create body for
    each: the create examples of the running gateway's OpenAPI document (the
    demo's own creates, one per demo account), so a new vendor's account is
    measured without an edit here. In document order, minus `provider` and
    `account`."""
    status, _, body = http("GET", f"http://127.0.0.1:{port}/openapi.json")
    assert status == 200, body
    examples = (json.loads(body)["paths"]["/v1/checkout-sessions"]["post"]["requestBody"]
                ["content"]["application/json"]["examples"])
    accounts = []
    for example in examples.values():
        create = dict(example["value"])
        accounts.append((create.pop("provider"), create.pop("account"), create))
    missing = set(demo_accounts()) - {(p, a) for p, a, _ in accounts}
    assert not missing, f"no create example in /openapi.json for {sorted(missing)}"
    return accounts


def create_body(accounts, provider, account):
    """The create body of one account of `miss_accounts`."""
    for p, a, body in accounts:
        if (p, a) == (provider, account):
            return {"provider": p, "account": a, **body}
    raise KeyError(f"{provider}:{account} has no create example")


# The account of the hot id, the create scenario, the cache fill and the
# coalescing burst; nginx proxies its vendor path with its sandbox key.
HOT = ("meteroid", "default")
# The account of the large-body session: the one whose creates carry metadata.
LARGE = ("flowglad", "default")


def nginx_config(work: Path, sandbox_port: int, core: int) -> str:
    return f"""
worker_processes 1;
worker_cpu_affinity {1 << core:b};
daemon off;
master_process on;
user root;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    proxy_cache_path {work}/nginx-cache levels=1:2 keys_zone=sessions:64m max_size=1g inactive=1h;
    client_body_temp_path {work}/nginx-body;
    proxy_temp_path {work}/nginx-proxy;
    upstream sandbox {{
        server 127.0.0.1:{sandbox_port};
        keepalive 256;
    }}
    # Caching proxy: every 200 kept for an hour, whatever the vendor says.
    server {{
        listen 127.0.0.1:{PORTS['nginx-cache']};
        location / {{
            proxy_pass http://sandbox;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache sessions;
            proxy_cache_key $request_uri;
            proxy_cache_valid 200 1h;
            proxy_ignore_headers Cache-Control Expires Set-Cookie;
            proxy_cache_lock on;
        }}
    }}
    # Plain proxy, with a keep-alive pool to the vendor as the gateway has.
    server {{
        listen 127.0.0.1:{PORTS['nginx-pass']};
        location / {{
            proxy_pass http://sandbox;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


# --- load ----------------------------------------------------------------------

@dataclass
class Scenario:
    name: str
    server: str
    path: str = "/"
    paths_file: Path = None
    headers: dict = field(default_factory=dict)
    method: str = "GET"
    body_file: Path = None
    connections: int = 64
    runs: list = field(default_factory=list)

    def median(self, key):
        return statistics.median(run[key] for run in self.runs)


def run_wrk(stack: Stack, scenario: Scenario, duration: float):
    server = stack.servers[scenario.server]
    result_file = stack.work / "wrk-result.json"
    env = dict(os.environ, BENCH_RESULT=str(result_file), BENCH_METHOD=scenario.method,
               BENCH_HEADERS="\n".join(f"{k}: {v}" for k, v in scenario.headers.items()))
    if scenario.paths_file:
        env["BENCH_PATHS"] = str(scenario.paths_file)
    if scenario.body_file:
        env["BENCH_BODY"] = str(scenario.body_file)
    url = f"http://127.0.0.1:{server.port}{scenario.path}"
    before = server.cpu_seconds()
    subprocess.run(
        ["taskset", "-c", str(stack.load_core), "wrk", "-t1", f"-c{scenario.connections}",
         f"-d{duration:g}s", "--timeout", "5s", "-s", str(ROOT / "bench" / "wrk.lua"), url],
        env=env, check=True, stdout=subprocess.DEVNULL)
    cpu = server.cpu_seconds() - before
    r = json.loads(result_file.read_text())
    errors = sum(v for k, v in r.items() if k.startswith("errors_"))
    run = {
        "rps": r["requests"] / (r["duration_us"] / 1e6),
        "p50_ms": r["p50_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "cpu_us": cpu * 1e6 / max(r["requests"], 1),
        "errors": errors,
    }
    scenario.runs.append(run)
    flag = f"  ERRORS: {errors}" if errors else ""
    print(f"  {scenario.name:<34} c{scenario.connections:<4} {run['rps']:>9.0f} req/s  "
          f"p50 {run['p50_ms']:.3f} ms  p99 {run['p99_ms']:.3f} ms  "
          f"{run['cpu_us']:.1f} µs CPU/req{flag}", flush=True)


def interleave(stack, scenarios, reps, duration):
    """Every scenario once per round, each round starting one further on."""
    for rep in range(reps):
        print(f"round {rep + 1}/{reps}", flush=True)
        shift = rep % len(scenarios)
        for scenario in scenarios[shift:] + scenarios[:shift]:
            run_wrk(stack, scenario, duration)


def load_tool(*args):
    done = subprocess.run([str(BIN / "bench-load"), "--key", KEY, *args],
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench-load {args[2]} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def create_sessions(gateway_port, body, count, out: Path):
    summary = load_tool("--gateway", f"http://127.0.0.1:{gateway_port}", "create",
                        "--body", json.dumps(body), "--count", str(count),
                        "--concurrency", "64", "--out", str(out))
    print(f"  created {summary['created']} sessions in {summary['seconds']:.1f} s "
          f"({summary['per_second']:.0f}/s)", flush=True)
    return out.read_text().split()


def write_paths(path: Path, paths):
    path.write_text("".join(p + "\n" for p in paths))
    return path


def start_demo(stack: "Stack", work: Path) -> int:
    """A release sandbox on the load core and a release gateway on
    `config/demo.toml` on the server core (as in this file's benchmark), the
    gateway's data in `work`; the gateway's port."""
    gw = str(BIN / "checkout-gateway")
    sandbox_url = f"http://127.0.0.1:{PORTS['sandbox']}"
    stack.start("sandbox", [gw, "sandbox", "--listen", f"127.0.0.1:{PORTS['sandbox']}"],
                stack.load_core, {"RUST_LOG": "warn"})
    env = gateway_env(PORTS["gateway"], sandbox_url, 100_000)
    env["CHECKOUT_GATEWAY__DATA_DIR"] = str(work / "data")
    stack.start("gateway", [gw, "serve", "--config", str(ROOT / "config" / "demo.toml")],
                stack.server_core, env)
    return PORTS["gateway"]


def write_section(out: Path, begin: str, end: str, heading: str, generated: str):
    """Put `generated` (which starts with `begin` and ends with `end`) in
    place of the same markers in `out`, or append it under `heading`."""
    text = out.read_text() if out.exists() else "# Performance\n"
    if begin in text and end in text:
        text = text[:text.index(begin)] + generated + text[text.index(end) + len(end):]
    else:
        text += f"\n## {heading}\n\n" + generated + "\n"
    out.write_text(text)


def metric(port, name):
    status, _, body = http("GET", f"http://127.0.0.1:{port}/metrics", AUTH)
    for line in body.decode().splitlines():
        if line.split(" ")[0].endswith(name):
            return float(line.split()[-1])
    sys.exit(f"metric {name} not found (status {status})")


def sandbox_gets(sandbox_port, vendor):
    _, _, body = http("GET", f"http://127.0.0.1:{sandbox_port}/_sandbox/calls")
    return json.loads(body).get(vendor, {}).get("get", 0)


# --- the run ---------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    parser.add_argument("--reps", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--ids", type=int, default=10_000, help="distinct ids per vendor")
    parser.add_argument("--mid", type=int, default=100_000, help="entries of the middle cache size")
    parser.add_argument("--big", type=int, default=1_000_000, help="entries of the largest cache size")
    parser.add_argument("--no-criterion", action="store_true", help="skip the conversion benches")
    parser.add_argument("--out", type=Path, default=DOC, help="Markdown report to update")
    args = parser.parse_args()
    command = "bench/run.sh " + " ".join(sys.argv[1:])

    started = time.time()
    cores = sorted(os.sched_getaffinity(0))
    server_core, load_core = cores[0], cores[-1]
    if server_core == load_core:
        print("warning: one core only; servers and load share it", file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="checkout-bench-"))
    stack = Stack(work, server_core, load_core)
    try:
        report = measure(stack, args)
    finally:
        stack.stop_all()
    if not args.no_criterion:
        report["conversion"] = conversion_benches(work)
    report["elapsed_s"] = time.time() - started
    write_report(args.out, command, report)
    shutil.rmtree(work, ignore_errors=True)
    print(f"done in {report['elapsed_s']:.0f} s; wrote {args.out}")


def measure(stack: Stack, args):
    quiet = {"RUST_LOG": "warn"}
    gw = str(BIN / "checkout-gateway")
    sandbox_url = f"http://127.0.0.1:{PORTS['sandbox']}"
    stack.start("sandbox", [gw, "sandbox", "--listen", f"127.0.0.1:{PORTS['sandbox']}"],
                stack.load_core, quiet)
    for name, entries in (("gateway", 4 * args.big), ("gateway-big", 2 * args.big)):
        stack.start(name, [gw, "serve", "--config", str(ROOT / "config" / "demo.toml")],
                    stack.server_core, gateway_env(PORTS[name], sandbox_url, entries))
    port = PORTS["gateway"]
    accounts = miss_accounts(port)
    hot_create = create_body(accounts, *HOT)

    print(f"seeding {args.ids} sessions per vendor account through the gateway", flush=True)
    ids = {}
    for provider, account, body in accounts:
        ids[(provider, account)] = create_sessions(
            port, {"provider": provider, "account": account, **body}, args.ids,
            stack.work / f"ids-{provider}-{account}.txt")
    meteroid = ids[HOT]
    hot = meteroid[0]
    # Large: a Flowglad session with the most metadata a create may carry.
    large_body = {**create_body(accounts, *LARGE),
                  "metadata": {f"key_{i:02}": "v" * 100 for i in range(50)}}
    status, _, created = http("POST", f"http://127.0.0.1:{port}/v1/checkout-sessions",
                              {**AUTH, "content-type": "application/json"},
                              json.dumps(large_body).encode())
    assert status == 201, created
    large = json.loads(created)["id"]

    bodies = {}
    for label, sid in (("small", hot), ("large", large)):
        status, headers, body = http("GET", f"http://127.0.0.1:{port}/v1/checkout-sessions/{sid}", AUTH)
        cache = {k.lower(): v for k, v in headers.items()}.get("x-cache")
        assert status == 200 and cache == "hit", (status, cache, body)
        bodies[label] = body
        (stack.work / f"body-{label}.json").write_bytes(body)
    for name, label in (("floor", "small"), ("floor-large", "large")):
        stack.start(name, [str(BIN / "bench-floor"), "--listen", f"127.0.0.1:{PORTS[name]}",
                           "--body", str(stack.work / f"body-{label}.json")], stack.server_core)

    (stack.work / "nginx-cache").mkdir()
    (stack.work / "nginx.conf").write_text(nginx_config(stack.work, PORTS["sandbox"], stack.server_core))
    stack.start("nginx-cache", ["nginx", "-p", str(stack.work), "-c", str(stack.work / "nginx.conf")],
                stack.server_core)
    stack.servers["nginx-pass"] = stack.servers["nginx-cache"]
    vendor = {"authorization": "Bearer pv_sand_sfLPedfA3PcVxe91EP48suEoMZD8/325iPXhYKOOez0bJwnd0H"}
    vendor_path = lambda sid: "/meteroid/api/v1/checkout-sessions/" + sid.split(":", 2)[2]
    for _ in range(2):
        status, _, nginx_body = http("GET", f"http://127.0.0.1:{PORTS['nginx-cache']}{vendor_path(hot)}", vendor)
        assert status == 200, nginx_body

    def paths_file(name, sids, prefix="/v1/checkout-sessions/", shuffle=True):
        paths = [prefix + sid for sid in sids]
        if shuffle:
            random.Random(7).shuffle(paths)
        return write_paths(stack.work / f"paths-{name}.txt", paths)

    no_cache = {**AUTH, "cache-control": "no-cache"}
    main = [
        Scenario("floor (bare hyper)", "floor"),
        Scenario("nginx proxy_cache hit", "nginx-cache", vendor_path(hot), headers=vendor),
        Scenario("nginx proxy_pass, 10k ids", "nginx-pass",
                 paths_file=write_paths(stack.work / "paths-nginx.txt",
                                        [vendor_path(s) for s in meteroid]), headers=vendor),
        Scenario("gateway hit, one id", "gateway", f"/v1/checkout-sessions/{hot}", headers=AUTH),
        Scenario("gateway hit, 10k ids", "gateway", paths_file=paths_file("hit10k", meteroid), headers=AUTH),
        Scenario("gateway create (meteroid)", "gateway", "/v1/checkout-sessions", method="POST",
                 headers={**AUTH, "content-type": "application/json"},
                 body_file=write_paths(stack.work / "create.json", [json.dumps(hot_create)])),
    ]
    for provider, account, _ in accounts:
        main.append(Scenario(f"gateway miss, 10k ids, {provider}:{account}", "gateway",
                             paths_file=paths_file(f"miss-{provider}-{account}", ids[(provider, account)]),
                             headers=no_cache))
    for conns in (16, 256):
        main.append(Scenario("floor (bare hyper)", "floor", connections=conns))
        main.append(Scenario("gateway hit, one id", "gateway", f"/v1/checkout-sessions/{hot}",
                             headers=AUTH, connections=conns))
    main += [
        Scenario("floor, large body", "floor-large"),
        Scenario("gateway hit, one id, large body", "gateway", f"/v1/checkout-sessions/{large}", headers=AUTH),
        Scenario("gateway hit, 1k ids", "gateway", paths_file=paths_file("hit1k", meteroid[:1000]), headers=AUTH),
    ]
    print(f"{len(main)} configurations x {args.reps} rounds of {args.duration} s", flush=True)
    interleave(stack, main, args.reps, args.duration)

    big = stack.servers["gateway-big"]
    big_port = PORTS["gateway-big"]
    memory = []
    baseline = big.rss_kib()
    big_ids = []
    scaling = []
    for target in (args.mid, args.big):
        print(f"filling gateway-big to {target} entries", flush=True)
        big_ids += create_sessions(big_port, hot_create, target - len(big_ids),
                                   stack.work / f"ids-big-{target}.txt")
        entries = metric(big_port, "cache_entries")
        rss = big.rss_kib()
        memory.append({"entries": int(entries), "rss_mib": rss / 1024,
                       "per_session_bytes": (rss - baseline) * 1024 / max(entries, 1)})
        print(f"  {memory[-1]}", flush=True)
        label = f"{target // 1000}k" if target < 1_000_000 else f"{target / 1e6:g}M"
        scenario = Scenario(f"gateway hit, {label} ids", "gateway-big",
                            paths_file=paths_file(f"big-{target}", big_ids), headers=AUTH)
        floor = Scenario("floor (bare hyper)", "floor")
        interleave(stack, [scenario, floor], args.reps, args.duration)
        scaling.append((scenario, floor))

    print("coalescing: 1000 callers at once for one id the full gateway-big has never seen",
          flush=True)
    status, _, created = http("POST", f"http://127.0.0.1:{port}/v1/checkout-sessions",
                              {**AUTH, "content-type": "application/json"},
                              json.dumps(hot_create).encode())
    assert status == 201, created
    fresh = json.loads(created)["id"]
    # The vendor takes 200 ms to answer, so all callers arrive while it thinks.
    fault = {"vendor": HOT[0], "op": "get", "times": 1, "fault": {"latency_ms": 200}}
    http("POST", f"http://127.0.0.1:{PORTS['sandbox']}/_sandbox/faults",
         {"content-type": "application/json"}, json.dumps(fault).encode())
    gets_before = sandbox_gets(PORTS["sandbox"], HOT[0])
    burst = load_tool("--gateway", f"http://127.0.0.1:{big_port}", "burst", "--id", fresh,
                      "--callers", "1000")
    burst["upstream_calls"] = sandbox_gets(PORTS["sandbox"], HOT[0]) - gets_before
    print(f"  {burst}", flush=True)

    return {"main": main, "scaling": scaling, "memory": memory, "burst": burst,
            "bodies": {k: len(v) for k, v in bodies.items()}, "nginx_body": len(nginx_body),
            "baseline_rss_mib": baseline / 1024}


def conversion_benches(work: Path):
    """The criterion benches of vendor body → canonical and of serialisation."""
    print("criterion: conversion benches", flush=True)
    since = time.time()
    alloc_report = work / "allocations.md"
    subprocess.run(
        ["cargo", "bench", "--locked", "-p", "checkout-bench", "--bench", "conversion", "--",
         "--warm-up-time", "1", "--measurement-time", "2"],
        cwd=ROOT, check=True, env=dict(os.environ, ALLOC_REPORT=str(alloc_report)),
        stdout=subprocess.DEVNULL)
    results = []
    for meta in sorted((ROOT / "target" / "criterion").glob("**/new/benchmark.json")):
        if meta.stat().st_mtime < since:
            continue
        bench = json.loads(meta.read_text())
        estimates = json.loads((meta.parent / "estimates.json").read_text())
        results.append((bench["full_id"], estimates["mean"]["point_estimate"] / 1000))
    return {"timings": results, "allocations": alloc_report.read_text() if alloc_report.exists() else ""}


# --- the report ------------------------------------------------------------------

BEGIN = "<!-- bench:begin: written by bench/run.sh, edits between these lines are lost -->"
END = "<!-- bench:end -->"


def find(main, name, conns=64):
    return next(s for s in main if s.name == name and s.connections == conns)


def verdict(ok):
    return "met" if ok else "**not met**"


def write_report(out: Path, command: str, report):
    main = report["main"]
    floor, hit, hit10k = (find(main, "floor (bare hyper)"), find(main, "gateway hit, one id"),
                          find(main, "gateway hit, 10k ids"))
    nginx_cache, nginx_pass = find(main, "nginx proxy_cache hit"), find(main, "nginx proxy_pass, 10k ids")
    lines = []
    add = lines.append
    cpu = Path("/proc/cpuinfo").read_text()
    model = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("model name")), "?")
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                         text=True).stdout.strip()
    add(BEGIN)
    add("")
    add(f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {model}, "
        f"{os.cpu_count()} cores, Linux {os.uname().release}, commit `{rev}`, "
        f"in {report['elapsed_s'] / 60:.1f} min. Each configuration: median of "
        f"{len(floor.runs)} interleaved wrk runs.")
    add("")
    add(f"Command: `{command.strip()}`")
    add("")
    add("### Targets")
    add("")
    add("| target | measured | ratio | verdict |")
    add("|---|---|---|---|")

    def ratio_row(label, value, reference, unit, limit, higher_is_better):
        r = value / reference
        ok = r >= limit if higher_is_better else r <= limit
        add(f"| {label} | {value:.1f} vs {reference:.1f} {unit} | {r:.2f} | {verdict(ok)} |")

    for s in (hit, hit10k):
        ratio_row(f"{s.name}: CPU/req ≤ 1.25 × floor", s.median("cpu_us"), floor.median("cpu_us"),
                  "µs", 1.25, False)
        ratio_row(f"{s.name}: req/s ≥ 0.8 × floor", s.median("rps") / 1000, floor.median("rps") / 1000,
                  "k req/s", 0.8, True)
        ratio_row(f"{s.name}: req/s ≥ 2 × nginx proxy_cache hit", s.median("rps") / 1000,
                  nginx_cache.median("rps") / 1000, "k req/s", 2.0, True)
    p99 = hit.median("p99_ms")
    add(f"| gateway hit, one id: p99 ≤ 2 ms at 64 connections | {p99:.3f} ms | — | {verdict(p99 <= 2)} |")
    for s in main:
        if s.name.startswith("gateway miss"):
            ratio_row(f"{s.name}: CPU/req ≤ nginx proxy_pass", s.median("cpu_us"),
                      nginx_pass.median("cpu_us"), "µs", 1.0, False)
    memory = report["memory"]
    for m in memory:
        ok = m["per_session_bytes"] <= 2048
        add(f"| RSS per cached session at {m['entries']} entries ≤ 2 KiB | "
            f"{m['per_session_bytes']:.0f} B | {m['per_session_bytes'] / 2048:.2f} | {verdict(ok)} |")
    burst = report["burst"]
    add(f"| coalescing: {burst['callers']} concurrent GETs of one uncached id → 1 upstream call | "
        f"{burst['upstream_calls']} call(s), {burst['ok']} × 200 | — | {verdict(burst['upstream_calls'] == 1)} |")
    conversion = report.get("conversion")
    if conversion:
        for full_id, micros in conversion["timings"]:
            if "/convert/" in full_id:
                add(f"| conversion ≤ 5 µs: {full_id} | {micros:.2f} µs | {micros / 5:.2f} | {verdict(micros <= 5)} |")
    add("")
    add("### Every configuration")
    add("")
    add(f"Body sizes: gateway small {report['bodies']['small']} B, large {report['bodies']['large']} B "
        f"(the floor serves the very same bytes); nginx serves the vendor's {report['nginx_body']} B.")
    add("")
    add("| configuration | connections | req/s | p50 ms | p99 ms | server CPU µs/req | errors |")
    add("|---|---|---|---|---|---|---|")
    rows = list(main) + [s for pair in report["scaling"] for s in pair[:1]]
    for s in rows:
        add(f"| {s.name} | {s.connections} | {s.median('rps'):.0f} | {s.median('p50_ms'):.3f} | "
            f"{s.median('p99_ms'):.3f} | {s.median('cpu_us'):.1f} | {sum(r['errors'] for r in s.runs)} |")
    add("")
    add("### Scaling")
    add("")
    add("| curve | point | req/s | p99 ms | CPU µs/req | CPU vs floor |")
    add("|---|---|---|---|---|---|")
    for conns in (16, 64, 256):
        g, f = find(main, "gateway hit, one id", conns), find(main, "floor (bare hyper)", conns)
        add(f"| connections (hit, one id) | {conns} | {g.median('rps'):.0f} | {g.median('p99_ms'):.3f} | "
            f"{g.median('cpu_us'):.1f} | {g.median('cpu_us') / f.median('cpu_us'):.2f} |")
    entries = [("1k", find(main, "gateway hit, 1k ids"), floor), ("10k", hit10k, floor)]
    entries += [(s.name.split(", ")[1].split(" ")[0], s, f) for s, f in report["scaling"]]
    for label, g, f in entries:
        add(f"| cached entries (hit, all ids in turn) | {label} | {g.median('rps'):.0f} | "
            f"{g.median('p99_ms'):.3f} | {g.median('cpu_us'):.1f} | {g.median('cpu_us') / f.median('cpu_us'):.2f} |")
    for label, g, f in (("small", hit, floor),
                        ("large", find(main, "gateway hit, one id, large body"), find(main, "floor, large body"))):
        add(f"| body size (hit, one id) | {label} | {g.median('rps'):.0f} | {g.median('p99_ms'):.3f} | "
            f"{g.median('cpu_us'):.1f} | {g.median('cpu_us') / f.median('cpu_us'):.2f} |")
    add("")
    add("### Memory")
    add("")
    add(f"RSS of a gateway holding one session: {report['baseline_rss_mib']:.1f} MiB.")
    add("")
    add("| cached sessions | RSS MiB | RSS per session |")
    add("|---|---|---|")
    for m in memory:
        add(f"| {m['entries']} | {m['rss_mib']:.0f} | {m['per_session_bytes']:.0f} B |")
    if conversion:
        add("")
        add("### Conversion (criterion, mean)")
        add("")
        add("| bench | µs |")
        add("|---|---|")
        for full_id, micros in conversion["timings"]:
            add(f"| {full_id} | {micros:.2f} |")
        if conversion["allocations"]:
            add("")
            add(conversion["allocations"].strip())
    add("")
    add(END)
    generated = "\n".join(lines)
    print(generated)
    text = out.read_text() if out.exists() else "# Performance\n\n" + BEGIN + "\n" + END + "\n"
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + generated + text[text.index(END) + len(END):]
    else:
        text += "\n" + generated + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()

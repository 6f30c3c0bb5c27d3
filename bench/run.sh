#!/usr/bin/env bash
# The performance benchmark (issue 8): the gateway beside nginx and a bare
# hyper server on loopback; writes docs/performance.md. Options: see
# `bench/run.sh --help` (e.g. --reps 3 --duration 4).
# `bench/run.sh list [options]`: the list across vendors alone (issue 15),
# its own section of docs/performance.md; `bench/run.sh list --help`.
# `bench/run.sh feed [options]`: the change feed's costs (issue 18): CPU per
# poll and per delivered webhook, memory per tracked session.
# `bench/run.sh stripe [options]`: a Stripe facade cache hit against a
# canonical one (issue 20), CPU per request in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || missing+=(nginx-light)
command -v taskset >/dev/null || missing+=(util-linux)
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

cargo build --release --locked -p checkout-gateway -p checkout-bench --bins
cargo bench --locked -p checkout-bench --no-run
if [ "${1:-}" = list ]; then
  shift
  exec python3 bench/list.py "$@"
fi
if [ "${1:-}" = feed ]; then
  shift
  exec python3 bench/feed.py "$@"
fi
if [ "${1:-}" = stripe ]; then
  shift
  exec python3 bench/stripe.py "$@"
fi
exec python3 bench/run.py "$@"

#!/usr/bin/env bash
# The soak (PRODUCT §10): three replicas on one PostgreSQL in front of a
# sandbox whose vendor calls fail at random, clients retrying with their
# Idempotency-Keys, one replica killed and restarted mid-run. Exits 1 when a
# target is missed. `bench/soak/run.sh --short` is the CI run (about a
# minute); `bench/soak/run.sh --help` lists the options. Needs PostgreSQL
# (CHECKOUT_GATEWAY_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/test)
# and psql; Redis (CHECKOUT_GATEWAY_TEST_REDIS) when the build has the Redis tier.
set -euo pipefail
cd "$(dirname "$0")/../.."

# `--bin PATH` runs that binary (CI passes the one its test step built);
# otherwise a debug build: the soak measures outcomes under faults, not speed.
for arg in "$@"; do
  [ "$arg" = --bin ] && exec python3 bench/soak/soak.py "$@"
done
cargo build --locked -q -p checkout-gateway --bin checkout-gateway
exec python3 bench/soak/soak.py --bin "${CARGO_TARGET_DIR:-target}/debug/checkout-gateway" "$@"

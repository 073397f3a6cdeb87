#!/usr/bin/env bash
# Sustained castVote throughput over HTTP: release api + PostgreSQL + Redis on this machine.
#   bench/cast_vote.sh                      16 clients, 20 s
#   BENCH_CLIENTS=32 BENCH_SECONDS=60 bench/cast_vote.sh
# Needs PostgreSQL and Redis as for the tests (`./dev up` or `./dev test` starts them);
# TEST_DATABASE_URL / TEST_REDIS_URL point elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p birgemiz-api -p birgemiz-tests --bin birgemiz-api --bin bench_cast_vote
exec "${CARGO_TARGET_DIR:-target}/release/bench_cast_vote"

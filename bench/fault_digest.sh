#!/usr/bin/env bash
# The fault test's digest at scale: 20,000 recipients (FAULT_DIGEST_RECIPIENTS overrides) through
# a 10 s PostgreSQL outage, asserting everyone gets it exactly once. Needs what the tests need
# (the shared PostgreSQL and Redis; the test starts its own PostgreSQL cluster to stop).
#
#   bench/fault_digest.sh                     release build, 20,000 recipients
#   FAULT_DIGEST_RECIPIENTS=50000 bench/fault_digest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export FAULT_DIGEST_RECIPIENTS=${FAULT_DIGEST_RECIPIENTS:-20000}
export TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
export TEST_REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379}
cargo build --release --workspace --bins
cargo test --release -p birgemiz-tests --test e2e -- --exact --nocapture \
  faults::a_digest_through_a_postgres_outage_reaches_everyone_exactly_once

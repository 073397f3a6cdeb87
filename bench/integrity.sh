#!/usr/bin/env bash
# The vote-integrity report of an award with 200,000 votes (bench/seed.sql: 10 categories ×
# 20,000 voters from 5,000 networks and 40 browsers over ten days; all × BENCH_SCALE), asked for
# through the API by an admin, against the goal of 2 s; and the floor: PostgreSQL alone reading
# what the report reads (the arrivals statement of schema/src/integrity.rs).
#
#   bench/integrity.sh                                           release build, full volume
#   BENCH_SCALE=0.05 BENCH_PROFILE=debug BENCH_NO_BUILD=1 bench/integrity.sh    a quick check
#   BENCH_REUSE_DB=1 …        keep a database an earlier run (of this or bench/run.sh) loaded
# Exits non-zero when a request failed or the median is over BENCH_GOAL_SECS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${BENCH_SCALE:-1}
RUNS=${BENCH_RUNS:-5}
GOAL=${BENCH_GOAL_SECS:-2}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
DB=${BENCH_DB:-birgemiz_bench}
URL="$PG/$DB"
PROFILE=${BENCH_PROFILE:-release}
TARGET=${CARGO_TARGET_DIR:-target}/$PROFILE
WORK=$(mktemp -d)
API_PID=
cleanup() {
  if [ -n "$API_PID" ]; then kill "$API_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  echo "==> building the $PROFILE api" >&2
  cargo build --profile "$([ "$PROFILE" = debug ] && echo dev || echo "$PROFILE")" -q -p birgemiz-api --bin birgemiz-api
fi
if [ "${BENCH_REUSE_DB:-0}" != 1 ]; then
  echo "==> loading $DB at scale $SCALE" >&2
  psql "$PG/postgres" -q -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  DATABASE_URL=$URL "$TARGET/birgemiz-api" migrate 2>/dev/null
  psql "$URL" -q -v scale="$SCALE" -f bench/seed.sql
fi
psql "$URL" -q -c "INSERT INTO users (email, display_name, email_verified_at, role)
  VALUES ('integrity-admin@bench.kz', 'Admin', now(), 'ADMIN') ON CONFLICT DO NOTHING" \
  -c "INSERT INTO sessions (user_id, token_hash, expires_at)
  SELECT id, sha256(convert_to('bench-admin-token', 'UTF8')), now() + interval '1 day'
  FROM users WHERE email = 'integrity-admin@bench.kz' ON CONFLICT DO NOTHING"
AWARD=$(psql "$URL" -qAt -c "SELECT rtrim(translate(encode(convert_to('Award:' || id, 'UTF8'), 'base64'), '+/', '-_'), '=')
  FROM awards WHERE slug = 'bench-award'")
VOTES=$(psql "$URL" -qAt -c "SELECT count(*) FROM votes v JOIN award_categories c ON c.id = v.category_id
  JOIN awards a ON a.id = c.award_id WHERE a.slug = 'bench-award'")

PORT=${BENCH_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
DATABASE_URL=$URL BIND=127.0.0.1:$PORT REDIS_NAMESPACE=$DB-integrity RUST_LOG=warn \
  APP_SECRET=bench-secret-bench-secret-bench-secret REQUEST_TIMEOUT_SECS=120 DATABASE_STATEMENT_TIMEOUT_MS=0 \
  "$TARGET/birgemiz-api" serve --no-migrate 2>"$WORK/api.log" &
API_PID=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

QUERY='query($id: ID!) { node(id: $id) { ... on Award { integrityReport { votesTotal votesQuarantined
  signals { id kind votes strength description } } } } }'
BODY=$(python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1], "variables": {"id": sys.argv[2]}}))' "$QUERY" "$AWARD")

echo "award: $VOTES votes (scale $SCALE), $PROFILE build"
printf '%-6s %9s %8s %8s\n' run seconds votes signals
times=()
for i in $(seq "$RUNS"); do
  t=$(curl -sS -o "$WORK/out.json" -w '%{time_total}' -H 'content-type: application/json' \
    -H 'authorization: Bearer bench-admin-token' --data "$BODY" "http://127.0.0.1:$PORT/graphql")
  read -r total signals < <(python3 - "$WORK/out.json" <<'PY'
import json, sys
body = json.load(open(sys.argv[1]))
if body.get("errors") or not body["data"]["node"]["integrityReport"]:
    sys.exit(f"the report failed: {json.dumps(body)[:500]}")
r = body["data"]["node"]["integrityReport"]
print(r["votesTotal"], len(r["signals"]))
PY
)
  printf '%-6s %9.3f %8s %8s\n' "$i" "$t" "$total" "$signals"
  times+=("$t")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')

# The floor: the rows the report reads, by PostgreSQL alone.
floor=$(psql "$URL" -qAt -c "EXPLAIN (ANALYZE, FORMAT JSON)
  SELECT e.category_id, e.to_nomination_id, e.user_id, e.created_at, e.net_hash, e.ua_hash, u.created_at
  FROM vote_events e JOIN users u ON u.id = e.user_id
  WHERE e.category_id = ANY(ARRAY(SELECT c.id FROM award_categories c JOIN awards a ON a.id = c.award_id
                                   WHERE a.slug = 'bench-award')) AND e.to_nomination_id IS NOT NULL" \
  | python3 -c 'import json,sys; print(round(json.load(sys.stdin)[0]["Execution Time"] / 1000, 3))')
echo "median: ${median} s (goal: under ${GOAL} s); PostgreSQL reading the arrivals alone: ${floor} s"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$median" "$GOAL" \
  || { echo "over the goal" >&2; exit 1; }

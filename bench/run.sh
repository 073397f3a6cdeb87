#!/usr/bin/env bash
# The hot paths against their ceiling, on this machine (client, server and database together).
#
#   bench/run.sh                 full volume (bench/seed.sql), 1/16/64 clients, 10 s each
#   BENCH_SCALE=0.02 BENCH_SECONDS=2 BENCH_CLIENTS="1 4" bench/run.sh     a quick check
#   BENCH_PROFILE=debug BENCH_NO_BUILD=1 …   the debug binaries as built (`./dev test` runs the
#                                            quick check so, to see that the benchmark still runs)
#   BENCH_REUSE_DB=1 …           keep the database an earlier run loaded (castVote's moves change it)
#   BENCH_SCENARIOS="front" …    only these of front, project, vote
# It exits non-zero when a request failed or the api logged an error.
#
# It builds the release binaries, loads a fresh database `birgemiz_bench` (200 organizations,
# 5,000 projects, an award in voting with 10 categories, 2,000 nominations, 200,000 votes,
# 200,000 users, 1,000,000 applications, 10,000 posts, 100,000 subscribers; all × BENCH_SCALE), starts the API, and measures with `load` (tests/src/bin/load.rs):
#   front   the front page: 20 organizations with 5 projects each, the award's categories with
#           their top 10 nominations by votes, the stats
#   project a project page by slug with its organization
#   vote    castVote by 20,000 signed-in voters (each request a write: a cast or a move)
# and measures the same front-page data fetched with plain SQL by pgbench as the ceiling.
# Needs PostgreSQL and Redis as for the tests (`./dev up` or `./dev test` starts them).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SCALE=${BENCH_SCALE:-1}
SECONDS_EACH=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-"1 16 64"}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
# BENCH_DB and BENCH_PORT let runs that share a machine keep apart.
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
  echo "==> building the $PROFILE binaries" >&2
  cargo build --profile "$([ "$PROFILE" = debug ] && echo dev || echo "$PROFILE")" -q \
    -p birgemiz-api -p birgemiz-tests --bin birgemiz-api --bin load
fi

if [ "${BENCH_REUSE_DB:-0}" != 1 ]; then
  echo "==> loading $DB at scale $SCALE" >&2
  psql "$PG/postgres" -q -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  DATABASE_URL=$URL "$TARGET/birgemiz-api" migrate 2>/dev/null
  psql "$URL" -q -v scale="$SCALE" -f bench/seed.sql
  # Sessions for the voters: bearer token `bench-token-<user id>`, stored hashed like real ones.
  psql "$URL" -q -c "INSERT INTO sessions (user_id, token_hash, expires_at)
    SELECT id, sha256(convert_to('bench-token-' || id, 'UTF8')), now() + interval '1 day'
    FROM users WHERE email LIKE 'voter%@bench.kz'"
fi
psql "$URL" -qAt -c "SELECT 'bench-token-' || id FROM users WHERE email LIKE 'voter%@bench.kz' ORDER BY id" >"$WORK/tokens"
global_id() { echo "rtrim(translate(encode(convert_to('$1:' || $2, 'UTF8'), 'base64'), '+/', '-_'), '=')"; }
psql "$URL" -qAt -c "SELECT json_build_object('n', $(global_id Nomination n.id)) FROM nominations n
  JOIN award_categories c ON c.id = n.category_id JOIN awards a ON a.id = c.award_id AND a.slug = 'bench-award'" >"$WORK/nominations"
psql "$URL" -qAt -c "SELECT json_build_object('slug', slug) FROM projects WHERE slug LIKE 'bench-project-%'" >"$WORK/projects"

PORT=${BENCH_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
echo "==> starting the API on 127.0.0.1:$PORT" >&2
DATABASE_URL=$URL BIND=127.0.0.1:$PORT REDIS_NAMESPACE=$DB RUST_LOG=warn \
  APP_SECRET=bench-secret-bench-secret-bench-secret \
  RATE_LIMIT_VOTE_USER=1000000/60 RATE_LIMIT_VOTE_IP=100000000/60 \
  "$TARGET/birgemiz-api" serve --no-migrate 2>"$WORK/api.log" &
API_PID=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

FRONT='query FrontPage { stats { organizationCount projectCount volunteerCount applicationCount }
  organizations(first: 20, orderBy: NAME) { nodes { id slug name kind city verified
    projects(first: 5) { nodes { id slug title direction startsAt volunteerCount } } } }
  award(slug: "bench-award") { title phase categories { id title voteCount
    nominations(first: 10, orderBy: MOST_VOTES) { nodes { id nomineeName voteCount } } } } }'
PROJECT='query Project($slug: String!) { project(slug: $slug) { id title description direction startsAt
  volunteersNeeded volunteerCount organization { id slug name city verified } } }'
VOTE='mutation Vote($n: ID!) { castVote(nominationId: $n) { id } }'
body() { python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1]}))' "$1"; }

# The ceiling: the same rows as the front page, straight from PostgreSQL (the stats by the
# api's own statement, schema/src/stats.rs).
cat >"$WORK/front.sql" <<'SQL'
SELECT coalesce(sum(organizations), 0)::int, coalesce(sum(published_projects), 0)::int,
       coalesce(sum(volunteers), 0)::int, coalesce(sum(applications), 0)::int
FROM platform_counts;
SELECT o.id, o.slug, o.name, o.kind, o.city, o.verified, p.id, p.slug, p.title, p.direction, p.starts_at, p.volunteer_count
FROM (SELECT * FROM organizations ORDER BY lower(coalesce(name->>'kk', name->>'ru', name->>'en')), id LIMIT 20) o
LEFT JOIN LATERAL (SELECT * FROM projects WHERE organization_id = o.id AND status = 'PUBLISHED'
                   ORDER BY created_at DESC, id DESC LIMIT 5) p ON true;
SELECT c.id, c.title, c.vote_count, n.id, n.nominee_name, n.vote_count
FROM awards a JOIN award_categories c ON c.award_id = a.id
LEFT JOIN LATERAL (SELECT * FROM nominations WHERE category_id = c.id AND status = 'APPROVED'
                   ORDER BY vote_count DESC, id LIMIT 10) n ON true
WHERE a.slug = 'bench-award';
SQL

peak_kib() { awk '/VmHWM/ {print $2}' "/proc/$API_PID/status"; }
failed=0
printf '%-8s %7s %10s %9s %9s %7s %12s\n' scenario clients "req/s" "p50 ms" "p99 ms" errors "vs SQL"
for c in $CLIENTS; do
  ceiling=$(pgbench -n -f "$WORK/front.sql" -c "$c" -j "$(( c < 2 ? 1 : 2 ))" -T "$SECONDS_EACH" -M prepared "$URL" 2>/dev/null \
    | awk '/^tps/ {print int($3)}')
  printf '%-8s %7s %10s %9s %9s %7s %12s\n' sql "$c" "$ceiling" - - - "1.00"
  for scenario in ${BENCH_SCENARIOS:-front project vote}; do
    case $scenario in
      front) args=(--body "$(body "$FRONT")") ;;
      project) args=(--body "$(body "$PROJECT")" --variables "$WORK/projects") ;;
      vote) args=(--body "$(body "$VOTE")" --variables "$WORK/nominations" --tokens "$WORK/tokens") ;;
    esac
    out=$("$TARGET/load" --url "http://127.0.0.1:$PORT/graphql" --concurrency "$c" --duration "$SECONDS_EACH" "${args[@]}")
    python3 - "$scenario" "$c" "$ceiling" "$out" <<'PY'
import json, sys
scenario, c, ceiling, out = sys.argv[1], sys.argv[2], float(sys.argv[3] or 0), json.loads(sys.argv[4])
ratio = f"{out['rps'] / ceiling:.2f}" if scenario == "front" and ceiling else "-"
print(f"{scenario:<8} {c:>7} {out['rps']:>10.0f} {out['p50_ms']:>9.2f} {out['p99_ms']:>9.2f} {out['errors']:>7} {ratio:>12}")
PY
    failed=$(( failed + $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["errors"])' "$out") ))
  done
done
echo "API peak memory: $(( $(peak_kib) / 1024 )) MiB (VmHWM)"
errors=$(grep -c '"level":"ERROR"\|ERROR' "$WORK/api.log" || true)
echo "API log errors: $errors"
if [ "$failed" -gt 0 ] || [ "$errors" -gt 0 ]; then
  echo "bench: $failed failed requests, $errors api log errors" >&2
  exit 1
fi

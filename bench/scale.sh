#!/usr/bin/env bash
# The hot paths at scale 1 and at scale 10 in one run (issue 20, docs/scale.md): one table of
# path, requests/s at each scale, their ratio and the scale-10 p99; exits non-zero when a ratio
# is under 0.75 (BENCH_MIN_RATIO) or a read path answered with an error.
#
#   bench/scale.sh                                   16 clients, 10 s per path and scale
#   BENCH_SECONDS=3 BENCH_PATHS="front catalogue" bench/scale.sh        a subset, shorter
#   BENCH_REUSE=1 bench/scale.sh     keep the databases an earlier run loaded (a scale-10 load
#                                    takes about 12 minutes on 2 cores)
#   BENCH_SCALES="0.02 0.2"          other volumes (tests of the script itself)
#
# Each scale has its own database (birgemiz_scale_<scale>, bench/seed.sql) and its own api
# process; the paths run against one and then the other, back to back. Writes change the data
# they run on (a vote moves, an application is added): their databases are loaded afresh unless
# BENCH_REUSE=1. Needs PostgreSQL and Redis as for the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALES=${BENCH_SCALES:-"1 10"}
SECONDS_EACH=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-16}
MIN_RATIO=${BENCH_MIN_RATIO:-0.75}
PATHS=${BENCH_PATHS:-"front organization project catalogue search_kk search_ru results nominations dashboard manager castVote applyToProject subscribe"}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
PROFILE=${BENCH_PROFILE:-release}
TARGET=${CARGO_TARGET_DIR:-target}/$PROFILE
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  echo "==> building the $PROFILE binaries" >&2
  cargo build --profile "$([ "$PROFILE" = debug ] && echo dev || echo "$PROFILE")" -q \
    -p birgemiz-api -p birgemiz-tests --bin birgemiz-api --bin load
fi

dbname() { echo "birgemiz_scale_${1//./_}"; }
global_id() { echo "rtrim(translate(encode(convert_to('$1:' || $2, 'UTF8'), 'base64'), '+/', '-_'), '=')"; }

# Loads (unless reused) the database of a scale and writes the inputs of its paths to $WORK/<scale>/.
prepare() {
  local scale=$1 db url dir
  db=$(dbname "$scale"); url="$PG/$db"; dir="$WORK/$scale"; mkdir -p "$dir"
  if [ "${BENCH_REUSE:-0}" = 1 ] && psql "$url" -qAtc "SELECT 1 FROM platform_counts LIMIT 1" >/dev/null 2>&1; then
    echo "==> reusing $db" >&2
    DATABASE_URL=$url "$TARGET/birgemiz-api" migrate 2>/dev/null
  else
    echo "==> loading $db at scale $scale" >&2
    local started=$SECONDS
    psql "$PG/postgres" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
    DATABASE_URL=$url "$TARGET/birgemiz-api" migrate 2>/dev/null
    psql "$url" -q -v scale="$scale" -f bench/seed.sql
    echo "    loaded in $(( SECONDS - started )) s" >&2
  fi
  if ! psql "$url" -qAtc "SELECT 1 FROM awards WHERE slug = 'bench-results'" | grep -q 1; then
    # Sessions (bearer `bench-token-<user id>`, stored hashed like real ones) for the voters, the
    # first 20,000 volunteers and a manager of the first 20 organizations; an award with results.
    psql "$url" -q <<'SQL'
INSERT INTO users (email, display_name, email_verified_at) VALUES ('manager@bench.kz', 'Manager', now());
INSERT INTO organization_managers (organization_id, user_id, role)
SELECT o.id, u.id, 'OWNER' FROM organizations o, users u
WHERE u.email = 'manager@bench.kz' AND o.slug IN (SELECT 'bench-org-' || g FROM generate_series(1, 20) g);
INSERT INTO sessions (user_id, token_hash, expires_at)
SELECT id, sha256(convert_to('bench-token-' || id, 'UTF8')), now() + interval '1 day' FROM users
WHERE email LIKE 'voter%@bench.kz' OR email = 'manager@bench.kz'
   OR id IN (SELECT id FROM users WHERE email LIKE 'volunteer%@bench.kz' ORDER BY id LIMIT 20000);
INSERT INTO awards (slug, title, description, year, countries, nomination_opens_at, nomination_closes_at,
                    voting_opens_at, voting_closes_at, results_published_at)
VALUES ('bench-results', '{"en":"Last year"}', '{}', 2025, '{KZ,RU}', now() - interval '400 days',
        now() - interval '380 days', now() - interval '379 days', now() - interval '350 days', now() - interval '349 days');
INSERT INTO award_categories (award_id, position, title)
SELECT a.id, g, jsonb_build_object('en', 'Category ' || g) FROM awards a, generate_series(1, 10) g WHERE a.slug = 'bench-results';
-- As many nominations as an award's categories hold at scale 1 (the list is not paginated).
INSERT INTO nominations (category_id, nominee_name, nominee_key, nominee_kind, statement, country, status, vote_count)
SELECT c.id, 'Winner ' || g, 'winner ' || g, 'PERSON', 'Deserved it.', 'KZ', 'APPROVED', abs(hashint4(g)) % 1000
FROM award_categories c JOIN awards a ON a.id = c.award_id AND a.slug = 'bench-results', generate_series(1, 200) g;
ANALYZE;
SQL
  fi
  psql "$url" -qAt -c "SELECT 'bench-token-' || s.user_id FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE u.email LIKE 'voter%@bench.kz' ORDER BY 1" >"$dir/voters"
  psql "$url" -qAt -c "SELECT 'bench-token-' || s.user_id FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE u.email LIKE 'volunteer%@bench.kz' ORDER BY 1" >"$dir/volunteers"
  psql "$url" -qAt -c "SELECT 'bench-token-' || id FROM users WHERE email = 'manager@bench.kz'" >"$dir/manager"
  psql "$url" -qAt -c "SELECT json_build_object('n', $(global_id Nomination n.id)) FROM nominations n
    JOIN award_categories c ON c.id = n.category_id JOIN awards a ON a.id = c.award_id AND a.slug = 'bench-award'" >"$dir/nominations"
  psql "$url" -qAt -c "SELECT json_build_object('c', $(global_id AwardCategory c.id)) FROM award_categories c
    JOIN awards a ON a.id = c.award_id AND a.slug = 'bench-award'" >"$dir/categories"
  psql "$url" -qAt -c "SELECT json_build_object('slug', slug) FROM projects WHERE slug LIKE 'bench-project-%'" >"$dir/projects"
  psql "$url" -qAt -c "SELECT json_build_object('p', $(global_id Project id)) FROM projects WHERE slug LIKE 'bench-project-%'" >"$dir/project_ids"
  psql "$url" -qAt -c "SELECT json_build_object('slug', slug) FROM organizations WHERE slug LIKE 'bench-org-%'" >"$dir/organizations"
  python3 -c "
import json, random
for i in random.sample(range(10**9), 200000):
    print(json.dumps({'e': f'scale{i}@bench.kz'}))" >"$dir/emails"
}

start_api() {
  local scale=$1 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  DATABASE_URL="$PG/$(dbname "$scale")" BIND=127.0.0.1:$port REDIS_NAMESPACE="birgemiz_scale_$$_${scale//./_}" RUST_LOG=warn \
    APP_SECRET=bench-secret-bench-secret-bench-secret \
    RATE_LIMIT_VOTE_USER=1000000/60 RATE_LIMIT_VOTE_IP=100000000/60 \
    RATE_LIMIT_SUBSCRIBE_EMAIL=1000000/60 RATE_LIMIT_SUBSCRIBE_IP=100000000/60 \
    "$TARGET/birgemiz-api" serve --no-migrate >"$WORK/api-$scale.out" 2>"$WORK/api-$scale.log" &
  PIDS+=($!)
  for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  PORT[$scale]=$port
}

body() { python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1]}))' "$1"; }
FRONT='query FrontPage { stats { organizationCount projectCount volunteerCount applicationCount }
  organizations(first: 20, orderBy: NAME) { nodes { id slug name kind city verified
    projects(first: 5) { nodes { id slug title direction startsAt volunteerCount } } } }
  award(slug: "bench-award") { title phase categories { id title voteCount
    nominations(first: 10, orderBy: MOST_VOTES) { nodes { id nomineeName voteCount } } } } }'
ORGANIZATION='query Org($slug: String!) { organization(slug: $slug) { id name description kind city verified
  projects(first: 20) { totalCount nodes { id slug title direction startsAt volunteerCount } } } }'
PROJECT='query Project($slug: String!) { project(slug: $slug) { id title description direction startsAt
  volunteersNeeded volunteerCount organization { id slug name city verified } } }'
CATALOGUE='{ projects(first: 20, filter: { direction: SOCIAL, region: "Region 3" }) { totalCount
  nodes { id slug title direction startsAt volunteerCount organization { slug name } } } }'
search() { echo "{ search(query: \"$1\", first: 20) { totalCount nodes { __typename
  ... on Project { slug title } ... on Organization { slug name } ... on Post { slug title } } } }"; }
RESULTS='{ award(slug: "bench-results") { title phase categories { title voteCount
  results { rank voteCount share nomination { nomineeName } } } } }'
NOMINATIONS='query Noms($c: ID!) { node(id: $c) { ... on AwardCategory { title
  nominations(first: 20, orderBy: MOST_VOTES) { totalCount nodes { id nomineeName voteCount } } } } }'
DASHBOARD='{ viewer { displayName
  applications(first: 10) { totalCount nodes { status createdAt project { title organization { name } } } }
  votes { createdAt nomination { nomineeName } category { title } }
  nominations(first: 10) { totalCount nodes { nomineeName status } } } }'
MANAGER='{ viewer { organizations { role organization { name
  projects(first: 5) { nodes { title applications(first: 10, status: SUBMITTED) { totalCount
    nodes { status createdAt volunteer { displayName } } } } } } } } }'
VOTE='mutation Vote($n: ID!) { castVote(nominationId: $n) { id } }'
APPLY='mutation Apply($p: ID!) { applyToProject(projectId: $p) { id status } }'
SUBSCRIBE='mutation Sub($e: String!) { subscribe(input: { email: $e, locale: RU }) { status } }'

# The load arguments of a path at a scale, into ARGS.
args_of() {
  local path=$1 dir=$2
  case $path in
    front) ARGS=(--body "$(body "$FRONT")") ;;
    organization) ARGS=(--body "$(body "$ORGANIZATION")" --variables "$dir/organizations") ;;
    project) ARGS=(--body "$(body "$PROJECT")" --variables "$dir/projects") ;;
    catalogue) ARGS=(--body "$(body "$CATALOGUE")") ;;
    search_kk) ARGS=(--body "$(body "$(search жоба)")") ;;
    search_ru) ARGS=(--body "$(body "$(search новость)")") ;;
    results) ARGS=(--body "$(body "$RESULTS")") ;;
    nominations) ARGS=(--body "$(body "$NOMINATIONS")" --variables "$dir/categories") ;;
    dashboard) ARGS=(--body "$(body "$DASHBOARD")" --tokens "$dir/voters") ;;
    manager) ARGS=(--body "$(body "$MANAGER")" --tokens "$dir/manager") ;;
    castVote) ARGS=(--body "$(body "$VOTE")" --variables "$dir/nominations" --tokens "$dir/voters") ;;
    applyToProject) ARGS=(--body "$(body "$APPLY")" --variables "$dir/project_ids" --tokens "$dir/volunteers") ;;
    subscribe) ARGS=(--body "$(body "$SUBSCRIBE")" --variables "$dir/emails") ;;
    *) echo "unknown path $path" >&2; return 1 ;;
  esac
}

declare -A PORT
for s in $SCALES; do
  prepare "$s"
  start_api "$s"
done
read -r S1 S2 <<<"$SCALES"

failed=0
printf '%-15s %12s %12s %7s %12s %8s\n' path "scale $S1" "scale $S2" ratio "p99 ms" errors
for path in $PATHS; do
  declare -A OUT=()
  for s in $S1 $S2; do
    args_of "$path" "$WORK/$s"
    OUT[$s]=$("$TARGET/load" --url "http://127.0.0.1:${PORT[$s]}/graphql" --concurrency "$CLIENTS" --duration "$SECONDS_EACH" "${ARGS[@]}")
  done
  line=$(python3 - "$path" "$MIN_RATIO" "${OUT[$S1]}" "${OUT[$S2]}" <<'PY'
import json, sys
path, min_ratio, a, b = sys.argv[1], float(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
ratio = b["rps"] / a["rps"] if a["rps"] else 0.0
errors = a["errors"] + b["errors"]
writes = {"castVote", "applyToProject", "subscribe"}
bad = ratio < min_ratio or (errors > 0 and path not in writes)
print(f"{path:<15} {a['rps']:>12.0f} {b['rps']:>12.0f} {ratio:>7.2f} {b['p99_ms']:>12.2f} {errors:>8}|{int(bad)}")
PY
)
  echo "${line%|*}"
  failed=$(( failed + ${line##*|} ))
done
for s in $SCALES; do
  errors=$(grep -c 'ERROR' "$WORK/api-$s.log" || true)
  [ "$errors" -gt 0 ] && echo "api at scale $s logged $errors errors (first: $(grep -m1 ERROR "$WORK/api-$s.log"))"
done
if [ "$failed" -gt 0 ]; then
  echo "scale: $failed paths under a ratio of $MIN_RATIO or with failed reads" >&2
  exit 1
fi

#!/usr/bin/env bash
# One weekly digest to 100,000 subscribers, end to end, against the SMTP sink's own ceiling.
#
#   bench/digest.sh                                   100,000 subscribers, release build
#   BENCH_SUBSCRIBERS=5000 bench/digest.sh            a quick run
#   BENCH_PROFILE=debug BENCH_NO_BUILD=1 bench/digest.sh    the debug binaries as built
#   BENCH_CONCURRENCY=32 bench/digest.sh              WORKER_CONCURRENCY (default: the worker's)
#
# It installs Postfix's smtp-sink/smtp-source when missing (Debian package `postfix`, configured
# as "No configuration", so no mail daemon starts), builds the worker, loads a fresh database
# `birgemiz_digest_bench` (the subscribers, 30 projects and 10 posts published since their last
# digest), starts `smtp-sink` on a free port and the worker pointed at it, runs
# `birgemiz-worker digest-now` and measures from there until every outbox row of the run is SENT
# (counted in PostgreSQL and by the sink). Then `smtp-source` sends as many messages of the same
# size (measured first on a 30-subscriber digest; BENCH_MESSAGE_BYTES skips that) over as many
# connections to the same sink: the ceiling. Prints both, the ratio and the
# worker's peak memory (VmHWM). Needs PostgreSQL and Redis as for the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_SUBSCRIBERS:-100000}
PROFILE=${BENCH_PROFILE:-release}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
REDIS=${BENCH_REDIS:-redis://127.0.0.1:6379}
DB=birgemiz_digest_bench
URL="$PG/$DB"
NS=birgemiz_digest_bench_$$
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/$PROFILE/birgemiz-worker
WORK=$(mktemp -d)
WORKER_PID= SINK_PID=
cleanup() {
  if [ -n "$WORKER_PID" ]; then kill "$WORKER_PID" 2>/dev/null || true; fi
  if [ -n "$SINK_PID" ]; then kill "$SINK_PID" 2>/dev/null || true; fi
  redis-cli -u "$REDIS" --scan --pattern "$NS*" 2>/dev/null | xargs -r redis-cli -u "$REDIS" del >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export PATH=$PATH:/usr/sbin

if ! command -v smtp-sink >/dev/null || ! command -v smtp-source >/dev/null; then
  echo "==> installing smtp-sink and smtp-source (Debian package postfix)" >&2
  SUDO=
  [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postfix >/dev/null
fi

if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  echo "==> building the $PROFILE worker" >&2
  if [ "$PROFILE" = release ]; then
    cargo build --release -q -p birgemiz-worker
  else
    cargo build -q -p birgemiz-worker
  fi
fi

# A fresh database $1 with $2 subscribers, each with the same 30 projects and 10 posts to read.
load_db() {
  local db=$1 n=$2 url="$PG/$1"
  psql "$PG/postgres" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  # The worker does not migrate; the migrations are plain SQL, applied in order.
  for m in migrations/*/up.sql; do psql "$url" -q -1 -v ON_ERROR_STOP=1 -f "$m" >/dev/null; done
  psql "$url" -q -v n="$n" <<'SQL'
\set ON_ERROR_STOP on
INSERT INTO organizations (slug, name, kind, country)
VALUES ('bench-org', '{"kk":"Бірге","ru":"Вместе","en":"Together"}', 'NGO', 'KZ');
INSERT INTO projects (slug, organization_id, title, direction, status, country, published_at)
SELECT 'bench-project-' || g, o.id,
       jsonb_build_object('kk', 'Жоба ' || g, 'ru', 'Проект ' || g, 'en', 'Project ' || g),
       'ENVIRONMENT', 'PUBLISHED', 'KZ', now() - g * interval '1 minute'
FROM organizations o, generate_series(1, 30) g;
INSERT INTO posts (slug, title, body, published_at)
SELECT 'bench-post-' || g, jsonb_build_object('kk', 'Жаңалық ' || g, 'ru', 'Новость ' || g, 'en', 'News ' || g),
       '{"en":"-"}', now() - g * interval '1 minute'
FROM generate_series(1, 10) g;
INSERT INTO email_subscriptions (email, locale, topics, status, confirmed_at, last_digest_at)
SELECT 'subscriber' || g || '@bench.kz', (ARRAY['kk','ru','en'])[1 + g % 3], '{WEEKLY_DIGEST}', 'ACTIVE',
       now() - interval '30 days', now() - interval '1 day'
FROM generate_series(1, :n) g;
ANALYZE;
SQL
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export REDIS_URL=$REDIS PUBLIC_URL=https://birgemiz.bench APP_SECRET=bench-secret-bench-secret-bench-secret \
  MAIL_FROM="Birgemiz <noreply@birgemiz.bench>" DIGEST_SCHEDULE="0 0 3 1 1 * 2099" RUST_LOG=warn
# Its own metrics port: a worker of `./dev up` may hold the default one.
export WORKER_METRICS_BIND=127.0.0.1:$(free_port)
if [ -n "${BENCH_CONCURRENCY:-}" ]; then export WORKER_CONCURRENCY=$BENCH_CONCURRENCY; fi
CONCURRENCY=${WORKER_CONCURRENCY:-16}
SINK_USER=()
[ "$(id -u)" = 0 ] && SINK_USER=(-u nobody)
chmod 755 "$WORK"

# The digest's size on the wire, for the ceiling: the same digest to 30 subscribers (ten per
# language) through a sink that keeps what it receives (-D), less the sink's own X- lines, with
# CRLF line endings counted back (the dump stores LF).
if [ -z "${BENCH_MESSAGE_BYTES:-}" ]; then
  echo "==> measuring the digest's size (30 subscribers into a dumping smtp-sink)" >&2
  load_db "${DB}_size" 30
  size_port=$(free_port)
  mkdir -m 777 "$WORK/dump"
  smtp-sink "${SINK_USER[@]}" -D "$WORK/dump/all" "127.0.0.1:$size_port" 64 >/dev/null 2>&1 &
  SINK_PID=$!
  DATABASE_URL=$PG/${DB}_size REDIS_NAMESPACE=${NS}_size SMTP_URL=smtp://127.0.0.1:$size_port \
    "$BIN" run 2>"$WORK/size.log" &
  WORKER_PID=$!
  sleep 1
  size_run=$(DATABASE_URL=$PG/${DB}_size REDIS_NAMESPACE=${NS}_size "$BIN" digest-now 2>>"$WORK/size.log")
  for _ in $(seq 300); do
    [ "$(psql "$PG/${DB}_size" -qtAc "SELECT count(*) FROM outbox WHERE digest_run_id = $size_run AND status = 'PENDING'")" = 0 ] && break
    sleep 0.1
  done
  kill "$WORKER_PID" 2>/dev/null || { cat "$WORK/size.log" >&2; echo "bench/digest.sh: the worker exited" >&2; exit 1; }
  wait "$WORKER_PID" 2>/dev/null || true; WORKER_PID=
  kill "$SINK_PID"; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=
  BENCH_MESSAGE_BYTES=$(python3 - "$WORK/dump/all" <<'PY'
import re, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
body = [l for l in lines if not re.match(rb"X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args):", l)]
print(round(sum(len(l) + 2 for l in body) / 30))
PY
)
  psql "$PG/postgres" -q -c "DROP DATABASE ${DB}_size WITH (FORCE)"
fi

echo "==> loading $DB with $N subscribers" >&2
load_db "$DB" "$N"
SMTP_PORT=$(free_port)
export DATABASE_URL=$URL REDIS_NAMESPACE=$NS SMTP_URL=smtp://127.0.0.1:$SMTP_PORT
# -c: running counters (sessions, QUITs, messages) on stdout, separated by carriage returns.
smtp-sink -c "${SINK_USER[@]}" -m 1024 "127.0.0.1:$SMTP_PORT" 1024 >"$WORK/sink.out" 2>&1 &
SINK_PID=$!
sink_messages() { tr '\r' '\n' <"$WORK/sink.out" | awk -F'mesg=' 'NF > 1 {n = $2 + 0} END {print n + 0}'; }
sql() { psql "$URL" -qtAc "$1"; }

echo "==> starting the $PROFILE worker (WORKER_CONCURRENCY=$CONCURRENCY) and smtp-sink on 127.0.0.1:$SMTP_PORT" >&2
"$BIN" run 2>"$WORK/worker.log" &
WORKER_PID=$!
sleep 1
kill -0 "$WORKER_PID" || { cat "$WORK/worker.log" >&2; exit 1; }

echo "==> digest-now, then waiting for every row to be SENT" >&2
start=$(date +%s.%N)
run=$("$BIN" digest-now 2>>"$WORK/worker.log")
total=$(sql "SELECT recipient_count FROM digest_runs WHERE id = $run")
queued_at=$(date +%s.%N)
while :; do
  pending=$(sql "SELECT count(*) FROM outbox WHERE digest_run_id = $run AND status = 'PENDING'")
  [ "$pending" = 0 ] && break
  kill -0 "$WORKER_PID" || { echo "the worker died" >&2; tail -20 "$WORK/worker.log" >&2; exit 1; }
  sleep 0.2
done
end=$(date +%s.%N)
sent=$(sql "SELECT count(*) FROM outbox WHERE digest_run_id = $run AND status = 'SENT'")
sleep 0.5
received=$(sink_messages)
peak_kib=$(awk '/VmHWM/ {print $2}' "/proc/$WORKER_PID/status")
kill "$WORKER_PID"
wait "$WORKER_PID" 2>/dev/null || true
WORKER_PID=
rate=$(python3 -c "print(round($sent / ($end - $start)))")

# The ceiling: smtp-source, as many messages of the digest's size (measured above) over as many
# kept-open connections (-d: a session sends its next message without reconnecting, as the
# worker's pool).
bytes=$BENCH_MESSAGE_BYTES
before=$(sink_messages)
c_start=$(date +%s.%N)
smtp-source -d -s "$CONCURRENCY" -m "$sent" -l "$bytes" -f noreply@birgemiz.bench -t subscriber@bench.kz "127.0.0.1:$SMTP_PORT"
c_end=$(date +%s.%N)
sleep 0.5
after=$(sink_messages)
ceiling=$(python3 -c "print(round(($after - $before) / ($c_end - $c_start)))")

echo
printf '%-34s %s\n' "subscribers" "$N" \
  "digest rows (run $run)" "$total" \
  "SENT in PostgreSQL" "$sent" \
  "received by smtp-sink" "$received" \
  "fill (digest-now) s" "$(python3 -c "print(round($queued_at - $start, 2))")" \
  "end to end s" "$(python3 -c "print(round($end - $start, 2))")" \
  "digest msg/s" "$rate" \
  "smtp-source ceiling msg/s" "$ceiling ($((after - before)) msgs of $bytes bytes, $CONCURRENCY sessions)" \
  "digest / ceiling" "$(python3 -c "print(f'{$rate / $ceiling:.2f}')")" \
  "worker peak memory (VmHWM)" "$((peak_kib / 1024)) MiB"
errors=$(grep -c 'ERROR' "$WORK/worker.log" || true)
echo "worker log errors: $errors"
[ "$sent" = "$total" ] && [ "$received" -ge "$sent" ]

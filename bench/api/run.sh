#!/usr/bin/env bash
# API benchmarks (issue 3): bulk ingestion through `glucolens serve` against `psql \copy`, and dashboard / readings
# latency under concurrent load for a user with 365 days of data. Starts its own throwaway PostgreSQL cluster and
# moto on free ports, builds the release CLI, loads data through the API, prints markdown rows, cleans up.
#
#   bench/api/run.sh                 # defaults below
#   DURATION=30s CONNECTIONS=16 INGEST_RUNS=6 bench/api/run.sh
#   GLUCOLENS_BIN=target/debug/glucolens bench/api/run.sh   # try the script without the release build
#
# Needs: PostgreSQL 15 server binaries (PGBIN), psql, moto_server, wrk (`apt-get install -y wrk`), python3, cargo.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-8}
THREADS=${THREADS:-2}
INGEST_RUNS=${INGEST_RUNS:-4}
WORK=$(mktemp -d)
PGDATA=$WORK/pg

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 1 100); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.2; done; echo "no answer from $1" >&2; return 1; }
cleanup() {
  [ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null || true
  [ -n "${MOTO_PID:-}" ] && kill "$MOTO_PID" 2>/dev/null || true
  as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] && chown postgres: "$WORK"

PG_PORT=$(free_port); MOTO_PORT=$(free_port); API_PORT=$(free_port)
as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$WORK/pg.log" -w \
  -o "-k $WORK -p $PG_PORT -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" start >/dev/null
moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 & MOTO_PID=$!

# GLUCOLENS_BIN skips the build (e.g. to try the script with a debug binary; figures need the release build).
BIN=${GLUCOLENS_BIN:-$ROOT/target/release/glucolens}
[ -n "${GLUCOLENS_BIN:-}" ] || (cd "$ROOT" && cargo build --release -q -p glucolens-cli)

export DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres
export AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
# The load generator sends thousands of requests a minute as one user: lift the per-user limit for the bench only.
export RATE_LIMIT_PER_MINUTE=1000000000 DB_MAX_CONNECTIONS=${DB_MAX_CONNECTIONS:-8} RUST_LOG=${RUST_LOG:-warn}
wait_for "$AWS_ENDPOINT_URL/moto-api/"
"$BIN" migrate >/dev/null
"$BIN" serve --addr "127.0.0.1:$API_PORT" >"$WORK/serve.log" 2>&1 & SERVE_PID=$!
API=http://127.0.0.1:$API_PORT
wait_for "$API/api/v1/health"

echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') (fsync=off), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| Bulk ingestion | API | COPY | Ratio |"
echo "|---|---|---|---|"
python3 "$ROOT/bench/api/bench.py" ingest --api "$API" --database-url "$DATABASE_URL" --work "$WORK" --runs "$INGEST_RUNS"

BENCH_TOKEN=$(python3 "$ROOT/bench/api/bench.py" year --api "$API")
export BENCH_TOKEN
psql "$DATABASE_URL" -q -c "VACUUM ANALYZE" >/dev/null
TODAY=$(date -u +%Y-%m-%d)
DAY_START=$(date -u -d "$TODAY - 2 days" +%Y-%m-%dT00:00:00Z)
DAY_END=$(date -u -d "$TODAY - 1 days" +%Y-%m-%dT00:00:00Z)
MONTH_START=$(date -u -d "$TODAY - 31 days" +%Y-%m-%dT00:00:00Z)

echo
echo "wrk, $THREADS threads, $CONNECTIONS connections, $DURATION per route, one user with 365 days (105,120 readings):"
echo
echo "| Route | p50 | p99 | Requests/s | Requests | Errors |"
echo "|---|---|---|---|---|---|"
run_wrk() {
  local label=$1 path=$2
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --latency -s "$ROOT/bench/api/auth.lua" "$API$path" >"$WORK/wrk.txt"
  python3 "$ROOT/bench/api/bench.py" wrk --label "$label" --report "$WORK/wrk.txt"
}
run_wrk "GET /dashboard/summary?days=7" "/api/v1/dashboard/summary?days=7"
run_wrk "GET /dashboard/summary?days=30" "/api/v1/dashboard/summary?days=30"
run_wrk "GET /glucose/readings, 1 day (288 readings)" "/api/v1/glucose/readings?start=$DAY_START&end=$DAY_END"
run_wrk "GET /glucose/readings, 30 days, first page of 1000" \
  "/api/v1/glucose/readings?start=$MONTH_START&end=$DAY_END&limit=1000"

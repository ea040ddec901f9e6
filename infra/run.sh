#!/usr/bin/env bash
# The one run command (README): the whole backend locally on a throwaway PostgreSQL it starts itself, the moto
# emulator for SQS / Secrets Manager / S3, demo data, every job run once through the real queue, then the API on
# 127.0.0.1. Ctrl-C stops everything it started. Data lives in .local/ and is reused on the next run.
set -euo pipefail
export GLUCOLENS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$GLUCOLENS_ROOT/infra/lib.sh"
cd "$GLUCOLENS_ROOT"

API_PORT=${GLUCOLENS_PORT:-3000}
DEMO_EMAIL=demo@glucolens.local
DEMO_PASSWORD=glucolens-demo

ensure_python_tools
command -v cargo >/dev/null || { log "cargo is required (https://rustup.rs)"; exit 1; }
log "building glucolens (first build takes several minutes)"
cargo build --locked -p glucolens-cli
GLUCOLENS="${CARGO_TARGET_DIR:-$GLUCOLENS_ROOT/target}/debug/glucolens"

cleanup() {
    trap - EXIT INT TERM
    [ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null || true
    [ -n "${MOTO_PID:-}" ] && kill "$MOTO_PID" 2>/dev/null && wait "$MOTO_PID" 2>/dev/null || true
    stop_postgres
    log "stopped PostgreSQL, moto and the API"
}
trap cleanup EXIT INT TERM

mkdir -p .local
PG_PORT=$(free_port)
MOTO_PORT=$(free_port)
if ! python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', $API_PORT))" 2>/dev/null; then
    API_PORT=$(free_port)
fi
start_postgres "$GLUCOLENS_ROOT/.local/pg" "$PG_PORT"
start_moto "$MOTO_PORT" .local/moto.log
"$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'glucolens'" postgres \
    | grep -q 1 || "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE glucolens" postgres
export_local_env "$PG_PORT" "$MOTO_PORT" glucolens
export RUST_LOG=${RUST_LOG:-info,sqlx=warn}

"$GLUCOLENS" migrate
if [ -z "$("$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM users WHERE email = '$DEMO_EMAIL'" glucolens)" ]; then
    log "creating the demo user and 90 days of sample data"
    "$GLUCOLENS" sample-data --users 3 --days 90 --seed 42
else
    log "reusing the existing demo data in .local/pg"
fi
log "running the jobs once through the analysis queue"
for job in aggregate-daily compute-correlations discover-patterns; do
    "$GLUCOLENS" job "$job" --drain
done

"$GLUCOLENS" serve --addr "127.0.0.1:$API_PORT" &
SERVE_PID=$!
for _ in $(seq 1 150); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$API_PORT/api/v1/health')" 2>/dev/null && break
    sleep 0.2
done
BASE="http://127.0.0.1:$API_PORT"
cat <<INFO

  GlucoLens is running at $BASE   (Ctrl-C stops everything)

  Demo user: $DEMO_EMAIL / $DEMO_PASSWORD
  Log in and look at the dashboard:

    TOKEN=\$(curl -s -X POST $BASE/api/v1/auth/login -H 'content-type: application/json' \\
      -d '{"email":"$DEMO_EMAIL","password":"$DEMO_PASSWORD"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["access_token"])')
    curl -s "$BASE/api/v1/dashboard/summary?days=30" -H "authorization: Bearer \$TOKEN"

  Insights:  curl -s $BASE/api/v1/insights/recommendations -H "authorization: Bearer \$TOKEN"
  OpenAPI:   $BASE/api/v1/openapi.json      Docs: $BASE/docs
  Database:  psql postgres://postgres@127.0.0.1:$PG_PORT/glucolens   (data kept in .local/pg)

  Same services from another terminal (glucolens CLI, cargo run -p glucolens-cli -- ...):
    export DATABASE_URL=$DATABASE_URL AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL \\
           AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local

INFO
wait "$SERVE_PID"

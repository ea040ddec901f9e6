#!/usr/bin/env bash
# Batch inserts through COPY ("history in at COPY speed"). On its own throwaway PostgreSQL and moto, with the release
# CLI, in one run:
#   1. latency of `POST /api/v1/glucose/bulk` per batch size on two servers over the same database: the default one
#      (COPY staging from GLUCOLENS_COPY_MIN_ROWS rows up) and one forced onto the UNNEST path;
#   2. the same INGEST_USERS × 50,000 readings loaded by `psql \copy` (one stream and two), and through the bulk
#      route on both servers (INGEST_CLIENTS concurrent clients, and one client on the default server; 50,000
#      readings per request), in interleaved rounds;
#   3. `glucolens sample-data --users SAMPLE_USERS --days 90` into an empty database (and, with SAMPLE_BASELINE=1,
#      the same on the UNNEST path), then `psql \copy` of exactly the glucose rows it wrote into an empty database,
#      one stream and two: the rate PostgreSQL itself reaches on this machine.
# Prints markdown tables and writes them to BENCH_OUT.
#
#   bench/copy/run.sh
#   SAMPLE_USERS=0 bench/copy/run.sh                        # skip part 3
#   INGEST_ROUNDS=5 INGEST_CLIENTS=3 bench/copy/run.sh
#   GLUCOLENS_BIN=target/release/glucolens bench/copy/run.sh  # skip the build
#
# Needs: PostgreSQL 15 server binaries and psql (installed by infra/lib.sh when missing), python3, cargo.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
# shellcheck source=../../infra/lib.sh
source infra/lib.sh

INGEST_USERS=${INGEST_USERS:-20}
INGEST_CLIENTS=${INGEST_CLIENTS:-4}
INGEST_ROUNDS=${INGEST_ROUNDS:-3}
LATENCY_SIZES=${LATENCY_SIZES:-1,10,100,1000,10000,50000}
SAMPLE_USERS=${SAMPLE_USERS:-1000}
SAMPLE_CONNECTIONS=${SAMPLE_CONNECTIONS:-8}
SAMPLE_BASELINE=${SAMPLE_BASELINE:-0}
BENCH_OUT=${BENCH_OUT:-$ROOT/bench/copy/last-run.md}
# Far above any batch: the UNNEST path for every insert.
UNNEST_ONLY=1000000000

start_throwaway_stack copy-bench
UNNEST_PID=""
trap '[ -n "$UNNEST_PID" ] && kill "$UNNEST_PID" 2>/dev/null; stop_throwaway_stack' EXIT
trap 'exit 130' INT TERM

BIN=$(bench_binary "$WORK")

PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres)
url() { echo "postgres://postgres@127.0.0.1:$PG_PORT/$1"; }
fresh_database() {
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE $1"
    DATABASE_URL=$(url "$1") "$BIN" migrate >/dev/null
}
drop_database() { "${PSQL[@]}" -d postgres -c "DROP DATABASE $1"; }
export_local_env "$PG_PORT" "$MOTO_PORT" ingest
# Thousands of requests and registrations a minute from one address: lift the per-user and per-client limits.
export RATE_LIMIT_PER_MINUTE=1000000000 AUTH_ATTEMPTS_PER_CLIENT_PER_MINUTE=1000000000
export DB_MAX_CONNECTIONS=${DB_MAX_CONNECTIONS:-8} RUST_LOG=${RUST_LOG:-warn}
OUT=$WORK/report.md
report() { tee -a "$OUT"; }

{
    echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') (fsync=off, synchronous_commit=off)," \
        "$(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
} | report

# ---- 1 and 2: the bulk route against psql \copy ----------------------------------------------------------------
fresh_database ingest
API_PORT=$(free_port)
UNNEST_PORT=$(free_port)
"$BIN" serve --addr "127.0.0.1:$API_PORT" >"$WORK/serve-copy.log" 2>&1 &
SERVE_PID=$!
GLUCOLENS_COPY_MIN_ROWS=$UNNEST_ONLY "$BIN" serve --addr "127.0.0.1:$UNNEST_PORT" >"$WORK/serve-unnest.log" 2>&1 &
UNNEST_PID=$!
for port in "$API_PORT" "$UNNEST_PORT"; do
    for _ in $(seq 1 150); do
        python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/api/v1/health')" 2>/dev/null && break
        sleep 0.2
    done
done
log "latency per batch size"
python3 bench/copy/bench.py latency --api-copy "http://127.0.0.1:$API_PORT" --api-unnest "http://127.0.0.1:$UNNEST_PORT" \
    --sizes "$LATENCY_SIZES" | report
echo | report
log "bulk ingestion vs psql \\copy"
python3 bench/copy/bench.py ingest --api-copy "http://127.0.0.1:$API_PORT" --api-unnest "http://127.0.0.1:$UNNEST_PORT" \
    --database-url "$(url ingest)" --work "$WORK" --users "$INGEST_USERS" --clients "$INGEST_CLIENTS" \
    --rounds "$INGEST_ROUNDS" | report
kill "$SERVE_PID" "$UNNEST_PID"
wait "$SERVE_PID" "$UNNEST_PID" 2>/dev/null || true
SERVE_PID="" UNNEST_PID=""
drop_database ingest
rm -f "$WORK"/copy-*.csv

# ---- 3: sample data, and psql \copy of the same rows -----------------------------------------------------------
# sample_data NAME [ENV...]: `glucolens sample-data` into a fresh database NAME; prints its summary line.
sample_data() {
    local name=$1
    shift
    fresh_database "$name"
    log "sample-data: $SAMPLE_USERS users × 90 days into $name"
    env "$@" DATABASE_URL="$(url "$name")" "$BIN" sample-data --users "$SAMPLE_USERS" --days 90 --seed 42 \
        --connections "$SAMPLE_CONNECTIONS" --email-prefix bench | grep '^sample data'
}
if [ "$SAMPLE_USERS" -gt 0 ]; then
    {
        echo "\`glucolens sample-data --users $SAMPLE_USERS --days 90 --connections $SAMPLE_CONNECTIONS\`, empty database:"
        echo
        echo "- COPY staging: $(sample_data sample_copy)"
        if [ "$SAMPLE_BASELINE" = 1 ]; then
            echo "- UNNEST path: $(sample_data sample_unnest GLUCOLENS_COPY_MIN_ROWS=$UNNEST_ONLY)"
            drop_database sample_unnest
        fi
    } | report
    # Exactly the glucose rows the generator wrote, for psql \copy into another empty database.
    "${PSQL[@]}" -d sample_copy -c "\\copy (SELECT id, email, password_hash FROM users) TO '$WORK/users.csv' CSV"
    "${PSQL[@]}" -d sample_copy -c "\\copy (SELECT user_id, \"timestamp\", source, value FROM glucose_readings ORDER BY user_id, \"timestamp\", source) TO '$WORK/glucose.csv' CSV"
    drop_database sample_copy
    READINGS=$(wc -l <"$WORK/glucose.csv")
    split -n l/2 "$WORK/glucose.csv" "$WORK/glucose-half-"
    fresh_database copy_limit
    "${PSQL[@]}" -d copy_limit -c "\\copy users (id, email, password_hash) FROM '$WORK/users.csv' CSV"
    log "psql \\copy of the same $READINGS readings, one stream"
    ONE=$(python3 bench/copy/bench.py copy --database-url "$(url copy_limit)" "$WORK/glucose.csv")
    "${PSQL[@]}" -d copy_limit -c "TRUNCATE glucose_readings" -c "CHECKPOINT"
    log "psql \\copy of the same readings, two streams"
    TWO=$(python3 bench/copy/bench.py copy --database-url "$(url copy_limit)" "$WORK"/glucose-half-*)
    drop_database copy_limit
    {
        echo "- \`psql \\copy\` of the same $READINGS glucose rows (CSV) into an empty database: one stream $ONE s" \
            "($(python3 -c "print(f'{$READINGS / $ONE:,.0f}')") rows/s), two streams $TWO s" \
            "($(python3 -c "print(f'{$READINGS / $TWO:,.0f}')") rows/s)"
    } | report
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | report
cp "$OUT" "$BENCH_OUT"
log "written to $BENCH_OUT"

#!/usr/bin/env bash
# Analysis pipeline benchmark (issue 5, "Benchmark and scale"). Starts its own throwaway PostgreSQL cluster (with
# pg_stat_statements) and moto on free ports, builds the release CLI, then measures with /usr/bin/time -v and
# PostgreSQL's statistics:
#   1. one user's full analysis on BENCH_DAYS days: sample-data, then aggregate-daily, compute-correlations and
#      discover-patterns, each fanned out and drained (`glucolens job <kind> --drain`, the worker's code path);
#   2. the fan-out for BENCH_USERS users: sample-data, `job aggregate-daily` without --drain (enqueueing only, into
#      a probe queue nobody drains), then `job aggregate-daily --drain` on the real queue (fan-out + draining by one
#      sequential consumer, as one Lambda instance processes its batches: the 90-day backfill), then the same after
#      marking one new day dirty per user (a night's aggregation), and `job <kind> --drain` for BENCH_FLEET_JOBS;
#   3. prints the table and the 100,000-user projection (bench/pipeline/report.py) and writes them to BENCH_OUT.
#
#   bench/pipeline/run.sh                                     # 1 user and 1,000 users × 90 days
#   BENCH_USERS=200 bench/pipeline/run.sh                     # a quicker fleet
#   BENCH_FLEET_JOBS="compute-correlations discover-patterns" bench/pipeline/run.sh   # also drain patterns for the fleet
#   GLUCOLENS_BIN=target/release/glucolens bench/pipeline/run.sh                      # skip the build
#
# Needs: PostgreSQL 15 server binaries and psql (installed by infra/lib.sh when missing), /usr/bin/time (Debian
# package `time`, installed when missing), python3, cargo. Everything it starts is stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
# shellcheck source=../../infra/lib.sh
source infra/lib.sh

BENCH_USERS=${BENCH_USERS:-1000}
BENCH_DAYS=${BENCH_DAYS:-90}
# Patterns take seconds per user, so the fleet drains them only on request (the projection then uses the single user).
BENCH_FLEET_JOBS=${BENCH_FLEET_JOBS-compute-correlations}
BENCH_STEP_TIMEOUT=${BENCH_STEP_TIMEOUT:-5400}
BENCH_OUT=${BENCH_OUT:-$ROOT/bench/pipeline/last-run.md}
SAMPLE_CONNECTIONS=${SAMPLE_CONNECTIONS:-8}
# The template gives every function a pool of two connections.
export DB_MAX_CONNECTIONS=${DB_MAX_CONNECTIONS:-2}
export RUST_LOG=${RUST_LOG:-info,sqlx=warn} NO_COLOR=1

WORK=$(mktemp -d /var/tmp/glucolens-pipeline-bench.XXXXXX)
# The PostgreSQL server (run as `postgres` when we are root) must be able to reach its directory under WORK.
chmod 755 "$WORK"
MEASUREMENTS=$WORK/measurements.jsonl
# A failed step is recorded and reported, and the run goes on (later figures may still be useful); exit status 1.
FAILED_STEPS=()

cleanup() {
    local status=$?
    [ -n "${MOTO_PID:-}" ] && kill "$MOTO_PID" 2>/dev/null && wait "$MOTO_PID" 2>/dev/null
    stop_postgres
    if [ "$status" -ne 0 ]; then
        log "failed (exit $status); step logs follow"
        tail -n 20 "$WORK"/*.err 2>/dev/null >&2 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -x /usr/bin/time ]; then
    log "installing GNU time (Debian package \`time\`)"
    as_root apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq time >&2
fi
ensure_python_tools

BIN=$(bench_binary "$WORK")

PG_PORT=$(free_port)
MOTO_PORT=$(free_port)
start_postgres "$WORK/pg" "$PG_PORT"
# pg_stat_statements counts the queries each step sends; it has to be preloaded, hence the restart.
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres)
"${PSQL[@]}" -d postgres -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
stop_postgres
start_postgres "$WORK/pg" "$PG_PORT"
"${PSQL[@]}" -d postgres -c "CREATE EXTENSION pg_stat_statements"
start_moto "$MOTO_PORT" "$WORK/moto.log"

sql() { "${PSQL[@]}" -d postgres -At -c "$1"; }

# Counters of database $1 since the cluster started; pg_stat_statements is reset per step instead.
db_counters() {
    sql "SELECT json_build_object('xact_commit', xact_commit, 'xact_rollback', xact_rollback, 'sessions', sessions,
                'tup_returned', tup_returned, 'tup_fetched', tup_fetched, 'tup_inserted', tup_inserted,
                'tup_updated', tup_updated, 'tup_deleted', tup_deleted, 'blks_read', blks_read, 'blks_hit', blks_hit)
         FROM pg_stat_database WHERE datname = '$1'"
}

statements() {
    sql "SELECT json_build_object('calls', coalesce(sum(calls), 0), 'exec_ms', coalesce(sum(total_exec_time), 0),
                'rows', coalesce(sum(rows), 0))
         FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$1')"
}

# The statements of the last step, most called first (kept for the write-up: queries per user by kind).
top_statements() {
    sql "SELECT calls || E'\t' || round(total_exec_time::numeric, 1) || E'\t' || regexp_replace(left(query, 110), '\s+', ' ', 'g')
         FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$1')
         ORDER BY calls DESC, total_exec_time DESC LIMIT 25"
}

# measure SCENARIO STEP DATABASE USERS CMD...: runs CMD under /usr/bin/time -v and appends one JSON line with the
# wall/CPU time and peak RSS of the process, the CLI's own timings and the database's work during the step.
measure() {
    local scenario=$1 step=$2 database=$3 users=$4
    shift 4
    local name="$scenario-$step"
    log "$scenario: $step"
    sql "SELECT pg_stat_statements_reset()" >/dev/null
    local before
    before=$(db_counters "$database")
    local status=0
    /usr/bin/time -v -o "$WORK/$name.time" timeout "$BENCH_STEP_TIMEOUT" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" ||
        status=$?
    # Statistics of exiting backends reach pg_stat_database when they end.
    sleep 1
    local after stmts
    after=$(db_counters "$database")
    stmts=$(statements "$database")
    top_statements "$database" >"$WORK/$name.statements"
    python3 "$ROOT/bench/pipeline/report.py" record \
        --scenario "$scenario" --step "$step" --users "$users" --status "$status" \
        --time-file "$WORK/$name.time" --stdout-file "$WORK/$name.out" --stderr-file "$WORK/$name.err" \
        --before "$before" --after "$after" --statements "$stmts" >>"$MEASUREMENTS"
    grep -v "^[0-9]\{4\}-[0-9][0-9]-" "$WORK/$name.out" >&2 || true
    if [ "$status" -ne 0 ]; then
        log "$scenario: $step FAILED (exit $status$([ "$status" = 124 ] && echo ", timed out after ${BENCH_STEP_TIMEOUT}s")); last lines of its log:"
        tail -n 15 "$WORK/$name.err" "$WORK/$name.out" >&2
        FAILED_STEPS+=("$name")
    fi
}

# setup_database NAME QUEUE: a fresh migrated database and the queue its jobs use.
setup_database() {
    sql "CREATE DATABASE $1" >/dev/null
    export_local_env "$PG_PORT" "$MOTO_PORT" "$1"
    export ANALYSIS_QUEUE_URL=$2
    "$BIN" migrate >/dev/null
}

# Rows the analysis left in database $1 (the pipeline really produced something) and its size.
outcome() {
    "${PSQL[@]}" -d "$1" -At -c "SELECT json_build_object(
        'users', (SELECT count(*) FROM users),
        'glucose_readings', (SELECT count(*) FROM glucose_readings),
        'daily_aggregates', (SELECT count(*) FROM daily_aggregates),
        'dirty_days_left', (SELECT count(*) FROM dirty_days),
        'correlations', (SELECT count(*) FROM correlations),
        'patterns', (SELECT count(*) FROM patterns),
        'database_bytes', pg_database_size(current_database()),
        'glucose_bytes', pg_total_relation_size('glucose_readings'))"
}

queue_depth() {
    "$TOOLS_VENV/bin/python" - "$1" <<'EOF'
import json, os, sys
import boto3
sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
url = sqs.get_queue_url(QueueName=sys.argv[1])["QueueUrl"]
attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
print(json.dumps({k: int(v) for k, v in attrs.items()}))
EOF
}

STARTED=$(date -u +%Y-%m-%dT%H:%MZ)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- 1. One user's full analysis -------------------------------------------------------------------------------
setup_database bench_single glucolens-bench-single
# What a process costs with nothing to do (start, empty fan-out, one empty 1 s receive): subtracted from the CPU.
measure single baseline bench_single 0 "$BIN" job aggregate-daily --drain
measure single sample-data bench_single 1 "$BIN" sample-data --users 1 --days "$BENCH_DAYS" --email-prefix single
for job in aggregate-daily compute-correlations discover-patterns; do
    measure single "$job" bench_single 1 "$BIN" job "$job" --drain
    cp "$WORK/single-$job.statements" "$WORK/statements-single-$job.tsv"
done
SINGLE_OUTCOME=$(outcome bench_single)

# ---- 2. The fan-out for BENCH_USERS users ----------------------------------------------------------------------
setup_database bench_fleet glucolens-bench-fleet
FLEET_EMPTY=$(outcome bench_fleet)
measure fleet sample-data bench_fleet "$BENCH_USERS" \
    "$BIN" sample-data --users "$BENCH_USERS" --days "$BENCH_DAYS" --email-prefix fleet --connections "$SAMPLE_CONNECTIONS"
# Enqueueing alone, into a queue nobody drains, so the drained run below sees exactly one message per user.
ANALYSIS_QUEUE_URL=glucolens-bench-fanout-probe measure fleet fan-out-only bench_fleet "$BENCH_USERS" \
    "$BIN" job aggregate-daily
PROBE_DEPTH=$(queue_depth glucolens-bench-fanout-probe)
measure fleet aggregate-daily bench_fleet "$BENCH_USERS" "$BIN" job aggregate-daily --drain
# A night's work: every user uploaded yesterday's data (one dirty local day, which also recomputes the day before).
"${PSQL[@]}" -d bench_fleet -c "INSERT INTO dirty_days (user_id, local_date)
    SELECT id, (now() AT TIME ZONE timezone)::date - 1 FROM users ON CONFLICT DO NOTHING" >/dev/null
measure fleet aggregate-daily-nightly bench_fleet "$BENCH_USERS" "$BIN" job aggregate-daily --drain
for job in $BENCH_FLEET_JOBS; do
    measure fleet "$job" bench_fleet "$BENCH_USERS" "$BIN" job "$job" --drain
done
FLEET_OUTCOME=$(outcome bench_fleet)
FLEET_DEPTH=$(queue_depth glucolens-bench-fleet)

python3 "$ROOT/bench/pipeline/report.py" render --measurements "$MEASUREMENTS" \
    --machine "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), load average before the run $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg)" \
    --postgres "$("$PG_BIN/postgres" --version | awk '{print $3}') (fsync=off, synchronous_commit=off)" \
    --started "$STARTED" --command "${GLUCOLENS_BIN:+GLUCOLENS_BIN=$GLUCOLENS_BIN }BENCH_USERS=$BENCH_USERS BENCH_DAYS=$BENCH_DAYS BENCH_FLEET_JOBS=\"$BENCH_FLEET_JOBS\" bench/pipeline/run.sh" \
    --single-outcome "$SINGLE_OUTCOME" --fleet-outcome "$FLEET_OUTCOME" --fleet-empty "$FLEET_EMPTY" \
    --probe-queue "$PROBE_DEPTH" --fleet-queue "$FLEET_DEPTH" \
    --statements-dir "$WORK" | tee "$BENCH_OUT"
# The raw per-step records, to re-render or compare runs.
cp "$MEASUREMENTS" "${BENCH_OUT%.md}.jsonl"
log "written to $BENCH_OUT and ${BENCH_OUT%.md}.jsonl"
if [ ${#FAILED_STEPS[@]} -gt 0 ]; then
    log "failed steps: ${FAILED_STEPS[*]}"
    exit 1
fi

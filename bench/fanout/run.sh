#!/usr/bin/env bash
# The scheduled fan-out at scale: one compute-correlations run for BENCH_USERS users through the Lambda handler
# (`scheduled_jobs::handle`, driven by functions/scheduled-jobs/examples/fan_out_bench.rs), sending with one
# SendMessageBatch call in flight (the former sequential path, the baseline) and with SEND_CONCURRENCY (the
# product's setting), on the same throwaway PostgreSQL + moto stack in the same run, against two SQS endpoints:
#   - moto (infra/lib.sh), the emulator the tests use. It is CPU-bound (one Python process) and its cost per
#     message grows with the queue's depth, so it mostly measures moto;
#   - bench/fanout/latency_sqs.py, which answers SendMessageBatch after SQS_CALL_MS and takes concurrent calls, as
#     SQS does: the latency-bound case the concurrency is for, and the check of the projection's model.
# Every run is checked to have delivered exactly BENCH_USERS messages. Prints the times and ratios, moto's time per
# call, and the projection to 100,000 and 1,000,000 users on real SQS with its assumptions.
#
#   bench/fanout/run.sh                                  # 10,000 users (the moto runs take most of an hour here)
#   BENCH_USERS=2000 bench/fanout/run.sh                 # quicker
#   SQS_CALL_MS=40 DB_PAGE_MS=10 bench/fanout/run.sh     # other latency assumptions (defaults below)
#   FANOUT_BENCH_BIN=target/debug/examples/fan_out_bench bench/fanout/run.sh   # skip the release build
#
# Needs what infra/lib.sh installs (PostgreSQL server binaries, the moto venv), python3, cargo. Everything it starts
# is stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
# shellcheck source=../../infra/lib.sh
source infra/lib.sh

BENCH_USERS=${BENCH_USERS:-10000}
# One SendMessageBatch round trip on real SQS from a Lambda in the same region (the stand-in's latency and the
# projection's), and one page's PostgreSQL work on RDS (the listing query and the progress update) for the projection.
SQS_CALL_MS=${SQS_CALL_MS:-20}
DB_PAGE_MS=${DB_PAGE_MS:-5}
CONCURRENCY=$(sed -n 's/^pub const SEND_CONCURRENCY: usize = \([0-9]*\);/\1/p' shared/aws/src/queue.rs)
PAGE=$(sed -n 's/^const FAN_OUT_PAGE: i64 = \([0-9]*\);/\1/p' shared/app/src/jobs.rs)
export RUST_LOG=${RUST_LOG:-warn} NO_COLOR=1 DB_MAX_CONNECTIONS=2

if [ -n "${FANOUT_BENCH_BIN:-}" ]; then
    SOURCE_BIN=$FANOUT_BENCH_BIN
else
    log "building the bench driver (release, LTO: slow)"
    cargo build --release -q -p scheduled-jobs --example fan_out_bench
    SOURCE_BIN=$ROOT/target/release/examples/fan_out_bench
fi

start_throwaway_stack fanout
# A private copy: another build in this checkout must not swap the binary mid-run.
BIN=$WORK/fan_out_bench
cp "$SOURCE_BIN" "$BIN"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres)
"${PSQL[@]}" -d postgres -c "CREATE DATABASE bench_fanout"
export_local_env "$PG_PORT" "$MOTO_PORT" bench_fanout
MOTO_ENDPOINT=$AWS_ENDPOINT_URL
ANALYSIS_QUEUE_URL=glucolens-bench-fanout-migrate "$BIN" migrate

started=$(date +%s.%N)
"${PSQL[@]}" -d bench_fanout -c "INSERT INTO users (id, email, password_hash, timezone)
    SELECT gen_random_uuid(), 'fanout-' || i || '@bench.invalid', 'not-a-hash', 'UTC'
    FROM generate_series(1, $BENCH_USERS) AS i"
log "$BENCH_USERS users inserted in $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }') s"

# The stand-in; stop_throwaway_stack (infra/lib.sh) stops SERVE_PID on exit.
STANDIN_PORT=$(free_port)
STANDIN=http://127.0.0.1:$STANDIN_PORT
python3 bench/fanout/latency_sqs.py "$STANDIN_PORT" "$SQS_CALL_MS" & SERVE_PID=$!
for _ in $(seq 1 50); do
    python3 -c "import urllib.request; urllib.request.urlopen('$STANDIN/count')" 2>/dev/null && break
    sleep 0.1
done

moto_count() {
    "$TOOLS_VENV/bin/python" - "$1" <<'PY'
import os, sys
import boto3
sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
url = sqs.get_queue_url(QueueName=sys.argv[1])["QueueUrl"]
print(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
PY
}
standin_count() {
    python3 -c 'import json, sys, urllib.parse, urllib.request
print(json.load(urllib.request.urlopen(sys.argv[1] + "/count?queue=" + urllib.parse.quote(sys.argv[2])))["messages"])' "$STANDIN" "$1"
}

# fan_out ENDPOINT CONCURRENCY DAY: one run with its own queue and run key (the day); prints its seconds after
# checking the queue received one message per user.
fan_out() {
    local endpoint=$1 concurrency=$2 day=$3 queue line count
    if [ "$endpoint" = moto ]; then
        queue=glucolens-bench-fanout-$day
    else
        queue=$STANDIN/000000000000/glucolens-bench-fanout-$day
    fi
    log "$endpoint, $concurrency call(s) in flight"
    line=$(AWS_ENDPOINT_URL=$([ "$endpoint" = moto ] && echo "$MOTO_ENDPOINT" || echo "$STANDIN") \
        ANALYSIS_QUEUE_URL=$queue "$BIN" run "$concurrency" "2026-11-${day}T04:00:00Z")
    if [ "$endpoint" = moto ]; then count=$(moto_count "$queue"); else count=$(standin_count "$queue"); fi
    [ "$count" = "$BENCH_USERS" ] || { log "$queue received $count messages, not $BENCH_USERS"; exit 1; }
    python3 -c 'import json, sys; print(json.loads(sys.argv[1])["seconds"])' "$line"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
STANDIN_SEQUENTIAL=$(fan_out standin 1 21)
STANDIN_CONCURRENT=$(fan_out standin "$CONCURRENCY" 22)
MOTO_SEQUENTIAL=$(fan_out moto 1 23)
MOTO_CONCURRENT=$(fan_out moto "$CONCURRENCY" 24)

python3 - "$BENCH_USERS" "$CONCURRENCY" "$PAGE" "$SQS_CALL_MS" "$DB_PAGE_MS" \
    "$STANDIN_SEQUENTIAL" "$STANDIN_CONCURRENT" "$MOTO_SEQUENTIAL" "$MOTO_CONCURRENT" <<'PY'
import math, sys
users, concurrency, page = (int(a) for a in sys.argv[1:4])
sqs_ms, db_ms, standin_seq, standin_conc, moto_seq, moto_conc = (float(a) for a in sys.argv[4:10])
calls = math.ceil(users / 10)

# Model: sequential = one call latency per call; concurrent = per page, ceil(calls per page / concurrency) rounds
# of one call latency (a page's last round waits for its slowest call); plus each page's database work.
def sequential(n, ms, db):
    return (math.ceil(n / 10) * ms + math.ceil(n / page) * db) / 1000
def concurrent(n, ms, db):
    rounds = math.ceil(math.ceil(min(page, n) / 10) / concurrency)
    return math.ceil(n / page) * (rounds * ms + db) / 1000

print(f"\n{users:,} users = {calls:,} SendMessageBatch calls of 10, pages of {page:,} users, "
      f"{concurrency} calls in flight when concurrent; each run checked to deliver {users:,} messages:\n")
print("| endpoint | sequential (the former path) | concurrent | ratio |")
print("|---|---|---|---|")
print(f"| stand-in answering after {sqs_ms:g} ms (latency-bound, as SQS) | {standin_seq:.2f} s | {standin_conc:.2f} s "
      f"| **{standin_seq / standin_conc:.1f}x** |")
print(f"| moto (CPU-bound emulator) | {moto_seq:.1f} s | {moto_conc:.1f} s | {moto_seq / moto_conc:.2f}x |")
print(f"\nmoto, sequential: {moto_seq / calls * 1000:.0f} ms per call on average over the run "
      f"(it grows with the queue's depth: moto recomputes the queue's attributes for every message sent)")
print(f"model for the stand-in ({sqs_ms:g} ms per call, no database time): sequential "
      f"{sequential(users, sqs_ms, 0):.2f} s, concurrent {concurrent(users, sqs_ms, 0):.2f} s; the rest of the measured "
      f"time is PostgreSQL paging and progress writes and the client")

print(f"\nProjection on real SQS: {sqs_ms:g} ms per SendMessageBatch call, {db_ms:g} ms of database work per page "
      f"of {page:,}, {concurrency} calls in flight; the jobs' timeout is 300 s, pages stop 20 s before it:\n")
print("| users | sequential | concurrent | ratio |")
print("|---|---|---|---|")
for n in (100_000, 1_000_000):
    s, c = sequential(n, sqs_ms, db_ms), concurrent(n, sqs_ms, db_ms)
    print(f"| {n:,} | {s:,.0f} s | {c:,.1f} s | {s / c:.0f}x |")
PY
echo
echo "load average before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"

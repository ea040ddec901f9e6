#!/usr/bin/env bash
# AGP-style report benchmark (issue 13, goal < 50 ms for 14 days): the release CLI builds the sample user's report
# (`glucolens report --timings`: the model from the database, then the SVG and the PDF of it) RUNS times and prints
# each phase's median in milliseconds. Starts its own throwaway PostgreSQL and moto on free ports (infra/lib.sh) and
# loads one sample account (`glucolens sample-data`, data ending yesterday).
#
#   bench/report/run.sh
#   RUNS=50 DAYS=14 bench/report/run.sh
#   GLUCOLENS_BIN=target/debug/glucolens bench/report/run.sh   # try the script; figures need the release build
#
# Needs: PostgreSQL 15 server binaries (installed by infra/lib.sh when missing), python3, cargo.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
# shellcheck source=../../infra/lib.sh
source infra/lib.sh

RUNS=${RUNS:-20}
DAYS=${DAYS:-14}

start_throwaway_stack report-bench
BIN=$(bench_binary "$WORK")

export_local_env "$PG_PORT" "$MOTO_PORT" postgres
export RUST_LOG=${RUST_LOG:-warn}
"$BIN" migrate >/dev/null
log "sample data: 1 account × 30 days (ending yesterday)"
"$BIN" sample-data --users 1 --days 30 >/dev/null

log "$RUNS reports of $DAYS days"
for _ in $(seq 1 "$RUNS"); do
    "$BIN" report --user demo@glucolens.local --days "$DAYS" --out "$WORK/report.pdf" --timings 2>/dev/null
done >"$WORK/timings.jsonl"

echo "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ); $RUNS runs, $DAYS-day report"
python3 - "$WORK/timings.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
print("| Phase | median ms | max ms |")
print("|---|---|---|")
for key, name in [("model_first_ms", "Model on a new connection (not in the total)"), ("model_ms", "Model (database + analytics)"), ("svg_ms", "SVG"), ("pdf_ms", "PDF"), ("total_ms", "Total")]:
    values = [r[key] for r in runs]
    print(f"| {name} | {statistics.median(values):.2f} | {max(values):.2f} |")
total = statistics.median(r["total_ms"] for r in runs)
print()
print(f"Goal < 50 ms for 14 days: {'met' if total < 50 else 'NOT met'} ({total:.2f} ms)")
PY

#!/usr/bin/env bash
# Insights read benchmark (issue 14): meal responses, explained episodes and recommendations are computed on read
# from the person's records (90 days), the patterns (clusters included) are read as stored. Each route against
# `GET /auth/me` (authentication, rate limit and one account read: the per-request floor) in the same run. Starts
# its own throwaway PostgreSQL (with pg_stat_statements) and moto on free ports (infra/lib.sh), loads one sample
# account with DAYS days (`glucolens sample-data`), runs the whole analysis (aggregation, correlations, patterns:
# `glucolens job … --drain`, the worker's code path), serves the release build and runs wrk on every route.
#
#   bench/insights/run.sh
#   DURATION=30s CONNECTIONS=4 bench/insights/run.sh
#   GLUCOLENS_BIN=target/debug/glucolens bench/insights/run.sh   # try the script; figures need the release build
#
# Prints the markdown table (throughput and p99 against /auth/me's; statements and PostgreSQL time per request).
# The analysis pipeline's own time per user is `bench/pipeline/run.sh`. Needs: PostgreSQL 15 server binaries
# (installed by infra/lib.sh when missing), wrk (installed from Debian when missing), python3, cargo.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
# shellcheck source=../../infra/lib.sh
source infra/lib.sh

DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-4}
THREADS=${THREADS:-2}
DAYS=${DAYS:-90}

# shellcheck source=../wrk.sh
source bench/wrk.sh
ensure_wrk

start_throwaway_stack insights-bench
enable_statement_stats
BIN=$(bench_binary "$WORK")

export_local_env "$PG_PORT" "$MOTO_PORT" postgres
# One user sends thousands of requests a minute: lift the per-user limit for the bench only (still counted).
export RATE_LIMIT_PER_MINUTE=1000000000 DB_MAX_CONNECTIONS=${DB_MAX_CONNECTIONS:-8} RUST_LOG=${RUST_LOG:-warn}
"$BIN" migrate >/dev/null
log "sample data: 1 account × $DAYS days, then the whole analysis"
"$BIN" sample-data --users 1 --days "$DAYS" >/dev/null
for job in aggregate-daily compute-correlations discover-patterns; do "$BIN" job "$job" --drain >/dev/null; done
"${PSQL[@]}" -c "VACUUM ANALYZE"

serve_api "$BIN"
TOKEN=$(bench login --api "$API" --email demo@glucolens.local --password glucolens-demo)
# The sample data ends yesterday (local); the range covers all of it.
END=$(date -u +%Y-%m-%dT00:00:00Z -d tomorrow)
START=$(date -u +%Y-%m-%dT00:00:00Z -d "$((DAYS + 1)) days ago")

echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') (fsync=off), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "wrk $THREADS threads × $CONNECTIONS connections, $DURATION per route; one sample account with $DAYS days, analysed"
echo

run_wrk "GET /auth/me" "$TOKEN" "/api/v1/auth/me"
run_wrk "GET /insights/patterns (stored, clusters included)" "$TOKEN" "/api/v1/insights/patterns"
run_wrk "GET /insights/meals, $DAYS days" "$TOKEN" "/api/v1/insights/meals?start=$START&end=$END"
run_wrk "GET /insights/episodes, $DAYS days" "$TOKEN" "/api/v1/insights/episodes?start=$START&end=$END"
run_wrk "GET /insights/recommendations" "$TOKEN" "/api/v1/insights/recommendations"
bench report "${ROUTES[@]}"

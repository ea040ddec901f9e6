#!/usr/bin/env bash
# Dashboard benchmark ("Dashboards at phone speed"): the daily summary and the dashboard served from the stored day
# rows against `GET /auth/me` (authentication, rate limit and one account read: the per-request floor), all in one
# run. Starts its own throwaway PostgreSQL (infra/lib.sh, with pg_stat_statements) and moto on free ports, loads two
# sample accounts with DAYS days each (`glucolens sample-data`), runs the aggregation job, uploads each account's
# readings of its local today so far (today is always computed live), serves the release build and runs wrk on
# every route. The second account's day rows are deleted before the run, so its dashboard computes every day live
# from the raw rows, as every request did before the day rows were read: the same run's measure of that path.
#
#   bench/dashboard/run.sh
#   DURATION=30s CONNECTIONS=16 bench/dashboard/run.sh
#   GLUCOLENS_BIN=target/debug/glucolens bench/dashboard/run.sh   # try the script; figures need the release build
#
# Prints the markdown table (throughput and p99 against /auth/me's; statements, plannings and PostgreSQL planning and
# execution time per request from pg_stat_statements). Needs: PostgreSQL 15 server binaries (installed by infra/lib.sh when missing),
# wrk (installed from Debian when missing), python3, cargo.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
# shellcheck source=../../infra/lib.sh
source infra/lib.sh

DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-8}
THREADS=${THREADS:-2}
DAYS=${DAYS:-365}

# shellcheck source=../wrk.sh
source bench/wrk.sh
ensure_wrk

start_throwaway_stack dashboard-bench
enable_statement_stats

BIN=$(bench_binary "$WORK")

export_local_env "$PG_PORT" "$MOTO_PORT" postgres
# The load generator sends thousands of requests a minute as one user: lift the per-user limit for the bench only
# (the limit is still counted on every request).
export RATE_LIMIT_PER_MINUTE=1000000000 DB_MAX_CONNECTIONS=${DB_MAX_CONNECTIONS:-8} RUST_LOG=${RUST_LOG:-warn}
"$BIN" migrate >/dev/null
log "sample data: 2 accounts × $DAYS days, then the aggregation job"
"$BIN" sample-data --users 2 --days "$DAYS" >/dev/null
"$BIN" job aggregate-daily --drain >/dev/null
"${PSQL[@]}" -c "DELETE FROM daily_aggregates WHERE user_id = (SELECT id FROM users WHERE email = 'demo+1@glucolens.local')"

serve_api "$BIN"
STORED_TOKEN=$(bench login --api "$API" --email demo@glucolens.local --password glucolens-demo)
LIVE_TOKEN=$(bench login --api "$API" --email demo+1@glucolens.local --password glucolens-demo)
for token in "$STORED_TOKEN" "$LIVE_TOKEN"; do bench today --api "$API" --token "$token"; done
"${PSQL[@]}" -c "VACUUM ANALYZE"
YESTERDAY=$(date -u -d "yesterday" +%Y-%m-%d)

echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') (fsync=off), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "wrk $THREADS threads × $CONNECTIONS connections, $DURATION per route; sample accounts with $DAYS days (aggregated), today's readings so far uploaded"
echo

run_wrk "GET /auth/me" "$STORED_TOKEN" "/api/v1/auth/me"
for days in 7 30 90; do
    run_wrk "GET /dashboard/summary?days=$days" "$STORED_TOKEN" "/api/v1/dashboard/summary?days=$days"
done
run_wrk "GET /glucose/daily-summary, yesterday" "$STORED_TOKEN" "/api/v1/glucose/daily-summary?date=$YESTERDAY"
for days in 7 30; do
    run_wrk "GET /dashboard/summary?days=$days, every day live (no rows)" "$LIVE_TOKEN" "/api/v1/dashboard/summary?days=$days"
done
bench report "${ROUTES[@]}"
echo
echo "Statements of GET /dashboard/summary?days=30 (calls, plans, ms planning and executing, query):"
sed 's/^/    /' "$WORK/statements-2.tsv"

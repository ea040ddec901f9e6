# Shared by the HTTP benchmarks that time routes with wrk against /auth/me (bench/dashboard, bench/insights).
# Sourced after infra/lib.sh and `start_throwaway_stack`; uses WORK, PG_PORT, PG_BIN, ROOT and, for run_wrk, API,
# THREADS, CONNECTIONS and DURATION.

# wrk from Debian when missing.
ensure_wrk() {
    if ! command -v wrk >/dev/null; then
        log "installing wrk (Debian package)"
        as_root apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq wrk >&2
    fi
}

# Restarts the throwaway PostgreSQL with pg_stat_statements (it must be preloaded), planning counted too: a prepared
# statement PostgreSQL keeps planning again costs on every request. Sets PSQL.
enable_statement_stats() {
    PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres)
    "${PSQL[@]}" -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
    stop_postgres
    start_postgres "$WORK/pg" "$PG_PORT"
    "${PSQL[@]}" -c "CREATE EXTENSION pg_stat_statements"
    "${PSQL[@]}" -c "ALTER SYSTEM SET pg_stat_statements.track_planning = on" -c "SELECT pg_reload_conf()" >/dev/null
}

# serve_api BIN: `glucolens serve` on a free port, waiting until it answers. Sets API and SERVE_PID (the stack's
# cleanup stops it).
serve_api() {
    local port
    port=$(free_port)
    "$1" serve --addr "127.0.0.1:$port" >"$WORK/serve.log" 2>&1 &
    SERVE_PID=$!
    API=http://127.0.0.1:$port
    for _ in $(seq 1 100); do curl -fsS -o /dev/null "$API/api/v1/health" 2>/dev/null && return; sleep 0.2; done
    log "the API did not start; see $WORK/serve.log"; return 1
}

bench() { python3 "$ROOT/bench/dashboard/bench.py" "$@"; }

# run_wrk LABEL TOKEN PATH: checks the route answers, runs wrk on it with the statement statistics reset, and adds
# "LABEL|wrk report|statements" to ROUTES for `bench report`.
ROUTES=()
run_wrk() {
    local label=$1 token=$2 path=$3 n=${#ROUTES[@]}
    bench check --api "$API" --token "$token" --path "$path"
    "${PSQL[@]}" -c "SELECT pg_stat_statements_reset()" >/dev/null
    BENCH_TOKEN=$token wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --latency -s "$ROOT/bench/api/auth.lua" \
        "$API$path" >"$WORK/wrk-$n.txt"
    "${PSQL[@]}" -At -F $'\t' -c "SELECT calls, plans, total_plan_time + total_exec_time, regexp_replace(left(query, 90), '\s+', ' ', 'g')
        FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC" >"$WORK/statements-$n.tsv"
    ROUTES+=("$label|$WORK/wrk-$n.txt|$WORK/statements-$n.tsv")
}

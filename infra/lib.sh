# Shared by infra/run.sh, infra/test.sh and the bench scripts: install what is missing, start throwaway services.
# Sourced, not executed. Nothing here touches a system PostgreSQL cluster or the system Python.

GLUCOLENS_ROOT=${GLUCOLENS_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
TOOLS_VENV="$GLUCOLENS_ROOT/.local/venv"

log() { printf '\033[1m[glucolens]\033[0m %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# PostgreSQL server binaries (initdb, pg_ctl): Debian's package when missing.
pg_bin_dir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
        log "installing PostgreSQL (Debian packages)"
        as_root apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql postgresql-client >&2
        dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    fi
    echo "$dir"
}

# The project's Python tools (moto server, cfn-lint, schemathesis), pinned, in a project-local venv.
ensure_python_tools() {
    local requirements="$GLUCOLENS_ROOT/infra/requirements-tools.txt"
    local stamp="$TOOLS_VENV/.requirements"
    if [ -x "$TOOLS_VENV/bin/python" ] && cmp -s "$requirements" "$stamp"; then
        return
    fi
    log "installing Python tools into .local/venv (moto, cfn-lint, schemathesis)"
    command -v python3 >/dev/null || { as_root apt-get update -qq >&2; as_root apt-get install -y -qq python3 python3-venv >&2; }
    python3 -m venv "$TOOLS_VENV" >&2
    "$TOOLS_VENV/bin/pip" install -q --disable-pip-version-check -r "$requirements" >&2
    cp "$requirements" "$stamp"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as the postgres user when we are root (initdb refuses root).
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# postgres_home DIR: DIR, or (as root, when the postgres user cannot reach DIR, e.g. a clone under /root) a directory
# under /var/tmp that DIR links to, so the server never runs as root and the data still lives "in" the project.
postgres_home() {
    local dir=$1
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$dir" 2>/dev/null; then
        local outside
        outside="/var/tmp/glucolens-pg-$(printf '%s' "$dir" | sha1sum | cut -c1-12)"
        mkdir -p "$outside"
        rmdir "$dir" 2>/dev/null || rm -f "$dir"
        ln -sfn "$outside" "$dir"
        dir=$outside
    fi
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    echo "$dir"
}

# start_postgres HOME PORT: creates the cluster in HOME/data if absent (reusing an existing one keeps its data), starts
# it on 127.0.0.1:PORT with its socket and log in HOME. Sets PG_BIN and PG_DATA.
start_postgres() {
    local parent port=$2
    PG_BIN=$(pg_bin_dir)
    parent=$(postgres_home "$1")
    PG_DATA="$parent/data"
    local data=$PG_DATA
    if [ ! -f "$data/PG_VERSION" ]; then
        as_pg "$PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
    fi
    # GLUCOLENS_TEST_TIMESCALEDB=1 preloads TimescaleDB (where its package is installed), so the migrations create
    # hypertables and every test runs on them; without it the schema is plain PostgreSQL, the default.
    local preload=""
    if [ "${GLUCOLENS_TEST_TIMESCALEDB:-0}" = 1 ]; then
        preload="-c shared_preload_libraries=timescaledb"
    fi
    as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$parent/postgres.log" -w -t 60 \
        -o "-k $parent -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 $preload" \
        start >/dev/null
}

stop_postgres() {
    if [ -n "${PG_BIN:-}" ] && [ -n "${PG_DATA:-}" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
    fi
}

# start_moto PORT LOGFILE: the SQS / Secrets Manager / S3 emulator on 127.0.0.1. Sets MOTO_PID.
start_moto() {
    local port=$1 logfile=$2
    "$TOOLS_VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$logfile" 2>&1 &
    MOTO_PID=$!
    for _ in $(seq 1 100); do
        if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
            return
        fi
        sleep 0.1
    done
    log "moto did not start; see $logfile"; return 1
}

# Environment every glucolens process reads (see README "Configuration").
export_local_env() {
    local pg_port=$1 moto_port=$2 database=$3
    export DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/$database"
    export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port"
    export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
    # Dummy credentials: the emulator accepts any; real deployments use the Lambda role instead.
    export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
    # Tests that must restart an emulator start their own from this binary (never the shared one).
    export MOTO_SERVER="$TOOLS_VENV/bin/moto_server"
}

# start_throwaway_stack NAME: Python tools, then a PostgreSQL cluster and moto on free ports in a new temporary
# directory, all removed (with any SERVE_PID) when the calling script exits. Sets WORK, PG_PORT, MOTO_PORT.
start_throwaway_stack() {
    ensure_python_tools
    WORK=$(mktemp -d "/tmp/glucolens-$1.XXXXXX")
    chmod 755 "$WORK"  # the postgres user must reach the cluster directory inside it
    trap stop_throwaway_stack EXIT INT TERM
    PG_PORT=$(free_port)
    MOTO_PORT=$(free_port)
    start_postgres "$WORK/pg" "$PG_PORT"
    start_moto "$MOTO_PORT" "$WORK/moto.log"
}

stop_throwaway_stack() {
    [ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null || true
    [ -n "${MOTO_PID:-}" ] && kill "$MOTO_PID" 2>/dev/null || true
    stop_postgres
    rm -rf "$WORK"
}

# bench_binary WORK: the release CLI for a benchmark (GLUCOLENS_BIN, or built here), copied into WORK so other builds
# in this checkout cannot swap the binary in the middle of a run; prints the copy's path.
bench_binary() {
    local source=${GLUCOLENS_BIN:-}
    if [ -z "$source" ]; then
        log "building the release CLI (LTO: slow)"
        (cd "$GLUCOLENS_ROOT" && cargo build --release -q -p glucolens-cli) >&2
        source=$GLUCOLENS_ROOT/target/release/glucolens
    fi
    cp "$source" "$1/glucolens"
    echo "$1/glucolens"
}

# fuzz_api WORK PG_PORT MOTO_PORT: a fresh database, `glucolens serve` on it, and schemathesis against the served
# OpenAPI document (SCHEMATHESIS_SEED, MAX_EXAMPLES as infra/schemathesis.sh reads them). Sets SERVE_PID; the
# caller's cleanup stops it.
fuzz_api() {
    local work=$1 pg_port=$2 moto_port=$3 database serve_port
    database="schemathesis_$(date +%s)_$RANDOM"
    "$PG_BIN/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE $database" postgres
    export_local_env "$pg_port" "$moto_port" "$database"
    serve_port=$(free_port)
    cargo build --locked -p glucolens-cli
    local glucolens="${CARGO_TARGET_DIR:-target}/debug/glucolens"
    "$glucolens" migrate
    RATE_LIMIT_PER_MINUTE=100000 AUTH_ATTEMPTS_PER_CLIENT_PER_MINUTE=100000 "$glucolens" serve --addr "127.0.0.1:$serve_port" >"$work/serve.log" 2>&1 &
    SERVE_PID=$!
    for _ in $(seq 1 150); do
        python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$serve_port/api/v1/health')" 2>/dev/null && break
        sleep 0.2
    done
    BASE_URL="http://127.0.0.1:$serve_port" PYTHON="$TOOLS_VENV/bin/python" REPORT_DIR="$work/schemathesis" \
        bash infra/schemathesis.sh || { log "schemathesis failed; the server's log follows"; tail -n 50 "$work/serve.log" >&2; return 1; }
}

#!/usr/bin/env bash
# The one test command (README): starts a throwaway PostgreSQL and moto on free ports, then runs formatting, lints,
# every test, the template lint and the OpenAPI fuzzer; cleans up after itself whatever happens.
set -euo pipefail
export GLUCOLENS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$GLUCOLENS_ROOT/infra/lib.sh"
cd "$GLUCOLENS_ROOT"

ensure_python_tools
WORK=$(mktemp -d /tmp/glucolens-test.XXXXXX)
chmod 755 "$WORK"  # the postgres user must reach the cluster directory inside it
cleanup() {
    [ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null || true
    [ -n "${MOTO_PID:-}" ] && kill "$MOTO_PID" 2>/dev/null || true
    stop_postgres
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

PG_PORT=$(free_port)
MOTO_PORT=$(free_port)
start_postgres "$WORK/pg" "$PG_PORT"
start_moto "$MOTO_PORT" "$WORK/moto.log"
export_local_env "$PG_PORT" "$MOTO_PORT" postgres
log "PostgreSQL on 127.0.0.1:$PG_PORT, moto on 127.0.0.1:$MOTO_PORT"

log "cargo fmt --check"
cargo fmt --all --check
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "cargo test"
cargo test --workspace --locked --no-fail-fast
log "cfn-lint template.yaml"
"$TOOLS_VENV/bin/cfn-lint" template.yaml

log "schemathesis against glucolens serve (fixed seed; random seeds: infra/fuzz.sh)"
SCHEMATHESIS_SEED=${SCHEMATHESIS_SEED:-1} fuzz_api "$WORK" "$PG_PORT" "$MOTO_PORT"
log "all checks passed"

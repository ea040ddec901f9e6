#!/usr/bin/env bash
# The one test command (README): starts a throwaway PostgreSQL and moto on free ports, then runs formatting, lints,
# every test, the template lint and the OpenAPI fuzzer; cleans up after itself whatever happens.
set -euo pipefail
export GLUCOLENS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$GLUCOLENS_ROOT/infra/lib.sh"
cd "$GLUCOLENS_ROOT"

start_throwaway_stack test
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

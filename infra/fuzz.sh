#!/usr/bin/env bash
# Random-seed fuzzing, kept out of the test command (which uses a fixed seed so that it is deterministic):
#
#   bash infra/fuzz.sh            # 3 runs with random seeds
#   RUNS=10 MAX_EXAMPLES=50 bash infra/fuzz.sh
#
# Each run prints its seed; a failure reproduces with `SCHEMATHESIS_SEED=<seed> bash infra/test.sh`, and what it
# finds becomes a regression test in the function's tests before it is fixed.
set -euo pipefail
export GLUCOLENS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$GLUCOLENS_ROOT/infra/lib.sh"
cd "$GLUCOLENS_ROOT"

start_throwaway_stack fuzz
failed=0
for run in $(seq 1 "${RUNS:-3}"); do
    seed=$(python3 -c 'import secrets; print(secrets.randbelow(2**31))')
    log "fuzz run $run: seed $seed"
    if ! SCHEMATHESIS_SEED=$seed fuzz_api "$WORK" "$PG_PORT" "$MOTO_PORT"; then
        log "seed $seed FAILED (reproduce: SCHEMATHESIS_SEED=$seed bash infra/test.sh)"
        failed=1
    fi
    kill "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
    SERVE_PID=
done
exit $failed

#!/usr/bin/env bash
# Side-by-side analytics benchmarks: installs the reference libraries (stumpy, tigramite, mlxtend, iglu-python) into
# .venv-bench, then runs each `cargo bench` target, which times our implementation in-process and the reference
# through bench/reference/*.py on the same inputs, and prints medians, ratios (reference / ours) and peak RSS.
# Usage: bash bench/analytics.sh [matrix_profile|metrics|pcmci|rules ...]   (default: all four)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VENV="$ROOT/.venv-bench"
if [ ! -x "$VENV/bin/python" ] || ! cmp -s bench/requirements-reference.txt "$VENV/.requirements"; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r bench/requirements-reference.txt
    cp bench/requirements-reference.txt "$VENV/.requirements"
fi
export GLUCOLENS_BENCH_PYTHON="$VENV/bin/python"
# Numba (stumpy) may use every core, as our rayon pool does.
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(matrix_profile metrics pcmci rules)
for target in "${targets[@]}"; do
    echo "=== $target"
    cargo bench --locked -p glucolens-analytics --bench "${target}_vs_reference"
done

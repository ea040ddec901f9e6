#!/usr/bin/env bash
# Streams a synthetic Apple Health export.xml of SIZE_MB megabytes (default 2048), generated on the fly and never
# written to disk, through the importer's parser and reports its peak resident memory. A benchmark, not a test.
#   bench/imports/apple_health_rss.sh [SIZE_MB]
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE_MB=${1:-2048}
# A target directory of its own: the parser's few dependencies build in a minute without waiting for the
# workspace's build lock.
TARGET=${CARGO_TARGET_DIR_BENCH:-target/bench-imports}
CARGO_TARGET_DIR=$TARGET cargo build --release -q -p glucolens-importers --example stream_count
BIN=$TARGET/release/examples/stream_count
TIME_LOG=$(mktemp)
trap 'rm -f "$TIME_LOG"' EXIT
START=$(date +%s)
python3 bench/imports/generate_export.py "$SIZE_MB" | /usr/bin/time -v "$BIN" apple_health 2>"$TIME_LOG"
END=$(date +%s)
RSS_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TIME_LOG")
echo "input: ${SIZE_MB} MB synthetic export.xml, streamed from a pipe"
echo "peak RSS of the parser: $((RSS_KB / 1024)) MB (${RSS_KB} kB)"
echo "wall time (generator and parser in parallel): $((END - START)) s"

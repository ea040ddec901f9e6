#!/usr/bin/env bash
# Renders the sample user's AGP-style report for people to look at (issue 13): the PDF to docs/agp-report.png with
# pdftoppm (Debian poppler-utils) and the SVG to docs/agp-report-svg.png with headless Chromium (Debian chromium),
# both installed when missing. Starts its own throwaway PostgreSQL and moto (infra/lib.sh), loads one sample
# account (`glucolens sample-data`, 30 days ending yesterday) and writes its 14-day report with `glucolens report`.
#
#   bench/report/look.sh
#   GLUCOLENS_BIN=target/debug/glucolens bench/report/look.sh   # skip the release build
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
# shellcheck source=../../infra/lib.sh
source infra/lib.sh

install_missing() {
    local command=$1 package=$2
    if ! command -v "$command" >/dev/null; then
        log "installing $package (Debian package)"
        as_root apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$package" >/dev/null
    fi
}
install_missing pdftoppm poppler-utils
install_missing chromium chromium

start_throwaway_stack report-look
if [ -n "${GLUCOLENS_BIN:-}" ]; then
    BIN=$GLUCOLENS_BIN
else
    log "building the release CLI (LTO: slow)"
    cargo build --release -q -p glucolens-cli
    BIN=$ROOT/target/release/glucolens
fi
export_local_env "$PG_PORT" "$MOTO_PORT" postgres
export RUST_LOG=${RUST_LOG:-warn}
"$BIN" migrate >/dev/null
log "sample data: 1 account × 30 days (ending yesterday)"
"$BIN" sample-data --users 1 --days 30 >/dev/null
"$BIN" report --user demo@glucolens.local --days 14 --out "$WORK/agp-report.pdf"
"$BIN" report --user demo@glucolens.local --days 14 --out "$WORK/agp-report.svg"

mkdir -p docs
# 110 dpi: an A4 page of 910 × 1286 pixels, sharp enough to read in the README.
pdftoppm -png -r 110 -singlefile "$WORK/agp-report.pdf" docs/agp-report
# The SVG is 595 × 842 pt; at 96 px per inch that is 794 × 1123 px, scaled by 1.15 to match the PDF's picture.
chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1.15 \
    --window-size=794,1123 --screenshot="$ROOT/docs/agp-report-svg.png" "file://$WORK/agp-report.svg" >/dev/null 2>&1
log "wrote docs/agp-report.png (from the PDF) and docs/agp-report-svg.png (from the SVG)"

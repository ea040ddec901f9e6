#!/usr/bin/env bash
# Release size of every Lambda binary at BASE (default: the commit before the crate split, e415750) and at the
# working tree, with the ratio, and which binaries link axum, argon2 or jsonwebtoken. Two full release builds
# (LTO, one codegen unit): about 30-40 min on 2 cores.
#   bash bench/sizes/run.sh [BASE_REV]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
base_rev=${1:-e415750}
work=$(mktemp -d /tmp/glucolens-sizes.XXXXXX)
trap 'rm -rf "$work"' EXIT

packages() { for dir in "$1"/functions/*/; do printf -- '-p %s ' "$(basename "$dir")"; done; }
build() { # build TREE TARGET_DIR
    (cd "$1" && CARGO_TARGET_DIR="$2" cargo build --release --locked $(packages "$1") >&2)
}

git clone -q "$root" "$work/base" && git -C "$work/base" checkout -q "$base_rev"
build "$work/base" "$work/base-target"
build "$root" "$work/head-target"

links() { # links TREE PACKAGE: which of axum, argon2, jsonwebtoken the package's normal dependencies include
    (cd "$1" && cargo tree -p "$2" -e normal --prefix none 2>/dev/null) |
        grep -oE '^(axum|argon2|jsonwebtoken) ' | sort -u | tr -d ' ' | paste -sd, - || true
}

printf '| binary | %s | now | ratio | links (then → now) |\n|---|---|---|---|---|\n' "$base_rev"
for binary in "$work"/head-target/release/*; do
    name=$(basename "$binary")
    [ -x "$binary" ] && [ -f "$binary" ] && [ -f "$work/base-target/release/$name" ] || continue
    case "$name" in *.d | build) continue ;; esac
    package=$name
    case "$name" in job-*) package=scheduled-jobs ;; esac
    before=$(stat -c %s "$work/base-target/release/$name")
    after=$(stat -c %s "$binary")
    awk -v n="$name" -v b="$before" -v a="$after" -v then="$(links "$work/base" "$package")" \
        -v now="$(links "$root" "$package")" \
        'BEGIN { printf "| %s | %.2f MB | %.2f MB | %.2f | %s → %s |\n", n, b / 1e6, a / 1e6, a / b, then, now }'
done

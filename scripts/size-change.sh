#!/usr/bin/env bash
# Prints how much the worker bundle and each page's code changed since BASE, a commit:
#
#   bash scripts/size-change.sh BASE
#
# BASE is built in a temporary git worktree with this tree's tools and cargo target directory
# (only what differs compiles again); both trees' files are measured the same way, gzip -9.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
base=$1
tree=$(mktemp -d)
trap 'git worktree remove --force "$tree"' EXIT
git worktree add --quiet --detach "$tree" "$base"
ln -s "$PWD/node_modules" "$tree/node_modules"
(cd "$tree" && CARGO_TARGET_DIR="$PWD/target" bash scripts/build.sh) >target/size-change.log 2>&1 ||
    { cat target/size-change.log >&2; exit 1; }

gzipped() { # files...: their gzip -9 sizes, summed
    local sum=0 file
    for file in "$@"; do sum=$((sum + $(gzip -9 -c "$file" | wc -c))); done
    echo "$sum"
}
row() { # label, then the files' globs relative to a tree's root
    local label=$1 before after
    shift
    before=$(cd "$tree" && gzipped $*)
    after=$(gzipped $*)
    printf '| %s | %s B | %s B | %+d B |\n' "$label" "$before" "$after" $((after - before))
}
echo "| what (gzip -9) | $base | $(git rev-parse --short HEAD) | change |"
echo "|---|---|---|---|"
row "worker bundle (wasm + JS)" "edge/build/index_bg.wasm edge/build/index.js"
row "PC page's code (wasm + glue)" "dist/pc-*_bg.wasm dist/pc-*[0-9a-f].js"
row "phone pages' code (wasm + glue)" "dist/phone-*_bg.wasm dist/phone-*[0-9a-f].js"

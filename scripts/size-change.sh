#!/usr/bin/env bash
# Prints how much the worker bundle and each page's code changed from BASE to AFTER (commits;
# without AFTER, to this tree as last built):
#
#   bash scripts/size-change.sh BASE [AFTER]
#
# Each commit is built in a temporary git worktree with this tree's tools; every tree's files
# are measured the same way, gzip -9.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
trees=()
trap 'for tree in "${trees[@]}"; do git worktree remove --force "$tree"; done' EXIT
build_in() { # TREE COMMIT: builds COMMIT in a new worktree at TREE
    trees+=("$1")
    git worktree add --quiet --detach "$1" "$2"
    ln -s "$PWD/node_modules" "$1/node_modules"
    (cd "$1" && bash scripts/build.sh) >target/size-change.log 2>&1 ||
        { cat target/size-change.log >&2; exit 1; }
}
base=$1
after=${2:-}
base_tree=$(mktemp -d)
build_in "$base_tree" "$base"
if [ -n "$after" ]; then
    after_tree=$(mktemp -d)
    build_in "$after_tree" "$after"
else
    after=$(git rev-parse --short HEAD)
    after_tree=$PWD
fi

gzipped() { # files...: their gzip -9 sizes, summed
    local sum=0 file
    for file in "$@"; do sum=$((sum + $(gzip -9 -c "$file" | wc -c))); done
    echo "$sum"
}
row() { # label, then the files' globs relative to a tree's root
    local label=$1 before now
    shift
    before=$(cd "$base_tree" && gzipped $*)
    now=$(cd "$after_tree" && gzipped $*)
    printf '| %s | %s B | %s B | %+d B |\n' "$label" "$before" "$now" $((now - before))
}
echo "| what (gzip -9) | $base | $after | change |"
echo "|---|---|---|---|"
row "worker bundle (wasm + JS)" "edge/build/index_bg.wasm edge/build/index.js"
row "PC page's code (wasm + glue)" "dist/pc-*_bg.wasm dist/pc-*[0-9a-f].js"
row "phone pages' code (wasm + glue)" "dist/phone-*_bg.wasm dist/phone-*[0-9a-f].js"

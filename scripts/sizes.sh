#!/usr/bin/env bash
# Prints the page's transfer sizes (dist/, after a build) and the worker bundle's, from
# `wrangler deploy --dry-run`, as Markdown table rows.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
row() { # label file
    printf '| %s | %s | %s | %s |\n' "$1" "$(wc -c <"$2")" "$(gzip -9 -c "$2" | wc -c)" \
        "$(brotli -c "$2" | wc -c)"
}
echo "| file | bytes | gzip -9 | brotli |"
echo "|---|---|---|---|"
page_files=(dist/index.html dist/boot-*.js dist/qrgate-app-*.js dist/style-*.css dist/qrgate-app-*_bg.wasm)
for file in "${page_files[@]}"; do row "page: $(basename "$file")" "$file"; done
printf '| page total (html + js + css + wasm) | %s | %s | %s |\n' \
    "$(cat "${page_files[@]}" | wc -c)" \
    "$(for f in "${page_files[@]}"; do gzip -9 -c "$f"; done | wc -c)" \
    "$(for f in "${page_files[@]}"; do brotli -c "$f"; done | wc -c)"
out=$(mktemp -d)
wrangler deploy --dry-run --outdir "$out" >"$out.log" 2>&1 || { cat "$out.log" >&2; exit 1; }
for file in "$out"/*.wasm "$out"/index.js; do row "worker: $(basename "$file" | sed 's/^[0-9a-f]\{40\}-//')" "$file"; done
grep -E "Total Upload" "$out.log" | sed 's/^/| wrangler: /; s/$/ | | | |/'
rm -rf "$out" "$out.log"

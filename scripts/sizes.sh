#!/usr/bin/env bash
# Prints the worker bundle's sizes from `wrangler deploy --dry-run` (which also fails if the
# configuration would not deploy; scripts/check-migrations.py adds what the dry run does not
# check: every bound Durable Object class created by a migration and exported), as Markdown
# table rows. The pages' sizes are measured as
# Chromium fetches them, by tests/e2e/page-weight.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
row() { # label file
    printf '| %s | %s | %s | %s |\n' "$1" "$(wc -c <"$2")" "$(gzip -9 -c "$2" | wc -c)" \
        "$(brotli -c "$2" | wc -c)"
}
out=$(mktemp -d)
wrangler deploy --dry-run --outdir "$out" >"$out.log" 2>&1 || { cat "$out.log" >&2; exit 1; }
python3 scripts/check-migrations.py wrangler.toml "$out/index.js" >&2
echo "| file | bytes | gzip -9 | brotli |"
echo "|---|---|---|---|"
for file in "$out"/*.wasm "$out"/index.js; do row "worker: $(basename "$file" | sed 's/^[0-9a-f]\{40\}-//')" "$file"; done
grep -E "Total Upload" "$out.log" | sed 's/^/| wrangler: /; s/$/ | | | |/'
rm -rf "$out" "$out.log"

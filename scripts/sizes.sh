#!/usr/bin/env bash
# Prints the two Workers' bundle sizes from `wrangler deploy --dry-run` of each (which also
# fails if a configuration would not deploy; scripts/check-migrations.py adds what the dry run
# does not check: every Durable Object class created by a migration, exported, and bound by the
# front in the objects' Worker), as Markdown table rows: the front first, whose bundle every
# request's isolate starts, then the objects'. The pages' sizes are measured as
# Chromium fetches them, by tests/e2e/page-weight.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
row() { # label file
    printf '| %s | %s | %s | %s |\n' "$1" "$(wc -c <"$2")" "$(gzip -9 -c "$2" | wc -c)" \
        "$(brotli -c "$2" | wc -c)"
}
out=$(mktemp -d)
dry_run() { # CONFIG DIR: the front's dry run builds both bundles; the objects' has no build
    wrangler deploy --dry-run -c "$1" --outdir "$out/$2" >"$out/$2.log" 2>&1 ||
        { cat "$out/$2.log" >&2; exit 1; }
}
dry_run wrangler.toml front
dry_run wrangler.objects.toml objects
python3 scripts/check-migrations.py wrangler.objects.toml "$out/objects/index.js" wrangler.toml >&2
echo "| file | bytes | gzip -9 | brotli |"
echo "|---|---|---|---|"
for worker in front objects; do
    for file in "$out/$worker"/*.wasm "$out/$worker"/index.js; do
        row "$worker: $(basename "$file" | sed 's/^[0-9a-f]\{40\}-//')" "$file"
    done
    grep -E "Total Upload" "$out/$worker.log" | sed "s/^/| $worker, wrangler: /; s/\$/ | | | |/"
done
rm -rf "$out"

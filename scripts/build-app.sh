#!/usr/bin/env bash
# Builds the web app (app/) into dist/ with Trunk: the PC page (app/index.html → dist/index.html)
# and the phone pages (app/phone.html → dist/m/index.html, with the decoder worker), each with
# its own bundle. Every asset lands at the root of dist/ under a hashed name (the worker's under
# a fixed one), so the phone's rewrite of /m/* (public/_redirects) never shadows one. Then each
# page is finished (scripts/finish-page.mjs): its inline boot script moved into a file, so the
# pages run under a CSP without 'unsafe-inline', its JS snippets bundled into its glue, and its
# JS and CSS minified.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
phone_dist=target/dist-phone
# Trunk replaces its dist folder whole: the phone pages are built beside it and moved in.
wasm_env trunk build --release --config Trunk.toml app/phone.html --dist "$phone_dist"
wasm_env trunk build --release --config Trunk.toml app/index.html
node scripts/finish-page.mjs dist index.html
node scripts/finish-page.mjs "$phone_dist" index.html
# The JS snippets are inside the pages' glue now.
rm -rf dist/snippets "$phone_dist/snippets"
mkdir -p dist/m
mv "$phone_dist/index.html" dist/m/index.html
cp -r "$phone_dist"/. dist/

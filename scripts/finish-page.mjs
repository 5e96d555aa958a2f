// Finishes a page Trunk built, for the CSP and the page's byte budget:
//
//   node scripts/finish-page.mjs DIST PAGE   (PAGE: the HTML file within DIST)
//
// 1. Trunk writes the code that starts the WASM as an inline <script type="module">. The
//    Content-Security-Policy allows no inline script, so it moves into a content-hashed file of
//    its own beside the page's assets: DIST/boot-<hash>.js, loaded with its SRI hash.
// 2. Trunk's own minifier cannot parse wasm-bindgen's JS glue, so the page's JS and CSS are
//    minified here with esbuild, and every SRI hash in the page is recomputed to match. The
//    glue's JS snippets (DIST/snippets/, the app's src/dpop.js) are bundled into it, so the page
//    makes no request more for them; scripts/build-app.sh then removes DIST/snippets.
// 3. A page whose style Trunk inlined (`rel="inline"`: the PC page, whose first code the edge
//    draws into its HTML, to be on screen before any other file has arrived) gets that style
//    minified, and its hash allowed by the CSP in DIST/_headers, which allows no other inline
//    style.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildSync, transformSync } from "esbuild";

const [dist, page] = process.argv.slice(2);
if (!dist || !page) {
  console.error("usage: finish-page.mjs DIST PAGE");
  process.exit(2);
}
const pagePath = join(dist, page);
let html = readFileSync(pagePath, "utf8");
const sri = (bytes) => `sha384-${createHash("sha384").update(bytes).digest("base64")}`;

const inline = /<script type="module"[^>]*>([\s\S]*?)<\/script>/;
const match = html.match(inline);
if (!match || match[1].trim() === "") {
  console.error(`no inline module script in ${pagePath}`);
  process.exit(1);
}
const boot = transformSync(match[1], { minify: true, format: "esm", loader: "js" }).code;
const bootName = `boot-${createHash("sha256").update(boot).digest("hex").slice(0, 16)}.js`;
writeFileSync(join(dist, bootName), boot);
html = html.replace(
  inline,
  `<script type="module" src="/${bootName}" integrity="${sri(boot)}" crossorigin="anonymous"></script>`,
);

// The snippets are bundled into the glue below: Trunk's preloads of them would fetch nothing.
html = html.replace(/<link\b[^>]*\bhref="\/snippets\/[^"]*"[^>]*>\n?/g, "");

// Every local JS and CSS file the page links, minified in place; its link's hash follows.
const linked = /<link\b[^>]*\bhref="\/([^"]+\.(js|css))"[^>]*>/g;
for (const [tag, file, kind] of [...html.matchAll(linked)]) {
  const path = join(dist, file);
  const minified = kind === "js"
    ? buildSync({ entryPoints: [path], bundle: true, minify: true, format: "esm", write: false })
      .outputFiles[0].text
    : transformSync(readFileSync(path, "utf8"), { minify: true, loader: "css" }).code;
  writeFileSync(path, minified);
  html = html.replace(tag, tag.replace(/integrity="[^"]*"/, `integrity="${sri(minified)}"`));
}
const inlineStyle = /<style\b[^>]*>([\s\S]*?)<\/style>/g;
const styleHashes = [];
for (const [tag, css] of [...html.matchAll(inlineStyle)]) {
  const minified = transformSync(css, { minify: true, loader: "css" }).code.trim();
  html = html.replace(tag, `<style>${minified}</style>`);
  styleHashes.push(`'sha256-${createHash("sha256").update(minified).digest("base64")}'`);
}
if (styleHashes.length > 0) {
  const headersPath = join(dist, "_headers");
  const headers = existsSync(headersPath) ? readFileSync(headersPath, "utf8") : "";
  if (!headers.includes("style-src 'self';")) {
    console.error(`${headersPath} has no CSP "style-src 'self';" to allow ${pagePath}'s style in`);
    process.exit(1);
  }
  writeFileSync(
    headersPath,
    headers.replace("style-src 'self';", `style-src 'self' ${styleHashes.join(" ")};`),
  );
}
writeFileSync(pagePath, html);
if (/<script(?![^>]*\ssrc=)[^>]*>/.test(html)) {
  console.error(`${pagePath} still holds an inline script`);
  process.exit(1);
}
console.log(
  `${pagePath}: boot script in ${bootName}, JS and CSS minified, ${styleHashes.length} inline style(s) allowed`,
);

// Trunk writes the code that starts the WASM as an inline <script type="module"> in
// index.html. The Content-Security-Policy allows no inline script, so this moves it into a
// content-hashed file of its own: dist/boot-<hash>.js.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dist = process.argv[2] ?? "dist";
const indexPath = join(dist, "index.html");
const html = readFileSync(indexPath, "utf8");
const inline = /<script type="module"[^>]*>([\s\S]*?)<\/script>/;
const match = html.match(inline);
if (!match || match[1].trim() === "") {
  console.error(`no inline module script in ${indexPath}`);
  process.exit(1);
}
const code = match[1].trim() + "\n";
const hash = createHash("sha256").update(code).digest();
const name = `boot-${hash.toString("hex").slice(0, 16)}.js`;
const integrity = `sha384-${createHash("sha384").update(code).digest("base64")}`;
writeFileSync(join(dist, name), code);
const tag = `<script type="module" src="/${name}" integrity="${integrity}" crossorigin="anonymous"></script>`;
writeFileSync(indexPath, html.replace(inline, tag));
if (/<script(?![^>]*\ssrc=)[^>]*>/.test(readFileSync(indexPath, "utf8"))) {
  console.error(`${indexPath} still holds an inline script`);
  process.exit(1);
}
console.log(`moved the boot script to ${name}`);

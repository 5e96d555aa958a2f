// The pages' byte budgets, as a test: sizes are deterministic, unlike timings. A first visit to
// each page in headless Chromium, every file gzipped (tests/e2e/page-weight.mjs), must stay
// within its budget; a failure names the file that grew. And no page but the scanner, once its
// camera is opened, fetches the camera's decoder; the PC page's bundle holds no scanner code.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch } from "./browser.mjs";
import { PAGES, firstVisit, table, total } from "./page-weight.mjs";

const BASE = process.env.QRGATE_URL;
assert.ok(BASE, "run through scripts/test.sh (QRGATE_URL)");

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

for (const [i, page] of PAGES.entries()) {
  test(`${page.name}: a first visit fetches at most ${page.budget} B gzip, and no decoder`, async () => {
    const files = await firstVisit(browser, BASE, page, { address: `10.89.0.${i + 1}` });
    const sum = total(files);
    console.log(table(page, files));
    assert.ok(
      sum <= page.budget,
      `${page.name} (${page.path}) fetched ${sum} B gzip, ${sum - page.budget} B over its budget; ` +
        `its largest file is ${files[0].path} at ${files[0].gzip} B:\n${table(page, files)}`,
    );
    // A link to a file that is not there gets the page back (single-page fallback): wasted bytes.
    const fallbacks = files.filter((f) => !f.path.endsWith("(the page)") && /text\/html/.test(f.type ?? ""));
    assert.deepEqual(fallbacks, [], "every file the page fetches exists");
    const decoder = files.filter((f) => f.path.includes("decoder"));
    assert.deepEqual(decoder, [], "the decoder is fetched only when a camera needs it");
  });
}

test("the PC page's bundle holds no scanner code", async () => {
  const html = await (await fetch(BASE + "/")).text();
  const assets = [...html.matchAll(/(?:href|src)="(\/[^"]+\.(?:js|wasm))"/g)].map((m) => m[1]);
  assert.ok(assets.some((a) => a.endsWith(".wasm")), `the page preloads its wasm: ${assets}`);
  const boot = assets.find((a) => a.startsWith("/boot-"));
  const bootCode = await (await fetch(BASE + boot)).text();
  for (const imported of bootCode.matchAll(/"(\/[^"]+\.(?:js|wasm))"/g)) assets.push(imported[1]);
  for (const asset of new Set(assets)) {
    const body = Buffer.from(await (await fetch(BASE + asset)).arrayBuffer()).toString("latin1");
    for (const mark of ["decoder_loader", "BarcodeDetector", "facingMode", "getUserMedia"]) {
      assert.ok(!body.includes(mark), `${asset} holds "${mark}": scanner code in the PC page`);
    }
  }
});

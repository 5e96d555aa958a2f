// Benchmark, not a test: navigation → visible QR code on the PC page in headless Chromium,
// cold (a new browser context: empty cache and storage) and warm (a reload in the same
// context, once the first visit has kept its key), median of RUNS each.
// Usage: node tests/e2e/page-timing.mjs URL [RUNS]
//
// Timed by the page's own clock, from its navigation's start (performance.timeOrigin) to the
// first frame with the code painted: the page's load, not the test driver's round trips to
// the browser (shown beside it: started in Node before `goto`, ended when Node saw the code).
// The phases between say where the time went, from Resource Timing: the HTML's first bytes
// (sent at once: its head, which names the page's code, and its body with the first code drawn
// by the edge), the page's code (script, wasm, style) received, and the HTML's end, which hands
// the page's code the session behind the drawn code (edge/README.md, "The first code, served
// with the page"). A load whose page came without one and asked for its code itself
// (`POST /api/qr`) is counted below the table.
//
// Beside it, the floor this browser and machine set for a page like it: the first paint of a
// page of one line of text with no script, style or image, sent with the PC page's own security
// headers (Cross-Origin-Opener-Policy alone moves a cold navigation into a new renderer process:
// about 40 ms here), from this process, timed cold and warm in the same rounds. No page shows its
// code before the browser can paint a frame; what the PC page takes beyond the floor is its own.
import { createServer } from "node:http";
import { launch } from "./browser.mjs";

const [url, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 15);
const browser = await launch();
// What the page logs once what is timed is painted.
const SEEN = "qrgate-timing: seen";
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

// Runs in the page before its scripts: notes when the code is first in a painted frame (the
// task after the next animation frame runs once that frame is drawn).
function watchForQr() {
  new MutationObserver((_, observer) => {
    if (document.querySelector(".qr-image svg")) {
      observer.disconnect();
      requestAnimationFrame(() => setTimeout(() => {
        window.qrVisibleAt = performance.now();
        console.debug(SEEN);
      }));
    }
  }).observe(document, { childList: true, subtree: true });
}

// Runs in the script-free page: tells of its first contentful paint the same way.
function watchForFirstPaint() {
  new PerformanceObserver((entries, observer) => {
    if (entries.getEntriesByName("first-contentful-paint").length > 0) {
      observer.disconnect();
      console.debug(SEEN);
    }
  }).observe({ type: "paint", buffered: true });
}

// `watch` as an init script, with the marker it logs.
const signalling = (watch) => `{ const SEEN = "${SEEN}"; (${watch})(); }`;

function phases() {
  const [navigation] = performance.getEntriesByType("navigation");
  const resources = performance.getEntriesByType("resource");
  const code = resources.filter((r) => /\.(js|wasm|css)$/.test(new URL(r.name).pathname));
  return {
    head: navigation.responseStart,
    code: Math.max(...code.map((r) => r.responseEnd)),
    html: navigation.responseEnd,
    asked: resources.some((r) => new URL(r.name).pathname === "/api/qr"),
    visible: window.qrVisibleAt,
  };
}

// Navigates and waits until the page says (by `console.debug(SEEN)`) that what is timed has
// been painted. Nothing is evaluated in the page before then: the first `evaluate` or
// `waitForFunction` after a navigation installs Playwright's own script in the page, whose
// compiling holds the page's main thread for 10–15 ms here, in the middle of the load timed.
async function loadUntilSeen(page, navigate) {
  const seen = page.waitForEvent("console", { predicate: (message) => message.text() === SEEN });
  await navigate();
  await seen;
}

async function timeQr(page, navigate) {
  const started = performance.now();
  await loadUntilSeen(page, navigate);
  const driver = performance.now() - started;
  return { ...(await page.evaluate(phases)), driver };
}

const floorPage = '<!doctype html><html lang="en"><meta charset="utf-8"><title>floor</title><p>qrgate';
const securityHeaders = [
  "content-security-policy", "cross-origin-opener-policy", "permissions-policy",
  "referrer-policy", "x-content-type-options", "x-frame-options",
];
const pageHeaders = (await fetch(url)).headers;
const floorHeaders = Object.fromEntries(
  securityHeaders.filter((name) => pageHeaders.has(name)).map((name) => [name, pageHeaders.get(name)]),
);
const floorServer = createServer((_, response) => {
  response.writeHead(200, {
    ...floorHeaders,
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-cache",
  });
  response.end(floorPage);
});
await new Promise((listening) => floorServer.listen(0, "127.0.0.1", listening));
const floorUrl = `http://127.0.0.1:${floorServer.address().port}/`;

// The first frame of the script-free page: the browser's own paint timing.
async function timeFirstPaint(page, navigate) {
  await loadUntilSeen(page, navigate);
  return page.evaluate(() => ({
    visible: performance.getEntriesByName("first-contentful-paint")[0].startTime,
    head: performance.getEntriesByType("navigation")[0].responseStart,
  }));
}

// One load first, not timed: the first request of a new wrangler dev compiles the worker.
{
  const context = await browser.newContext({ extraHTTPHeaders: { "CF-Connecting-IP": "10.76.0.1" } });
  await context.addInitScript(signalling(watchForQr));
  const page = await context.newPage();
  await loadUntilSeen(page, () => page.goto(url, { waitUntil: "commit" }));
  await context.close();
}

const cold = [];
const warm = [];
const floorCold = [];
const floorWarm = [];
for (let i = 0; i < runs; i++) {
  // Each run is another visitor: QR creation is limited to 20 per 10 s per client address,
  // which a fast machine's 2 × RUNS page loads would reach from one address.
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    extraHTTPHeaders: { "CF-Connecting-IP": `10.77.${Math.floor(i / 250)}.${(i % 250) + 1}` },
  });
  await context.addInitScript(signalling(watchForQr));
  const page = await context.newPage();
  cold.push(await timeQr(page, () => page.goto(url, { waitUntil: "commit" })));
  // A return visit: the first one's key is kept a moment after its code is shown (app/src/dpop.js).
  await page.waitForFunction(() => localStorage.getItem("qrgate.keys_kept") !== null);
  warm.push(await timeQr(page, () => page.reload({ waitUntil: "commit" })));
  await context.close();

  const floorContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await floorContext.addInitScript(signalling(watchForFirstPaint));
  const floor = await floorContext.newPage();
  floorCold.push(await timeFirstPaint(floor, () => floor.goto(floorUrl, { waitUntil: "commit" })));
  floorWarm.push(await timeFirstPaint(floor, () => floor.reload({ waitUntil: "commit" })));
  await floorContext.close();
}
await browser.close();
floorServer.close();

const ms = (runs, phase) => `${median(runs.map((run) => run[phase])).toFixed(0)} ms`;
for (const [what, measured] of [["cold (new context)", cold], ["warm (reload)", warm]]) {
  const best = Math.min(...measured.map((run) => run.visible)).toFixed(0);
  console.log(
    `| ${what} | ${runs} | **${ms(measured, "visible")}** | ${best} ms | ${ms(measured, "head")} | ` +
      `${ms(measured, "code")} | ${ms(measured, "html")} | ${ms(measured, "driver")} |`,
  );
}
for (const [what, measured] of [["cold", floorCold], ["warm", floorWarm]]) {
  const best = Math.min(...measured.map((run) => run.visible)).toFixed(0);
  console.log(
    `| floor, ${what}: first paint of a script-free page | ${runs} | **${ms(measured, "visible")}** | ` +
      `${best} ms | ${ms(measured, "head")} | – | – | – |`,
  );
}
const asked = [...cold, ...warm].filter((run) => run.asked).length;
if (asked > 0) {
  console.log(`\n${asked} of ${2 * runs} loads came without a first code and asked for theirs.`);
}

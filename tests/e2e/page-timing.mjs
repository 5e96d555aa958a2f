// Benchmark, not a test: navigation → visible QR code on the PC page in headless Chromium,
// cold (a new browser context: empty cache and storage) and warm (a reload in the same
// context), median of RUNS each. Usage: node tests/e2e/page-timing.mjs URL [RUNS]
import { launch } from "./browser.mjs";

const [url, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 15);
const browser = await launch();
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
async function timeQr(page, navigate) {
  const started = performance.now();
  await navigate();
  await page.locator(".qr-image svg").waitFor();
  return performance.now() - started;
}
const cold = [];
const warm = [];
for (let i = 0; i < runs; i++) {
  // Each run is another visitor: QR creation is limited to 20 per 10 s per client address,
  // which a fast machine's 2 × RUNS page loads would reach from one address.
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    extraHTTPHeaders: { "CF-Connecting-IP": `10.77.${Math.floor(i / 250)}.${(i % 250) + 1}` },
  });
  const page = await context.newPage();
  cold.push(await timeQr(page, () => page.goto(url)));
  warm.push(await timeQr(page, () => page.reload()));
  await context.close();
}
await browser.close();
console.log(`| navigation → visible QR, cold (new context) | ${runs} | ${median(cold).toFixed(0)} ms | ${Math.min(...cold).toFixed(0)} ms |`);
console.log(`| navigation → visible QR, warm (reload) | ${runs} | ${median(warm).toFixed(0)} ms | ${Math.min(...warm).toFixed(0)} ms |`);

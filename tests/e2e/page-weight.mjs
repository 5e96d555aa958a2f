// What a first visit to each page costs: every file Chromium fetches, each body gzipped (-9),
// against the page's byte budget. Used by tests/e2e/page-weight.test.mjs (which fails when a
// budget is exceeded) and by scripts/bench.sh (which prints the figures):
//
//   node tests/e2e/page-weight.mjs BASE_URL     (prints Markdown tables)
import { gzipSync } from "node:zlib";
import { launch, PAGE_DRAWN_CODE } from "./browser.mjs";

/** Bytes a first visit may fetch, gzipped: the PC page, and each phone page before its camera. */
export const BUDGETS = { pc: 100_000, phone: 200_000 };

/** The pages, each with what shows it is ready and its budget. */
export const PAGES = [
  { name: "PC sign-in page", path: "/", ready: PAGE_DRAWN_CODE, budget: BUDGETS.pc },
  { name: "phone: sign in", path: "/m/login", ready: "form.password", budget: BUDGETS.phone },
  { name: "phone: scan, camera not opened", path: "/m/scan", ready: ".scanner button", budget: BUDGETS.phone },
  { name: "PC: password page", path: "/password", ready: "form.password", budget: BUDGETS.phone },
];

/**
 * A first visit to `page` at `base` in a fresh context (empty cache and storage): every file
 * fetched, API calls and the live channel aside, as { path, bytes, gzip, type } (type: the
 * answer's Content-Type), largest first. An
 * icon the page links but headless Chromium did not fetch is fetched and counted too: a
 * browser with a tab strip would.
 */
export async function firstVisit(browser, base, page, { address } = {}) {
  const context = await browser.newContext(
    address ? { extraHTTPHeaders: { "CF-Connecting-IP": address } } : {},
  );
  const tab = await context.newPage();
  const bodies = new Map();
  tab.on("response", async (response) => {
    const path = new URL(response.url()).pathname;
    if (path.startsWith("/api/") || response.status() >= 300) return;
    try {
      bodies.set(path, { body: await response.body(), type: response.headers()["content-type"] });
    } catch {
      // A response without a body (an aborted fetch) weighs nothing.
    }
  });
  await tab.goto(base + page.path);
  await tab.locator(page.ready).first().waitFor();
  await tab.waitForLoadState("networkidle");
  for (const href of await tab.locator('link[rel="icon"]').evaluateAll((links) => links.map((l) => l.getAttribute("href")))) {
    const path = new URL(href, base).pathname;
    if (!bodies.has(path)) {
      const icon = await fetch(new URL(path, base));
      bodies.set(path, { body: Buffer.from(await icon.arrayBuffer()), type: icon.headers.get("content-type") });
    }
  }
  await context.close();
  return [...bodies].map(([path, { body, type }]) => ({
    path: path === page.path ? `${path} (the page)` : path,
    bytes: body.length,
    gzip: gzipSync(body, { level: 9 }).length,
    type,
  })).sort((a, b) => b.gzip - a.gzip);
}

export const total = (files) => files.reduce((sum, file) => sum + file.gzip, 0);

/** A Markdown table of one visit, with its sum against the budget. */
export function table(page, files) {
  const rows = files.map((f) => `| ${f.path} | ${f.bytes} | ${f.gzip} |`);
  const sum = total(files);
  const verdict = sum <= page.budget ? "within" : "OVER";
  return [
    `**${page.name}** (\`${page.path}\`): ${sum} B gzip of ${page.budget} (${verdict} budget)`,
    "",
    "| file | bytes | gzip -9 |",
    "|---|---|---|",
    ...rows,
    `| sum | ${files.reduce((s, f) => s + f.bytes, 0)} | ${sum} |`,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [base] = process.argv.slice(2);
  const browser = await launch();
  for (const [i, page] of PAGES.entries()) {
    // Each visit its own client address: QR creation is limited per address.
    console.log(table(page, await firstVisit(browser, base, page, { address: `10.88.0.${i + 1}` })));
    console.log();
  }
  await browser.close();
}

// End-to-end tests in real headless Chromium (Debian's, driven by playwright-core) against a
// real `wrangler dev`: a PC and a phone, each a browser context with its own storage.
// scripts/test.sh sets QRGATE_URL (normal lifetimes) and QRGATE_SHORT_URL (3 s QR lifetime).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, PAGE_DRAWN_CODE } from "./browser.mjs";

const BASE = process.env.QRGATE_URL;
const SHORT = process.env.QRGATE_SHORT_URL;
assert.ok(BASE && SHORT, "run through scripts/test.sh (QRGATE_URL and QRGATE_SHORT_URL)");
// Screenshots for the README go to docs/screenshots when QRGATE_SCREENSHOTS=1.
const shots = process.env.QRGATE_SCREENSHOTS === "1" ? "docs/screenshots" : mkdtempSync(join(tmpdir(), "qrgate-e2e-"));
mkdirSync(shots, { recursive: true });

const IPHONE_UA =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const PASSWORD = "correct horse battery";

let browser;
let phone; // one signed-in phone for every test
let displayName;
let username;

function newPc() {
  return browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
}

function status(page) {
  return page.locator("body > main [role=status]");
}

/** Opens the PC page and returns it with the time from navigation to a visible QR code. */
async function openPc(context, base = BASE) {
  const page = await context.newPage();
  const started = performance.now();
  await page.goto(base + "/");
  await page.locator(PAGE_DRAWN_CODE).waitFor();
  return { page, qrVisibleMs: performance.now() - started };
}

/** Screenshots the PC page and decodes the QR code in it with zbarimg. */
async function decodeQr(page, name) {
  const file = join(shots, name);
  await page.screenshot({ path: file });
  const decoded = execFileSync("zbarimg", ["--raw", "-q", file], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"], // zbarimg's complaints about a missing D-Bus
  }).trim();
  const shown = (await page.locator(".qr-link").textContent()).trim();
  assert.equal(decoded, shown, "the QR code holds the link shown under it");
  assert.match(decoded, new RegExp(`^${BASE.replace(/\./g, "\\.")}/m/qr/[A-Za-z0-9_-]{16,64}$`));
  return decoded;
}

before(async () => {
  browser = await launch();
  phone = await browser.newContext({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    userAgent: IPHONE_UA,
    locale: "en-US",
  });
  // The phone creates its account and signs in through the phone pages.
  const page = await phone.newPage();
  username = `e2e-${Date.now().toString(36)}`;
  displayName = `Ann ${username}`;
  await page.goto(BASE + "/m/login");
  await page.getByRole("button", { name: "Create a new account" }).click();
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Display name (optional)").fill(displayName);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await page.waitForURL(BASE + "/m/");
  await page.locator(".account .display-name").filter({ hasText: displayName }).waitFor();
  await page.close();
});

after(async () => {
  await browser?.close();
});

/** Scans (opens) the decoded link on the phone and checks what it shows of the PC. */
async function openOnPhone(url) {
  const page = await phone.newPage();
  await page.goto(url);
  await page.locator(".pc-device").waitFor();
  assert.match(await page.locator(".pc-device").textContent(), /Chrom.* on Linux \(pc\)/);
  assert.match(await page.locator(".pc-place").textContent(), /\S/);
  return page;
}

/** A new PC showing a code, and the phone's page that scanned it (decoded from `shot`). */
async function pcScannedByPhone(shot) {
  const pc = await newPc();
  const { page: pcPage } = await openPc(pc);
  const phonePage = await openOnPhone(await decodeQr(pcPage, shot));
  return { pc, pcPage, phonePage };
}

test("scan, confirm, and the PC shows the phone's account", async () => {
  const pc = await newPc();
  const { page: pcPage, qrVisibleMs } = await openPc(pc);
  console.log(`navigation → visible QR: ${qrVisibleMs.toFixed(0)} ms`);
  const url = await decodeQr(pcPage, "pc-qr.png");

  const phonePage = await openOnPhone(url);
  // The PC learns of the scan, and nothing about who scanned.
  await status(pcPage).filter({ hasText: "Scanned. Confirm on your phone." }).waitFor();
  assert.ok(!(await pcPage.content()).includes(displayName));
  await phonePage.screenshot({ path: join(shots, "phone-confirm.png") });

  const confirmed = performance.now();
  await phonePage.getByRole("button", { name: "Confirm" }).click();
  await pcPage.locator(".display-name").filter({ hasText: displayName }).waitFor();
  console.log(`phone confirm → PC shows the account: ${(performance.now() - confirmed).toFixed(0)} ms`);
  await status(phonePage).filter({ hasText: "Done." }).waitFor();
  assert.match(await pcPage.locator(".signed-in").textContent(), /signed in with a QR code/);
  await pcPage.screenshot({ path: join(shots, "pc-signed-in.png") });
  await phonePage.screenshot({ path: join(shots, "phone-done.png") });

  // A reload keeps the PC signed in, and the edge, told so by the page's cookie, makes and
  // draws no code for it.
  const reloaded = await pcPage.reload();
  assert.doesNotMatch(await reloaded.text(), /qrgate-first-(code|view)/);
  await pcPage.locator(".display-name").filter({ hasText: displayName }).waitFor();

  // The phone signs the PC out from its device list: the PC goes back to the QR code.
  const devices = await phone.newPage();
  await devices.goto(BASE + "/m/devices");
  const pcEntry = devices.locator(".device").filter({ hasText: "(pc)" });
  await pcEntry.getByRole("button", { name: "Sign out this device" }).click();
  await pcEntry.waitFor({ state: "detached" });
  await devices.screenshot({ path: join(shots, "phone-devices.png") });
  await pcPage.locator(PAGE_DRAWN_CODE).waitFor({ timeout: 15_000 });
  // Signed out, it is sent a code with the page again.
  assert.match(await (await pcPage.reload()).text(), /qrgate-first-code/);
  await pc.close();
});

/** GET polls of the QR session (not the live channel) that `page` makes, as they happen. */
function countPolls(page) {
  const polls = [];
  page.on("request", (r) => {
    if (r.method() === "GET" && /\/api\/qr\/[A-Za-z0-9_-]+$/.test(new URL(r.url()).pathname)) {
      polls.push(performance.now());
    }
  });
  return polls;
}

/** Stands in for the live channel's network: every socket the page opens is closed at once. */
async function blockLiveChannel(page) {
  await page.routeWebSocket(/\/api\/qr\/[^/]+\/live$/, (ws) => ws.close({ code: 1011 }));
}

/** The first code the edge serves in the PC page (edge/README.md, "The first code, served with
 * the page"), as the page reads it. */
const FIRST_CODE = /<script type="application\/json" id="qrgate-first-code">(.*?)<\/script>/s;

/**
 * Changes the first code of every PC page `page` loads, once its HTML is parsed and before its
 * code runs: `change` replaces fields of it, or `null` removes it, as the edge serves the page
 * when it could not make one (the address over its creation limit), so the page asks for its
 * code itself.
 */
async function changeFirstCode(page, change) {
  await page.addInitScript((change) => {
    // "interactive": the document is parsed, and its deferred scripts, the page's code among
    // them, have not run yet.
    document.addEventListener("readystatechange", () => {
      const element = document.getElementById("qrgate-first-code");
      if (document.readyState !== "interactive" || !element) return;
      // Without its code, the page comes without the edge's drawing of it too.
      if (change === null) [element, document.getElementById("qrgate-first-view")].forEach((e) => e?.remove());
      else element.textContent = JSON.stringify({ ...JSON.parse(element.textContent), ...change });
    });
  }, change);
}

/** Each code of `page` answers `interval: 30`, the first one served with the page and every
 * new one: a polling page does not look for 30 s. */
async function slowPolling(page) {
  await changeFirstCode(page, { interval: 30 });
  await page.route("**/api/qr", async (route) => {
    const response = await route.fetch();
    route.fulfill({ response, json: { ...(await response.json()), interval: 30 } });
  });
}

/** `page` gets the PC page without a first code: it asks for its code itself. */
async function withoutFirstCode(page) {
  await changeFirstCode(page, null);
}

/** The edge's refusals that ask to be tried again, by status. */
const RETRY_LATER = {
  429: { error: "rate_limited", message: "Too many attempts." },
  503: { error: "unavailable", message: "Try again shortly." },
};

/**
 * Answers the first request of `page` to `url` that `when` picks with the edge's `status`
 * (429 or 503) and `Retry-After: 1`; every other request goes through. With `delivered`, the
 * refused request still reaches the edge, and only its answer is lost on the way back. Returns
 * the count of those refused.
 */
async function refuseOnce(page, url, { status = 503, when = () => true, delivered = false } = {}) {
  const refused = { count: 0 };
  await page.route(url, async (route) => {
    if (refused.count > 0 || !when(route.request())) return route.continue();
    refused.count += 1;
    if (delivered) await route.fetch();
    return route.fulfill({
      status,
      headers: { "Retry-After": "1" },
      contentType: "application/json",
      body: JSON.stringify(RETRY_LATER[status]),
    });
  });
  return refused;
}

test("the first code comes with the page, is claimed by its first poll, and by no other device", async () => {
  const pc = await newPc();
  const page = await pc.newPage();
  const asked = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname.startsWith("/api/")) asked.push(`${r.method()} ${new URL(r.url()).pathname}`);
  });
  const served = await page.goto(BASE + "/");
  const [, json] = (await served.text()).match(FIRST_CODE);
  const firstCode = JSON.parse(json);
  assert.equal(served.headers()["cache-control"], "no-store", "a page holding a poll secret is not kept");
  await page.locator(PAGE_DRAWN_CODE).waitFor();
  assert.equal(await decodeQr(page, "pc-qr-first-code.png"), firstCode.qr_url);
  await page.waitForFunction(() => !document.getElementById("qrgate-first-code"));
  await status(page).filter({ hasText: "Waiting for your phone." }).waitFor();
  assert.ok(!asked.includes("POST /api/qr"), "the page asked for no code of its own");
  assert.equal(asked[0], `GET /api/qr/${firstCode.qr_id}`, "its first request claims the code");
  // Whoever else learns the poll secret now is another device, refused.
  const taken = await fetch(`${BASE}/api/qr/${firstCode.qr_id}`, {
    headers: {
      Authorization: `Bearer ${firstCode.poll_secret}`,
      "X-Device-Id": randomUUID(),
      "X-Device-Type": "pc",
    },
  });
  assert.equal(taken.status, 401);
  await pc.close();
});

/** The PC page's header and main as the browser holds them, without Leptos's empty comment
 * markers and the `hidden` of the buttons the edge draws (they do nothing before the page's
 * code runs), with the countdown's seconds, which tick, left out, and the code's picture by its
 * hash (so that a difference prints short). */
const comparable = (html) =>
  html
    .replaceAll("<!---->", "")
    .replaceAll(' hidden=""', "")
    .replace(/<strong>\d+<\/strong>/, "<strong></strong>")
    .replace(/<svg[\s\S]*?<\/svg>/, (svg) => `<svg sha256="${createHash("sha256").update(svg).digest("hex")}">`);

for (const [locale, title] of [["en-US", "Sign in with your phone"], ["zh-CN", "用手机登录"]]) {
  test(`the edge draws the first code as the page draws it, in ${locale}, and it scans before any script runs`, async () => {
    // Without script: what the edge drew is all there is, and it must scan.
    const noScript = await browser.newContext({ javaScriptEnabled: false, locale, viewport: { width: 1280, height: 900 } });
    const still = await noScript.newPage();
    const served = await still.goto(BASE + "/");
    const [, json] = (await served.text()).match(FIRST_CODE);
    await still.locator("#qrgate-first-view h1").filter({ hasText: title }).waitFor();
    assert.equal(await still.evaluate(() => document.documentElement.lang), locale === "en-US" ? "en" : "zh-CN");
    assert.equal(await decodeQr(still, `pc-qr-edge-${locale}.png`), JSON.parse(json).qr_url);
    await noScript.close();

    // With it: the page's code draws the same markup in the same task as it removes the edge's.
    const pc = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
    const page = await pc.newPage();
    // Where the code and the header's links are, when the edge's view is parsed and once the
    // page has drawn its own: the same, the buttons appearing included.
    await page.addInitScript(() => {
      window.places = () =>
        ["header a[href='/m/scan']", ".qr-image svg", ".countdown"].map((selector) => {
          const box = document.querySelector(selector).getBoundingClientRect();
          return `${selector}: ${box.x},${box.y} ${box.width}x${box.height}`;
        });
      document.addEventListener("readystatechange", () => {
        const view = document.getElementById("qrgate-first-view");
        if (document.readyState === "interactive" && view) {
          window.drawnByEdge = view.innerHTML;
          window.edgePlaces = window.places();
        }
      });
    });
    await page.goto(BASE + "/");
    await page.locator(PAGE_DRAWN_CODE).waitFor();
    const [drawnByEdge, drawnByPage, edgePlaces, pagePlaces] = await page.evaluate(() => [
      window.drawnByEdge,
      document.querySelector("body > header").outerHTML + document.querySelector("body > main").outerHTML,
      window.edgePlaces,
      window.places(),
    ]);
    assert.ok(drawnByEdge, "the edge drew the page's first code");
    assert.equal(comparable(drawnByPage), comparable(drawnByEdge));
    assert.equal((drawnByEdge.match(/<button [^>]*hidden=""/g) ?? []).length, 3, "the drawn buttons wait hidden");
    assert.deepEqual(pagePlaces, edgePlaces, "nothing moved when the page drew itself");
    assert.equal(await page.locator("#qrgate-first-view").count(), 0);
    await pc.close();
  });
}

test("a phone set to Chinese gets its pages in Chinese, the page's own texts too", async () => {
  const chinese = await browser.newContext({ locale: "zh-CN", isMobile: true, userAgent: IPHONE_UA });
  const page = await chinese.newPage();
  await page.goto(BASE + "/m/login");
  await page.locator("h1").filter({ hasText: "在此手机上登录" }).waitFor();
  await page.getByRole("button", { name: "登录", exact: true }).waitFor();
  await chinese.close();
});

test("with polling slowed to 30 s, the push alone signs the PC in", async () => {
  const pc = await newPc();
  const page = await pc.newPage();
  await slowPolling(page);
  const polls = countPolls(page);
  const sockets = [];
  page.on("websocket", (ws) => sockets.push(ws));
  await page.goto(BASE + "/");
  await page.locator(PAGE_DRAWN_CODE).waitFor();
  const url = await decodeQr(page, "pc-qr-push.png");

  const phonePage = await openOnPhone(url);
  await status(page).filter({ hasText: "Scanned. Confirm on your phone." }).waitFor({ timeout: 5_000 });
  const confirmed = performance.now();
  await phonePage.getByRole("button", { name: "Confirm" }).click();
  await page.locator(".display-name").filter({ hasText: displayName }).waitFor({ timeout: 10_000 });
  console.log(`push only: phone confirm → PC shows the account: ${(performance.now() - confirmed).toFixed(0)} ms`);
  // The code's channel; the account's opens once signed in.
  const codeChannels = sockets.filter((ws) => ws.url().includes("/api/qr/"));
  assert.equal(codeChannels.length, 1, "one live channel");
  assert.ok(!codeChannels[0].url().includes("poll_secret"), "the secret is not in the URL");
  assert.equal(polls.length, 2, "no poll but the one that claimed the first code, and the pick-up");
  assert.ok(polls[0] < confirmed && polls[1] >= confirmed, "the pick-up after the confirmation");
  await pc.close();
});

test("with the live channel blocked, polling alone signs the PC in", async () => {
  const pc = await newPc();
  const page = await pc.newPage();
  await blockLiveChannel(page);
  const polls = countPolls(page);
  await page.goto(BASE + "/");
  await page.locator(PAGE_DRAWN_CODE).waitFor();
  const url = await decodeQr(page, "pc-qr-poll.png");
  const phonePage = await openOnPhone(url);
  await status(page).filter({ hasText: "Scanned. Confirm on your phone." }).waitFor();
  await phonePage.getByRole("button", { name: "Confirm" }).click();
  await page.locator(".display-name").filter({ hasText: displayName }).waitFor();
  assert.ok(polls.length >= 2, `the page polled (${polls.length} polls)`);
  await pc.close();
});

test("a pick-up poll answered 503 is tried again after its Retry-After: no new scan", async () => {
  const pc = await newPc();
  const page = await pc.newPage();
  let confirming = false;
  const refused = await refuseOnce(page, /\/api\/qr\/[A-Za-z0-9_-]+$/, {
    when: (request) => confirming && request.method() === "GET",
  });
  const polls = countPolls(page);
  await page.goto(BASE + "/");
  await page.locator(PAGE_DRAWN_CODE).waitFor();
  const phonePage = await openOnPhone(await decodeQr(page, "pc-qr-503.png"));
  await status(page).filter({ hasText: "Scanned. Confirm on your phone." }).waitFor();
  confirming = true;
  await phonePage.getByRole("button", { name: "Confirm" }).click();
  await page.locator(".display-name").filter({ hasText: displayName }).waitFor({ timeout: 10_000 });
  assert.equal(refused.count, 1, "the first pick-up poll was refused");
  assert.ok(polls.length >= 2, `and another one picked the token up (${polls.length} polls)`);
  await pc.close();
});

test("a live channel that goes silent is given up within a ping and a wait, and polls stand in", async () => {
  const pc = await newPc();
  const page = await pc.newPage();
  // The first socket carries the first status, then nothing either way, and never closes: a
  // connection that died without a word. Later sockets are blocked, so only polls can tell.
  let sockets = 0;
  await page.routeWebSocket(/\/api\/qr\/[^/]+\/live$/, (ws) => {
    sockets += 1;
    if (sockets > 1) return ws.close({ code: 1011 });
    const server = ws.connectToServer();
    let silent = false;
    ws.onMessage((message) => !silent && server.send(message));
    server.onMessage((message) => {
      if (silent) return;
      ws.send(message);
      silent = true;
    });
    // Nor does the edge's close after `confirmed` reach the page.
    server.onClose(() => {});
  });
  const polls = countPolls(page);
  await page.goto(BASE + "/");
  await page.locator(PAGE_DRAWN_CODE).waitFor();
  const phonePage = await openOnPhone(await decodeQr(page, "pc-qr-silent.png"));
  await phonePage.getByRole("button", { name: "Confirm" }).click();
  // A ping every 20 s, 10 s for its answer, then polls every second.
  await page.locator(".display-name").filter({ hasText: displayName }).waitFor({ timeout: 40_000 });
  // A page that trusted the silent socket would never poll: the status it last heard is
  // `pending`. It polled once it gave the socket up, and that poll picked its token up.
  assert.ok(polls.length >= 1, "polls stood in");
  await pc.close();
});

test("a confirm that does not get through keeps the details and buttons: no new scan", async () => {
  const { pc, pcPage, phonePage } = await pcScannedByPhone("pc-qr-unsent.png");
  const refused = await refuseOnce(phonePage, /\/api\/qr\/[A-Za-z0-9_-]+\/confirm$/);
  await phonePage.getByRole("button", { name: "Confirm" }).click();
  await status(phonePage).filter({ hasText: "Could not reach qrgate." }).waitFor();
  assert.equal(refused.count, 1);
  await phonePage.getByRole("button", { name: "Confirm" }).click();
  await status(phonePage).filter({ hasText: "Done." }).waitFor();
  await pcPage.locator(".display-name").filter({ hasText: displayName }).waitFor();
  await pc.close();
});

test("a confirm whose answer is lost, tried again, is not blamed on another phone", async () => {
  const { pc, pcPage, phonePage } = await pcScannedByPhone("pc-qr-lost-answer.png");
  const refused = await refuseOnce(phonePage, /\/api\/qr\/[A-Za-z0-9_-]+\/confirm$/, {
    delivered: true,
  });
  await phonePage.getByRole("button", { name: "Confirm" }).click();
  await status(phonePage).filter({ hasText: "Could not reach qrgate." }).waitFor();
  assert.equal(refused.count, 1);
  // The first confirm reached the edge: the PC is signed in, and the second one gets 409.
  await pcPage.locator(".display-name").filter({ hasText: displayName }).waitFor();
  await phonePage.getByRole("button", { name: "Confirm" }).click();
  await status(phonePage).filter({ hasText: "perhaps by your earlier tap" }).waitFor();
  assert.equal(await status(phonePage).filter({ hasText: "another phone" }).count(), 0);
  await pc.close();
});

test("a code's creation refused with 429 is asked again after its Retry-After", async () => {
  const pc = await newPc();
  const page = await pc.newPage();
  await withoutFirstCode(page);
  const refused = await refuseOnce(page, /\/api\/qr$/, { status: 429 });
  await page.goto(BASE + "/");
  await page.locator(PAGE_DRAWN_CODE).waitFor({ timeout: 10_000 });
  assert.equal(refused.count, 1);
  await status(page).filter({ hasText: "Waiting for your phone." }).waitFor();
  await pc.close();
});

/**
 * A new phone on the sign-in page asks to create the account `name` with `password`, with one
 * request refused as `refuse(page)` sets up (its count returned as `refused`).
 */
async function signUpOnNewPhone(name, password, refuse) {
  const freshPhone = await browser.newContext({
    viewport: { width: 390, height: 844 }, isMobile: true, userAgent: IPHONE_UA, locale: "en-US",
  });
  const page = await freshPhone.newPage();
  const refused = await refuse(page);
  await page.goto(BASE + "/m/login");
  await page.getByRole("button", { name: "Create a new account" }).click();
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  return { freshPhone, page, refused };
}

test("an account whose sign-in fails right after its creation is signed in, not made again", async () => {
  const name = `e2e-retry-${Date.now().toString(36)}`;
  const { freshPhone, page, refused } = await signUpOnNewPhone(name, PASSWORD, (page) =>
    refuseOnce(page, /\/api\/sessions$/),
  );
  await status(page).filter({ hasText: "Your account was created, but signing in did not work." }).waitFor();
  assert.equal(refused.count, 1);
  // The account exists now: the form signs in with what was typed.
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL(BASE + "/m/");
  await page.locator(".account").filter({ hasText: name }).waitFor();
  await freshPhone.close();
});

/** `signUpOnNewPhone` with the creation's answer refused (`503`), after it reached the edge or not. */
async function signUpAnswerLost(name, password, delivered) {
  const signingUp = await signUpOnNewPhone(name, password, (page) =>
    refuseOnce(page, /\/api\/accounts$/, { delivered }),
  );
  await status(signingUp.page).filter({ hasText: "Could not reach qrgate." }).waitFor();
  assert.equal(signingUp.refused.count, 1);
  return signingUp;
}

test("an account made by a creation whose answer was lost is signed in when asked again", async () => {
  const name = `e2e-lost-${Date.now().toString(36)}`;
  const { freshPhone, page } = await signUpAnswerLost(name, PASSWORD, true);
  // Asked again, the name is taken (by the first request); the password typed signs in.
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await page.waitForURL(BASE + "/m/");
  await page.locator(".account").filter({ hasText: name }).waitFor();
  await freshPhone.close();
});

test("a name taken by someone else stays taken after a creation with no answer", async () => {
  const { freshPhone, page } = await signUpAnswerLost(username, "not the owner's password", false);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await status(page).filter({ hasText: "This username is taken." }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/m/login");
  await freshPhone.close();
});

test("the PC's sign-in heads the phone's history, and can be signed out from there", async () => {
  const { pc, pcPage, phonePage } = await pcScannedByPhone("pc-qr-history.png");
  await phonePage.getByRole("button", { name: "Confirm" }).click();
  await pcPage.locator(".display-name").filter({ hasText: displayName }).waitFor();

  const devices = await phone.newPage();
  await devices.goto(BASE + "/m/devices");
  await devices.getByRole("heading", { name: "Recent sign-ins" }).waitFor();
  const newest = devices.locator(".sign-ins .sign-in").first();
  await newest.waitFor();
  assert.match(await newest.textContent(), /Chrom.* on Linux \(pc\) · signed in with a QR code/);
  await devices.screenshot({ path: join(shots, "phone-history.png"), fullPage: true });
  // A second page's list, shown before the sign-out, goes out of date.
  const stale = await phone.newPage();
  await stale.goto(BASE + "/m/devices");
  const staleNewest = stale.locator(".sign-ins .sign-in").first();
  await staleNewest.getByRole("button", { name: "Sign out this device" }).waitFor();
  // Each such button is named, for a screen reader, by the device it signs out.
  await newest.getByRole("button", { name: /^Sign out this device: Chrom.* on Linux$/ }).click();
  // The PC is told on its account's channel and shows a code again.
  await pcPage.locator(PAGE_DRAWN_CODE).waitFor({ timeout: 15_000 });
  // Signing the same device out from the old list finds it gone: the list is brought up to
  // date, with no complaint about the connection.
  await staleNewest.getByRole("button", { name: "Sign out this device" }).click();
  await staleNewest.getByRole("button", { name: "Sign out this device" }).waitFor({ state: "detached" });
  assert.equal((await status(stale).textContent()).trim(), "");
  await stale.close();
  await devices.close();
  await pc.close();
});

/** The API requests `page` makes (not its sockets), as they happen. */
function apiRequests(page) {
  const made = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith("/api/")) made.push(`${request.method()} ${url.pathname}`);
  });
  return made;
}

test("signed out from the phone, the PC shows a code again within a second, with no request of its own", async () => {
  const { pc, pcPage, phonePage } = await pcScannedByPhone("pc-qr-pushed-out.png");
  await phonePage.getByRole("button", { name: "Confirm" }).click();
  await pcPage.locator(".display-name").filter({ hasText: displayName }).waitFor();
  const made = apiRequests(pcPage);
  const devices = await phone.newPage();
  await devices.goto(BASE + "/m/devices");
  // This PC's sign-in heads the history.
  const newest = devices.locator(".sign-ins .sign-in").first();
  const signedOut = devices.waitForResponse((r) => r.request().method() === "DELETE" && r.status() === 204);
  await newest.getByRole("button", { name: "Sign out this device" }).click();
  await signedOut;
  const answered = performance.now();
  await pcPage.locator(PAGE_DRAWN_CODE).waitFor({ timeout: 5_000 });
  const shownMs = performance.now() - answered;
  console.log(`phone's sign-out answered → PC shows a code: ${shownMs.toFixed(0)} ms`);
  assert.ok(shownMs < 1000, `the code came back after ${shownMs.toFixed(0)} ms`);
  // It asked nothing to learn it: its only request is for its new code.
  assert.deepEqual(made.filter((request) => request !== "POST /api/qr"), []);
  await devices.close();
  await pc.close();
});

test("a new sign-in shows on the phone's home as a notice, and Sign it out there signs it out", async () => {
  const home = await phone.newPage();
  await home.goto(BASE + "/m/");
  await home.locator(".account .display-name").waitFor();
  const { pc, pcPage, phonePage } = await pcScannedByPhone("pc-qr-notice.png");
  await phonePage.getByRole("button", { name: "Confirm" }).click();
  await pcPage.locator(".display-name").filter({ hasText: displayName }).waitFor();
  const notice = home.locator(".notices .notice").first();
  await notice.waitFor();
  assert.match(await notice.textContent(), /New sign-in: Chrom.* on Linux \(pc\) · signed in with a QR code/);
  assert.match(await notice.textContent(), /Not you\?/);
  await home.screenshot({ path: join(shots, "phone-new-sign-in.png") });
  await notice.getByRole("button", { name: "Sign it out" }).click();
  await notice.getByText("Signed out.").waitFor();
  await pcPage.locator(PAGE_DRAWN_CODE).waitFor({ timeout: 5_000 });
  await home.close();
  await phonePage.close();
  await pc.close();
});

test("a PC's own name reaches the phone cleaned and labelled, after what the edge saw", async () => {
  // A page can call itself anything: here a name an override would show reversed, with a
  // control character in it.
  const created = await fetch(`${BASE}/api/qr`, {
    method: "POST",
    headers: {
      "X-Device-Id": randomUUID(), "X-Device-Type": "pc", "Content-Type": "application/json",
      "CF-Connecting-IP": "10.66.0.1",
    },
    body: JSON.stringify({ device_name: "\u202Emoc.knab\u202C\u0007 Chromium\u2066" }),
  });
  assert.equal(created.status, 201);
  const page = await phone.newPage();
  await page.goto((await created.json()).qr_url);
  await page.locator(".pc-device").waitFor();
  assert.equal((await page.locator(".pc-device").textContent()).trim(), "moc.knab Chromium (pc)");
  assert.deepEqual(await page.locator(".pc-details dt").allTextContents(),
    ["Place", "Network", "Code shown", "Name it gave itself"]);
  await page.getByRole("button", { name: "Deny" }).click();
  await status(page).filter({ hasText: "Denied." }).waitFor();
  await page.close();
});

test("deny leaves the PC signed out and says so", async () => {
  const { pc, pcPage, phonePage } = await pcScannedByPhone("pc-qr-deny.png");
  await phonePage.getByRole("button", { name: "Deny" }).click();
  await status(phonePage).filter({ hasText: "Denied." }).waitFor();
  await status(pcPage).filter({ hasText: "Sign-in was denied on the phone." }).waitFor();
  await pcPage.getByRole("button", { name: "Get a new code" }).waitFor();
  assert.equal(await pcPage.locator(".signed-in").count(), 0);
  await pc.close();
});

test("an unattended code is replaced a few times, then blurred under Get a new code", async () => {
  const pc = await newPc();
  const { page } = await openPc(pc, SHORT);
  const first = await page.locator(".qr-image").innerHTML();
  // 3 s lifetime, 3 automatic renewals: the overlay comes after about 12 s.
  await page.locator(".stale .blurred").waitFor({ timeout: 40_000 });
  await status(page).filter({ hasText: "This code has expired." }).waitFor();
  await page.screenshot({ path: join(shots, "pc-expired.png") });
  assert.notEqual(await page.locator(".qr-image").innerHTML(), first, "codes were renewed");
  // The expired code's link is neither shown nor read out; the password stays on offer.
  assert.equal(await page.locator(".qr-link").isVisible(), false);
  assert.equal(await page.getByRole("img").count(), 0);
  await page.getByRole("button", { name: "Sign in with password instead" }).waitFor();
  await page.getByRole("button", { name: "Get a new code" }).click();
  await page.locator(".qr:not(.blurred) .qr-image svg").waitFor();
  await status(page).filter({ hasText: "Waiting for your phone." }).waitFor();
  await pc.close();
});

test("a signed-out phone signs in first and comes back to the code", async () => {
  const pc = await newPc();
  const { page: pcPage } = await openPc(pc);
  const url = await decodeQr(pcPage, "pc-qr-login-first.png");
  const freshPhone = await browser.newContext({
    viewport: { width: 390, height: 844 }, isMobile: true, userAgent: IPHONE_UA, locale: "en-US",
  });
  const page = await freshPhone.newPage();
  await page.goto(url);
  await page.waitForURL("**/m/login?next=**");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL(url);
  await page.getByRole("button", { name: "Deny" }).click();
  await status(pcPage).filter({ hasText: "Sign-in was denied on the phone." }).waitFor();
  await freshPhone.close();
  await pc.close();
});

test("Back from the password page shows a new code, not the one withdrawn", async (t) => {
  // A browser that keeps pages left in its back-forward cache, as people's do.
  const caching = await launch({ backForwardCache: true });
  t.after(() => caching.close());
  const pc = await caching.newContext({ locale: "en-US" });
  const { page } = await openPc(pc);
  const withdrawn = (await page.locator(".qr-link").textContent()).trim();
  await page.getByRole("button", { name: "Sign in with password instead" }).click();
  await page.waitForURL(BASE + "/password");
  await page.goBack();
  await page.locator(".qr-link").filter({ hasNotText: withdrawn }).waitFor();
  await status(page).filter({ hasText: "Waiting for your phone." }).waitFor();
  // Loaded again: the page holds a poll secret, so it is \`no-store\` and the browser asks the
  // edge for it anew; a browser that kept it in its back-forward cache all the same restores
  // it and the page reloads itself.
  const loaded = await page.evaluate(() => performance.getEntriesByType("navigation")[0].type);
  assert.ok(["back_forward", "reload"].includes(loaded), `loaded again (${loaded})`);
});

test("the PC can sign in with a password instead", async () => {
  const pc = await newPc();
  const { page } = await openPc(pc);
  // A page of its own, so that the sign-in page's first visit does not carry the form.
  await page.getByRole("button", { name: "Sign in with password instead" }).click();
  await page.waitForURL(BASE + "/password");
  await page.getByRole("link", { name: "Sign in with a QR code instead" }).waitFor();
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL(BASE + "/");
  await page.locator(".display-name").filter({ hasText: displayName }).waitFor();
  assert.match(await page.locator(".signed-in").textContent(), /signed in with a password/);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.locator(PAGE_DRAWN_CODE).waitFor();
  await pc.close();
});

test("a code confirmed just before Sign in with password instead signs the PC in", async () => {
  const pc = await newPc();
  const page = await pc.newPage();
  // Neither a push nor a poll tells the page of the confirmation (the socket is blocked, the
  // first poll 30 s away): only the click finds the code can no longer be withdrawn.
  await blockLiveChannel(page);
  await slowPolling(page);
  await page.goto(BASE + "/");
  await page.locator(PAGE_DRAWN_CODE).waitFor();
  const phonePage = await openOnPhone(await decodeQr(page, "pc-qr-password-race.png"));
  await phonePage.getByRole("button", { name: "Confirm" }).click();
  await status(phonePage).filter({ hasText: "Done." }).waitFor();
  await page.getByRole("button", { name: "Sign in with password instead" }).click();
  await page.locator(".display-name").filter({ hasText: displayName }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/", "the password page was not opened");
  assert.match(await page.locator(".signed-in").textContent(), /signed in with a QR code/);
  await pc.close();
});

test("the PC page keeps a keyboard's focus as the status changes, and moves it on when its button goes", async () => {
  const pc = await newPc();
  const { page } = await openPc(pc);
  const usePassword = page.getByRole("button", { name: "Sign in with password instead" });
  await usePassword.focus();
  const focused = () => page.evaluate(() => document.activeElement?.textContent);
  assert.equal(await focused(), "Sign in with password instead");
  const phonePage = await openOnPhone(await decodeQr(page, "pc-qr-focus.png"));
  await status(page).filter({ hasText: "Scanned. Confirm on your phone." }).waitFor();
  assert.equal(await focused(), "Sign in with password instead", "the scan did not move the focus");
  await phonePage.getByRole("button", { name: "Deny" }).click();
  await status(page).filter({ hasText: "Sign-in was denied on the phone." }).waitFor();
  // The button focused is gone: the focus goes to what takes its place (before the next
  // frame), not to the page.
  await page.waitForFunction(() => document.activeElement?.textContent === "Get a new code", null, {
    timeout: 2_000,
  });
  await pc.close();
});

test("the phone's scan page opens a typed code; polling pauses while the PC tab is hidden", async () => {
  const pc = await newPc();
  // Without its live channel the page polls, except while hidden.
  const pcPage = await pc.newPage();
  await blockLiveChannel(pcPage);
  await pcPage.goto(BASE + "/");
  await pcPage.locator(PAGE_DRAWN_CODE).waitFor();
  const link = (await pcPage.locator(".qr-link").textContent()).trim();

  // Hidden: no poll for several intervals. Visible again: polling resumes.
  const polls = countPolls(pcPage);
  await pcPage.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
  });
  await pcPage.waitForTimeout(1500);
  polls.length = 0;
  await pcPage.waitForTimeout(3000);
  assert.equal(polls.length, 0, "no poll while hidden");
  await pcPage.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "visible" });
  });
  await pcPage.waitForTimeout(2500);
  assert.ok(polls.length >= 1, "polling resumed");

  const page = await phone.newPage();
  await page.goto(BASE + "/m/scan");
  await page.getByLabel("Code or link shown under the QR code").fill(link);
  await page.getByRole("button", { name: "Open" }).click();
  await page.waitForURL(link);
  await page.getByRole("button", { name: "Deny" }).click();
  await status(pcPage).filter({ hasText: "Sign-in was denied on the phone." }).waitFor();
  await pc.close();
});

/**
 * A phone page whose camera films `svg` (the PC's QR code, drawn on a canvas and streamed), in a
 * browser with or without `BarcodeDetector` (stubbed to read `link` when present; absent, as on
 * Chromium for Linux, the page must fall back to the Rust decoder).
 */
async function phoneFilming(svg, { barcodeDetector, link }) {
  const page = await phone.newPage();
  await page.addInitScript(({ svg, barcodeDetector, link }) => {
    navigator.mediaDevices.getUserMedia = async () => {
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 480;
      const context = canvas.getContext("2d");
      const image = new Image();
      image.src = "data:image/svg+xml;base64," + btoa(svg);
      await image.decode();
      const draw = () => {
        context.fillStyle = "#fff";
        context.fillRect(0, 0, 480, 480);
        context.drawImage(image, 40, 40, 400, 400);
      };
      draw();
      setInterval(draw, 100); // a canvas stream sends frames only when it is drawn on
      return canvas.captureStream(10);
    };
    if (barcodeDetector) {
      window.BarcodeDetector = class {
        async detect(source) {
          return source instanceof HTMLVideoElement ? [{ rawValue: link }] : [];
        }
      };
    } else {
      delete window.BarcodeDetector;
    }
  }, { svg, barcodeDetector, link });
  return page;
}

/** A new PC showing a code, and a phone page (not yet opened) whose camera films it. */
async function pcFilmedByPhone({ barcodeDetector }) {
  const pc = await newPc();
  const { page: pcPage } = await openPc(pc);
  const link = (await pcPage.locator(".qr-link").textContent()).trim();
  const svg = await pcPage.locator(PAGE_DRAWN_CODE).evaluate((element) => element.outerHTML);
  const page = await phoneFilming(svg, { barcodeDetector, link });
  return { pc, pcPage, page, link };
}

for (const barcodeDetector of [true, false]) {
  const how = barcodeDetector ? "the browser's BarcodeDetector" : "the Rust decoder, fetched only then";
  test(`the phone's camera scanner reads the PC's code with ${how}`, async () => {
    const { pc, pcPage, page, link } = await pcFilmedByPhone({ barcodeDetector });
    const fetched = [];
    page.on("request", (request) => fetched.push(new URL(request.url()).pathname));
    await page.goto(BASE + "/m/scan");
    await page.getByRole("button", { name: "Start camera" }).waitFor();
    assert.ok(!fetched.some((path) => path.includes("decoder")), "no decoder before the camera");
    await page.getByRole("button", { name: "Start camera" }).click();
    await page.waitForURL(link, { timeout: 20_000 });
    assert.equal(
      fetched.includes("/decoder_bg.wasm"),
      !barcodeDetector,
      `decoder fetched: ${fetched.filter((path) => path.includes("decoder"))}`,
    );
    await page.getByRole("button", { name: "Deny" }).click();
    await status(pcPage).filter({ hasText: "Sign-in was denied on the phone." }).waitFor();
    await page.close();
    await pc.close();
  });
}

test("frames filmed while the Rust decoder still loads are not lost: the scan goes through", async () => {
  const { pc, page, link } = await pcFilmedByPhone({ barcodeDetector: false });
  // As on a slow network: the camera films for seconds before the decoder can read a frame.
  await page.route("**/decoder_bg.wasm", async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await route.continue();
  });
  await page.goto(BASE + "/m/scan");
  await page.getByRole("button", { name: "Start camera" }).click();
  await page.waitForURL(link, { timeout: 20_000 });
  await page.close();
  await pc.close();
});

test("a decoder that cannot be fetched stops the camera and says to type the code", async () => {
  const page = await phoneFilming("<svg xmlns='http://www.w3.org/2000/svg'/>", {
    barcodeDetector: false,
    link: "",
  });
  await page.route("**/decoder_loader.js", (route) => route.abort());
  await page.goto(BASE + "/m/scan");
  await page.getByRole("button", { name: "Start camera" }).click();
  await status(page).filter({ hasText: "The camera is not available." }).waitFor({ timeout: 10_000 });
  await page.getByRole("button", { name: "Start camera" }).waitFor();
  await page.close();
});

test("the phone's home: the camera in one tap, the history in one more, sign out and in again", async () => {
  const { pc, pcPage, page, link } = await pcFilmedByPhone({ barcodeDetector: true });
  await page.goto(BASE + "/m/");
  assert.equal(await page.locator("h1").textContent(), "Scan a sign-in code", "the camera comes first");
  assert.match(await page.locator(".account").textContent(), new RegExp(`${displayName} \\(${username}\\)`));
  await page.getByRole("button", { name: "Start camera" }).click();
  await page.waitForURL(link, { timeout: 20_000 });
  await page.getByRole("button", { name: "Deny" }).click();
  await status(pcPage).filter({ hasText: "Sign-in was denied on the phone." }).waitFor();

  // Every phone page links home; from there the history is one tap away.
  for (const path of ["/m/scan", "/m/devices", "/m/login", link.slice(BASE.length)]) {
    await page.goto(BASE + path);
    await page.getByRole("link", { name: "← Home" }).click();
    await page.waitForURL(BASE + "/m/");
  }
  await page.getByRole("link", { name: "Devices, apps and sign-in history" }).click();
  await page.getByRole("heading", { name: "Recent sign-ins" }).waitFor();
  await page.close();
  await pc.close();

  // A phone of its own, signed out at home: it signs in there and lands on the home.
  const other = await browser.newContext({ isMobile: true, userAgent: IPHONE_UA, locale: "en-US" });
  const home = await other.newPage();
  await home.goto(BASE + "/m/");
  await home.getByLabel("Username").fill(username);
  await home.getByLabel("Password").fill(PASSWORD);
  await home.getByRole("button", { name: "Sign in", exact: true }).click();
  await home.locator(".account .display-name").filter({ hasText: displayName }).waitFor();
  assert.equal(home.url(), BASE + "/m/");
  await home.getByRole("button", { name: "Sign out on this phone" }).click();
  await home.getByRole("button", { name: "Sign in", exact: true }).waitFor();
  await other.close();
});

test("every page carries the security headers", async () => {
  for (const path of ["/", "/m/qr/abcdefghijklmnop", "/m/login"]) {
    const response = await fetch(BASE + path);
    assert.equal(response.status, 200, path);
    const csp = response.headers.get("content-security-policy") ?? "";
    assert.match(csp, /frame-ancestors 'none'/, path);
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/, path);
    assert.doesNotMatch(csp, /unsafe-inline/, path);
    assert.equal(response.headers.get("referrer-policy"), "no-referrer", path);
    const html = await response.text();
    assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, `${path} has no inline script`);
  }
});

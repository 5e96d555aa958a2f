// "Sign in with your phone" into another app, end to end in headless Chromium: the example web
// client (examples/web-client/, openid-client v6) sends the browser to qrgate's authorization
// page, whose QR code zbarimg reads off a screenshot; the phone opens it, sees which app and
// where it sends the person before anything else, and confirms (or denies); the PC's browser
// lands back on the app, signed in as exactly the confirming account (or with access_denied).
//
// scripts/test.sh sets QRGATE_URL (the flow edge) and QRGATE_OIDC_DIR (the run's clients'
// secrets: the example is registered there as `example-web`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, PAGE_DRAWN_CODE } from "./browser.mjs";

const BASE = process.env.QRGATE_URL;
const OIDC_DIR = process.env.QRGATE_OIDC_DIR;
assert.ok(BASE && OIDC_DIR, "run through scripts/test.sh (QRGATE_URL, QRGATE_OIDC_DIR)");
const APP_PORT = Number(process.env.QRGATE_EXAMPLE_PORT ?? 3187);
const APP = `http://127.0.0.1:${APP_PORT}`;
const IPHONE_UA =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const PASSWORD = "correct horse battery";
const shots = mkdtempSync(join(tmpdir(), "qrgate-oidc-e2e-"));

let browser;
let example;
let phone;
let account;

/** Waits until `url` answers. */
async function reachable(url) {
  for (let tries = 0; tries < 100; tries++) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url} did not answer`);
}

before(async () => {
  const secrets = JSON.parse(readFileSync(join(OIDC_DIR, "secrets.json"), "utf8"));
  example = spawn(process.execPath, ["examples/web-client/server.mjs"], {
    env: {
      ...process.env,
      QRGATE_ISSUER: BASE,
      CLIENT_ID: "example-web",
      CLIENT_SECRET: secrets["example-web"],
      PORT: String(APP_PORT),
      HOST: "127.0.0.1",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  await reachable(APP);
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
  const username = `oidc-${Date.now().toString(36)}`;
  account = { username, displayName: `Ann ${username}` };
  await page.goto(BASE + "/m/login");
  await page.getByRole("button", { name: "Create a new account" }).click();
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Display name (optional)").fill(account.displayName);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await page.waitForURL(BASE + "/m/");
  const me = await page.evaluate(async () => {
    const id = localStorage.getItem("qrgate.phone.device_id");
    return JSON.parse(localStorage.getItem("qrgate.phone.signed_in_as")).account.account_id + "|" + id;
  });
  account.id = me.split("|")[0];
  await page.close();
});

after(async () => {
  await browser?.close();
  example?.kill();
});

/** The app's "Sign in with your phone": the PC's browser on qrgate's page, its code decoded. */
async function pcAtQrgate(context, name) {
  const pc = await context.newPage();
  await pc.goto(APP + "/");
  await pc.locator("#sign-in").click();
  await pc.waitForURL((url) => url.href.startsWith(BASE + "/oauth/authorize?"));
  await pc.locator(PAGE_DRAWN_CODE).waitFor();
  await pc.getByRole("heading", { name: "Sign in to Example web app with your phone" }).waitFor();
  const file = join(shots, name);
  await pc.screenshot({ path: file });
  const decoded = execFileSync("zbarimg", ["--raw", "-q", file], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  }).trim();
  assert.match(decoded, new RegExp(`^${BASE.replace(/\./g, "\\.")}/m/qr/[0-9a-f]{64}$`));
  return { pc, url: decoded };
}

/** The phone opens the code: the app and where it sends the person come first. */
async function phoneSees(url) {
  const page = await phone.newPage();
  await page.goto(url);
  await page.getByRole("heading", { name: "Sign in to Example web app?" }).waitFor();
  assert.equal((await page.locator(".app-origin").textContent()).trim(), APP);
  assert.match(await page.locator(".app-scope").textContent(), /your name and username/);
  // The app comes before the computer's details.
  const order = await page.evaluate(() => {
    const app = document.querySelector(".app-details");
    const pc = document.querySelector(".pc-details");
    return app.compareDocumentPosition(pc) & Node.DOCUMENT_POSITION_FOLLOWING;
  });
  assert.ok(order, "the app's details come first");
  return page;
}

test("sign in to the example app with the phone: back on the app as exactly that account", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
  const { pc, url } = await pcAtQrgate(context, "oidc-pc.png");
  const phonePage = await phoneSees(url);
  await phonePage.getByRole("button", { name: "Confirm" }).click();
  await pc.waitForURL(APP + "/");
  await pc.locator("#signed-in").waitFor();
  assert.equal((await pc.locator("#name").textContent()).trim(), account.displayName);
  assert.equal((await pc.locator("#username").textContent()).trim(), account.username);
  const claims = JSON.parse(await pc.locator("#claims").textContent());
  assert.equal(claims.sub, account.id, "signed in as exactly the confirming account");
  assert.deepEqual(claims.amr, ["mca"]);
  assert.equal(claims.iss, BASE);
  const userinfo = JSON.parse(await pc.locator("#userinfo").textContent());
  assert.equal(userinfo.sub, account.id);
  await phonePage.getByText("The computer is signing you in to Example web app.").waitFor();
  // The phone lists the app among its connected apps, and the sign-in in its history.
  const devices = await phone.newPage();
  await devices.goto(BASE + "/m/devices");
  await devices.locator(".connected-apps .app-name").filter({ hasText: "Example web app" }).first().waitFor();
  await devices.locator(".sign-in .app-name").filter({ hasText: "Example web app" }).first().waitFor();
  // "Remove access" takes the app off the list.
  const before = await devices.locator(".connected-apps .app").count();
  await devices.locator(".connected-apps .app").first().getByRole("button", { name: /Remove access/ }).click();
  await devices.waitForFunction((n) => document.querySelectorAll(".connected-apps .app").length === n - 1, before);
  await context.close();
});

test("deny on the phone: the app is told access_denied", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
  const { pc, url } = await pcAtQrgate(context, "oidc-deny.png");
  const phonePage = await phoneSees(url);
  await phonePage.getByRole("button", { name: "Deny" }).click();
  await pc.waitForURL((url) => url.href.startsWith(APP + "/callback?"));
  assert.equal(new URL(pc.url()).searchParams.get("error"), "access_denied");
  assert.equal((await pc.locator("#error").textContent()).trim(), "access_denied");
  await context.close();
});

test("cancel at the PC: the app is told access_denied", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
  const { pc } = await pcAtQrgate(context, "oidc-cancel.png");
  await pc.getByRole("button", { name: "Cancel" }).click();
  await pc.waitForURL((url) => url.href.startsWith(APP + "/callback?"));
  assert.equal(new URL(pc.url()).searchParams.get("error"), "access_denied");
  await context.close();
});

test("a browser signed in to qrgate continues as its account with one click", async () => {
  // The phone's own browser: it authorizes an app on the phone, where it cannot scan its screen.
  const pc = await phone.newPage();
  await pc.goto(APP + "/");
  await pc.locator("#sign-in").click();
  await pc.waitForURL((url) => url.href.startsWith(BASE + "/oauth/authorize?"));
  await pc.getByRole("button", { name: `Continue as ${account.displayName}` }).click();
  await pc.waitForURL(APP + "/");
  const claims = JSON.parse(await pc.locator("#claims").textContent());
  assert.equal(claims.sub, account.id);
  assert.deepEqual(claims.amr, ["pwd"], "the phone signed in with its password");
});

/** A device authorization of the qrgate CLI (RFC 8628), as a device without a browser asks it. */
async function authorizeDevice() {
  const answer = await fetch(BASE + "/oauth/device_authorization", {
    method: "POST",
    body: new URLSearchParams({ client_id: "qrgate-cli", scope: "openid profile" }),
  });
  assert.equal(answer.status, 200);
  return answer.json();
}

/** The device's one poll, after the phone decided. */
async function devicePoll(device) {
  const answer = await fetch(BASE + "/oauth/token", {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: device.device_code,
      client_id: "qrgate-cli",
    }),
  });
  return { status: answer.status, body: await answer.json() };
}

test("a device's code typed on the phone: the confirm page shows it, and the device is signed in", async () => {
  const device = await authorizeDevice();
  const page = await phone.newPage();
  await page.goto(BASE + "/m/");
  await page.getByRole("link", { name: "Enter a code from a TV or terminal" }).click();
  await page.waitForURL(BASE + "/m/device");
  // As a person types it off a TV: lower case, a space for the dash.
  await page.getByLabel(/^Code/).fill(device.user_code.replace("-", " ").toLowerCase());
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForURL(device.verification_uri_complete.replace(/^https?:\/\/[^/]+/, BASE));
  await page.getByRole("heading", { name: "Sign in on qrgate CLI?" }).waitFor();
  assert.equal(await page.locator(".user-code").textContent(), device.user_code);
  assert.match(await page.locator(".pc-device").textContent(), /qrgate CLI \(device\)/);
  await page.getByRole("button", { name: "Confirm" }).click();
  await page.getByText("Done. qrgate CLI is now signed in to your account.").waitFor();
  await page.close();
  const { status, body } = await devicePoll(device);
  assert.equal(status, 200, JSON.stringify(body));
  const me = await fetch(BASE + "/oauth/userinfo", { headers: { Authorization: `Bearer ${body.access_token}` } });
  assert.equal((await me.json()).preferred_username, account.username);
});

test("a device's QR opened on the phone and denied: the device is told access_denied", async () => {
  const device = await authorizeDevice();
  const page = await phone.newPage();
  // What the phone's camera opens: verification_uri_complete.
  await page.goto(device.verification_uri_complete);
  await page.getByRole("heading", { name: "Sign in on qrgate CLI?" }).waitFor();
  await page.getByRole("button", { name: "Deny" }).click();
  await page.getByText("Denied.", { exact: false }).waitFor();
  await page.close();
  const { status, body } = await devicePoll(device);
  assert.deepEqual([status, body.error], [400, "access_denied"]);
});

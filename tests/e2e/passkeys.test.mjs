// Passkeys end to end in headless Chromium with its virtual authenticator (CDP's WebAuthn
// domain: CTAP2, internal transport, resident keys, user verification): a phone signs up with
// a passkey alone, signs out and in with it, and cannot remove its only way in; a phone adds a
// passkey to its account, signs out and signs in with it; with user verification failing, the sign-in
// is refused and the page says so; it approves a PC's code with the passkey (refused, the PC
// still waiting, while user verification fails); renames and removes it; and a PC whose
// authenticator holds the passkey is signed in on the password page by the username field's
// autofill (conditional mediation), which the virtual authenticator answers at once, as a
// person picking the passkey there would, and by the PC page's "Sign in with a passkey". WebAuthn
// refuses IP addresses as relying party ids, so the pages are loaded from http://localhost, the
// same edge as QRGATE_URL.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch } from "./browser.mjs";

assert.ok(process.env.QRGATE_URL, "run through scripts/test.sh (QRGATE_URL)");
const BASE = process.env.QRGATE_URL.replace("://127.0.0.1:", "://localhost:");
const PASSWORD = "correct horse battery";

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

/** A page with a virtual platform authenticator that verifies its user. */
async function withAuthenticator(options) {
  const context = await browser.newContext({ locale: "en-US", ...options });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2", transport: "internal", hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  const verifyUser = (isUserVerified) =>
    cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified });
  const credentials = async () =>
    (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
  const hold = (credential) => cdp.send("WebAuthn.addCredential", { authenticatorId, credential });
  return { context, page, verifyUser, credentials, hold };
}

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
/** A phone at an address of its own: its sign-up is counted against no other test's. */
const phoneAt = (address) => ({ ...PHONE, extraHTTPHeaders: { "CF-Connecting-IP": address } });

test("a phone adds a passkey, signs out and signs in with it alone; a PC's autofill offers it", async () => {
  const { context, page, verifyUser, credentials } = await withAuthenticator(phoneAt("10.67.0.1"));
  const username = `pk-${Date.now().toString(36)}`;
  await page.goto(BASE + "/m/login");
  await page.getByRole("button", { name: "Create a new account" }).click();
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await page.waitForURL(BASE + "/m/");

  await page.goto(BASE + "/m/devices");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await page.locator(".passkeys li.passkey").first().waitFor();
  const made = await credentials();
  assert.equal(made.length, 1, "the authenticator holds one passkey");
  assert.equal(made[0].isResidentCredential, true);

  // User verification fails from here on: the sign-in page's autofill request, which the
  // virtual authenticator answers at once, is refused by the browser, and so is the button's;
  // the phone stays signed out and is told so.
  await verifyUser(false);
  await page.goto(BASE + "/m/");
  await page.getByRole("button", { name: "Sign out on this phone" }).click();
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await page.locator("main [role=status]").filter({ hasText: "No passkey was used" }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/m/");
  assert.equal(await page.locator(".account .display-name").count(), 0);

  await verifyUser(true);
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await page.locator(".account .display-name").filter({ hasText: username }).waitFor();
  assert.equal((await credentials())[0].signCount > 0, true, "the passkey was used");

  await page.goto(BASE + "/m/devices");
  await page.locator(".devices li.device").filter({ hasText: "signed in with a passkey" }).waitFor();

  // A PC's code is approved with the passkey, in the one tap on Confirm; with user
  // verification failing, the approval is refused and the PC still waits.
  const waiting = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
  const pcPage = await waiting.newPage();
  await pcPage.goto(BASE + "/");
  const link = (await pcPage.locator(".qr-link").textContent()).trim();
  await verifyUser(false);
  await page.goto(link);
  await page.getByRole("button", { name: "Confirm", exact: true }).click();
  await page.locator("main [role=status]").filter({ hasText: "No passkey was used" }).waitFor();
  assert.equal(await pcPage.locator(".display-name").count(), 0);
  await verifyUser(true);
  await page.goto(link);
  await page.getByRole("button", { name: "Confirm", exact: true }).click();
  await pcPage.locator(".display-name").filter({ hasText: username }).waitFor();
  await waiting.close();

  // A PC whose own authenticator holds the passkey: its password page's autofill signs it in.
  const [passkey] = await credentials();
  const pc = await withAuthenticator({ viewport: { width: 1280, height: 900 } });
  await pc.hold(passkey);
  await pc.page.goto(BASE + "/password");
  await pc.page.waitForURL(BASE + "/");
  await pc.page.locator(".display-name").filter({ hasText: username }).waitFor();
  assert.match(await pc.page.locator(".signed-in").textContent(), /signed in with a passkey/);
  const [used] = await pc.credentials();
  await pc.context.close();

  // The PC page's own "Sign in with a passkey", beside its code: the browser's passkey picker
  // opens at once on the password page, and the PC's authenticator answers it. (It holds the
  // passkey as last used, so its count moves on.)
  const beside = await withAuthenticator({ viewport: { width: 1280, height: 900 } });
  await beside.hold(used);
  await beside.page.goto(BASE + "/");
  await beside.page.locator(".qr-link").waitFor();
  await beside.page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await beside.page.locator(".display-name").filter({ hasText: username }).waitFor();
  assert.equal(new URL(beside.page.url()).pathname, "/");
  assert.match(await beside.page.locator(".signed-in").textContent(), /signed in with a passkey/);
  await beside.context.close();

  // Renamed, then removed, on the devices page.
  await page.goto(BASE + "/m/devices");
  const listed = page.locator(".passkeys li.passkey");
  await listed.getByRole("button", { name: "Rename" }).click();
  await listed.getByLabel("Passkey name").fill("My phone's passkey");
  await listed.getByRole("button", { name: "Save" }).click();
  await listed.locator(".passkey-name").filter({ hasText: "My phone's passkey" }).waitFor();
  await listed.getByRole("button", { name: "Remove" }).click();
  await page.locator("section.passkeys").filter({ hasText: "No passkeys yet." }).waitFor();
  await context.close();
});

test("a passkey alone makes an account, which signs in with it and keeps its last passkey", async () => {
  const { context, page, verifyUser } = await withAuthenticator(phoneAt("10.67.0.2"));
  const username = `pko-${Date.now().toString(36)}`;
  await page.goto(BASE + "/m/login");
  await page.getByRole("button", { name: "Create a new account" }).click();
  await page.getByLabel("Username").fill(username);
  await page.getByRole("button", { name: "Create account with a passkey" }).click();
  await page.waitForURL(BASE + "/m/");
  await page.locator(".account .display-name").filter({ hasText: username }).waitFor();

  // Signed out, it signs in again with the passkey alone: refused while user verification
  // fails (which also keeps the sign-in form's autofill request, which the virtual
  // authenticator would answer at once, from signing it in first), then signed in.
  await verifyUser(false);
  await page.goto(BASE + "/m/");
  await page.getByRole("button", { name: "Sign out on this phone" }).click();
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await page.locator("main [role=status]").filter({ hasText: "No passkey was used" }).waitFor();
  await verifyUser(true);
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await page.locator(".account .display-name").filter({ hasText: username }).waitFor();

  // Its one passkey is its one way in: the devices page keeps it and says why.
  await page.goto(BASE + "/m/devices");
  const listed = page.locator(".passkeys li.passkey");
  await listed.getByRole("button", { name: "Remove" }).click();
  await page.locator("main [role=status]").filter({ hasText: "only way to sign in" }).waitFor();
  assert.equal(await listed.count(), 1);
  await context.close();
});

// Tokens bound to a key (DPoP) in real Chromium: the pages' key cannot be exported, the proofs
// they send verify, and a token and device id copied out of the page's storage are useless to a
// plain HTTP client. Where the browser cannot keep a key, the pages sign in with Bearer tokens.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { launch, PAGE_DRAWN_CODE } from "./browser.mjs";

const BASE = process.env.QRGATE_URL;
assert.ok(BASE, "run through scripts/test.sh (QRGATE_URL)");
const PASSWORD = "correct horse battery";
const IPHONE_UA =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const fromBase64url = (text) => Buffer.from(text, "base64url");

/** Checks a proof as the edge does, with Node's WebCrypto: its form, claims and signature. */
async function verifyProof(proof, { htm, htu, token }) {
  const [header, claims, signature] = proof.split(".");
  const { typ, alg, jwk } = JSON.parse(fromBase64url(header));
  assert.equal(typ, "dpop+jwt");
  assert.equal(alg, "ES256");
  assert.deepEqual(Object.keys(jwk).sort(), ["crv", "kty", "x", "y"], "the public key only");
  const said = JSON.parse(fromBase64url(claims));
  assert.equal(said.htm, htm);
  assert.equal(said.htu, htu);
  assert.ok(Math.abs(said.iat - Date.now() / 1000) <= 60, "iat is now");
  assert.ok(said.jti.length >= 16, "a unique jti");
  if (token) {
    const digest = await webcrypto.subtle.digest("SHA-256", Buffer.from(token));
    assert.equal(said.ath, Buffer.from(digest).toString("base64url"));
  } else {
    assert.equal(said.ath, undefined, "no ath without a token");
  }
  const ecdsa = { name: "ECDSA", namedCurve: "P-256" };
  const key = await webcrypto.subtle.importKey("jwk", jwk, ecdsa, false, ["verify"]);
  const verified = await webcrypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" }, key, fromBase64url(signature),
    Buffer.from(`${header}.${claims}`));
  assert.ok(verified, "the signature verifies");
  return jwk;
}

/** Every API request `page` sends, with all its headers (a promise), as they go. */
function recordRequests(page) {
  const sent = [];
  page.on("request", (request) => {
    if (new URL(request.url()).pathname.startsWith("/api/")) {
      // Headers not read before the page closes are not needed.
      const headers = request.allHeaders().catch(() => ({}));
      sent.push({ method: request.method(), url: request.url(), headers });
    }
  });
  return sent;
}

/** A phone signed in through the phone pages, with a new account, from an address of its own
 * (sign-ups are limited per address). */
async function signedInPhone() {
  const address = `10.77.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}`;
  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 }, isMobile: true, userAgent: IPHONE_UA, locale: "en-US",
    extraHTTPHeaders: { "CF-Connecting-IP": address },
  });
  const page = await phone.newPage();
  const sent = recordRequests(page);
  await page.goto(BASE + "/m/login");
  await page.getByRole("button", { name: "Create a new account" }).click();
  await page.getByLabel("Username").fill(`dpop-${Date.now().toString(36)}`);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await page.waitForURL(BASE + "/m/");
  await page.locator(".account").waitFor();
  const login = sent.find((r) => r.method === "POST" && r.url === `${BASE}/api/sessions`);
  assert.ok(login, "the phone signed in with its password");
  await verifyProof((await login.headers).dpop, { htm: "POST", htu: `${BASE}/api/sessions` });
  assert.equal(await page.evaluate(() => localStorage.getItem("qrgate.phone.token_type")), "DPoP");
  await page.close();
  return phone;
}

/** Signs the PC page in with the phone: opens the code's link there and confirms. */
async function signInPc(pcPage, phone) {
  await pcPage.locator(PAGE_DRAWN_CODE).waitFor();
  const link = (await pcPage.locator(".qr-link").textContent()).trim();
  const phonePage = await phone.newPage();
  await phonePage.goto(link);
  await phonePage.getByRole("button", { name: "Confirm" }).click();
  await pcPage.locator(".signed-in").waitFor();
  await phonePage.close();
}

/** What a script on the page (or one that copied its storage) can read of the PC's sign-in. */
function pcStorage(page) {
  return page.evaluate(() => ({
    token: localStorage.getItem("qrgate.pc.token"),
    tokenType: localStorage.getItem("qrgate.pc.token_type"),
    deviceId: localStorage.getItem("qrgate.pc.device_id"),
  }));
}

/**
 * The first message of the next account channel `page` opens, and the URL a proof names for
 * it, once the edge has answered it `ready`.
 */
function accountHello(page) {
  return new Promise((resolve) => page.on("websocket", (socket) => {
    if (!socket.url().includes("/api/accounts/")) return;
    let hello;
    socket.on("framesent", ({ payload }) => { hello ??= JSON.parse(payload); });
    socket.on("framereceived", ({ payload }) => {
      if (payload === '{"type":"ready"}') resolve({ htu: socket.url().replace(/^ws/, "http"), hello });
    });
  }));
}

test("the PC's key cannot be exported, its proofs verify, and its copied token is refused", async () => {
  const phone = await signedInPhone();
  const pc = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
  const page = await pc.newPage();
  const sent = recordRequests(page);
  await page.goto(BASE + "/");
  await signInPc(page, phone);

  // Every poll carries a proof by one key, the first one's claiming the code the page came
  // with for it; a poll's proof has no ath.
  const polls = sent.filter((r) => r.method === "GET" && /\/api\/qr\/[^/]+$/.test(r.url));
  assert.ok(polls.length >= 2, "the PC claimed its code and picked its token up with polls");
  const key = await verifyProof((await polls[0].headers).dpop, { htm: "GET", htu: polls[0].url });
  for (const poll of polls) {
    const headers = await poll.headers;
    assert.match(headers.authorization, /^Bearer /, "the poll secret is no access token");
    assert.deepEqual(await verifyProof(headers.dpop, { htm: "GET", htu: poll.url }), key);
  }

  // The key: kept in IndexedDB a moment after the page made it (it signed the claim first),
  // its private half not extractable, and exportKey refuses it.
  await page.waitForFunction(() => localStorage.getItem("qrgate.keys_kept") === "1");
  const exported = await page.evaluate(async () => {
    const database = await new Promise((resolve, reject) => {
      const opening = indexedDB.open("qrgate-keys");
      opening.onsuccess = () => resolve(opening.result);
      opening.onerror = () => reject(opening.error);
    });
    const pair = await new Promise((resolve, reject) => {
      const reading = database.transaction("keys").objectStore("keys").get("qrgate.pc");
      reading.onsuccess = () => resolve(reading.result);
      reading.onerror = () => reject(reading.error);
    });
    const attempts = {};
    for (const format of ["jwk", "pkcs8"]) {
      attempts[format] = await crypto.subtle.exportKey(format, pair.privateKey).then(
        () => "exported", (error) => error.name);
    }
    return { extractable: pair.privateKey.extractable, ...attempts };
  });
  assert.deepEqual(exported, { extractable: false, jwk: "InvalidAccessError", pkcs8: "InvalidAccessError" });

  // The page's own use of its bound token works: reloaded, it listens on its account's
  // channel, whose first message carries the token and a proof by the same key for it.
  const stored = await pcStorage(page);
  assert.equal(stored.tokenType, "DPoP");
  const listened = accountHello(page);
  await page.reload();
  await page.locator(".signed-in").waitFor();
  const { htu, hello } = await listened;
  assert.equal(hello.token, stored.token);
  assert.equal(hello.device_id, stored.deviceId);
  assert.deepEqual(await verifyProof(hello.proof, { htm: "GET", htu, token: stored.token }), key);

  // Copied out of the page's storage, token and device id get 401 from a plain HTTP client,
  // whichever scheme it tries.
  for (const scheme of ["DPoP", "Bearer"]) {
    const answer = await fetch(`${BASE}/api/me`, {
      headers: {
        Authorization: `${scheme} ${stored.token}`,
        "X-Device-Id": stored.deviceId,
        "X-Device-Type": "pc",
      },
    });
    assert.equal(answer.status, 401, scheme);
    assert.equal(answer.headers.get("www-authenticate"), 'DPoP error="invalid_dpop_proof"');
    assert.equal((await answer.json()).error, "unauthorized");
  }
  // Still signed in in its browser; also where the key was kept before the mark that says so
  // existed (an earlier version of the page): a token's proof is always by the kept key.
  await page.evaluate(() => localStorage.removeItem("qrgate.keys_kept"));
  const relistened = accountHello(page);
  await page.reload();
  const again = await relistened;
  assert.deepEqual(
    await verifyProof(again.hello.proof, { htm: "GET", htu: again.htu, token: stored.token }), key);
  await page.locator(".signed-in").waitFor();
  await pc.close();
  await phone.close();
});

test("without IndexedDB the PC signs in all the same, with a Bearer token", async () => {
  const phone = await signedInPhone();
  const pc = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
  await pc.addInitScript(() => {
    Object.defineProperty(window, "indexedDB", { value: undefined });
  });
  const page = await pc.newPage();
  const sent = recordRequests(page);
  await page.goto(BASE + "/");
  await signInPc(page, phone);
  for (const request of sent) {
    assert.equal((await request.headers).dpop, undefined, `${request.method} ${request.url}`);
  }
  assert.equal((await pcStorage(page)).tokenType, "Bearer");
  await page.reload();
  await page.locator(".signed-in").waitFor();
  assert.equal(await page.locator("[role=alert]").count(), 0, "nothing for the user to act on");
  await pc.close();
  await phone.close();
});

test("a PC whose clock is five minutes slow still gets a bound token", async () => {
  const phone = await signedInPhone();
  const pc = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
  await pc.addInitScript(() => {
    const now = Date.now;
    Date.now = () => now() - 5 * 60 * 1000;
  });
  const page = await pc.newPage();
  const sent = recordRequests(page);
  await page.goto(BASE + "/");
  await signInPc(page, phone);
  // The proof of the poll that claims the page's first code is refused for its time; the
  // answer's Date sets the page's proofs by the edge's clock, and the claim is made again at
  // once, five minutes later by its proof.
  const [refused, claim] = sent.filter((r) => r.method === "GET" && /\/api\/qr\/[^/]+$/.test(r.url));
  assert.equal(claim.url, refused.url);
  const issuedAt = async (request) =>
    JSON.parse(fromBase64url((await request.headers).dpop.split(".")[1])).iat;
  assert.ok(Math.abs((await issuedAt(claim)) - (await issuedAt(refused)) - 300) <= 5);
  assert.equal((await pcStorage(page)).tokenType, "DPoP");
  await page.reload();
  await page.locator(".signed-in").waitFor();
  await pc.close();
  await phone.close();
});

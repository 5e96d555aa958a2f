// The person's side of an OpenID Connect sign-in, for the stock clients' tests: a phone signed
// in to qrgate, and a PC that opens the authorization URL a client library built, shows its
// code, and hands back the redirect the phone's decision makes. Everything goes through
// qrgate's own API as the pages would (shared/API.md), so the client library under test sees
// nothing but its own requests and the redirect to its redirect URI.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";

export const PASSWORD = "correct horse battery";

/** A device: its headers, from an address of its own (the limits count per address). */
export function device(type) {
  const bytes = randomBytes(3);
  return {
    "X-Device-Id": randomUUID(),
    "X-Device-Type": type,
    "CF-Connecting-IP": `10.${bytes[0]}.${bytes[1]}.${bytes[2]}`,
  };
}

/** A request to qrgate's API at `base` with `headers`: its status and JSON answer. */
export async function api(base, method, path, headers, body) {
  const response = await fetch(base + path, {
    method,
    headers: { ...headers, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** A new account, and a phone signed in to it. */
export async function signedInPhone(base) {
  const phone = device("ios");
  const username = `oidc-${randomBytes(6).toString("hex")}`;
  const created = await api(base, "POST", "/api/accounts", phone, { username, password: PASSWORD, display_name: `Ann ${username}` });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const login = await api(base, "POST", "/api/sessions", phone, { username, password: PASSWORD });
  assert.equal(login.status, 201, JSON.stringify(login.body));
  return { headers: { ...phone, Authorization: `Bearer ${login.body.token}` }, account: login.body.account };
}

/** The authorization data block of a PC page served for `url` (no browser: no first code). */
export async function authorizationPage(url) {
  const response = await fetch(url, { redirect: "manual" });
  assert.equal(response.status, 200, `the authorization page for ${url}`);
  const html = await response.text();
  const match = /<script type="application\/json" id="qrgate-authorization">(.*?)<\/script>/s.exec(html);
  assert.ok(match, "the page carries its authorization data block");
  return JSON.parse(match[1]);
}

/**
 * The PC opens `authorizationUrl`, makes a code for it, the phone scans it and confirms (or,
 * with `deny`, denies); the PC's next poll hands over the redirect back to the client, which
 * this answers, with what the phone was shown.
 */
export async function approve(base, authorizationUrl, phone, { deny = false } = {}) {
  const { handle, client_name } = await authorizationPage(authorizationUrl);
  const pc = device("pc");
  const created = await api(base, "POST", "/api/qr", pc, { authorization: handle, device_name: "Chromium on Linux" });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const qr = created.body;
  const pcAuth = { ...pc, Authorization: `Bearer ${qr.poll_secret}` };
  const scanned = await api(base, "POST", `/api/qr/${qr.qr_id}/scan`, phone.headers);
  assert.equal(scanned.status, 200, JSON.stringify(scanned.body));
  assert.equal(scanned.body.client.client_name, client_name, "the phone is told which app");
  const step = deny ? "deny" : "confirm";
  const decided = await api(base, "POST", `/api/qr/${qr.qr_id}/${step}`, phone.headers, { scan_token: scanned.body.scan_token });
  assert.equal(decided.status, 204, JSON.stringify(decided.body));
  const polled = await api(base, "GET", `/api/qr/${qr.qr_id}`, pcAuth);
  assert.equal(polled.status, 200, JSON.stringify(polled.body));
  assert.equal(polled.body.session, undefined, "the PC is not signed in to qrgate by an authorization");
  assert.ok(polled.body.authorization?.redirect_to, JSON.stringify(polled.body));
  return { redirectTo: new URL(polled.body.authorization.redirect_to), shown: scanned.body };
}

// qrgate as an OpenID Provider, proved by a client none of us wrote: openid-client v6 (and the
// oauth4webapi under it) against a real `wrangler dev`. Discovery, the code flow with PKCE,
// state and nonce, the ID token checked against the JWKS, userinfo, refresh with rotation,
// revocation; with DPoP; for a confidential client (Basic and post) and a public one; and the
// device grant (RFC 8628) for the public qrgate-cli, the QR scanned or the user code typed, at
// either location. The phone scans and confirms through qrgate's API (flow.mjs).
//
// scripts/test.sh sets QRGATE_URL (location A), QRGATE_URL_B (location B: its own KV, A's
// session objects) and QRGATE_OIDC_DIR (the run's clients' secrets, tests/oidc/config.mjs).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as client from "openid-client";
import { api, approve, signedInPhone } from "./flow.mjs";

const BASE = process.env.QRGATE_URL;
const BASE_B = process.env.QRGATE_URL_B;
const OIDC_DIR = process.env.QRGATE_OIDC_DIR;
assert.ok(BASE && BASE_B && OIDC_DIR, "run through scripts/test.sh (QRGATE_URL, QRGATE_URL_B, QRGATE_OIDC_DIR)");
const SECRETS = JSON.parse(readFileSync(join(OIDC_DIR, "secrets.json"), "utf8"));
const REDIRECT_URI = "https://client.example/cb";
const PUBLIC_REDIRECT_URI = "http://localhost/spa";
// Only because the local issuer is plain HTTP: openid-client refuses it otherwise.
const INSECURE = { execute: [client.allowInsecureRequests] };

let phone;
// A phone at location B, for a device at A: deployed, the two rarely reach the same location.
let phoneB;

/** userinfo, asked with `tokens`' access token, answers exactly `account`'s id and names. */
async function userinfoIs(config, tokens, sub, account) {
  assert.deepEqual(await client.fetchUserInfo(config, tokens.access_token, sub), {
    sub: account.account_id,
    name: account.display_name,
    preferred_username: account.username,
  });
}

before(async () => {
  phone = await signedInPhone(BASE);
  phoneB = await signedInPhone(BASE_B);
});

async function discover(clientId, auth) {
  return client.discovery(new URL(BASE), clientId, SECRETS[clientId], auth, INSECURE);
}

/** The code flow as an app runs it: the authorization URL, the person's approval on the phone,
 * and the code exchanged at the redirect. */
async function signIn(config, { redirectUri = REDIRECT_URI, scope = "openid profile", dpop } = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  const { redirectTo, shown } = await approve(BASE, url.href, phone);
  assert.equal(redirectTo.origin + redirectTo.pathname, redirectUri);
  assert.equal(redirectTo.searchParams.get("iss"), BASE, "RFC 9207's iss");
  const tokens = await client.authorizationCodeGrant(
    config,
    redirectTo,
    { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce },
    undefined,
    dpop ? { DPoP: dpop } : undefined,
  );
  return { tokens, shown };
}

test("discovery: the issuer's metadata as openid-client reads it", async () => {
  const config = await discover("test-confidential");
  const metadata = config.serverMetadata();
  assert.equal(metadata.issuer, BASE);
  assert.deepEqual(metadata.code_challenge_methods_supported, ["S256"]);
  assert.equal(metadata.authorization_response_iss_parameter_supported, true);
  assert.ok(metadata.supportsPKCE());
});

test("a confidential client (Basic): code, ID token, userinfo, refresh, revocation", async () => {
  const config = await discover("test-confidential", client.ClientSecretBasic(SECRETS["test-confidential"]));
  const { tokens, shown } = await signIn(config);
  assert.deepEqual(shown.client, {
    client_id: "test-confidential",
    client_name: "Test app",
    redirect_origin: "https://client.example",
  });
  assert.deepEqual(shown.scope, ["openid", "profile"]);
  const claims = tokens.claims();
  assert.equal(claims.sub, phone.account.account_id, "signed in as exactly the confirming account");
  assert.equal(claims.iss, BASE);
  assert.equal(claims.aud, "test-confidential");
  assert.deepEqual(claims.amr, ["mca"]);
  assert.equal(claims.name, phone.account.display_name);
  assert.equal(claims.preferred_username, phone.account.username);
  assert.ok(Math.abs(claims.auth_time - Date.now() / 1000) < 60, "auth_time is the confirmation");
  assert.equal(tokens.token_type.toLowerCase(), "bearer");
  assert.equal(tokens.expires_in, 300);
  assert.ok(tokens.refresh_token);

  await userinfoIs(config, tokens, claims.sub, phone.account);

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, "rotated");
  assert.equal(refreshed.claims().sub, claims.sub);
  assert.equal(refreshed.claims().nonce, undefined, "a refreshed ID token carries no nonce");
  await client.fetchUserInfo(config, refreshed.access_token, claims.sub);

  // The rotated-away token presented again: refused, and the whole grant revoked.
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), { error: "invalid_grant" });
  await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token), { error: "invalid_grant" });
  await assert.rejects(client.fetchUserInfo(config, refreshed.access_token, claims.sub), (error) => {
    assert.equal(error.status ?? error.cause?.status, 401);
    return true;
  });
});

test("a confidential client (post): revocation revokes the grant at once", async () => {
  const config = await discover("test-confidential", client.ClientSecretPost(SECRETS["test-confidential"]));
  const { tokens } = await signIn(config);
  await client.tokenRevocation(config, tokens.refresh_token);
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), { error: "invalid_grant" });
  await assert.rejects(client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub));
  // Revoking again, or revoking nonsense: 200 all the same (RFC 7009).
  await client.tokenRevocation(config, tokens.refresh_token);
  await client.tokenRevocation(config, "not-a-token");
});

test("an access token revoked revokes its grant too", async () => {
  const config = await discover("test-confidential", client.ClientSecretPost(SECRETS["test-confidential"]));
  const { tokens } = await signIn(config);
  await client.tokenRevocation(config, tokens.access_token, { token_type_hint: "access_token" });
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), { error: "invalid_grant" });
});

test("a public client with DPoP: tokens bound to its key, refresh needs the key", async () => {
  const config = await discover("test-public", client.None());
  const keyPair = await client.randomDPoPKeyPair("ES256");
  const dpop = client.getDPoPHandle(config, keyPair);
  const { tokens } = await signIn(config, { redirectUri: PUBLIC_REDIRECT_URI, dpop });
  assert.equal(tokens.token_type.toLowerCase(), "dpop");
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub, { DPoP: dpop });
  assert.equal(userinfo.sub, phone.account.account_id);
  // Without its proof the bound token is refused.
  await assert.rejects(client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub));
  // The refresh token is bound to the key: another key's proof is refused, the key's passes.
  const other = client.getDPoPHandle(config, await client.randomDPoPKeyPair("ES256"));
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: other }), {
    error: "invalid_grant",
  });
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: dpop });
  assert.equal(refreshed.token_type.toLowerCase(), "dpop");
});

test("an RS256 client gets RS256 ID tokens, verified against the JWKS", async () => {
  const config = await discover("test-rs256", client.ClientSecretPost(SECRETS["test-rs256"]));
  const { tokens } = await signIn(config);
  const header = JSON.parse(Buffer.from(tokens.id_token.split(".")[0], "base64url"));
  assert.equal(header.alg, "RS256");
  assert.equal(tokens.claims().sub, phone.account.account_id);
});

test("without profile, the names are not told; without the refresh grant, no refresh token", async () => {
  const config = await discover("test-no-refresh", client.ClientSecretPost(SECRETS["test-no-refresh"]));
  const { tokens } = await signIn(config, { scope: "openid" });
  assert.equal(tokens.refresh_token, undefined);
  assert.equal(tokens.claims().name, undefined);
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
  assert.deepEqual(userinfo, { sub: phone.account.account_id });
});

test("a denial on the phone comes back as access_denied", async () => {
  const config = await discover("test-confidential", client.ClientSecretPost(SECRETS["test-confidential"]));
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: "openid",
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: "S256",
    state,
  });
  const { redirectTo } = await approve(BASE, url.href, phone, { deny: true });
  assert.equal(redirectTo.searchParams.get("error"), "access_denied");
  await assert.rejects(
    client.authorizationCodeGrant(config, redirectTo, { pkceCodeVerifier: "x".repeat(43), expectedState: state }),
    { error: "access_denied" },
  );
});

// --- Devices without a browser (RFC 8628): qrgate-cli, a public client ---------------------------

const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;

/** The device's QR session: the last path segment of the URI it shows as a QR. */
const qrIdOf = (authorization) => new URL(authorization.verification_uri_complete).pathname.split("/").pop();

/** The phone at `base` scans the QR session `qrId` and confirms (or denies): what it was shown. */
async function decide(base, phone, qrId, step = "confirm") {
  const scanned = await api(base, "POST", `/api/qr/${qrId}/scan`, phone.headers);
  assert.equal(scanned.status, 200, JSON.stringify(scanned.body));
  const decided = await api(base, "POST", `/api/qr/${qrId}/${step}`, phone.headers, { scan_token: scanned.body.scan_token });
  assert.equal(decided.status, 204, JSON.stringify(decided.body));
  return scanned.body;
}

/**
 * qrgate-cli's sign-in as openid-client runs it: the device authorization, then the grant
 * polled, while `phoneSide(authorization)` decides on the phone once the first poll was answered
 * (openid-client waits `interval` before it), so the grant is seen pending first. Answers the
 * tokens, what the phone was shown, and every poll's form and answer, read off the wire.
 */
async function deviceSignIn(phoneSide) {
  const config = await client.discovery(new URL(BASE), "qrgate-cli", undefined, client.None(), INSECURE);
  const tokenEndpoint = config.serverMetadata().token_endpoint;
  const polls = [];
  let firstPollAnswered;
  const answered = new Promise((resolve) => (firstPollAnswered = resolve));
  config[client.customFetch] = async (url, options) => {
    const response = await fetch(url, options);
    if (url === tokenEndpoint) {
      const { error } = await response.clone().json();
      polls.push({ form: Object.fromEntries(options.body), status: response.status, error });
      firstPollAnswered();
    }
    return response;
  };
  const authorization = await client.initiateDeviceAuthorization(config, { scope: "openid profile" });
  assert.match(authorization.user_code, USER_CODE);
  assert.equal(authorization.verification_uri, `${BASE}/m/device`);
  assert.equal(authorization.verification_uri_complete, `${BASE}/m/qr/${qrIdOf(authorization)}`);
  assert.equal(authorization.interval, 5);
  const [tokens, shown] = await Promise.all([
    client.pollDeviceAuthorizationGrant(config, authorization),
    answered.then(() => phoneSide(authorization)),
  ]);
  return { config, authorization, tokens, shown, polls };
}

test("a device: the phone at another location scans its QR and confirms; ID token, userinfo, refresh", async () => {
  const { config, authorization, tokens, shown, polls } = await deviceSignIn((authorization) =>
    decide(BASE_B, phoneB, qrIdOf(authorization)),
  );
  // The phone is told what asks, and the code to check against the device's screen.
  assert.equal(shown.pc.device_type, "device");
  assert.equal(shown.pc.device_name, "qrgate CLI");
  assert.equal(shown.user_code, authorization.user_code);
  assert.deepEqual(shown.scope, ["openid", "profile"]);
  assert.equal(shown.client, undefined, "a device has no redirect");

  // A public client's polls: the grant, the code and its client_id, nothing else.
  assert.deepEqual(
    polls.map(({ status, error }) => [status, error]),
    [
      [400, "authorization_pending"],
      [200, undefined],
    ],
  );
  for (const { form } of polls) {
    assert.deepEqual(form, {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: authorization.device_code,
      client_id: "qrgate-cli",
    });
  }

  const claims = tokens.claims();
  assert.equal(claims.sub, phoneB.account.account_id, "signed in as exactly the confirming account");
  assert.equal(claims.iss, BASE);
  assert.equal(claims.aud, "qrgate-cli");
  assert.equal(claims.preferred_username, phoneB.account.username);
  assert.equal(claims.name, phoneB.account.display_name);
  assert.equal(tokens.scope, "openid profile");
  await userinfoIs(config, tokens, claims.sub, phoneB.account);
  // A CLI keeps its refresh token: it refreshes without a secret, rotated as any other.
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  assert.equal(refreshed.claims().sub, claims.sub);
});

test("a device: the user code typed on the phone, in lower case with a space, finds its QR", async () => {
  const { tokens } = await deviceSignIn(async (authorization) => {
    const typed = authorization.user_code.replace("-", " ").toLowerCase();
    const found = await api(BASE, "POST", "/api/user-codes", phone.headers, { user_code: typed });
    assert.equal(found.status, 200, JSON.stringify(found.body));
    assert.equal(found.body.qr_id, qrIdOf(authorization));
    assert.equal(found.body.qr_url, authorization.verification_uri_complete);
    return decide(BASE, phone, found.body.qr_id);
  });
  assert.equal(tokens.claims().preferred_username, phone.account.username);
});

test("a device: a denial on the phone comes back as access_denied", async () => {
  await assert.rejects(
    deviceSignIn((authorization) => decide(BASE, phone, qrIdOf(authorization), "deny")),
    { error: "access_denied" },
  );
});

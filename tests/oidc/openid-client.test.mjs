// qrgate as an OpenID Provider, proved by a client none of us wrote: openid-client v6 (and the
// oauth4webapi under it) against a real `wrangler dev`. Discovery, the code flow with PKCE,
// state and nonce, the ID token checked against the JWKS, userinfo, refresh with rotation,
// revocation; with DPoP; for a confidential client (Basic and post) and a public one. The phone
// scans and confirms through qrgate's API (flow.mjs).
//
// scripts/test.sh sets QRGATE_URL (location A) and QRGATE_OIDC_DIR (the run's clients'
// secrets, tests/oidc/config.mjs).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as client from "openid-client";
import { approve, signedInPhone } from "./flow.mjs";

const BASE = process.env.QRGATE_URL;
const OIDC_DIR = process.env.QRGATE_OIDC_DIR;
assert.ok(BASE && OIDC_DIR, "run through scripts/test.sh (QRGATE_URL, QRGATE_OIDC_DIR)");
const SECRETS = JSON.parse(readFileSync(join(OIDC_DIR, "secrets.json"), "utf8"));
const REDIRECT_URI = "https://client.example/cb";
const PUBLIC_REDIRECT_URI = "http://localhost/spa";
// Only because the local issuer is plain HTTP: openid-client refuses it otherwise.
const INSECURE = { execute: [client.allowInsecureRequests] };

let phone;

before(async () => {
  phone = await signedInPhone(BASE);
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

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.deepEqual(userinfo, {
    sub: phone.account.account_id,
    name: phone.account.display_name,
    preferred_username: phone.account.username,
  });

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

// A small web app that signs its users in with qrgate, through openid-client v6 and nothing
// hand-written: discovery, the code flow with PKCE, state and nonce, the ID token checked
// against the JWKS, userinfo. Run it beside qrgate (./scripts/run.sh starts it):
//
//   QRGATE_ISSUER=http://127.0.0.1:8787 CLIENT_ID=example-web CLIENT_SECRET=... node server.mjs
//
// CLIENT_ID and CLIENT_SECRET may also come from a .env file beside this one (which
// `node scripts/oidc.mjs dev-vars` writes for the local registration). PORT (default 3000) and
// HOST (default 127.0.0.1) say where it listens; its redirect URI is http://HOST:PORT/callback.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import * as client from "openid-client";

function dotEnv() {
  try {
    const text = readFileSync(new URL(".env", import.meta.url), "utf8");
    return Object.fromEntries(
      text.split("\n").filter((line) => /^[A-Z_]+=/.test(line)).map((line) => line.split(/=(.*)/s).slice(0, 2)),
    );
  } catch {
    return {};
  }
}

const env = { ...dotEnv(), ...process.env };
const ISSUER = env.QRGATE_ISSUER ?? "http://127.0.0.1:8787";
const HOST = env.HOST ?? "127.0.0.1";
const PORT = Number(env.PORT ?? 3000);
const CLIENT_ID = env.CLIENT_ID ?? "example-web";
const CLIENT_SECRET = env.CLIENT_SECRET;
const REDIRECT_URI = `http://${HOST}:${PORT}/callback`;
if (!CLIENT_SECRET) {
  console.error("CLIENT_SECRET is not set (nor in examples/web-client/.env)");
  process.exit(2);
}

/** The provider's configuration, discovered once; again after a failure (qrgate not up yet). */
let discovered;
function provider() {
  discovered ??= client
    .discovery(new URL(ISSUER), CLIENT_ID, CLIENT_SECRET, undefined, {
      // Only for a local issuer: openid-client refuses plain HTTP otherwise.
      execute: ISSUER.startsWith("http://") ? [client.allowInsecureRequests] : [],
    })
    .catch((error) => {
      discovered = undefined;
      throw error;
    });
  return discovered;
}

/** Each browser's sign-in, by its cookie: the PKCE verifier, state and nonce while it signs
 * in, then what it signed in as. */
const sessions = new Map();

function session(request, response) {
  const cookie = /(?:^|;\s*)sid=([A-Za-z0-9_-]+)/.exec(request.headers.cookie ?? "")?.[1];
  if (cookie && sessions.has(cookie)) return sessions.get(cookie);
  const sid = randomBytes(24).toString("base64url");
  const fresh = {};
  sessions.set(sid, fresh);
  response.setHeader("Set-Cookie", `sid=${sid}; HttpOnly; SameSite=Lax; Path=/`);
  return fresh;
}

const escape = (text) =>
  String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

function page(response, status, body) {
  response.writeHead(status, {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "Cache-Control": "no-store",
  });
  response.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Example web app</title>` +
      `<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem}` +
      `pre{background:#f4f4f4;padding:1rem;overflow:auto}</style></head><body>` +
      `<h1>Example web app</h1>${body}</body></html>`,
  );
}

async function home(request, response) {
  const signedIn = session(request, response).signedIn;
  if (!signedIn) {
    return page(response, 200, `<p>Not signed in.</p><p><a id="sign-in" href="/login">Sign in with your phone (qrgate)</a></p>`);
  }
  page(
    response,
    200,
    `<p id="signed-in">Signed in as <strong id="name">${escape(signedIn.claims.name ?? signedIn.claims.sub)}</strong>` +
      ` (<span id="username">${escape(signedIn.claims.preferred_username ?? "")}</span>).</p>` +
      `<h2>The ID token's claims</h2><pre id="claims">${escape(JSON.stringify(signedIn.claims, null, 2))}</pre>` +
      `<h2>Userinfo</h2><pre id="userinfo">${escape(JSON.stringify(signedIn.userinfo, null, 2))}</pre>` +
      `<p><a href="/logout">Sign out of this app</a></p>`,
  );
}

async function login(request, response) {
  const config = await provider();
  const state = session(request, response);
  state.verifier = client.randomPKCECodeVerifier();
  state.state = client.randomState();
  state.nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: "openid profile",
    code_challenge: await client.calculatePKCECodeChallenge(state.verifier),
    code_challenge_method: "S256",
    state: state.state,
    nonce: state.nonce,
  });
  response.writeHead(302, { Location: url.href, "Cache-Control": "no-store" });
  response.end();
}

async function callback(request, response) {
  const config = await provider();
  const state = session(request, response);
  const current = new URL(request.url, REDIRECT_URI);
  try {
    const tokens = await client.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: state.verifier,
      expectedState: state.state,
      expectedNonce: state.nonce,
    });
    const claims = tokens.claims();
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    state.signedIn = { claims, userinfo };
    response.writeHead(303, { Location: "/" });
    response.end();
  } catch (error) {
    const code = error.error ?? error.code ?? "error";
    page(response, 400, `<p id="problem">Not signed in: <code id="error">${escape(code)}</code></p><p><a href="/">Back</a></p>`);
  } finally {
    delete state.verifier;
    delete state.state;
    delete state.nonce;
  }
}

http
  .createServer((request, response) => {
    const { pathname } = new URL(request.url, REDIRECT_URI);
    const routes = {
      "/": home,
      "/login": login,
      "/callback": callback,
      "/logout": (req, res) => {
        delete session(req, res).signedIn;
        res.writeHead(303, { Location: "/" });
        res.end();
      },
    };
    const route = routes[pathname];
    if (!route) return page(response, 404, "<p>Not found.</p>");
    Promise.resolve(route(request, response)).catch((error) => {
      console.error(error);
      if (!response.headersSent) page(response, 502, `<p>qrgate could not be reached at ${escape(ISSUER)}.</p>`);
    });
  })
  .listen(PORT, HOST, () => console.log(`example web client: http://${HOST}:${PORT}/ (issuer ${ISSUER})`));

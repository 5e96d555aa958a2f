// The floor of a scan's or a confirmation's cost on this runtime, and of a token request's, for
// scripts/bench.sh.
//
// A Worker that does only the work each of those steps cannot do without, on the same local
// workerd as qrgate. A scan: read the phone's token record from KV, then read and durably write
// the one value of the session's own SQLite-backed Durable Object, made earlier and not touched
// since. A refresh (or a code exchange, which does the same): read and durably write the value of
// the grant's own object, then sign an access token and an ID token (ES256, by WebCrypto, with a
// key made once per isolate as qrgate imports its own once). Beside them a trivial route like
// qrgate's: a JSON 404, and one log line per request as qrgate writes. Plain JavaScript with no
// wasm, no validation and no hashing, so no implementation of the steps can cost less here; the
// bench sets its ratio beside qrgate's.

import { DurableObject } from "cloudflare:workers";

// Requests of the floor's own pools carry a bearer token about as long as qrgate's.
const TOKEN = "0123456789abcdef0123456789abcdef.0123456789abcdefghijklmnopqrstuvwxyzABCDE";

export class Session extends DurableObject {
  async fetch(request) {
    const command = await request.json();
    if (command.create) {
      // About the size of a qrgate session: the PC's device, place and hashes.
      const session = {
        created_at: Date.now(),
        pc: "p".repeat(400),
        poll_secret_hash: "h".repeat(64),
      };
      await this.ctx.storage.put("session", JSON.stringify(session));
      return Response.json({ created: true });
    }
    const stored = await this.ctx.storage.get("session");
    if (stored === undefined) {
      return Response.json({ error: "not_found" }, { status: 404 });
    }
    const session = JSON.parse(stored);
    if (command.rotate) {
      session.refresh_hash = command.rotate;
    } else {
      session.scanner = command.scanner;
    }
    await this.ctx.storage.put("session", JSON.stringify(session));
    return Response.json(session);
  }
}

function ask(env, id, command) {
  return env.SESSIONS.get(id).fetch("https://object/", {
    method: "POST",
    body: JSON.stringify(command),
  });
}

// `POST /pool/trivial`, `/pool/scan` and `/pool/refresh`: one request for tests/bench/pool.lua,
// as a line (`bench pool floor-STEP` asks for as many as it needs, as it asks qrgate for its
// sessions, one request each); each scan or refresh of an object of its own, made here.
async function poolLine(env, step) {
  if (step === "trivial") {
    return `GET\t/api/trivial-404\t\tAuthorization: Bearer ${TOKEN}\n`;
  }
  const id = env.SESSIONS.newUniqueId();
  await ask(env, id, { create: true });
  if (step === "refresh") {
    const form = `grant_type=refresh_token&refresh_token=${id}`;
    return `POST\t/oauth/token\t${form}\tContent-Type: application/x-www-form-urlencoded\n`;
  }
  const key = `token:${TOKEN}`;
  if ((await env.TOKENS.get(key)) === null) {
    const record = { account: "a".repeat(40), device_id: "d".repeat(36) };
    await env.TOKENS.put(key, JSON.stringify(record));
  }
  return `POST\t/api/qr/${id}/scan\t\tAuthorization: Bearer ${TOKEN}\n`;
}

// The refresh's signing key: made by the first refresh of an isolate, as qrgate imports its own
// once per isolate.
let signingKey;

async function signed(claims) {
  signingKey ??= (
    await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"])
  ).privateKey;
  const encode = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const text = (value) => encode(new TextEncoder().encode(JSON.stringify(value)));
  const input = `${text({ alg: "ES256", typ: "JWT", kid: "floor" })}.${text(claims)}`;
  const signature = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" }, signingKey, new TextEncoder().encode(input));
  return `${input}.${encode(signature)}`;
}

async function refresh(env, request) {
  const form = new URLSearchParams(await request.text());
  const grant = env.SESSIONS.idFromString(form.get("refresh_token") ?? "");
  const next = crypto.randomUUID();
  const answer = await ask(env, grant, { rotate: next });
  const stored = await answer.json();
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: "http://floor", sub: stored.pc.slice(0, 40), aud: "client", iat: now,
    exp: now + 300 };
  const [accessToken, idToken] = await Promise.all([
    signed({ ...claims, client_id: "client", scope: "openid profile", jti: next }),
    signed({ ...claims, auth_time: now, amr: ["mca"] }),
  ]);
  return Response.json({ access_token: accessToken, token_type: "Bearer", expires_in: 300,
    id_token: idToken, refresh_token: next });
}

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    console.log(JSON.stringify({ method: request.method, path }));
    const poolRequest = path.match(/^\/pool\/(trivial|scan|refresh)$/);
    if (poolRequest && request.method === "POST") {
      return new Response(await poolLine(env, poolRequest[1]));
    }
    if (path === "/oauth/token" && request.method === "POST") {
      return refresh(env, request);
    }
    const scan = path.match(/^\/api\/qr\/([0-9a-f]{64})\/scan$/);
    if (scan && request.method === "POST") {
      const token = (request.headers.get("Authorization") ?? "").replace(/^Bearer /, "");
      const record = await env.TOKENS.get(`token:${token}`);
      if (record === null) {
        return Response.json({ error: "unauthorized" }, { status: 401 });
      }
      const answer = await ask(env, env.SESSIONS.idFromString(scan[1]), { scanner: record });
      return new Response(answer.body, answer);
    }
    return Response.json({ error: "not_found" }, { status: 404 });
  },
};

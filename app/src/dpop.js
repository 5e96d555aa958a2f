// DPoP proofs (RFC 9449; shared/API.md, "Tokens bound to a key") signed by a key that cannot
// leave this browser: one ECDSA P-256 key pair per role, made with `extractable: false` and kept
// in IndexedDB, which stores the CryptoKey objects themselves, never their bytes. A few lines
// of JS instead of web-sys's IndexedDB and SubtleCrypto bindings: the page's byte budget.

const DATABASE = "qrgate-keys";
const STORE = "keys";
const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256" };
const utf8 = (text) => new TextEncoder().encode(text);
const base64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const done = (request) =>
  new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

// The key pair named `name`, made on first use; one promise per name, so the page's parallel
// requests share it.
const keys = new Map();
function keyPair(name) {
  if (!keys.has(name)) {
    const made = (async () => {
      const opening = indexedDB.open(DATABASE, 1);
      opening.onupgradeneeded = () => opening.result.createObjectStore(STORE);
      const database = await done(opening);
      const store = (mode) => database.transaction(STORE, mode).objectStore(STORE);
      const kept = await done(store("readonly").get(name));
      if (kept) return kept;
      const pair = await crypto.subtle.generateKey(ECDSA_P256, false, ["sign"]);
      // `add`, not `put`: when another tab made one first, its key stays and is used here too.
      await done(store("readwrite").add(pair, name)).catch(() => {});
      return await done(store("readonly").get(name));
    })();
    // A failure (no IndexedDB, no WebCrypto: an insecure context) is retried on the next proof.
    made.catch(() => keys.delete(name));
    keys.set(name, made);
  }
  return keys.get(name);
}

// How far the edge's clock is ahead of this browser's, from the `Date` header of its answers: a
// proof's `iat` is judged by the edge's clock, and a computer's clock can be minutes off.
let edgeClockAhead = 0;

// Sets the proofs' clock by an answer's `Date` header; whether it moved by more than half the
// edge's 60 s tolerance (a proof refused for its time would now pass).
export function followEdgeClock(date) {
  const edge = Date.parse(date);
  if (Number.isNaN(edge)) return false;
  const before = edgeClockAhead;
  edgeClockAhead = edge - Date.now();
  return Math.abs(edgeClockAhead - before) > 30_000;
}

// A proof by the key `name` for `htm` to `htu`, with `ath` for `token` if given; `null` where
// this browser cannot keep such a key: then the request goes without, and its token is Bearer.
export async function proof(name, htm, htu, token) {
  try {
    const pair = await keyPair(name);
    const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", pair.publicKey);
    const claims = {
      htm,
      htu,
      iat: Math.floor((Date.now() + edgeClockAhead) / 1000),
      jti: base64url(crypto.getRandomValues(new Uint8Array(16))),
    };
    if (token) claims.ath = base64url(await crypto.subtle.digest("SHA-256", utf8(token)));
    const header = { typ: "dpop+jwt", alg: "ES256", jwk: { kty, crv, x, y } };
    const input = `${base64url(utf8(JSON.stringify(header)))}.${base64url(utf8(JSON.stringify(claims)))}`;
    const signature = await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" }, pair.privateKey, utf8(input));
    return `${input}.${base64url(signature)}`;
  } catch {
    return null;
  }
}

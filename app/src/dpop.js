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

// Set in localStorage once a key is kept in the database. A page of a browser that has one
// opens the database as soon as this module is evaluated, before the page's wasm is compiled and
// run, so that the key is at hand when the first request needs a proof.
const KEPT_MARK = "qrgate.keys_kept";
// A new key signs at once and is kept this much later, or as soon as a token bound to it is to be
// stored (`keepKey`): creating the database on a fresh browser profile holds up the browser's
// other work for longer than the rest of the PC page's first load takes, and that work includes
// the answer to the request the new key has just signed.
const KEEP_AFTER_MS = 1000;

const marked = () => {
  try {
    return localStorage.getItem(KEPT_MARK) !== null;
  } catch {
    return false;
  }
};

let database = marked() ? openDatabase() : null;

function openDatabase() {
  const opened = new Promise((resolve, reject) => {
    const opening = indexedDB.open(DATABASE, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore(STORE);
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
  // Opened again the next time a key is needed.
  opened.catch(() => { database = null; });
  return opened;
}

async function keyStore(mode) {
  database ??= openDatabase();
  return (await database).transaction(STORE, mode).objectStore(STORE);
}

// The key pair named `name`; one promise per name, so that the page's parallel requests share
// it. A proof for a token is always by the kept key (the token may be bound to it, even where this
// browser kept it before the mark existed); a sign-in's proof, with no key kept yet, by a new one.
const keys = new Map();
function keyPair(name, forToken) {
  if (!keys.has(name)) {
    const made = marked() || forToken ? keptKey(name) : newKey(name);
    // A failure (no IndexedDB, no WebCrypto: an insecure context) is retried on the next proof.
    made.catch(() => keys.delete(name));
    keys.set(name, made);
  }
  return keys.get(name);
}

async function keptKey(name) {
  return (await done((await keyStore("readonly")).get(name))) ?? newKey(name);
}

// New keys not kept yet: for each name, what keeps it, started at most once.
const unkept = new Map();

async function newKey(name) {
  if (typeof indexedDB === "undefined") throw new Error("no IndexedDB to keep a key in");
  const pair = await crypto.subtle.generateKey(ECDSA_P256, false, ["sign"]);
  let keeping;
  unkept.set(name, () => (keeping ??= keep(name, pair)));
  setTimeout(() => keepKey(name), KEEP_AFTER_MS);
  return pair;
}

// Keeps `pair` as the key `name`. `add`, not `put`: where another tab kept one first, that key
// stays and is read from then on; this one then serves only this page, and a token bound to it
// only until a reload.
async function keep(name, pair) {
  await done((await keyStore("readwrite")).add(pair, name)).catch((error) => {
    if (error?.name !== "ConstraintError") throw error;
  });
  localStorage.setItem(KEPT_MARK, "1");
}

// Keeps the new key `name` now if it is not kept yet, before a token bound to it is stored; a
// failure to keep it leaves the token to this page (after a reload, the page signs in again).
export async function keepKey(name) {
  await unkept.get(name)?.().catch(() => {});
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

// The edge's time now, in milliseconds: what the edge's times (a code's expiry) are counted
// against.
export function edgeNow() {
  return Date.now() + edgeClockAhead;
}

// A proof by the key `name` for `htm` to `htu`, with `ath` for `token` if given; `null` where
// this browser cannot keep such a key: then the request goes without, and its token is Bearer.
export async function proof(name, htm, htu, token) {
  try {
    const pair = await keyPair(name, Boolean(token));
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

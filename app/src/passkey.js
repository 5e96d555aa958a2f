// Passkeys (WebAuthn Level 3) in this browser: the edge's challenge, as its JSON text, to
// navigator.credentials, and the authenticator's answer back as the JSON body the edge's
// passkey routes take (shared/API.md's conventions: each binary member base64url). A few lines
// of JS instead of web-sys's credential bindings: the pages' byte budgets.

const base64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const bytes = (text) =>
  Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
// ES256, then EdDSA: the keys the edge takes.
const ALGORITHMS = [{ type: "public-key", alg: -7 }, { type: "public-key", alg: -8 }];

// The conditional request waiting on the username field's autofill, if any: a button's request
// replaces it. A browser runs one request at a time and lets the aborted one end first (else
// the new one is refused as "already pending"), so the replacement waits for that end.
let waiting = null;
async function replaceWaiting() {
  const replaced = waiting;
  waiting = null;
  if (replaced) {
    replaced.controller.abort();
    await replaced.ended;
  }
}

/** A new passkey for the signed-in account, answering a `register` challenge. */
export async function create(challengeJson) {
  const challenge = JSON.parse(challengeJson);
  await replaceWaiting();
  const credential = await navigator.credentials.create({
    publicKey: {
      challenge: bytes(challenge.challenge),
      rp: { id: challenge.rp_id, name: "qrgate" },
      user: {
        id: bytes(challenge.user.id),
        name: challenge.user.name,
        displayName: challenge.user.display_name,
      },
      pubKeyCredParams: ALGORITHMS,
      authenticatorSelection: { residentKey: "required", userVerification: "required" },
      excludeCredentials: (challenge.exclude_credentials ?? []).map((id) => ({
        type: "public-key", id: bytes(id),
      })),
      attestation: "none",
      timeout: challenge.timeout_ms,
    },
  });
  return JSON.stringify({
    client_data_json: base64url(credential.response.clientDataJSON),
    attestation_object: base64url(credential.response.attestationObject),
  });
}

/**
 * A passkey's answer to a `sign_in` challenge or a scan's: from the browser's own passkey
 * picker, or, when `conditional`, from the username field's autofill once the person picks a
 * passkey there.
 */
export async function get(challengeJson, conditional) {
  const challenge = JSON.parse(challengeJson);
  await replaceWaiting();
  const controller = new AbortController();
  const request = navigator.credentials.get({
    publicKey: {
      challenge: bytes(challenge.challenge),
      rpId: challenge.rp_id,
      allowCredentials: (challenge.allow_credentials ?? []).map((id) => ({
        type: "public-key", id: bytes(id),
      })),
      userVerification: "required",
      timeout: challenge.timeout_ms,
    },
    mediation: conditional ? "conditional" : "optional",
    signal: controller.signal,
  });
  if (conditional) waiting = { controller, ended: request.then(() => {}, () => {}) };
  const credential = await request;
  const answer = credential.response;
  return JSON.stringify({
    passkey_id: base64url(credential.rawId),
    client_data_json: base64url(answer.clientDataJSON),
    authenticator_data: base64url(answer.authenticatorData),
    signature: base64url(answer.signature),
    user_handle: base64url(answer.userHandle),
  });
}

/** Whether this browser offers passkeys in a username field's autofill. */
export async function conditionalAvailable() {
  try {
    return (await globalThis.PublicKeyCredential?.isConditionalMediationAvailable?.()) === true;
  } catch {
    return false;
  }
}

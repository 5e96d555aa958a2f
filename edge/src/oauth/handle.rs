//! The authorization handle (`shared/API.md`, "Authorization"): a checked authorization request
//! as the PC page carries it for ten minutes, to make codes for it (`POST /api/qr`) or to sign
//! in with the browser's own token (`POST /api/authorizations`). Opaque to clients and
//! tamper-proof: the request and its expiry, base64url, then an HMAC-SHA256 of them under a key
//! derived from a signing key (`oauth/keys.rs`), so the edge keeps no state for it and any
//! location checks it. The request holds nothing secret (the page's URL held it all).

use super::Registry;
use super::keys::KeySet;
use crate::crypto::{decode, encode};
use crate::error::AppError;
use hmac::{Hmac, Mac};
use qrgate_protocol::oauth::AUTHORIZATION_HANDLE_TTL_SECONDS;
use qrgate_protocol::oauth::authorize::AuthorizationRequest;
use qrgate_protocol::oauth::clients::SigningAlg;
use qrgate_protocol::qr::ForApp;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

#[derive(Serialize, Deserialize)]
struct Payload {
    request: AuthorizationRequest,
    /// Unix seconds.
    expires_at: u64,
}

/// The MAC of `body` under `key`. HMAC takes a key of any length, so there is always one.
fn mac(key: &[u8; 32], body: &str) -> Option<Hmac<Sha256>> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
    mac.update(body.as_bytes());
    Some(mac)
}

/// A handle for `request`, good for ten minutes from `now`, under the ES256 signing key's MAC
/// key; `None` if the set has none (it always has: `KeySet::parse` requires one).
pub fn mint(keys: &KeySet, request: &AuthorizationRequest, now: u64) -> Option<String> {
    let key = keys.signer(SigningAlg::Es256)?;
    let payload = Payload {
        request: request.clone(),
        expires_at: now + AUTHORIZATION_HANDLE_TTL_SECONDS,
    };
    let body = encode(&serde_json::to_vec(&payload).ok()?);
    let tag = mac(&key.mac_key, &body)?.finalize().into_bytes();
    Some(format!("{body}.{}", encode(&tag)))
}

/// The request a handle carries, if one of the set's keys made it and it has not expired. Made
/// by a key that was rotated out since: refused, as any forged handle.
pub fn open(keys: &KeySet, handle: &str, now: u64) -> Option<AuthorizationRequest> {
    let (body, tag) = handle.split_once('.')?;
    let tag = decode(tag).ok()?;
    // Compared in constant time.
    let genuine = keys
        .all()
        .iter()
        .any(|key| mac(&key.mac_key, body).is_some_and(|mac| mac.verify_slice(&tag).is_ok()));
    if !genuine {
        return None;
    }
    let payload: Payload = serde_json::from_slice(&decode(body).ok()?).ok()?;
    (now < payload.expires_at).then_some(payload.request)
}

/// The app whose request `handle` carries, named as registered now: what a QR session for it,
/// or a single sign-on into it, is made for. `None` for a bad or stale handle, or a client
/// that was removed since.
pub fn for_app(registry: &Registry, handle: &str, now: u64) -> Option<ForApp> {
    let request = open(&registry.keys, handle, now)?;
    let client_name = registry.client(&request.client_id)?.client_name.clone();
    Some(ForApp {
        request,
        client_name,
    })
}

/// The answer to a handle that does not open: `400`.
pub fn stale() -> AppError {
    AppError::invalid(
        "The authorization is unknown or has expired: go back to the app and start again.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrgate_protocol::oauth::authorize::Prompt;

    const EC: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cLH17aeTDDPYmhdlrTDgl8","kid":"ec-1","alg":"ES256"}]}"#;
    const NOW: u64 = 1_700_000_000;

    fn request() -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: "app".into(),
            redirect_uri: "https://app.example/cb".into(),
            scope: vec!["openid".into()],
            state: Some("s".into()),
            nonce: None,
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            prompt: Prompt::Default,
            max_age: None,
        }
    }

    #[test]
    fn a_handle_opens_to_its_request_for_ten_minutes() {
        let keys = KeySet::parse(EC).unwrap();
        let handle = mint(&keys, &request(), NOW).unwrap();
        assert_eq!(open(&keys, &handle, NOW + 599), Some(request()));
        assert_eq!(open(&keys, &handle, NOW + 600), None);
    }

    #[test]
    fn a_changed_or_foreign_handle_is_refused() {
        let keys = KeySet::parse(EC).unwrap();
        let handle = mint(&keys, &request(), NOW).unwrap();
        let (body, tag) = handle.split_once('.').unwrap();
        let mut changed = request();
        changed.redirect_uri = "https://evil.example/cb".into();
        let forged_body = encode(
            &serde_json::to_vec(&Payload {
                request: changed,
                expires_at: NOW + 600,
            })
            .unwrap(),
        );
        for bad in [
            format!("{forged_body}.{tag}"),
            format!("{body}.{}", encode(b"not the mac")),
            format!("{body}x.{tag}"),
            body.to_owned(),
            String::new(),
        ] {
            assert_eq!(open(&keys, &bad, NOW), None, "{bad}");
        }
        let other = KeySet::parse(&EC.replace("jpsQnnGQ", "kpsQnnGQ")).unwrap();
        assert_eq!(open(&other, &handle, NOW), None);
    }
}

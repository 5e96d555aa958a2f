//! A client's DPoP key (RFC 9449; `shared/API.md`, "Tokens bound to a key"): a real ES256
//! signer, as a browser's non-extractable WebCrypto key signs, for proofs the edge must accept
//! and, changed one part at a time, proofs it must refuse.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use qrgate_protocol::Secret;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};

/// An ECDSA P-256 key pair that signs proofs.
pub struct Key {
    signing: SigningKey,
}

impl Default for Key {
    fn default() -> Self {
        Self::new()
    }
}

impl Key {
    /// A new key from 256 random bits.
    pub fn new() -> Self {
        loop {
            let mut scalar = [0u8; 32];
            getrandom::fill(&mut scalar).expect("the system has randomness");
            // A value of zero or at least the curve's order (chance about 2^-32) is not a key.
            if let Ok(signing) = SigningKey::from_slice(&scalar) {
                return Self { signing };
            }
        }
    }

    /// The signing key itself: a passkey authenticator (`passkey.rs`) signs with one too.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The key of a private JWK (its `d`): the tests forge tokens with the provider's own key.
    pub fn from_jwk(jwk: &Value) -> Self {
        let d = URL_SAFE_NO_PAD
            .decode(jwk["d"].as_str().expect("a private EC key"))
            .expect("base64url");
        Self {
            signing: SigningKey::from_slice(&d).expect("a P-256 scalar"),
        }
    }

    /// The public key as a JWK, the only form a proof carries it in.
    pub fn public_jwk(&self) -> Value {
        let point = self.signing.verifying_key().to_encoded_point(false);
        let coordinate = |c: Option<&p256::FieldBytes>| {
            URL_SAFE_NO_PAD.encode(c.expect("an uncompressed point has both coordinates"))
        };
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": coordinate(point.x()),
            "y": coordinate(point.y()),
        })
    }

    /// The JWS header of this key's proofs.
    pub fn header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.public_jwk()})
    }

    /// A fresh proof for one request: `method` to `url`, with `token` (as `ath`) if it
    /// accompanies one.
    pub fn proof(&self, method: &str, url: &str, token: Option<&Secret>) -> String {
        self.sign(&self.header(), &claims(method, url, token))
    }

    /// A compact JWS of `header` and `claims`, signed by this key.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let signing_input = format!("{}.{}", encode_json(header), encode_json(claims));
        let signature: Signature = self.signing.sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }
}

/// The claims of a fresh proof: `htm`, `htu` (without query and fragment), `iat` now, a unique
/// `jti`, and `ath` when a token goes with it.
pub fn claims(method: &str, url: &str, token: Option<&Secret>) -> Value {
    let htu = url.split(['?', '#']).next().unwrap_or(url);
    let mut claims = json!({
        "htm": method,
        "htu": htu,
        "iat": now_seconds(),
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    if let Some(token) = token {
        claims["ath"] = ath_of(token).into();
    }
    claims
}

/// The base64url SHA-256 of a token, as `ath` carries it.
pub fn ath_of(token: &Secret) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.expose().as_bytes()))
}

pub fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

fn encode_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

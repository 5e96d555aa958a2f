//! Secrets: random generation, hashing for storage, constant-time comparison, and the slow
//! salted password hash (PBKDF2-HMAC-SHA256 through WebCrypto, natively in the runtime).

use crate::error::{AppError, AppResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use qrgate_protocol::hex;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// PBKDF2 rounds: the most Workers' WebCrypto accepts in production (`wrangler dev` would take
/// more, and a deployed worker would then refuse every login).
pub const PASSWORD_ITERATIONS: u32 = 100_000;

/// `bytes` random bytes from the platform's CSPRNG.
pub fn random_bytes<const N: usize>() -> AppResult<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("getrandom: {e}")))?;
    Ok(bytes)
}

/// A fresh secret of 256 random bits, URL-safe base64 (43 characters).
pub fn random_secret() -> AppResult<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// How a secret is stored and looked up: SHA-256, hex. A fast hash is enough here because
/// every such secret carries 256 random bits; passwords get [`derive_password_key`] instead.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Equality whose time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn decode(text: &str) -> AppResult<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| AppError::Internal(format!("stored base64: {e}")))
}

/// PBKDF2-HMAC-SHA256 of `password` with `salt`, 256 bits, through the runtime's WebCrypto.
pub async fn derive_password_key(
    password: &str,
    salt: &[u8],
    iterations: u32,
) -> AppResult<Vec<u8>> {
    let js = |what: &'static str| {
        move |e: wasm_bindgen::JsValue| AppError::Internal(format!("webcrypto {what}: {e:?}"))
    };
    let subtle = crate::webcrypto::subtle().map_err(js("global crypto"))?;
    let usages = js_sys::Array::of1(&"deriveBits".into());
    let raw = js_sys::Uint8Array::from(password.as_bytes());
    let key = subtle
        .import_key_with_str("raw", &raw, "PBKDF2", false, &usages)
        .map_err(js("importKey"))?;
    let key: web_sys::CryptoKey = JsFuture::from(key)
        .await
        .map_err(js("importKey"))?
        .unchecked_into();
    let params = web_sys::Pbkdf2Params::new_with_str(
        "PBKDF2",
        "SHA-256",
        iterations,
        &js_sys::Uint8Array::from(salt),
    );
    let bits = subtle
        .derive_bits_with_object(&params, &key, 256)
        .map_err(js("deriveBits"))?;
    let bits = JsFuture::from(bits).await.map_err(js("deriveBits"))?;
    Ok(js_sys::Uint8Array::new(&bits).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_carry_256_bits_and_differ() {
        let a = random_secret().unwrap();
        let b = random_secret().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }

    #[test]
    fn stored_hashes_are_sha256_hex() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn constant_time_equality() {
        assert!(constant_time_eq(b"same", b"same"));
        assert!(!constant_time_eq(b"same", b"sane"));
        assert!(!constant_time_eq(b"same", b"same-but-longer"));
    }
}

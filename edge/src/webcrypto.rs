//! The runtime's WebCrypto, for what it does natively that the bundle would otherwise have to
//! carry in Rust: PBKDF2 for passwords (`crypto.rs`), and ECDSA P-256 and RSASSA-PKCS1-v1_5
//! signatures, checked for DPoP proofs (`dpop.rs`) and made and checked for the provider's
//! tokens (`oauth/keys.rs`), and passkeys' ES256 and Ed25519 signatures
//! (`objects/keyring.rs`). Natively they cost the request a fraction of what curve or RSA
//! arithmetic compiled to wasm would (`README.md`, the benchmark's signing figures).

use qrgate_protocol::passkey::{PublicKey, Signed};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The signature algorithms used here, as JOSE names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256: signatures are `r || s`, 64 bytes, as JWS wants them.
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
}

impl Algorithm {
    /// What `importKey` is told of a key of this algorithm.
    fn import_params(self) -> Result<js_sys::Object, JsValue> {
        match self {
            Self::Es256 => object(&[("name", "ECDSA"), ("namedCurve", "P-256")]),
            Self::Rs256 => object(&[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-256")]),
        }
    }

    /// What `sign` and `verify` are told.
    fn signature_params(self) -> Result<js_sys::Object, JsValue> {
        match self {
            Self::Es256 => object(&[("name", "ECDSA"), ("hash", "SHA-256")]),
            Self::Rs256 => object(&[("name", "RSASSA-PKCS1-v1_5")]),
        }
    }
}

/// A plain object of string members.
pub fn object(pairs: &[(&str, &str)]) -> Result<js_sys::Object, JsValue> {
    let object = js_sys::Object::new();
    for (name, value) in pairs {
        js_sys::Reflect::set(&object, &(*name).into(), &(*value).into())?;
    }
    Ok(object)
}

pub fn subtle() -> Result<web_sys::SubtleCrypto, JsValue> {
    let crypto: web_sys::Crypto =
        js_sys::Reflect::get(&js_sys::global(), &"crypto".into())?.unchecked_into();
    Ok(crypto.subtle())
}

/// Imports a JSON Web Key, given as JSON text, for `usage` (`"sign"` or `"verify"`); the key
/// cannot be exported again.
pub async fn import_jwk(
    jwk_json: &str,
    algorithm: Algorithm,
    usage: &str,
) -> Result<web_sys::CryptoKey, JsValue> {
    let jwk: js_sys::Object = js_sys::JSON::parse(jwk_json)?.unchecked_into();
    let usages = js_sys::Array::of1(&usage.into());
    let key = subtle()?.import_key_with_object(
        "jwk",
        &jwk,
        &algorithm.import_params()?,
        false,
        &usages,
    )?;
    Ok(JsFuture::from(key).await?.unchecked_into())
}

/// The signature of `data` by `key`.
pub async fn sign(
    algorithm: Algorithm,
    key: &web_sys::CryptoKey,
    data: &[u8],
) -> Result<Vec<u8>, JsValue> {
    let signed =
        subtle()?.sign_with_object_and_u8_array(&algorithm.signature_params()?, key, data)?;
    Ok(js_sys::Uint8Array::new(&JsFuture::from(signed).await?).to_vec())
}

/// Whether `signature` is `key`'s over `data`.
pub async fn verify(
    algorithm: Algorithm,
    key: &web_sys::CryptoKey,
    signature: &[u8],
    data: &[u8],
) -> Result<bool, JsValue> {
    verify_with(&algorithm.signature_params()?, key, signature, data).await
}

async fn verify_with(
    params: &js_sys::Object,
    key: &web_sys::CryptoKey,
    signature: &[u8],
    data: &[u8],
) -> Result<bool, JsValue> {
    let verified =
        subtle()?.verify_with_object_and_u8_array_and_u8_array(params, key, signature, data)?;
    Ok(JsFuture::from(verified).await?.as_bool() == Some(true))
}

/// A passkey's public key (ES256 or Ed25519) imported raw for verifying; `Err` for a key
/// WebCrypto refuses, such as a point that is not on the curve.
pub async fn passkey_key(key: &PublicKey) -> Result<web_sys::CryptoKey, JsValue> {
    let raw = js_sys::Uint8Array::from(&key.raw()[..]);
    let usages = js_sys::Array::of1(&"verify".into());
    let imported = subtle()?.import_key_with_object(
        "raw",
        &raw,
        &passkey_params(key, true)?,
        false,
        &usages,
    )?;
    Ok(JsFuture::from(imported).await?.unchecked_into())
}

/// Whether a passkey's signature verifies with its public key; `false` for a key or a
/// signature WebCrypto cannot use.
pub async fn verify_passkey(key: &PublicKey, signed: &Signed) -> bool {
    let verified = async {
        let imported = passkey_key(key).await?;
        let params = passkey_params(key, false)?;
        verify_with(&params, &imported, &signed.signature, &signed.data).await
    };
    verified.await.unwrap_or(false)
}

/// What `importKey` (`import`) or `verify` is told of a passkey's key.
fn passkey_params(key: &PublicKey, import: bool) -> Result<js_sys::Object, JsValue> {
    match (key, import) {
        (PublicKey::Es256 { .. }, true) => object(&[("name", "ECDSA"), ("namedCurve", "P-256")]),
        (PublicKey::Es256 { .. }, false) => object(&[("name", "ECDSA"), ("hash", "SHA-256")]),
        (PublicKey::Ed25519 { .. }, _) => object(&[("name", "Ed25519")]),
    }
}

//! Compact JWS (RFC 7515 §7.1), as DPoP proofs (`dpop.rs`) and the provider's tokens
//! (`oauth/tokens.rs`) are written: three base64url parts, the first two JSON objects. Reading
//! is strict: anything else is no JWS, and never a panic.

use crate::crypto::encode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use qrgate_protocol::validate;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A compact JWS split into its parts, its header and claims still encoded.
pub struct Compact<'a> {
    pub header: &'a str,
    pub claims: &'a str,
    pub signature: Vec<u8>,
}

impl<'a> Compact<'a> {
    /// Splits `token` into exactly three parts, the last decoded; `None` for anything else.
    pub fn split(token: &'a str) -> Option<Self> {
        let mut parts = token.trim().split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        Some(Self {
            header,
            claims,
            signature: URL_SAFE_NO_PAD.decode(signature).ok()?,
        })
    }

    /// What the signature is over: the encoded header and claims.
    pub fn signing_input(&self) -> String {
        format!("{}.{}", self.header, self.claims)
    }
}

/// A header or claims part as `T`: base64url of a JSON object (serde alone would read a
/// struct from an array of its values too).
pub fn segment<T: DeserializeOwned>(encoded: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
    if !validate::is_json_object(&bytes) {
        return None;
    }
    serde_json::from_slice(&bytes).ok()
}

/// The signing input of a new JWS: the header and claims, each JSON, base64url.
pub fn signing_input<H: Serialize, C: Serialize>(
    header: &H,
    claims: &C,
) -> serde_json::Result<String> {
    Ok(format!(
        "{}.{}",
        encode(&serde_json::to_vec(header)?),
        encode(&serde_json::to_vec(claims)?)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Part {
        a: u8,
    }

    #[test]
    fn a_signing_input_splits_back_into_its_parts() {
        let input = signing_input(&Part { a: 1 }, &Part { a: 2 }).unwrap();
        let token = format!("{input}.{}", encode(b"sig"));
        let compact = Compact::split(&token).unwrap();
        assert_eq!(segment::<Part>(compact.header), Some(Part { a: 1 }));
        assert_eq!(segment::<Part>(compact.claims), Some(Part { a: 2 }));
        assert_eq!(compact.signature, b"sig");
        assert_eq!(compact.signing_input(), input);
    }

    #[test]
    fn anything_but_three_parts_of_json_objects_is_refused() {
        for bad in ["", "a.b", "a.b.c.d", "a.b.!!"] {
            assert!(Compact::split(bad).is_none(), "{bad}");
        }
        assert_eq!(segment::<Part>(&encode(b"[1]")), None);
        assert_eq!(segment::<Part>("not base64!"), None);
    }
}

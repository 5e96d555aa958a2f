//! DPoP proofs (RFC 9449; `shared/API.md`, "Tokens bound to a key"): a compact JWS a client
//! signs with a key it cannot export, for one request. [`parse`] checks its form (`jws.rs`), and
//! [`Proof::verify`] checks it against a request: its claims (pure, tested on the host), then
//! its signature through the runtime's WebCrypto (`webcrypto.rs`: smaller in the bundle than a
//! P-256 implementation in Rust).

use crate::crypto::{decode, encode};
use crate::jws::{self, Compact};
use crate::webcrypto::{self, Algorithm};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use wasm_bindgen::JsValue;

/// How far a proof's `iat` may be from the edge's clock.
pub const MAX_CLOCK_SKEW_SECONDS: u64 = 60;
/// A P-256 coordinate, and an ES256 signature (`r || s`), in bytes.
const COORDINATE_BYTES: usize = 32;
const SIGNATURE_BYTES: usize = 64;

/// Why a proof is refused; the client is told only `invalid_dpop_proof`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid;

/// What a proof must say: this request's method and URL, and the token it accompanies (as
/// `ath`, the base64url SHA-256 of the token) if it accompanies one.
pub struct Expected<'a> {
    pub htm: &'a str,
    pub htu: &'a str,
    pub now_seconds: u64,
    pub token: Option<&'a str>,
}

/// A proof whose form holds: a compact JWS with a `dpop+jwt` header for ES256 and a public
/// P-256 key, and the claims a proof needs. Whether it holds for a request, [`Proof::verify`]
/// says.
#[derive(Debug)]
pub struct Proof {
    claims: Claims,
    /// The RFC 7638 SHA-256 thumbprint of the proof's key: what a token is bound to.
    thumbprint: String,
    signing_input: String,
    signature: Vec<u8>,
    x: String,
    y: String,
}

#[derive(Deserialize)]
struct Header {
    typ: String,
    alg: String,
    jwk: Jwk,
}

/// A public EC key. A private part (`d`) makes the proof invalid: a client that sends it has
/// let its key out.
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    crv: String,
    x: String,
    y: String,
    #[serde(default)]
    d: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
struct Claims {
    htm: String,
    htu: String,
    iat: u64,
    jti: String,
    #[serde(default)]
    ath: Option<String>,
}

/// A URL as `htu` compares it (RFC 9449 §4.3, RFC 3986 §6.2.2–6.2.3): without query and
/// fragment, scheme and host in lower case, without the scheme's default port.
fn htu_of(url: &str) -> Option<String> {
    let without_query = url.split(['?', '#']).next().unwrap_or(url);
    let (scheme, rest) = without_query.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = rest.find('/').map_or((rest, "/"), |at| rest.split_at(at));
    let authority = authority.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    let host = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{host}{path}"))
}

/// The base64url SHA-256 of a token, as `ath` carries it.
pub fn ath_of(token: &str) -> String {
    encode(&Sha256::digest(token.as_bytes()))
}

/// Reads a proof and checks its form; anything else is malformed, on any request.
pub fn parse(proof: &str) -> Result<Proof, Invalid> {
    let compact = Compact::split(proof).ok_or(Invalid)?;
    let header: Header = jws::segment(compact.header).ok_or(Invalid)?;
    let claims: Claims = jws::segment(compact.claims).ok_or(Invalid)?;
    let signature = compact.signature.clone();
    let jwk = header.jwk;
    let coordinate = |c: &str| decode(c).is_ok_and(|b| b.len() == COORDINATE_BYTES);
    let form_holds = header.typ.eq_ignore_ascii_case("dpop+jwt")
        && header.alg == "ES256"
        && jwk.kty == "EC"
        && jwk.crv == "P-256"
        && jwk.d.is_none()
        && coordinate(&jwk.x)
        && coordinate(&jwk.y)
        && signature.len() == SIGNATURE_BYTES
        && !claims.jti.is_empty();
    if !form_holds {
        return Err(Invalid);
    }
    Ok(Proof {
        claims,
        thumbprint: thumbprint(&jwk.x, &jwk.y),
        signing_input: compact.signing_input(),
        signature,
        x: jwk.x,
        y: jwk.y,
    })
}

impl Proof {
    /// Checks the claims against `expected`: all but the signature.
    fn check(&self, expected: &Expected<'_>) -> Result<(), Invalid> {
        let claims = &self.claims;
        let iat_holds = claims.iat.abs_diff(expected.now_seconds) <= MAX_CLOCK_SKEW_SECONDS;
        let ath_holds = match expected.token {
            Some(token) => claims.ath.as_deref() == Some(ath_of(token).as_str()),
            // A proof with a poll secret or a sign-in carries no token to hash.
            None => true,
        };
        let claims_hold = claims.htm == expected.htm
            && htu_of(&claims.htu).is_some_and(|claimed| Some(claimed) == htu_of(expected.htu))
            && iat_holds
            && ath_holds;
        if claims_hold { Ok(()) } else { Err(Invalid) }
    }

    /// Checks the proof whole against `expected`: its claims, then its signature. The key's
    /// thumbprint, or [`Invalid`]; a runtime that fails to verify at all makes the proof
    /// invalid too.
    pub async fn verify(&self, expected: &Expected<'_>) -> Result<&str, Invalid> {
        self.check(expected)?;
        match self.signature_holds().await {
            Ok(true) => Ok(&self.thumbprint),
            _ => Err(Invalid),
        }
    }

    async fn signature_holds(&self) -> Result<bool, JsValue> {
        let jwk = serde_json::json!({"kty": "EC", "crv": "P-256", "x": self.x, "y": self.y});
        let key = webcrypto::import_jwk(&jwk.to_string(), Algorithm::Es256, "verify").await?;
        webcrypto::verify(
            Algorithm::Es256,
            &key,
            &self.signature,
            self.signing_input.as_bytes(),
        )
        .await
    }
}

/// RFC 7638: the SHA-256 of the key's required members, in lexicographic order, no spaces.
fn thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    encode(&Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const NOW: u64 = 1_700_000_000;
    const X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
    const URL: &str = "https://qrgate.example/api/me";

    /// Everything but the signature, which needs the runtime.
    fn check(proof: &str, expected: &Expected<'_>) -> Result<String, Invalid> {
        let proof = parse(proof)?;
        proof.check(expected)?;
        Ok(proof.thumbprint)
    }

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    fn proof(header: &str, claims: &str) -> String {
        format!(
            "{}.{}.{}",
            b64(header),
            b64(claims),
            URL_SAFE_NO_PAD.encode([7u8; 64])
        )
    }

    fn header() -> String {
        format!(
            r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{{"kty":"EC","crv":"P-256","x":"{X}","y":"{Y}"}}}}"#
        )
    }

    fn claims(htm: &str, htu: &str, iat: u64, ath: Option<&str>) -> String {
        let ath = ath.map_or(String::new(), |a| format!(r#","ath":"{a}""#));
        format!(r#"{{"htm":"{htm}","htu":"{htu}","iat":{iat},"jti":"j-1"{ath}}}"#)
    }

    fn expected(token: Option<&str>) -> Expected<'_> {
        Expected {
            htm: "GET",
            htu: URL,
            now_seconds: NOW,
            token,
        }
    }

    #[test]
    fn a_well_formed_proof_names_its_key_by_its_rfc_7638_thumbprint() {
        let ath = ath_of("tok");
        let checked = check(
            &proof(&header(), &claims("GET", URL, NOW, Some(&ath))),
            &expected(Some("tok")),
        )
        .unwrap();
        assert_eq!(checked, thumbprint(X, Y));
        // RFC 9449's example key (section 4.1) and its `jkt` (section 6.1).
        assert_eq!(
            thumbprint(
                "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
                "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"
            ),
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
        );
    }

    #[test]
    fn the_url_is_compared_without_query_or_fragment_and_normalised() {
        for claimed in [
            format!("{URL}?a=1#b"),
            "HTTPS://QRGate.Example:443/api/me".to_owned(),
        ] {
            assert!(
                check(
                    &proof(&header(), &claims("GET", &claimed, NOW, None)),
                    &expected(None)
                )
                .is_ok(),
                "{claimed}"
            );
        }
        for other in [
            "https://qrgate.example/api/ME",
            "http://qrgate.example/api/me",
            "https://qrgate.example:8443/api/me",
            "/api/me",
        ] {
            assert_eq!(
                check(
                    &proof(&header(), &claims("GET", other, NOW, None)),
                    &expected(None)
                )
                .err(),
                Some(Invalid),
                "{other}"
            );
        }
        let other = "https://qrgate.example/api/devices";
        assert_eq!(
            check(
                &proof(&header(), &claims("GET", other, NOW, None)),
                &expected(None)
            )
            .err(),
            Some(Invalid)
        );
    }

    #[test]
    fn every_claim_must_hold() {
        let ath = ath_of("tok");
        let cases = [
            claims("POST", URL, NOW, Some(&ath)),
            claims("GET", "https://evil.example/api/me", NOW, Some(&ath)),
            claims("GET", URL, NOW - 61, Some(&ath)),
            claims("GET", URL, NOW + 61, Some(&ath)),
            claims("GET", URL, NOW, Some(&ath_of("another token"))),
            claims("GET", URL, NOW, None),
            format!(r#"{{"htm":"GET","htu":"{URL}","iat":{NOW},"ath":"{ath}"}}"#),
            format!(r#"{{"htm":"GET","htu":"{URL}","iat":{NOW},"jti":"","ath":"{ath}"}}"#),
        ];
        for claims in cases {
            assert_eq!(
                check(&proof(&header(), &claims), &expected(Some("tok"))).err(),
                Some(Invalid),
                "{claims}"
            );
        }
        for iat in [NOW - 60, NOW + 60] {
            assert!(
                check(
                    &proof(&header(), &claims("GET", URL, iat, Some(&ath))),
                    &expected(Some("tok"))
                )
                .is_ok()
            );
        }
    }

    #[test]
    fn only_an_es256_dpop_proof_with_a_public_p256_key_holds() {
        let claims = claims("GET", URL, NOW, None);
        let key =
            |extra: &str| format!(r#"{{"kty":"EC","crv":"P-256","x":"{X}","y":"{Y}"{extra}}}"#);
        let headers = [
            format!(r#"{{"typ":"JWT","alg":"ES256","jwk":{}}}"#, key("")),
            format!(r#"{{"typ":"dpop+jwt","alg":"RS256","jwk":{}}}"#, key("")),
            format!(r#"{{"typ":"dpop+jwt","alg":"none","jwk":{}}}"#, key("")),
            format!(
                r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{}}}"#,
                key(r#","d":"c2VjcmV0""#)
            ),
            format!(
                r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{{"kty":"EC","crv":"P-384","x":"{X}","y":"{Y}"}}}}"#
            ),
            format!(
                r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{{"kty":"EC","crv":"P-256","x":"AAAA","y":"{Y}"}}}}"#
            ),
            r#"{"typ":"dpop+jwt","alg":"ES256"}"#.to_owned(),
        ];
        for header in headers {
            assert_eq!(
                check(&proof(&header, &claims), &expected(None)).err(),
                Some(Invalid),
                "{header}"
            );
        }
    }

    #[test]
    fn malformed_proofs_are_invalid_never_a_panic() {
        let good = proof(&header(), &claims("GET", URL, NOW, None));
        let truncated = &good[..good.len() - 10];
        let no_signature = good.rsplit_once('.').unwrap().0.to_owned();
        // The claims as an array of their values in order, which serde alone would read.
        let claims_as_array = proof(&header(), &format!(r#"["GET","{URL}",{NOW},"j-1"]"#));
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "not base64!.x.y",
            &format!("{}.{}.{}", b64("not json"), b64("{}"), b64("x")),
            truncated,
            &no_signature,
            &claims_as_array,
        ] {
            assert_eq!(check(bad, &expected(None)).err(), Some(Invalid), "{bad}");
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_is_refused_without_a_panic(text in "\\PC{0,300}") {
            prop_assert!(parse(&text).is_err());
        }
    }
}

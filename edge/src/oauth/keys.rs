//! The provider's signing keys, `OIDC_SIGNING_KEYS`: a JSON Web Key Set of private keys, each
//! with `kid` and `alg`, EC P-256 for `ES256` and RSA of at least 2048 bits for `RS256`. Per
//! algorithm the first key signs and every key is published (its public members only), so a
//! key can be published before it signs and kept published after it stops.
//!
//! Signing and checking go through the runtime's WebCrypto (`webcrypto.rs`), each key imported
//! once per isolate. A key's private members never leave this module: not in a log line, not
//! in an error.

use crate::crypto::decode;
use crate::webcrypto::{self, Algorithm};
use qrgate_protocol::oauth::clients::SigningAlg;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;

/// RSA keys shorter than this are refused (RFC 7518 §3.3).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// One key of the set, checked.
pub struct SigningKey {
    pub kid: String,
    pub alg: SigningAlg,
    /// Only the members WebCrypto imports, as JSON text.
    private_jwk: String,
    /// What the JWKS publishes.
    public_jwk: Value,
    /// The key of the authorization handles' MAC, derived from the private key
    /// (`oauth/handle.rs`).
    pub mac_key: [u8; 32],
}

pub struct KeySet {
    keys: Vec<SigningKey>,
}

impl KeySet {
    /// Reads `OIDC_SIGNING_KEYS`. The error names the key (by position and `kid`) and the rule
    /// it breaks, never a key's contents.
    pub fn parse(json: &str) -> Result<Self, String> {
        let set: Value = serde_json::from_str(json)
            .map_err(|_| "OIDC_SIGNING_KEYS is not JSON (a JSON Web Key Set)".to_owned())?;
        let members = set
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("OIDC_SIGNING_KEYS has no \"keys\" array")?;
        let mut keys: Vec<SigningKey> = Vec::with_capacity(members.len());
        for (index, member) in members.iter().enumerate() {
            let key = member
                .as_object()
                .ok_or_else(|| format!("OIDC_SIGNING_KEYS key {index} is not an object"))
                .and_then(|jwk| {
                    check_key(jwk).map_err(|why| {
                        let kid = jwk.get("kid").and_then(Value::as_str).unwrap_or("?");
                        format!("OIDC_SIGNING_KEYS key {index} (kid {kid:?}): {why}")
                    })
                })?;
            if keys.iter().any(|k| k.kid == key.kid) {
                return Err(format!(
                    "OIDC_SIGNING_KEYS key {index}: kid {:?} is used twice",
                    key.kid
                ));
            }
            keys.push(key);
        }
        if !keys.iter().any(|k| k.alg == SigningAlg::Es256) {
            return Err("OIDC_SIGNING_KEYS has no ES256 key: tokens are signed ES256".into());
        }
        Ok(Self { keys })
    }

    /// The key that signs with `alg`: the first of the set.
    pub fn signer(&self, alg: SigningAlg) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.alg == alg)
    }

    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    pub fn all(&self) -> &[SigningKey] {
        &self.keys
    }

    /// `GET /oauth/jwks`: every key's public members.
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.keys.iter().map(|k| &k.public_jwk).collect::<Vec<_>>() })
    }
}

/// The members of `jwk` named in `names`, each a base64url string, decoded.
fn decoded(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>, String> {
    jwk.get(name)
        .and_then(Value::as_str)
        .and_then(|text| decode(text).ok())
        .filter(|bytes| !bytes.is_empty())
        .ok_or_else(|| format!("\"{name}\" is missing or not base64url"))
}

fn text<'a>(jwk: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    jwk.get(name).and_then(Value::as_str)
}

fn check_key(jwk: &Map<String, Value>) -> Result<SigningKey, String> {
    let kid = text(jwk, "kid")
        .filter(|kid| (1..=64).contains(&kid.len()) && kid.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or("\"kid\" must be 1-64 printable characters")?
        .to_owned();
    if text(jwk, "use").is_some_and(|usage| usage != "sig") {
        return Err("\"use\" must be \"sig\"".into());
    }
    let alg = text(jwk, "alg")
        .and_then(SigningAlg::parse)
        .ok_or("\"alg\" must be ES256 or RS256")?;
    let (kty, private_members, public_members): (&str, &[&str], &[&str]) = match alg {
        SigningAlg::Es256 => ("EC", &["crv", "x", "y", "d"], &["crv", "x", "y"]),
        SigningAlg::Rs256 => (
            "RSA",
            &["n", "e", "d", "p", "q", "dp", "dq", "qi"],
            &["n", "e"],
        ),
    };
    if text(jwk, "kty") != Some(kty) {
        return Err(format!("an {} key has \"kty\": \"{kty}\"", alg.as_str()));
    }
    for member in private_members.iter().filter(|m| **m != "crv") {
        decoded(jwk, member)?;
    }
    match alg {
        SigningAlg::Es256 => {
            if text(jwk, "crv") != Some("P-256") {
                return Err("an ES256 key is on \"crv\": \"P-256\"".into());
            }
            for coordinate in ["x", "y", "d"] {
                if decoded(jwk, coordinate)?.len() != 32 {
                    return Err(format!("\"{coordinate}\" of a P-256 key is 32 bytes"));
                }
            }
        }
        SigningAlg::Rs256 => {
            if decoded(jwk, "n")?.len() < MIN_RSA_MODULUS_BYTES {
                return Err("an RS256 key has at least 2048 bits".into());
            }
        }
    }
    let pick = |members: &[&str]| -> Map<String, Value> {
        let mut picked = Map::new();
        picked.insert("kty".into(), kty.into());
        for member in members {
            if let Some(value) = jwk.get(*member) {
                picked.insert((*member).to_owned(), value.clone());
            }
        }
        picked
    };
    let mut public_jwk = pick(public_members);
    public_jwk.insert("kid".into(), kid.clone().into());
    public_jwk.insert("alg".into(), alg.as_str().into());
    public_jwk.insert("use".into(), "sig".into());
    let private_jwk = Value::Object(pick(private_members)).to_string();
    let mut mac = Sha256::new();
    mac.update(b"qrgate authorization handle v1\0");
    mac.update(decoded(jwk, "d")?);
    Ok(SigningKey {
        kid,
        alg,
        private_jwk,
        public_jwk: Value::Object(public_jwk),
        mac_key: mac.finalize().into(),
    })
}

fn algorithm(alg: SigningAlg) -> Algorithm {
    match alg {
        SigningAlg::Es256 => Algorithm::Es256,
        SigningAlg::Rs256 => Algorithm::Rs256,
    }
}

thread_local! {
    /// Keys imported into WebCrypto, by what they are for and their JWK: an isolate imports
    /// each once. (A new set of keys comes with a new deploy, and so a new isolate.)
    static IMPORTED: RefCell<HashMap<(bool, String), web_sys::CryptoKey>> = RefCell::new(HashMap::new());
}

impl SigningKey {
    async fn imported(&self, signing: bool) -> Result<web_sys::CryptoKey, String> {
        let jwk = if signing {
            self.private_jwk.clone()
        } else {
            self.public_jwk.to_string()
        };
        let cache_key = (signing, jwk);
        if let Some(key) = IMPORTED.with_borrow(|imported| imported.get(&cache_key).cloned()) {
            return Ok(key);
        }
        let usage = if signing { "sign" } else { "verify" };
        let key = webcrypto::import_jwk(&cache_key.1, algorithm(self.alg), usage)
            .await
            // The runtime's message names the problem, never the key's members.
            .map_err(|e| format!("key {:?} cannot be imported: {e:?}", self.kid))?;
        IMPORTED.with_borrow_mut(|imported| imported.insert(cache_key, key.clone()));
        Ok(key)
    }

    /// The signature of `data` by this key.
    pub async fn sign(&self, data: &[u8]) -> Result<Vec<u8>, String> {
        let key = self.imported(true).await?;
        webcrypto::sign(algorithm(self.alg), &key, data)
            .await
            .map_err(|e| format!("key {:?} did not sign: {e:?}", self.kid))
    }

    /// Whether `signature` is this key's over `data`.
    pub async fn verify(&self, signature: &[u8], data: &[u8]) -> bool {
        match self.imported(false).await {
            Ok(key) => webcrypto::verify(algorithm(self.alg), &key, signature, data)
                .await
                .unwrap_or(false),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7515's appendix A.3 key (ES256) and a 2048-bit RSA key made for these tests.
    const EC: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cLH17aeTDDPYmhdlrTDgl8","kid":"ec-1","alg":"ES256"}"#;

    fn set(keys: &[&str]) -> Result<KeySet, String> {
        KeySet::parse(&format!(r#"{{"keys":[{}]}}"#, keys.join(",")))
    }

    #[test]
    fn the_jwks_publishes_public_members_only() {
        let keys = set(&[EC]).unwrap();
        let jwks = keys.jwks().to_string();
        assert!(jwks.contains("\"kid\":\"ec-1\"") && jwks.contains("\"use\":\"sig\""));
        assert!(!jwks.contains("\"d\""), "{jwks}");
        assert!(!jwks.contains("jpsQnnGQ"), "{jwks}");
        assert_eq!(
            keys.signer(SigningAlg::Es256).map(|k| k.kid.as_str()),
            Some("ec-1")
        );
        assert!(keys.signer(SigningAlg::Rs256).is_none());
    }

    #[test]
    fn every_broken_key_is_named_and_its_secret_never_shown() {
        let broken = [
            EC.replace("\"kid\":\"ec-1\",", ""),
            EC.replace("\"alg\":\"ES256\"", "\"alg\":\"HS256\""),
            EC.replace("\"alg\":\"ES256\"", "\"alg\":\"RS256\""),
            EC.replace("P-256", "P-384"),
            EC.replace("\"d\":\"jpsQnnGQmL-YBIffH1136cLH17aeTDDPYmhdlrTDgl8\",", ""),
            EC.replace("jpsQnnGQmL-YBIffH1136cLH17aeTDDPYmhdlrTDgl8", "jpsQ"),
            EC.replace("\"alg\"", "\"use\":\"enc\",\"alg\""),
            r#"{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB","p":"AQAB","q":"AQAB","dp":"AQAB","dq":"AQAB","qi":"AQAB","kid":"rsa","alg":"RS256"}"#.to_owned(),
        ];
        for key in broken {
            let error = set(&[EC.replace("ec-1", "ok").as_str(), &key])
                .err()
                .unwrap_or_default();
            assert!(error.contains("key 1"), "{key}: {error}");
            assert!(!error.contains("jpsQ"), "{error}");
        }
        assert!(set(&[EC, EC]).is_err(), "a kid used twice");
        assert!(set(&[]).is_err(), "no ES256 key");
        for malformed in ["", "[]", "{}", r#"{"keys":[1]}"#] {
            assert!(KeySet::parse(malformed).is_err(), "{malformed}");
        }
    }

    #[test]
    fn each_key_has_its_own_handle_mac_key() {
        let keys = set(&[
            EC,
            &EC.replace("ec-1", "ec-2").replace("jpsQnnGQ", "kpsQnnGQ"),
        ])
        .unwrap();
        assert_ne!(keys.all()[0].mac_key, keys.all()[1].mac_key);
    }
}

//! A passkey authenticator for the tests: a real P-256 key that makes registrations and
//! assertions as a platform authenticator does (CTAP2's CBOR, WebAuthn's client data, DER
//! signatures), each part changeable, so the edge is shown both what it must accept and, one
//! part at a time, what it must refuse.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use minicbor::Encoder;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use qrgate_protocol::{
    PasskeyAssertion, PasskeyChallenge, PasskeyLoginRequest, RegisterPasskeyRequest,
};
use sha2::{Digest, Sha256};

pub const USER_PRESENT: u8 = 0x01;
pub const USER_VERIFIED: u8 = 0x04;
const ATTESTED_CREDENTIAL: u8 = 0x40;

/// What the browser and the authenticator say about a ceremony: the client data's `type`,
/// challenge and origin, the relying party id whose hash the authenticator data carries, and
/// its flags. [`Said::answering`] is what an honest browser says.
#[derive(Debug, Clone)]
pub struct Said {
    pub kind: String,
    pub challenge: String,
    pub origin: String,
    pub rp_id: String,
    pub flags: u8,
}

impl Said {
    /// An honest browser's answer to `challenge` on `origin` (`webauthn.create` for a
    /// challenge that names a user, else `webauthn.get`), user present and verified.
    pub fn answering(challenge: &PasskeyChallenge, origin: &str) -> Self {
        let kind = match challenge.user {
            Some(_) => "webauthn.create",
            None => "webauthn.get",
        };
        Self {
            kind: kind.into(),
            challenge: challenge.challenge.clone(),
            origin: origin.into(),
            rp_id: challenge.rp_id.clone(),
            flags: USER_PRESENT | USER_VERIFIED,
        }
    }

    fn client_data(&self) -> Vec<u8> {
        serde_json::json!({
            "type": self.kind, "challenge": self.challenge, "origin": self.origin,
            "crossOrigin": false,
        })
        .to_string()
        .into_bytes()
    }
}

/// One authenticator holding one passkey: its key, its credential id, and its sign count.
pub struct Authenticator {
    key: SigningKey,
    pub credential_id: Vec<u8>,
    pub sign_count: u32,
}

impl Default for Authenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl Authenticator {
    pub fn new() -> Self {
        let mut credential_id = vec![0u8; 16];
        getrandom::fill(&mut credential_id).expect("the system has randomness");
        Self {
            key: crate::dpop::Key::new().signing_key().clone(),
            credential_id,
            sign_count: 0,
        }
    }

    pub fn passkey_id(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.credential_id)
    }

    /// A registration with attestation `none`, as `said`.
    pub fn register(&self, said: &Said) -> RegisterPasskeyRequest {
        let auth_data = self.auth_data(said, Some(&self.cose_key()));
        let mut cbor = Encoder::new(Vec::new());
        cbor.map(3)
            .and_then(|c| c.str("fmt"))
            .and_then(|c| c.str("none"))
            .expect("cbor");
        cbor.str("attStmt").and_then(|c| c.map(0)).expect("cbor");
        cbor.str("authData")
            .and_then(|c| c.bytes(&auth_data))
            .expect("cbor");
        RegisterPasskeyRequest {
            client_data_json: URL_SAFE_NO_PAD.encode(said.client_data()),
            attestation_object: URL_SAFE_NO_PAD.encode(cbor.into_writer()),
            name: None,
        }
    }

    /// A sign-in with [`Authenticator::answer`].
    pub fn sign_in(&mut self, said: &Said, user_handle: &str) -> PasskeyLoginRequest {
        PasskeyLoginRequest {
            passkey: self.answer(said, user_handle),
            device_name: None,
        }
    }

    /// An assertion, as `said`, for the account whose user handle is `user_handle`: the sign
    /// count moves on by one first, as a counting authenticator's does.
    pub fn answer(&mut self, said: &Said, user_handle: &str) -> PasskeyAssertion {
        self.sign_count += 1;
        self.assertion(said, user_handle)
    }

    /// An assertion at the count as it stands: an authenticator that keeps no count (0 at
    /// every use, which the edge accepts from a passkey registered at 0) answers so each time.
    pub fn assertion(&self, said: &Said, user_handle: &str) -> PasskeyAssertion {
        let auth_data = self.auth_data(said, None);
        let client_data = said.client_data();
        let signed = [&auth_data[..], &Sha256::digest(&client_data)].concat();
        let signature: Signature = self.key.sign(&signed);
        PasskeyAssertion {
            passkey_id: self.passkey_id(),
            client_data_json: URL_SAFE_NO_PAD.encode(client_data),
            authenticator_data: URL_SAFE_NO_PAD.encode(auth_data),
            signature: URL_SAFE_NO_PAD.encode(signature.to_der().as_bytes()),
            user_handle: user_handle.into(),
        }
    }

    /// The credential's COSE key, as CTAP2 encodes an ES256 key.
    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let (x, y) = (point.x().expect("x"), point.y().expect("y"));
        let mut cbor = Encoder::new(Vec::new());
        cbor.map(5)
            .and_then(|c| c.i64(1)?.i64(2)) // kty: EC2
            .and_then(|c| c.i64(3)?.i64(-7)) // alg: ES256
            .and_then(|c| c.i64(-1)?.i64(1)) // crv: P-256
            .and_then(|c| c.i64(-2)?.bytes(x))
            .and_then(|c| c.i64(-3)?.bytes(y))
            .expect("cbor");
        cbor.into_writer()
    }

    fn auth_data(&self, said: &Said, cose_key: Option<&[u8]>) -> Vec<u8> {
        let mut data = Sha256::digest(said.rp_id.as_bytes()).to_vec();
        let attested = if cose_key.is_some() {
            ATTESTED_CREDENTIAL
        } else {
            0
        };
        data.push(said.flags | attested);
        data.extend(self.sign_count.to_be_bytes());
        if let Some(cose_key) = cose_key {
            data.extend([0u8; 16]); // AAGUID
            data.extend((self.credential_id.len() as u16).to_be_bytes());
            data.extend(&self.credential_id);
            data.extend(cose_key);
        }
        data
    }
}

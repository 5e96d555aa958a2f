//! Passkeys (W3C WebAuthn Level 3): what a registration's attestation and a sign-in's
//! assertion say, read and checked against what the relying party expects.
//!
//! These are the checks of §7.1 (registering a new credential) and §7.2 (verifying an
//! authentication assertion) that need no key: the client data's type, challenge and origin;
//! the authenticator data's relying party id hash and its user-present and user-verified flags;
//! the attestation's format; the credential's public key; the sign count. The signature itself
//! is the edge's to check, with the runtime's WebCrypto as for DPoP proofs: what passes here is
//! handed over as [`Signed`] (the bytes signed and the signature in WebCrypto's form) beside a
//! [`PublicKey`] WebCrypto imports as it is.
//!
//! CBOR (the attestation object, the credential's COSE key) is read with `minicbor`'s decoder:
//! small, with no serde, and strict about where each item ends. Only definite lengths are
//! accepted, as CTAP2's canonical form has them.

use minicbor::Decoder;
use minicbor::data::Type;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The longest credential id WebAuthn allows (§5.1, "credential ID").
pub const MAX_CREDENTIAL_ID_BYTES: usize = 1023;

/// Which ceremony a client data names (`type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ceremony {
    /// `navigator.credentials.create()`: a registration.
    Create,
    /// `navigator.credentials.get()`: a sign-in or an approval.
    Get,
}

impl Ceremony {
    fn client_data_type(self) -> &'static str {
        match self {
            Ceremony::Create => "webauthn.create",
            Ceremony::Get => "webauthn.get",
        }
    }
}

/// What the relying party expects of a response: its id (a host name), the origin the page was
/// served from, and the challenge it handed out for this ceremony, as the base64url text the
/// browser echoes in its client data.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub rp_id: &'a str,
    pub origin: &'a str,
    pub challenge: &'a str,
}

/// Why a response is refused. Each names one check, so that the edge's error says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `clientDataJSON` is not a JSON object with string `type`, `challenge` and `origin`.
    MalformedClientData,
    /// The client data names the other ceremony.
    WrongType,
    /// The client data's challenge is not the one handed out.
    WrongChallenge,
    /// The client data's origin is not the relying party's, or it says `crossOrigin: true`.
    WrongOrigin,
    /// The authenticator data is too short, or its parts do not end where they should.
    MalformedAuthenticatorData,
    /// The authenticator data is for another relying party id.
    WrongRelyingParty,
    /// The user-present flag is not set.
    UserNotPresent,
    /// The user-verified flag is not set.
    UserNotVerified,
    /// A registration whose authenticator data carries no credential.
    NoCredential,
    /// The credential id is longer than [`MAX_CREDENTIAL_ID_BYTES`].
    CredentialIdTooLong,
    /// The credential's COSE key is neither an ES256 P-256 key nor an EdDSA Ed25519 key.
    UnsupportedKey,
    /// The attestation object is not a CBOR map of `fmt`, `attStmt` and `authData`.
    MalformedAttestation,
    /// An attestation format other than `none` and `packed` self-attestation.
    UnsupportedAttestation,
    /// A packed self-attestation whose algorithm is not its credential key's.
    AlgorithmMismatch,
    /// A signature that is not of its algorithm's form (DER for ES256, 64 bytes for EdDSA).
    MalformedSignature,
}

impl Refusal {
    /// What the edge tells the client; it names the check, never the bytes.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::MalformedClientData => "clientDataJSON is not a WebAuthn client data.",
            Refusal::WrongType => "The client data is for another ceremony.",
            Refusal::WrongChallenge => "The client data does not carry this ceremony's challenge.",
            Refusal::WrongOrigin => "The client data is from another origin.",
            Refusal::MalformedAuthenticatorData => "The authenticator data is malformed.",
            Refusal::WrongRelyingParty => "The authenticator data is for another relying party.",
            Refusal::UserNotPresent => "The authenticator did not see the user present.",
            Refusal::UserNotVerified => "The authenticator did not verify the user.",
            Refusal::NoCredential => "The authenticator data carries no credential.",
            Refusal::CredentialIdTooLong => "The credential id is too long.",
            Refusal::UnsupportedKey => "Only ES256 (P-256) and EdDSA (Ed25519) keys are accepted.",
            Refusal::MalformedAttestation => "The attestation object is malformed.",
            Refusal::UnsupportedAttestation => {
                "Only the none and packed self-attestation formats are accepted."
            }
            Refusal::AlgorithmMismatch => "The attestation's algorithm is not its key's.",
            Refusal::MalformedSignature => "The signature is malformed.",
        }
    }
}

/// A credential's public key, as its COSE key gave it (RFC 9053), and as an account's keyring
/// keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicKey {
    /// ES256: ECDSA on P-256 with SHA-256 (COSE alg -7).
    Es256 { x: [u8; 32], y: [u8; 32] },
    /// EdDSA on Ed25519 (COSE alg -8).
    Ed25519 { x: [u8; 32] },
}

impl PublicKey {
    /// The COSE algorithm this key signs with.
    pub fn cose_alg(&self) -> i64 {
        match self {
            PublicKey::Es256 { .. } => COSE_ES256,
            PublicKey::Ed25519 { .. } => COSE_EDDSA,
        }
    }

    /// The key in WebCrypto's `raw` import form: the uncompressed point for P-256, the 32
    /// bytes for Ed25519.
    pub fn raw(&self) -> Vec<u8> {
        match self {
            PublicKey::Es256 { x, y } => [&[0x04][..], x, y].concat(),
            PublicKey::Ed25519 { x } => x.to_vec(),
        }
    }
}

/// What a key must have signed: the authenticator data followed by the client data's SHA-256
/// (§7.1 step 19 for packed self-attestation, §7.2 step 20 for an assertion), and the
/// signature, in WebCrypto's form (`r || s` for ES256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub data: Vec<u8>,
    pub signature: Vec<u8>,
}

/// A registration that passed every check that needs no key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    pub id: Vec<u8>,
    pub public_key: PublicKey,
    pub sign_count: u32,
    /// A packed self-attestation, which `public_key` must verify before the credential is
    /// kept; `None` for the `none` format.
    pub self_attestation: Option<Signed>,
}

/// An assertion that passed every check that needs no key; `signed` must verify with the
/// credential's key, and `sign_count` must advance ([`sign_count_advances`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub sign_count: u32,
    pub signed: Signed,
}

/// Checks a registration's `clientDataJSON` and `attestationObject` (§7.1).
pub fn check_registration(
    expected: Expected<'_>,
    client_data_json: &[u8],
    attestation_object: &[u8],
) -> Result<NewCredential, Refusal> {
    let client_data_hash = check_client_data(expected, Ceremony::Create, client_data_json)?;
    let attestation = Attestation::read(attestation_object)?;
    let auth_data = AuthenticatorData::read(attestation.auth_data)?;
    auth_data.check(expected.rp_id)?;
    let credential = auth_data.credential.ok_or(Refusal::NoCredential)?;
    let self_attestation = match attestation.statement {
        Statement::None => None,
        Statement::PackedSelf { alg, sig } => {
            if alg != credential.public_key.cose_alg() {
                return Err(Refusal::AlgorithmMismatch);
            }
            Some(Signed {
                data: [attestation.auth_data, &client_data_hash].concat(),
                signature: webcrypto_signature(&credential.public_key, sig)?,
            })
        }
    };
    Ok(NewCredential {
        id: credential.id.to_vec(),
        public_key: credential.public_key,
        sign_count: auth_data.sign_count,
        self_attestation,
    })
}

/// Checks an assertion's `clientDataJSON`, `authenticatorData` and `signature` (§7.2), for the
/// credential whose key is `public_key`.
pub fn check_assertion(
    expected: Expected<'_>,
    client_data_json: &[u8],
    authenticator_data: &[u8],
    signature: &[u8],
    public_key: &PublicKey,
) -> Result<Assertion, Refusal> {
    let client_data_hash = check_client_data(expected, Ceremony::Get, client_data_json)?;
    let auth_data = AuthenticatorData::read(authenticator_data)?;
    auth_data.check(expected.rp_id)?;
    Ok(Assertion {
        sign_count: auth_data.sign_count,
        signed: Signed {
            data: [authenticator_data, &client_data_hash].concat(),
            signature: webcrypto_signature(public_key, signature)?,
        },
    })
}

/// The challenge a client data carries: which ceremony it answers, to be found before it is
/// checked. `None` for a client data that is not one.
pub fn challenge_of(client_data_json: &[u8]) -> Option<String> {
    serde_json::from_slice::<ClientData>(client_data_json)
        .ok()
        .map(|client_data| client_data.challenge)
}

/// Whether a presented sign count is acceptable after the stored one (§7.2 step 22): an
/// authenticator without a counter reports 0 every time; one with a counter must report more
/// than last time, or it may have been cloned.
pub fn sign_count_advances(stored: u32, presented: u32) -> bool {
    (stored == 0 && presented == 0) || presented > stored
}

const COSE_ES256: i64 = -7;
const COSE_EDDSA: i64 = -8;

const FLAG_USER_PRESENT: u8 = 0x01;
const FLAG_USER_VERIFIED: u8 = 0x04;
const FLAG_ATTESTED_CREDENTIAL: u8 = 0x40;
const FLAG_EXTENSIONS: u8 = 0x80;

/// The members of `CollectedClientData` (§5.8.1) checked here; others (`topOrigin`, and what
/// later levels add) are ignored, as the specification asks.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClientData {
    #[serde(rename = "type")]
    kind: String,
    challenge: String,
    origin: String,
    #[serde(default)]
    cross_origin: bool,
}

/// The client data's checks (§7.1 steps 7–10, §7.2 steps 11–14), then its SHA-256.
fn check_client_data(
    expected: Expected<'_>,
    ceremony: Ceremony,
    json: &[u8],
) -> Result<[u8; 32], Refusal> {
    let client_data: ClientData =
        serde_json::from_slice(json).map_err(|_| Refusal::MalformedClientData)?;
    if client_data.kind != ceremony.client_data_type() {
        return Err(Refusal::WrongType);
    }
    if client_data.challenge != expected.challenge {
        return Err(Refusal::WrongChallenge);
    }
    if client_data.origin != expected.origin || client_data.cross_origin {
        return Err(Refusal::WrongOrigin);
    }
    Ok(Sha256::digest(json).into())
}

/// The authenticator data (§6.1): the relying party id's hash, the flags, the sign count, and
/// for a registration the credential.
struct AuthenticatorData<'a> {
    rp_id_hash: &'a [u8],
    flags: u8,
    sign_count: u32,
    credential: Option<AttestedCredential<'a>>,
}

struct AttestedCredential<'a> {
    id: &'a [u8],
    public_key: PublicKey,
}

impl<'a> AuthenticatorData<'a> {
    fn read(bytes: &'a [u8]) -> Result<Self, Refusal> {
        let malformed = Refusal::MalformedAuthenticatorData;
        let (rp_id_hash, rest) = bytes.split_at_checked(32).ok_or(malformed)?;
        let (&flags, rest) = rest.split_first().ok_or(malformed)?;
        let (count, rest) = rest.split_first_chunk::<4>().ok_or(malformed)?;
        let sign_count = u32::from_be_bytes(*count);
        let (credential, rest) = if flags & FLAG_ATTESTED_CREDENTIAL != 0 {
            let (credential, rest) = AttestedCredential::read(rest)?;
            (Some(credential), rest)
        } else {
            (None, rest)
        };
        // Extensions, when flagged, are one CBOR map that ends the data; nothing else may follow.
        let rest = if flags & FLAG_EXTENSIONS != 0 {
            let mut decoder = Decoder::new(rest);
            skip_definite(&mut decoder).map_err(|_| malformed)?;
            &rest[decoder.position()..]
        } else {
            rest
        };
        if !rest.is_empty() {
            return Err(malformed);
        }
        Ok(Self {
            rp_id_hash,
            flags,
            sign_count,
            credential,
        })
    }

    /// §7.1 steps 13–15 and §7.2 steps 15–17: this relying party's, with the user present and
    /// verified.
    fn check(&self, rp_id: &str) -> Result<(), Refusal> {
        if self.rp_id_hash != Sha256::digest(rp_id.as_bytes()).as_slice() {
            return Err(Refusal::WrongRelyingParty);
        }
        if self.flags & FLAG_USER_PRESENT == 0 {
            return Err(Refusal::UserNotPresent);
        }
        if self.flags & FLAG_USER_VERIFIED == 0 {
            return Err(Refusal::UserNotVerified);
        }
        Ok(())
    }
}

impl<'a> AttestedCredential<'a> {
    /// The attested credential data (§6.5.2): the AAGUID, the id's length and the id, then the
    /// COSE key; and what follows it.
    fn read(bytes: &'a [u8]) -> Result<(Self, &'a [u8]), Refusal> {
        let malformed = Refusal::MalformedAuthenticatorData;
        let (_aaguid, rest) = bytes.split_at_checked(16).ok_or(malformed)?;
        let (length, rest) = rest.split_first_chunk::<2>().ok_or(malformed)?;
        let length = usize::from(u16::from_be_bytes(*length));
        if length > MAX_CREDENTIAL_ID_BYTES {
            return Err(Refusal::CredentialIdTooLong);
        }
        let (id, rest) = rest.split_at_checked(length).ok_or(malformed)?;
        if id.is_empty() {
            return Err(malformed);
        }
        let mut decoder = Decoder::new(rest);
        let public_key = read_cose_key(&mut decoder)?;
        Ok((Self { id, public_key }, &rest[decoder.position()..]))
    }
}

/// A COSE key (RFC 9052 §7, RFC 9053 §7): an EC2 P-256 key for ES256, or an OKP Ed25519 key
/// for EdDSA. Any other key type, curve or algorithm is unsupported (another key type's
/// parameters may reuse these labels with values of other kinds); a key that is not a map of
/// integer labels is malformed.
fn read_cose_key(decoder: &mut Decoder<'_>) -> Result<PublicKey, Refusal> {
    const KTY: i64 = 1;
    const ALG: i64 = 3;
    const CRV: i64 = -1;
    const X: i64 = -2;
    const Y: i64 = -3;
    let malformed = Refusal::MalformedAuthenticatorData;
    let entries = decoder.map().ok().flatten().ok_or(malformed)?;
    let (mut kty, mut alg, mut crv) = (None, None, None);
    let (mut x, mut y) = (None, None);
    for _ in 0..entries {
        let label = decoder.i64().map_err(|_| malformed)?;
        let int = |decoder: &mut Decoder<'_>| match decoder.datatype() {
            Ok(Type::U8 | Type::U16 | Type::U32 | Type::I8 | Type::I16 | Type::I32) => {
                decoder.i64().map(Some)
            }
            _ => skip_definite(decoder).map(|()| None),
        };
        let bytes = |decoder: &mut Decoder<'_>| match decoder.datatype() {
            Ok(Type::Bytes) => decoder.bytes().map(|b| Some(b.to_vec())),
            _ => skip_definite(decoder).map(|()| None),
        };
        let read = match label {
            KTY => int(decoder).map(|v| kty = v),
            ALG => int(decoder).map(|v| alg = v),
            CRV => int(decoder).map(|v| crv = v),
            X => bytes(decoder).map(|v| x = v),
            Y => bytes(decoder).map(|v| y = v),
            _ => skip_definite(decoder),
        };
        read.map_err(|_| malformed)?;
    }
    let coordinate = |bytes: Option<Vec<u8>>| -> Result<[u8; 32], Refusal> {
        bytes
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or(Refusal::UnsupportedKey)
    };
    match (kty, alg, crv) {
        // EC2, ES256, P-256.
        (Some(2), Some(COSE_ES256), Some(1)) => Ok(PublicKey::Es256 {
            x: coordinate(x)?,
            y: coordinate(y)?,
        }),
        // OKP, EdDSA, Ed25519.
        (Some(1), Some(COSE_EDDSA), Some(6)) if y.is_none() => {
            Ok(PublicKey::Ed25519 { x: coordinate(x)? })
        }
        _ => Err(Refusal::UnsupportedKey),
    }
}

/// The attestation object (§6.5): its format's statement and the authenticator data.
struct Attestation<'a> {
    statement: Statement<'a>,
    auth_data: &'a [u8],
}

enum Statement<'a> {
    None,
    /// Packed with no certificate (§8.2, "self attestation"): the credential's own key signed.
    PackedSelf {
        alg: i64,
        sig: &'a [u8],
    },
}

impl<'a> Attestation<'a> {
    fn read(bytes: &'a [u8]) -> Result<Self, Refusal> {
        let malformed = Refusal::MalformedAttestation;
        let mut decoder = Decoder::new(bytes);
        let entries = decoder.map().ok().flatten().ok_or(malformed)?;
        let (mut fmt, mut statement, mut auth_data) = (None, None, None);
        for _ in 0..entries {
            match decoder.str().map_err(|_| malformed)? {
                "fmt" if fmt.is_none() => fmt = Some(decoder.str().map_err(|_| malformed)?),
                "authData" if auth_data.is_none() => {
                    auth_data = Some(decoder.bytes().map_err(|_| malformed)?)
                }
                // The statement's form depends on the format, which may come after it.
                "attStmt" if statement.is_none() => {
                    let start = decoder.position();
                    skip_definite(&mut decoder).map_err(|_| malformed)?;
                    statement = Some(&bytes[start..decoder.position()]);
                }
                _ => return Err(malformed),
            }
        }
        if decoder.position() != bytes.len() {
            return Err(malformed);
        }
        let (Some(fmt), Some(statement), Some(auth_data)) = (fmt, statement, auth_data) else {
            return Err(malformed);
        };
        let statement = match fmt {
            "none" => Statement::read_none(statement)?,
            "packed" => Statement::read_packed_self(statement)?,
            _ => return Err(Refusal::UnsupportedAttestation),
        };
        Ok(Self {
            statement,
            auth_data,
        })
    }
}

impl<'a> Statement<'a> {
    /// `none`'s statement is an empty map (§8.7).
    fn read_none(bytes: &'a [u8]) -> Result<Self, Refusal> {
        match Decoder::new(bytes).map() {
            Ok(Some(0)) => Ok(Statement::None),
            _ => Err(Refusal::MalformedAttestation),
        }
    }

    /// `packed`'s statement (§8.2): `alg` and `sig`, and `x5c` for a full attestation, which
    /// needs a certificate chain and trust anchors qrgate does not keep.
    fn read_packed_self(bytes: &'a [u8]) -> Result<Self, Refusal> {
        let malformed = Refusal::MalformedAttestation;
        let mut decoder = Decoder::new(bytes);
        let entries = decoder.map().ok().flatten().ok_or(malformed)?;
        let (mut alg, mut sig) = (None, None);
        for _ in 0..entries {
            match decoder.str().map_err(|_| malformed)? {
                "alg" if alg.is_none() => alg = Some(decoder.i64().map_err(|_| malformed)?),
                "sig" if sig.is_none() => sig = Some(decoder.bytes().map_err(|_| malformed)?),
                "x5c" => return Err(Refusal::UnsupportedAttestation),
                _ => return Err(malformed),
            }
        }
        match (alg, sig) {
            (Some(alg), Some(sig)) => Ok(Statement::PackedSelf { alg, sig }),
            _ => Err(malformed),
        }
    }
}

/// Skips one data item, refusing indefinite lengths at any depth.
fn skip_definite(decoder: &mut Decoder<'_>) -> Result<(), minicbor::decode::Error> {
    // A credential's data nests a few levels at most; deeper is not a credential.
    skip_within(decoder, 8)
}

fn skip_within(decoder: &mut Decoder<'_>, depth: u8) -> Result<(), minicbor::decode::Error> {
    let too_deep = || minicbor::decode::Error::message("nested too deeply");
    let indefinite = || minicbor::decode::Error::message("indefinite length");
    match decoder.datatype()? {
        Type::Array => {
            let length = decoder.array()?.ok_or_else(indefinite)?;
            let depth = depth.checked_sub(1).ok_or_else(too_deep)?;
            for _ in 0..length {
                skip_within(decoder, depth)?;
            }
            Ok(())
        }
        Type::Map => {
            let length = decoder.map()?.ok_or_else(indefinite)?;
            let depth = depth.checked_sub(1).ok_or_else(too_deep)?;
            for _ in 0..length.saturating_mul(2) {
                skip_within(decoder, depth)?;
            }
            Ok(())
        }
        Type::Tag => {
            decoder.tag()?;
            skip_within(decoder, depth.checked_sub(1).ok_or_else(too_deep)?)
        }
        Type::ArrayIndef | Type::MapIndef | Type::BytesIndef | Type::StringIndef => {
            Err(indefinite())
        }
        _ => decoder.skip(),
    }
}

/// A signature in the form WebCrypto verifies: ES256's DER `ECDSA-Sig-Value` (as WebAuthn
/// carries it, §6.5.5) as the 64 bytes `r || s`; EdDSA's 64 bytes as they are.
fn webcrypto_signature(key: &PublicKey, signature: &[u8]) -> Result<Vec<u8>, Refusal> {
    match key {
        PublicKey::Es256 { .. } => der_to_raw(signature).ok_or(Refusal::MalformedSignature),
        PublicKey::Ed25519 { .. } if signature.len() == 64 => Ok(signature.to_vec()),
        PublicKey::Ed25519 { .. } => Err(Refusal::MalformedSignature),
    }
}

/// `SEQUENCE { INTEGER r, INTEGER s }`, strictly DER (minimal, positive, short lengths), as
/// 32-byte `r` then 32-byte `s`.
fn der_to_raw(der: &[u8]) -> Option<Vec<u8>> {
    let (&[0x30, length], body) = der.split_first_chunk::<2>()? else {
        return None;
    };
    if usize::from(length) != body.len() {
        return None;
    }
    let (r, rest) = der_integer(body)?;
    let (s, rest) = der_integer(rest)?;
    rest.is_empty().then(|| [r, s].concat())
}

/// One DER INTEGER of at most 256 bits, left-padded to 32 bytes; and what follows it.
fn der_integer(bytes: &[u8]) -> Option<([u8; 32], &[u8])> {
    let (&[0x02, length], rest) = bytes.split_first_chunk::<2>()? else {
        return None;
    };
    let (value, rest) = rest.split_at_checked(usize::from(length))?;
    let (&first, tail) = value.split_first()?;
    // Negative numbers, and a leading zero that is not needed, are not DER of a signature.
    let minimal = match tail.first() {
        Some(&second) => first != 0 || second >= 0x80,
        None => true,
    };
    if first >= 0x80 || !minimal {
        return None;
    }
    let digits = if first == 0 && !tail.is_empty() {
        tail
    } else {
        value
    };
    let mut padded = [0u8; 32];
    let start = 32usize.checked_sub(digits.len())?;
    padded[start..].copy_from_slice(digits);
    Some((padded, rest))
}

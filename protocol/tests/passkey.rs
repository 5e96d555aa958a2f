//! The passkey checks against responses made as an authenticator makes them, signed by a real
//! P-256 key: each check refuses what it names, and what passes verifies with the key.

use minicbor::Encoder;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use qrgate_protocol::passkey::{
    Assertion, Expected, MAX_CREDENTIAL_ID_BYTES, NewCredential, PublicKey, Refusal,
    check_assertion, check_registration, sign_count_advances,
};
use sha2::{Digest, Sha256};

const RP_ID: &str = "localhost";
const ORIGIN: &str = "http://localhost:8790";
const CHALLENGE: &str = "c2luZ2xlLXVzZSBjaGFsbGVuZ2Ugb2YgdGhpcyBjZXJlbW9ueQ";
const EXPECTED: Expected<'static> = Expected {
    rp_id: RP_ID,
    origin: ORIGIN,
    challenge: CHALLENGE,
};
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;
const CREDENTIAL_ID: &[u8] = b"a credential id of sixteen+ bytes";
/// A key for the checks that come before its signature is verified (the signature's form is
/// all these look at).
const UNCHECKED_KEY: PublicKey = PublicKey::Es256 {
    x: [1; 32],
    y: [2; 32],
};

/// A P-256 authenticator: its key, and what it would send.
struct Authenticator {
    key: SigningKey,
}

impl Authenticator {
    fn new(seed: u8) -> Self {
        let key = SigningKey::from_slice(&[seed; 32]).expect("a scalar in range");
        Self { key }
    }

    fn verifying_key(&self) -> VerifyingKey {
        *self.key.verifying_key()
    }

    /// The credential's COSE key, as CTAP2 encodes an ES256 key.
    fn cose_key(&self) -> Vec<u8> {
        let point = self.verifying_key().to_encoded_point(false);
        let (x, y) = (point.x().expect("x"), point.y().expect("y"));
        let mut cbor = Encoder::new(Vec::new());
        cbor.map(5).unwrap();
        cbor.i64(1).unwrap().i64(2).unwrap(); // kty: EC2
        cbor.i64(3).unwrap().i64(-7).unwrap(); // alg: ES256
        cbor.i64(-1).unwrap().i64(1).unwrap(); // crv: P-256
        cbor.i64(-2).unwrap().bytes(x).unwrap();
        cbor.i64(-3).unwrap().bytes(y).unwrap();
        cbor.into_writer()
    }

    fn auth_data(&self, flags: u8, sign_count: u32, credential: Option<&[u8]>) -> Vec<u8> {
        let mut data = Sha256::digest(RP_ID.as_bytes()).to_vec();
        data.push(flags);
        data.extend(sign_count.to_be_bytes());
        if let Some(cose_key) = credential {
            data.extend([0u8; 16]); // AAGUID
            data.extend((CREDENTIAL_ID.len() as u16).to_be_bytes());
            data.extend(CREDENTIAL_ID);
            data.extend(cose_key);
        }
        data
    }

    fn sign(&self, auth_data: &[u8], client_data_json: &[u8]) -> Vec<u8> {
        let signed = [auth_data, &Sha256::digest(client_data_json)].concat();
        let signature: Signature = self.key.sign(&signed);
        signature.to_der().as_bytes().to_vec()
    }
}

fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    serde_json::json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false})
        .to_string()
        .into_bytes()
}

fn attestation_object(fmt: &str, statement: &[u8], auth_data: &[u8]) -> Vec<u8> {
    let mut cbor = Encoder::new(Vec::new());
    cbor.map(3).unwrap();
    cbor.str("fmt").unwrap().str(fmt).unwrap();
    cbor.str("attStmt").unwrap();
    let mut bytes = cbor.into_writer();
    bytes.extend(statement);
    let mut cbor = Encoder::new(bytes);
    cbor.str("authData").unwrap().bytes(auth_data).unwrap();
    cbor.into_writer()
}

fn empty_map() -> Vec<u8> {
    vec![0xa0]
}

fn packed_statement(alg: i64, signature: &[u8]) -> Vec<u8> {
    let mut cbor = Encoder::new(Vec::new());
    cbor.map(2).unwrap();
    cbor.str("alg").unwrap().i64(alg).unwrap();
    cbor.str("sig").unwrap().bytes(signature).unwrap();
    cbor.into_writer()
}

/// A registration as a platform authenticator sends it with attestation `none`.
fn registration(authenticator: &Authenticator, flags: u8) -> (Vec<u8>, Vec<u8>) {
    let auth_data = authenticator.auth_data(flags, 0, Some(&authenticator.cose_key()));
    let client_data = client_data("webauthn.create", CHALLENGE, ORIGIN);
    (
        client_data,
        attestation_object("none", &empty_map(), &auth_data),
    )
}

/// That `signed` verifies with `key`: the bytes and the `r || s` form are what WebCrypto gets.
fn verifies(key: &VerifyingKey, data: &[u8], raw_signature: &[u8]) -> bool {
    Signature::from_slice(raw_signature).is_ok_and(|s| key.verify(data, &s).is_ok())
}

#[test]
fn a_none_registration_gives_the_credential_its_key_and_count() {
    let authenticator = Authenticator::new(7);
    let (client_data, attestation) = registration(&authenticator, UP | UV | AT);
    let credential: NewCredential =
        check_registration(EXPECTED, &client_data, &attestation).expect("accepted");
    assert_eq!(credential.id, CREDENTIAL_ID);
    assert_eq!(credential.sign_count, 0);
    assert_eq!(credential.self_attestation, None);
    let point = authenticator.verifying_key().to_encoded_point(false);
    assert_eq!(credential.public_key.raw(), point.as_bytes());
    assert_eq!(credential.public_key.cose_alg(), -7);
}

#[test]
fn a_packed_self_attestation_is_handed_over_to_be_verified_by_the_new_key() {
    let authenticator = Authenticator::new(9);
    let auth_data = authenticator.auth_data(UP | UV | AT, 3, Some(&authenticator.cose_key()));
    let client_data = client_data("webauthn.create", CHALLENGE, ORIGIN);
    let signature = authenticator.sign(&auth_data, &client_data);
    let attestation = attestation_object("packed", &packed_statement(-7, &signature), &auth_data);
    let credential = check_registration(EXPECTED, &client_data, &attestation).expect("accepted");
    let signed = credential.self_attestation.expect("a self-attestation");
    assert!(verifies(
        &authenticator.verifying_key(),
        &signed.data,
        &signed.signature
    ));
    assert_eq!(credential.sign_count, 3);

    // Its algorithm must be the key's, and a certificate chain is not taken.
    let other_alg = attestation_object("packed", &packed_statement(-8, &signature), &auth_data);
    let refused = check_registration(EXPECTED, &client_data, &other_alg);
    assert_eq!(refused, Err(Refusal::AlgorithmMismatch));
    let mut with_chain = Encoder::new(Vec::new());
    with_chain.map(3).unwrap();
    with_chain.str("alg").unwrap().i64(-7).unwrap();
    with_chain.str("sig").unwrap().bytes(&signature).unwrap();
    with_chain
        .str("x5c")
        .unwrap()
        .array(1)
        .unwrap()
        .bytes(b"cert")
        .unwrap();
    let full = attestation_object("packed", &with_chain.into_writer(), &auth_data);
    let refused = check_registration(EXPECTED, &client_data, &full);
    assert_eq!(refused, Err(Refusal::UnsupportedAttestation));
}

#[test]
fn every_registration_check_refuses_what_it_names() {
    let authenticator = Authenticator::new(11);
    let cose_key = authenticator.cose_key();
    let good_data = authenticator.auth_data(UP | UV | AT, 0, Some(&cose_key));
    let good_client = client_data("webauthn.create", CHALLENGE, ORIGIN);
    let none = |auth_data: &[u8]| attestation_object("none", &empty_map(), auth_data);
    let cases: Vec<(&str, Vec<u8>, Vec<u8>, Refusal)> = vec![
        (
            "a sign-in's client data",
            client_data("webauthn.get", CHALLENGE, ORIGIN),
            none(&good_data),
            Refusal::WrongType,
        ),
        (
            "another challenge",
            client_data("webauthn.create", "b3RoZXI", ORIGIN),
            none(&good_data),
            Refusal::WrongChallenge,
        ),
        (
            "another origin",
            client_data("webauthn.create", CHALLENGE, "https://evil.example"),
            none(&good_data),
            Refusal::WrongOrigin,
        ),
        (
            "a cross-origin frame",
            serde_json::json!({"type": "webauthn.create", "challenge": CHALLENGE,
                "origin": ORIGIN, "crossOrigin": true})
            .to_string()
            .into_bytes(),
            none(&good_data),
            Refusal::WrongOrigin,
        ),
        (
            "client data that is not JSON",
            b"{\"type\": \"webauthn.create\"".to_vec(),
            none(&good_data),
            Refusal::MalformedClientData,
        ),
        (
            "another relying party",
            good_client.clone(),
            none(&[&Sha256::digest(b"evil.example")[..], &good_data[32..]].concat()),
            Refusal::WrongRelyingParty,
        ),
        (
            "no user presence",
            good_client.clone(),
            none(&authenticator.auth_data(UV | AT, 0, Some(&cose_key))),
            Refusal::UserNotPresent,
        ),
        (
            "no user verification",
            good_client.clone(),
            none(&authenticator.auth_data(UP | AT, 0, Some(&cose_key))),
            Refusal::UserNotVerified,
        ),
        (
            "no credential",
            good_client.clone(),
            none(&authenticator.auth_data(UP | UV, 0, None)),
            Refusal::NoCredential,
        ),
        (
            "bytes after the key",
            good_client.clone(),
            none(&[&good_data[..], &[0x00]].concat()),
            Refusal::MalformedAuthenticatorData,
        ),
        (
            "a truncated key",
            good_client.clone(),
            none(&good_data[..good_data.len() - 5]),
            Refusal::MalformedAuthenticatorData,
        ),
        (
            "a format qrgate does not take",
            good_client.clone(),
            attestation_object("tpm", &empty_map(), &good_data),
            Refusal::UnsupportedAttestation,
        ),
        (
            "an attestation object that is not CBOR",
            good_client.clone(),
            b"not cbor at all".to_vec(),
            Refusal::MalformedAttestation,
        ),
        (
            "an attestation object with bytes after it",
            good_client.clone(),
            [none(&good_data), vec![0xa0]].concat(),
            Refusal::MalformedAttestation,
        ),
        (
            "a none statement that is not empty",
            good_client.clone(),
            attestation_object("none", &packed_statement(-7, b"sig"), &good_data),
            Refusal::MalformedAttestation,
        ),
    ];
    for (what, client, attestation, refusal) in cases {
        assert_eq!(
            check_registration(EXPECTED, &client, &attestation),
            Err(refusal),
            "{what}"
        );
        assert!(!refusal.reason().is_empty());
    }
}

#[test]
fn keys_other_than_es256_and_ed25519_are_refused_and_long_ids_too() {
    let authenticator = Authenticator::new(13);
    let client = client_data("webauthn.create", CHALLENGE, ORIGIN);
    // RS256 (kty RSA, alg -257), with its modulus and exponent.
    let mut rsa = Encoder::new(Vec::new());
    rsa.map(4).unwrap();
    rsa.i64(1).unwrap().i64(3).unwrap();
    rsa.i64(3).unwrap().i64(-257).unwrap();
    rsa.i64(-1).unwrap().bytes(&[0xab; 256]).unwrap();
    rsa.i64(-2).unwrap().bytes(&[0x01, 0x00, 0x01]).unwrap();
    let auth_data = authenticator.auth_data(UP | UV | AT, 0, Some(&rsa.into_writer()));
    let attestation = attestation_object("none", &empty_map(), &auth_data);
    let refused = check_registration(EXPECTED, &client, &attestation);
    assert_eq!(refused, Err(Refusal::UnsupportedKey));

    // An Ed25519 key is taken, as its 32 bytes.
    let mut ed = Encoder::new(Vec::new());
    ed.map(4).unwrap();
    ed.i64(1).unwrap().i64(1).unwrap();
    ed.i64(3).unwrap().i64(-8).unwrap();
    ed.i64(-1).unwrap().i64(6).unwrap();
    ed.i64(-2).unwrap().bytes(&[0x42; 32]).unwrap();
    let auth_data = authenticator.auth_data(UP | UV | AT, 0, Some(&ed.into_writer()));
    let attestation = attestation_object("none", &empty_map(), &auth_data);
    let credential = check_registration(EXPECTED, &client, &attestation).expect("accepted");
    assert_eq!(credential.public_key, PublicKey::Ed25519 { x: [0x42; 32] });

    let mut long_id = authenticator.auth_data(UP | UV | AT, 0, None);
    long_id.extend([0u8; 16]);
    long_id.extend(((MAX_CREDENTIAL_ID_BYTES + 1) as u16).to_be_bytes());
    long_id.extend(vec![7u8; MAX_CREDENTIAL_ID_BYTES + 1]);
    long_id.extend(authenticator.cose_key());
    let attestation = attestation_object("none", &empty_map(), &long_id);
    let refused = check_registration(EXPECTED, &client, &attestation);
    assert_eq!(refused, Err(Refusal::CredentialIdTooLong));
}

#[test]
fn an_assertion_hands_over_what_the_key_signed_in_webcrypto_form() {
    let authenticator = Authenticator::new(17);
    let (client_data, attestation) = registration(&authenticator, UP | UV | AT);
    let credential = check_registration(EXPECTED, &client_data, &attestation).expect("accepted");

    let auth_data = authenticator.auth_data(UP | UV, 5, None);
    let client_data = client_data_get();
    let signature = authenticator.sign(&auth_data, &client_data);
    let assertion: Assertion = check_assertion(
        EXPECTED,
        &client_data,
        &auth_data,
        &signature,
        &credential.public_key,
    )
    .expect("accepted");
    assert_eq!(assertion.sign_count, 5);
    let key = authenticator.verifying_key();
    assert!(verifies(
        &key,
        &assertion.signed.data,
        &assertion.signed.signature
    ));
    // Another key's signature is still handed over; it is WebCrypto that refuses it.
    let other = Authenticator::new(18).sign(&auth_data, &client_data);
    let forged = check_assertion(
        EXPECTED,
        &client_data,
        &auth_data,
        &other,
        &credential.public_key,
    )
    .expect("well formed");
    assert!(!verifies(
        &key,
        &forged.signed.data,
        &forged.signed.signature
    ));
}

fn client_data_get() -> Vec<u8> {
    client_data("webauthn.get", CHALLENGE, ORIGIN)
}

#[test]
fn every_assertion_check_refuses_what_it_names() {
    let authenticator = Authenticator::new(19);
    let key = UNCHECKED_KEY;
    let good_data = authenticator.auth_data(UP | UV, 1, None);
    let good_client = client_data_get();
    let good_signature = authenticator.sign(&good_data, &good_client);
    let refuses = |what: &str, client: &[u8], data: &[u8], signature: &[u8], refusal| {
        assert_eq!(
            check_assertion(EXPECTED, client, data, signature, &key),
            Err(refusal),
            "{what}"
        );
    };
    let registration_client = client_data("webauthn.create", CHALLENGE, ORIGIN);
    let (client, data, signature) = (&good_client, &good_data, &good_signature);
    refuses(
        "a registration's client data",
        &registration_client,
        data,
        signature,
        Refusal::WrongType,
    );
    let unverified = authenticator.auth_data(UP, 1, None);
    refuses(
        "no user verification",
        client,
        &unverified,
        signature,
        Refusal::UserNotVerified,
    );
    let absent = authenticator.auth_data(UV, 1, None);
    refuses(
        "no user presence",
        client,
        &absent,
        signature,
        Refusal::UserNotPresent,
    );
    let short = Refusal::MalformedAuthenticatorData;
    refuses(
        "authenticator data cut short",
        client,
        &data[..36],
        signature,
        short,
    );
    let not_der = [0x30, 0x02, 0x02, 0x00];
    refuses(
        "a signature that is not DER",
        client,
        data,
        &not_der,
        Refusal::MalformedSignature,
    );
    let trailing = [&signature[..], &[0x00]].concat();
    refuses(
        "DER with bytes after it",
        client,
        data,
        &trailing,
        Refusal::MalformedSignature,
    );
    // EdDSA signatures are 64 bytes, as WebCrypto takes them.
    let ed = PublicKey::Ed25519 { x: [3; 32] };
    let refused = check_assertion(EXPECTED, &good_client, &good_data, &[0; 63], &ed);
    assert_eq!(refused, Err(Refusal::MalformedSignature));
    let taken = check_assertion(EXPECTED, &good_client, &good_data, &[9; 64], &ed);
    assert_eq!(taken.map(|a| a.signed.signature), Ok(vec![9; 64]));
}

#[test]
fn every_der_signature_of_many_messages_becomes_the_same_signature_raw() {
    let authenticator = Authenticator::new(23);
    let key = UNCHECKED_KEY;
    let client = client_data_get();
    let mut der_lengths = std::collections::BTreeSet::new();
    for count in 0..200u32 {
        let data = authenticator.auth_data(UP | UV, count, None);
        let der = authenticator.sign(&data, &client);
        der_lengths.insert(der.len());
        let assertion = check_assertion(EXPECTED, &client, &data, &der, &key).expect("accepted");
        let expected = Signature::from_der(&der).expect("DER").to_bytes().to_vec();
        assert_eq!(assertion.signed.signature, expected, "signature {count}");
    }
    // Among these (RFC 6979 makes them the same every run): an r or s shorter than 32 bytes,
    // one that needed a zero byte for its sign, and both needing it.
    assert!(der_lengths.first().is_some_and(|&shortest| shortest < 70));
    assert!(
        der_lengths.contains(&71) && der_lengths.contains(&72),
        "{der_lengths:?}"
    );
}

#[test]
fn a_sign_count_must_advance_unless_the_authenticator_keeps_none() {
    assert!(sign_count_advances(0, 0));
    assert!(sign_count_advances(0, 1));
    assert!(sign_count_advances(41, 42));
    assert!(!sign_count_advances(42, 42));
    assert!(!sign_count_advances(42, 7));
    assert!(!sign_count_advances(42, 0));
}

proptest::proptest! {
    /// Whatever bytes come, an answer and never a panic: every field here is the browser's.
    #[test]
    fn any_bytes_get_an_answer(
        client in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
        blob in proptest::collection::vec(proptest::num::u8::ANY, 0..600),
        signature in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
    ) {
        let _ = check_registration(EXPECTED, &client, &blob);
        let _ = check_assertion(EXPECTED, &client, &blob, &signature, &UNCHECKED_KEY);
        // And the same blob behind a valid prefix, so the CBOR readers see it too.
        let mut data = Authenticator::new(29).auth_data(UP | UV | AT, 0, None);
        data.extend(&blob);
        let _ = check_registration(EXPECTED, &client_data("webauthn.create", CHALLENGE, ORIGIN),
            &attestation_object("none", &empty_map(), &data));
    }
}

//! `openapi.yaml` describes every field of these wire types, and nothing else: each type is
//! serialised in its fullest and its barest form and checked against its schema. An object's
//! fields must be exactly the described properties (fullest form) and exactly the required
//! ones (barest form); every value must have the described type, enum member, pattern, length
//! and minimum; and each described enum must list exactly the variants of its Rust enum.
//! (The route table and error codes are checked in `edge/src/routes.rs`; schemathesis checks
//! the live answers of `wrangler dev` against the same file.) The OpenID Provider's answers are
//! here too, but for the JWKS, which the edge builds (`edge/src/oauth/keys.rs`): its shape is
//! written out below, and schemathesis checks the live one.

mod common;

use common::{object_keys, string_set};
use qrgate_protocol::location::Location;
use qrgate_protocol::oauth::device::{
    DeviceAuthorizationResponse, UserCodeRequest, UserCodeResponse,
};
use qrgate_protocol::oauth::{
    self, ClientInfo, ContinueRequest, Discovery, GrantEntry, GrantsResponse, OAuthErrorBody,
    OAuthErrorCode, RedirectTo, TokenResponse, UserInfo,
};
use qrgate_protocol::*;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

fn spec() -> Value {
    serde_norway::from_str(include_str!("../../openapi.yaml")).expect("openapi.yaml is YAML")
}

/// A schema with its `$ref` followed.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("a local $ref");
            resolve(spec, spec.pointer(pointer).expect("the $ref exists"))
        }
        None => schema,
    }
}

fn schema<'a>(spec: &'a Value, pointer: &str) -> &'a Value {
    resolve(spec, spec.pointer(pointer).expect(pointer))
}

/// The names of an object schema's properties.
fn described_fields(schema: &Value) -> BTreeSet<String> {
    let properties = schema["properties"].as_object();
    properties
        .into_iter()
        .flat_map(|p| p.keys().cloned())
        .collect()
}

/// The names an object schema requires.
fn required_fields(schema: &Value) -> BTreeSet<String> {
    match &schema["required"] {
        Value::Null => BTreeSet::new(),
        required => string_set(required),
    }
}

/// Checks `value` against `schema`, and notes each object's keys under its JSON path so that
/// the fullest forms can be compared with the described properties afterwards.
struct Checker<'a> {
    spec: &'a Value,
    seen_keys: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>,
}

impl<'a> Checker<'a> {
    fn check(&mut self, path: &str, schema: &'a Value, value: &Value) {
        let schema = resolve(self.spec, schema);
        let described_type = schema["type"]
            .as_str()
            .unwrap_or_else(|| panic!("{path}: no type"));
        let type_matches = match described_type {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_u64() || value.is_i64(),
            "boolean" => value.is_boolean(),
            other => panic!("{path}: type {other} is not used by the contract"),
        };
        assert!(type_matches, "{path}: {value} is not {described_type}");
        if let Some(members) = schema["enum"].as_array() {
            assert!(
                members.contains(value),
                "{path}: {value} is not in {members:?}"
            );
        }
        if let (Some(pattern), Some(text)) = (schema["pattern"].as_str(), value.as_str()) {
            let pattern = regex::Regex::new(pattern).expect("a valid pattern");
            assert!(
                pattern.is_match(text),
                "{path}: {text} does not match {pattern}"
            );
        }
        if let Some(text) = value.as_str() {
            let length = text.chars().count() as u64;
            let min = schema["minLength"].as_u64().unwrap_or(0);
            let max = schema["maxLength"].as_u64().unwrap_or(u64::MAX);
            assert!((min..=max).contains(&length), "{path}: length {length}");
        }
        if let (Some(minimum), Some(number)) = (schema["minimum"].as_u64(), value.as_u64()) {
            assert!(number >= minimum, "{path}: {number} < {minimum}");
        }
        if let Some(items) = value.as_array() {
            for (index, item) in items.iter().enumerate() {
                self.check(&format!("{path}[{index}]"), &schema["items"], item);
            }
        }
        if let Some(fields) = value.as_object() {
            let properties = schema["properties"].as_object();
            let (described, required) = (described_fields(schema), required_fields(schema));
            let present: BTreeSet<String> = fields.keys().cloned().collect();
            assert!(
                present.is_subset(&described),
                "{path}: fields {:?} are not described",
                present.difference(&described).collect::<Vec<_>>()
            );
            assert!(
                required.is_subset(&present),
                "{path}: required fields {:?} are missing",
                required.difference(&present).collect::<Vec<_>>()
            );
            assert_eq!(
                schema["additionalProperties"],
                Value::Bool(false),
                "{path}: an answer's schema must refuse undescribed fields"
            );
            let entry = self.seen_keys.entry(path.to_owned()).or_default();
            entry.0 = described;
            entry.1.extend(present);
            for (name, field) in fields {
                let field_schema = &properties.expect("described")[name];
                self.check(&format!("{path}.{name}"), field_schema, field);
            }
        }
    }

    /// After every form was checked: the fullest forms showed every described property.
    fn all_properties_seen(&self) {
        for (path, (described, seen)) in &self.seen_keys {
            assert_eq!(
                described, seen,
                "{path}: described fields the types never send"
            );
        }
    }
}

fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("serialises")
}

fn account() -> Account {
    Account {
        account_id: "0123456789abcdef0123456789abcdef".into(),
        username: "ann.lee".into(),
        display_name: "Ann Lee".into(),
    }
}

fn login_session() -> LoginSession {
    LoginSession {
        token: Secret::new(format!("{}.{}", account().account_id, "A".repeat(43))),
        token_type: TokenType::DPoP,
        expires_at: 1_700_000_000,
        account: account(),
    }
}

const DEVICE_ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

fn pc_info(location: Location) -> PcInfo {
    PcInfo {
        device_type: DeviceType::Pc,
        device_name: "Chromium on Linux".into(),
        created_at: 1_700_000_000,
        country: location.country,
        city: location.city,
        network: location.network,
    }
}

/// A sign-in, to qrgate or (with `client`: its id and name) to another app.
fn sign_in(via: Via, location: Location, client: Option<(&str, &str)>) -> SignInEntry {
    SignInEntry {
        at: 1_700_000_000,
        device_id: DEVICE_ID.into(),
        device_type: DeviceType::Pc,
        device_name: "Chromium on Linux".into(),
        via,
        country: location.country,
        city: location.city,
        network: location.network,
        client_id: client.map(|(id, _)| id.into()),
        client_name: client.map(|(_, name)| name.into()),
    }
}

const CLIENT_ID: &str = "example-web";
const CLIENT_NAME: &str = "Example web app";
const GRANT_ID: &str = "0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a090807060504030201000";
const CLI_ID: &str = "qrgate-cli";
const CLI_NAME: &str = "qrgate CLI";
const QR_ID: &str = "abcdefghijklmnopqrstuvwxyz012345";
const USER_CODE: &str = "BCDF-GHJK";

/// A device without a browser, as the phone is shown it: the client's name, and what the edge
/// saw of its device authorization request.
fn device_info(location: Location) -> PcInfo {
    PcInfo {
        device_type: DeviceType::Device,
        device_name: CLI_NAME.into(),
        ..pc_info(location)
    }
}

/// A device's sign-in: it has no device id, so its grant stands for it.
fn device_sign_in(location: Location) -> SignInEntry {
    SignInEntry {
        device_id: GRANT_ID.into(),
        device_type: DeviceType::Device,
        device_name: CLI_NAME.into(),
        ..sign_in(Via::Qr, location, Some((CLI_ID, CLI_NAME)))
    }
}

fn scope(values: &str) -> Vec<String> {
    oauth::known_scope(values)
}

/// A compact JWS's form: what an ID token and an access token look like on the wire.
fn jws() -> Secret {
    Secret::new("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl")
}

fn redirect_to(query: &str) -> RedirectTo {
    RedirectTo {
        redirect_to: format!("https://client.example/cb?{query}&iss=https%3A%2F%2Fqrgate.example"),
    }
}

/// A passkey challenge naming `user` and no credentials.
fn challenge(user: Option<PasskeyUser>) -> PasskeyChallenge {
    PasskeyChallenge {
        challenge: "C".repeat(43),
        rp_id: "qrgate.example".into(),
        timeout_ms: 300_000,
        user,
        exclude_credentials: vec![],
        allow_credentials: vec![],
    }
}

fn assertion() -> PasskeyAssertion {
    PasskeyAssertion {
        passkey_id: "Y3JlZGVudGlhbA".into(),
        client_data_json: "e30".into(),
        authenticator_data: "AA".into(),
        signature: "AA".into(),
        user_handle: "AA".into(),
    }
}

fn passkey_entry(last_used_at: Option<u64>) -> PasskeyEntry {
    PasskeyEntry {
        passkey_id: "Y3JlZGVudGlhbA".into(),
        name: "Ann's phone".into(),
        created_at: 1_700_000_000,
        last_used_at,
    }
}

/// Every answer of the contract, each in its fullest and its barest form where they differ.
fn answers() -> Vec<(&'static str, Value)> {
    let somewhere = Location {
        country: Some("DE".into()),
        city: Some("Berlin".into()),
        network: Some("Example ISP".into()),
    };
    let scan = |pc: PcInfo, warnings: Vec<Warning>, client: Option<ClientInfo>| ScanResponse {
        scan_token: Secret::new("B".repeat(43)),
        expires_at: 1_700_000_120,
        pc,
        warnings,
        scope: client.as_ref().map(|_| scope("openid profile")),
        client,
        user_code: None,
        passkey: None,
    };
    let app = ClientInfo {
        client_id: CLIENT_ID.into(),
        client_name: CLIENT_NAME.into(),
        redirect_origin: "https://client.example:8443".into(),
    };
    let poll = |status, session, authorization| PollResponse {
        status,
        expires_at: 1_700_000_120,
        interval: 1,
        session,
        authorization,
    };
    let tokens = |id_token, refresh_token| TokenResponse {
        access_token: jws(),
        token_type: TokenType::DPoP,
        expires_in: oauth::TOKEN_TTL_SECONDS,
        scope: oauth::scope_string(&scope("openid profile")),
        id_token,
        refresh_token,
    };
    let ann = account();
    let oauth_error = |error, error_description| OAuthErrorBody {
        error,
        error_description,
    };
    vec![
        ("Account", json(&account())),
        ("LoginSession", json(&login_session())),
        (
            "MeResponse",
            json(&MeResponse {
                account: account(),
                device: DeviceInfo {
                    device_id: DEVICE_ID.into(),
                    device_type: DeviceType::Ios,
                    device_name: "Ann's phone".into(),
                },
                session: SessionInfo {
                    created_at: 1_700_000_000,
                    expires_at: 1_702_592_000,
                    via: Via::Password,
                    token_type: TokenType::Bearer,
                },
            }),
        ),
        (
            "DevicesResponse",
            json(&DevicesResponse {
                devices: vec![DeviceEntry {
                    device_id: DEVICE_ID.into(),
                    device_type: DeviceType::Pc,
                    device_name: "Computer".into(),
                    created_at: 1_700_000_000,
                    last_seen_at: 1_700_000_060,
                    via: Via::Qr,
                    current: true,
                }],
            }),
        ),
        (
            "SignInsResponse",
            json(&SignInsResponse {
                sign_ins: vec![sign_in(
                    Via::Qr,
                    somewhere.clone(),
                    Some((CLIENT_ID, CLIENT_NAME)),
                )],
            }),
        ),
        (
            "SignInsResponse",
            json(&SignInsResponse {
                sign_ins: vec![sign_in(Via::Password, Location::default(), None)],
            }),
        ),
        (
            "SignInsResponse",
            json(&SignInsResponse {
                sign_ins: vec![device_sign_in(somewhere.clone())],
            }),
        ),
        (
            "CreateQrResponse",
            json(&CreateQrResponse {
                qr_id: QR_ID.into(),
                poll_secret: Secret::new("C".repeat(43)),
                qr_url: format!("https://qrgate.example/m/qr/{QR_ID}"),
                expires_at: 1_700_000_120,
                interval: 1,
            }),
        ),
        (
            "PollResponse",
            json(&poll(QrStatus::Confirmed, Some(login_session()), None)),
        ),
        (
            "PollResponse",
            json(&poll(
                QrStatus::Confirmed,
                None,
                Some(redirect_to(&format!(
                    "code={GRANT_ID}.{}&state=s",
                    "D".repeat(43)
                ))),
            )),
        ),
        (
            "PollResponse",
            json(&poll(
                QrStatus::Denied,
                None,
                Some(redirect_to("error=access_denied&state=s")),
            )),
        ),
        ("PollResponse", json(&poll(QrStatus::Pending, None, None))),
        (
            "ScanResponse",
            json(&ScanResponse {
                passkey: Some(PasskeyChallenge {
                    allow_credentials: vec!["Y3JlZGVudGlhbA".into()],
                    ..challenge(None)
                }),
                ..scan(
                    pc_info(somewhere.clone()),
                    vec![Warning::DifferentCountry, Warning::DifferentNetwork],
                    Some(app),
                )
            }),
        ),
        (
            "ScanResponse",
            json(&scan(pc_info(Location::default()), vec![], None)),
        ),
        // A device's session: no client, the device's scope and its user code.
        (
            "ScanResponse",
            json(&ScanResponse {
                scope: Some(scope("openid profile")),
                user_code: Some(USER_CODE.into()),
                ..scan(
                    device_info(somewhere),
                    vec![Warning::DifferentNetwork],
                    None,
                )
            }),
        ),
        (
            "ScanResponse",
            json(&ScanResponse {
                scope: Some(vec![]),
                user_code: Some(USER_CODE.into()),
                ..scan(device_info(Location::default()), vec![], None)
            }),
        ),
        (
            "DeviceAuthorizationResponse",
            json(&DeviceAuthorizationResponse {
                device_code: Secret::new(format!("{QR_ID}.{}", "E".repeat(43))),
                user_code: USER_CODE.into(),
                verification_uri: "https://qrgate.example/m/device".into(),
                verification_uri_complete: format!("https://qrgate.example/m/qr/{QR_ID}"),
                expires_in: 600,
                interval: oauth::device::POLL_INTERVAL_SECONDS,
            }),
        ),
        (
            "UserCodeResponse",
            json(&UserCodeResponse {
                qr_id: QR_ID.into(),
                qr_url: format!("https://qrgate.example/m/qr/{QR_ID}"),
            }),
        ),
        (
            "RedirectTo",
            json(&redirect_to(&format!("code={GRANT_ID}.{}", "D".repeat(43)))),
        ),
        (
            "GrantsResponse",
            json(&GrantsResponse {
                grants: vec![GrantEntry {
                    grant_id: GRANT_ID.into(),
                    client_id: CLIENT_ID.into(),
                    client_name: CLIENT_NAME.into(),
                    scope: scope("openid profile"),
                    created_at: 1_700_000_000,
                    last_used_at: 1_700_000_300,
                }],
            }),
        ),
        ("GrantsResponse", json(&GrantsResponse { grants: vec![] })),
        (
            "PasskeyChallenge",
            json(&PasskeyChallenge {
                exclude_credentials: vec!["Y3JlZGVudGlhbA".into()],
                allow_credentials: vec!["Y3JlZGVudGlhbA".into()],
                ..challenge(Some(PasskeyUser {
                    id: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY".into(),
                    name: "ann.lee".into(),
                    display_name: "Ann Lee".into(),
                }))
            }),
        ),
        ("PasskeyChallenge", json(&challenge(None))),
        (
            "PasskeysResponse",
            json(&PasskeysResponse {
                passkeys: vec![passkey_entry(Some(1_700_000_300))],
            }),
        ),
        ("PasskeyEntry", json(&passkey_entry(Some(1_700_000_300)))),
        ("PasskeyEntry", json(&passkey_entry(None))),
        ("Discovery", json(&Discovery::at("https://qrgate.example"))),
        (
            "TokenResponse",
            json(&tokens(
                Some(jws()),
                Some(Secret::new(format!("{GRANT_ID}.{}", "R".repeat(43)))),
            )),
        ),
        ("TokenResponse", json(&tokens(None, None))),
        (
            "UserInfo",
            json(&UserInfo::of(&ann, &scope("openid profile"))),
        ),
        ("UserInfo", json(&UserInfo::of(&ann, &scope("openid")))),
        (
            "OAuthError",
            json(&oauth_error(
                OAuthErrorCode::InvalidGrant,
                Some("The code is unknown, expired, already used, or not this client's.".into()),
            )),
        ),
        (
            "OAuthError",
            json(&oauth_error(OAuthErrorCode::ServerError, None)),
        ),
        // As `edge/src/oauth/keys.rs` publishes its keys: one set per key type, so that each
        // member shows once at `keys[0]`.
        (
            "Jwks",
            json!({"keys": [{
                "kty": "EC", "crv": "P-256",
                "x": "11o9z99wDxAff2QcTBcI1n4xVZ431dsxK5GAVebkG-8",
                "y": "CoSUoq2mKavfFLgajQEl9SilhywDemEQR1SwxrhHolY",
                "kid": "es256-1", "alg": "ES256", "use": "sig",
            }]}),
        ),
        (
            "Jwks",
            json!({"keys": [{
                "kty": "RSA", "n": "i-Noz5afzJNpFr2-jUY11QQAdI31gZknReV1kF9XKZHQ", "e": "AQAB",
                "kid": "rs256-1", "alg": "RS256", "use": "sig",
            }]}),
        ),
        (
            "Error",
            json(&ErrorBody {
                error: ErrorCode::NotFound,
                message: "No such QR session.".into(),
            }),
        ),
    ]
}

#[test]
fn every_answer_has_exactly_the_described_fields() {
    let spec = spec();
    let mut checker = Checker {
        spec: &spec,
        seen_keys: BTreeMap::new(),
    };
    for (name, value) in answers() {
        let schema = schema(&spec, &format!("/components/schemas/{name}"));
        checker.check(name, schema, &value);
    }
    checker.all_properties_seen();
}

/// Request bodies may carry fields the edge ignores, so their schemas stay open; the fields
/// the types send must still be exactly the described ones.
#[test]
fn every_request_body_has_exactly_the_described_fields() {
    let spec = spec();
    let password = Secret::new("correct horse battery");
    let requests = [
        (
            "/components/schemas/CreateAccountRequest",
            json(&CreateAccountRequest {
                username: "ann.lee".into(),
                password: password.clone(),
                display_name: Some("Ann Lee".into()),
            }),
            json(&CreateAccountRequest {
                username: "ann.lee".into(),
                password: password.clone(),
                display_name: None,
            }),
        ),
        (
            "/components/schemas/LoginRequest",
            json(&LoginRequest {
                username: "ann.lee".into(),
                password: password.clone(),
                device_name: Some("Ann's phone".into()),
            }),
            json(&LoginRequest {
                username: "ann.lee".into(),
                password,
                device_name: None,
            }),
        ),
        (
            "/components/schemas/PasskeyChallengeRequest",
            json(&PasskeyChallengeRequest {
                ceremony: PasskeyCeremony::SignUp,
                username: Some("ann.lee".into()),
                display_name: Some("Ann Lee".into()),
            }),
            json(&PasskeyChallengeRequest::new(PasskeyCeremony::SignIn)),
        ),
        (
            "/components/schemas/PasskeySignUpRequest",
            json(&PasskeySignUpRequest {
                user: PasskeyUser {
                    id: "MGY4ZmFk".into(),
                    name: "ann.lee".into(),
                    display_name: "Ann Lee".into(),
                },
                passkey: RegisterPasskeyRequest {
                    client_data_json: "e30".into(),
                    attestation_object: "oA".into(),
                    name: None,
                },
                device_name: Some("Ann's phone".into()),
            }),
            json(&PasskeySignUpRequest {
                user: PasskeyUser {
                    id: "MGY4ZmFk".into(),
                    name: "ann.lee".into(),
                    display_name: "ann.lee".into(),
                },
                passkey: RegisterPasskeyRequest {
                    client_data_json: "e30".into(),
                    attestation_object: "oA".into(),
                    name: Some("Phone".into()),
                },
                device_name: None,
            }),
        ),
        (
            "/components/schemas/RegisterPasskeyRequest",
            json(&RegisterPasskeyRequest {
                client_data_json: "e30".into(),
                attestation_object: "oA".into(),
                name: Some("Ann's phone".into()),
            }),
            json(&RegisterPasskeyRequest {
                client_data_json: "e30".into(),
                attestation_object: "oA".into(),
                name: None,
            }),
        ),
        (
            "/components/schemas/PasskeyLoginRequest",
            json(&PasskeyLoginRequest {
                passkey: assertion(),
                device_name: Some("Ann's phone".into()),
            }),
            json(&PasskeyLoginRequest {
                passkey: assertion(),
                device_name: None,
            }),
        ),
        (
            "/components/schemas/RenamePasskeyRequest",
            json(&RenamePasskeyRequest {
                name: "Laptop".into(),
            }),
            json(&RenamePasskeyRequest {
                name: "Laptop".into(),
            }),
        ),
        (
            "/components/schemas/PasskeyAssertion",
            json(&assertion()),
            json(&assertion()),
        ),
        (
            "/components/schemas/CreateQrRequest",
            json(&CreateQrRequest {
                device_name: Some("Chromium on Linux".into()),
                authorization: Some("eyJyZXF1ZXN0Ijp7fX0.bWFj".into()),
            }),
            json(&CreateQrRequest::default()),
        ),
        (
            "/components/schemas/ContinueRequest",
            json(&ContinueRequest {
                authorization: "eyJyZXF1ZXN0Ijp7fX0.bWFj".into(),
            }),
            json(&ContinueRequest {
                authorization: "eyJyZXF1ZXN0Ijp7fX0.bWFj".into(),
            }),
        ),
        (
            "/components/schemas/UserCodeRequest",
            json(&UserCodeRequest {
                user_code: USER_CODE.into(),
            }),
            json(&UserCodeRequest {
                user_code: "bcdfghjk".into(),
            }),
        ),
        (
            "/components/requestBodies/Decision/content/application~1json/schema",
            json(&DecisionRequest {
                scan_token: Secret::new("B".repeat(43)),
                passkey: Some(assertion()),
            }),
            json(&DecisionRequest {
                scan_token: Secret::new("B".repeat(43)),
                passkey: None,
            }),
        ),
    ];
    for (pointer, fullest, barest) in requests {
        let schema = schema(&spec, pointer);
        assert_eq!(object_keys(&fullest), described_fields(schema), "{pointer}");
        assert_eq!(object_keys(&barest), required_fields(schema), "{pointer}");
    }
}

/// The members of a described enum.
fn described_enum(spec: &Value, pointer: &str) -> BTreeSet<String> {
    string_set(&resolve(spec, spec.pointer(pointer).expect(pointer))["enum"])
}

fn serialised<T: Serialize>(variants: &[T]) -> BTreeSet<String> {
    variants
        .iter()
        .map(|variant| json(variant).as_str().expect("a string").to_owned())
        .collect()
}

#[test]
fn every_enum_lists_exactly_the_variants() {
    use QrStatus::*;
    // The matches list every variant without a wildcard: adding one fails to compile here
    // until it is added to the list, and then to openapi.yaml.
    let statuses = [Pending, Scanned, Confirmed, Denied, Cancelled, Expired];
    for status in statuses {
        match status {
            Pending | Scanned | Confirmed | Denied | Cancelled | Expired => {}
        }
    }
    let token_types = [TokenType::Bearer, TokenType::DPoP];
    for token_type in token_types {
        match token_type {
            TokenType::Bearer | TokenType::DPoP => {}
        }
    }
    let vias = [Via::Password, Via::Qr, Via::Passkey];
    for via in vias {
        match via {
            Via::Password | Via::Qr | Via::Passkey => {}
        }
    }
    let ceremonies = [
        PasskeyCeremony::Register,
        PasskeyCeremony::SignUp,
        PasskeyCeremony::SignIn,
    ];
    for ceremony in ceremonies {
        match ceremony {
            PasskeyCeremony::Register | PasskeyCeremony::SignUp | PasskeyCeremony::SignIn => {}
        }
    }
    // What a client names itself by (`DeviceType::ALL`, the header's values), and every type an
    // answer may report of a signing-in device: those and a device without a browser.
    let device_types = [
        DeviceType::Pc,
        DeviceType::Web,
        DeviceType::Ios,
        DeviceType::Android,
        DeviceType::Device,
    ];
    for device_type in device_types {
        match device_type {
            DeviceType::Pc | DeviceType::Web | DeviceType::Ios | DeviceType::Android => {
                assert!(DeviceType::ALL.contains(&device_type), "{device_type:?}");
            }
            DeviceType::Device => {
                assert!(
                    !DeviceType::ALL.contains(&device_type),
                    "no header names it"
                );
            }
        }
    }
    let warnings = [Warning::DifferentCountry, Warning::DifferentNetwork];
    for warning in warnings {
        match warning {
            Warning::DifferentCountry | Warning::DifferentNetwork => {}
        }
    }
    use ErrorCode as E;
    let codes = [
        E::InvalidRequest,
        E::Unauthorized,
        E::Forbidden,
        E::StepUpRequired,
        E::NotFound,
        E::MethodNotAllowed,
        E::Conflict,
        E::Expired,
        E::PayloadTooLarge,
        E::UnsupportedMediaType,
        E::UpgradeRequired,
        E::RateLimited,
        E::Internal,
        E::Unavailable,
    ];
    for code in codes {
        match code {
            E::InvalidRequest
            | E::Unauthorized
            | E::Forbidden
            | E::StepUpRequired
            | E::NotFound
            | E::MethodNotAllowed
            | E::Conflict
            | E::Expired
            | E::PayloadTooLarge
            | E::UnsupportedMediaType
            | E::UpgradeRequired
            | E::RateLimited
            | E::Internal
            | E::Unavailable => {}
        }
    }
    use OAuthErrorCode as O;
    let oauth_codes = [
        O::InvalidRequest,
        O::InvalidClient,
        O::InvalidGrant,
        O::UnauthorizedClient,
        O::UnsupportedGrantType,
        O::InvalidScope,
        O::AccessDenied,
        O::UnsupportedResponseType,
        O::LoginRequired,
        O::RequestNotSupported,
        O::RequestUriNotSupported,
        O::InvalidDpopProof,
        O::InvalidToken,
        O::AuthorizationPending,
        O::SlowDown,
        O::ExpiredToken,
        O::ServerError,
        O::TemporarilyUnavailable,
    ];
    for code in oauth_codes {
        match code {
            O::InvalidRequest
            | O::InvalidClient
            | O::InvalidGrant
            | O::UnauthorizedClient
            | O::UnsupportedGrantType
            | O::InvalidScope
            | O::AccessDenied
            | O::UnsupportedResponseType
            | O::LoginRequired
            | O::RequestNotSupported
            | O::RequestUriNotSupported
            | O::InvalidDpopProof
            | O::InvalidToken
            | O::AuthorizationPending
            | O::SlowDown
            | O::ExpiredToken
            | O::ServerError
            | O::TemporarilyUnavailable => {}
        }
    }
    let spec = spec();
    let cases = [
        (
            "/components/schemas/DeviceType",
            serialised(&DeviceType::ALL),
        ),
        (
            "/components/schemas/SessionDeviceType",
            serialised(&device_types),
        ),
        ("/components/schemas/Via", serialised(&vias)),
        (
            "/components/schemas/PasskeyCeremony",
            serialised(&ceremonies),
        ),
        ("/components/schemas/TokenType", serialised(&token_types)),
        (
            "/components/schemas/PollResponse/properties/status",
            serialised(&statuses),
        ),
        (
            "/components/schemas/ScanResponse/properties/warnings/items",
            serialised(&warnings),
        ),
        (
            "/components/schemas/Error/properties/error",
            serialised(&codes),
        ),
        (
            "/components/schemas/OAuthError/properties/error",
            serialised(&oauth_codes),
        ),
        (
            "/components/schemas/Scope",
            serialised(&oauth::SCOPES_SUPPORTED),
        ),
        (
            "/components/schemas/TokenRequest/properties/grant_type",
            serialised(&[
                oauth::AUTHORIZATION_CODE,
                oauth::REFRESH_TOKEN,
                oauth::DEVICE_CODE,
            ]),
        ),
    ];
    for (pointer, variants) in cases {
        assert_eq!(described_enum(&spec, pointer), variants, "{pointer}");
    }
}

/// Each list of the provider's metadata is described by exactly the values it holds: a value
/// added to `Discovery::at` fails here until openapi.yaml lists it.
#[test]
fn the_metadata_lists_are_described_exactly() {
    let spec = spec();
    let metadata = json(&Discovery::at("https://qrgate.example"));
    let described = schema(&spec, "/components/schemas/Discovery");
    let mut lists = 0;
    for (name, value) in metadata.as_object().expect("an object") {
        let Some(values) = value.as_array() else {
            continue;
        };
        let pointer = format!("/components/schemas/Discovery/properties/{name}/items");
        let sent: BTreeSet<String> = string_set(value);
        assert_eq!(sent.len(), values.len(), "{name}: a value listed twice");
        assert!(described["properties"][name].is_object(), "{name}");
        assert_eq!(described_enum(&spec, &pointer), sent, "{pointer}");
        lists += 1;
    }
    assert!(lists > 0, "the metadata has lists");
}

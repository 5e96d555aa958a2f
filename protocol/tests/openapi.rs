//! `openapi.yaml` describes every field of these wire types, and nothing else: each type is
//! serialised in its fullest and its barest form and checked against its schema. An object's
//! fields must be exactly the described properties (fullest form) and exactly the required
//! ones (barest form); every value must have the described type, enum member, pattern, length
//! and minimum; and each described enum must list exactly the variants of its Rust enum.
//! (The route table and error codes are checked in `edge/src/routes.rs`; schemathesis checks
//! the live answers of `wrangler dev` against the same file.)

mod common;

use common::{object_keys, string_set};
use qrgate_protocol::location::Location;
use qrgate_protocol::*;
use serde::Serialize;
use serde_json::Value;
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

fn sign_in(via: Via, location: Location) -> SignInEntry {
    SignInEntry {
        at: 1_700_000_000,
        device_id: DEVICE_ID.into(),
        device_type: DeviceType::Pc,
        device_name: "Chromium on Linux".into(),
        via,
        country: location.country,
        city: location.city,
        network: location.network,
        client_id: None,
        client_name: None,
    }
}

/// Every answer of the contract, each in its fullest and its barest form where they differ.
fn answers() -> Vec<(&'static str, Value)> {
    let somewhere = Location {
        country: Some("DE".into()),
        city: Some("Berlin".into()),
        network: Some("Example ISP".into()),
    };
    let scan = |pc: PcInfo, warnings: Vec<Warning>| ScanResponse {
        scan_token: Secret::new("B".repeat(43)),
        expires_at: 1_700_000_120,
        pc,
        warnings,
        client: None,
        scope: None,
    };
    let poll = |status, session| PollResponse {
        status,
        expires_at: 1_700_000_120,
        interval: 1,
        session,
        authorization: None,
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
                sign_ins: vec![sign_in(Via::Qr, somewhere.clone())],
            }),
        ),
        (
            "SignInsResponse",
            json(&SignInsResponse {
                sign_ins: vec![sign_in(Via::Password, Location::default())],
            }),
        ),
        (
            "CreateQrResponse",
            json(&CreateQrResponse {
                qr_id: "abcdefghijklmnopqrstuvwxyz012345".into(),
                poll_secret: Secret::new("C".repeat(43)),
                qr_url: "https://qrgate.example/m/qr/abcdefghijklmnopqrstuvwxyz012345".into(),
                expires_at: 1_700_000_120,
                interval: 1,
            }),
        ),
        (
            "PollResponse",
            json(&poll(QrStatus::Confirmed, Some(login_session()))),
        ),
        ("PollResponse", json(&poll(QrStatus::Pending, None))),
        (
            "ScanResponse",
            json(&scan(
                pc_info(somewhere),
                vec![Warning::DifferentCountry, Warning::DifferentNetwork],
            )),
        ),
        (
            "ScanResponse",
            json(&scan(pc_info(Location::default()), vec![])),
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
            "/components/schemas/CreateQrRequest",
            json(&CreateQrRequest {
                device_name: Some("Chromium on Linux".into()),
                authorization: None,
            }),
            json(&CreateQrRequest::default()),
        ),
        (
            "/components/requestBodies/Decision/content/application~1json/schema",
            json(&DecisionRequest {
                scan_token: Secret::new("B".repeat(43)),
            }),
            json(&DecisionRequest {
                scan_token: Secret::new("B".repeat(43)),
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
    let vias = [Via::Password, Via::Qr];
    for via in vias {
        match via {
            Via::Password | Via::Qr => {}
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
    let spec = spec();
    let cases = [
        (
            "/components/schemas/DeviceType",
            serialised(&DeviceType::ALL),
        ),
        ("/components/schemas/Via", serialised(&vias)),
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
    ];
    for (pointer, variants) in cases {
        assert_eq!(described_enum(&spec, pointer), variants, "{pointer}");
    }
}

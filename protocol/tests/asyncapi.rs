//! `asyncapi.yaml` describes the live channel as `protocol/src/live.rs` defines it: the hello's
//! fields (a PC's and a device's), the pushed status's fields and statuses (those of `openapi.yaml`'s poll answer,
//! which `tests/openapi.rs` checks against the code), `ping` and `pong`, the close codes with
//! their reasons, the first-message deadline, the bound on sockets waiting for it and the message size limit. The test command also
//! validates the document with `@asyncapi/parser` (`tests/asyncapi/validate.mjs`).

mod common;

use common::{object_keys as keys, string_set as strings};
use qrgate_protocol::account_live::{self, AccountEvent, AccountHello};
use qrgate_protocol::live::{
    CloseCode, DeviceHello, HELLO_TIMEOUT_MS, LiveHello, MAX_AUTHENTICATED_SOCKETS,
    MAX_MESSAGE_BYTES, MAX_WAITING_SOCKETS, PING, PONG,
};
use qrgate_protocol::{DeviceType, PollResponse, QrStatus, Secret};
use serde_json::Value;
use std::collections::BTreeSet;

fn yaml(text: &str) -> Value {
    serde_norway::from_str(text).expect("YAML")
}

fn asyncapi() -> Value {
    yaml(include_str!("../../asyncapi.yaml"))
}

fn at<'a>(document: &'a Value, pointer: &str) -> &'a Value {
    document
        .pointer(pointer)
        .unwrap_or_else(|| panic!("no {pointer}"))
}

/// An object schema's properties and required fields, both exactly `fields`.
fn describes_exactly(document: &Value, schema: &str, fields: &BTreeSet<String>) {
    let schema = at(document, schema);
    assert_eq!(&keys(&schema["properties"]), fields, "properties");
    assert_eq!(&strings(&schema["required"]), fields, "required");
}

#[test]
fn the_hello_and_the_status_are_the_wire_types() {
    let document = asyncapi();
    let hello = LiveHello {
        poll_secret: Secret::new("secret"),
        device_id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
        device_type: DeviceType::Pc,
    };
    let hello = serde_json::to_value(&hello).expect("serialises");
    describes_exactly(&document, "/components/schemas/LiveHello", &keys(&hello));
    let device_types: BTreeSet<String> = DeviceType::ALL
        .iter()
        .map(|t| t.as_str().to_owned())
        .collect();
    assert_eq!(
        strings(at(
            &document,
            "/components/schemas/LiveHello/properties/device_type/enum"
        )),
        device_types
    );

    let device_hello = DeviceHello {
        device_code: Secret::new("abcdefghijklmnopqrstuvwxyz012345.secret"),
    };
    let device_hello = serde_json::to_value(&device_hello).expect("serialises");
    describes_exactly(
        &document,
        "/components/schemas/DeviceHello",
        &keys(&device_hello),
    );
    // Both are first messages: the channel and the operation that sends the hello list both.
    for pointer in ["/channels/live/messages", "/components/messages"] {
        for message in ["hello", "deviceHello"] {
            assert!(
                at(&document, pointer)[message].is_object(),
                "{pointer}/{message}"
            );
        }
    }
    let first_messages: BTreeSet<String> = at(&document, "/operations/sendHello/messages")
        .as_array()
        .expect("a list")
        .iter()
        .map(|message| message["$ref"].as_str().expect("a $ref").to_owned())
        .collect();
    assert_eq!(
        first_messages,
        BTreeSet::from([
            "#/channels/live/messages/hello".to_owned(),
            "#/channels/live/messages/deviceHello".to_owned(),
        ])
    );

    let status = PollResponse {
        status: QrStatus::Pending,
        expires_at: 1_700_000_120,
        interval: 1,
        session: None,
        authorization: None,
    };
    let status = serde_json::to_value(&status).expect("serialises");
    describes_exactly(&document, "/components/schemas/LiveStatus", &keys(&status));
    let openapi = yaml(include_str!("../../openapi.yaml"));
    assert_eq!(
        strings(at(
            &document,
            "/components/schemas/LiveStatus/properties/status/enum"
        )),
        strings(at(
            &openapi,
            "/components/schemas/PollResponse/properties/status/enum"
        )),
    );
}

#[test]
fn the_limits_keep_alive_and_close_codes_are_the_code_s() {
    let document = asyncapi();
    assert_eq!(
        at(&document, "/info/x-hello-timeout-ms").as_u64(),
        Some(HELLO_TIMEOUT_MS)
    );
    assert_eq!(
        at(&document, "/info/x-max-message-bytes").as_u64(),
        u64::try_from(MAX_MESSAGE_BYTES).ok()
    );
    assert_eq!(
        at(&document, "/info/x-max-waiting-sockets").as_u64(),
        u64::try_from(MAX_WAITING_SOCKETS).ok()
    );
    assert_eq!(
        at(&document, "/info/x-max-authenticated-sockets").as_u64(),
        u64::try_from(MAX_AUTHENTICATED_SOCKETS).ok()
    );
    assert_eq!(
        at(&document, "/components/messages/ping/payload/const"),
        PING
    );
    assert_eq!(
        at(&document, "/components/messages/pong/payload/const"),
        PONG
    );
    let described: Vec<(u64, String)> = at(&document, "/info/x-close-codes")
        .as_array()
        .expect("a list")
        .iter()
        .map(|entry| {
            let code = entry["code"].as_u64().expect("a code");
            (code, entry["reason"].as_str().expect("a reason").to_owned())
        })
        .collect();
    let defined: Vec<(u64, String)> = CloseCode::ALL
        .iter()
        .map(|code| (u64::from(code.code()), code.reason().to_owned()))
        .collect();
    assert_eq!(described, defined);
}

#[test]
fn the_account_channel_s_hello_and_events_are_the_wire_types() {
    let document = asyncapi();
    let hello = AccountHello {
        token: Secret::new("a.b"),
        device_id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
        proof: Some("a.b.c".into()),
    };
    let hello = serde_json::to_value(&hello).expect("serialises");
    let schema = at(&document, "/components/schemas/AccountHello");
    assert_eq!(keys(&schema["properties"]), keys(&hello));
    assert_eq!(
        strings(&schema["required"]),
        BTreeSet::from(["token".to_owned(), "device_id".to_owned()]),
        "all but the proof"
    );
    let types: BTreeSet<String> = [AccountEvent::Ready, AccountEvent::SignedOut]
        .iter()
        .map(|event| serde_json::to_value(event).expect("serialises")["type"].clone())
        .chain([serde_json::json!("sign_in")])
        .map(|t| t.as_str().expect("a type").to_owned())
        .collect();
    assert_eq!(
        strings(at(
            &document,
            "/components/schemas/AccountEvent/properties/type/enum"
        )),
        types
    );
    let openapi = yaml(include_str!("../../openapi.yaml"));
    assert_eq!(
        keys(at(
            &document,
            "/components/schemas/AccountEvent/properties/sign_in/properties"
        )),
        keys(at(
            &openapi,
            "/components/schemas/SignInsResponse/properties/sign_ins/items/properties"
        )),
    );
    assert_eq!(
        at(&document, "/info/x-account-max-authenticated-sockets").as_u64(),
        u64::try_from(account_live::MAX_AUTHENTICATED_SOCKETS).ok()
    );
}

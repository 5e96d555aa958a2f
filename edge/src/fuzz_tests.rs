//! Property tests of everything the edge parses from outside: paths and methods, device
//! headers, media types, JSON bodies and login tokens. Whatever arrives, parsing answers (no
//! panic) and a rejection never repeats a secret it was given.

use crate::context::{device_headers, parse_json};
use crate::error::AppError;
use crate::routes::{Resolved, resolve};
use proptest::prelude::*;
use qrgate_protocol::{CreateAccountRequest, DecisionRequest, LoginRequest};

fn message(error: AppError) -> String {
    match error {
        AppError::InvalidRequest(message) => message,
        other => panic!("a body error must be 400, got {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_method_and_path_resolves_without_panicking(
        method in "[A-Z]{0,8}",
        path in "(/api/)?([A-Za-z0-9%._~-]{0,20}/?){0,5}",
    ) {
        match resolve(&method, &path) {
            Resolved::Found(route) => prop_assert!(path.starts_with("/api/"), "{route:?}"),
            Resolved::MethodNotAllowed(allowed) => prop_assert!(!allowed.contains(&method.as_str())),
            Resolved::NotFound => {}
        }
    }

    #[test]
    fn device_headers_accept_exactly_uuids_and_the_four_types(
        id in "\\PC{0,40}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        kind in "pc|web|ios|android|\\PC{0,8}",
    ) {
        if let Ok(device) = device_headers(Some(&id), Some(&kind)) {
            prop_assert_eq!(device.device_id, id.trim().to_ascii_lowercase());
            prop_assert_eq!(device.device_type.as_str(), kind.trim());
        }
    }

    #[test]
    fn arbitrary_bytes_as_a_body_are_a_400_at_worst(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        for result in [
            parse_json::<LoginRequest>(&body).map(|_| ()),
            parse_json::<CreateAccountRequest>(&body).map(|_| ()),
            parse_json::<DecisionRequest>(&body).map(|_| ()),
        ] {
            if let Err(error) = result {
                message(error);
            }
        }
    }

    #[test]
    fn a_rejected_body_never_echoes_the_secret_in_it(
        secret in "[A-Za-z0-9 !#$%&*+,.:;=?@^_~-]{8,40}",
        shape in 0..6usize,
    ) {
        let quoted = serde_json::to_string(&secret).unwrap();
        let body = match shape {
            0 => format!(r#"{{"password": {quoted}}}"#),
            1 => format!(r#"{{"username": 5, "password": {quoted}}}"#),
            2 => format!(r#"{{"username": "ann", "password": [{quoted}]}}"#),
            3 => format!(r#"{{"username": {quoted}, "password": 12345678}}"#),
            4 => format!(r#"{{"scan_token": {{"x": {quoted}}}}}"#),
            _ => format!(r#"{{"password": {quoted}"#),
        };
        for result in [
            parse_json::<LoginRequest>(body.as_bytes()).map(|_| ()),
            parse_json::<DecisionRequest>(body.as_bytes()).map(|_| ()),
        ] {
            if let Err(error) = result {
                let message = message(error);
                prop_assert!(!message.contains(&secret), "{message}");
            }
        }
    }
}

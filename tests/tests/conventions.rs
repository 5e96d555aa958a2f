//! The contract's conventions: routes, methods, sizes, media types, headers, the error shape,
//! the order of checks and the QR creation limit, against a live `wrangler dev`.

use qrgate_protocol::{CreateQrResponse, ErrorCode, MAX_BODY_BYTES};
use qrgate_tests::*;
use reqwest::Method;

#[tokio::test]
async fn unknown_routes_are_404_in_json() {
    let device = Device::pc();
    for path in [
        "/api/nothing",
        "/api/",
        "/api/qr/",
        "/api/qr/abcdefghijklmnop/steal",
        "/api/accounts/x",
    ] {
        let reply = device.call(Method::GET, path).send().await;
        reply.expect_error(404, ErrorCode::NotFound);
        assert_eq!(reply.header("Cache-Control"), Some("no-store"), "{path}");
    }
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let device = Device::pc();
    let cases = [
        (Method::GET, "/api/accounts", "POST"),
        (Method::GET, "/api/sessions", "POST"),
        (Method::GET, "/api/sessions/current", "DELETE"),
        (Method::POST, "/api/me", "GET"),
        (Method::DELETE, "/api/devices", "GET"),
        (Method::GET, "/api/devices/x", "DELETE"),
        (Method::GET, "/api/qr", "POST"),
        (Method::PUT, "/api/qr/abcdefghijklmnop", "GET, DELETE"),
        (Method::GET, "/api/qr/abcdefghijklmnop/scan", "POST"),
        (Method::DELETE, "/api/qr/abcdefghijklmnop/confirm", "POST"),
        (Method::PATCH, "/api/qr/abcdefghijklmnop/deny", "POST"),
    ];
    for (method, path, allow) in cases {
        let reply = device.call(method.clone(), path).send().await;
        reply.expect_error(405, ErrorCode::MethodNotAllowed);
        assert_eq!(reply.header("Allow"), Some(allow), "{method} {path}");
    }
}

#[tokio::test]
async fn bodies_over_8_kib_are_413() {
    let device = Device::pc();
    let big = format!(
        r#"{{"username":"ann","password":"{}"}}"#,
        "x".repeat(MAX_BODY_BYTES)
    );
    for path in ["/api/accounts", "/api/sessions", "/api/qr"] {
        device
            .call(Method::POST, path)
            .raw_body(Some("application/json"), big.clone())
            .fails(413, ErrorCode::PayloadTooLarge)
            .await;
    }
    // Size is checked before the media type and the device headers.
    Call::new(Method::POST, "/api/qr")
        .raw_body(Some("text/plain"), big)
        .fails(413, ErrorCode::PayloadTooLarge)
        .await;
}

/// A body sent in chunks, with no `Content-Length` to refuse it by: the edge stops reading it at
/// 8 KiB and answers `413`, rather than holding a body of any size whole.
#[tokio::test]
async fn a_chunked_body_over_8_kib_is_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base_url().trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host)
        .await
        .expect("wrangler dev accepts a connection");
    let device = Device::phone();
    let mut head = format!(
        "POST /api/sessions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n"
    );
    for (name, value) in device.headers() {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    let filler = "x".repeat(16 * 1024);
    let chunks =
        std::iter::once(r#"{"username": ""#).chain(std::iter::repeat_n(filler.as_str(), 64));
    for chunk in chunks {
        request.extend_from_slice(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes());
    }
    request.extend_from_slice(b"0\r\n\r\n");
    // The edge may answer before it has all of a 1 MiB body, and close: a write that fails then
    // is part of the expected outcome.
    let _ = stream.write_all(&request).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains(r#""error":"payload_too_large""#),
        "{answer}"
    );
}

#[tokio::test]
async fn bodies_that_are_not_json_are_415() {
    let device = Device::pc();
    device
        .call(Method::POST, "/api/accounts")
        .raw_body(Some("text/plain"), r#"{"username":"ann"}"#)
        .fails(415, ErrorCode::UnsupportedMediaType)
        .await;
    device
        .call(Method::POST, "/api/qr")
        .raw_body(None, "{}")
        .fails(415, ErrorCode::UnsupportedMediaType)
        .await;
    device
        .call(Method::POST, "/api/qr")
        .raw_body(Some("application/x-www-form-urlencoded"), "device_name=x")
        .fails(415, ErrorCode::UnsupportedMediaType)
        .await;
    // Media type is checked before the device headers.
    Call::new(Method::POST, "/api/sessions")
        .raw_body(Some("text/plain"), "x")
        .fails(415, ErrorCode::UnsupportedMediaType)
        .await;
}

#[tokio::test]
async fn an_empty_body_means_an_empty_object() {
    let pc = Device::pc();
    let qr: CreateQrResponse = pc
        .call(Method::POST, "/api/qr")
        .raw_body(None, "")
        .send()
        .await
        .expect(201);
    assert!(!qr.qr_id.is_empty());
    // Empty, whatever type it is said to have (`curl -X POST -d ''` says a form).
    pc.call(Method::POST, "/api/qr")
        .raw_body(Some("application/x-www-form-urlencoded"), "")
        .send()
        .await
        .expect::<CreateQrResponse>(201);
    let phone = Device::phone();
    let login = signed_in(&phone).await;
    phone
        .call(Method::POST, &format!("/api/qr/{}/scan", qr.qr_id))
        .bearer(&login.token)
        .raw_body(None, "")
        .send()
        .await
        .expect::<serde_json::Value>(200);
    // A required field is still required.
    pc.call(Method::POST, "/api/accounts")
        .raw_body(None, "")
        .fails(400, ErrorCode::InvalidRequest)
        .await;
    pc.call(Method::POST, "/api/qr")
        .raw_body(Some("application/json; charset=utf-8"), "{}")
        .send()
        .await
        .expect::<CreateQrResponse>(201);
}

#[tokio::test]
async fn malformed_json_is_400() {
    let device = Device::pc();
    for body in [
        "{",
        "nul",
        r#"{"device_name": 5}"#,
        "[1,2",
        "\"just a string\"",
        // The field's value in an array: a struct's fields in order, to serde, but no object.
        r#"["Array PC"]"#,
    ] {
        device
            .call(Method::POST, "/api/qr")
            .raw_body(Some("application/json"), body)
            .fails(400, ErrorCode::InvalidRequest)
            .await;
    }
    device
        .call(Method::POST, "/api/qr")
        .json(&serde_json::json!({"device_name": "n".repeat(65)}))
        .fails(400, ErrorCode::InvalidRequest)
        .await;
}

#[tokio::test]
async fn device_headers_are_required_on_every_route() {
    let valid = Device::pc();
    let headerless = [
        (Method::POST, "/api/accounts"),
        (Method::POST, "/api/sessions"),
        (Method::DELETE, "/api/sessions/current"),
        (Method::GET, "/api/me"),
        (Method::GET, "/api/devices"),
        (Method::POST, "/api/qr"),
        (Method::GET, "/api/qr/abcdefghijklmnop"),
    ];
    for (method, path) in headerless {
        Call::new(method.clone(), path)
            .fails(400, ErrorCode::InvalidRequest)
            .await;
        Call::new(method.clone(), path)
            .header("X-Device-Id", &valid.id)
            .fails(400, ErrorCode::InvalidRequest)
            .await;
        Call::new(method.clone(), path)
            .header("X-Device-Id", "not-a-uuid")
            .header("X-Device-Type", "pc")
            .fails(400, ErrorCode::InvalidRequest)
            .await;
        Call::new(method, path)
            .header("X-Device-Id", &valid.id)
            .header("X-Device-Type", "toaster")
            .fails(400, ErrorCode::InvalidRequest)
            .await;
    }
}

#[tokio::test]
async fn ill_formed_qr_ids_are_400_before_anything_else() {
    let device = Device::phone();
    for id in [
        "short",
        "has.dot.in.the.middle.x",
        "%2e%2e%2fetc%2fpasswd%2e%2e",
        &"a".repeat(65),
    ] {
        device
            .call(Method::GET, &format!("/api/qr/{id}"))
            .fails(400, ErrorCode::InvalidRequest)
            .await;
        device
            .call(Method::POST, &format!("/api/qr/{id}/scan"))
            .fails(400, ErrorCode::InvalidRequest)
            .await;
        device
            .call(Method::POST, &format!("/api/qr/{id}/confirm"))
            .json(&serde_json::json!({"scan_token": "x"}))
            .fails(400, ErrorCode::InvalidRequest)
            .await;
    }
    // A missing scan_token is 400 before the missing login token (401).
    device
        .call(Method::POST, "/api/qr/abcdefghijklmnop/confirm")
        .json(&serde_json::json!({}))
        .fails(400, ErrorCode::InvalidRequest)
        .await;
}

#[tokio::test]
async fn every_api_answer_is_no_store() {
    let pc = Device::pc();
    let reply = pc.call(Method::POST, "/api/qr").send().await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    let qr: CreateQrResponse = reply.expect(201);
    let reply = poll_call(&pc, &qr).send().await;
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    let reply = pc.call(Method::GET, "/api/me").send().await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
}

#[tokio::test]
async fn qr_creation_is_limited_per_address() {
    let pc = Device::pc();
    let mut limited = None;
    // Twice the limit and one more: the limiter's windows are aligned to the clock, and one may
    // end after the 20th creation, but two windows cannot both hold 41 creations within 20.
    for _ in 0..41 {
        let reply = pc.call(Method::POST, "/api/qr").send().await;
        if reply.status == 429 {
            limited = Some(reply);
            break;
        }
        reply.expect::<CreateQrResponse>(201);
    }
    let reply = limited.expect("the limiter trips within 41 creations");
    reply.expect_error(429, ErrorCode::RateLimited);
    let retry_after: u64 = reply.header("Retry-After").unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    // Another address is not affected.
    create_qr(&Device::pc()).await;
}

//! The operator's request log: one JSON line per API request, by route pattern, and one per
//! closed live socket, read from location A's `wrangler dev` output (`QRGATE_LOG`). The secret
//! audit of the test command searches the same log for every secret of the run.

use qrgate_protocol::live::CloseCode;
use qrgate_protocol::{ErrorCode, QrStatus};
use qrgate_tests::live::LiveSocket;
use qrgate_tests::*;
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

/// The whole log so far, as bytes: a test notes where it stood when it began.
fn read_log() -> Vec<u8> {
    let path = std::env::var("QRGATE_LOG")
        .expect("QRGATE_LOG is not set: run these tests through scripts/test.sh");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every JSON line of the log after its first `start` bytes (a line cut at `start` is not
/// JSON and is skipped). `wrangler dev` running two Workers puts a `[worker name] ` before each
/// line a Worker writes; deployed, the line is the JSON alone.
fn log_lines(start: usize) -> Vec<Value> {
    let log = read_log();
    String::from_utf8_lossy(log.get(start..).unwrap_or_default())
        .lines()
        .map(|line| {
            let line = line.trim();
            match line
                .strip_prefix('[')
                .and_then(|rest| rest.split_once("] "))
            {
                Some((_, json)) => json,
                None => line,
            }
        })
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(Value::is_object)
        .collect()
}

/// Waits (wrangler writes its output as it comes) until every `wanted` line has a match among
/// those written after the log's first `start` bytes: the test's own, not the earlier tests'
/// against the same edge.
async fn expect_lines(start: usize, wanted: &[Value]) -> Vec<Value> {
    let mut lines = Vec::new();
    for _ in 0..50 {
        lines = log_lines(start);
        let missing: Vec<&Value> = wanted
            .iter()
            .filter(|w| !lines.iter().any(|line| matches(line, w)))
            .collect();
        if missing.is_empty() {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let missing: Vec<&Value> = wanted
        .iter()
        .filter(|w| !lines.iter().any(|line| matches(line, w)))
        .collect();
    panic!("no log line like {missing:?}");
}

/// Whether `line` has every field of `wanted`, with its value.
fn matches(line: &Value, wanted: &Value) -> bool {
    wanted
        .as_object()
        .is_some_and(|fields| fields.iter().all(|(name, value)| &line[name] == value))
}

fn request(route: &str, status: u16) -> Value {
    serde_json::json!({"event": "request", "route": route, "status": status})
}

#[tokio::test]
async fn every_route_and_every_live_close_writes_one_json_line() {
    let start = read_log().len();
    let phone = Device::phone();
    let pc = Device::pc();
    let login = signed_in(&phone).await;
    let token = &login.token;
    me_call(&phone, token).send().await.expect::<Value>(200);
    phone
        .call(Method::GET, "/api/devices")
        .bearer(token)
        .send()
        .await
        .expect::<Value>(200);
    phone
        .call(Method::GET, "/api/sign-ins")
        .bearer(token)
        .send()
        .await
        .expect::<Value>(200);

    let qr = create_qr(&pc).await;
    let mut socket = LiveSocket::watch(&pc, &qr).await;
    socket.expect_status(QrStatus::Pending).await;
    poll(&pc, &qr).await;
    let scanned = scan(&phone, token, &qr.qr_id).await;
    socket.expect_status(QrStatus::Scanned).await;
    decide(&phone, token, &qr.qr_id, "confirm", &scanned.scan_token).await;
    socket.expect_status(QrStatus::Confirmed).await;
    socket.expect_close(CloseCode::Done).await;
    let picked = poll(&pc, &qr).await;
    let pc_token = picked.session.expect("the pick-up").token;

    let denied = create_qr(&pc).await;
    let scanned = scan(&phone, token, &denied.qr_id).await;
    decide(&phone, token, &denied.qr_id, "deny", &scanned.scan_token).await;
    let cancelled = create_qr(&pc).await;
    cancel_call(&pc, &cancelled).send().await.expect_empty(204);
    phone
        .call(Method::DELETE, &format!("/api/devices/{}", pc.id))
        .bearer(token)
        .send()
        .await
        .expect_empty(204);
    me_call(&pc, &pc_token)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    phone
        .call(Method::DELETE, "/api/sessions/current")
        .bearer(token)
        .send()
        .await
        .expect_empty(204);
    phone
        .call(Method::GET, "/api/nothing-here")
        .fails(404, ErrorCode::NotFound)
        .await;

    let lines = expect_lines(start, &[
        request("POST /api/accounts", 201),
        request("POST /api/sessions", 201),
        request("GET /api/me", 200),
        serde_json::json!({"event": "request", "route": "GET /api/me", "status": 401, "error": "unauthorized"}),
        request("GET /api/devices", 200),
        request("GET /api/sign-ins", 200),
        request("POST /api/qr", 201),
        request("GET /api/qr/{qr_id}/live", 101),
        request("GET /api/qr/{qr_id}", 200),
        request("POST /api/qr/{qr_id}/scan", 200),
        request("POST /api/qr/{qr_id}/confirm", 204),
        request("POST /api/qr/{qr_id}/deny", 204),
        request("DELETE /api/qr/{qr_id}", 204),
        request("DELETE /api/devices/{device_id}", 204),
        request("DELETE /api/sessions/current", 204),
        serde_json::json!({"event": "request", "route": null, "status": 404, "error": "not_found"}),
        serde_json::json!({"event": "live_close", "by": "edge", "code": 1000}),
    ])
    .await;

    // Each line holds what the edge decided and nothing a client sent.
    for line in lines.iter().filter(|line| line["event"] == "request") {
        let fields: Vec<&str> = line
            .as_object()
            .map(|fields| fields.keys().map(String::as_str).collect())
            .unwrap_or_default();
        for field in &fields {
            assert!(
                ["event", "route", "status", "duration_ms", "colo", "error"].contains(field),
                "{line}"
            );
        }
        assert!(line["duration_ms"].is_u64(), "{line}");
    }
    let text = serde_json::to_string(&lines).expect("lines serialise");
    for id in [&qr.qr_id, &pc.id, &phone.id, &login.account.username] {
        assert!(!text.contains(id.as_str()), "an id or name in the log");
    }
}

//! Devices without a browser (RFC 8628; `shared/API.md`, "Devices without a browser") against
//! real `wrangler dev`s: the device at location A, the phone at location B (its own KV, the
//! same objects); the grant's answers (`authorization_pending`, `slow_down` with the interval
//! growing, `access_denied`, `expired_token`, the tokens once), both bounds of each deadline,
//! the race of 16 polls at two locations, the live channel, the typed user code and its
//! brute-force limit, and every refusal. The stock clients' runs are `tests/oidc/`.

use futures::future::join_all;
use qrgate_protocol::live::CloseCode;
use qrgate_protocol::oauth::GrantsResponse;
use qrgate_protocol::oauth::device::{DeviceAuthorizationResponse, UserCodeResponse};
use qrgate_protocol::{DeviceType, ErrorCode, LoginSession, QrStatus, SignInsResponse};
use qrgate_tests::live::LiveSocket;
use qrgate_tests::oidc::*;
use qrgate_tests::{
    Call, Device, Location, Reply, TEST_DEVICE_CODE_TTL_SECONDS, decide, scan, signed_in,
};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn assert_oauth_error(reply: &Reply, status: u16, error: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.text());
    let body: Value = serde_json::from_slice(&reply.body).expect("a JSON error");
    assert_eq!(body["error"], error, "{}", reply.text());
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
}

async fn phone_at(location: Location) -> (Device, LoginSession) {
    let phone = Device::phone().at(location);
    let session = signed_in(&phone).await;
    (phone, session)
}

async fn poll(authorization: &DeviceAuthorizationResponse) -> Reply {
    device_poll_call(Location::A, CLI, authorization.device_code.expose())
        .send()
        .await
}

/// The phone scans the device's QR and confirms (or denies): what it was shown.
async fn approve(
    phone: &Device,
    session: &LoginSession,
    authorization: &DeviceAuthorizationResponse,
    step: &str,
) -> qrgate_protocol::ScanResponse {
    let qr_id = device_qr_id(authorization);
    let shown = scan(phone, &session.token, &qr_id).await;
    decide(phone, &session.token, &qr_id, step, &shown.scan_token).await;
    shown
}

async fn sleep_until(start: Instant, after: Duration) {
    tokio::time::sleep_until((start + after).into()).await;
}

const INTERVAL: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_device_signs_in_when_a_phone_at_another_location_scans_and_confirms() {
    let authorization = authorize_device(Location::A).await;
    let base = Location::A.base_url();
    assert_eq!(authorization.verification_uri, format!("{base}/m/device"));
    let qr_id = device_qr_id(&authorization);
    assert_eq!(
        authorization.verification_uri_complete,
        format!("{base}/m/qr/{qr_id}")
    );
    let code = &authorization.user_code;
    assert!(
        code.len() == 9
            && code.as_bytes()[4] == b'-'
            && code
                .bytes()
                .filter(|b| *b != b'-')
                .all(|b| b"BCDFGHJKLMNPQRSTVWXZ".contains(&b)),
        "{code}"
    );
    assert_eq!(authorization.interval, 5);
    assert_eq!(authorization.expires_in, TEST_DEVICE_CODE_TTL_SECONDS);
    assert_oauth_error(&poll(&authorization).await, 400, "authorization_pending");
    // The interval counts from when the edge answered the last poll, at the latest.
    let started = Instant::now();

    let (phone, session) = phone_at(Location::B).await;
    let shown = approve(&phone, &session, &authorization, "confirm").await;
    assert_eq!(shown.pc.device_type, DeviceType::Device);
    assert_eq!(shown.pc.device_name, "qrgate CLI");
    assert_eq!(shown.user_code.as_deref(), Some(code.as_str()));
    assert_eq!(
        shown.scope.as_deref(),
        Some(&["openid".to_owned(), "profile".to_owned()][..])
    );
    assert!(shown.client.is_none(), "a device has no redirect");

    sleep_until(started, INTERVAL).await;
    let tokens: Value = poll(&authorization).await.expect(200);
    let redeemed = Instant::now();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "openid profile");
    for name in ["access_token", "id_token", "refresh_token"] {
        assert!(tokens[name].is_string(), "{name}: {tokens}");
    }
    let me: Value = userinfo_call(Location::B, &field(&tokens, "access_token"))
        .send()
        .await
        .expect(200);
    assert_eq!(me["preferred_username"], session.account.username);

    // The tokens once: the code is redeemed.
    sleep_until(redeemed, INTERVAL).await;
    assert_oauth_error(&poll(&authorization).await, 400, "invalid_grant");

    // The refresh token works as any other, at either location.
    let refreshed: Value = Call::to(Location::B, Method::POST, "/oauth/token")
        .raw_body(
            Some("application/x-www-form-urlencoded"),
            form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &field(&tokens, "refresh_token")),
                ("client_id", CLI),
            ]),
        )
        .send()
        .await
        .expect(200);
    assert!(refreshed["access_token"].is_string());

    // The phone's account lists the sign-in, as the edge saw the device, and the app.
    let sign_ins: SignInsResponse = phone
        .call(Method::GET, "/api/sign-ins")
        .bearer(&session.token)
        .send()
        .await
        .expect(200);
    let entry = sign_ins
        .sign_ins
        .iter()
        .find(|entry| entry.client_id.as_deref() == Some(CLI))
        .expect("the device's sign-in");
    assert_eq!(entry.device_type, DeviceType::Device);
    assert_eq!(entry.client_name.as_deref(), Some("qrgate CLI"));
    let grants: GrantsResponse = phone
        .call(Method::GET, "/api/grants")
        .bearer(&session.token)
        .send()
        .await
        .expect(200);
    assert!(grants.grants.iter().any(|grant| grant.client_id == CLI));
}

#[tokio::test]
async fn a_typed_user_code_leads_to_the_same_session_and_a_deny_is_access_denied() {
    let authorization = authorize_device(Location::A).await;
    let (phone, session) = phone_at(Location::B).await;
    // As a person types it: any case, the dash or spaces or neither.
    let typed = authorization.user_code.replace('-', " ").to_lowercase();
    let found: UserCodeResponse = phone
        .call(Method::POST, "/api/user-codes")
        .bearer(&session.token)
        .json(&json!({ "user_code": typed }))
        .send()
        .await
        .expect(200);
    assert_eq!(found.qr_id, device_qr_id(&authorization));
    assert_eq!(
        found.qr_url,
        format!("{}/m/qr/{}", Location::B.base_url(), found.qr_id)
    );
    approve(&phone, &session, &authorization, "deny").await;
    assert_oauth_error(&poll(&authorization).await, 400, "access_denied");
}

#[tokio::test]
async fn polling_too_soon_slows_the_device_down_more_each_time() {
    let authorization = authorize_device(Location::A).await;
    let started = Instant::now();
    assert_oauth_error(&poll(&authorization).await, 400, "authorization_pending");
    assert_oauth_error(&poll(&authorization).await, 400, "slow_down");
    let slowed = Instant::now();
    // 6 s on: enough for the first interval, not for the one that grew to 10 s.
    sleep_until(slowed, Duration::from_secs(6)).await;
    assert_oauth_error(&poll(&authorization).await, 400, "slow_down");
    let again = Instant::now();
    // Now 15 s; waiting them out, the device is answered again.
    sleep_until(again, Duration::from_millis(15_100)).await;
    assert_oauth_error(&poll(&authorization).await, 400, "authorization_pending");
    assert!(started.elapsed() < Duration::from_secs(TEST_DEVICE_CODE_TTL_SECONDS + 5));
}

#[tokio::test]
async fn a_device_code_lapses_with_its_session_and_its_user_code_with_it() {
    let authorization = authorize_device(Location::A).await;
    let started = Instant::now();
    let (phone, session) = phone_at(Location::B).await;
    let look_up = || {
        phone
            .call(Method::POST, "/api/user-codes")
            .bearer(&session.token)
            .json(&json!({ "user_code": authorization.user_code }))
    };
    let ttl = Duration::from_secs(authorization.expires_in);
    // Just before `expires_in`: still pending, and the code still found.
    sleep_until(started, ttl - Duration::from_secs(2)).await;
    assert_oauth_error(&poll(&authorization).await, 400, "authorization_pending");
    look_up().send().await.expect::<UserCodeResponse>(200);
    // Just after: expired, and the code unknown.
    sleep_until(started, ttl + Duration::from_secs(4)).await;
    assert_oauth_error(&poll(&authorization).await, 400, "expired_token");
    look_up()
        .send()
        .await
        .expect_error(404, ErrorCode::NotFound);
}

#[tokio::test]
async fn the_tokens_wait_sixty_seconds_after_the_confirmation_and_no_longer() {
    let (phone, session) = phone_at(Location::B).await;
    let (on_time, late) = (
        authorize_device(Location::A).await,
        authorize_device(Location::A).await,
    );
    approve(&phone, &session, &on_time, "confirm").await;
    approve(&phone, &session, &late, "confirm").await;
    let confirmed = Instant::now();
    sleep_until(confirmed, Duration::from_secs(57)).await;
    poll(&on_time).await.expect::<Value>(200);
    sleep_until(confirmed, Duration::from_secs(62)).await;
    assert_oauth_error(&poll(&late).await, 400, "expired_token");
}

#[tokio::test]
async fn sixteen_devices_polling_one_confirmed_code_at_two_locations_get_the_tokens_once() {
    let authorization = authorize_device(Location::A).await;
    let (phone, session) = phone_at(Location::B).await;
    approve(&phone, &session, &authorization, "confirm").await;
    let code = authorization.device_code.expose();
    let replies = join_all((0..16).map(|i| {
        let location = if i % 2 == 0 { Location::A } else { Location::B };
        device_poll_call(location, CLI, code).send()
    }))
    .await;
    let issued = replies.iter().filter(|r| r.status.as_u16() == 200).count();
    assert_eq!(issued, 1, "exactly one poll gets the tokens");
    for reply in replies.iter().filter(|r| r.status.as_u16() != 200) {
        let body: Value = serde_json::from_slice(&reply.body).expect("JSON");
        assert!(
            body["error"] == "slow_down" || body["error"] == "invalid_grant",
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_device_listens_on_the_live_channel_and_asks_for_its_tokens_once() {
    let authorization = authorize_device(Location::A).await;
    let qr_id = device_qr_id(&authorization);
    let mut wrong = LiveSocket::open(Location::A, &qr_id).await;
    wrong
        .send_text(&json!({ "device_code": format!("{qr_id}.wrong") }).to_string())
        .await;
    wrong.expect_close(CloseCode::Unauthorized).await;

    let mut socket = LiveSocket::open(Location::A, &qr_id).await;
    let hello = json!({ "device_code": authorization.device_code.expose() });
    socket.send_text(&hello.to_string()).await;
    socket.expect_status(QrStatus::Pending).await;
    let (phone, session) = phone_at(Location::B).await;
    let qr_id = device_qr_id(&authorization);
    let shown = scan(&phone, &session.token, &qr_id).await;
    socket.expect_status(QrStatus::Scanned).await;
    decide(&phone, &session.token, &qr_id, "confirm", &shown.scan_token).await;
    socket.expect_status(QrStatus::Confirmed).await;
    socket.expect_close(CloseCode::Done).await;
    // The socket's word is the device's first poll: never too soon.
    let tokens: Value = poll(&authorization).await.expect(200);
    assert!(tokens["access_token"].is_string());
}

#[tokio::test]
async fn a_confidential_device_client_authenticates_its_authorizations() {
    let authorization: DeviceAuthorizationResponse = token_call(
        Location::A,
        "/oauth/device_authorization",
        TV,
        "scope=openid",
    )
    .send()
    .await
    .expect(200);
    // Unauthenticated, or with a wrong secret: invalid_client.
    let unauthenticated = device_authorization_call(Location::A, TV, "openid")
        .send()
        .await;
    assert_oauth_error(&unauthenticated, 401, "invalid_client");
    let (phone, session) = phone_at(Location::B).await;
    approve(&phone, &session, &authorization, "confirm").await;
    let body = form(&[
        ("grant_type", DEVICE_CODE_GRANT),
        ("device_code", authorization.device_code.expose()),
    ]);
    let tokens: Value = token_call(Location::A, "/oauth/token", TV, &body)
        .send()
        .await
        .expect(200);
    assert_eq!(tokens["scope"], "openid");
}

#[tokio::test]
async fn bad_device_requests_get_their_oauth_errors_and_never_a_500() {
    let unknown = device_authorization_call(Location::A, "nobody", "openid")
        .send()
        .await;
    assert_oauth_error(&unknown, 401, "invalid_client");
    // A client registered without the device grant.
    let code_client = token_call(
        Location::A,
        "/oauth/device_authorization",
        CONFIDENTIAL,
        "scope=openid",
    )
    .send()
    .await;
    assert_oauth_error(&code_client, 400, "unauthorized_client");
    let as_json = Call::to(Location::A, Method::POST, "/oauth/device_authorization")
        .json(&json!({ "client_id": CLI }))
        .send()
        .await;
    assert_oauth_error(&as_json, 400, "invalid_request");

    let authorization = authorize_device(Location::A).await;
    let code = authorization.device_code.expose();
    let qr_id = device_qr_id(&authorization);
    // Another device client's poll of this code, and codes that are no device's.
    let other_client = device_poll_call(Location::A, "test-no-code", code)
        .send()
        .await;
    assert_oauth_error(&other_client, 400, "invalid_grant");
    for forged in [
        "garbage".to_owned(),
        format!("{qr_id}.{}", "A".repeat(43)),
        format!("{}.x", "0".repeat(64)),
        qr_id.clone(),
    ] {
        let reply = device_poll_call(Location::A, CLI, &forged).send().await;
        assert_oauth_error(&reply, 400, "invalid_grant");
    }
    let missing = Call::to(Location::A, Method::POST, "/oauth/token")
        .raw_body(
            Some("application/x-www-form-urlencoded"),
            form(&[("grant_type", DEVICE_CODE_GRANT), ("client_id", CLI)]),
        )
        .send()
        .await;
    assert_oauth_error(&missing, 400, "invalid_request");
    // A client without the grant polling a device code.
    let body = form(&[("grant_type", DEVICE_CODE_GRANT), ("device_code", code)]);
    let reply = token_call(Location::A, "/oauth/token", CONFIDENTIAL, &body)
        .send()
        .await;
    assert_oauth_error(&reply, 400, "unauthorized_client");
    // None of these was a poll of the device: its first is not too soon.
    assert_oauth_error(&poll(&authorization).await, 400, "authorization_pending");
    // A PC cannot poll or claim a device's session with its device code.
    let pc = Device::pc();
    pc.call(Method::GET, &format!("/api/qr/{qr_id}"))
        .bearer(&authorization.device_code)
        .send()
        .await
        .expect_error(401, ErrorCode::Unauthorized);
}

#[tokio::test]
async fn guessed_user_codes_are_404_and_the_eleventh_wrong_one_in_a_row_is_429() {
    let authorization = authorize_device(Location::A).await;
    let (phone, session) = phone_at(Location::A).await;
    let look_up = |user_code: &str| {
        phone
            .call(Method::POST, "/api/user-codes")
            .bearer(&session.token)
            .json(&json!({ "user_code": user_code }))
    };
    // Malformed bodies are the API's 400 and count nothing.
    phone
        .call(Method::POST, "/api/user-codes")
        .bearer(&session.token)
        .json(&json!({ "user_code": 7 }))
        .send()
        .await
        .expect_error(400, ErrorCode::InvalidRequest);
    // Ten unknown codes (each as likely to be the device's as any guess: 1 in 20⁸).
    for guess in [
        "BCDF-GHJK",
        "bcdf ghjk",
        "not a code",
        "ZZZZ-ZZZZ",
        "BBBB-BBBB",
    ] {
        look_up(guess)
            .send()
            .await
            .expect_error(404, ErrorCode::NotFound);
    }
    // A right code in between is taken back: it does not count.
    look_up(&authorization.user_code)
        .send()
        .await
        .expect::<UserCodeResponse>(200);
    for n in 0..5 {
        look_up(&format!("XXXX-XXX{}", ["B", "C", "D", "F", "G"][n]))
            .send()
            .await
            .expect_error(404, ErrorCode::NotFound);
    }
    let refused = look_up("XXXX-XXXH").send().await;
    refused.expect_error(429, ErrorCode::RateLimited);
    let retry_after: u64 = refused
        .header("Retry-After")
        .and_then(|value| value.parse().ok())
        .expect("Retry-After");
    assert!((1..=600).contains(&retry_after), "{retry_after}");
    // Even the right code, now.
    look_up(&authorization.user_code)
        .send()
        .await
        .expect_error(429, ErrorCode::RateLimited);
    // Unauthenticated: 401 before anything is counted.
    phone
        .call(Method::POST, "/api/user-codes")
        .json(&json!({ "user_code": authorization.user_code }))
        .send()
        .await
        .expect_error(401, ErrorCode::Unauthorized);
}

//! Accounts, password login, `/api/me`, logout and devices, against a live `wrangler dev`.

use qrgate_protocol::{
    Account, CreateAccountRequest, DeviceType, DevicesResponse, ErrorCode, LoginSession,
    MeResponse, Secret, Via,
};
use qrgate_tests::*;
use reqwest::Method;

fn create_call(device: &Device, body: serde_json::Value) -> Call {
    device.call(Method::POST, "/api/accounts").json(&body)
}

#[tokio::test]
async fn registration_returns_the_account_and_defaults_the_display_name() {
    let device = Device::phone();
    let username = unique_username("reg");
    let account = register(&device, &username).await;
    assert_eq!(account.username, username);
    assert_eq!(account.display_name, username);
    assert_eq!(account.account_id.len(), 32);

    let named: Account = create_call(
        &device,
        serde_json::json!({"username": unique_username("named"), "password": PASSWORD, "display_name": "  Ann Smith "}),
    )
    .send()
    .await
    .expect(201);
    assert_eq!(named.display_name, "Ann Smith");
}

#[tokio::test]
async fn names_lose_control_and_bidirectional_characters() {
    let phone = Device::phone();
    let named: Account = create_call(
        &phone,
        serde_json::json!({"username": unique_username("bidi"), "password": PASSWORD,
            "display_name": "\u{2067} Ann\u{7}\u{202E} Smith\u{202C}\n"}),
    )
    .send()
    .await
    .expect(201);
    assert_eq!(named.display_name, "Ann Smith");
    create_call(
        &phone,
        serde_json::json!({"username": unique_username("bidi"), "password": PASSWORD,
            "display_name": "\u{202E}\u{200F}\t"}),
    )
    .fails(400, ErrorCode::InvalidRequest)
    .await;

    // What a PC calls itself reaches the phone cleaned; a name of nothing but controls is the
    // default name.
    let phone_login = signed_in(&phone).await;
    for (given, shown) in [
        (
            "\u{202E}xuniL no muimorhC\u{202C}\u{0}",
            "xuniL no muimorhC",
        ),
        ("\u{2066}\u{202D}\r\n", "Computer"),
    ] {
        let pc = Device::pc();
        let qr: qrgate_protocol::CreateQrResponse = pc
            .call(Method::POST, "/api/qr")
            .json(&serde_json::json!({ "device_name": given }))
            .send()
            .await
            .expect(201);
        let scanned = scan(&phone, &phone_login.token, &qr.qr_id).await;
        assert_eq!(scanned.pc.device_name, shown);
    }
}

#[tokio::test]
async fn a_taken_username_is_a_conflict() {
    let device = Device::phone();
    let username = unique_username("taken");
    register(&device, &username).await;
    device
        .call(Method::POST, "/api/accounts")
        .json(&CreateAccountRequest {
            username,
            password: Secret::new("another password"),
            display_name: None,
        })
        .fails(409, ErrorCode::Conflict)
        .await;
}

#[tokio::test]
async fn ill_formed_registrations_are_400_and_never_echo_the_password() {
    let device = Device::phone();
    let secret = "sekrit-password-123";
    let cases = [
        serde_json::json!({"password": secret}),
        serde_json::json!({"username": unique_username("x")}),
        serde_json::json!({"username": "ab", "password": secret}),
        serde_json::json!({"username": "Upper-Case", "password": secret}),
        serde_json::json!({"username": "has space", "password": secret}),
        serde_json::json!({"username": "a".repeat(33), "password": secret}),
        serde_json::json!({"username": unique_username("x"), "password": "short"}),
        serde_json::json!({"username": unique_username("x"), "password": "p".repeat(129)}),
        serde_json::json!({"username": unique_username("x"), "password": secret, "display_name": ""}),
        serde_json::json!({"username": unique_username("x"), "password": secret, "display_name": "d".repeat(65)}),
        serde_json::json!({"username": unique_username("x"), "password": 12345678}),
        serde_json::json!({"username": unique_username("x"), "password": [secret]}),
        serde_json::json!([secret]),
        serde_json::json!(secret),
    ];
    for body in cases {
        let reply = create_call(&device, body.clone()).send().await;
        reply.expect_error(400, ErrorCode::InvalidRequest);
        assert!(!reply.text().contains(secret), "{body} → {}", reply.text());
    }
}

#[tokio::test]
async fn password_login_returns_a_token_bound_to_the_device() {
    let phone = Device::phone();
    let username = unique_username("login");
    let account = register(&phone, &username).await;
    let session = login(&phone, &username).await;
    assert_eq!(session.account, account);
    let secret_part = session.token.expose().split_once('.').unwrap().1;
    assert!(secret_part.len() >= 43, "at least 256 random bits");

    let me: MeResponse = me_call(&phone, &session.token).send().await.expect(200);
    assert_eq!(me.account, account);
    assert_eq!(me.device.device_id, phone.id);
    assert_eq!(me.device.device_type, DeviceType::Ios);
    assert_eq!(me.device.device_name, "iPhone or iPad");
    assert_eq!(me.session.via, Via::Password);
    assert_eq!(me.session.expires_at, session.expires_at);
    assert_eq!(
        me.session.expires_at - me.session.created_at,
        30 * 24 * 3600
    );

    // Another device, the same device id with another type, or no token: 401.
    me_call(&Device::phone(), &session.token)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    let other_type = Device {
        device_type: DeviceType::Android,
        ..phone.clone()
    };
    me_call(&other_type, &session.token)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    phone
        .call(Method::GET, "/api/me")
        .fails(401, ErrorCode::Unauthorized)
        .await;
    for garbage in ["", "x", "not.a.token", "0123456789abcdef0123456789abcdef.x"] {
        phone
            .call(Method::GET, "/api/me")
            .header("Authorization", &format!("Bearer {garbage}"))
            .fails(401, ErrorCode::Unauthorized)
            .await;
    }
    phone
        .call(Method::GET, "/api/me")
        .header(
            "Authorization",
            &format!("Basic {}", session.token.expose()),
        )
        .fails(401, ErrorCode::Unauthorized)
        .await;
}

#[tokio::test]
async fn wrong_username_and_wrong_password_get_the_same_answer() {
    let phone = Device::phone();
    let username = unique_username("same");
    register(&phone, &username).await;
    let wrong_password = login_call(&phone, &username, "not the password")
        .send()
        .await;
    let no_such_user = login_call(&phone, &unique_username("nobody"), PASSWORD)
        .send()
        .await;
    let a = wrong_password.expect_error(401, ErrorCode::Unauthorized);
    let b = no_such_user.expect_error(401, ErrorCode::Unauthorized);
    assert_eq!(a, b);
}

#[tokio::test]
async fn a_new_sign_in_replaces_the_device_token() {
    let phone = Device::phone();
    let username = unique_username("again");
    register(&phone, &username).await;
    let first = login(&phone, &username).await;
    let second = login(&phone, &username).await;
    me_call(&phone, &first.token)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    me_call(&phone, &second.token)
        .send()
        .await
        .expect::<MeResponse>(200);
    let devices: DevicesResponse = phone
        .call(Method::GET, "/api/devices")
        .bearer(&second.token)
        .send()
        .await
        .expect(200);
    assert_eq!(devices.devices.len(), 1);
}

#[tokio::test]
async fn logout_stops_the_token() {
    let phone = Device::phone();
    let session = signed_in(&phone).await;
    phone
        .call(Method::DELETE, "/api/sessions/current")
        .bearer(&session.token)
        .send()
        .await
        .expect_empty(204);
    me_call(&phone, &session.token)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    phone
        .call(Method::DELETE, "/api/sessions/current")
        .bearer(&session.token)
        .fails(401, ErrorCode::Unauthorized)
        .await;
}

#[tokio::test]
async fn devices_are_listed_and_can_be_signed_out() {
    let phone = Device::phone();
    let laptop = Device::new(DeviceType::Web);
    let username = unique_username("devs");
    let account = register(&phone, &username).await;
    let phone_session = login(&phone, &username).await;
    let laptop_session: LoginSession = laptop
        .call(Method::POST, "/api/sessions")
        .json(&serde_json::json!({"username": username, "password": PASSWORD, "device_name": "Work laptop"}))
        .send()
        .await
        .expect(201);
    assert_eq!(laptop_session.account, account);

    let listed: DevicesResponse = phone
        .call(Method::GET, "/api/devices")
        .bearer(&phone_session.token)
        .send()
        .await
        .expect(200);
    assert_eq!(listed.devices.len(), 2);
    let me = listed
        .devices
        .iter()
        .find(|d| d.device_id == phone.id)
        .unwrap();
    assert!(me.current);
    assert_eq!(me.device_type, DeviceType::Ios);
    assert_eq!(me.via, Via::Password);
    assert!(me.last_seen_at >= me.created_at);
    let other = listed
        .devices
        .iter()
        .find(|d| d.device_id == laptop.id)
        .unwrap();
    assert!(!other.current);
    assert_eq!(other.device_name, "Work laptop");
    assert_eq!(other.device_type, DeviceType::Web);

    // Sign the laptop out from the phone; it is gone from the list and its token stops.
    phone
        .call(
            Method::DELETE,
            &format!("/api/devices/{}", laptop.id.to_uppercase()),
        )
        .bearer(&phone_session.token)
        .send()
        .await
        .expect_empty(204);
    me_call(&laptop, &laptop_session.token)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    let listed: DevicesResponse = phone
        .call(Method::GET, "/api/devices")
        .bearer(&phone_session.token)
        .send()
        .await
        .expect(200);
    assert_eq!(listed.devices.len(), 1);

    // Not signed in to this account (any more), or not a UUID.
    let unknown = Device::phone();
    for device_id in [laptop.id.as_str(), unknown.id.as_str()] {
        phone
            .call(Method::DELETE, &format!("/api/devices/{device_id}"))
            .bearer(&phone_session.token)
            .fails(404, ErrorCode::NotFound)
            .await;
    }
    phone
        .call(Method::DELETE, "/api/devices/not-a-uuid")
        .bearer(&phone_session.token)
        .fails(400, ErrorCode::InvalidRequest)
        .await;

    // Signing out the current device is a logout.
    phone
        .call(Method::DELETE, &format!("/api/devices/{}", phone.id))
        .bearer(&phone_session.token)
        .send()
        .await
        .expect_empty(204);
    me_call(&phone, &phone_session.token)
        .fails(401, ErrorCode::Unauthorized)
        .await;
}

#[tokio::test]
async fn another_account_cannot_sign_out_my_device() {
    let mine = Device::phone();
    let theirs = Device::phone();
    let my_session = signed_in(&mine).await;
    let their_session = signed_in(&theirs).await;
    theirs
        .call(Method::DELETE, &format!("/api/devices/{}", mine.id))
        .bearer(&their_session.token)
        .fails(404, ErrorCode::NotFound)
        .await;
    me_call(&mine, &my_session.token)
        .send()
        .await
        .expect::<MeResponse>(200);
}

#[tokio::test]
async fn ten_failures_lock_a_username_for_everyone() {
    let phone = Device::phone();
    let username = unique_username("brute");
    register(&phone, &username).await;
    // Each failure from a new address, so only the per-username limit can trip.
    for _ in 0..10 {
        login_call(&Device::phone(), &username, "wrong password")
            .fails(401, ErrorCode::Unauthorized)
            .await;
    }
    // Now even the right password from a fresh device is refused, with a Retry-After.
    let reply = login_call(&Device::phone(), &username, PASSWORD)
        .send()
        .await;
    reply.expect_error(429, ErrorCode::RateLimited);
    let retry_after: u64 = reply.header("Retry-After").unwrap().parse().unwrap();
    // 600 s from the first failure, less the time the eleven attempts took.
    assert!((560..=600).contains(&retry_after), "{retry_after}");

    // The same holds for a username that does not exist: a 429 tells nothing.
    let ghost = unique_username("ghost");
    for _ in 0..10 {
        login_call(&Device::phone(), &ghost, "wrong password")
            .fails(401, ErrorCode::Unauthorized)
            .await;
    }
    login_call(&Device::phone(), &ghost, PASSWORD)
        .fails(429, ErrorCode::RateLimited)
        .await;
}

#[tokio::test]
async fn failures_from_one_address_lock_that_address() {
    let office = Device::phone();
    let username = unique_username("office");
    register(&office, &username).await;
    for _ in 0..TEST_LOGIN_FAILURES_PER_ADDRESS {
        login_call(&office, &unique_username("typo"), "wrong password")
            .fails(401, ErrorCode::Unauthorized)
            .await;
    }
    let reply = login_call(&office, &username, PASSWORD).send().await;
    reply.expect_error(429, ErrorCode::RateLimited);
    assert!(reply.header("Retry-After").is_some());
    // Another address is not affected.
    login_call(&Device::phone(), &username, PASSWORD)
        .send()
        .await
        .expect::<LoginSession>(201);
}

//! The account's live channel, `GET /api/accounts/{account_id}/live` (issue 35, `asyncapi.yaml`),
//! with a real WebSocket client against real `wrangler dev`s at two locations: a device signed
//! out anywhere is told on its socket, the account's other devices hear of each new sign-in,
//! and every close code and bad frame of the channel.

use qrgate_protocol::account_live::{AccountEvent, MAX_AUTHENTICATED_SOCKETS};
use qrgate_protocol::live::CloseCode;
use qrgate_protocol::{DeviceType, ErrorCode, LoginSession, Via};
use qrgate_tests::live::{LiveSocket, account_url};
use qrgate_tests::*;
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_device_signed_out_at_b_is_told_on_its_socket_at_a_within_a_second() {
    let (phone, login, pc, pc_login) = phone_and_qr_pc(Location::B, Location::A).await;
    let mut socket = LiveSocket::listen(&pc, &pc_login, None).await;
    let started = Instant::now();
    sign_out_device_call(&phone, &login, &pc)
        .send()
        .await
        .expect_empty(204);
    let text = socket.expect_event(&AccountEvent::SignedOut).await;
    let told_in = started.elapsed();
    assert!(told_in < Duration::from_secs(1), "told in {told_in:?}");
    assert!(!text.contains(pc_login.token.expose()));
    socket.expect_close(CloseCode::Done).await;
    me_call(&pc, &pc_login.token)
        .fails(401, ErrorCode::Unauthorized)
        .await;
}

#[tokio::test]
async fn a_logout_tells_the_device_s_other_pages() {
    let (_, _, pc, pc_login) = phone_and_qr_pc(Location::A, Location::A).await;
    let mut first_tab = LiveSocket::listen(&pc, &pc_login, None).await;
    let mut second_tab = LiveSocket::listen(&pc.clone().at(Location::B), &pc_login, None).await;
    pc.call(reqwest::Method::DELETE, "/api/sessions/current")
        .bearer(&pc_login.token)
        .send()
        .await
        .expect_empty(204);
    for socket in [&mut first_tab, &mut second_tab] {
        socket.expect_event(&AccountEvent::SignedOut).await;
        socket.expect_close(CloseCode::Done).await;
    }
}

#[tokio::test]
async fn each_new_sign_in_is_pushed_to_the_account_s_other_devices() {
    let phone = Device::phone().at(Location::B);
    let login = signed_in(&phone).await;
    let mut phone_socket = LiveSocket::listen(&phone, &login, None).await;

    let pc = Device::pc();
    let pc_login = qr_signed_in(&pc, &phone, &login).await;
    let told = phone_socket.expect_sign_in().await;
    assert_eq!(told.device_id, pc.id);
    assert_eq!(told.device_type, DeviceType::Pc);
    assert_eq!(told.via, Via::Qr);

    // The PC listens too; a laptop's password login is told to both, and to neither twice.
    let mut pc_socket = LiveSocket::listen(&pc, &pc_login, None).await;
    // At B, where the account was registered: A's KV never gets it.
    let laptop = Device::new(DeviceType::Web).at(Location::B);
    let laptop_login = login_as(&laptop, &login).await;
    for socket in [&mut phone_socket, &mut pc_socket] {
        let told = socket.expect_sign_in().await;
        assert_eq!(told.device_id, laptop.id);
        assert_eq!(told.via, Via::Password);
    }
    // The laptop's own socket hears the next sign-in, not its own.
    let mut laptop_socket = LiveSocket::listen(&laptop, &laptop_login, None).await;
    let tablet = Device::new(DeviceType::Android).at(Location::B);
    login_as(&tablet, &login).await;
    assert_eq!(laptop_socket.expect_sign_in().await.device_id, tablet.id);
}

/// `device` signs in with the password of `login`'s account.
async fn login_as(device: &Device, login: &LoginSession) -> LoginSession {
    login_call(device, &login.account.username, PASSWORD)
        .send()
        .await
        .expect(201)
}

#[tokio::test]
async fn a_device_signing_in_again_signs_its_earlier_pages_out() {
    let (phone, login, pc, first) = phone_and_qr_pc(Location::A, Location::A).await;
    let mut old_page = LiveSocket::listen(&pc, &first, None).await;
    let second = qr_signed_in(&pc, &phone, &login).await;
    old_page.expect_event(&AccountEvent::SignedOut).await;
    old_page.expect_close(CloseCode::Done).await;
    // The new token listens; the old one is refused.
    LiveSocket::listen(&pc, &second, None).await;
    let mut stale = LiveSocket::connect(&account_url(pc.location, &login.account.account_id)).await;
    stale.account_hello(&pc, &first, None).await;
    stale.expect_close(CloseCode::Unauthorized).await;
}

#[tokio::test]
async fn a_bound_token_listens_only_with_a_proof_by_its_key() {
    let key = dpop::Key::new();
    let phone = Device::phone();
    let login: LoginSession = login_call(&phone, &register_for_key(&phone).await, PASSWORD)
        .proof(&key)
        .send()
        .await
        .expect(201);
    LiveSocket::listen(&phone, &login, Some(&key)).await;
    let url = account_url(phone.location, &login.account.account_id);
    for presented in [None, Some(dpop::Key::new())] {
        let mut socket = LiveSocket::connect(&url).await;
        socket
            .account_hello(&phone, &login, presented.as_ref())
            .await;
        socket.expect_close(CloseCode::Unauthorized).await;
    }
    // An unbound token with a proof is refused as well.
    let unbound_phone = Device::phone();
    let unbound = signed_in(&unbound_phone).await;
    let mut socket = LiveSocket::connect(&account_url(
        unbound_phone.location,
        &unbound.account.account_id,
    ))
    .await;
    socket
        .account_hello(&unbound_phone, &unbound, Some(&key))
        .await;
    socket.expect_close(CloseCode::Unauthorized).await;
}

async fn register_for_key(device: &Device) -> String {
    let username = unique_username("bound");
    register(device, &username).await;
    username
}

#[tokio::test]
async fn wrong_tokens_devices_and_frames_are_closed_with_the_contract_s_codes() {
    let phone = Device::phone();
    let login = signed_in(&phone).await;
    let url = account_url(phone.location, &login.account.account_id);
    let other = Device::phone();
    let other_login = signed_in(&other).await;

    // Another account's token, on this account's channel; this token on another device.
    let mut socket = LiveSocket::connect(&url).await;
    socket.account_hello(&other, &other_login, None).await;
    socket.expect_close(CloseCode::Unauthorized).await;
    let mut socket = LiveSocket::connect(&url).await;
    socket.account_hello(&other, &login, None).await;
    socket.expect_close(CloseCode::Unauthorized).await;

    for first in [
        r#"{"token": "x"}"#,
        "{}",
        "hello",
        &format!(r#"{{"pad": "{}"}}"#, "x".repeat(5000)),
    ] {
        let mut socket = LiveSocket::connect(&url).await;
        socket.send_text(first).await;
        socket.expect_close(CloseCode::BadMessage).await;
    }
    let mut socket = LiveSocket::connect(&url).await;
    socket.send_binary(b"{}").await;
    socket.expect_close(CloseCode::BadMessage).await;

    // Ping before and after the hello; anything else after it is a bad message.
    let mut socket = LiveSocket::connect(&url).await;
    socket.send_text("ping").await;
    socket.expect_pong().await;
    socket.account_hello(&phone, &login, None).await;
    socket.expect_event(&AccountEvent::Ready).await;
    socket.send_text("ping").await;
    socket.expect_pong().await;
    socket.account_hello(&phone, &login, None).await;
    socket.expect_close(CloseCode::BadMessage).await;
}

#[tokio::test]
async fn a_socket_without_a_first_message_is_closed_after_ten_seconds() {
    let phone = Device::phone();
    let login = signed_in(&phone).await;
    // An account's channel, and one of an id no account has (an object with nothing stored).
    let unknown = uuid::Uuid::new_v4().simple().to_string();
    let silent = [login.account.account_id.as_str(), unknown.as_str()].map(|account_id| {
        let url = account_url(phone.location, account_id);
        async move {
            // Timed from before the upgrade: the edge counts from the socket's opening.
            let opened = Instant::now();
            let mut socket = LiveSocket::connect(&url).await;
            socket.expect_close(CloseCode::HelloTimeout).await;
            opened.elapsed()
        }
    });
    for waited in futures::future::join_all(silent).await {
        assert!(
            (Duration::from_secs(10)..Duration::from_secs(13)).contains(&waited),
            "closed after {waited:?}"
        );
    }
}

#[tokio::test]
async fn at_most_thirty_two_of_an_account_s_sockets_are_authenticated() {
    let phone = Device::phone();
    let login = signed_in(&phone).await;
    // In turn: at most 16 may wait for their first message at once.
    let mut listening = Vec::new();
    for _ in 0..MAX_AUTHENTICATED_SOCKETS {
        listening.push(LiveSocket::listen(&phone, &login, None).await);
    }
    let mut one_more =
        LiveSocket::connect(&account_url(phone.location, &login.account.account_id)).await;
    one_more.account_hello(&phone, &login, None).await;
    one_more.expect_close(CloseCode::TooManySockets).await;
    drop(listening);
}

#[tokio::test]
async fn the_upgrade_checks_come_first() {
    let phone = Device::phone();
    for (path, status, code) in [
        (
            "/api/accounts/not-an-id/live",
            400,
            ErrorCode::InvalidRequest,
        ),
        (
            "/api/accounts/0123456789abcdef0123456789abcdeg/live",
            400,
            ErrorCode::InvalidRequest,
        ),
    ] {
        phone
            .call(reqwest::Method::GET, path)
            .header("Upgrade", "websocket")
            .header("Sec-WebSocket-Version", "13")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
            .fails(status, code)
            .await;
    }
    phone
        .call(
            reqwest::Method::GET,
            "/api/accounts/0123456789abcdef0123456789abcdef/live",
        )
        .fails(426, ErrorCode::UpgradeRequired)
        .await;
}

//! The live channel, `GET /api/qr/{qr_id}/live`, with a real WebSocket client against a live
//! `wrangler dev` (real Durable Objects, alarms and hibernation): the checks before the upgrade,
//! the first message, every close code, pushes to every socket, and nothing secret anywhere.

use futures::future::join_all;
use qrgate_protocol::live::{
    CloseCode, HELLO_TIMEOUT_MS, MAX_AUTHENTICATED_SOCKETS, MAX_MESSAGE_BYTES, MAX_WAITING_SOCKETS,
};
use qrgate_protocol::qr::{COLLECTION_DELAY_MS, PICKUP_WINDOW_MS};
use qrgate_protocol::{CreateQrResponse, DPOP_HEADER, DeviceType, ErrorCode, QrStatus, Secret};
use qrgate_tests::dpop::Key;
use qrgate_tests::live::{Event, LiveSocket, live_url};
use qrgate_tests::*;
use reqwest::Method;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64
}

/// Sleeps until `at_ms` (Unix milliseconds) has passed.
async fn sleep_until(at_ms: u64) {
    let wait = at_ms.saturating_sub(now_ms());
    tokio::time::sleep(Duration::from_millis(wait)).await;
}

fn live_path(qr_id: &str) -> String {
    format!("/api/qr/{qr_id}/live")
}

/// An upgrade request as a browser sends it, through the plain HTTP client.
fn upgrade_call(qr_id: &str) -> Call {
    Call::new(Method::GET, &live_path(qr_id))
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
}

#[tokio::test]
async fn the_checks_before_the_upgrade_answer_in_json() {
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    // The id's form first, then the upgrade itself, then the session.
    upgrade_call("bad.id")
        .fails(400, ErrorCode::InvalidRequest)
        .await;
    Call::new(Method::GET, &live_path(&qr.qr_id))
        .fails(426, ErrorCode::UpgradeRequired)
        .await;
    Call::new(Method::POST, &live_path(&qr.qr_id))
        .fails(405, ErrorCode::MethodNotAllowed)
        .await;
    for unknown in ["unknownqrid_0123456789", &"0".repeat(64), &"f".repeat(64)] {
        upgrade_call(unknown).fails(404, ErrorCode::NotFound).await;
    }
    // Without a Sec-WebSocket-Key the runtime refuses the handshake before the Worker runs.
    let reply = Call::new(Method::GET, &live_path(&qr.qr_id))
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Version", "13")
        .send()
        .await;
    assert_eq!(reply.status, 400);
    // No device headers are needed, and the URL carries nothing but the public id.
    let url = live_url(Location::A, &qr.qr_id);
    assert!(!url.contains(qr.poll_secret.expose()));
    let mut socket = LiveSocket::open(Location::A, &qr.qr_id).await;
    socket.hello(&pc, &qr.poll_secret).await;
    socket.expect_status(QrStatus::Pending).await;
}

#[tokio::test]
async fn every_change_is_pushed_to_every_socket_and_no_token_travels() {
    let phone = Device::phone();
    let login = signed_in(&phone).await;
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let mut first = LiveSocket::watch(&pc, &qr).await;
    let mut second = LiveSocket::watch(&pc, &qr).await;
    for socket in [&mut first, &mut second] {
        socket.expect_status(QrStatus::Pending).await;
    }

    let scanned = scan(&phone, &login.token, &qr.qr_id).await;
    for socket in [&mut first, &mut second] {
        socket.expect_status(QrStatus::Scanned).await;
    }
    // A reconnect is told the current status first.
    let mut third = LiveSocket::watch(&pc, &qr).await;
    third.expect_status(QrStatus::Scanned).await;

    decide(
        &phone,
        &login.token,
        &qr.qr_id,
        "confirm",
        &scanned.scan_token,
    )
    .await;
    for socket in [&mut first, &mut second, &mut third] {
        socket.expect_status(QrStatus::Confirmed).await;
        socket.expect_close(CloseCode::Done).await;
    }
    // The token is picked up by a poll, exactly as a polling PC does.
    let picked = poll(&pc, &qr).await;
    assert_eq!(picked.session.map(|s| s.account), Some(login.account));
    // A socket opened after the decision is told it and closed.
    let mut late = LiveSocket::watch(&pc, &qr).await;
    late.expect_status(QrStatus::Confirmed).await;
    late.expect_close(CloseCode::Done).await;
}

#[tokio::test]
async fn a_rescan_by_the_same_phone_is_not_pushed() {
    let phone = Device::phone();
    let login = signed_in(&phone).await;
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let mut socket = LiveSocket::watch(&pc, &qr).await;
    socket.expect_status(QrStatus::Pending).await;
    scan(&phone, &login.token, &qr.qr_id).await;
    socket.expect_status(QrStatus::Scanned).await;
    let rescanned = scan(&phone, &login.token, &qr.qr_id).await;
    decide(
        &phone,
        &login.token,
        &qr.qr_id,
        "deny",
        &rescanned.scan_token,
    )
    .await;
    // The next push is the denial: the reload in between changed nothing the PC sees.
    socket.expect_status(QrStatus::Denied).await;
    socket.expect_close(CloseCode::Done).await;
}

#[tokio::test]
async fn a_cancellation_is_pushed_to_the_other_sockets() {
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let mut socket = LiveSocket::watch(&pc, &qr).await;
    socket.expect_status(QrStatus::Pending).await;
    cancel_call(&pc, &qr).send().await.expect_empty(204);
    socket.expect_status(QrStatus::Cancelled).await;
    socket.expect_close(CloseCode::Done).await;
}

#[tokio::test]
async fn expired_is_pushed_at_expires_at_with_no_request() {
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let mut socket = LiveSocket::watch(&pc, &qr).await;
    socket.expect_status(QrStatus::Pending).await;
    // Nothing is sent from here on: the object's alarm alone pushes the expiry.
    let pushed = socket.expect_status(QrStatus::Expired).await;
    assert!(
        now_ms() >= pushed.expires_at * 1000,
        "pushed before expires_at"
    );
    socket.expect_close(CloseCode::Done).await;
    // A socket opened on the expired session is told so and closed.
    let mut late = LiveSocket::watch(&pc, &qr).await;
    late.expect_status(QrStatus::Expired).await;
    late.expect_close(CloseCode::Done).await;
}

#[tokio::test]
async fn a_wrong_secret_or_another_device_is_refused_with_4401() {
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let other_pc = Device::pc();
    let other_type = Device {
        device_type: DeviceType::Web,
        ..pc.clone()
    };
    let wrong = Secret::new("not-the-poll-secret");
    for (device, secret) in [
        (&pc, &wrong),
        (&other_pc, &qr.poll_secret),
        (&other_type, &qr.poll_secret),
    ] {
        let mut socket = LiveSocket::open(Location::A, &qr.qr_id).await;
        socket.hello(device, secret).await;
        socket.expect_close(CloseCode::Unauthorized).await;
    }
    // The device id is matched in any letter case, as the poll's header is.
    let upper = Device {
        id: pc.id.to_uppercase(),
        ..pc.clone()
    };
    let mut socket = LiveSocket::open(Location::A, &qr.qr_id).await;
    socket.hello(&upper, &qr.poll_secret).await;
    socket.expect_status(QrStatus::Pending).await;
}

#[tokio::test]
async fn malformed_messages_are_closed_with_4400_and_disturb_no_other_socket() {
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let mut bystander = LiveSocket::watch(&pc, &qr).await;
    bystander.expect_status(QrStatus::Pending).await;

    let padded_hello = format!(
        r#"{{"pad": "{}", "poll_secret": "{}", "device_id": "{}", "device_type": "pc"}}"#,
        "x".repeat(MAX_MESSAGE_BYTES),
        qr.poll_secret.expose(),
        pc.id
    );
    let first_messages = [
        "not json".to_owned(),
        "{}".to_owned(),
        "[1, 2]".to_owned(),
        // The hello's values in an array, in its fields' order: not the object asked for.
        format!(r#"["{}", "{}", "pc"]"#, qr.poll_secret.expose(), pc.id),
        r#"{"poll_secret": 7, "device_id": "x", "device_type": "pc"}"#.to_owned(),
        format!(
            r#"{{"poll_secret": "{}", "device_id": "not-a-uuid", "device_type": "pc"}}"#,
            qr.poll_secret.expose()
        ),
        padded_hello,
    ];
    // All at once: the session lives 3 s, and the bystander and the cancel below need it.
    let first_message_refused = first_messages.iter().map(|text| async {
        let mut socket = LiveSocket::open(Location::A, &qr.qr_id).await;
        socket.send_text(text).await;
        socket.expect_close(CloseCode::BadMessage).await;
    });
    let binary_first_refused = async {
        let mut binary = LiveSocket::open(Location::A, &qr.qr_id).await;
        binary.send_binary(b"\x00\x01binary").await;
        binary.expect_close(CloseCode::BadMessage).await;
    };
    // After the first message, only `ping`.
    let long_text = "p".repeat(MAX_MESSAGE_BYTES + 1);
    let later_message_refused = ["pong", "hello again", &long_text].map(|text| async {
        let mut socket = LiveSocket::watch(&pc, &qr).await;
        socket.expect_status(QrStatus::Pending).await;
        socket.send_text(text).await;
        socket.expect_close(CloseCode::BadMessage).await;
    });
    let binary_later_refused = async {
        let mut authenticated = LiveSocket::watch(&pc, &qr).await;
        authenticated.expect_status(QrStatus::Pending).await;
        authenticated.send_binary(b"binary").await;
        authenticated.expect_close(CloseCode::BadMessage).await;
    };
    tokio::join!(
        join_all(first_message_refused),
        binary_first_refused,
        join_all(later_message_refused),
        binary_later_refused,
    );

    // The first socket is still there, and still told everything.
    bystander.send_text("ping").await;
    bystander.expect_pong().await;
    cancel_call(&pc, &qr).send().await.expect_empty(204);
    bystander.expect_status(QrStatus::Cancelled).await;
}

#[tokio::test]
async fn ping_is_answered_at_any_time_and_a_flood_changes_nothing() {
    const FLOOD: usize = 300;
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let mut socket = LiveSocket::open(Location::A, &qr.qr_id).await;
    for _ in 0..FLOOD {
        socket.send_text("ping").await;
    }
    for _ in 0..FLOOD {
        socket.expect_pong().await;
    }
    // The pings did not count as the first message.
    socket.hello(&pc, &qr.poll_secret).await;
    socket.expect_status(QrStatus::Pending).await;
    for _ in 0..FLOOD {
        socket.send_text("ping").await;
    }
    for _ in 0..FLOOD {
        socket.expect_pong().await;
    }
    // Another session is not disturbed.
    let other = create_qr(&Device::pc()).await;
    assert_eq!(poll(&pc, &qr).await.status, QrStatus::Pending);
    let mut other_socket = LiveSocket::open(Location::A, &other.qr_id).await;
    other_socket.send_text("ping").await;
    other_socket.expect_pong().await;
}

/// At A a session lives 3 s, so its object has an alarm of its own (the `expired` push) before
/// the socket's deadline; at the strict edge it lives the default 120 s. Either way the close
/// comes at the deadline, not at the object's next alarm nor a moment past it.
#[tokio::test]
async fn a_silent_socket_is_closed_with_4408_between_10_and_12_s_whatever_the_lifetime() {
    join_all([Location::A, Location::Strict].map(|location| async move {
        let pc = Device::pc().at(location);
        // With a key of its own, which the strict edge requires of every sign-in.
        let qr: CreateQrResponse = pc
            .call(Method::POST, "/api/qr")
            .proof(&Key::new())
            .send()
            .await
            .expect(201);
        let opened = now_ms();
        let mut silent = LiveSocket::open(location, &qr.qr_id).await;
        // Not even `expired`: an unauthenticated socket is told nothing.
        silent.expect_close(CloseCode::HelloTimeout).await;
        let closed_after = now_ms() - opened;
        let bounds = HELLO_TIMEOUT_MS..HELLO_TIMEOUT_MS + 2_000;
        assert!(
            bounds.contains(&closed_after),
            "{location:?}: closed after {closed_after} ms"
        );
    }))
    .await;
}

#[tokio::test]
async fn past_sixteen_waiting_sockets_the_oldest_is_crowded_out_and_the_pc_still_told() {
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let mut watching = LiveSocket::watch(&pc, &qr).await;
    watching.expect_status(QrStatus::Pending).await;
    let opened = now_ms();
    let mut waiting = Vec::new();
    for _ in 0..=MAX_WAITING_SOCKETS {
        waiting.push(LiveSocket::open(Location::A, &qr.qr_id).await);
    }
    waiting[0].expect_close(CloseCode::HelloTimeout).await;
    assert!(
        now_ms() < opened + HELLO_TIMEOUT_MS,
        "timed out, not crowded out"
    );
    // The rest still wait, and the newest can still authenticate: a flood cannot keep the PC's
    // new socket out, nor quiet the one it already has.
    waiting[1].send_text("ping").await;
    waiting[1].expect_pong().await;
    let newest = waiting.last_mut().expect("sockets were opened");
    newest.hello(&pc, &qr.poll_secret).await;
    newest.expect_status(QrStatus::Pending).await;
    cancel_call(&pc, &qr).send().await.expect_empty(204);
    watching.expect_status(QrStatus::Cancelled).await;
    newest.expect_status(QrStatus::Cancelled).await;
}

/// At most eight sockets of a session are authenticated at once: a ninth right first message
/// is closed with 4429 (told nothing), and the eight are still told every change.
#[tokio::test]
async fn past_eight_authenticated_sockets_a_ninth_is_refused_and_the_eight_still_told() {
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let mut watching = Vec::new();
    for _ in 0..MAX_AUTHENTICATED_SOCKETS {
        let mut socket = LiveSocket::watch(&pc, &qr).await;
        socket.expect_status(QrStatus::Pending).await;
        watching.push(socket);
    }
    let mut ninth = LiveSocket::watch(&pc, &qr).await;
    ninth.expect_close(CloseCode::TooManySockets).await;
    cancel_call(&pc, &qr).send().await.expect_empty(204);
    for socket in &mut watching {
        socket.expect_status(QrStatus::Cancelled).await;
    }
}

/// Collection comes `PICKUP_WINDOW_MS + COLLECTION_DELAY_MS` after `expires_at` (two minutes),
/// so this waits that long; the other tests run meanwhile.
#[tokio::test]
async fn a_collected_session_closes_its_sockets_with_4404_and_is_gone() {
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let collected_at_ms = qr.expires_at * 1000 + PICKUP_WINDOW_MS + COLLECTION_DELAY_MS;
    // A socket opened shortly before collection, still within its 10 s to authenticate.
    sleep_until(collected_at_ms - 4_000).await;
    let mut socket = LiveSocket::open(Location::A, &qr.qr_id).await;
    socket.expect_close(CloseCode::Collected).await;
    assert!(now_ms() >= collected_at_ms);
    upgrade_call(&qr.qr_id)
        .fails(404, ErrorCode::NotFound)
        .await;
    poll_call(&pc, &qr).fails(404, ErrorCode::NotFound).await;
    // A proof is checked with the poll secret it accompanies, after the session is found.
    poll_call(&pc, &qr)
        .header(DPOP_HEADER, "not.a.proof")
        .fails(404, ErrorCode::NotFound)
        .await;
}

#[tokio::test]
async fn sockets_of_many_sessions_each_hear_only_their_own() {
    const SESSIONS: usize = 12;
    let phone = Device::phone();
    let login = signed_in(&phone).await;
    let pcs: Vec<Device> = (0..SESSIONS).map(|_| Device::pc()).collect();
    let qrs = join_all(pcs.iter().map(create_qr)).await;
    let mut sockets = join_all(
        pcs.iter()
            .zip(&qrs)
            .map(|(pc, qr)| LiveSocket::watch(pc, qr)),
    )
    .await;
    for socket in &mut sockets {
        socket.expect_status(QrStatus::Pending).await;
    }
    // Only every other session is scanned.
    for qr in qrs.iter().step_by(2) {
        scan(&phone, &login.token, &qr.qr_id).await;
    }
    // An object pushes a change before it answers the step, so once the scans are answered a
    // `ping` is a barrier: a socket that heard nothing before its `pong` was told nothing. (No
    // waiting for silence: the sessions live 3 s.)
    for (i, socket) in sockets.iter_mut().enumerate() {
        if i % 2 == 0 {
            socket.expect_status(QrStatus::Scanned).await;
        }
        socket.send_text("ping").await;
        assert_eq!(
            socket.next().await,
            Event::Text("pong".into()),
            "session {i} heard a change not its own"
        );
    }
}

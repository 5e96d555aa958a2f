//! The QR login, step by step, against a live `wrangler dev`.

use qrgate_protocol::{
    DeviceType, ErrorCode, MeResponse, PollResponse, QrStatus, Secret, Via, validate,
};
use qrgate_tests::dpop::now_seconds;
use qrgate_tests::*;
use reqwest::Method;
use std::time::Duration;

async fn wait_for_expiry(expires_at: u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let wait = (expires_at as f64 - now).max(0.0) + 0.3;
    tokio::time::sleep(Duration::from_secs_f64(wait)).await;
}

#[tokio::test]
async fn the_whole_flow_signs_the_pc_in_as_the_phone_account() {
    let phone = Device::phone();
    let pc = Device::pc();
    let mut cost = KvOps::default();

    let phone_login = signed_in(&phone).await;

    let reply = pc
        .call(Method::POST, "/api/qr")
        .json(&serde_json::json!({"device_name": "Chromium on Linux"}))
        .send()
        .await;
    cost += reply.kv_ops();
    let qr: qrgate_protocol::CreateQrResponse = reply.expect(201);
    assert!(validate::qr_id(&qr.qr_id).is_some());
    assert!(qr.qr_url.ends_with(&format!("/m/qr/{}", qr.qr_id)));
    assert!(qr.qr_url.starts_with(base_url()));
    assert!(!qr.qr_url.contains(qr.poll_secret.expose()));
    assert!(qr.poll_secret.expose().len() >= 43, "256 bits");
    assert_eq!(qr.interval, 1);

    let reply = poll_call(&pc, &qr).send().await;
    cost += reply.kv_ops();
    assert_eq!(
        reply.kv_ops(),
        KvOps::default(),
        "a poll reads nothing from KV: the session is its object's"
    );
    let first: PollResponse = reply.expect(200);
    assert_eq!(first.status, QrStatus::Pending);
    assert_eq!(first.expires_at, qr.expires_at);
    assert!(first.session.is_none());

    let reply = scan_call(&phone, &phone_login.token, &qr.qr_id)
        .send()
        .await;
    cost += reply.kv_ops();
    let scanned: qrgate_protocol::ScanResponse = reply.expect(200);
    assert_eq!(scanned.pc.device_type, DeviceType::Pc);
    assert_eq!(scanned.pc.device_name, "Chromium on Linux");
    assert_eq!(scanned.expires_at, qr.expires_at);
    assert!(scanned.warnings.is_empty(), "same edge view on both sides");

    // The PC learns that someone scanned, and nothing about who.
    let reply = poll_call(&pc, &qr).send().await;
    cost += reply.kv_ops();
    let text = reply.text();
    let after_scan: PollResponse = reply.expect(200);
    assert_eq!(after_scan.status, QrStatus::Scanned);
    assert!(after_scan.session.is_none());
    assert!(!text.contains(&phone_login.account.username));
    assert!(!text.contains(&phone_login.account.account_id));

    let reply = decide_call(
        &phone,
        &phone_login.token,
        &qr.qr_id,
        "confirm",
        &scanned.scan_token,
    )
    .send()
    .await;
    let confirm_cost = reply.kv_ops();
    cost += confirm_cost;
    reply.expect_empty(204);
    // The phone's token only: the account's renewal is due at most once a day, which its
    // history (told at the phone's password login) says at a sign-in, not at a confirmation.
    assert_eq!(
        (confirm_cost.reads, confirm_cost.writes),
        (1, 0),
        "{confirm_cost:?}"
    );

    let reply = poll_call(&pc, &qr).send().await;
    cost += reply.kv_ops();
    let confirmed: PollResponse = reply.expect(200);
    assert_eq!(confirmed.status, QrStatus::Confirmed);
    let pc_login = confirmed
        .session
        .expect("the first confirmed poll carries the session");
    assert_eq!(pc_login.account, phone_login.account);
    assert_ne!(pc_login.token, phone_login.token);

    // Exactly once: later polls say confirmed without the session.
    let again = poll(&pc, &qr).await;
    assert_eq!(again.status, QrStatus::Confirmed);
    assert!(again.session.is_none());

    let me: MeResponse = me_call(&pc, &pc_login.token).send().await.expect(200);
    assert_eq!(me.account, phone_login.account);
    assert_eq!(me.device.device_id, pc.id);
    assert_eq!(me.device.device_type, DeviceType::Pc);
    assert_eq!(me.device.device_name, "Chromium on Linux");
    assert_eq!(me.session.via, Via::Qr);
    assert_eq!(me.session.expires_at, pc_login.expires_at);

    // The PC's token is bound to the PC: with the phone's headers, or another type, it fails.
    me_call(&phone, &pc_login.token)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    let wrong_type = Device {
        device_type: DeviceType::Web,
        ..pc.clone()
    };
    me_call(&wrong_type, &pc_login.token)
        .fails(401, ErrorCode::Unauthorized)
        .await;

    println!(
        "KV cost of one QR login (create, 3 polls, scan, confirm): {} reads, {} writes, {} lists, {} deletes",
        cost.reads, cost.writes, cost.lists, cost.deletes
    );
    // Only accounts and tokens are in KV: the phone's token is read at scan and confirm, and
    // the PC's token written once (the account is read only for a renewal, once a day).
    assert!(cost.reads <= 5 && cost.writes <= 3, "{cost:?}");
    assert_eq!((cost.lists, cost.deletes), (0, 0), "{cost:?}");
}

#[tokio::test]
async fn a_phone_at_another_location_signs_the_pc_in_at_once() {
    // B has KV of its own that never sees A's writes: only the session object is shared.
    let phone = Device::phone().at(Location::B);
    let pc = Device::pc();
    let phone_login = signed_in(&phone).await;
    let qr = create_qr(&pc).await;
    let scanned = scan(&phone, &phone_login.token, &qr.qr_id).await;
    assert_eq!(scanned.pc.device_type, DeviceType::Pc);
    assert_eq!(poll(&pc, &qr).await.status, QrStatus::Scanned);
    decide(
        &phone,
        &phone_login.token,
        &qr.qr_id,
        "confirm",
        &scanned.scan_token,
    )
    .await;
    // The very next poll, at the PC's own location, sees the confirmation and picks up a token
    // written where it is served, so it works there at once.
    let pc_login = poll(&pc, &qr)
        .await
        .session
        .expect("the confirmation is visible at once, everywhere");
    assert_eq!(pc_login.account, phone_login.account);
    let me: MeResponse = me_call(&pc, &pc_login.token).send().await.expect(200);
    assert_eq!(me.session.via, Via::Qr);
    // The phone's token lives in B's KV only: at A it is unknown (KV lag taken to its limit).
    me_call(&phone.clone().at(Location::A), &phone_login.token)
        .fails(401, ErrorCode::Unauthorized)
        .await;
}

#[tokio::test]
async fn deny_ends_the_session_without_a_token() {
    let phone = Device::phone();
    let pc = Device::pc();
    let login = signed_in(&phone).await;
    let qr = create_qr(&pc).await;
    let scanned = scan(&phone, &login.token, &qr.qr_id).await;
    decide_call(&phone, &login.token, &qr.qr_id, "deny", &scanned.scan_token)
        .send()
        .await
        .expect_empty(204);
    let polled = poll(&pc, &qr).await;
    assert_eq!(polled.status, QrStatus::Denied);
    assert!(polled.session.is_none());
    // Decided: no second decision, no new scan.
    decide_call(
        &phone,
        &login.token,
        &qr.qr_id,
        "confirm",
        &scanned.scan_token,
    )
    .fails(409, ErrorCode::Conflict)
    .await;
    scan_call(&phone, &login.token, &qr.qr_id)
        .fails(409, ErrorCode::Conflict)
        .await;
    // Still denied after its lifetime: a decided session never turns expired.
    wait_for_expiry(qr.expires_at).await;
    assert_eq!(poll(&pc, &qr).await.status, QrStatus::Denied);
}

#[tokio::test]
async fn the_pc_can_cancel_until_a_decision() {
    let phone = Device::phone();
    let pc = Device::pc();
    let login = signed_in(&phone).await;

    // Pending → cancelled.
    let qr = create_qr(&pc).await;
    let wrong = Secret::new("not-the-poll-secret");
    pc.call(Method::DELETE, &format!("/api/qr/{}", qr.qr_id))
        .bearer(&wrong)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    cancel_call(&phone, &qr)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    cancel_call(&pc, &qr).send().await.expect_empty(204);
    assert_eq!(poll(&pc, &qr).await.status, QrStatus::Cancelled);
    scan_call(&phone, &login.token, &qr.qr_id)
        .fails(409, ErrorCode::Conflict)
        .await;
    cancel_call(&pc, &qr).fails(409, ErrorCode::Conflict).await;

    // Scanned → cancelled: the phone can no longer confirm.
    let qr = create_qr(&pc).await;
    let scanned = scan(&phone, &login.token, &qr.qr_id).await;
    cancel_call(&pc, &qr).send().await.expect_empty(204);
    decide_call(
        &phone,
        &login.token,
        &qr.qr_id,
        "confirm",
        &scanned.scan_token,
    )
    .fails(409, ErrorCode::Conflict)
    .await;
    let polled = poll(&pc, &qr).await;
    assert_eq!(polled.status, QrStatus::Cancelled);
    assert!(polled.session.is_none());

    // Confirmed → cancel is a conflict.
    let qr = create_qr(&pc).await;
    scan_and_confirm(&phone, &login.token, &qr.qr_id).await;
    cancel_call(&pc, &qr).fails(409, ErrorCode::Conflict).await;
}

#[tokio::test]
async fn expiry_reads_expired_and_refuses_every_step_with_410() {
    let phone = Device::phone();
    let pc = Device::pc();
    let login = signed_in(&phone).await;

    let pending = create_qr(&pc).await;
    let scanned_qr = create_qr(&pc).await;
    let scanned = scan(&phone, &login.token, &scanned_qr.qr_id).await;
    assert!(pending.expires_at <= now_seconds() + TEST_QR_TTL_SECONDS + 1);
    wait_for_expiry(scanned_qr.expires_at.max(pending.expires_at)).await;

    for qr in [&pending, &scanned_qr] {
        let polled = poll(&pc, qr).await;
        assert_eq!(polled.status, QrStatus::Expired);
        assert!(polled.session.is_none());
        cancel_call(&pc, qr).fails(410, ErrorCode::Expired).await;
    }
    scan_call(&phone, &login.token, &pending.qr_id)
        .fails(410, ErrorCode::Expired)
        .await;
    scan_call(&phone, &login.token, &scanned_qr.qr_id)
        .fails(410, ErrorCode::Expired)
        .await;
    for step in ["confirm", "deny"] {
        decide_call(
            &phone,
            &login.token,
            &scanned_qr.qr_id,
            step,
            &scanned.scan_token,
        )
        .fails(410, ErrorCode::Expired)
        .await;
    }
}

#[tokio::test]
async fn a_confirmed_token_can_be_picked_up_after_expires_at() {
    let phone = Device::phone();
    let pc = Device::pc();
    let login = signed_in(&phone).await;
    let qr = create_qr(&pc).await;
    scan_and_confirm(&phone, &login.token, &qr.qr_id).await;
    wait_for_expiry(qr.expires_at).await;
    let polled = poll(&pc, &qr).await;
    assert_eq!(polled.status, QrStatus::Confirmed);
    let session = polled.session.expect("within 60 s of the confirmation");
    assert_eq!(session.account, login.account);
}

#[tokio::test]
async fn a_rescan_by_the_same_phone_retires_the_earlier_scan_token() {
    let phone = Device::phone();
    let pc = Device::pc();
    let login = signed_in(&phone).await;
    let qr = create_qr(&pc).await;
    let first = scan(&phone, &login.token, &qr.qr_id).await;
    let second = scan(&phone, &login.token, &qr.qr_id).await;
    assert_ne!(first.scan_token, second.scan_token);
    decide_call(
        &phone,
        &login.token,
        &qr.qr_id,
        "confirm",
        &first.scan_token,
    )
    .fails(403, ErrorCode::Forbidden)
    .await;
    decide(
        &phone,
        &login.token,
        &qr.qr_id,
        "confirm",
        &second.scan_token,
    )
    .await;
    assert_eq!(
        poll(&pc, &qr).await.session.map(|s| s.account),
        Some(login.account)
    );
}

#[tokio::test]
async fn another_device_can_neither_scan_nor_decide_a_scanned_session() {
    let phone = Device::phone();
    let intruder = Device::new(DeviceType::Android);
    let pc = Device::pc();
    let login = signed_in(&phone).await;
    let intruder_login = signed_in(&intruder).await;
    // The same account on another device, signed in before the session starts: its 3 s are
    // for the checks, not for a password hash.
    let second_phone = Device::phone();
    let same_account = login_with_username(&second_phone, &login.account.username).await;
    let qr = create_qr(&pc).await;

    // Confirm and deny before any scan: the state does not allow it.
    decide_call(
        &phone,
        &login.token,
        &qr.qr_id,
        "confirm",
        &Secret::new("x"),
    )
    .fails(409, ErrorCode::Conflict)
    .await;

    let scanned = scan(&phone, &login.token, &qr.qr_id).await;
    scan_call(&intruder, &intruder_login.token, &qr.qr_id)
        .fails(409, ErrorCode::Conflict)
        .await;
    // Even holding the phone's scan token, another account or device is refused.
    for step in ["confirm", "deny"] {
        decide_call(
            &intruder,
            &intruder_login.token,
            &qr.qr_id,
            step,
            &scanned.scan_token,
        )
        .fails(403, ErrorCode::Forbidden)
        .await;
    }
    // The same account on another device is another device.
    decide_call(
        &second_phone,
        &same_account,
        &qr.qr_id,
        "confirm",
        &scanned.scan_token,
    )
    .fails(403, ErrorCode::Forbidden)
    .await;
    // A made-up scan token from the right phone.
    decide_call(
        &phone,
        &login.token,
        &qr.qr_id,
        "confirm",
        &Secret::new("guess"),
    )
    .fails(403, ErrorCode::Forbidden)
    .await;
    assert_eq!(poll(&pc, &qr).await.status, QrStatus::Scanned);
}

async fn login_with_username(device: &Device, username: &str) -> Secret {
    login(device, username).await.token
}

#[tokio::test]
async fn polling_needs_the_poll_secret_and_the_creating_pc() {
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let other_pc = Device::pc();
    poll_call(&other_pc, &qr)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    let other_type = Device {
        device_type: DeviceType::Web,
        ..pc.clone()
    };
    poll_call(&other_type, &qr)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    pc.call(Method::GET, &format!("/api/qr/{}", qr.qr_id))
        .fails(401, ErrorCode::Unauthorized)
        .await;
    pc.call(Method::GET, &format!("/api/qr/{}", qr.qr_id))
        .bearer(&Secret::new("wrong"))
        .fails(401, ErrorCode::Unauthorized)
        .await;
    // The device id is matched in any letter case.
    let upper = Device {
        id: pc.id.to_uppercase(),
        ..pc.clone()
    };
    assert_eq!(poll(&upper, &qr).await.status, QrStatus::Pending);
    // An unknown id is 404 whatever the Authorization.
    let unknown = "unknownqrid_0123456789";
    for bearer in [None, Some(&qr.poll_secret)] {
        let call = pc.call(Method::GET, &format!("/api/qr/{unknown}"));
        let call = match bearer {
            Some(secret) => call.bearer(secret),
            None => call,
        };
        call.fails(404, ErrorCode::NotFound).await;
    }
}

#[tokio::test]
async fn steps_on_an_unknown_session_are_404_after_authentication() {
    let phone = Device::phone();
    let login = signed_in(&phone).await;
    let unknown = "unknownqrid_0123456789";
    scan_call(&phone, &login.token, unknown)
        .fails(404, ErrorCode::NotFound)
        .await;
    decide_call(&phone, &login.token, unknown, "confirm", &Secret::new("x"))
        .fails(404, ErrorCode::NotFound)
        .await;
    // Without a login token the token check comes first.
    phone
        .call(Method::POST, &format!("/api/qr/{unknown}/scan"))
        .fails(401, ErrorCode::Unauthorized)
        .await;
    let pc = Device::pc();
    pc.call(Method::DELETE, &format!("/api/qr/{unknown}"))
        .bearer(&Secret::new("x"))
        .fails(404, ErrorCode::NotFound)
        .await;
}

//! Reduced rights for a fresh cross-device sign-in (issue 35, RFC 10027): for
//! `FRESH_SIGN_IN_SECONDS` (3 s at test location A, a day by default) a token from a QR sign-in
//! cannot approve another QR sign-in, sign other devices out, or remove passkeys or connected
//! apps: `403 step_up_required`, until its device signs in again by password. Both bounds.

use qrgate_protocol::{ErrorCode, LoginSession, MeResponse, Via};
use qrgate_tests::*;
use reqwest::Method;
use std::time::{Duration, Instant};

/// `FRESH_SIGN_IN_SECONDS` at location A.
const FRESH: Duration = Duration::from_secs(3);

/// What a fresh QR-born token may not do, each asked of `pc`: approving `other_qr`, signing
/// `phone` out, removing a passkey and a connected app (refused before either is looked up).
fn settled_only(pc: &Device, token: &LoginSession, phone: &Device, other_qr: &str) -> Vec<Call> {
    let grant_id = "0".repeat(64);
    vec![
        scan_call(pc, &token.token, other_qr),
        sign_out_device_call(pc, token, phone),
        pc.call(Method::DELETE, "/api/passkeys/AAAA")
            .bearer(&token.token),
        pc.call(Method::DELETE, &format!("/api/grants/{grant_id}"))
            .bearer(&token.token),
    ]
}

#[tokio::test]
async fn a_qr_sign_in_cannot_sign_the_phone_out_or_approve_another_until_settled() {
    let (phone, _, pc, pc_login) = phone_and_qr_pc(Location::A, Location::A).await;
    let signed_in_at = Instant::now();
    let other = create_qr(&Device::pc()).await;

    // Up to 2 s after the pick-up (its whole-second clock is then at most 2 s on): refused.
    for call in settled_only(&pc, &pc_login, &phone, &other.qr_id) {
        let refused = call.fails(403, ErrorCode::StepUpRequired).await;
        assert!(
            refused.message.contains("password or a passkey"),
            "{}",
            refused.message
        );
    }
    // It may still use its token, and sign itself out.
    let me: MeResponse = me_call(&pc, &pc_login.token).send().await.expect(200);
    assert_eq!(me.session.via, Via::Qr);
    assert!(
        signed_in_at.elapsed() < Duration::from_secs(2),
        "too slow to test the lower bound"
    );

    // From 3 s on: settled. The other code is scanned; the phone is signed out.
    tokio::time::sleep(FRESH.saturating_sub(signed_in_at.elapsed())).await;
    // A new one: codes live 3 s here too.
    let later = create_qr(&Device::pc()).await;
    scan(&pc, &pc_login.token, &later.qr_id).await;
    sign_out_device_call(&pc, &pc_login, &phone)
        .send()
        .await
        .expect_empty(204);
}

#[tokio::test]
async fn a_password_sign_in_on_the_same_device_steps_up_at_once() {
    let (phone, login, pc, pc_login) = phone_and_qr_pc(Location::A, Location::A).await;
    sign_out_device_call(&pc, &pc_login, &phone)
        .fails(403, ErrorCode::StepUpRequired)
        .await;
    // The person steps up on the PC: its new token is a password's, with every right.
    let stepped_up = login_call(&pc, &login.account.username, PASSWORD)
        .send()
        .await
        .expect::<LoginSession>(201);
    sign_out_device_call(&pc, &stepped_up, &phone)
        .send()
        .await
        .expect_empty(204);
}

#[tokio::test]
async fn a_qr_sign_in_signs_itself_out_at_once() {
    let (_, _, pc, pc_login) = phone_and_qr_pc(Location::A, Location::A).await;
    sign_out_device_call(&pc, &pc_login, &pc)
        .send()
        .await
        .expect_empty(204);
}

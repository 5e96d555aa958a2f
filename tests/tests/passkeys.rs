//! Passkeys against a live `wrangler dev`, with registrations and assertions made by a real
//! P-256 key (`qrgate_tests::passkey`): a passkey added on a signed-in phone signs another
//! device in as its account; every check of a sign-in and of a registration refuses what it
//! names with a clear JSON error; a challenge is taken once, and a sign count moves forward
//! once, also when two locations race for them; a sign count that does not advance is refused;
//! a challenge answers within its lifetime only; a passkey alone makes an account, which keeps
//! it.

use futures::future::join_all;
use qrgate_protocol::{
    CreateQrResponse, DecisionRequest, ErrorCode, LoginSession, MeResponse, PasskeyAssertion,
    PasskeyCeremony, PasskeyChallenge, PasskeyChallengeRequest, PasskeyEntry, PasskeyLoginRequest,
    PasskeySignUpRequest, PasskeysResponse, QrStatus, RegisterPasskeyRequest, RenamePasskeyRequest,
    ScanResponse, Secret, SignInsResponse, Via,
};
use qrgate_tests::passkey::{Authenticator, Said, USER_PRESENT, USER_VERIFIED};
use qrgate_tests::*;
use reqwest::Method;
use std::time::Duration;

/// The origin a browser on `device`'s location would name: the URL it loads the edge from.
fn origin_of(device: &Device) -> String {
    device.location.base_url().trim_end_matches('/').to_owned()
}

fn challenge_call(device: &Device, ceremony: PasskeyCeremony) -> Call {
    device
        .call(Method::POST, "/api/passkeys/challenges")
        .json(&PasskeyChallengeRequest::new(ceremony))
}

async fn sign_in_challenge(device: &Device) -> PasskeyChallenge {
    challenge_call(device, PasskeyCeremony::SignIn)
        .send()
        .await
        .expect(201)
}

async fn register_challenge(device: &Device, token: &Secret) -> PasskeyChallenge {
    challenge_call(device, PasskeyCeremony::Register)
        .bearer(token)
        .send()
        .await
        .expect(201)
}

fn register_call(device: &Device, token: &Secret, request: &RegisterPasskeyRequest) -> Call {
    device
        .call(Method::POST, "/api/passkeys")
        .bearer(token)
        .json(request)
}

fn sign_up_challenge_call(device: &Device, username: &str) -> Call {
    device
        .call(Method::POST, "/api/passkeys/challenges")
        .json(&PasskeyChallengeRequest {
            ceremony: PasskeyCeremony::SignUp,
            username: Some(username.to_owned()),
            display_name: None,
        })
}

async fn sign_up_challenge(device: &Device, username: &str) -> PasskeyChallenge {
    sign_up_challenge_call(device, username)
        .send()
        .await
        .expect(201)
}

fn sign_up_call(device: &Device, request: &PasskeySignUpRequest) -> Call {
    device
        .call(Method::POST, "/api/accounts/passkey")
        .json(request)
}

/// A sign-up's request: `authenticator`'s new passkey for the account `challenge` names.
fn sign_up_answer(
    device: &Device,
    authenticator: &Authenticator,
    challenge: &PasskeyChallenge,
) -> PasskeySignUpRequest {
    PasskeySignUpRequest {
        user: challenge.user.clone().expect("a sign-up names its user"),
        passkey: authenticator.register(&Said::answering(challenge, &origin_of(device))),
        device_name: None,
    }
}

fn login_call(device: &Device, request: &PasskeyLoginRequest) -> Call {
    device
        .call(Method::POST, "/api/sessions/passkey")
        .json(request)
}

async fn passkeys_of(phone: &Device, token: &Secret) -> PasskeysResponse {
    phone
        .call(Method::GET, "/api/passkeys")
        .bearer(token)
        .send()
        .await
        .expect(200)
}

/// A phone signed in with its password that has added one passkey: the phone, its session,
/// the authenticator holding the passkey, and the account's user handle.
async fn phone_with_passkey() -> (Device, LoginSession, Authenticator, String) {
    let phone = Device::phone();
    let session = signed_in(&phone).await;
    let challenge = register_challenge(&phone, &session.token).await;
    let user = challenge
        .user
        .clone()
        .expect("a registration names its user");
    assert_eq!(user.name, session.account.username);
    let authenticator = Authenticator::new();
    let request = authenticator.register(&Said::answering(&challenge, &origin_of(&phone)));
    let entry: PasskeyEntry = register_call(&phone, &session.token, &request)
        .send()
        .await
        .expect(201);
    assert_eq!(entry.passkey_id, authenticator.passkey_id());
    (phone, session, authenticator, user.id)
}

#[tokio::test]
async fn a_passkey_added_on_the_phone_signs_another_device_in_as_its_account() {
    let (phone, session, mut authenticator, user_handle) = phone_with_passkey().await;
    let listed = passkeys_of(&phone, &session.token).await;
    assert_eq!(listed.passkeys.len(), 1);
    assert_eq!(listed.passkeys[0].last_used_at, None);
    // A second registration challenge names the passkey, so the authenticator makes no twin.
    let again = register_challenge(&phone, &session.token).await;
    assert_eq!(again.exclude_credentials, vec![authenticator.passkey_id()]);

    let pc = Device::pc();
    let challenge = sign_in_challenge(&pc).await;
    assert_eq!(
        (&challenge.user, challenge.exclude_credentials.len()),
        (&None, 0)
    );
    let said = Said::answering(&challenge, &origin_of(&pc));
    let request = authenticator.sign_in(&said, &user_handle);
    let signed_in: LoginSession = login_call(&pc, &request).send().await.expect(201);
    assert_eq!(signed_in.account, session.account);

    let me: MeResponse = me_call(&pc, &signed_in.token).send().await.expect(200);
    assert_eq!(me.account, session.account);
    assert_eq!(me.session.via, Via::Passkey);
    let history: SignInsResponse = phone
        .call(Method::GET, "/api/sign-ins")
        .bearer(&session.token)
        .send()
        .await
        .expect(200);
    assert_eq!(history.sign_ins[0].via, Via::Passkey);
    assert_eq!(history.sign_ins[0].device_id, pc.id);
    let listed = passkeys_of(&phone, &session.token).await;
    assert!(listed.passkeys[0].last_used_at.is_some());
}

/// A passkey alone makes an account: the device is signed in to it at once (`via: "passkey"`),
/// the name is taken, no password signs in to it, another device signs in with the passkey,
/// and the account's last passkey, its only way in, is never removed.
#[tokio::test]
async fn a_passkey_alone_makes_an_account_that_keeps_it() {
    let phone = Device::phone();
    let username = unique_username("pk");
    let challenge: PasskeyChallenge = sign_up_challenge(&phone, &username).await;
    let mut authenticator = Authenticator::new();
    let request = sign_up_answer(&phone, &authenticator, &challenge);
    assert_eq!(request.user.name, username);
    let session: LoginSession = sign_up_call(&phone, &request).send().await.expect(201);
    assert_eq!(session.account.username, username);
    let me: MeResponse = me_call(&phone, &session.token).send().await.expect(200);
    assert_eq!(
        (me.account, me.session.via),
        (session.account.clone(), Via::Passkey)
    );

    sign_up_challenge_call(&Device::phone(), &username)
        .fails(409, ErrorCode::Conflict)
        .await;
    qrgate_tests::register_call(&Device::phone(), &username)
        .fails(409, ErrorCode::Conflict)
        .await;
    qrgate_tests::login_call(&Device::pc(), &username, PASSWORD)
        .fails(401, ErrorCode::Unauthorized)
        .await;

    let pc = Device::pc();
    let said = Said::answering(&sign_in_challenge(&pc).await, &origin_of(&pc));
    let request = authenticator.sign_in(&said, &request.user.id);
    let signed_in: LoginSession = login_call(&pc, &request).send().await.expect(201);
    assert_eq!(signed_in.account, session.account);

    let listed = passkeys_of(&phone, &session.token).await;
    let path = format!("/api/passkeys/{}", listed.passkeys[0].passkey_id);
    let refusal = phone
        .call(Method::DELETE, &path)
        .bearer(&session.token)
        .fails(409, ErrorCode::Conflict)
        .await;
    assert!(
        refusal.message.contains("only way to sign in"),
        "{}",
        refusal.message
    );
    assert_eq!(passkeys_of(&phone, &session.token).await.passkeys.len(), 1);
}

/// A sign-up's challenge makes the account it named and no other, once; names go with a
/// sign-up's challenge only.
#[tokio::test]
async fn a_sign_up_makes_only_the_account_its_challenge_named_and_once() {
    let phone = Device::phone();
    let username = unique_username("pk");
    let challenge: PasskeyChallenge = sign_up_challenge(&phone, &username).await;
    let mut renamed = sign_up_answer(&phone, &Authenticator::new(), &challenge);
    renamed.user.name = unique_username("pk");
    sign_up_call(&phone, &renamed)
        .fails(400, ErrorCode::InvalidRequest)
        .await;
    // That answer took the challenge: the true one finds it gone.
    let request = sign_up_answer(&phone, &Authenticator::new(), &challenge);
    sign_up_call(&phone, &request)
        .fails(400, ErrorCode::InvalidRequest)
        .await;

    // A sign-in's challenge makes no account.
    let sign_in = sign_in_challenge(&phone).await;
    let mut said = Said::answering(&sign_in, &origin_of(&phone));
    said.kind = "webauthn.create".into();
    let forged = PasskeySignUpRequest {
        passkey: Authenticator::new().register(&said),
        ..sign_up_answer(&phone, &Authenticator::new(), &challenge)
    };
    sign_up_call(&phone, &forged)
        .fails(400, ErrorCode::InvalidRequest)
        .await;

    let made = sign_up_answer(
        &phone,
        &Authenticator::new(),
        &sign_up_challenge_call(&phone, &username)
            .send()
            .await
            .expect(201),
    );
    let _: LoginSession = sign_up_call(&phone, &made).send().await.expect(201);
    sign_up_call(&phone, &made)
        .fails(409, ErrorCode::Conflict)
        .await;

    for (ceremony, username) in [
        (PasskeyCeremony::SignUp, None),
        (PasskeyCeremony::SignIn, Some("ann".to_owned())),
    ] {
        phone
            .call(Method::POST, "/api/passkeys/challenges")
            .json(&PasskeyChallengeRequest {
                ceremony,
                username,
                display_name: None,
            })
            .fails(400, ErrorCode::InvalidRequest)
            .await;
    }
}

/// A challenge's lifetime is `PASSKEY_CHALLENGE_TTL_SECONDS` (3 s at location A, where these
/// tests run): answered a second before it ends, it signs in; answered after it, it is refused.
#[tokio::test]
async fn a_challenge_is_answered_within_its_lifetime_and_refused_after_it() {
    let (_, _, mut authenticator, user_handle) = phone_with_passkey().await;
    let pc = Device::pc();
    let within = sign_in_challenge(&pc).await;
    let lifetime = Duration::from_millis(within.timeout_ms);
    assert_eq!(
        lifetime,
        Duration::from_secs(3),
        "location A's challenge lifetime"
    );
    tokio::time::sleep(lifetime - Duration::from_secs(1)).await;
    let request = authenticator.sign_in(&Said::answering(&within, &origin_of(&pc)), &user_handle);
    let _: LoginSession = login_call(&pc, &request).send().await.expect(201);

    let lapsed = sign_in_challenge(&pc).await;
    tokio::time::sleep(lifetime + Duration::from_millis(300)).await;
    let request = authenticator.sign_in(&Said::answering(&lapsed, &origin_of(&pc)), &user_handle);
    let refusal = login_call(&pc, &request)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    assert!(refusal.message.contains("expired"), "{}", refusal.message);
}

/// One part of what a browser and its authenticator say, made wrong.
type Change = fn(&mut Said);

/// A sign-in with `said` changed by `change`, on a fresh challenge: its refusal's message.
async fn refused_sign_in(
    authenticator: &mut Authenticator,
    user_handle: &str,
    change: impl FnOnce(&mut Said),
) -> String {
    let pc = Device::pc();
    let challenge = sign_in_challenge(&pc).await;
    let mut said = Said::answering(&challenge, &origin_of(&pc));
    change(&mut said);
    let request = authenticator.sign_in(&said, user_handle);
    login_call(&pc, &request)
        .fails(401, ErrorCode::Unauthorized)
        .await
        .message
}

#[tokio::test]
async fn every_check_of_a_sign_in_refuses_what_it_names() {
    let (_, _, mut authenticator, user_handle) = phone_with_passkey().await;
    let cases: [(&str, Change); 6] = [
        ("another origin", |said| {
            said.origin = "https://evil.example".into()
        }),
        ("another ceremony", |said| {
            said.kind = "webauthn.create".into()
        }),
        ("another relying party", |said| {
            said.rp_id = "evil.example".into()
        }),
        ("the user not present", |said| said.flags = USER_VERIFIED),
        ("the user not verified", |said| said.flags = USER_PRESENT),
        ("another challenge", |said| said.challenge = "A".repeat(43)),
    ];
    let mut messages = Vec::new();
    for (what, change) in cases {
        let message = refused_sign_in(&mut authenticator, &user_handle, change).await;
        assert!(!message.contains(&user_handle), "{what}: {message}");
        messages.push(message);
    }
    messages.dedup();
    assert_eq!(
        messages.len(),
        6,
        "each refusal says its own check: {messages:?}"
    );

    // A signature by another key for this passkey's id; an id the account does not have; an
    // account that does not have it.
    let pc = Device::pc();
    let mut impostor = Authenticator::new();
    impostor.credential_id = authenticator.credential_id.clone();
    let said = Said::answering(&sign_in_challenge(&pc).await, &origin_of(&pc));
    let forged = impostor.sign_in(&said, &user_handle);
    let message = login_call(&pc, &forged)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    assert!(message.message.contains("signature"), "{}", message.message);
    let said = Said::answering(&sign_in_challenge(&pc).await, &origin_of(&pc));
    let unknown = Authenticator::new().sign_in(&said, &user_handle);
    login_call(&pc, &unknown)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    let (_, _, _, other_handle) = phone_with_passkey().await;
    let said = Said::answering(&sign_in_challenge(&pc).await, &origin_of(&pc));
    let elsewhere = authenticator.sign_in(&said, &other_handle);
    login_call(&pc, &elsewhere)
        .fails(401, ErrorCode::Unauthorized)
        .await;

    // After all that, the passkey still signs in.
    let said = Said::answering(&sign_in_challenge(&pc).await, &origin_of(&pc));
    let honest = authenticator.sign_in(&said, &user_handle);
    login_call(&pc, &honest)
        .send()
        .await
        .expect::<LoginSession>(201);
}

#[tokio::test]
async fn a_sign_count_that_does_not_advance_is_refused() {
    let (_, _, mut authenticator, user_handle) = phone_with_passkey().await;
    let pc = Device::pc();
    for _ in 0..2 {
        let said = Said::answering(&sign_in_challenge(&pc).await, &origin_of(&pc));
        let request = authenticator.sign_in(&said, &user_handle);
        login_call(&pc, &request)
            .send()
            .await
            .expect::<LoginSession>(201);
    }
    // A copy of the passkey, one count behind the original.
    authenticator.sign_count -= 2;
    let said = Said::answering(&sign_in_challenge(&pc).await, &origin_of(&pc));
    let cloned = authenticator.sign_in(&said, &user_handle);
    let refused = login_call(&pc, &cloned)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    assert!(
        refused.message.contains("sign count"),
        "{}",
        refused.message
    );
}

/// Sends every answer at once, each from its own device: exactly one signs in, and every other
/// is refused with the contract's `401`.
async fn exactly_one_signs_in(answers: &[(Device, PasskeyLoginRequest)]) {
    let replies = join_all(
        answers
            .iter()
            .map(|(device, request)| login_call(device, request).send()),
    )
    .await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    for reply in replies.iter().filter(|r| r.status.as_u16() != 201) {
        reply.expect_error(401, ErrorCode::Unauthorized);
    }
}

#[tokio::test]
async fn a_challenge_is_answered_once_even_by_two_locations_at_once() {
    let (_, _, mut authenticator, user_handle) = phone_with_passkey().await;
    let pc = Device::pc();
    let challenge = sign_in_challenge(&pc).await;
    // Sixteen answers to one challenge, each with its own count, half of them at location B.
    let answers: Vec<(Device, PasskeyLoginRequest)> = (0..16)
        .map(|i| {
            let location = if i % 2 == 0 { Location::A } else { Location::B };
            let device = Device::pc().at(location);
            let said = Said::answering(&challenge, &origin_of(&device));
            let request = authenticator.sign_in(&said, &user_handle);
            (device, request)
        })
        .collect();
    exactly_one_signs_in(&answers).await;
}

#[tokio::test]
async fn one_sign_count_signs_in_once_even_at_two_locations_at_once() {
    let (_, _, mut authenticator, user_handle) = phone_with_passkey().await;
    // A passkey and its copies: sixteen sign-ins, each on a challenge of its own, half of them
    // at location B, all with the count 1.
    let mut answers = Vec::new();
    for i in 0..16 {
        let location = if i % 2 == 0 { Location::A } else { Location::B };
        let device = Device::pc().at(location);
        let said = Said::answering(&sign_in_challenge(&device).await, &origin_of(&device));
        authenticator.sign_count = 0;
        answers.push((device.clone(), authenticator.sign_in(&said, &user_handle)));
    }
    exactly_one_signs_in(&answers).await;
}

#[tokio::test]
async fn every_check_of_a_registration_refuses_what_it_names() {
    let phone = Device::phone();
    let session = signed_in(&phone).await;
    let origin = origin_of(&phone);
    let refused = async |change: Change| {
        let challenge = register_challenge(&phone, &session.token).await;
        let mut said = Said::answering(&challenge, &origin);
        change(&mut said);
        let request = Authenticator::new().register(&said);
        register_call(&phone, &session.token, &request)
            .fails(400, ErrorCode::InvalidRequest)
            .await
            .message
    };
    let mut messages = vec![
        refused(|said| said.origin = "https://evil.example".into()).await,
        refused(|said| said.kind = "webauthn.get".into()).await,
        refused(|said| said.rp_id = "evil.example".into()).await,
        refused(|said| said.flags = USER_PRESENT).await,
        refused(|said| said.challenge = "A".repeat(43)).await,
    ];
    messages.dedup();
    assert_eq!(
        messages.len(),
        5,
        "each refusal says its own check: {messages:?}"
    );

    // A sign-in's challenge does not register; nor does another account's.
    let sign_in = sign_in_challenge(&phone).await;
    let mut said = Said::answering(&sign_in, &origin);
    said.kind = "webauthn.create".into();
    let request = Authenticator::new().register(&said);
    register_call(&phone, &session.token, &request)
        .fails(400, ErrorCode::InvalidRequest)
        .await;
    let other = signed_in(&phone).await;
    let theirs = register_challenge(&phone, &other.token).await;
    let request = Authenticator::new().register(&Said::answering(&theirs, &origin));
    register_call(&phone, &session.token, &request)
        .fails(400, ErrorCode::InvalidRequest)
        .await;

    // The same passkey twice.
    let authenticator = Authenticator::new();
    for status in [201, 409] {
        let challenge = register_challenge(&phone, &session.token).await;
        let request = authenticator.register(&Said::answering(&challenge, &origin));
        let reply = register_call(&phone, &session.token, &request).send().await;
        assert_eq!(reply.status.as_u16(), status, "{}", reply.text());
    }
    // Without a token, no registration challenge and no registration.
    challenge_call(&phone, PasskeyCeremony::Register)
        .fails(401, ErrorCode::Unauthorized)
        .await;
}

/// A fresh PC's code, scanned by `phone`: the PC, its session and the scan's answer.
async fn scanned_by(phone: &Device, token: &Secret) -> (Device, CreateQrResponse, ScanResponse) {
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let scanned = scan(phone, token, &qr.qr_id).await;
    (pc, qr, scanned)
}

/// A scan by `phone` hands out no passkey challenge, and its confirmation needs none: the PC
/// is signed in.
async fn confirms_without_a_passkey(phone: &Device, token: &Secret) {
    let (pc, qr, scanned) = scanned_by(phone, token).await;
    assert_eq!(scanned.passkey, None);
    decide(phone, token, &qr.qr_id, "confirm", &scanned.scan_token).await;
    assert_eq!(poll(&pc, &qr).await.status, QrStatus::Confirmed);
}

fn confirm_call(phone: &Device, token: &Secret, qr_id: &str, decision: &DecisionRequest) -> Call {
    phone
        .call(Method::POST, &format!("/api/qr/{qr_id}/confirm"))
        .bearer(token)
        .json(decision)
}

#[tokio::test]
async fn an_account_with_a_passkey_approves_a_scan_only_with_it() {
    let (phone, session, mut authenticator, user_handle) = phone_with_passkey().await;
    let origin = origin_of(&phone);
    let without = |scanned: &ScanResponse| DecisionRequest {
        scan_token: scanned.scan_token.clone(),
        passkey: None,
    };

    // No answer: 403, and the PC still sees its code scanned.
    let (pc, qr, scanned) = scanned_by(&phone, &session.token).await;
    let challenge = scanned
        .passkey
        .clone()
        .expect("the scan's passkey challenge");
    assert_eq!(
        challenge.allow_credentials,
        vec![authenticator.passkey_id()]
    );
    confirm_call(&phone, &session.token, &qr.qr_id, &without(&scanned))
        .fails(403, ErrorCode::Forbidden)
        .await;
    assert_eq!(poll(&pc, &qr).await.status, QrStatus::Scanned);

    // An answer without user verification, one to another scan's challenge, one to a
    // sign-in's: each 403, the session still scanned.
    let (pc, qr, scanned) = scanned_by(&phone, &session.token).await;
    let mut said = Said::answering(&scanned.passkey.clone().expect("a challenge"), &origin);
    said.flags = USER_PRESENT;
    let unverified = DecisionRequest {
        passkey: Some(authenticator.answer(&said, &user_handle)),
        ..without(&scanned)
    };
    confirm_call(&phone, &session.token, &qr.qr_id, &unverified)
        .fails(403, ErrorCode::Forbidden)
        .await;
    assert_eq!(poll(&pc, &qr).await.status, QrStatus::Scanned);
    let (_, _, other_scan) = scanned_by(&phone, &session.token).await;
    let (pc, qr, scanned) = scanned_by(&phone, &session.token).await;
    for challenge in [
        other_scan.passkey.clone().expect("a challenge"),
        sign_in_challenge(&phone).await,
    ] {
        let said = Said::answering(&challenge, &origin);
        let elsewhere = DecisionRequest {
            passkey: Some(authenticator.answer(&said, &user_handle)),
            ..without(&scanned)
        };
        confirm_call(&phone, &session.token, &qr.qr_id, &elsewhere)
            .fails(403, ErrorCode::Forbidden)
            .await;
    }
    assert_eq!(poll(&pc, &qr).await.status, QrStatus::Scanned);

    // The passkey's answer to this scan's challenge confirms: the PC is signed in as the
    // account.
    let (pc, qr, scanned) = scanned_by(&phone, &session.token).await;
    let said = Said::answering(&scanned.passkey.clone().expect("a challenge"), &origin);
    let approved = DecisionRequest {
        passkey: Some(authenticator.answer(&said, &user_handle)),
        ..without(&scanned)
    };
    confirm_call(&phone, &session.token, &qr.qr_id, &approved)
        .send()
        .await
        .expect_empty(204);
    let picked = poll(&pc, &qr).await;
    assert_eq!(picked.status, QrStatus::Confirmed);
    let signed_in = picked.session.expect("the PC's session");
    assert_eq!(signed_in.account, session.account);
}

#[tokio::test]
async fn a_denial_needs_no_passkey_and_an_account_without_one_confirms_as_before() {
    let (phone, session, _, _) = phone_with_passkey().await;
    let (pc, qr, scanned) = scanned_by(&phone, &session.token).await;
    assert!(scanned.passkey.is_some());
    decide(
        &phone,
        &session.token,
        &qr.qr_id,
        "deny",
        &scanned.scan_token,
    )
    .await;
    assert_eq!(poll(&pc, &qr).await.status, QrStatus::Denied);

    let plain = Device::phone();
    let plain_session = signed_in(&plain).await;
    confirms_without_a_passkey(&plain, &plain_session.token).await;
}

#[tokio::test]
async fn a_passkey_is_renamed_and_removed_and_then_signs_in_and_approves_nothing() {
    let (phone, session, mut authenticator, user_handle) = phone_with_passkey().await;
    let path = format!("/api/passkeys/{}", authenticator.passkey_id());
    let rename = |name: &str| {
        phone
            .call(Method::PATCH, &path)
            .bearer(&session.token)
            .json(&RenamePasskeyRequest { name: name.into() })
    };
    rename("  Work laptop ").send().await.expect_empty(204);
    let listed = passkeys_of(&phone, &session.token).await;
    assert_eq!(listed.passkeys[0].name, "Work laptop");
    for bad in ["", &"n".repeat(65)] {
        rename(bad).fails(400, ErrorCode::InvalidRequest).await;
    }
    // Another account cannot touch it; an unknown id is not found.
    let other = Device::phone();
    let other_session = signed_in(&other).await;
    other
        .call(Method::DELETE, &path)
        .bearer(&other_session.token)
        .fails(404, ErrorCode::NotFound)
        .await;
    phone
        .call(Method::DELETE, "/api/passkeys/bm8tc3VjaC1wYXNza2V5")
        .bearer(&session.token)
        .fails(404, ErrorCode::NotFound)
        .await;

    phone
        .call(Method::DELETE, &path)
        .bearer(&session.token)
        .send()
        .await
        .expect_empty(204);
    assert!(
        passkeys_of(&phone, &session.token)
            .await
            .passkeys
            .is_empty()
    );
    let pc = Device::pc();
    let said = Said::answering(&sign_in_challenge(&pc).await, &origin_of(&pc));
    let removed = authenticator.sign_in(&said, &user_handle);
    login_call(&pc, &removed)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    // With no passkey left, the phone confirms as one that never had one.
    confirms_without_a_passkey(&phone, &session.token).await;
}

#[tokio::test]
async fn malformed_passkey_requests_are_clear_errors() {
    let phone = Device::phone();
    let session = signed_in(&phone).await;
    let challenge = register_challenge(&phone, &session.token).await;
    let good = Authenticator::new().register(&Said::answering(&challenge, &origin_of(&phone)));
    let cases = [
        RegisterPasskeyRequest {
            attestation_object: "not base64!".into(),
            ..good.clone()
        },
        RegisterPasskeyRequest {
            // A CBOR map that ends early.
            attestation_object: "owNmbm9uZQ".into(),
            ..good.clone()
        },
        RegisterPasskeyRequest {
            client_data_json: "bm90IGpzb24".into(),
            ..good.clone()
        },
        RegisterPasskeyRequest {
            name: Some("n".repeat(65)),
            ..good.clone()
        },
    ];
    for request in cases {
        register_call(&phone, &session.token, &request)
            .fails(400, ErrorCode::InvalidRequest)
            .await;
    }
    for body in [&b"{"[..], br#"{"ceremony":"both"}"#, b"[]"] {
        phone
            .call(Method::POST, "/api/passkeys/challenges")
            .raw_body(Some("application/json"), body.to_vec())
            .fails(400, ErrorCode::InvalidRequest)
            .await;
    }
    let pc = Device::pc();
    let assertion = PasskeyAssertion {
        passkey_id: "AAAA".into(),
        client_data_json: "e30".into(),
        authenticator_data: "AAAA".into(),
        signature: "AAAA".into(),
        user_handle: "bm90IGFuIGFjY291bnQ".into(),
    };
    let sign_in = PasskeyLoginRequest {
        passkey: assertion.clone(),
        device_name: None,
    };
    login_call(&pc, &sign_in)
        .fails(400, ErrorCode::InvalidRequest)
        .await;
    let oversized = PasskeyLoginRequest {
        passkey: PasskeyAssertion {
            signature: "A".repeat(9_000),
            ..assertion
        },
        device_name: None,
    };
    login_call(&pc, &oversized)
        .fails(413, ErrorCode::PayloadTooLarge)
        .await;
}

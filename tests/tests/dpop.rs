//! Tokens bound to a key (DPoP, RFC 9449) against a live `wrangler dev`: proofs made by a real
//! ES256 signer, and refused one changed part at a time.

use qrgate_protocol::{
    CreateQrResponse, DPOP_HEADER, ErrorCode, LoginSession, MeResponse, PollResponse, QrStatus,
    Secret, TokenType,
};
use qrgate_tests::dpop::{Key, claims, now_seconds};
use qrgate_tests::*;
use reqwest::Method;
use serde_json::Value;

const INVALID_PROOF: &str = r#"DPoP error="invalid_dpop_proof""#;

/// Sends and expects the contract's `401` for a proof that does not hold, which tells the
/// edge's clock, by which a client whose `iat` was off can make its proof again.
async fn refused(call: Call) {
    let reply = call.send().await;
    reply.expect_error(401, ErrorCode::Unauthorized);
    let date = reply.header("Date").expect("the answer is dated");
    assert!(
        date.ends_with(" GMT") && date.len() == 29,
        "an HTTP date: {date}"
    );
    assert_eq!(
        reply.header("WWW-Authenticate"),
        Some(INVALID_PROOF),
        "{}",
        reply.text()
    );
}

/// A fresh account, signed in on `device` with a proof by `key`: a token bound to the key.
async fn signed_in_with_key(device: &Device, key: &Key) -> LoginSession {
    let username = unique_username("dpop");
    register(device, &username).await;
    let session: LoginSession = login_call(device, &username, PASSWORD)
        .proof(key)
        .send()
        .await
        .expect(201);
    assert_eq!(session.token_type, TokenType::DPoP);
    session
}

/// `GET /api/me` with the bound token, `Authorization: DPoP`, and a proof `prove` makes.
fn me_with(device: &Device, token: &Secret, proof: &str) -> Call {
    device
        .call(Method::GET, "/api/me")
        .header("Authorization", &format!("DPoP {}", token.expose()))
        .header(DPOP_HEADER, proof)
}

fn me_url(device: &Device) -> String {
    format!("{}/api/me", device.location.base_url())
}

#[tokio::test]
async fn a_bound_token_works_with_a_fresh_proof_for_each_request() {
    let phone = Device::phone();
    let key = Key::new();
    let session = signed_in_with_key(&phone, &key).await;

    for _ in 0..3 {
        let me: MeResponse = bound_me_call(&phone, &key, &session.token)
            .send()
            .await
            .expect(200);
        assert_eq!(me.session.token_type, TokenType::DPoP);
        assert_eq!(me.account, session.account);
    }
    phone
        .call(Method::GET, "/api/devices")
        .dpop(&key, &session.token)
        .send()
        .await
        .expect::<Value>(200);
    phone
        .call(Method::DELETE, "/api/sessions/current")
        .dpop(&key, &session.token)
        .send()
        .await
        .expect_empty(204);
    // Signed out: the proof still holds, the token does not.
    bound_me_call(&phone, &key, &session.token)
        .fails(401, ErrorCode::Unauthorized)
        .await;
}

#[tokio::test]
async fn a_bound_token_is_refused_without_its_key_or_with_a_proof_for_something_else() {
    let phone = Device::phone();
    let key = Key::new();
    let session = signed_in_with_key(&phone, &key).await;
    let token = &session.token;
    let url = me_url(&phone);
    let with = |change: &dyn Fn(&mut Value)| {
        let mut changed = claims("GET", &url, Some(token));
        change(&mut changed);
        key.sign(&key.header(), &changed)
    };

    // As a Bearer token, with or without a proof; as DPoP without one.
    refused(me_call(&phone, token)).await;
    refused(me_call(&phone, token).proof(&key)).await;
    refused(
        phone
            .call(Method::GET, "/api/me")
            .header("Authorization", &format!("DPoP {}", token.expose())),
    )
    .await;
    // Another key's proof, well made.
    refused(bound_me_call(&phone, &Key::new(), token)).await;
    // The key's own proof from another device: the device headers still bind the token.
    bound_me_call(&Device::phone(), &key, token)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    // Another method, another URL, another token's `ath`, none, an `iat` more than the 60 s
    // allowed off either way. The margin is 5 s, not 1: the test's clock reads whole seconds
    // before the request, and the edge's may have passed into the next one by the time it checks
    // (an `iat` 61 s ahead then looked 60 s ahead, and was rightly accepted). The exact edge of
    // the window is the edge crate's unit test, with its clock passed in.
    refused(me_with(&phone, token, &with(&|c| c["htm"] = "POST".into()))).await;
    let other_url = format!("{}/api/devices", phone.location.base_url());
    refused(me_with(
        &phone,
        token,
        &with(&|c| c["htu"] = other_url.clone().into()),
    ))
    .await;
    let other_token = Secret::new("x".repeat(43));
    let other_ath = qrgate_tests::dpop::ath_of(&other_token);
    refused(me_with(
        &phone,
        token,
        &with(&|c| c["ath"] = other_ath.clone().into()),
    ))
    .await;
    refused(me_with(
        &phone,
        token,
        &with(&|c| {
            c.as_object_mut().map(|c| c.remove("ath"));
        }),
    ))
    .await;
    for offset in [-65i64, 65] {
        let iat = now_seconds().saturating_add_signed(offset);
        refused(me_with(&phone, token, &with(&|c| c["iat"] = iat.into()))).await;
    }
    // A signature that does not hold: one bit of it flipped, or the claims changed after signing.
    let good = key.proof("GET", &url, Some(token));
    let (signing_input, signature) = good.rsplit_once('.').expect("a compact JWS");
    let flipped = {
        let mut bytes = signature.as_bytes().to_vec();
        bytes[10] = if bytes[10] == b'A' { b'B' } else { b'A' };
        format!(
            "{signing_input}.{}",
            String::from_utf8(bytes).expect("base64url")
        )
    };
    refused(me_with(&phone, token, &flipped)).await;
    let other_claims = with(&|c| c["jti"] = "another".into());
    let (_, other_signature) = other_claims.rsplit_once('.').expect("a compact JWS");
    refused(me_with(
        &phone,
        token,
        &format!("{signing_input}.{other_signature}"),
    ))
    .await;

    // The token itself was not spent by any of that.
    bound_me_call(&phone, &key, token)
        .send()
        .await
        .expect::<MeResponse>(200);
    // A proof is good for its URL without the query, and in any case of scheme and host.
    let loud_url = url.replacen("http://", "HTTP://", 1) + "?x=1";
    phone
        .call(Method::GET, "/api/me?x=1")
        .header("Authorization", &format!("DPoP {}", token.expose()))
        .header(
            DPOP_HEADER,
            &key.sign(&key.header(), &claims("GET", &loud_url, Some(token))),
        )
        .send()
        .await
        .expect::<MeResponse>(200);
}

#[tokio::test]
async fn a_malformed_proof_is_refused_on_every_route_sign_ins_included() {
    let phone = Device::phone();
    let key = Key::new();
    let good = key.proof("POST", &format!("{}/api/sessions", base_url()), None);
    let (header, rest) = good.split_once('.').expect("a compact JWS");
    let b64 = |text: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    };
    let mut private_jwk = key.header();
    private_jwk["jwk"]["d"] = b64("not the key, but a private part all the same").into();
    let mut wrong_alg = key.header();
    wrong_alg["alg"] = "RS256".into();
    let mut wrong_typ = key.header();
    wrong_typ["typ"] = "JWT".into();
    let claims_now = claims("POST", &format!("{}/api/sessions", base_url()), None);
    let malformed = [
        good[..good.len() / 2].to_owned(),
        format!("{}.{rest}", b64("not json")),
        format!("{header}.{}.{}", b64("{\"htm\":"), b64("signature")),
        "a.b.c.d".to_owned(),
        "not a proof at all".to_owned(),
        key.sign(&private_jwk, &claims_now),
        key.sign(&wrong_alg, &claims_now),
        key.sign(&wrong_typ, &claims_now),
    ];
    let username = unique_username("dpop");
    register(&phone, &username).await;
    // A session made without a key: its poll is still refused a malformed proof.
    let pc = Device::pc();
    let unbound_qr = create_qr(&pc).await;
    for proof in &malformed {
        refused(poll_call(&pc, &unbound_qr).header(DPOP_HEADER, proof)).await;
        refused(login_call(&phone, &username, PASSWORD).header(DPOP_HEADER, proof)).await;
        refused(
            phone
                .call(Method::POST, "/api/qr")
                .header(DPOP_HEADER, proof),
        )
        .await;
        refused(
            phone
                .call(Method::POST, "/api/accounts")
                .header(DPOP_HEADER, proof)
                .json(&serde_json::json!({"username": unique_username("x"), "password": PASSWORD})),
        )
        .await;
    }
    // A proof for another request is no better at sign-in.
    refused(login_call(&phone, &username, PASSWORD).header(
        DPOP_HEADER,
        &key.proof("POST", &format!("{}/api/qr", base_url()), None),
    ))
    .await;
}

#[tokio::test]
async fn a_malformed_proof_is_judged_after_the_path_and_the_body() {
    // API.md's order: a proof goes with the credential, whose step comes after the `400`s.
    let phone = Device::phone();
    let session = signed_in(&phone).await;
    let malformed = "not a proof at all";
    let ill_formed = [
        phone.call(Method::POST, "/api/qr/bad!/scan"),
        phone
            .call(Method::POST, "/api/qr/abcdefghijklmnop/confirm")
            .json(&serde_json::json!({})),
        phone.call(Method::DELETE, "/api/devices/not-a-uuid"),
        phone
            .call(Method::POST, "/api/sessions")
            .raw_body(Some("application/json"), "{bad"),
        phone
            .call(Method::POST, "/api/accounts")
            .json(&serde_json::json!({"username": unique_username("x")})),
    ];
    for call in ill_formed {
        call.bearer(&session.token)
            .header(DPOP_HEADER, malformed)
            .fails(400, ErrorCode::InvalidRequest)
            .await;
    }
    // With path and body well formed, the same proof is refused where the token is checked.
    refused(me_call(&phone, &session.token).header(DPOP_HEADER, malformed)).await;
    refused(
        phone
            .call(Method::GET, "/api/me")
            .header(DPOP_HEADER, malformed),
    )
    .await;
}

#[tokio::test]
async fn bearer_tokens_are_unchanged_and_an_unbound_token_cannot_pose_as_bound() {
    let phone = Device::phone();
    let session = signed_in(&phone).await;
    assert_eq!(session.token_type, TokenType::Bearer);
    let me: MeResponse = me_call(&phone, &session.token).send().await.expect(200);
    assert_eq!(me.session.token_type, TokenType::Bearer);
    refused(bound_me_call(&phone, &Key::new(), &session.token)).await;
}

/// A QR session made with `key`'s proof, by a PC at `location`.
async fn create_qr_with_key(pc: &Device, key: &Key) -> CreateQrResponse {
    pc.call(Method::POST, "/api/qr")
        .proof(key)
        .send()
        .await
        .expect(201)
}

#[tokio::test]
async fn a_qr_session_made_with_a_key_gives_its_token_only_to_that_key() {
    // The PC at the other location: its proofs name that location's URL, and its token is
    // minted into that location's KV.
    let pc = Device::pc().at(Location::B);
    let phone = Device::phone();
    let key = Key::new();
    let phone_login = signed_in(&phone).await;
    let qr = create_qr_with_key(&pc, &key).await;

    refused(poll_call(&pc, &qr)).await;
    refused(poll_call(&pc, &qr).proof(&Key::new())).await;
    refused(cancel_call(&pc, &qr)).await;
    refused(cancel_call(&pc, &qr).proof(&Key::new())).await;
    let pending: PollResponse = poll_call(&pc, &qr).proof(&key).send().await.expect(200);
    assert_eq!(pending.status, QrStatus::Pending);

    scan_and_confirm(&phone, &phone_login.token, &qr.qr_id).await;
    refused(poll_call(&pc, &qr)).await;
    refused(poll_call(&pc, &qr).proof(&Key::new())).await;
    let session = pick_up_with_key(&pc, &qr, &key, &phone_login.account).await;
    refused(me_call(&pc, &session.token)).await;
    refused(bound_me_call(&pc, &Key::new(), &session.token)).await;
}

#[tokio::test]
async fn a_qr_session_made_with_a_key_is_cancelled_only_with_that_key() {
    let pc = Device::pc();
    let key = Key::new();
    let qr = create_qr_with_key(&pc, &key).await;
    refused(cancel_call(&pc, &qr)).await;
    cancel_call(&pc, &qr)
        .proof(&key)
        .send()
        .await
        .expect_empty(204);
}

#[tokio::test]
async fn a_qr_session_made_without_a_key_still_gives_a_bearer_token() {
    let pc = Device::pc();
    let phone = Device::phone();
    let phone_login = signed_in(&phone).await;
    let qr = create_qr(&pc).await;
    scan_and_confirm(&phone, &phone_login.token, &qr.qr_id).await;
    let picked = poll(&pc, &qr).await;
    let session = picked
        .session
        .expect("the pick-up carries the PC's session");
    assert_eq!(session.token_type, TokenType::Bearer);
    me_call(&pc, &session.token)
        .send()
        .await
        .expect::<MeResponse>(200);
}

#[tokio::test]
async fn an_edge_that_requires_dpop_refuses_sign_ins_without_a_proof() {
    let phone = Device::phone().at(Location::Strict);
    let pc = Device::pc().at(Location::Strict);
    let key = Key::new();
    let username = unique_username("strict");
    register(&phone, &username).await;

    login_call(&phone, &username, PASSWORD)
        .fails(400, ErrorCode::InvalidRequest)
        .await;
    pc.call(Method::POST, "/api/qr")
        .fails(400, ErrorCode::InvalidRequest)
        .await;

    let session: LoginSession = login_call(&phone, &username, PASSWORD)
        .proof(&key)
        .send()
        .await
        .expect(201);
    assert_eq!(session.token_type, TokenType::DPoP);
    let qr = create_qr_with_key(&pc, &Key::new()).await;
    assert!(qr.qr_url.starts_with(Location::Strict.base_url()));
    bound_me_call(&phone, &key, &session.token)
        .send()
        .await
        .expect::<MeResponse>(200);
}

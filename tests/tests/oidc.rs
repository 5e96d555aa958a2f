//! The OpenID Provider against real `wrangler dev`s (`shared/API.md`, "Sign in to other apps"),
//! where no stock client goes: every refusal of the authorization, token, userinfo and
//! revocation endpoints (each the RFCs' error, never a 500, and no open redirect), replays,
//! races fired for real at two locations (separate KV, shared objects), forged tokens, single
//! sign-on and the connected apps. The happy paths are proved by stock clients:
//! `tests/oidc/openid-client.test.mjs` and `tests/oidc/test_authlib.py`.

use futures::future::join_all;
use hmac::{Hmac, Mac};
use qrgate_protocol::oauth::{GrantsResponse, RedirectTo};
use qrgate_protocol::{DeviceType, SignInsResponse};
use qrgate_tests::dpop::{Key, now_seconds};
use qrgate_tests::oidc::*;
use qrgate_tests::{Call, Device, Location, Reply, login, register, signed_in, unique_username};
use reqwest::Method;
use serde_json::{Value, json};

fn assert_oauth_error(reply: &Reply, status: u16, error: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.text());
    let body: Value = serde_json::from_slice(&reply.body).expect("a JSON error");
    assert_eq!(body["error"], error, "{}", reply.text());
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    if status == 400 {
        // A stock client takes a challenge on a 400 for a resource's (TOOLCHAIN.md).
        assert_eq!(reply.header("WWW-Authenticate"), None);
    }
}

/// A phone signed in to a fresh account, at `location`.
async fn phone_at(location: Location) -> (Device, qrgate_protocol::LoginSession) {
    let phone = Device::phone().at(location);
    let session = signed_in(&phone).await;
    (phone, session)
}

/// A code redeemed for `CONFIDENTIAL`: the token answer.
async fn tokens(phone: &Device, session: &qrgate_protocol::LoginSession) -> Value {
    let pkce = Pkce::new();
    let code = code_for(CONFIDENTIAL, REDIRECT_URI, &pkce, phone, session).await;
    token_call(
        Location::A,
        "/oauth/token",
        CONFIDENTIAL,
        &code_form(&code, &pkce, REDIRECT_URI),
    )
    .send()
    .await
    .expect(200)
}

#[tokio::test]
async fn a_bad_client_or_redirect_uri_gets_a_page_and_never_a_redirect() {
    let pkce = Pkce::new();
    let good = authorization_query(CONFIDENTIAL, REDIRECT_URI, &pkce, &[]);
    for query in [
        good.replace("client_id=test-confidential", "client_id=nobody"),
        good.replace("client_id=test-confidential&", ""),
        format!("{good}&client_id=test-confidential"),
        good.replace("client.example", "evil.example"),
        good.replace("redirect_uri=https%3A%2F%2Fclient.example%2Fcb&", ""),
        format!("{good}&redirect_uri=https%3A%2F%2Fclient.example%2Fcb"),
        // Everything else wrong too: still no redirect to an unregistered URI.
        "response_type=token&client_id=test-confidential&redirect_uri=https%3A%2F%2Fevil.example%2F&request=x".into(),
        "client_id=qrgate-cli&redirect_uri=https%3A%2F%2Fclient.example%2Fcb".into(),
    ] {
        let page = authorize(Location::A, &query).await;
        assert_eq!(page.status.as_u16(), 400, "{query}");
        assert_eq!(page.header("Location"), None, "{query}");
        assert!(page.header("Content-Type").is_some_and(|t| t.starts_with("text/html")));
        assert!(page.text().contains("qrgate"), "{query}");
    }
}

#[tokio::test]
async fn every_other_authorization_error_goes_back_with_state_and_iss() {
    let pkce = Pkce::new();
    let good = authorization_query(CONFIDENTIAL, REDIRECT_URI, &pkce, &[]);
    let challenge = format!("code_challenge={}&", pkce.challenge);
    let cases = [
        (
            good.replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
        (good.replace("response_type=code&", ""), "invalid_request"),
        (good.replace(&challenge, ""), "invalid_request"),
        (
            good.replace("code_challenge_method=S256", "code_challenge_method=plain"),
            "invalid_request",
        ),
        (
            good.replace("&code_challenge_method=S256", ""),
            "invalid_request",
        ),
        (format!("{good}&scope=openid"), "invalid_request"),
        (format!("{good}&prompt=none+login"), "invalid_request"),
        (format!("{good}&max_age=soon"), "invalid_request"),
        (format!("{good}&response_mode=form_post"), "invalid_request"),
        (
            format!("{good}&request=eyJhbGciOiJub25lIn0.e30."),
            "request_not_supported",
        ),
        (
            format!("{good}&request_uri=urn%3Aexample"),
            "request_uri_not_supported",
        ),
        (
            authorization_query("test-no-code", REDIRECT_URI, &pkce, &[]),
            "unauthorized_client",
        ),
    ];
    for (query, error) in cases {
        let reply = authorize(Location::A, &query).await;
        assert!(
            [302, 303].contains(&reply.status.as_u16()),
            "{query}: {}",
            reply.status
        );
        let location = url::Url::parse(reply.header("Location").expect("a redirect")).unwrap();
        assert_eq!(
            format!(
                "{}://{}{}",
                location.scheme(),
                location.host_str().unwrap(),
                location.path()
            ),
            REDIRECT_URI
        );
        assert_eq!(
            query_param(&location, "error").as_deref(),
            Some(error),
            "{query}"
        );
        assert_eq!(
            query_param(&location, "state").as_deref(),
            Some(pkce.state.as_str())
        );
        assert_eq!(
            query_param(&location, "iss").as_deref(),
            Some(Location::A.base_url())
        );
        assert_eq!(query_param(&location, "code"), None);
    }
    // A POSTed request is checked the same way.
    let posted = Call::new(Method::POST, "/oauth/authorize")
        .raw_body(
            Some("application/x-www-form-urlencoded"),
            good.replace("response_type=code", "response_type=token"),
        )
        .send()
        .await;
    assert_eq!(posted.status.as_u16(), 303);
}

#[tokio::test]
async fn the_authorization_page_carries_its_handle_and_a_browser_gets_a_code_for_the_app() {
    let pkce = Pkce::new();
    let query = authorization_query(CONFIDENTIAL, "http://127.0.0.1:51234/callback", &pkce, &[]);
    let page = authorize(Location::A, &query).await;
    let data = authorization_data(&page);
    assert_eq!(data.client_name, "Test app");
    assert!(data.login_required_redirect.is_none());
    assert!(
        qrgate_tests::first_code(&page).is_none(),
        "no code for a program"
    );
    // A browser loading the page gets its first code, made for the app.
    let pc = Device::pc();
    let navigation = qrgate_tests::page_load_call(&pc);
    let loaded = Call::to(
        Location::A,
        Method::GET,
        &format!("/oauth/authorize?{query}"),
    )
    .header("Sec-Fetch-Mode", "navigate")
    .header("Sec-Fetch-Dest", "document")
    .header("CF-Connecting-IP", &pc.address)
    .send()
    .await;
    drop(navigation);
    assert!(
        loaded
            .text()
            .contains("Sign in to Test app with your phone")
    );
    let first = qrgate_tests::first_code(&loaded).expect("the page's first code");
    let (phone, session) = phone_at(Location::B).await;
    let shown = qrgate_tests::scan(&phone, &session.token, &first.qr_id).await;
    let client = shown.client.expect("the app");
    assert_eq!(client.client_id, CONFIDENTIAL);
    assert_eq!(
        client.redirect_origin, "http://127.0.0.1:51234",
        "the loopback port the app asked"
    );
    assert_eq!(
        shown.scope.as_deref(),
        Some(&["openid".to_owned(), "profile".to_owned()][..])
    );
}

#[tokio::test]
async fn a_stale_or_forged_handle_makes_no_code() {
    let pc = Device::pc();
    for handle in ["", "nonsense", "eyJ9.AAAA"] {
        pc.call(Method::POST, "/api/qr")
            .json(&json!({ "authorization": handle }))
            .fails(400, qrgate_protocol::ErrorCode::InvalidRequest)
            .await;
    }
}

#[tokio::test]
async fn the_token_endpoint_refuses_each_bad_request_with_its_error() {
    let (phone, session) = phone_at(Location::B).await;
    let pkce = Pkce::new();
    let code = code_for(CONFIDENTIAL, REDIRECT_URI, &pkce, &phone, &session).await;
    let good = code_form(&code, &pkce, REDIRECT_URI);
    let token = |body: &str| token_call(Location::A, "/oauth/token", CONFIDENTIAL, body);
    // Not a form, too large, repeated.
    let json_body =
        Call::new(Method::POST, "/oauth/token").raw_body(Some("application/json"), "{}");
    assert_oauth_error(&json_body.send().await, 400, "invalid_request");
    let large = format!("{good}&pad={}", "x".repeat(9000));
    assert_oauth_error(&token(&large).send().await, 400, "invalid_request");
    assert_oauth_error(
        &token(&format!("{good}&grant_type=authorization_code"))
            .send()
            .await,
        400,
        "invalid_request",
    );
    assert_oauth_error(&token("code=x").send().await, 400, "invalid_request");
    assert_oauth_error(
        &token("grant_type=password&username=a&password=b")
            .send()
            .await,
        400,
        "unsupported_grant_type",
    );
    // Client authentication.
    let unknown = Call::new(Method::POST, "/oauth/token").raw_body(
        Some("application/x-www-form-urlencoded"),
        format!("{good}&client_id=nobody"),
    );
    assert_oauth_error(&unknown.send().await, 401, "invalid_client");
    let wrong_basic = Call::new(Method::POST, "/oauth/token")
        .header("Authorization", "Basic dGVzdC1jb25maWRlbnRpYWw6d3Jvbmc=")
        .raw_body(Some("application/x-www-form-urlencoded"), good.clone());
    let refused = wrong_basic.send().await;
    assert_oauth_error(&refused, 401, "invalid_client");
    assert!(
        refused
            .header("WWW-Authenticate")
            .is_some_and(|c| c.starts_with("Basic"))
    );
    let wrong_post = Call::new(Method::POST, "/oauth/token").raw_body(
        Some("application/x-www-form-urlencoded"),
        format!("{good}&client_id={CONFIDENTIAL}&client_secret=wrong"),
    );
    let refused = wrong_post.send().await;
    assert_oauth_error(&refused, 401, "invalid_client");
    assert_eq!(refused.header("WWW-Authenticate"), None);
    let no_secret = Call::new(Method::POST, "/oauth/token").raw_body(
        Some("application/x-www-form-urlencoded"),
        format!("{good}&client_id={CONFIDENTIAL}"),
    );
    assert_oauth_error(&no_secret.send().await, 401, "invalid_client");
    let public_with_secret = Call::new(Method::POST, "/oauth/token").raw_body(
        Some("application/x-www-form-urlencoded"),
        format!("{good}&client_id={PUBLIC}&client_secret=anything"),
    );
    assert_oauth_error(&public_with_secret.send().await, 401, "invalid_client");
    let both = token(&format!("{good}&client_secret=again"));
    assert_oauth_error(&both.send().await, 400, "invalid_request");
    // The code's own checks; none of them uses the code up.
    let verifier_missing = form(&[("grant_type", "authorization_code"), ("code", &code)]);
    assert_oauth_error(
        &token(&verifier_missing).send().await,
        400,
        "invalid_request",
    );
    let wrong_verifier = good.replace(&pkce.verifier, &Pkce::new().verifier);
    assert_oauth_error(&token(&wrong_verifier).send().await, 400, "invalid_grant");
    let short_verifier = good.replace(&pkce.verifier, "short");
    assert_oauth_error(&token(&short_verifier).send().await, 400, "invalid_grant");
    let other_uri = good.replace("client.example%2Fcb", "client.example%2Fother");
    assert_oauth_error(&token(&other_uri).send().await, 400, "invalid_grant");
    let other_client = token_call(Location::A, "/oauth/token", "test-rs256", &good);
    assert_oauth_error(&other_client.send().await, 400, "invalid_grant");
    let garbage = good.replace(&code, "not-a-code");
    assert_oauth_error(&token(&garbage).send().await, 400, "invalid_grant");
    let malformed_proof = token(&good).header("DPoP", "not.a.proof");
    assert_oauth_error(&malformed_proof.send().await, 400, "invalid_dpop_proof");
    // The code still works after all that, once.
    let answer = token(&good).send().await;
    assert_eq!(answer.status.as_u16(), 200, "{}", answer.text());
    assert_eq!(answer.header("Cache-Control"), Some("no-store"));
    assert_eq!(answer.header("Pragma"), Some("no-cache"));
    assert_oauth_error(&token(&good).send().await, 400, "invalid_grant");
}

#[tokio::test]
async fn a_code_redeemed_again_revokes_the_grant_it_made() {
    let (phone, session) = phone_at(Location::B).await;
    let pkce = Pkce::new();
    let code = code_for(CONFIDENTIAL, REDIRECT_URI, &pkce, &phone, &session).await;
    let form = code_form(&code, &pkce, REDIRECT_URI);
    let first: Value = token_call(Location::A, "/oauth/token", CONFIDENTIAL, &form)
        .send()
        .await
        .expect(200);
    let again = token_call(Location::B, "/oauth/token", CONFIDENTIAL, &form)
        .send()
        .await;
    assert_oauth_error(&again, 400, "invalid_grant");
    // From that moment, everywhere: the refresh token and the access token are dead.
    let refresh = refresh_form(&field(&first, "refresh_token"));
    let refused = token_call(Location::B, "/oauth/token", CONFIDENTIAL, &refresh)
        .send()
        .await;
    assert_oauth_error(&refused, 400, "invalid_grant");
    let userinfo = userinfo_call(Location::A, &field(&first, "access_token"))
        .send()
        .await;
    assert_oauth_error(&userinfo, 401, "invalid_token");
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let (phone, session) = phone_at(Location::B).await;
    let pkce = Pkce::new();
    let code = code_for(CONFIDENTIAL, REDIRECT_URI, &pkce, &phone, &session).await;
    // The code lives 60 s (the other tests run meanwhile).
    tokio::time::sleep(std::time::Duration::from_secs(61)).await;
    let late = token_call(
        Location::A,
        "/oauth/token",
        CONFIDENTIAL,
        &code_form(&code, &pkce, REDIRECT_URI),
    );
    assert_oauth_error(&late.send().await, 400, "invalid_grant");
}

/// 16 requests at once, half through each location, each on its own connection.
async fn race(form: &str) -> Vec<Reply> {
    join_all((0..16).map(|i| {
        let location = if i % 2 == 0 { Location::A } else { Location::B };
        token_call(location, "/oauth/token", CONFIDENTIAL, form).send()
    }))
    .await
}

#[tokio::test]
async fn sixteen_redemptions_of_one_code_at_two_locations_give_exactly_one_token() {
    for _round in 0..3 {
        let (phone, session) = phone_at(Location::B).await;
        let pkce = Pkce::new();
        let code = code_for(CONFIDENTIAL, REDIRECT_URI, &pkce, &phone, &session).await;
        let replies = race(&code_form(&code, &pkce, REDIRECT_URI)).await;
        let winners: Vec<&Reply> = replies
            .iter()
            .filter(|r| r.status.as_u16() == 200)
            .collect();
        assert_eq!(winners.len(), 1, "exactly one redemption");
        for reply in replies.iter().filter(|r| r.status.as_u16() != 200) {
            assert_oauth_error(reply, 400, "invalid_grant");
        }
        // The replays revoked the grant the winner got.
        let won: Value = serde_json::from_slice(&winners[0].body).unwrap();
        let refresh = refresh_form(&field(&won, "refresh_token"));
        let refused = token_call(Location::A, "/oauth/token", CONFIDENTIAL, &refresh)
            .send()
            .await;
        assert_oauth_error(&refused, 400, "invalid_grant");
    }
}

#[tokio::test]
async fn sixteen_uses_of_one_refresh_token_at_two_locations_rotate_it_once_and_revoke_the_grant() {
    let (phone, session) = phone_at(Location::B).await;
    let first = tokens(&phone, &session).await;
    let replies = race(&refresh_form(&field(&first, "refresh_token"))).await;
    let winners: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status.as_u16() == 200)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one rotation");
    for reply in replies.iter().filter(|r| r.status.as_u16() != 200) {
        assert_oauth_error(reply, 400, "invalid_grant");
    }
    let rotated: Value = serde_json::from_slice(&winners[0].body).unwrap();
    let next = refresh_form(&field(&rotated, "refresh_token"));
    let refused = token_call(Location::B, "/oauth/token", CONFIDENTIAL, &next)
        .send()
        .await;
    assert_oauth_error(&refused, 400, "invalid_grant");
}

#[tokio::test]
async fn a_revocation_at_one_location_holds_at_the_other_at_once() {
    let (phone, session) = phone_at(Location::B).await;
    let issued = tokens(&phone, &session).await;
    let refresh_token = field(&issued, "refresh_token");
    let access_token = field(&issued, "access_token");
    userinfo_call(Location::B, &access_token)
        .send()
        .await
        .expect::<Value>(200);
    let revoke = form(&[("token", &refresh_token)]);
    let revoked = token_call(Location::A, "/oauth/revoke", CONFIDENTIAL, &revoke)
        .send()
        .await;
    assert_eq!(revoked.status.as_u16(), 200);
    let refused = token_call(
        Location::B,
        "/oauth/token",
        CONFIDENTIAL,
        &refresh_form(&refresh_token),
    )
    .send()
    .await;
    assert_oauth_error(&refused, 400, "invalid_grant");
    let userinfo = userinfo_call(Location::B, &access_token).send().await;
    assert_oauth_error(&userinfo, 401, "invalid_token");
    assert_eq!(
        userinfo.header("WWW-Authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );
    // Revoking again, or an unknown token: 200 and nothing else (RFC 7009).
    for token in [refresh_token.as_str(), "nonsense", "a.b.c"] {
        let again = token_call(
            Location::B,
            "/oauth/revoke",
            CONFIDENTIAL,
            &form(&[("token", token)]),
        )
        .send()
        .await;
        assert_eq!(again.status.as_u16(), 200, "{}", again.text());
    }
}

#[tokio::test]
async fn a_client_cannot_revoke_another_clients_access_token() {
    let (phone, session) = phone_at(Location::B).await;
    let issued = tokens(&phone, &session).await;
    let access_token = field(&issued, "access_token");
    let foreign = token_call(
        Location::A,
        "/oauth/revoke",
        "test-rs256",
        &form(&[("token", &access_token)]),
    )
    .send()
    .await;
    assert_oauth_error(&foreign, 400, "unauthorized_client");
    userinfo_call(Location::A, &access_token)
        .send()
        .await
        .expect::<Value>(200);
    let missing = token_call(
        Location::A,
        "/oauth/revoke",
        CONFIDENTIAL,
        "token_type_hint=refresh_token",
    )
    .send()
    .await;
    assert_oauth_error(&missing, 400, "invalid_request");
}

/// `claims` signed as the provider signs, with its own ES256 key, and `header`.
fn forged(header: Value, claims: &Value) -> String {
    let es256 = signing_keys()
        .into_iter()
        .find(|k| k["alg"] == "ES256")
        .expect("an ES256 key");
    Key::from_jwk(&es256).sign(&header, claims)
}

fn genuine_header() -> Value {
    let es256 = signing_keys()
        .into_iter()
        .find(|k| k["alg"] == "ES256")
        .expect("an ES256 key");
    json!({"alg": "ES256", "typ": "at+jwt", "kid": es256["kid"]})
}

#[tokio::test]
async fn userinfo_refuses_every_token_it_did_not_issue_as_it_is() {
    let (phone, session) = phone_at(Location::B).await;
    let issued = tokens(&phone, &session).await;
    let access_token = field(&issued, "access_token");
    let claims: Value = {
        let part = access_token.split('.').nth(1).unwrap();
        use base64::Engine;
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .unwrap(),
        )
        .unwrap()
    };
    let b64 = |value: &Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    };
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = claims.clone();
        change(&mut claims);
        claims
    };
    let (header_part, claims_part, _) = {
        let mut parts = access_token.split('.');
        (
            parts.next().unwrap().to_owned(),
            parts.next().unwrap().to_owned(),
            parts.next().unwrap().to_owned(),
        )
    };
    // The public key as an HMAC secret: the classic confusion of `alg`.
    let es256 = signing_keys()
        .into_iter()
        .find(|k| k["alg"] == "ES256")
        .unwrap();
    let public = json!({"crv": "P-256", "kty": "EC", "x": es256["x"], "y": es256["y"]}).to_string();
    let hs256 = {
        let header = b64(&json!({"alg": "HS256", "typ": "at+jwt", "kid": es256["kid"]}));
        let input = format!("{header}.{claims_part}");
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(public.as_bytes()).unwrap();
        mac.update(input.as_bytes());
        use base64::Engine;
        format!(
            "{input}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    };
    let bad_tokens = [
        // A signature of another token.
        format!(
            "{header_part}.{}.{}",
            b64(&with(&|c| c["sub"] = "someone-else".into())),
            access_token.rsplit('.').next().unwrap()
        ),
        format!(
            "{}.{claims_part}.",
            b64(&json!({"alg": "none", "typ": "at+jwt"}))
        ),
        hs256,
        forged(
            genuine_header(),
            &with(&|c| c["exp"] = (now_seconds() - 1).into()),
        ),
        forged(
            genuine_header(),
            &with(&|c| c["iss"] = "https://other.example".into()),
        ),
        forged(
            json!({"alg": "ES256", "typ": "JWT", "kid": genuine_header()["kid"]}),
            &claims,
        ),
        forged(
            json!({"alg": "ES256", "typ": "at+jwt", "kid": "unknown"}),
            &claims,
        ),
        "not-a-token".into(),
        String::new(),
    ];
    for token in bad_tokens {
        let reply = userinfo_call(Location::A, &token).send().await;
        assert_oauth_error(&reply, 401, "invalid_token");
        assert!(
            reply
                .header("WWW-Authenticate")
                .is_some_and(|c| c.contains("invalid_token"))
        );
    }
    // A token forged with the real key for the real grant would pass: the key is the secret.
    let genuine = forged(genuine_header(), &claims);
    userinfo_call(Location::A, &genuine)
        .send()
        .await
        .expect::<Value>(200);
    // Presented in the wrong scheme: an unbound token as DPoP.
    let as_dpop = Call::new(Method::GET, "/oauth/userinfo")
        .header("Authorization", &format!("DPoP {access_token}"))
        .send()
        .await;
    assert_oauth_error(&as_dpop, 401, "invalid_token");
    let none = Call::new(Method::GET, "/oauth/userinfo").send().await;
    assert_oauth_error(&none, 401, "invalid_token");
}

#[tokio::test]
async fn a_dpop_bound_token_needs_its_proof_at_userinfo() {
    let (phone, session) = phone_at(Location::B).await;
    let pkce = Pkce::new();
    let code = code_for(PUBLIC, PUBLIC_REDIRECT_URI, &pkce, &phone, &session).await;
    let key = Key::new();
    let token_url = format!("{}/oauth/token", Location::A.base_url());
    let body = format!(
        "{}&client_id={PUBLIC}",
        code_form(&code, &pkce, PUBLIC_REDIRECT_URI)
    );
    let issued: Value = Call::new(Method::POST, "/oauth/token")
        .header("DPoP", &key.proof("POST", &token_url, None))
        .raw_body(Some("application/x-www-form-urlencoded"), body)
        .send()
        .await
        .expect(200);
    assert_eq!(issued["token_type"], "DPoP");
    let access_token = qrgate_protocol::Secret::new(field(&issued, "access_token"));
    let as_bearer = Call::new(Method::GET, "/oauth/userinfo")
        .bearer(&access_token)
        .send()
        .await;
    assert_oauth_error(&as_bearer, 401, "invalid_token");
    let other_key = Call::new(Method::GET, "/oauth/userinfo")
        .dpop(&Key::new(), &access_token)
        .send()
        .await;
    assert_oauth_error(&other_key, 401, "invalid_dpop_proof");
    assert!(
        other_key
            .header("WWW-Authenticate")
            .is_some_and(|c| c.starts_with("DPoP"))
    );
    let at_b = Call::to(Location::B, Method::GET, "/oauth/userinfo")
        .dpop(&key, &access_token)
        .send()
        .await;
    let info: Value = at_b.expect(200);
    assert_eq!(info["sub"], session.account.account_id);
}

#[tokio::test]
async fn single_sign_on_with_the_browsers_token_and_its_limits() {
    let phone = Device::phone();
    let username = unique_username("sso");
    register(&phone, &username).await;
    let session = login(&phone, &username).await;
    let pkce = Pkce::new();
    let sso = |extra: &[(&str, &str)]| {
        let query = authorization_query(CONFIDENTIAL, REDIRECT_URI, &pkce, extra);
        async move { authorization_data(&authorize(Location::A, &query).await).handle }
    };
    let handle = sso(&[]).await;
    let call = |handle: &str| {
        phone
            .call(Method::POST, "/api/authorizations")
            .bearer(&session.token)
            .json(&json!({ "authorization": handle }))
    };
    let answer: RedirectTo = call(&handle).send().await.expect(200);
    let redirect = url::Url::parse(&answer.redirect_to).unwrap();
    let code = query_param(&redirect, "code").expect("a code");
    let issued: Value = token_call(
        Location::A,
        "/oauth/token",
        CONFIDENTIAL,
        &code_form(&code, &pkce, REDIRECT_URI),
    )
    .send()
    .await
    .expect(200);
    let id_token = field(&issued, "id_token");
    let claims: Value = {
        use base64::Engine;
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(id_token.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(
        claims["amr"],
        json!(["pwd"]),
        "the token's own way of signing in"
    );
    assert_eq!(claims["auth_time"], json!(session.expires_at - 2_592_000));
    // A fresh sign-in asked for: prompt=login, or a max_age the token is older than.
    for extra in [&[("prompt", "login")][..], &[("max_age", "0")][..]] {
        let handle = sso(extra).await;
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        call(&handle)
            .fails(403, qrgate_protocol::ErrorCode::Forbidden)
            .await;
    }
    // No token, a bad handle.
    phone
        .call(Method::POST, "/api/authorizations")
        .json(&json!({ "authorization": handle }))
        .fails(401, qrgate_protocol::ErrorCode::Unauthorized)
        .await;
    call("forged.handle")
        .fails(400, qrgate_protocol::ErrorCode::InvalidRequest)
        .await;
    // prompt=none tells the page where to go without a token.
    let none = authorization_data(
        &authorize(
            Location::A,
            &authorization_query(CONFIDENTIAL, REDIRECT_URI, &pkce, &[("prompt", "none")]),
        )
        .await,
    );
    let login_required =
        url::Url::parse(&none.login_required_redirect.expect("the error redirect")).unwrap();
    assert_eq!(
        query_param(&login_required, "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(
        query_param(&login_required, "state").as_deref(),
        Some(pkce.state.as_str())
    );
}

#[tokio::test]
async fn connected_apps_are_listed_and_removed_at_once_everywhere() {
    let (phone, session) = phone_at(Location::B).await;
    let issued = tokens(&phone, &session).await;
    let list: GrantsResponse = phone
        .call(Method::GET, "/api/grants")
        .bearer(&session.token)
        .send()
        .await
        .expect(200);
    assert_eq!(list.grants.len(), 1);
    let grant = &list.grants[0];
    assert_eq!(
        (grant.client_id.as_str(), grant.client_name.as_str()),
        (CONFIDENTIAL, "Test app")
    );
    // The sign-in is in the history, with the app's name.
    let history: SignInsResponse = phone
        .call(Method::GET, "/api/sign-ins")
        .bearer(&session.token)
        .send()
        .await
        .expect(200);
    let app_sign_in = &history.sign_ins[0];
    assert_eq!(app_sign_in.client_name.as_deref(), Some("Test app"));
    assert_eq!(app_sign_in.device_type, DeviceType::Pc);
    // Another account cannot remove it; a malformed id is a 400.
    let (stranger, stranger_session) = phone_at(Location::A).await;
    let path = format!("/api/grants/{}", grant.grant_id);
    stranger
        .call(Method::DELETE, &path)
        .bearer(&stranger_session.token)
        .fails(404, qrgate_protocol::ErrorCode::NotFound)
        .await;
    phone
        .call(Method::DELETE, "/api/grants/NOT-HEX")
        .bearer(&session.token)
        .fails(400, qrgate_protocol::ErrorCode::InvalidRequest)
        .await;
    // Removed at B: refused at A at once.
    phone
        .call(Method::DELETE, &path)
        .bearer(&session.token)
        .send()
        .await
        .expect_empty(204);
    let userinfo = userinfo_call(Location::A, &field(&issued, "access_token"))
        .send()
        .await;
    assert_oauth_error(&userinfo, 401, "invalid_token");
    let refresh = token_call(
        Location::A,
        "/oauth/token",
        CONFIDENTIAL,
        &refresh_form(&field(&issued, "refresh_token")),
    )
    .send()
    .await;
    assert_oauth_error(&refresh, 400, "invalid_grant");
    let list: GrantsResponse = phone
        .call(Method::GET, "/api/grants")
        .bearer(&session.token)
        .send()
        .await
        .expect(200);
    assert!(list.grants.is_empty());
    phone
        .call(Method::DELETE, &path)
        .bearer(&session.token)
        .fails(404, qrgate_protocol::ErrorCode::NotFound)
        .await;
}

#[tokio::test]
async fn discovery_and_the_jwks_answer_any_origin() {
    let discovery: Value = Call::new(Method::GET, "/.well-known/openid-configuration")
        .send()
        .await
        .expect(200);
    assert_eq!(discovery["issuer"], Location::A.base_url());
    let jwks = Call::new(Method::GET, "/oauth/jwks").send().await;
    assert_eq!(jwks.header("Access-Control-Allow-Origin"), Some("*"));
    let keys: Value = jwks.expect(200);
    for key in keys["keys"].as_array().unwrap() {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(key.get(private).is_none(), "{key}");
        }
    }
    let preflight = Call::new(Method::OPTIONS, "/oauth/token")
        .header("Origin", "https://spa.example")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "dpop")
        .send()
        .await;
    assert_eq!(preflight.status.as_u16(), 204);
    assert_eq!(preflight.header("Access-Control-Allow-Origin"), Some("*"));
    assert!(
        preflight
            .header("Access-Control-Allow-Headers")
            .is_some_and(|h| h.contains("DPoP"))
    );
}

/// A setting of the two misconfigured edges of `scripts/test.sh`.
fn misconfigured(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| panic!("{variable}: run through scripts/test.sh"))
}

#[tokio::test]
async fn broken_provider_settings_fail_loudly_and_the_log_says_which_and_why() {
    let client = reqwest::Client::new();
    for (url, log, says) in [
        (
            "QRGATE_URL_BAD_CLIENTS",
            "QRGATE_LOG_BAD_CLIENTS",
            "OAUTH_CLIENTS entry 0: missing field `redirect_uris`",
        ),
        (
            "QRGATE_URL_BAD_KEYS",
            "QRGATE_LOG_BAD_KEYS",
            "OIDC_SIGNING_KEYS key 0 (kid \"k\"): \"x\" is missing",
        ),
    ] {
        let base = misconfigured(url);
        let requests = [
            client.get(format!("{base}/.well-known/openid-configuration")),
            client.get(format!("{base}/oauth/jwks")),
            client
                .post(format!("{base}/oauth/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("grant_type=refresh_token&refresh_token=x&client_id=broken"),
        ];
        for request in requests {
            let reply = request.send().await.expect("the edge answers");
            assert_eq!(reply.status().as_u16(), 500);
            let body: Value = reply.json().await.expect("a JSON error");
            assert_eq!(body["error"], "server_error");
            assert!(
                !body.to_string().contains("OAUTH_CLIENTS") && !body.to_string().contains("OIDC"),
                "{body}"
            );
        }
        // wrangler writes the worker's output to its log a moment after the answer.
        let log = misconfigured(log);
        let mut logged = false;
        for _ in 0..50 {
            logged = std::fs::read_to_string(&log).is_ok_and(|text| text.contains(says));
            if logged {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert!(logged, "the log names the entry and why: {says}");
    }
}

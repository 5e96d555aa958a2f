//! The provider's side of the integration tests (`tests/tests/oidc.rs`): the run's clients and
//! keys (`tests/oidc/config.mjs`, which `scripts/test.sh` writes to `QRGATE_OIDC_DIR`), an
//! authorization request as a client builds it, the person's approval on the phone through
//! qrgate's API, and the token endpoint's forms. Stock clients prove the happy paths
//! (`tests/oidc/*.test.mjs`, `tests/oidc/test_authlib.py`); these tests go where a stock client
//! never would: every refusal, races at two locations, forged tokens.

use crate::{Call, Device, Location, Reply, decide_call, scan};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use qrgate_protocol::oauth::AuthorizationData;
use qrgate_protocol::oauth::device::DeviceAuthorizationResponse;
use qrgate_protocol::{CreateQrResponse, LoginSession, PollResponse, ScanResponse, Secret};
use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::OnceLock;

pub const CONFIDENTIAL: &str = "test-confidential";
pub const PUBLIC: &str = "test-public";
pub const REDIRECT_URI: &str = "https://client.example/cb";
pub const PUBLIC_REDIRECT_URI: &str = "http://localhost/spa";

fn oidc_dir() -> std::path::PathBuf {
    std::env::var_os("QRGATE_OIDC_DIR")
        .expect("QRGATE_OIDC_DIR is not set: run these tests through scripts/test.sh")
        .into()
}

fn read_json(name: &str) -> Value {
    let text = std::fs::read_to_string(oidc_dir().join(name)).expect("the run's provider settings");
    serde_json::from_str(&text).expect("JSON")
}

/// A confidential client's secret.
pub fn secret_of(client_id: &str) -> String {
    static SECRETS: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    SECRETS
        .get_or_init(|| serde_json::from_value(read_json("secrets.json")).expect("secrets"))
        .get(client_id)
        .cloned()
        .unwrap_or_else(|| panic!("no secret for {client_id}"))
}

/// The run's signing keys, private members included (to forge tokens with the real key).
pub fn signing_keys() -> Vec<Value> {
    read_json("keys.json")["keys"]
        .as_array()
        .cloned()
        .expect("a key set")
}

/// What a client keeps for one authorization request: its verifier, state and nonce.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
    pub state: String,
    pub nonce: String,
}

impl Pkce {
    pub fn new() -> Self {
        let verifier = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Self {
            verifier,
            challenge,
            state: uuid::Uuid::new_v4().to_string(),
            nonce: uuid::Uuid::new_v4().to_string(),
        }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Self::new()
    }
}

/// `key=value&...`, form-encoded.
pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// The query of an authorization request of `client_id` for `redirect_uri`, with `extra`.
pub fn authorization_query(
    client_id: &str,
    redirect_uri: &str,
    pkce: &Pkce,
    extra: &[(&str, &str)],
) -> String {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", "openid profile"),
        ("state", pkce.state.as_str()),
        ("nonce", pkce.nonce.as_str()),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    pairs.extend_from_slice(extra);
    form(&pairs)
}

/// `GET /oauth/authorize?query` at `location`, as a program (no browser) asks it.
pub async fn authorize(location: Location, query: &str) -> Reply {
    Call::to(location, Method::GET, &format!("/oauth/authorize?{query}"))
        .send()
        .await
}

/// The data block of an authorization page.
pub fn authorization_data(page: &Reply) -> AuthorizationData {
    assert_eq!(page.status.as_u16(), 200, "{}", page.text());
    let html = page.text();
    let opening = r#"<script type="application/json" id="qrgate-authorization">"#;
    let start = html.find(opening).expect("the data block") + opening.len();
    let end = start + html[start..].find("</script>").expect("its end");
    serde_json::from_str(&html[start..end]).expect("the data block's JSON")
}

/// A code for `handle` on `pc`.
pub async fn create_app_qr(pc: &Device, handle: &str) -> CreateQrResponse {
    pc.call(Method::POST, "/api/qr")
        .json(&serde_json::json!({ "authorization": handle }))
        .send()
        .await
        .expect(201)
}

/// The person approves (or denies) an authorization request on the phone: the PC makes a code
/// for the page's handle, the phone scans and decides, and the PC's poll hands over the
/// redirect. What the phone was shown, and the redirect.
pub async fn approve(
    query: &str,
    phone: &Device,
    phone_session: &LoginSession,
    step: &str,
) -> (ScanResponse, url::Url) {
    let data = authorization_data(&authorize(Location::A, query).await);
    let pc = Device::pc();
    let qr = create_app_qr(&pc, &data.handle).await;
    let shown = scan(phone, &phone_session.token, &qr.qr_id).await;
    decide_call(
        phone,
        &phone_session.token,
        &qr.qr_id,
        step,
        &shown.scan_token,
    )
    .send()
    .await
    .expect_empty(204);
    let polled: PollResponse = crate::poll_call(&pc, &qr).send().await.expect(200);
    assert!(polled.session.is_none(), "no qrgate sign-in for an app");
    let redirect = polled.authorization.expect("the redirect back to the app");
    (
        shown,
        url::Url::parse(&redirect.redirect_to).expect("an absolute URL"),
    )
}

/// The value of `name` in a URL's query.
pub fn query_param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// A code for `client_id`, approved on `phone` (a new sign-in each time).
pub async fn code_for(
    client_id: &str,
    redirect_uri: &str,
    pkce: &Pkce,
    phone: &Device,
    phone_session: &LoginSession,
) -> String {
    let query = authorization_query(client_id, redirect_uri, pkce, &[]);
    let (_, redirect) = approve(&query, phone, phone_session, "confirm").await;
    query_param(&redirect, "code").expect("a code")
}

/// `POST /oauth/token` (or another endpoint at `path`) with `body` as a form at `location`,
/// authenticating the confidential client with Basic.
pub fn token_call(location: Location, path: &str, client_id: &str, body: &str) -> Call {
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{client_id}:{}", secret_of(client_id)));
    Call::to(location, Method::POST, path)
        .header("Authorization", &format!("Basic {basic}"))
        .raw_body(Some("application/x-www-form-urlencoded"), body.to_owned())
}

/// The form that redeems `code`.
pub fn code_form(code: &str, pkce: &Pkce, redirect_uri: &str) -> String {
    form(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("code_verifier", &pkce.verifier),
        ("redirect_uri", redirect_uri),
    ])
}

/// The form that rotates `refresh_token`.
pub fn refresh_form(refresh_token: &str) -> String {
    form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ])
}

/// `GET /oauth/userinfo` at `location` with an access token as `Bearer`.
pub fn userinfo_call(location: Location, access_token: &str) -> Call {
    Call::to(location, Method::GET, "/oauth/userinfo").bearer(&Secret::new(access_token))
}

/// A token answer's field.
pub fn field(answer: &Value, name: &str) -> String {
    answer[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {answer}"))
        .to_owned()
}

/// The public device client every local edge registers (the `qrgate` CLI's).
pub const CLI: &str = "qrgate-cli";
/// A confidential device client (a TV app with a secret).
pub const TV: &str = "test-tv";
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// `POST /oauth/device_authorization` at `location` for the public `client_id`, with `scope`,
/// from a device of its own: its own address, as the edge limits sessions per address.
pub fn device_authorization_call(location: Location, client_id: &str, scope: &str) -> Call {
    let device = Device::new(qrgate_protocol::DeviceType::Pc);
    Call::to(location, Method::POST, "/oauth/device_authorization")
        .header("CF-Connecting-IP", &device.address)
        .raw_body(
            Some("application/x-www-form-urlencoded"),
            form(&[("client_id", client_id), ("scope", scope)]),
        )
}

/// A device authorization of the CLI at `location`, for `openid profile`.
pub async fn authorize_device(location: Location) -> DeviceAuthorizationResponse {
    device_authorization_call(location, CLI, "openid profile")
        .send()
        .await
        .expect(200)
}

/// The QR id of a device authorization: the last segment of `verification_uri_complete`.
pub fn device_qr_id(authorization: &DeviceAuthorizationResponse) -> String {
    let complete = &authorization.verification_uri_complete;
    complete.rsplit('/').next().expect("a path").to_owned()
}

/// The device's poll at `location`, as the public `client_id`.
pub fn device_poll_call(location: Location, client_id: &str, device_code: &str) -> Call {
    Call::to(location, Method::POST, "/oauth/token").raw_body(
        Some("application/x-www-form-urlencoded"),
        form(&[
            ("grant_type", DEVICE_CODE_GRANT),
            ("device_code", device_code),
            ("client_id", client_id),
        ]),
    )
}

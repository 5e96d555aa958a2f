//! A small client for the qrgate API, for integration tests against a live `wrangler dev`.
//!
//! `scripts/test.sh` starts `wrangler dev` with short lifetimes and exports `QRGATE_URL`; the
//! tests speak the API through the shared wire types of `qrgate-protocol`. Every simulated
//! device gets its own client address (`CF-Connecting-IP`, which local dev passes through), so
//! per-address limits never couple two tests.
//!
//! Deployed, a PC and a phone usually reach different Cloudflare locations, which share the
//! session objects but not KV. `scripts/test.sh` reproduces that with a second `wrangler dev`,
//! location B (`QRGATE_URL_B`), whose Durable Object binding reaches location A's objects while
//! its KV is its own: a [`Device`] is placed at one [`Location`] and stays there.

pub mod audit;
pub mod dpop;
pub mod live;
pub mod oidc;
pub mod passkey;

use qrgate_protocol::{
    Account, CreateAccountRequest, CreateQrResponse, DEVICE_ID_HEADER, DEVICE_TYPE_HEADER,
    DPOP_HEADER, DecisionRequest, DeviceType, ErrorBody, ErrorCode, FIRST_CODE_ELEMENT_ID,
    LoginRequest, LoginSession, MeResponse, PollResponse, QrStatus, ScanResponse, Secret,
    TokenType,
};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::OnceLock;

/// The QR lifetime `scripts/test.sh` gives `wrangler dev`.
pub const TEST_QR_TTL_SECONDS: u64 = 3;
/// The device authorizations' lifetime `scripts/test.sh` gives `wrangler dev`.
pub const TEST_DEVICE_CODE_TTL_SECONDS: u64 = 30;
/// The per-address login failure limit `scripts/test.sh` gives `wrangler dev`.
pub const TEST_LOGIN_FAILURES_PER_ADDRESS: usize = 20;
pub const PASSWORD: &str = "correct horse battery";

/// The edge location a device's requests reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// `QRGATE_URL`: the location that runs the session objects.
    A,
    /// `QRGATE_URL_B`: another location, with its own KV, reaching A's session objects.
    B,
    /// `QRGATE_URL_STRICT`: an edge with `REQUIRE_DPOP = "1"`, which issues only key-bound
    /// tokens.
    Strict,
}

impl Location {
    pub fn base_url(self) -> &'static str {
        static A: OnceLock<String> = OnceLock::new();
        static B: OnceLock<String> = OnceLock::new();
        static STRICT: OnceLock<String> = OnceLock::new();
        let (cell, variable) = match self {
            Self::A => (&A, "QRGATE_URL"),
            Self::B => (&B, "QRGATE_URL_B"),
            Self::Strict => (&STRICT, "QRGATE_URL_STRICT"),
        };
        cell.get_or_init(|| {
            std::env::var(variable).unwrap_or_else(|_| {
                panic!("{variable} is not set: run these tests through scripts/test.sh")
            })
        })
    }
}

/// Location A's URL, where devices are unless placed elsewhere.
pub fn base_url() -> &'static str {
    Location::A.base_url()
}

/// One client for every test. Each `#[tokio::test]` runs its own runtime, and a pooled
/// connection dies with the runtime that opened it, so connections are not kept idle.
fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            // A redirect is an answer to check, not to follow (the provider's go to clients).
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a plain HTTP client builds")
    })
}

/// A random name that fits the username rules.
pub fn unique_username(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..12])
}

/// A client device: its id, type, the address its requests come from and the edge location
/// they reach.
#[derive(Debug, Clone)]
pub struct Device {
    pub id: String,
    pub device_type: DeviceType,
    pub address: String,
    pub location: Location,
}

impl Device {
    pub fn new(device_type: DeviceType) -> Self {
        let bytes = uuid::Uuid::new_v4().into_bytes();
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            device_type,
            address: format!("10.{}.{}.{}", bytes[0], bytes[1], bytes[2]),
            location: Location::A,
        }
    }

    /// The same device, reaching another edge location.
    pub fn at(self, location: Location) -> Self {
        Self { location, ..self }
    }

    pub fn pc() -> Self {
        Self::new(DeviceType::Pc)
    }

    pub fn phone() -> Self {
        Self::new(DeviceType::Ios)
    }

    /// A request from this device, to its location.
    pub fn call(&self, method: Method, path: &str) -> Call {
        let call = Call::to(self.location, method, path);
        self.headers()
            .into_iter()
            .fold(call, |call, (name, value)| call.header(name, &value))
    }

    /// The headers every request of this device carries: its id, its type and its address.
    pub fn headers(&self) -> [(&'static str, String); 3] {
        [
            (DEVICE_ID_HEADER, self.id.clone()),
            (DEVICE_TYPE_HEADER, self.device_type.as_str().to_owned()),
            ("CF-Connecting-IP", self.address.clone()),
        ]
    }
}

/// The `Authorization` value that presents `secret`.
pub fn bearer_value(secret: &Secret) -> String {
    format!("Bearer {}", secret.expose())
}

/// One request, built up and then sent.
pub struct Call {
    request: reqwest::RequestBuilder,
    method: Method,
    /// The absolute URL, which a DPoP proof names.
    url: String,
}

impl Call {
    /// A request with no device headers at all, to location A.
    pub fn new(method: Method, path: &str) -> Self {
        Self::to(Location::A, method, path)
    }

    /// A request with no device headers at all, to `location`.
    pub fn to(location: Location, method: Method, path: &str) -> Self {
        let url = format!("{}{path}", location.base_url());
        Self {
            request: http().request(method.clone(), &url),
            method,
            url,
        }
    }

    pub fn method(&self) -> &str {
        self.method.as_str()
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn with(self, change: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder) -> Self {
        Self {
            request: change(self.request),
            ..self
        }
    }

    pub fn header(self, name: &str, value: &str) -> Self {
        self.with(|request| request.header(name, value))
    }

    pub fn bearer(self, secret: &Secret) -> Self {
        self.header("Authorization", &bearer_value(secret))
    }

    /// A key-bound token: `Authorization: DPoP <token>` with a fresh proof by `key` for this
    /// request and token.
    pub fn dpop(self, key: &dpop::Key, token: &Secret) -> Self {
        let proof = key.proof(self.method(), self.url(), Some(token));
        self.header("Authorization", &format!("DPoP {}", token.expose()))
            .header(DPOP_HEADER, &proof)
    }

    /// A fresh proof by `key` for this request, with no token: a sign-in, or a poll secret's.
    pub fn proof(self, key: &dpop::Key) -> Self {
        let proof = key.proof(self.method(), self.url(), None);
        self.header(DPOP_HEADER, &proof)
    }

    pub fn json<T: Serialize>(self, body: &T) -> Self {
        self.with(|request| request.json(body))
    }

    pub fn raw_body(self, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Self {
        self.with(|request| {
            let request = match content_type {
                Some(content_type) => request.header("Content-Type", content_type),
                None => request,
            };
            request.body(body.into())
        })
    }

    /// Sends and expects the contract's error with this status and code.
    pub async fn fails(self, status: u16, code: ErrorCode) -> ErrorBody {
        self.send().await.expect_error(status, code)
    }

    pub async fn send(self) -> Reply {
        let response = self.request.send().await.expect("wrangler dev answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("body").to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as `T`, after checking the status.
    pub fn expect<T: DeserializeOwned>(&self, status: u16) -> T {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: the body does not fit: {}", self.text()))
    }

    /// An empty success, e.g. `204`.
    pub fn expect_empty(&self, status: u16) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        assert!(self.body.is_empty(), "unexpected body: {}", self.text());
    }

    /// The contract's error shape with this status and code; returns the body for more checks.
    pub fn expect_error(&self, status: u16, code: ErrorCode) -> ErrorBody {
        assert_eq!(
            self.header("Content-Type"),
            Some("application/json"),
            "{}",
            self.text()
        );
        let body: ErrorBody = self.expect(status);
        assert_eq!(body.error, code, "{}", self.text());
        let fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&self.body).expect("an object");
        assert_eq!(fields.len(), 2, "only error and message: {}", self.text());
        assert!(!body.message.is_empty());
        body
    }

    /// KV operations the request made, from the `X-Qrgate-Kv` header (`KV_COUNT_HEADER=1`).
    pub fn kv_ops(&self) -> KvOps {
        let mut ops = KvOps::default();
        for part in self.header("X-Qrgate-Kv").unwrap_or_default().split(',') {
            let Some((name, count)) = part.trim().split_once('=') else {
                continue;
            };
            let count: u32 = count.parse().unwrap_or(0);
            match name {
                "reads" => ops.reads += count,
                "writes" => ops.writes += count,
                "lists" => ops.lists += count,
                "deletes" => ops.deletes += count,
                _ => {}
            }
        }
        ops
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KvOps {
    pub reads: u32,
    pub writes: u32,
    pub lists: u32,
    pub deletes: u32,
}

impl std::ops::AddAssign for KvOps {
    fn add_assign(&mut self, other: Self) {
        self.reads += other.reads;
        self.writes += other.writes;
        self.lists += other.lists;
        self.deletes += other.deletes;
    }
}

/// Registers a fresh account and signs `device` in to it with its password.
pub async fn signed_in(device: &Device) -> LoginSession {
    let username = unique_username("user");
    register(device, &username).await;
    login(device, &username).await
}

pub async fn register(device: &Device, username: &str) -> Account {
    register_call(device, username).send().await.expect(201)
}

pub fn register_call(device: &Device, username: &str) -> Call {
    device
        .call(Method::POST, "/api/accounts")
        .json(&CreateAccountRequest {
            username: username.to_owned(),
            password: Secret::new(PASSWORD),
            display_name: None,
        })
}

pub async fn login(device: &Device, username: &str) -> LoginSession {
    login_call(device, username, PASSWORD)
        .send()
        .await
        .expect(201)
}

pub fn login_call(device: &Device, username: &str, password: &str) -> Call {
    device
        .call(Method::POST, "/api/sessions")
        .json(&LoginRequest {
            username: username.to_owned(),
            password: Secret::new(password),
            device_name: None,
        })
}

/// The user agent of the browser the tests load the PC page with.
pub const LINUX_CHROMIUM_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chromium/156.0.0.0 Chrome/156.0.0.0 Safari/537.36";

/// A browser on `pc` loading the PC page at `/`: a top-level navigation, the one request the
/// edge serves the page's first code to (`edge/README.md`, "The first code, served with the
/// page"). The page sends no device headers: it has not run yet.
pub fn page_load_call(pc: &Device) -> Call {
    Call::to(pc.location, Method::GET, "/")
        .header("Sec-Fetch-Mode", "navigate")
        .header("Sec-Fetch-Dest", "document")
        .header("User-Agent", LINUX_CHROMIUM_UA)
        .header("CF-Connecting-IP", &pc.address)
}

/// The JSON of the first code in the PC page's `html`, if the edge served it one.
pub fn first_code_json(html: &str) -> Option<&str> {
    let opening = format!("<script type=\"application/json\" id=\"{FIRST_CODE_ELEMENT_ID}\">");
    let start = html.find(&opening)? + opening.len();
    let length = html[start..].find("</script>")?;
    Some(&html[start..start + length])
}

/// The first code of a page load answered `200`, as the page reads it.
pub fn first_code(page: &Reply) -> Option<CreateQrResponse> {
    assert_eq!(page.status.as_u16(), 200, "the page is served");
    serde_json::from_str(first_code_json(&page.text())?).ok()
}

pub async fn create_qr(pc: &Device) -> CreateQrResponse {
    pc.call(Method::POST, "/api/qr").send().await.expect(201)
}

pub fn poll_call(pc: &Device, qr: &CreateQrResponse) -> Call {
    pc.call(Method::GET, &format!("/api/qr/{}", qr.qr_id))
        .bearer(&qr.poll_secret)
}

pub async fn poll(pc: &Device, qr: &CreateQrResponse) -> PollResponse {
    poll_call(pc, qr).send().await.expect(200)
}

pub fn scan_call(phone: &Device, token: &Secret, qr_id: &str) -> Call {
    phone
        .call(Method::POST, &format!("/api/qr/{qr_id}/scan"))
        .bearer(token)
}

pub async fn scan(phone: &Device, token: &Secret, qr_id: &str) -> ScanResponse {
    scan_call(phone, token, qr_id).send().await.expect(200)
}

/// `confirm` or `deny`.
pub fn decide_call(
    phone: &Device,
    token: &Secret,
    qr_id: &str,
    step: &str,
    scan_token: &Secret,
) -> Call {
    phone
        .call(Method::POST, &format!("/api/qr/{qr_id}/{step}"))
        .bearer(token)
        .json(&DecisionRequest {
            scan_token: scan_token.clone(),
            passkey: None,
        })
}

/// `confirm` or `deny`, which must succeed (`204`).
pub async fn decide(phone: &Device, token: &Secret, qr_id: &str, step: &str, scan_token: &Secret) {
    decide_call(phone, token, qr_id, step, scan_token)
        .send()
        .await
        .expect_empty(204);
}

/// The phone scans the session and confirms it: the PC may pick its token up.
pub async fn scan_and_confirm(phone: &Device, token: &Secret, qr_id: &str) {
    let scanned = scan(phone, token, qr_id).await;
    decide(phone, token, qr_id, "confirm", &scanned.scan_token).await;
}

/// `pc` signed in by QR by `phone`, signed in as `login`: the PC's token, picked up at `pc`'s
/// location (so it is in that location's KV only).
pub async fn qr_signed_in(pc: &Device, phone: &Device, login: &LoginSession) -> LoginSession {
    let qr = create_qr(pc).await;
    scan_and_confirm(phone, &login.token, &qr.qr_id).await;
    poll(pc, &qr)
        .await
        .session
        .expect("the confirmed session's pick-up carries the PC's token")
}

/// A phone signed in at `phone_at`, and a PC at `pc_at` that it signed in by QR: both with
/// their tokens.
pub async fn phone_and_qr_pc(
    phone_at: Location,
    pc_at: Location,
) -> (Device, LoginSession, Device, LoginSession) {
    let phone = Device::phone().at(phone_at);
    let login = signed_in(&phone).await;
    let pc = Device::pc().at(pc_at);
    let pc_login = qr_signed_in(&pc, &phone, &login).await;
    (phone, login, pc, pc_login)
}

/// `phone`, signed in as `login`, signs `device` out (`DELETE /api/devices/{device_id}`).
pub fn sign_out_device_call(phone: &Device, login: &LoginSession, device: &Device) -> Call {
    phone
        .call(Method::DELETE, &format!("/api/devices/{}", device.id))
        .bearer(&login.token)
}

/// The PC withdraws its session with its poll secret.
pub fn cancel_call(pc: &Device, qr: &CreateQrResponse) -> Call {
    pc.call(Method::DELETE, &format!("/api/qr/{}", qr.qr_id))
        .bearer(&qr.poll_secret)
}

pub fn me_call(device: &Device, token: &Secret) -> Call {
    device.call(Method::GET, "/api/me").bearer(token)
}

/// `GET /api/me` with a key-bound token and a fresh proof by `key`.
pub fn bound_me_call(device: &Device, key: &dpop::Key, token: &Secret) -> Call {
    device.call(Method::GET, "/api/me").dpop(key, token)
}

/// The pick-up poll of a session bound to `key`, after `account` confirmed it: the PC's token,
/// checked to be bound to the key and to work with a proof by it.
pub async fn pick_up_with_key(
    pc: &Device,
    qr: &CreateQrResponse,
    key: &dpop::Key,
    account: &Account,
) -> LoginSession {
    let picked: PollResponse = poll_call(pc, qr).proof(key).send().await.expect(200);
    assert_eq!(picked.status, QrStatus::Confirmed);
    let session = picked
        .session
        .expect("the pick-up carries the PC's session");
    assert_eq!(session.token_type, TokenType::DPoP);
    assert_eq!(&session.account, account);
    let me: MeResponse = bound_me_call(pc, key, &session.token)
        .send()
        .await
        .expect(200);
    assert_eq!(me.session.token_type, TokenType::DPoP);
    session
}

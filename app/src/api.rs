//! The app's client for `shared/API.md`: every call names its device, and errors come back as
//! the contract's `error` code (or `None` when the network itself failed).

use crate::device::{HeldToken, device, token};
use crate::dpop;
use crate::role::Role;
use qrgate_protocol::oauth::device::{UserCodeRequest, UserCodeResponse};
use qrgate_protocol::oauth::{ContinueRequest, GrantsResponse, RedirectTo};
use qrgate_protocol::{
    CreateAccountRequest, CreateQrRequest, CreateQrResponse, DEVICE_ID_HEADER, DEVICE_TYPE_HEADER,
    DPOP_HEADER, DecisionRequest, DevicesResponse, ErrorBody, ErrorCode, LoginRequest,
    LoginSession, PasskeyAssertion, PasskeyCeremony, PasskeyChallengeRequest, PasskeysResponse,
    PollResponse, RenamePasskeyRequest, ScanResponse, Secret, SignInsResponse, TokenType,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

/// A failed call: the contract's error code, or `None` when no answer arrived, and the
/// answer's `Retry-After`, if it had one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiError {
    pub code: Option<ErrorCode>,
    pub retry_after_seconds: Option<u32>,
}

impl ApiError {
    const NETWORK: Self = Self {
        code: None,
        retry_after_seconds: None,
    };
    const SIGNED_OUT: Self = Self {
        code: Some(ErrorCode::Unauthorized),
        retry_after_seconds: None,
    };

    pub fn is(self, code: ErrorCode) -> bool {
        self.code == Some(code)
    }

    /// Whether the same request may succeed later: no answer came, or the edge was throttled,
    /// overloaded or failed (`429`, `503`, `500`).
    pub fn is_transient(self) -> bool {
        matches!(
            self.code,
            None | Some(ErrorCode::RateLimited | ErrorCode::Unavailable | ErrorCode::Internal)
        )
    }

    /// How long to wait before trying again: the answer's `Retry-After`, at least `floor_ms`.
    pub fn retry_in_ms(self, floor_ms: u32) -> u32 {
        let asked_ms = self
            .retry_after_seconds
            .map_or(0, |seconds| seconds.saturating_mul(1000));
        asked_ms.max(floor_ms)
    }
}

type ApiResult<T> = Result<T, ApiError>;

fn network(_: JsValue) -> ApiError {
    ApiError::NETWORK
}

/// What a request presents beside the device headers.
#[derive(Clone, Copy)]
enum Credential<'a> {
    /// Nothing: an account's creation.
    None,
    /// A new sign-in (no secret) or a QR session's poll secret (as `Bearer`), with a proof by
    /// the role's key when the browser can make one: it binds the token the sign-in gives.
    Proven(Option<&'a Secret>),
    /// The role's login token: a key-bound one as `DPoP` with a proof, else as `Bearer`.
    Token(&'a HeldToken),
}

/// One request with the browser's `fetch`: the role's device headers, its credential, a JSON
/// body if any. A success answers its body's text; a failure the contract's error code. A
/// refused proof whose answer's `Date` shows this browser's clock far off (its `iat` was the
/// reason) is sent once more, its proof made by the edge's clock.
async fn send(
    method: &str,
    path: &str,
    role: Role,
    credential: Credential<'_>,
    body: Option<&str>,
) -> ApiResult<String> {
    let (mut response, clock_moved) = fetch(method, path, role, credential, body).await?;
    if clock_moved && proof_refused(&response) {
        (response, _) = fetch(method, path, role, credential, body).await?;
    }
    let text = JsFuture::from(response.text().map_err(network)?)
        .await
        .map_err(network)?
        .as_string()
        .unwrap_or_default();
    if response.ok() {
        return Ok(text);
    }
    let code = crate::json::from_json::<ErrorBody>(&text)
        .map(|body| body.error)
        .unwrap_or(ErrorCode::Internal);
    let retry_after_seconds = response
        .headers()
        .get("Retry-After")
        .ok()
        .flatten()
        .and_then(|seconds| seconds.trim().parse().ok());
    Err(ApiError {
        code: Some(code),
        retry_after_seconds,
    })
}

/// Whether the answer refused the request's DPoP proof (not its password or token: a wrong
/// password sent again would count twice against its limit).
fn proof_refused(response: &Response) -> bool {
    response.status() == 401
        && response
            .headers()
            .get("WWW-Authenticate")
            .ok()
            .flatten()
            .is_some_and(|challenge| challenge.contains("invalid_dpop_proof"))
}

/// [`send`]'s request, once; and whether its answer moved the proofs' clock.
async fn fetch(
    method: &str,
    path: &str,
    role: Role,
    credential: Credential<'_>,
    body: Option<&str>,
) -> ApiResult<(Response, bool)> {
    let device = device(role);
    let headers = Headers::new().map_err(network)?;
    headers.set(DEVICE_ID_HEADER, &device.id).map_err(network)?;
    headers
        .set(DEVICE_TYPE_HEADER, device.device_type.as_str())
        .map_err(network)?;
    let (authorization, proof) = match credential {
        Credential::None => (None, None),
        Credential::Proven(secret) => (
            secret.map(|secret| (TokenType::Bearer, secret)),
            dpop::proof(role, method, path, None).await,
        ),
        Credential::Token(held) => (
            Some((held.token_type, &held.secret)),
            match held.token_type {
                TokenType::DPoP => dpop::proof(role, method, path, Some(&held.secret)).await,
                TokenType::Bearer => None,
            },
        ),
    };
    if let Some((token_type, secret)) = authorization {
        let value = format!("{} {}", token_type.scheme(), secret.expose());
        headers.set("Authorization", &value).map_err(network)?;
    }
    if let Some(proof) = proof {
        headers.set(DPOP_HEADER, &proof).map_err(network)?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(json) = body {
        headers
            .set("Content-Type", "application/json")
            .map_err(network)?;
        init.set_body(&JsValue::from_str(json));
    }
    init.set_headers(&headers);
    let window = web_sys::window().ok_or(ApiError::NETWORK)?;
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await
        .map_err(network)?
        .dyn_into()
        .map_err(network)?;
    let date = response.headers().get("Date").ok().flatten();
    let clock_moved = date.is_some_and(|date| dpop::follow_edge_clock(&date));
    Ok((response, clock_moved))
}

fn json<T: DeserializeOwned>(text: String) -> ApiResult<T> {
    crate::json::from_json(&text).ok_or(ApiError::NETWORK)
}

const NO_BODY: Option<&str> = None;

/// A request body as JSON text. Serialised by the caller, so that the request code is one
/// function, not one per body type: each copy weighs on the PC page's bundle.
fn body(value: &impl Serialize) -> ApiResult<String> {
    crate::json::to_json(value).ok_or(ApiError::NETWORK)
}

pub async fn create_account(request: &CreateAccountRequest) -> ApiResult<()> {
    let json = body(request)?;
    send(
        "POST",
        "/api/accounts",
        Role::Phone,
        Credential::None,
        Some(&json),
    )
    .await?;
    Ok(())
}

pub async fn login(role: Role, request: &LoginRequest) -> ApiResult<LoginSession> {
    let proven = Credential::Proven(None);
    let request = body(request)?;
    json(send("POST", "/api/sessions", role, proven, Some(&request)).await?)
}

/// A challenge for a passkey ceremony, as the edge's JSON text (`passkey.js` reads it): a
/// registration's with the phone's token, a sign-up's or a sign-in's with nothing.
pub async fn passkey_challenge(role: Role, request: &PasskeyChallengeRequest) -> ApiResult<String> {
    const PATH: &str = "/api/passkeys/challenges";
    let body = body(request)?;
    match request.ceremony {
        PasskeyCeremony::Register => with_token("POST", PATH, role, Some(&body)).await,
        PasskeyCeremony::SignUp | PasskeyCeremony::SignIn => {
            send("POST", PATH, role, Credential::None, Some(&body)).await
        }
    }
}

/// A new passkey for the phone's account: `answer` is `passkey.js`'s JSON body.
pub async fn register_passkey(answer: &str) -> ApiResult<()> {
    with_token("POST", "/api/passkeys", Role::Phone, Some(answer)).await?;
    Ok(())
}

/// A sign-in with a passkey (`/api/sessions/passkey`), or a new account with one
/// (`/api/accounts/passkey`), which signs in too. With a proof, as a password sign-in: it
/// binds the token to the role's key.
pub async fn passkey_session(
    role: Role,
    path: &str,
    request: &impl serde::Serialize,
) -> ApiResult<LoginSession> {
    let request = body(request)?;
    json(send("POST", path, role, Credential::Proven(None), Some(&request)).await?)
}

pub async fn passkeys() -> ApiResult<PasskeysResponse> {
    json(with_token("GET", "/api/passkeys", Role::Phone, NO_BODY).await?)
}

pub async fn rename_passkey(passkey_id: &str, name: String) -> ApiResult<()> {
    let path = format!("/api/passkeys/{passkey_id}");
    let request = body(&RenamePasskeyRequest { name })?;
    with_token("PATCH", &path, Role::Phone, Some(&request)).await?;
    Ok(())
}

pub async fn remove_passkey(passkey_id: &str) -> ApiResult<()> {
    let path = format!("/api/passkeys/{passkey_id}");
    with_token("DELETE", &path, Role::Phone, NO_BODY).await?;
    Ok(())
}

/// A request with the role's login token.
async fn with_token(method: &str, path: &str, role: Role, body: Option<&str>) -> ApiResult<String> {
    let held = token(role).ok_or(ApiError::SIGNED_OUT)?;
    send(method, path, role, Credential::Token(&held), body).await
}

/// Whether the role's token still works (`GET /api/me`, its answer unread: the page already
/// knows who it is signed in as).
pub async fn check_signed_in(role: Role) -> ApiResult<()> {
    with_token("GET", "/api/me", role, NO_BODY).await?;
    Ok(())
}

pub async fn logout(role: Role) -> ApiResult<()> {
    if token(role).is_some() {
        with_token("DELETE", "/api/sessions/current", role, NO_BODY).await?;
    }
    Ok(())
}

pub async fn devices() -> ApiResult<DevicesResponse> {
    json(with_token("GET", "/api/devices", Role::Phone, NO_BODY).await?)
}

pub async fn sign_ins() -> ApiResult<SignInsResponse> {
    json(with_token("GET", "/api/sign-ins", Role::Phone, NO_BODY).await?)
}

/// Single sign-on into the app of an authorization request, with the role's token.
pub async fn continue_authorization(role: Role, handle: &str) -> ApiResult<RedirectTo> {
    let body = ContinueRequest {
        authorization: handle.to_owned(),
    };
    json(
        with_token(
            "POST",
            "/api/authorizations",
            role,
            Some(&self::body(&body)?),
        )
        .await?,
    )
}

pub async fn grants() -> ApiResult<GrantsResponse> {
    json(with_token("GET", "/api/grants", Role::Phone, NO_BODY).await?)
}

pub async fn revoke_grant(grant_id: &str) -> ApiResult<()> {
    let path = format!("/api/grants/{grant_id}");
    with_token("DELETE", &path, Role::Phone, NO_BODY).await?;
    Ok(())
}

pub async fn revoke_device(device_id: &str) -> ApiResult<()> {
    let path = format!("/api/devices/{device_id}");
    with_token("DELETE", &path, Role::Phone, NO_BODY).await?;
    Ok(())
}

/// A code for this PC; for an app's authorization request, given its handle.
pub async fn create_qr(
    device_name: String,
    authorization: Option<String>,
) -> ApiResult<CreateQrResponse> {
    let request = CreateQrRequest {
        device_name: Some(device_name),
        authorization,
    };
    let proven = Credential::Proven(None);
    json(send("POST", "/api/qr", Role::Pc, proven, Some(&body(&request)?)).await?)
}

pub async fn poll_qr(qr: &CreateQrResponse) -> ApiResult<PollResponse> {
    let path = format!("/api/qr/{}", qr.qr_id);
    let proven = Credential::Proven(Some(&qr.poll_secret));
    json(send("GET", &path, Role::Pc, proven, NO_BODY).await?)
}

pub async fn cancel_qr(qr: &CreateQrResponse) -> ApiResult<()> {
    let path = format!("/api/qr/{}", qr.qr_id);
    let proven = Credential::Proven(Some(&qr.poll_secret));
    send("DELETE", &path, Role::Pc, proven, NO_BODY).await?;
    Ok(())
}

/// The device session a typed user code names (RFC 8628).
pub async fn find_user_code(user_code: &str) -> ApiResult<UserCodeResponse> {
    let request = UserCodeRequest {
        user_code: user_code.to_owned(),
    };
    let body = self::body(&request)?;
    json(with_token("POST", "/api/user-codes", Role::Phone, Some(&body)).await?)
}

pub async fn scan_qr(qr_id: &str) -> ApiResult<ScanResponse> {
    let path = format!("/api/qr/{qr_id}/scan");
    json(with_token("POST", &path, Role::Phone, NO_BODY).await?)
}

/// `step` is `confirm` or `deny`; a confirmation answers the scan's passkey challenge with
/// `passkey` when it had one.
pub async fn decide_qr(
    qr_id: &str,
    step: &str,
    scan_token: &Secret,
    passkey: Option<PasskeyAssertion>,
) -> ApiResult<()> {
    let path = format!("/api/qr/{qr_id}/{step}");
    let body = DecisionRequest {
        scan_token: scan_token.clone(),
        passkey,
    };
    with_token("POST", &path, Role::Phone, Some(&self::body(&body)?)).await?;
    Ok(())
}

//! The app's client for `shared/API.md`: every call names its device, and errors come back as
//! the contract's `error` code (or `None` when the network itself failed).

use crate::device::{Device, Role, device, token};
use qrgate_protocol::{
    CreateAccountRequest, CreateQrRequest, CreateQrResponse, DEVICE_ID_HEADER, DEVICE_TYPE_HEADER,
    DecisionRequest, DevicesResponse, ErrorBody, ErrorCode, LoginRequest, LoginSession,
    PollResponse, ScanResponse, Secret, SignInsResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

/// A failed call: the contract's error code, or `None` when no answer arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiError {
    pub code: Option<ErrorCode>,
}

impl ApiError {
    const NETWORK: Self = Self { code: None };
    const SIGNED_OUT: Self = Self {
        code: Some(ErrorCode::Unauthorized),
    };

    pub fn is(self, code: ErrorCode) -> bool {
        self.code == Some(code)
    }
}

type ApiResult<T> = Result<T, ApiError>;

fn network(_: JsValue) -> ApiError {
    ApiError::NETWORK
}

/// One request with the browser's `fetch`: the device's headers, the bearer if any, a JSON
/// body if any. A success answers its body's text; a failure the contract's error code.
async fn send(
    method: &str,
    path: &str,
    device: &Device,
    bearer: Option<&Secret>,
    body: Option<&impl Serialize>,
) -> ApiResult<String> {
    let headers = Headers::new().map_err(network)?;
    headers.set(DEVICE_ID_HEADER, &device.id).map_err(network)?;
    headers
        .set(DEVICE_TYPE_HEADER, device.device_type.as_str())
        .map_err(network)?;
    if let Some(secret) = bearer {
        let value = format!("Bearer {}", secret.expose());
        headers.set("Authorization", &value).map_err(network)?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        let json = crate::json::to_json(body).ok_or(ApiError::NETWORK)?;
        headers
            .set("Content-Type", "application/json")
            .map_err(network)?;
        init.set_body(&JsValue::from_str(&json));
    }
    init.set_headers(&headers);
    let window = web_sys::window().ok_or(ApiError::NETWORK)?;
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await
        .map_err(network)?
        .dyn_into()
        .map_err(network)?;
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
    Err(ApiError { code: Some(code) })
}

fn json<T: DeserializeOwned>(text: String) -> ApiResult<T> {
    crate::json::from_json(&text).ok_or(ApiError::NETWORK)
}

const NO_BODY: Option<&()> = None;

pub async fn create_account(request: &CreateAccountRequest) -> ApiResult<()> {
    let phone = device(Role::Phone);
    send("POST", "/api/accounts", &phone, None, Some(request)).await?;
    Ok(())
}

pub async fn login(role: Role, request: &LoginRequest) -> ApiResult<LoginSession> {
    let response = send("POST", "/api/sessions", &device(role), None, Some(request)).await?;
    json(response)
}

/// Whether the role's token still works (`GET /api/me`, its answer unread: the page already
/// knows who it is signed in as).
pub async fn check_signed_in(role: Role) -> ApiResult<()> {
    let token = token(role).ok_or(ApiError::SIGNED_OUT)?;
    send("GET", "/api/me", &device(role), Some(&token), NO_BODY).await?;
    Ok(())
}

pub async fn logout(role: Role) -> ApiResult<()> {
    if let Some(token) = token(role) {
        send(
            "DELETE",
            "/api/sessions/current",
            &device(role),
            Some(&token),
            NO_BODY,
        )
        .await?;
    }
    Ok(())
}

pub async fn devices() -> ApiResult<DevicesResponse> {
    let token = token(Role::Phone).ok_or(ApiError::SIGNED_OUT)?;
    json(
        send(
            "GET",
            "/api/devices",
            &device(Role::Phone),
            Some(&token),
            NO_BODY,
        )
        .await?,
    )
}

pub async fn sign_ins() -> ApiResult<SignInsResponse> {
    let token = token(Role::Phone).ok_or(ApiError::SIGNED_OUT)?;
    let text = send(
        "GET",
        "/api/sign-ins",
        &device(Role::Phone),
        Some(&token),
        NO_BODY,
    )
    .await?;
    json(text)
}

pub async fn revoke_device(device_id: &str) -> ApiResult<()> {
    let token = token(Role::Phone).ok_or(ApiError::SIGNED_OUT)?;
    let path = format!("/api/devices/{device_id}");
    send("DELETE", &path, &device(Role::Phone), Some(&token), NO_BODY).await?;
    Ok(())
}

pub async fn create_qr(device_name: String) -> ApiResult<CreateQrResponse> {
    let request = CreateQrRequest {
        device_name: Some(device_name),
    };
    json(send("POST", "/api/qr", &device(Role::Pc), None, Some(&request)).await?)
}

pub async fn poll_qr(qr: &CreateQrResponse) -> ApiResult<PollResponse> {
    let path = format!("/api/qr/{}", qr.qr_id);
    json(
        send(
            "GET",
            &path,
            &device(Role::Pc),
            Some(&qr.poll_secret),
            NO_BODY,
        )
        .await?,
    )
}

pub async fn cancel_qr(qr: &CreateQrResponse) -> ApiResult<()> {
    let path = format!("/api/qr/{}", qr.qr_id);
    send(
        "DELETE",
        &path,
        &device(Role::Pc),
        Some(&qr.poll_secret),
        NO_BODY,
    )
    .await?;
    Ok(())
}

pub async fn scan_qr(qr_id: &str) -> ApiResult<ScanResponse> {
    let token = token(Role::Phone).ok_or(ApiError::SIGNED_OUT)?;
    let path = format!("/api/qr/{qr_id}/scan");
    json(send("POST", &path, &device(Role::Phone), Some(&token), NO_BODY).await?)
}

/// `step` is `confirm` or `deny`.
pub async fn decide_qr(qr_id: &str, step: &str, scan_token: &Secret) -> ApiResult<()> {
    let token = token(Role::Phone).ok_or(ApiError::SIGNED_OUT)?;
    let path = format!("/api/qr/{qr_id}/{step}");
    let body = DecisionRequest {
        scan_token: scan_token.clone(),
    };
    send(
        "POST",
        &path,
        &device(Role::Phone),
        Some(&token),
        Some(&body),
    )
    .await?;
    Ok(())
}

//! The app's client for `shared/API.md`: every call names its device, and errors come back as
//! the contract's `error` code (or `None` when the network itself failed).

use crate::device::{Device, Role, device, token};
use gloo_net::http::{Request, RequestBuilder, Response};
use qrgate_protocol::{
    CreateAccountRequest, CreateQrRequest, CreateQrResponse, DEVICE_ID_HEADER, DEVICE_TYPE_HEADER,
    DecisionRequest, DevicesResponse, ErrorBody, ErrorCode, LoginRequest, LoginSession, MeResponse,
    PollResponse, ScanResponse, Secret,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

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

fn with_device(
    builder: RequestBuilder,
    device: &Device,
    bearer: Option<&Secret>,
) -> RequestBuilder {
    let builder = builder
        .header(DEVICE_ID_HEADER, &device.id)
        .header(DEVICE_TYPE_HEADER, device.device_type.as_str());
    match bearer {
        Some(secret) => builder.header("Authorization", &format!("Bearer {}", secret.expose())),
        None => builder,
    }
}

async fn send(
    builder: RequestBuilder,
    device: &Device,
    bearer: Option<&Secret>,
    body: Option<&impl Serialize>,
) -> ApiResult<Response> {
    let builder = with_device(builder, device, bearer);
    let response = match body {
        Some(body) => {
            builder
                .json(body)
                .map_err(|_| ApiError::NETWORK)?
                .send()
                .await
        }
        None => builder.send().await,
    }
    .map_err(|_| ApiError::NETWORK)?;
    if response.ok() {
        return Ok(response);
    }
    let code = response
        .json::<ErrorBody>()
        .await
        .map(|body| body.error)
        .unwrap_or(ErrorCode::Internal);
    Err(ApiError { code: Some(code) })
}

async fn json<T: DeserializeOwned>(response: Response) -> ApiResult<T> {
    response.json::<T>().await.map_err(|_| ApiError::NETWORK)
}

const NO_BODY: Option<&()> = None;

pub async fn create_account(request: &CreateAccountRequest) -> ApiResult<()> {
    let phone = device(Role::Phone);
    send(Request::post("/api/accounts"), &phone, None, Some(request)).await?;
    Ok(())
}

pub async fn login(role: Role, request: &LoginRequest) -> ApiResult<LoginSession> {
    let response = send(
        Request::post("/api/sessions"),
        &device(role),
        None,
        Some(request),
    )
    .await?;
    json(response).await
}

pub async fn me(role: Role) -> ApiResult<MeResponse> {
    let token = token(role).ok_or(ApiError::SIGNED_OUT)?;
    json(
        send(
            Request::get("/api/me"),
            &device(role),
            Some(&token),
            NO_BODY,
        )
        .await?,
    )
    .await
}

pub async fn logout(role: Role) -> ApiResult<()> {
    if let Some(token) = token(role) {
        send(
            Request::delete("/api/sessions/current"),
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
            Request::get("/api/devices"),
            &device(Role::Phone),
            Some(&token),
            NO_BODY,
        )
        .await?,
    )
    .await
}

pub async fn revoke_device(device_id: &str) -> ApiResult<()> {
    let token = token(Role::Phone).ok_or(ApiError::SIGNED_OUT)?;
    let path = format!("/api/devices/{device_id}");
    send(
        Request::delete(&path),
        &device(Role::Phone),
        Some(&token),
        NO_BODY,
    )
    .await?;
    Ok(())
}

pub async fn create_qr(device_name: String) -> ApiResult<CreateQrResponse> {
    let request = CreateQrRequest {
        device_name: Some(device_name),
    };
    json(
        send(
            Request::post("/api/qr"),
            &device(Role::Pc),
            None,
            Some(&request),
        )
        .await?,
    )
    .await
}

pub async fn poll_qr(qr: &CreateQrResponse) -> ApiResult<PollResponse> {
    let path = format!("/api/qr/{}", qr.qr_id);
    json(
        send(
            Request::get(&path),
            &device(Role::Pc),
            Some(&qr.poll_secret),
            NO_BODY,
        )
        .await?,
    )
    .await
}

pub async fn cancel_qr(qr: &CreateQrResponse) -> ApiResult<()> {
    let path = format!("/api/qr/{}", qr.qr_id);
    send(
        Request::delete(&path),
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
    json(
        send(
            Request::post(&path),
            &device(Role::Phone),
            Some(&token),
            NO_BODY,
        )
        .await?,
    )
    .await
}

/// `step` is `confirm` or `deny`.
pub async fn decide_qr(qr_id: &str, step: &str, scan_token: &Secret) -> ApiResult<()> {
    let token = token(Role::Phone).ok_or(ApiError::SIGNED_OUT)?;
    let path = format!("/api/qr/{qr_id}/{step}");
    let body = DecisionRequest {
        scan_token: scan_token.clone(),
    };
    send(
        Request::post(&path),
        &device(Role::Phone),
        Some(&token),
        Some(&body),
    )
    .await?;
    Ok(())
}

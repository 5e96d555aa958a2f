//! The one error type of the edge. Every failure becomes the contract's JSON error; the detail
//! of an internal failure goes to the log only, never into a response.

use qrgate_protocol::qr::StepError;
use qrgate_protocol::{ErrorBody, ErrorCode};
use worker::{Headers, Response};

#[derive(Debug)]
pub enum AppError {
    /// A malformed body, header or path parameter; the message names what, never its value.
    InvalidRequest(String),
    Unauthorized,
    /// A passkey sign-in refused: `401`, saying which check (never a byte of what was sent).
    PasskeyRefused(String),
    /// A DPoP proof that is malformed or does not hold, or a token presented without the proof
    /// its binding needs: `401` with `WWW-Authenticate: DPoP error="invalid_dpop_proof"`.
    InvalidDpopProof,
    /// Authenticated, but not allowed: why, in a sentence.
    Forbidden(&'static str),
    /// A token from a recent QR sign-in, asking for what only a settled one may do.
    StepUpRequired,
    NotFound(&'static str),
    MethodNotAllowed(&'static [&'static str]),
    Conflict(&'static str),
    Expired,
    PayloadTooLarge,
    UnsupportedMediaType,
    /// The live channel asked for without `Upgrade: websocket`.
    UpgradeRequired,
    RateLimited {
        retry_after_seconds: u64,
    },
    /// A bug. The detail is logged, the client sees a plain sentence.
    Internal(String),
    /// A storage service (KV, a session's object) failed or was out of reach; the detail is
    /// logged. Nothing was half-written: the client may simply try again.
    Unavailable(String),
}

pub type AppResult<T> = Result<T, AppError>;

/// `Retry-After` of a `503`: storage hiccups pass within a second or two.
const UNAVAILABLE_RETRY_AFTER_SECONDS: &str = "1";

impl AppError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidRequest(message.into())
    }

    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        Self::Unavailable(detail.to_string())
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidRequest(_) => ErrorCode::InvalidRequest,
            Self::Unauthorized | Self::PasskeyRefused(_) | Self::InvalidDpopProof => {
                ErrorCode::Unauthorized
            }
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::StepUpRequired => ErrorCode::StepUpRequired,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::Expired => ErrorCode::Expired,
            Self::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            Self::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            Self::UpgradeRequired => ErrorCode::UpgradeRequired,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Internal(_) => ErrorCode::Internal,
            Self::Unavailable(_) => ErrorCode::Unavailable,
        }
    }

    fn message(&self) -> String {
        match self {
            Self::InvalidRequest(message) => message.clone(),
            Self::Unauthorized => {
                "Sign in again: the credentials are missing, wrong or no longer valid.".into()
            }
            Self::PasskeyRefused(why) => why.clone(),
            Self::InvalidDpopProof => {
                "The DPoP proof is missing, malformed or does not match this request.".into()
            }
            Self::Forbidden(why) => (*why).into(),
            Self::StepUpRequired => "This device signed in with a QR code only recently: sign in \
                on it again with your password or a passkey to do this."
                .into(),
            Self::NotFound(what) => format!("No such {what}."),
            Self::MethodNotAllowed(allowed) => {
                format!("This path accepts only {}.", allowed.join(", "))
            }
            Self::Conflict(why) => (*why).into(),
            Self::Expired => "This QR code has expired; ask for a new one.".into(),
            Self::PayloadTooLarge => "The request body is larger than 8 KiB.".into(),
            Self::UnsupportedMediaType => "The request body must be application/json.".into(),
            Self::UpgradeRequired => {
                "This path is a WebSocket: ask with Upgrade: websocket.".into()
            }
            Self::RateLimited { .. } => "Too many attempts; wait and try again.".into(),
            Self::Internal(_) => "Something went wrong on our side.".into(),
            Self::Unavailable(_) => "A storage service is briefly unavailable; try again.".into(),
        }
    }

    /// The error as the contract's JSON response. Cannot fail: a response is always produced.
    pub fn into_response(self) -> Response {
        match &self {
            Self::Internal(detail) => worker::console_error!("internal error: {detail}"),
            Self::Unavailable(detail) => worker::console_error!("unavailable: {detail}"),
            _ => {}
        }
        let body = ErrorBody {
            error: self.code(),
            message: self.message(),
        };
        let headers = Headers::new();
        // Header names and values here are constants or digits, so setting them cannot fail.
        let _ = headers.set("Content-Type", "application/json");
        match &self {
            Self::MethodNotAllowed(allowed) => {
                let _ = headers.set("Allow", &allowed.join(", "));
            }
            Self::RateLimited {
                retry_after_seconds,
            } => {
                let _ = headers.set("Retry-After", &retry_after_seconds.to_string());
            }
            Self::Unavailable(_) => {
                let _ = headers.set("Retry-After", UNAVAILABLE_RETRY_AFTER_SECONDS);
            }
            Self::InvalidDpopProof => {
                let _ = headers.set("WWW-Authenticate", r#"DPoP error="invalid_dpop_proof""#);
            }
            _ => {}
        }
        let json = serde_json::to_vec(&body).unwrap_or_else(|_| {
            br#"{"error":"internal","message":"Something went wrong on our side."}"#.to_vec()
        });
        Response::builder()
            .with_status(self.code().status())
            .with_headers(headers)
            .fixed(json)
    }
}

impl From<StepError> for AppError {
    fn from(error: StepError) -> Self {
        match error {
            StepError::Expired => Self::Expired,
            StepError::Conflict => {
                Self::Conflict("This QR code is not in a state that allows this step.")
            }
            StepError::Forbidden => {
                Self::Forbidden("This step belongs to another device or an older scan.")
            }
        }
    }
}

impl From<worker::Error> for AppError {
    fn from(error: worker::Error) -> Self {
        Self::Internal(format!("worker: {error}"))
    }
}

impl From<serde_json::Error> for AppError {
    fn from(error: serde_json::Error) -> Self {
        Self::Internal(format!("json: {error}"))
    }
}

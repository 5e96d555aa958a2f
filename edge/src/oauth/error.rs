//! The provider's one error type, one variant per OAuth error code it answers, each shaped as
//! the RFCs shape it: `{"error", "error_description"}`, the status of RFC 6749 §5.2 (RFC 6750
//! §3.1 for a resource), and a `WWW-Authenticate` challenge only where one is due (never on a
//! `400`: stock clients take one there for a resource's challenge). The detail of the edge's
//! own failures goes to the log only.

use crate::error::AppError;
use qrgate_protocol::TokenType;
use qrgate_protocol::oauth::{OAuthErrorBody, OAuthErrorCode};
use worker::{Headers, Response};

#[derive(Debug)]
pub enum OAuthError {
    InvalidRequest(&'static str),
    /// The client failed to authenticate; `basic`: it tried HTTP Basic, which is challenged.
    InvalidClient {
        basic: bool,
    },
    InvalidGrant(&'static str),
    UnauthorizedClient(&'static str),
    UnsupportedGrantType,
    InvalidScope,
    /// A DPoP proof at the token endpoint that does not hold (RFC 9449 §5).
    InvalidDpopProof,
    /// A resource (userinfo) refuses the access token, or its proof, in the scheme it came in.
    Refused {
        scheme: TokenType,
        error: ResourceError,
    },
    /// A bug or a broken configuration; the detail is logged.
    ServerError(String),
    /// A storage service failed; the detail is logged, and the client may try again.
    TemporarilyUnavailable(String),
    /// The client address asks too often (`429`, with `Retry-After`).
    RateLimited {
        retry_after_seconds: u64,
    },
    /// The device grant's answers while the device waits or after (RFC 8628 §3.5).
    AuthorizationPending,
    SlowDown,
    AccessDenied,
    ExpiredToken,
}

/// Why a resource refuses a request (RFC 6750 §3.1, RFC 9449 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceError {
    InvalidToken,
    InvalidDpopProof,
}

pub type OAuthResult<T> = Result<T, OAuthError>;

impl OAuthError {
    pub fn code(&self) -> OAuthErrorCode {
        match self {
            Self::InvalidRequest(_) => OAuthErrorCode::InvalidRequest,
            Self::InvalidClient { .. } => OAuthErrorCode::InvalidClient,
            Self::InvalidGrant(_) => OAuthErrorCode::InvalidGrant,
            Self::UnauthorizedClient(_) => OAuthErrorCode::UnauthorizedClient,
            Self::UnsupportedGrantType => OAuthErrorCode::UnsupportedGrantType,
            Self::InvalidScope => OAuthErrorCode::InvalidScope,
            Self::InvalidDpopProof => OAuthErrorCode::InvalidDpopProof,
            Self::Refused {
                error: ResourceError::InvalidToken,
                ..
            } => OAuthErrorCode::InvalidToken,
            Self::Refused {
                error: ResourceError::InvalidDpopProof,
                ..
            } => OAuthErrorCode::InvalidDpopProof,
            Self::ServerError(_) => OAuthErrorCode::ServerError,
            Self::TemporarilyUnavailable(_) | Self::RateLimited { .. } => {
                OAuthErrorCode::TemporarilyUnavailable
            }
            Self::AuthorizationPending => OAuthErrorCode::AuthorizationPending,
            Self::SlowDown => OAuthErrorCode::SlowDown,
            Self::AccessDenied => OAuthErrorCode::AccessDenied,
            Self::ExpiredToken => OAuthErrorCode::ExpiredToken,
        }
    }

    fn description(&self) -> &'static str {
        match self {
            Self::InvalidRequest(why) | Self::InvalidGrant(why) | Self::UnauthorizedClient(why) => {
                why
            }
            Self::InvalidClient { .. } => "Client authentication failed.",
            Self::UnsupportedGrantType => "This grant type is not supported.",
            Self::InvalidScope => "The scope asks for more than was granted.",
            Self::InvalidDpopProof => "The DPoP proof is malformed or does not match this request.",
            Self::Refused {
                error: ResourceError::InvalidToken,
                ..
            } => "The access token is missing, malformed, expired or revoked.",
            Self::Refused {
                error: ResourceError::InvalidDpopProof,
                ..
            } => "The DPoP proof is missing, malformed or does not match this request and token.",
            Self::ServerError(_) => "Something went wrong on our side.",
            Self::TemporarilyUnavailable(_) => {
                "A storage service is briefly unavailable; try again."
            }
            Self::RateLimited { .. } => "Too many requests from this address; try again later.",
            Self::AuthorizationPending => "The person has not approved on their phone yet.",
            Self::SlowDown => "Polled sooner than the interval: poll 5 s less often from now on.",
            Self::AccessDenied => "The person denied the sign-in.",
            Self::ExpiredToken => "The device code has expired: start again.",
        }
    }

    /// A resource refuses with `401` whatever the reason (RFC 6750 §3.1, RFC 9449 §7.1); the
    /// token endpoint's codes have their own statuses.
    fn status(&self) -> u16 {
        match self {
            Self::Refused { .. } => 401,
            Self::RateLimited { .. } => 429,
            other => other.code().status(),
        }
    }

    /// The answer. Cannot fail: a response is always produced.
    pub fn into_response(self) -> Response {
        match &self {
            Self::ServerError(detail) => worker::console_error!("internal error: {detail}"),
            Self::TemporarilyUnavailable(detail) => worker::console_error!("unavailable: {detail}"),
            _ => {}
        }
        let code = self.code();
        let body = OAuthErrorBody {
            error: code,
            error_description: Some(self.description().to_owned()),
        };
        let headers = Headers::new();
        // Names and values here are constants: setting them cannot fail.
        let _ = headers.set("Content-Type", "application/json");
        // As every token answer (RFC 6749 §5.1): never kept by anyone on the way.
        let _ = headers.set("Cache-Control", "no-store");
        let _ = headers.set("Pragma", "no-cache");
        match &self {
            Self::InvalidClient { basic: true } => {
                let _ = headers.set("WWW-Authenticate", "Basic realm=\"qrgate\"");
            }
            Self::Refused { scheme, .. } => {
                let challenge = match scheme {
                    TokenType::Bearer => format!("Bearer error=\"{}\"", code.as_str()),
                    TokenType::DPoP => {
                        format!("DPoP error=\"{}\", algs=\"ES256\"", code.as_str())
                    }
                };
                let _ = headers.set("WWW-Authenticate", &challenge);
            }
            Self::TemporarilyUnavailable(_) => {
                let _ = headers.set("Retry-After", "1");
            }
            Self::RateLimited {
                retry_after_seconds,
            } => {
                let _ = headers.set("Retry-After", &retry_after_seconds.to_string());
            }
            _ => {}
        }
        let json =
            serde_json::to_vec(&body).unwrap_or_else(|_| br#"{"error":"server_error"}"#.to_vec());
        Response::builder()
            .with_status(self.status())
            .with_headers(headers)
            .fixed(json)
    }
}

impl From<AppError> for OAuthError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Unavailable(detail) => Self::TemporarilyUnavailable(detail),
            AppError::PayloadTooLarge => {
                Self::InvalidRequest("The request body is larger than 8 KiB.")
            }
            AppError::InvalidRequest(_) | AppError::UnsupportedMediaType => {
                Self::InvalidRequest("The request body must be a form of at most 8 KiB.")
            }
            AppError::Internal(detail) => Self::ServerError(detail),
            AppError::RateLimited {
                retry_after_seconds,
            } => Self::RateLimited {
                retry_after_seconds,
            },
            other => Self::ServerError(format!("unexpected: {other:?}")),
        }
    }
}

impl From<worker::Error> for OAuthError {
    fn from(error: worker::Error) -> Self {
        Self::ServerError(format!("worker: {error}"))
    }
}

impl From<serde_json::Error> for OAuthError {
    fn from(error: serde_json::Error) -> Self {
        Self::ServerError(format!("json: {error}"))
    }
}

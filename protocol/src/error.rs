use serde::{Deserialize, Serialize};

/// The machine-readable `error` of every error response. Clients branch on this, never on the
/// message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    Unauthorized,
    Forbidden,
    /// A token from a recent QR sign-in asked for what only a settled one may do
    /// (`device_tokens::needs_step_up`): sign in on that device again, by password or passkey.
    StepUpRequired,
    NotFound,
    MethodNotAllowed,
    Conflict,
    Expired,
    PayloadTooLarge,
    UnsupportedMediaType,
    UpgradeRequired,
    RateLimited,
    Internal,
    Unavailable,
}

impl ErrorCode {
    /// The HTTP status the contract pairs with this code.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest => 400,
            Self::Unauthorized => 401,
            Self::Forbidden | Self::StepUpRequired => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Conflict => 409,
            Self::Expired => 410,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::UpgradeRequired => 426,
            Self::RateLimited => 429,
            Self::Internal => 500,
            Self::Unavailable => 503,
        }
    }
}

/// `{"error": "<code>", "message": "<one human sentence>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorCode,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_in_snake_case_with_their_status() {
        let cases = [
            (ErrorCode::InvalidRequest, "invalid_request", 400),
            (ErrorCode::Unauthorized, "unauthorized", 401),
            (ErrorCode::Forbidden, "forbidden", 403),
            (ErrorCode::StepUpRequired, "step_up_required", 403),
            (ErrorCode::NotFound, "not_found", 404),
            (ErrorCode::MethodNotAllowed, "method_not_allowed", 405),
            (ErrorCode::Conflict, "conflict", 409),
            (ErrorCode::Expired, "expired", 410),
            (ErrorCode::PayloadTooLarge, "payload_too_large", 413),
            (
                ErrorCode::UnsupportedMediaType,
                "unsupported_media_type",
                415,
            ),
            (ErrorCode::UpgradeRequired, "upgrade_required", 426),
            (ErrorCode::RateLimited, "rate_limited", 429),
            (ErrorCode::Internal, "internal", 500),
            (ErrorCode::Unavailable, "unavailable", 503),
        ];
        for (code, text, status) in cases {
            assert_eq!(serde_json::to_string(&code).unwrap(), format!("\"{text}\""));
            assert_eq!(code.status(), status);
        }
    }
}

//! The live channels' upgrades: a QR session's (`GET /api/qr/{qr_id}/live`, `api/qr.rs`) and an
//! account's (`GET /api/accounts/{account_id}/live`). Each is taken by its object, which reads
//! the socket's first message; here only what the contract checks before the upgrade.

use crate::error::{AppError, AppResult};
use crate::history;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use worker::{Env, Request, Response, Stub};

/// `GET /api/accounts/{account_id}/live`: the id's form (`400`), then the upgrade's checks; the
/// account's object takes the socket. Any well-formed id gets one: the first message decides.
pub async fn account(req: Request, env: &Env, raw_id: &str) -> AppResult<Response> {
    let account_id = raw_id.to_ascii_lowercase();
    if account_id.len() != 32 || !account_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::invalid(
            "The account id in the path must be 32 hexadecimal digits.",
        ));
    }
    upgrade(req, || history::history(env, &account_id)).await
}

/// The checks the contract makes before an upgrade (`Upgrade: websocket` `426`, a valid
/// handshake `400`), then the object `object` finds takes the socket. No device headers and no
/// body: the socket's first message carries what the object checks.
pub async fn upgrade(
    req: Request,
    object: impl FnOnce() -> AppResult<Stub>,
) -> AppResult<Response> {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let upgrade = header("Upgrade");
    if !upgrade.is_some_and(|value| value.trim().eq_ignore_ascii_case("websocket")) {
        return Err(AppError::UpgradeRequired);
    }
    let version_ok = header("Sec-WebSocket-Version").is_some_and(|v| v.trim() == "13");
    if !(version_ok && is_websocket_key(header("Sec-WebSocket-Key").as_deref())) {
        return Err(AppError::invalid(
            "A WebSocket upgrade needs Sec-WebSocket-Version 13 and a valid Sec-WebSocket-Key.",
        ));
    }
    let response = object()?
        .fetch_with_request(req)
        .await
        .map_err(AppError::unavailable)?;
    if response.status_code() == 101 {
        return Ok(response);
    }
    // The object's own answer (a QR session's `404`): copied into a response whose headers can
    // be set.
    let status = response.status_code();
    let mut response = response;
    let body = response.bytes().await.map_err(AppError::unavailable)?;
    Ok(Response::builder()
        .with_status(status)
        .with_header("Content-Type", "application/json")?
        .fixed(body))
}

/// RFC 6455 §4.1: the key is 16 random bytes, base64-encoded.
fn is_websocket_key(key: Option<&str>) -> bool {
    key.and_then(|key| STANDARD.decode(key.trim()).ok())
        .is_some_and(|bytes| bytes.len() == 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_keys_are_sixteen_bytes_of_base64() {
        assert!(is_websocket_key(Some("dGhlIHNhbXBsZSBub25jZQ==")));
        assert!(!is_websocket_key(None));
        assert!(!is_websocket_key(Some("")));
        assert!(!is_websocket_key(Some("not base64!")));
        assert!(!is_websocket_key(Some("dGhlIHNhbXBsZQ==")), "11 bytes");
    }
}

//! What an operator reads of the edge (`[observability]` in `wrangler.toml` keeps it deployed;
//! `wrangler dev` and `wrangler tail` print it): one JSON line per API request and one per
//! closed live socket. Only what the edge decided: a route's pattern (never the raw path,
//! which holds ids), a status, a duration, the location, an error code, a close code. Never a
//! header, a body, an id, a name or a secret.

use qrgate_protocol::ErrorCode;
use qrgate_protocol::oauth::OAuthErrorCode;
use serde::Serialize;

/// The error code an answer carried: the API's, or the provider's OAuth code.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(untagged)]
pub enum Error {
    Api(ErrorCode),
    OAuth(OAuthErrorCode),
}

#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Line<'a> {
    Request {
        /// The route's pattern, e.g. `GET /api/qr/{qr_id}`; `null` for no route (404, 405).
        route: Option<&'static str>,
        status: u16,
        /// Wall time from the request to its answer (in Workers, the clock advances on I/O).
        duration_ms: u64,
        /// The Cloudflare location that served it (`request.cf.colo`).
        colo: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<Error>,
    },
    LiveClose {
        by: Closer,
        code: u16,
    },
    /// The PC page was served without its first code, for this reason (`page/`).
    FirstCode {
        error: ErrorCode,
    },
}

/// Who closed a live socket.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Closer {
    /// The session's object: a final status, a bad message, a wrong secret, collection, the
    /// first-message deadline.
    Edge,
    /// The PC's page (or the network).
    Client,
}

/// Writes `line` to the log.
pub fn write(line: &Line<'_>) {
    if let Ok(json) = serde_json::to_string(line) {
        worker::console_log!("{json}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_flat_json_objects_named_by_their_event() {
        let request = Line::Request {
            route: Some("GET /api/qr/{qr_id}"),
            status: 404,
            duration_ms: 3,
            colo: Some("FRA"),
            error: Some(Error::Api(ErrorCode::NotFound)),
        };
        assert_eq!(
            serde_json::to_string(&request).unwrap(),
            r#"{"event":"request","route":"GET /api/qr/{qr_id}","status":404,"duration_ms":3,"colo":"FRA","error":"not_found"}"#
        );
        let close = Line::LiveClose {
            by: Closer::Edge,
            code: 4408,
        };
        assert_eq!(
            serde_json::to_string(&close).unwrap(),
            r#"{"event":"live_close","by":"edge","code":4408}"#
        );
    }
}

//! The qrgate Worker: `shared/API.md`, with accounts and login tokens in Workers KV and each QR
//! session in its own Durable Object (`objects/qr_session/`). This crate is the thin HTTP layer; the
//! wire types and the QR state machine live in `qrgate-protocol`. The static app is served by
//! Workers Static Assets; only `/api/*` and the PC page at `/`, which comes with its first code
//! (`page/`), reach this code (`run_worker_first`).

mod api;
mod auth;
mod config;
mod context;
mod crypto;
mod dpop;
mod error;
mod history;
mod limits;
mod logs;
mod objects;
mod page;
mod routes;
mod store;
mod usernames;

#[cfg(test)]
mod fuzz_tests;

use context::Ctx;
use error::{AppError, AppResult};
use qrgate_protocol::qr::Verdict;
use routes::{Resolved, Route};
use serde::Serialize;
use worker::{Context, Date, Env, Request, Response, event};

/// The KV namespace binding in `wrangler.toml`.
pub const KV_BINDING: &str = "QRGATE_KV";

pub use objects::attempt_counter::AttemptCounter;
pub use objects::qr_session::QrSessionObject;
pub use objects::sign_in_history::SignInHistory;
pub use objects::username_claim::UsernameClaim;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let now_ms = Date::now().as_millis();
    let is_page = req.path() == "/";
    let resolved = routes::resolve(req.method().as_ref(), &req.path());
    let route = match &resolved {
        _ if is_page => Some(page::ROUTE),
        Resolved::Found(route) => Some(route.pattern()),
        _ => None,
    };
    let colo = req.cf().map(|cf| cf.colo());
    let mut kv_counts = None;
    let handled = if is_page {
        page::serve(req, env).await
    } else {
        handle(req, env, resolved, now_ms, &mut kv_counts).await
    };
    let (response, error) = match handled {
        Ok(response) => (response, None),
        Err(error) => {
            let code = error.code();
            (error.into_response(), Some(code))
        }
    };
    logs::write(&logs::Line::Request {
        route,
        status: response.status_code(),
        duration_ms: Date::now().as_millis().saturating_sub(now_ms),
        colo: colo.as_deref(),
        error,
    });
    if response.status_code() == 101 {
        // The live channel's socket, as its object made it: its headers cannot be changed.
        return Ok(response);
    }
    let headers = response.headers();
    // Tokens, poll answers and the page with its first code must never be kept by a browser or
    // an intermediary.
    headers.set("Cache-Control", "no-store")?;
    headers.set("X-Content-Type-Options", "nosniff")?;
    // The edge's clock, by which a DPoP proof's `iat` is judged: a client whose clock is off
    // sets its proofs by it. (Deployed, Cloudflare's own `Date` header says the same.)
    headers.set("Date", &http_date(now_ms))?;
    if let Some(counts) = kv_counts {
        headers.set("X-Qrgate-Kv", &counts)?;
    }
    Ok(response)
}

/// `now_ms` as an HTTP date (RFC 9110 §5.6.7), e.g. `Wed, 25 Nov 2026 04:10:00 GMT`.
fn http_date(now_ms: u64) -> String {
    js_sys::Date::new(&(now_ms as f64).into())
        .to_utc_string()
        .into()
}

async fn handle(
    req: Request,
    env: Env,
    resolved: Resolved,
    now_ms: u64,
    kv_counts: &mut Option<String>,
) -> AppResult<Response> {
    let route = match resolved {
        Resolved::Found(route) => route,
        Resolved::NotFound => return Err(AppError::NotFound("API route")),
        Resolved::MethodNotAllowed(allowed) => return Err(AppError::MethodNotAllowed(allowed)),
    };
    if let Route::LiveQr(qr_id) = &route {
        // No device headers and no body: the socket's first message carries the device.
        return api::qr::live(req, &env, qr_id).await;
    }
    let ctx = Ctx::from_request(req, env, route.takes_body(), now_ms).await?;
    let result = dispatch(&ctx, route).await;
    if ctx.config.kv_count_header {
        *kv_counts = Some(ctx.store.counts.header_value());
    }
    result
}

async fn dispatch(ctx: &Ctx, route: Route) -> AppResult<Response> {
    match route {
        Route::CreateAccount => api::accounts::create_account(ctx).await,
        Route::Login => api::accounts::login(ctx).await,
        Route::Logout => api::accounts::logout(ctx).await,
        Route::Me => api::accounts::me(ctx).await,
        Route::ListDevices => api::accounts::list_devices(ctx).await,
        Route::SignIns => api::accounts::sign_ins(ctx).await,
        Route::RevokeDevice(device_id) => api::accounts::revoke_device(ctx, &device_id).await,
        Route::CreateQr => api::qr::create(ctx).await,
        Route::PollQr(qr_id) => api::qr::poll(ctx, &qr_id).await,
        Route::CancelQr(qr_id) => api::qr::cancel(ctx, &qr_id).await,
        Route::ScanQr(qr_id) => api::qr::scan(ctx, &qr_id).await,
        Route::ConfirmQr(qr_id) => api::qr::decide(ctx, &qr_id, Verdict::Confirmed).await,
        Route::DenyQr(qr_id) => api::qr::decide(ctx, &qr_id, Verdict::Denied).await,
        Route::LiveQr(_) => Err(AppError::Internal(
            "the live route is served before this".into(),
        )),
    }
}

pub(crate) fn json_response<T: Serialize>(status: u16, body: &T) -> AppResult<Response> {
    Ok(Response::builder()
        .with_status(status)
        .with_header("Content-Type", "application/json")?
        .fixed(serde_json::to_vec(body)?))
}

pub(crate) fn no_content() -> Response {
    Response::builder().with_status(204).empty()
}

//! The qrgate Worker: `shared/API.md`, with accounts and login tokens in Workers KV and each QR
//! session in its own Durable Object (`objects/qr_session/`), and an OpenID Provider beside it
//! (`oauth/`). This crate is the thin HTTP layer; the wire types and the pure rules live in
//! `qrgate-protocol`. The static app is served by Workers Static Assets; only `/api/*`, the
//! provider's `/oauth/*` and `/.well-known/*`, and the PC page at `/`, which comes with its
//! first code (`page/`), reach this code (`run_worker_first`).
//!
//! Built twice (features `front` and `objects`, see `Cargo.toml`): the front's bundle exports
//! the fetch handler, the objects' bundle the Durable Object classes.

// Each of the two bundles compiles the whole crate and uses half of it; the host's build (both
// features, which clippy checks) still denies whatever is unused there.
#![cfg_attr(
    not(all(feature = "front", feature = "objects")),
    allow(dead_code, unused_imports)
)]

mod api;
mod auth;
mod config;
mod context;
mod crypto;
mod dpop;
mod error;
mod history;
mod jws;
mod limits;
mod logs;
mod oauth;
mod objects;
mod page;
mod routes;
mod store;
mod user_codes;
mod usernames;
mod webcrypto;

#[cfg(test)]
mod fuzz_tests;

use context::Ctx;
use error::{AppError, AppResult};
use qrgate_protocol::qr::Verdict;
use routes::{ApiRoute, ProviderRoute, Resolved, Route};
use serde::Serialize;
use worker::{Context, Date, Env, Request, Response, event};

/// The KV namespace binding in `wrangler.toml`.
pub const KV_BINDING: &str = "QRGATE_KV";

pub use objects::attempt_counter::AttemptCounter;
pub use objects::grant::OAuthGrant;
pub use objects::keyring::AccountKeyring;
pub use objects::passkey_challenge::PasskeyChallenge;
pub use objects::qr_session::QrSessionObject;
pub use objects::sign_in_history::SignInHistory;
pub use objects::username_claim::UsernameClaim;

#[cfg_attr(feature = "front", event(fetch))]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let now_ms = Date::now().as_millis();
    let colo = req.cf().map(|cf| cf.colo());
    let mut kv_counts = None;
    // The provider's metadata may be kept a few minutes; nothing else may be kept at all.
    let mut cacheable = false;
    let (route, response, error) = if req.path() == "/" {
        let (response, error) = api_answer(page::serve(req, env, page::Mode::SignIn).await);
        (Some(page::ROUTE), response, error)
    } else {
        match routes::resolve(req.method().as_ref(), &req.path()) {
            Resolved::Found(Route::Provider(route)) => {
                cacheable = matches!(route, ProviderRoute::Discovery | ProviderRoute::Jwks);
                let (response, error) = oauth::serve(req, env, route, now_ms).await;
                (
                    Some(route.pattern()),
                    response,
                    error.map(logs::Error::OAuth),
                )
            }
            Resolved::Found(Route::Api(route)) => {
                let pattern = route.pattern();
                let handled = api(req, env, route, now_ms, &mut kv_counts).await;
                let (response, error) = api_answer(handled);
                (Some(pattern), response, error)
            }
            Resolved::NotFound => {
                let (response, error) = api_answer(Err(AppError::NotFound("route")));
                (None, response, error)
            }
            Resolved::MethodNotAllowed(allowed) => {
                let (response, error) = api_answer(Err(AppError::MethodNotAllowed(allowed)));
                (None, response, error)
            }
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
    // Tokens, poll answers and the pages with their first code or an authorization's handle
    // must never be kept by a browser or an intermediary.
    if !cacheable {
        headers.set("Cache-Control", "no-store")?;
    }
    headers.set("X-Content-Type-Options", "nosniff")?;
    // The edge's clock, by which a DPoP proof's `iat` is judged: a client whose clock is off
    // sets its proofs by it. (Deployed, Cloudflare's own `Date` header says the same.)
    headers.set("Date", &http_date(now_ms))?;
    if let Some(counts) = kv_counts {
        headers.set("X-Qrgate-Kv", &counts)?;
    }
    Ok(response)
}

/// The answer of an API route or the page, and its error code for the log.
fn api_answer(handled: AppResult<Response>) -> (Response, Option<logs::Error>) {
    match handled {
        Ok(response) => (response, None),
        Err(error) => {
            let code = error.code();
            (error.into_response(), Some(logs::Error::Api(code)))
        }
    }
}

/// `now_ms` as an HTTP date (RFC 9110 §5.6.7), e.g. `Wed, 25 Nov 2026 04:10:00 GMT`.
fn http_date(now_ms: u64) -> String {
    js_sys::Date::new(&(now_ms as f64).into())
        .to_utc_string()
        .into()
}

async fn api(
    req: Request,
    env: Env,
    route: ApiRoute,
    now_ms: u64,
    kv_counts: &mut Option<String>,
) -> AppResult<Response> {
    // No device headers and no body: the socket's first message carries the device.
    match &route {
        ApiRoute::LiveQr(qr_id) => return api::qr::live(req, &env, qr_id).await,
        ApiRoute::LiveAccount(account_id) => {
            return api::live::account(req, &env, account_id).await;
        }
        _ => {}
    }
    let ctx = Ctx::from_request(req, env, route.takes_body(), now_ms).await?;
    let result = dispatch(&ctx, route).await;
    if ctx.config.kv_count_header {
        *kv_counts = Some(ctx.store.counts.header_value());
    }
    result
}

/// The API's router: each route to its handler.
async fn dispatch(ctx: &Ctx, route: ApiRoute) -> AppResult<Response> {
    use api::{accounts, authorizations, grants, passkeys, qr, user_codes};
    match route {
        ApiRoute::CreateAccount => accounts::create_account(ctx).await,
        ApiRoute::Login => accounts::login(ctx).await,
        ApiRoute::Logout => accounts::logout(ctx).await,
        ApiRoute::Me => accounts::me(ctx).await,
        ApiRoute::ListDevices => accounts::list_devices(ctx).await,
        ApiRoute::SignIns => accounts::sign_ins(ctx).await,
        ApiRoute::RevokeDevice(device_id) => accounts::revoke_device(ctx, &device_id).await,
        ApiRoute::CreateQr => qr::create(ctx).await,
        ApiRoute::PollQr(qr_id) => qr::poll(ctx, &qr_id).await,
        ApiRoute::CancelQr(qr_id) => qr::cancel(ctx, &qr_id).await,
        ApiRoute::ScanQr(qr_id) => qr::scan(ctx, &qr_id).await,
        ApiRoute::ConfirmQr(qr_id) => qr::decide(ctx, &qr_id, Verdict::Confirmed).await,
        ApiRoute::DenyQr(qr_id) => qr::decide(ctx, &qr_id, Verdict::Denied).await,
        ApiRoute::ContinueAuthorization => authorizations::continue_authorization(ctx).await,
        ApiRoute::ListGrants => grants::list(ctx).await,
        ApiRoute::RevokeGrant(grant_id) => grants::revoke(ctx, &grant_id).await,
        ApiRoute::FindUserCode => user_codes::find(ctx).await,
        ApiRoute::PasskeyChallenge => passkeys::challenge(ctx).await,
        ApiRoute::RegisterPasskey => passkeys::register(ctx).await,
        ApiRoute::ListPasskeys => passkeys::list(ctx).await,
        ApiRoute::RenamePasskey(passkey_id) => passkeys::rename(ctx, &passkey_id).await,
        ApiRoute::RemovePasskey(passkey_id) => passkeys::remove(ctx, &passkey_id).await,
        ApiRoute::PasskeyLogin => passkeys::login(ctx).await,
        ApiRoute::PasskeySignUp => passkeys::sign_up(ctx).await,
        ApiRoute::LiveQr(_) | ApiRoute::LiveAccount(_) => Err(AppError::Internal(
            "the live routes are served before this".into(),
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

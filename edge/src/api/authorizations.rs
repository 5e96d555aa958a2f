//! `POST /api/authorizations` (`shared/API.md`, "Single sign-on"): a browser already signed in
//! to qrgate, by any of its pages, signs the person in to the app of the PC page's
//! authorization request with one click and no phone. The code's `auth_time` and `amr` are then
//! the token's own: when that browser signed in, and how.

use crate::auth::{Authenticated, authenticate, renew_in_use};
use crate::context::Ctx;
use crate::error::{AppError, AppResult};
use crate::oauth::grants::{self, SignedIn};
use crate::oauth::{Registry, handle, issuer};
use qrgate_protocol::Via;
use qrgate_protocol::oauth::authorize::Prompt;
use qrgate_protocol::oauth::{Amr, ContinueRequest, RedirectTo};
use worker::Response;

pub async fn continue_authorization(ctx: &Ctx) -> AppResult<Response> {
    let request: ContinueRequest = ctx.json()?;
    let registry = Registry::load(&ctx.env)?;
    let app = handle::for_app(&registry, &request.authorization, ctx.now_seconds())
        .ok_or_else(handle::stale)?;
    let Authenticated {
        account, session, ..
    } = authenticate(ctx).await?;
    // `prompt=login`, or a sign-in older than `max_age`, needs a fresh phone scan.
    let age = ctx.now_seconds().saturating_sub(session.created_at);
    let too_old = app.request.max_age.is_some_and(|max_age| age > max_age);
    if app.request.prompt == Prompt::Login || too_old {
        return Err(AppError::Forbidden(
            "This app asks for a fresh sign-in: scan the code with your phone.",
        ));
    }
    let signed_in = SignedIn {
        account: &account,
        auth_time: session.created_at,
        amr: match session.via {
            Via::Qr => Amr::Mca,
            Via::Password => Amr::Pwd,
            Via::Passkey => Amr::Hwk,
        },
        device_name: &session.device_name,
        via: session.via,
    };
    let issuer = issuer(&ctx.config, &ctx.origin);
    let (redirect_to, renewal_due) = grants::issue_code(ctx, &issuer, &app, signed_in).await?;
    if renewal_due {
        renew_in_use(ctx, &account).await;
    }
    crate::json_response(200, &RedirectTo { redirect_to })
}

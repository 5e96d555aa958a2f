//! The sign-in history (`GET /api/sign-ins`): each account's in its own Durable Object
//! (`history_object.rs`), recorded when a token is issued (a password login, the PC's pick-up
//! of a QR sign-in) with what the edge saw of the device that signed in.

use crate::accounts::authenticate;
use crate::context::Ctx;
use crate::error::AppResult;
use crate::history_object::HistoryCommand;
use qrgate_protocol::{SignInEntry, SignInsResponse, Via};
use worker::{Response, Stub};

/// The Durable Object namespace of the histories, in `wrangler.toml`.
pub const SIGN_IN_HISTORY_BINDING: &str = "SIGN_IN_HISTORY";

fn history(ctx: &Ctx, account_id: &str) -> AppResult<Stub> {
    let namespace = ctx.env.durable_object(SIGN_IN_HISTORY_BINDING)?;
    Ok(namespace
        .id_from_name(&format!("account:{account_id}"))?
        .get_stub()?)
}

/// Records a sign-in of `account_id` by this request's device, now, seen where the request
/// came from ([`crate::accounts::sign_in`] hands a token out only once it is recorded), and
/// answers whether the account is due a renewal (at most once a day).
pub async fn record(ctx: &Ctx, account_id: &str, device_name: &str, via: Via) -> AppResult<bool> {
    let device = &ctx.device;
    let entry = SignInEntry {
        at: ctx.now_seconds(),
        device_id: device.device_id.clone(),
        device_type: device.device_type,
        device_name: device_name.to_owned(),
        via,
        country: ctx.location.country.clone(),
        city: ctx.location.city.clone(),
        network: ctx.location.network.clone(),
    };
    crate::objects::call(&history(ctx, account_id)?, &HistoryCommand::Record(entry)).await
}

/// `GET /api/sign-ins`.
pub async fn sign_ins(ctx: &Ctx) -> AppResult<Response> {
    let auth = authenticate(ctx).await?;
    let sign_ins: Vec<SignInEntry> = crate::objects::call(
        &history(ctx, &auth.account.account_id)?,
        &HistoryCommand::List,
    )
    .await?;
    crate::json_response(200, &SignInsResponse { sign_ins })
}

//! The sign-in history (`GET /api/sign-ins`): each account's in its own Durable Object
//! (`objects/sign_in_history.rs`), recorded when a token is issued (a password login, the PC's
//! pick-up of a QR sign-in) with what the edge saw of the device that signed in.

use crate::context::Ctx;
use crate::error::AppResult;
use crate::objects::sign_in_history::HistoryCommand;
use qrgate_protocol::{SignInEntry, Via};
use worker::Stub;

/// The Durable Object namespace of the histories, in `wrangler.toml`.
pub const SIGN_IN_HISTORY_BINDING: &str = "SIGN_IN_HISTORY";

fn history(ctx: &Ctx, account_id: &str) -> AppResult<Stub> {
    let namespace = ctx.env.durable_object(SIGN_IN_HISTORY_BINDING)?;
    Ok(namespace
        .id_from_name(&format!("account:{account_id}"))?
        .get_stub()?)
}

/// Records a sign-in of `account_id` by this request's device, now, seen where the request
/// came from ([`crate::auth::sign_in`] hands a token out only once it is recorded), and
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

/// The account's sign-ins still kept, newest first.
pub async fn list(ctx: &Ctx, account_id: &str) -> AppResult<Vec<SignInEntry>> {
    crate::objects::call(&history(ctx, account_id)?, &HistoryCommand::List).await
}

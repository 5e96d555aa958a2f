//! Each account's history in its own Durable Object (`objects/sign_in_history/`): its
//! sign-ins (`GET /api/sign-ins`), recorded when a token or an app's code is issued, with what
//! the edge saw of the device that signed in; and the apps it is connected to
//! (`GET /api/grants`), each listed by the sign-in that made its grant; and which token each
//! device holds, the authority that a sign-out reaches at once everywhere.

use crate::context::Ctx;
use crate::error::{AppError, AppResult};
use crate::objects::sign_in_history::{HistoryCommand, TokenStanding};
use qrgate_protocol::history::{ConnectedApp, RecordOutcome};
use qrgate_protocol::oauth::GrantEntry;
use qrgate_protocol::{SignInEntry, Via};
use worker::{Env, Stub};

/// The Durable Object namespace of the histories, in `wrangler.toml`.
pub const SIGN_IN_HISTORY_BINDING: &str = "SIGN_IN_HISTORY";

/// The account's object: its history, the authority on its tokens, and its live channel.
pub fn history(env: &Env, account_id: &str) -> AppResult<Stub> {
    let namespace = env.durable_object(SIGN_IN_HISTORY_BINDING)?;
    Ok(namespace
        .id_from_name(&format!("account:{account_id}"))?
        .get_stub()?)
}

/// A sign-in by this request's device, now, as the edge saw it.
pub fn entry(ctx: &Ctx, device_name: &str, via: Via) -> SignInEntry {
    let device = &ctx.device;
    SignInEntry {
        at: ctx.now_seconds(),
        device_id: device.device_id.clone(),
        device_type: device.device_type,
        device_name: device_name.to_owned(),
        via,
        country: ctx.location.country.clone(),
        city: ctx.location.city.clone(),
        network: ctx.location.network.clone(),
        client_id: None,
        client_name: None,
    }
}

/// Records a sign-in of `account_id` by this request's device, which is given the token of
/// hash `token_hash`, bound to the key of thumbprint `key` if it is bound
/// ([`crate::auth::sign_in`] hands it out only once it is recorded), and
/// answers whether the account is due a renewal (at most once a day).
pub async fn record(
    ctx: &Ctx,
    account_id: &str,
    device_name: &str,
    via: Via,
    (token_hash, key): (String, Option<String>),
    expires_at: u64,
) -> AppResult<bool> {
    let command = HistoryCommand::Record {
        entry: entry(ctx, device_name, via),
        token_hash,
        key,
        expires_at_ms: expires_at * 1000,
    };
    crate::objects::call(&history(&ctx.env, account_id)?, &command).await
}

/// Tells the account's object that the renewal it said was due did not happen, so its next
/// sign-in is told again. Best effort: if the object cannot be told, the renewal is due a day
/// later.
pub async fn renewal_still_due(env: &Env, account_id: &str) {
    if let Ok(stub) = history(env, account_id) {
        let _: AppResult<()> = crate::objects::call(&stub, &HistoryCommand::RenewalStillDue).await;
    }
}

/// Tells the account's object that `device_id` signed out: whether it held a token.
pub async fn sign_out(env: &Env, account_id: &str, device_id: &str) -> AppResult<bool> {
    let command = HistoryCommand::SignOut {
        device_id: device_id.to_owned(),
    };
    crate::objects::call(&history(env, account_id)?, &command).await
}

/// What the account's object says of the token of hash `token_hash` on `device_id`.
pub async fn standing(
    env: &Env,
    account_id: &str,
    device_id: &str,
    token_hash: &str,
) -> AppResult<TokenStanding> {
    let command = HistoryCommand::Standing {
        device_id: device_id.to_owned(),
        token_hash: token_hash.to_owned(),
    };
    crate::objects::call(&history(env, account_id)?, &command).await
}

/// Records `sign_in`, to `app`, and lists the app by its grant (`oauth/grants.rs` hands the
/// grant out only once this is done); answers whether the account is due a renewal. `409` when
/// the account is connected to too many apps.
pub async fn record_app(
    env: &Env,
    account_id: &str,
    sign_in: SignInEntry,
    app: ConnectedApp,
) -> AppResult<bool> {
    let command = HistoryCommand::RecordApp {
        entry: SignInEntry {
            client_id: Some(app.entry.client_id.clone()),
            client_name: Some(app.entry.client_name.clone()),
            ..sign_in
        },
        app,
    };
    match crate::objects::call(&history(env, account_id)?, &command).await? {
        RecordOutcome::Done { renewal_due } => Ok(renewal_due),
        RecordOutcome::TooManyApps => Err(AppError::Conflict(
            "This account is connected to too many apps: remove one on the phone first.",
        )),
    }
}

/// The account's sign-ins still kept, newest first.
pub async fn list(ctx: &Ctx, account_id: &str) -> AppResult<Vec<SignInEntry>> {
    crate::objects::call(&history(&ctx.env, account_id)?, &HistoryCommand::List).await
}

/// The apps the account is connected to, newest first.
pub async fn apps(ctx: &Ctx, account_id: &str) -> AppResult<Vec<GrantEntry>> {
    crate::objects::call(&history(&ctx.env, account_id)?, &HistoryCommand::Apps).await
}

/// Takes a grant off the account's list: whether it was on it.
pub async fn disconnect_app(env: &Env, account_id: &str, grant_id: &str) -> AppResult<bool> {
    let command = HistoryCommand::Disconnect {
        grant_id: grant_id.to_owned(),
    };
    crate::objects::call(&history(env, account_id)?, &command).await
}

/// Notes on the account's list that a grant was used at `at` (Unix seconds).
pub async fn app_used(env: &Env, account_id: &str, grant_id: &str, at: u64) -> AppResult<()> {
    let command = HistoryCommand::Used {
        grant_id: grant_id.to_owned(),
        at,
    };
    crate::objects::call(&history(env, account_id)?, &command).await
}

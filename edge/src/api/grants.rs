//! The apps an account is connected to (`shared/API.md`, "Connected apps"): listed by the
//! account's history object, which may lag nothing; removed by revoking the grant in its own
//! object, which every location asks before it honours one of the grant's tokens, so a removal
//! holds at once everywhere.

use crate::auth::authenticate;
use crate::context::Ctx;
use crate::error::{AppError, AppResult};
use crate::history;
use crate::oauth::grants;
use crate::objects::grant::Revoker;
use futures_util::future::try_join;
use qrgate_protocol::oauth::GrantsResponse;
use qrgate_protocol::oauth::grant::is_grant_id;
use worker::Response;

/// `GET /api/grants`.
pub async fn list(ctx: &Ctx) -> AppResult<Response> {
    let auth = authenticate(ctx).await?;
    let grants = history::apps(ctx, &auth.account.account_id).await?;
    crate::json_response(200, &GrantsResponse { grants })
}

/// `DELETE /api/grants/{grant_id}`: the grant is revoked, and off the list. One that is on the
/// list though its object is gone already (a code never redeemed) is taken off too.
pub async fn revoke(ctx: &Ctx, raw_id: &str) -> AppResult<Response> {
    if !is_grant_id(raw_id) {
        return Err(AppError::invalid(
            "The grant id in the path must be 64 lower-case hex digits.",
        ));
    }
    let auth = authenticate(ctx).await?;
    auth.settled(ctx)?;
    let account_id = auth.account.account_id;
    let revoker = Revoker::Account {
        account_id: account_id.clone(),
    };
    let (revoked, listed) = try_join(
        grants::revoke(&ctx.env, raw_id, revoker),
        history::disconnect_app(&ctx.env, &account_id, raw_id),
    )
    .await?;
    if revoked.is_some() || listed {
        Ok(crate::no_content())
    } else {
        Err(AppError::NotFound("grant of this account"))
    }
}

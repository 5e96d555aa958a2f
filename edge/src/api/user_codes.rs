//! `POST /api/user-codes` (`shared/API.md`, "Devices without a browser"): a phone that cannot
//! scan the device's QR types its user code, and is told the device's session, to open its
//! confirm page. The code's holder is asked in its own object (`user_codes.rs`), so a code
//! works at once from any location; every look-up is counted before it is made, as a login
//! is, and one that finds its code is taken back.

use crate::api::qr::qr_url;
use crate::auth::authenticate;
use crate::context::Ctx;
use crate::error::{AppError, AppResult};
use crate::limits;
use crate::user_codes;
use qrgate_protocol::oauth::device::{UserCodeRequest, UserCodeResponse, normalize_user_code};
use worker::Response;

/// `POST /api/user-codes`.
pub async fn find(ctx: &Ctx) -> AppResult<Response> {
    let request: UserCodeRequest = ctx.json()?;
    let auth = authenticate(ctx).await?;
    let counted = limits::admit_user_code(ctx, &auth.account.account_id).await?;
    // A code that cannot be one is an unknown code, and counts as one.
    let holder = match normalize_user_code(&request.user_code) {
        Some(code) => user_codes::find(&ctx.env, &code).await?,
        None => None,
    };
    let qr_id = holder.ok_or(AppError::NotFound("device with this code"))?;
    limits::forgive(counted).await;
    let qr_url = qr_url(&ctx.origin, &qr_id);
    crate::json_response(200, &UserCodeResponse { qr_id, qr_url })
}

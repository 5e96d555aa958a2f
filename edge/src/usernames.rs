//! Usernames: each granted to one account by its own Durable Object (`objects/username_claim.rs`)
//! before the account is stored in KV, and held as long as the account lives. A sign-up that
//! finds the name held by another account is `409`, wherever either of them happened.

use crate::context::Ctx;
use crate::crypto::hash_secret;
use crate::error::{AppError, AppResult};
use crate::objects::username_claim::ClaimCommand;
use worker::{Env, Stub};

/// The Durable Object namespace of the usernames, in `wrangler.toml`; it holds the devices'
/// user codes too (`user_codes.rs`).
pub const USERNAMES_BINDING: &str = "USERNAMES";
/// How much longer than its account a name stays held: the account's record must be gone
/// from KV everywhere (its TTL, any cached copy) before another sign-up can take the name, or
/// that sign-up would replace an account someone still signs in to.
const HELD_BEYOND_ACCOUNT_SECONDS: u64 = 24 * 3600;

/// The object of the name `name` of `kind` (a hash: the objects' names reveal no name).
pub fn name_object(env: &Env, kind: &str, name: &str) -> AppResult<Stub> {
    let namespace = env.durable_object(USERNAMES_BINDING)?;
    Ok(namespace
        .id_from_name(&format!("{kind}:{}", hash_secret(name)))?
        .get_stub()?)
}

fn holder_of(ctx: &Ctx, username: &str) -> AppResult<Stub> {
    name_object(&ctx.env, "username", username)
}

/// Claims `username` for `account_id`, whose record lives until `account_expires_at`: `409`
/// when another account holds it. The holder's own claim renews its hold.
pub async fn claim(
    ctx: &Ctx,
    username: &str,
    account_id: &str,
    account_expires_at: u64,
) -> AppResult<()> {
    let command = ClaimCommand::Claim {
        holder_id: account_id.to_owned(),
        until: account_expires_at + HELD_BEYOND_ACCOUNT_SECONDS,
    };
    let granted: bool = crate::objects::call(&holder_of(ctx, username)?, &command).await?;
    if granted {
        Ok(())
    } else {
        Err(AppError::Conflict("This username is taken."))
    }
}

/// Gives `username` back after its account could not be stored, best effort: if the object
/// cannot be told, the name stays held by an account that does not exist until the hold ends.
pub async fn release(ctx: &Ctx, username: &str, account_id: &str) {
    let command = ClaimCommand::Release {
        holder_id: account_id.to_owned(),
    };
    if let Ok(stub) = holder_of(ctx, username) {
        let _: AppResult<()> = crate::objects::call(&stub, &command).await;
    }
}

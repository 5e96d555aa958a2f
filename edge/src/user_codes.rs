//! Devices' user codes (RFC 8628 §6.1): each held by its device's QR session in the object of
//! its name (`objects/username_claim.rs`), the one writer that gives a code to one session at a
//! time, so that a code typed on a phone at any location finds its device at once (KV would
//! take 60 s or more to carry it there, and would cache the "not found" of an early look-up).

use crate::error::AppResult;
use crate::objects::username_claim::ClaimCommand;
use crate::usernames::name_object;
use worker::Env;

const KIND: &str = "user-code";

/// Gives `code` to the session `qr_id` until `until` (Unix seconds): whether it was free.
pub async fn claim(env: &Env, code: &str, qr_id: &str, until: u64) -> AppResult<bool> {
    let command = ClaimCommand::Claim {
        holder_id: qr_id.to_owned(),
        until,
    };
    crate::objects::call(&name_object(env, KIND, code)?, &command).await
}

/// The session that holds `code` now, if one does.
pub async fn find(env: &Env, code: &str) -> AppResult<Option<String>> {
    crate::objects::call(&name_object(env, KIND, code)?, &ClaimCommand::Find).await
}

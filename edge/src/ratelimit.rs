//! Brute-force limits.
//!
//! Password logins: a log of failures in KV, one key per failure (KV cannot increment a
//! counter atomically and takes one write per second per key, so a counter would lose counts
//! under exactly the load it is meant to stop). The check lists the subject's failures.
//! QR creation: the Workers rate-limiting binding, per client address.

use crate::context::Ctx;
use crate::crypto::{hash_secret, hex, random_bytes};
use crate::error::{AppError, AppResult};
use crate::store::keys;
use futures_util::future::try_join;
use serde::{Deserialize, Serialize};

pub const QR_CREATE_LIMITER: &str = "QR_CREATE_LIMITER";
/// The `period` of the `QR_CREATE_LIMITER` binding in `wrangler.toml`.
const QR_CREATE_PERIOD_SECONDS: u64 = 10;

#[derive(Serialize, Deserialize)]
struct Failure {
    at_ms: u64,
}

fn subjects(ctx: &Ctx, username: &str) -> [(String, usize); 2] {
    [
        (
            format!("user:{}", hash_secret(username)),
            ctx.config.login_failures_per_username,
        ),
        (
            format!("addr:{}", hash_secret(&ctx.client_address)),
            ctx.config.login_failures_per_address,
        ),
    ]
}

/// `429` while the username or the client address has had its limit of failed logins within
/// the window; `Retry-After` says when the oldest failure that keeps it over will age out.
pub async fn check_login(ctx: &Ctx, username: &str) -> AppResult<()> {
    let [user, addr] = subjects(ctx, username);
    let window_ms = ctx.config.login_failure_window_seconds * 1000;
    let since = ctx.now_ms.saturating_sub(window_ms);
    let (user_log, addr_log) = try_join(
        ctx.store.list::<Failure>(&keys::failures_of(&user.0)),
        ctx.store.list::<Failure>(&keys::failures_of(&addr.0)),
    )
    .await?;
    let mut retry_after_ms = None;
    for (log, limit) in [(user_log, user.1), (addr_log, addr.1)] {
        let mut times: Vec<u64> = log
            .into_iter()
            .map(|(_, failure)| failure.at_ms)
            .filter(|&at| at > since)
            .collect();
        if limit > 0 && times.len() >= limit {
            times.sort_unstable();
            let frees_at = times[times.len() - limit] + window_ms;
            let wait = frees_at.saturating_sub(ctx.now_ms);
            retry_after_ms = Some(retry_after_ms.map_or(wait, |w: u64| w.max(wait)));
        }
    }
    match retry_after_ms {
        None => Ok(()),
        Some(ms) => Err(AppError::RateLimited {
            retry_after_seconds: ms.div_ceil(1000).max(1),
        }),
    }
}

/// Logs one failed login against both the username and the client address.
pub async fn record_login_failure(ctx: &Ctx, username: &str) -> AppResult<()> {
    let expires_at = ctx.now_seconds() + ctx.config.login_failure_window_seconds;
    let failure = Failure { at_ms: ctx.now_ms };
    for (subject, _) in subjects(ctx, username) {
        let key = keys::failure(&subject, ctx.now_ms, &hex(&random_bytes::<6>()?));
        ctx.store
            .put_listed(&key, &"", &failure, expires_at)
            .await?;
    }
    Ok(())
}

/// `429` when this client address creates QR sessions faster than the binding allows.
pub async fn check_qr_create(ctx: &Ctx) -> AppResult<()> {
    let limiter = ctx.env.rate_limiter(QR_CREATE_LIMITER)?;
    let outcome = limiter
        .limit(format!("qr-create:{}", ctx.client_address))
        .await?;
    if outcome.success {
        Ok(())
    } else {
        Err(AppError::RateLimited {
            retry_after_seconds: QR_CREATE_PERIOD_SECONDS,
        })
    }
}

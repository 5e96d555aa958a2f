//! Abuse limits (`shared/API.md`): failed password logins per username and per client address,
//! unknown user codes per account and per client address, sign-ups per client address, each
//! counted exactly by one Durable Object per counted key (`objects/attempt_counter.rs`); QR
//! creation per client address by the Workers rate-limiting binding.
//!
//! A login is admitted by both of its counters before its password is checked: 30 concurrent
//! guesses for one username are counted one after another, the first ten are judged and the
//! others refused, and the right password among the refused is refused too. A login that
//! turns out right is taken back from both counts. So the answer to a refused attempt (`429`)
//! never depends on whether the username exists. A counter that cannot be reached fails the
//! attempt with `503`: never an unlimited pass.

use crate::context::Ctx;
use crate::crypto::hash_secret;
use crate::error::{AppError, AppResult};
use crate::objects::attempt_counter::CounterCommand;
use futures_util::future::{join_all, try_join};
use qrgate_protocol::limit::{Admission, Window};
use worker::{Env, Stub};

/// The Durable Object namespace of the counters, in `wrangler.toml`.
pub const ATTEMPT_COUNTERS_BINDING: &str = "ATTEMPT_COUNTERS";
pub const QR_CREATE_LIMITER: &str = "QR_CREATE_LIMITER";
/// The `period` of the `QR_CREATE_LIMITER` binding in `wrangler.toml`.
const QR_CREATE_PERIOD_SECONDS: u64 = 10;

/// An attempt a counter has admitted, which [`forgive`] takes back.
pub struct Counted {
    stub: Stub,
    at_ms: u64,
}

/// The counter of `key` (a hash: the objects' names reveal no username or address).
fn counter(ctx: &Ctx, key: &str) -> AppResult<Stub> {
    let namespace = ctx.env.durable_object(ATTEMPT_COUNTERS_BINDING)?;
    Ok(namespace.id_from_name(key)?.get_stub()?)
}

async fn admit(ctx: &Ctx, key: String, window: Window) -> AppResult<Result<Counted, u64>> {
    let stub = counter(ctx, &key)?;
    let admission = crate::objects::call(&stub, &CounterCommand::Admit(window)).await?;
    Ok(match admission {
        Admission::Admitted { at_ms } => Ok(Counted { stub, at_ms }),
        Admission::Refused {
            retry_after_seconds,
        } => Err(retry_after_seconds),
    })
}

/// Takes admitted attempts back, best effort: if a counter cannot be told, the attempt keeps
/// counting until it leaves the window, which only errs on the safe side.
pub async fn forgive(attempts: Vec<Counted>) {
    join_all(attempts.into_iter().map(|counted| async move {
        let forgive = CounterCommand::Forgive {
            at_ms: counted.at_ms,
        };
        let _: AppResult<()> = crate::objects::call(&counted.stub, &forgive).await;
    }))
    .await;
}

/// How many unknown user codes one account, and one client address, may look up within
/// [`USER_CODE_WINDOW_MS`] (`shared/API.md`, "Devices without a browser").
const USER_CODE_FAILURES_PER_ACCOUNT: usize = 10;
const USER_CODE_FAILURES_PER_ADDRESS: usize = 100;
const USER_CODE_WINDOW_MS: u64 = 10 * 60 * 1000;

/// Admits a login attempt for `username` from this client address, or answers `429` (after
/// taking back whichever of the two counters had admitted it).
pub async fn admit_login(ctx: &Ctx, username: &str) -> AppResult<Vec<Counted>> {
    let window_ms = ctx.config.login_failure_window_seconds * 1000;
    let per_username = Window {
        limit: ctx.config.login_failures_per_username,
        window_ms,
    };
    let per_address = Window {
        limit: ctx.config.login_failures_per_address,
        window_ms,
    };
    admit_both(
        ctx,
        (
            format!("login-user:{}", hash_secret(username)),
            per_username,
        ),
        (
            format!("login-address:{}", hash_secret(&ctx.client_address)),
            per_address,
        ),
    )
    .await
}

/// Admits a look-up of a user code by `account_id` from this client address, or answers `429`;
/// counted as logins are, and taken back when the code is found.
pub async fn admit_user_code(ctx: &Ctx, account_id: &str) -> AppResult<Vec<Counted>> {
    let window = |limit| Window {
        limit,
        window_ms: USER_CODE_WINDOW_MS,
    };
    admit_both(
        ctx,
        (
            format!("user-code-account:{}", hash_secret(account_id)),
            window(USER_CODE_FAILURES_PER_ACCOUNT),
        ),
        (
            format!("user-code-address:{}", hash_secret(&ctx.client_address)),
            window(USER_CODE_FAILURES_PER_ADDRESS),
        ),
    )
    .await
}

/// Admits an attempt by both of its counters, or answers `429` (after taking back whichever had
/// admitted it).
async fn admit_both(
    ctx: &Ctx,
    (first_key, first_window): (String, Window),
    (second_key, second_window): (String, Window),
) -> AppResult<Vec<Counted>> {
    let (first, second) = try_join(
        admit(ctx, first_key, first_window),
        admit(ctx, second_key, second_window),
    )
    .await?;
    match (first, second) {
        (Ok(first), Ok(second)) => Ok(vec![first, second]),
        (first, second) => {
            let retry_after_seconds = [&first, &second]
                .iter()
                .filter_map(|outcome| outcome.as_ref().err().copied())
                .max()
                .unwrap_or(1);
            forgive(first.into_iter().chain(second).collect()).await;
            Err(AppError::RateLimited {
                retry_after_seconds,
            })
        }
    }
}

/// Admits a sign-up from this client address, or answers `429`. It holds its place while it is
/// judged; [`count_if_created`] takes it back if it creates no account.
pub async fn admit_sign_up(ctx: &Ctx) -> AppResult<Counted> {
    let per_address = Window {
        limit: ctx.config.sign_ups_per_address,
        window_ms: ctx.config.sign_up_window_seconds * 1000,
    };
    let key = format!("sign-up:{}", hash_secret(&ctx.client_address));
    admit(ctx, key, per_address)
        .await?
        .map_err(|retry_after_seconds| AppError::RateLimited {
            retry_after_seconds,
        })
}

/// The limit counts accounts created (`shared/API.md`): a sign-up `refused` before its account
/// could be stored (a taken name, a passkey that does not hold) is taken back from the count.
pub async fn count_if_created<T>(counted: Counted, attempt: AppResult<T>) -> AppResult<T> {
    if attempt.is_err() {
        forgive(vec![counted]).await;
    }
    attempt
}

/// `429` when `client_address` creates QR sessions faster than the binding allows: by
/// `POST /api/qr`, or by loading the page that comes with its first code.
pub async fn check_qr_create(env: &Env, client_address: &str) -> AppResult<()> {
    check_creation_rate(env, "qr-create", client_address).await
}

/// `429` when `client_address` asks for passkey sign-in challenges (an object each) faster
/// than the same binding allows QR sessions.
pub async fn check_passkey_challenge(env: &Env, client_address: &str) -> AppResult<()> {
    check_creation_rate(env, "passkey-challenge", client_address).await
}

async fn check_creation_rate(env: &Env, what: &str, client_address: &str) -> AppResult<()> {
    let limiter = env.rate_limiter(QR_CREATE_LIMITER)?;
    let outcome = limiter
        .limit(format!("{what}:{client_address}"))
        .await
        .map_err(AppError::unavailable)?;
    if outcome.success {
        Ok(())
    } else {
        Err(AppError::RateLimited {
            retry_after_seconds: QR_CREATE_PERIOD_SECONDS,
        })
    }
}

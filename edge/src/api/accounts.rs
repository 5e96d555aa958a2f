//! The handlers of accounts: sign-up, password login, who a token is, its devices and its
//! sign-in history. Tokens themselves are `auth.rs`'s.

use crate::auth::{Authenticated, authenticate, device_name_or_default, renew, sign_in, sign_out};
use crate::context::Ctx;
use crate::crypto::{
    PASSWORD_ITERATIONS, constant_time_eq, decode, derive_password_key, encode, random_bytes,
};
use crate::error::{AppError, AppResult};
use crate::store::{AccountRecord, DeviceSessionRecord, DeviceSummary, LastSeen, keys};
use crate::{history, limits, usernames};
use futures_util::future::try_join;
use qrgate_protocol::{
    Account, CreateAccountRequest, DeviceEntry, DeviceInfo, DevicesResponse, LoginRequest,
    MeResponse, Secret, SessionInfo, SignInsResponse, Via, hex, validate,
};
use std::borrow::Cow;
use worker::Response;

/// A salt used for usernames that do not exist, so that they cost the same PBKDF2 work as a
/// wrong password and answer in similar time.
const ABSENT_ACCOUNT_SALT: [u8; 16] = *b"qrgate-no-such-a";

fn checked_username(username: &str) -> AppResult<&str> {
    validate::username(username)
        .ok_or_else(|| AppError::invalid("username must be 3–32 of a-z 0-9 . _ -"))
}

/// The username and password of a request, checked against the contract's rules.
fn credentials<'a>(username: &'a str, password: &'a Secret) -> AppResult<(&'a str, &'a str)> {
    let username = checked_username(username)?;
    let password = validate::password(password.expose())
        .ok_or_else(|| AppError::invalid("password must be 8–128 characters."))?;
    Ok((username, password))
}

/// A new account's username and display name (the username's when none is given), checked
/// against the contract's rules.
pub fn new_names<'a>(
    username: &'a str,
    display_name: Option<&'a str>,
) -> AppResult<(&'a str, Cow<'a, str>)> {
    let username = checked_username(username)?;
    let display_name = validate::display_name(display_name, username)
        .ok_or_else(|| AppError::invalid("display_name must be 1–64 characters."))?;
    Ok((username, display_name))
}

/// `409` for a name this location's KV holds already: the quick answer, before any work. The
/// name's object decides at the claim (`usernames::claim`), whatever KV has seen.
pub async fn refuse_taken(ctx: &Ctx, username: &str) -> AppResult<()> {
    match ctx
        .store
        .get::<AccountRecord>(&keys::account(username))
        .await?
    {
        Some(_) => Err(AppError::Conflict("This username is taken.")),
        None => Ok(()),
    }
}

/// `POST /api/accounts`.
pub async fn create_account(ctx: &Ctx) -> AppResult<Response> {
    let request: CreateAccountRequest = ctx.json()?;
    let (username, password) = credentials(&request.username, &request.password)?;
    let (_, display_name) = new_names(username, request.display_name.as_deref())?;
    // No credential here, but a malformed proof is refused on every route.
    ctx.refuse_malformed_proof()?;

    let counted = limits::admit_sign_up(ctx).await?;
    let claimed = claim_new_account(ctx, username, password, display_name).await;
    let (record, expires_at) = limits::count_if_created(counted, claimed).await?;
    // A write that fails may have been made: the name stays claimed, not handed to another
    // sign-up that would replace this account, and the sign-up stays counted.
    ctx.store
        .put(&keys::account(username), &record, expires_at)
        .await?;
    crate::json_response(201, &record.account)
}

/// A new account's record (and its expiry), its name claimed for it: `409` when taken.
async fn claim_new_account(
    ctx: &Ctx,
    username: &str,
    password: &str,
    display_name: Cow<'_, str>,
) -> AppResult<(AccountRecord, u64)> {
    // Without hashing a password for nothing.
    refuse_taken(ctx, username).await?;
    let salt = random_bytes::<16>()?;
    let hash = derive_password_key(password, &salt, PASSWORD_ITERATIONS).await?;
    let now = ctx.now_seconds();
    let expires_at = now + ctx.config.account_ttl_seconds;
    let record = AccountRecord {
        account: Account {
            account_id: hex(&random_bytes::<16>()?),
            username: username.to_owned(),
            display_name: display_name.into_owned(),
        },
        password_salt: encode(&salt),
        password_hash: encode(&hash),
        password_iterations: PASSWORD_ITERATIONS,
        created_at: now,
        renewed_at: now,
    };
    // The name's one writer decides, not KV: a sign-up for it at another location, or a moment
    // ago here, may not be in this location's KV yet.
    usernames::claim(ctx, username, &record.account.account_id, expires_at).await?;
    Ok((record, expires_at))
}

/// `POST /api/sessions`.
pub async fn login(ctx: &Ctx) -> AppResult<Response> {
    let request: LoginRequest = ctx.json()?;
    let (username, password) = credentials(&request.username, &request.password)?;
    let device_name = device_name_or_default(ctx, request.device_name.as_deref())?;
    let dpop_jkt = ctx.sign_in_proof().await?;

    // Counted as a failure before it is judged; taken back if the password is right.
    let counted = limits::admit_login(ctx, username).await?;
    let key = keys::account(username);
    let record = ctx.store.get::<AccountRecord>(&key).await?;
    // An account without a password costs the same work as one that does not exist.
    let record = record.filter(AccountRecord::has_password);
    let (salt, iterations) = match &record {
        Some(r) => (decode(&r.password_salt)?, r.password_iterations),
        None => (ABSENT_ACCOUNT_SALT.to_vec(), PASSWORD_ITERATIONS),
    };
    let derived = derive_password_key(password, &salt, iterations).await?;
    let record = match record {
        Some(r) if constant_time_eq(&derived, &decode(&r.password_hash)?) => r,
        _ => return Err(AppError::Unauthorized),
    };

    let (_, signed_in) = futures_util::future::join(
        limits::forgive(counted),
        sign_in(ctx, &record.account, &device_name, Via::Password, dpop_jkt),
    )
    .await;
    let signed_in = signed_in?;
    if signed_in.renewal_due {
        renew(ctx, &key, record).await;
    }
    crate::json_response(201, &signed_in.session)
}

/// `GET /api/me`.
pub async fn me(ctx: &Ctx) -> AppResult<Response> {
    let auth = authenticate(ctx).await?;
    crate::json_response(
        200,
        &MeResponse {
            account: auth.account,
            device: DeviceInfo {
                device_id: auth.device_id,
                device_type: auth.session.device_type,
                device_name: auth.session.device_name,
            },
            session: SessionInfo {
                created_at: auth.session.created_at,
                expires_at: auth.session.expires_at,
                via: auth.session.via,
                token_type: auth.token_type,
            },
        },
    )
}

/// `DELETE /api/sessions/current`.
pub async fn logout(ctx: &Ctx) -> AppResult<Response> {
    let auth = authenticate(ctx).await?;
    sign_out(ctx, &auth.account.account_id, &auth.device_id).await?;
    Ok(crate::no_content())
}

/// `GET /api/devices`.
pub async fn list_devices(ctx: &Ctx) -> AppResult<Response> {
    let auth = authenticate(ctx).await?;
    let account_id = &auth.account.account_id;
    let (sessions, seen) = try_join(
        ctx.store
            .list::<DeviceSummary>(&keys::devices_of(account_id)),
        ctx.store.list::<LastSeen>(&keys::seen_of(account_id)),
    )
    .await?;
    let now = ctx.now_seconds();
    let devices_prefix = keys::devices_of(account_id);
    let seen_prefix = keys::seen_of(account_id);
    let devices = sessions
        .into_iter()
        .filter(|(_, summary)| now < summary.expires_at)
        .filter_map(|(key, summary)| {
            let device_id = key.strip_prefix(&devices_prefix)?.to_owned();
            let last_seen = seen
                .iter()
                .find(|(k, _)| k.strip_prefix(&seen_prefix) == Some(device_id.as_str()))
                .map_or(0, |(_, s)| s.at);
            Some(DeviceEntry {
                current: device_id == auth.device_id,
                device_id,
                device_type: summary.device_type,
                device_name: summary.device_name,
                // A `seen` record older than this token belongs to the device's earlier token.
                last_seen_at: last_seen.max(summary.created_at),
                created_at: summary.created_at,
                via: summary.via,
            })
        })
        .collect();
    crate::json_response(200, &DevicesResponse { devices })
}

/// `DELETE /api/devices/{device_id}`.
pub async fn revoke_device(ctx: &Ctx, device_id: &str) -> AppResult<Response> {
    let device_id = validate::device_id(device_id)
        .ok_or_else(|| AppError::invalid("The device id in the path must be a UUID."))?;
    let auth = authenticate(ctx).await?;
    // Signing itself out is always allowed; another device, only with a settled token.
    if device_id != auth.device_id {
        auth.settled(ctx)?;
    }
    let account_id = &auth.account.account_id;
    let target = ctx
        .store
        .get::<DeviceSessionRecord>(&keys::device(account_id, &device_id))
        .await?;
    let listed_here = target.is_some_and(|record| ctx.now_seconds() < record.device.expires_at);
    // The account's object also knows a device signed in at another location a moment ago,
    // which KV has not carried here yet.
    let held = sign_out(ctx, account_id, &device_id).await?;
    if held || listed_here {
        Ok(crate::no_content())
    } else {
        Err(AppError::NotFound("device signed in to this account"))
    }
}

/// `GET /api/sign-ins`.
pub async fn sign_ins(ctx: &Ctx) -> AppResult<Response> {
    let Authenticated { account, .. } = authenticate(ctx).await?;
    let sign_ins = history::list(ctx, &account.account_id).await?;
    crate::json_response(200, &SignInsResponse { sign_ins })
}

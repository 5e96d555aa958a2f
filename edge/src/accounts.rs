//! Accounts, password login, login tokens and the device list.
//!
//! A login token is `<account_id>.<256 random bits>`. The account id in front lets the edge
//! find the one record that can validate it, `dev:<account_id>:<X-Device-Id>`, which holds
//! the token's hash. So a request is authenticated with one read, a token presented with
//! another device's headers finds another record (or none) and fails, and signing a device in
//! again simply overwrites that record, which retires its earlier token.

use crate::context::Ctx;
use crate::crypto::{
    PASSWORD_ITERATIONS, constant_time_eq, decode, derive_password_key, encode, hash_secret,
    random_bytes, random_secret,
};
use crate::error::{AppError, AppResult};
use crate::store::{AccountRecord, DeviceSessionRecord, DeviceSummary, LastSeen, keys};
use crate::{history, limits, usernames};
use futures_util::future::try_join;
use qrgate_protocol::history::RENEWAL_INTERVAL_SECONDS;
use qrgate_protocol::{
    Account, CreateAccountRequest, DeviceEntry, DeviceInfo, DevicesResponse, LoginRequest,
    LoginSession, MeResponse, Secret, SessionInfo, TokenType, Via, hex, validate,
};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use worker::Response;

/// How often `last_seen_at` may be rewritten for one device: often enough to be useful, rare
/// enough to stay far from KV's one write per second per key and its write cost.
const LAST_SEEN_RESOLUTION_SECONDS: u64 = 60;
/// Devices whose last `seen` write an isolate remembers before it starts afresh.
const SEEN_MEMO_CAPACITY: usize = 10_000;

thread_local! {
    /// When this isolate last wrote each device's `seen` record (by its key). Reading the record
    /// on every authenticated request would double that request's KV reads; instead each
    /// isolate writes it at most once a minute per device (a fresh isolate once more).
    static SEEN_WRITTEN: RefCell<HashMap<String, u64>> = RefCell::new(HashMap::new());
}
/// A salt used for usernames that do not exist, so that they cost the same PBKDF2 work as a
/// wrong password and answer in similar time.
const ABSENT_ACCOUNT_SALT: [u8; 16] = *b"qrgate-no-such-a";

/// A request that presented a valid login token for its device.
pub struct Authenticated {
    pub account: Account,
    pub device_id: String,
    pub session: DeviceSummary,
    pub token_type: TokenType,
}

/// Checks the login token and its binding: an unbound token is presented as `Bearer`, a token
/// bound to a key as `DPoP` with a proof by that key for this request and this token. Any proof
/// the request carries must hold.
pub async fn authenticate(ctx: &Ctx) -> AppResult<Authenticated> {
    ctx.refuse_malformed_proof()?;
    let credential = ctx.credential.as_ref().ok_or(AppError::Unauthorized)?;
    let token = &credential.secret;
    let (account_id, _) = token
        .expose()
        .split_once('.')
        .ok_or(AppError::Unauthorized)?;
    if account_id.len() != 32 || !account_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::Unauthorized);
    }
    let device_id = &ctx.device.device_id;
    let record = ctx
        .store
        .get::<DeviceSessionRecord>(&keys::device(account_id, device_id))
        .await?
        .ok_or(AppError::Unauthorized)?;
    let token_matches = constant_time_eq(
        hash_secret(token.expose()).as_bytes(),
        record.token_hash.as_bytes(),
    );
    let valid = token_matches
        && record.device.device_type == ctx.device.device_type
        && ctx.now_seconds() < record.device.expires_at;
    if !valid {
        return Err(AppError::Unauthorized);
    }
    let presented_key = ctx.proof(Some(token)).await?;
    let bound_key = record.dpop_jkt.as_deref();
    let binding_holds = match (bound_key, credential.scheme) {
        (Some(bound), TokenType::DPoP) => presented_key.as_deref() == Some(bound),
        (None, TokenType::Bearer) => true,
        // A bound token as Bearer, or an unbound token as DPoP.
        _ => false,
    };
    if !binding_holds {
        return Err(AppError::InvalidDpopProof);
    }
    note_seen(ctx, &keys::seen(account_id, device_id), &record.device).await;
    Ok(Authenticated {
        token_type: token_type(bound_key),
        account: record.account,
        device_id: device_id.clone(),
        session: record.device,
    })
}

/// Records that the device was seen now, if this isolate has not done so within the last
/// minute (a token younger than that was seen at its creation). Best effort: `last_seen_at` is
/// for the person reading the device list, and failing to store it must not fail the request.
async fn note_seen(ctx: &Ctx, key: &str, session: &DeviceSummary) {
    let now = ctx.now_seconds();
    let due = SEEN_WRITTEN.with_borrow_mut(|written| {
        let last = written.get(key).copied().unwrap_or(session.created_at);
        let due = now >= last + LAST_SEEN_RESOLUTION_SECONDS;
        if due {
            if written.len() >= SEEN_MEMO_CAPACITY {
                written.clear();
            }
            written.insert(key.to_owned(), now);
        }
        due
    });
    if due {
        let seen = LastSeen { at: now };
        if let Err(error) = ctx
            .store
            .put_listed(key, &seen, &seen, session.expires_at)
            .await
        {
            worker::console_warn!("last seen not stored: {error:?}");
        }
    }
}

/// How a token bound to `key` (or to none) is presented.
fn token_type(key: Option<&str>) -> TokenType {
    match key {
        Some(_) => TokenType::DPoP,
        None => TokenType::Bearer,
    }
}

/// A new login token, and whether the account's history found the account due a renewal,
/// which is then the caller's to make (it may hold the account's record already).
pub struct SignedIn {
    pub session: LoginSession,
    pub renewal_due: bool,
}

/// Signs `account` in on this request's device: records the sign-in in the account's history,
/// then stores a new login token. Recorded first, so a history may show a sign-in whose token
/// could not be stored, never miss one that was handed out. (Both side by side, the token
/// handed out only if both held, was measured for the PC's pick-up: no faster here.)
pub async fn sign_in(
    ctx: &Ctx,
    account: &Account,
    device_name: &str,
    via: Via,
    dpop_jkt: Option<String>,
) -> AppResult<SignedIn> {
    let renewal_due = history::record(ctx, &account.account_id, device_name, via).await?;
    // The new token replaces the device's earlier one, and is bound to the key of thumbprint
    // `dpop_jkt` if there is one.
    let device = &ctx.device;
    let token = format!("{}.{}", account.account_id, random_secret()?);
    let created_at = ctx.now_seconds();
    let expires_at = created_at + ctx.config.session_ttl_seconds;
    let summary = DeviceSummary {
        device_type: device.device_type,
        device_name: device_name.to_owned(),
        created_at,
        expires_at,
        via,
    };
    let token_type = token_type(dpop_jkt.as_deref());
    let record = DeviceSessionRecord {
        token_hash: hash_secret(&token),
        dpop_jkt,
        account: account.clone(),
        device: summary.clone(),
    };
    let key = keys::device(&account.account_id, &device.device_id);
    ctx.store
        .put_listed(&key, &record, &summary, expires_at)
        .await?;
    Ok(SignedIn {
        session: LoginSession {
            token: Secret::new(token),
            token_type,
            expires_at,
            account: account.clone(),
        },
        renewal_due,
    })
}

/// The username and password of a request, checked against the contract's rules.
fn credentials<'a>(username: &'a str, password: &'a Secret) -> AppResult<(&'a str, &'a str)> {
    let username = validate::username(username)
        .ok_or_else(|| AppError::invalid("username must be 3–32 of a-z 0-9 . _ -"))?;
    let password = validate::password(password.expose())
        .ok_or_else(|| AppError::invalid("password must be 8–128 characters."))?;
    Ok((username, password))
}

/// The `device_name` a client gave, cleaned, or the default for its device type.
pub fn device_name_or_default<'a>(ctx: &Ctx, given: Option<&'a str>) -> AppResult<Cow<'a, str>> {
    Ok(validate::device_name(given)
        .map_err(|_| AppError::invalid("device_name must be at most 64 characters."))?
        .unwrap_or(Cow::Borrowed(ctx.device.device_type.default_device_name())))
}

/// `POST /api/accounts`.
pub async fn create_account(ctx: &Ctx) -> AppResult<Response> {
    let request: CreateAccountRequest = ctx.json()?;
    let (username, password) = credentials(&request.username, &request.password)?;
    let display_name = validate::display_name(request.display_name.as_deref(), username)
        .ok_or_else(|| AppError::invalid("display_name must be 1–64 characters."))?;
    // No credential here, but a malformed proof is refused on every route.
    ctx.refuse_malformed_proof()?;

    limits::admit_sign_up(ctx).await?;
    let key = keys::account(username);
    // The answer for a name already stored here, without hashing a password for nothing.
    if ctx.store.get::<AccountRecord>(&key).await?.is_some() {
        return Err(AppError::Conflict("This username is taken."));
    }
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
    let account_id = &record.account.account_id;
    usernames::claim(ctx, username, account_id, expires_at).await?;
    if let Err(error) = ctx.store.put(&key, &record, expires_at).await {
        usernames::release(ctx, username, account_id).await;
        return Err(error);
    }
    crate::json_response(201, &record.account)
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

/// Renews an account that a QR sign-in's history found due, as a password login renews its
/// own: sign-ins by QR alone (each device signing in the next) are use too, and without this
/// the account's record and its name's hold would expire while its devices stay signed in,
/// and the name could be taken by a new account. The record is read only then, once a day,
/// not at every sign-in. Best effort, as [`renew`]: a record not found here (not yet carried
/// to this location) is renewed a day later.
pub async fn renew_in_use(ctx: &Ctx, account: &Account) {
    let key = keys::account(&account.username);
    if let Ok(Some(record)) = ctx.store.get::<AccountRecord>(&key).await
        && record.account.account_id == account.account_id
    {
        renew(ctx, &key, record).await;
    }
}

/// Pushes an account's expiry back, at most once a day: an account lives while it is used.
/// Its name's hold first, so the record never outlives it. Best effort: the person is signed
/// in already, and a sign-in a day later tries again.
async fn renew(ctx: &Ctx, key: &str, record: AccountRecord) {
    let now = ctx.now_seconds();
    if now < record.renewed_at + RENEWAL_INTERVAL_SECONDS {
        return;
    }
    let expires_at = now + ctx.config.account_ttl_seconds;
    let account = &record.account;
    if usernames::claim(ctx, &account.username, &account.account_id, expires_at)
        .await
        .is_err()
    {
        return;
    }
    let renewed = AccountRecord {
        renewed_at: now,
        ..record
    };
    let _ = ctx.store.put(key, &renewed, expires_at).await;
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
    let account_id = &auth.account.account_id;
    let target = ctx
        .store
        .get::<DeviceSessionRecord>(&keys::device(account_id, &device_id))
        .await?;
    match target {
        Some(record) if ctx.now_seconds() < record.device.expires_at => {
            sign_out(ctx, account_id, &device_id).await?;
            Ok(crate::no_content())
        }
        _ => Err(AppError::NotFound("device signed in to this account")),
    }
}

/// Deleting the device's record retires its token: nothing else can validate it.
async fn sign_out(ctx: &Ctx, account_id: &str, device_id: &str) -> AppResult<()> {
    try_join(
        ctx.store.delete(&keys::device(account_id, device_id)),
        ctx.store.delete(&keys::seen(account_id, device_id)),
    )
    .await?;
    Ok(())
}

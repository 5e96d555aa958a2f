//! Who a request is, and signing devices in and out: a login token is `<account_id>.<256 random
//! bits>`. The account id in front lets the edge find the one record that can validate it,
//! `dev:<account_id>:<X-Device-Id>`, which holds the token's hash. So a request is
//! authenticated by one record, a token presented with another device's headers finds another
//! record (or none) and fails, and signing a device in again simply overwrites that record,
//! which retires its earlier token. KV carries a delete or an overwrite to other locations only
//! after a minute or more, so every sign-in and sign-out also goes through the account's object
//! (`history.rs`), which each authentication asks beside its read: a token signed out or
//! replaced anywhere is refused at once everywhere. The handlers of `/api/` (`api/`) and the provider
//! (`oauth/`) build on this; it depends on neither.

use crate::context::Ctx;
use crate::crypto::{constant_time_eq, hash_secret, random_secret};
use crate::error::{AppError, AppResult};
use crate::history;
use crate::objects::sign_in_history::TokenStanding;
use crate::store::{AccountRecord, DeviceSessionRecord, DeviceSummary, LastSeen, keys};
use crate::usernames;
use futures_util::future::try_join;
use qrgate_protocol::device_tokens::needs_step_up;
use qrgate_protocol::history::RENEWAL_INTERVAL_SECONDS;
use qrgate_protocol::{Account, LoginSession, Secret, TokenType, Via, validate};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

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
    let token_hash = hash_secret(token.expose());
    // Side by side, so the object's answer costs no time beyond the slower of the two reads.
    let (record, standing) = try_join(
        ctx.store
            .get::<DeviceSessionRecord>(&keys::device(account_id, device_id)),
        history::standing(&ctx.env, account_id, device_id, &token_hash),
    )
    .await?;
    let record = record.ok_or(AppError::Unauthorized)?;
    let token_matches = constant_time_eq(token_hash.as_bytes(), record.token_hash.as_bytes());
    let valid = token_matches
        && standing != TokenStanding::Revoked
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

impl Authenticated {
    /// `403 step_up_required` for a token from a recent QR sign-in
    /// (`device_tokens::needs_step_up`): what only a settled token may do.
    pub fn settled(&self, ctx: &Ctx) -> AppResult<()> {
        let session = &self.session;
        let fresh_seconds = ctx.config.fresh_sign_in_seconds;
        match needs_step_up(
            session.via,
            session.created_at,
            ctx.now_seconds(),
            fresh_seconds,
        ) {
            true => Err(AppError::StepUpRequired),
            false => Ok(()),
        }
    }
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
    // The new token replaces the device's earlier one, and is bound to the key of thumbprint
    // `dpop_jkt` if there is one.
    let device = &ctx.device;
    let token = format!("{}.{}", account.account_id, random_secret()?);
    let token_hash = hash_secret(&token);
    let created_at = ctx.now_seconds();
    let expires_at = created_at + ctx.config.session_ttl_seconds;
    let renewal_due = history::record(
        ctx,
        &account.account_id,
        device_name,
        via,
        (token_hash.clone(), dpop_jkt.clone()),
        expires_at,
    )
    .await?;
    let summary = DeviceSummary {
        device_type: device.device_type,
        device_name: device_name.to_owned(),
        created_at,
        expires_at,
        via,
    };
    let token_type = token_type(dpop_jkt.as_deref());
    let record = DeviceSessionRecord {
        token_hash,
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

/// The `device_name` a client gave, cleaned, or the default for its device type.
pub fn device_name_or_default<'a>(ctx: &Ctx, given: Option<&'a str>) -> AppResult<Cow<'a, str>> {
    Ok(validate::device_name(given)
        .map_err(|_| AppError::invalid("device_name must be at most 64 characters."))?
        .unwrap_or(Cow::Borrowed(ctx.device.device_type.default_device_name())))
}

/// Renews an account that a QR sign-in's history found due, as a password login renews its
/// own: sign-ins by QR alone (each device signing in the next) are use too, and without this
/// the account's record and its name's hold would expire while its devices stay signed in,
/// and the name could be taken by a new account. The record is read only then, once a day,
/// not at every sign-in. A record not found here (not yet carried to this location) still has
/// its name's hold renewed, and the account's next sign-in is told the renewal is due again.
pub async fn renew_in_use(ctx: &Ctx, account: &Account) {
    let key = keys::account(&account.username);
    match ctx.store.get::<AccountRecord>(&key).await {
        Ok(Some(record)) if record.account.account_id == account.account_id => {
            renew(ctx, &key, record).await;
        }
        // The name now belongs to another account: nothing of this one's to renew.
        Ok(Some(_)) => {}
        Ok(None) | Err(_) => {
            let expires_at = ctx.now_seconds() + ctx.config.account_ttl_seconds;
            let _ = usernames::claim(ctx, &account.username, &account.account_id, expires_at).await;
            history::renewal_still_due(&ctx.env, &account.account_id).await;
        }
    }
}

/// Pushes an account's expiry back, at most once a day: an account lives while it is used.
/// Its name's hold first, so the record never outlives it. Best effort: the person is signed
/// in already, and a renewal that fails is tried again at the account's next sign-in.
pub async fn renew(ctx: &Ctx, key: &str, record: AccountRecord) {
    let now = ctx.now_seconds();
    if now < record.renewed_at + RENEWAL_INTERVAL_SECONDS {
        return;
    }
    let expires_at = now + ctx.config.account_ttl_seconds;
    let account = &record.account;
    let account_id = account.account_id.clone();
    let renewed = match usernames::claim(ctx, &account.username, &account_id, expires_at).await {
        Ok(()) => {
            let renewed = AccountRecord {
                renewed_at: now,
                ..record
            };
            ctx.store.put(key, &renewed, expires_at).await.is_ok()
        }
        Err(_) => false,
    };
    if !renewed {
        history::renewal_still_due(&ctx.env, &account_id).await;
    }
}

/// Signs the device out: its account's object refuses its token from now on, at every location,
/// and deleting its record retires the token for good. Whether the device held a token (the
/// object knows a token issued at another location that KV has not carried here yet).
pub async fn sign_out(ctx: &Ctx, account_id: &str, device_id: &str) -> AppResult<bool> {
    let held = history::sign_out(&ctx.env, account_id, device_id).await?;
    try_join(
        ctx.store.delete(&keys::device(account_id, device_id)),
        ctx.store.delete(&keys::seen(account_id, device_id)),
    )
    .await?;
    Ok(held)
}

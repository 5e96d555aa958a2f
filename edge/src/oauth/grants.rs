//! Grants as the Worker drives them: made for a confirmation (the PC's pick-up of an app's QR
//! session or a browser's single sign-on hand out a code; a device's poll, its tokens at once),
//! and the grant's own object (`objects/grant.rs`), the one writer that decides every
//! redemption, rotation, check and revocation. A code, like every token of its grant, is `<grant id>.<256 random bits>`: the
//! id leads any location to the grant's object, and the object keeps only the secret's hash.

use crate::context::Ctx;
use crate::crypto::{hash_secret, random_secret};
use crate::error::AppResult;
use crate::history;
use crate::objects::grant::{GRANTS_BINDING, GrantCommand, Revoker};
use qrgate_protocol::history::ConnectedApp;
use qrgate_protocol::oauth::authorize::AuthorizationRequest;
use qrgate_protocol::oauth::form::with_query;
use qrgate_protocol::oauth::grant::{HandedOut, NewGrant};
use qrgate_protocol::oauth::{Amr, GrantEntry, OAuthErrorCode};
use qrgate_protocol::qr::ForApp;
use qrgate_protocol::{Account, SignInEntry, Via};
use serde::de::DeserializeOwned;
use worker::{Env, Stub};

/// A grant's id is its object's: the 64 hex digits `newUniqueId()` makes, which carry a MAC of
/// the namespace, so a made-up id reaches no object.
pub fn grant_object(env: &Env, grant_id: &str) -> Option<Stub> {
    let namespace = env.durable_object(GRANTS_BINDING).ok()?;
    namespace.id_from_string(grant_id).ok()?.get_stub().ok()
}

/// Sends the grant `grant_id` a command; `None` for an id that is not one of ours.
pub async fn call<R: DeserializeOwned>(
    env: &Env,
    grant_id: &str,
    command: &GrantCommand,
) -> AppResult<Option<R>> {
    match grant_object(env, grant_id) {
        Some(stub) => Ok(Some(crate::objects::call(&stub, command).await?)),
        None => Ok(None),
    }
}

/// Who was signed in, and how, for a code.
pub struct SignedIn<'a> {
    pub account: &'a Account,
    /// When the person authenticated (Unix seconds).
    pub auth_time: u64,
    pub amr: Amr,
    /// The device that signed in, as the history lists it.
    pub device_name: &'a str,
    pub via: Via,
}

/// The object of a grant not yet made, and its id.
pub struct NewGrantObject {
    pub grant_id: String,
    stub: Stub,
}

impl NewGrantObject {
    pub fn new(env: &Env) -> AppResult<Self> {
        let namespace = env.durable_object(GRANTS_BINDING)?;
        let id = namespace.unique_id()?;
        Ok(Self {
            grant_id: id.to_string(),
            stub: id.get_stub()?,
        })
    }

    /// Makes the grant `new` for `sign_in`, to live `ttl_seconds` from `now_ms`: the sign-in is
    /// recorded in the account's history and the app listed among its connected apps, then the
    /// grant's object is made; only then may its code or tokens be handed out. Answers whether
    /// the account is due its renewal.
    pub async fn make(
        self,
        env: &Env,
        new: NewGrant,
        sign_in: SignInEntry,
        now_ms: u64,
        ttl_seconds: u64,
    ) -> AppResult<bool> {
        let now = now_ms / 1000;
        let listed = ConnectedApp {
            entry: GrantEntry {
                grant_id: self.grant_id.clone(),
                client_id: new.client_id.clone(),
                client_name: new.client_name.clone(),
                scope: new.scope.clone(),
                created_at: now,
                last_used_at: now,
            },
            expires_at_ms: now_ms + ttl_seconds * 1000,
        };
        let account_id = new.account.account_id.clone();
        let renewal_due = history::record_app(env, &account_id, sign_in, listed).await?;
        let create = GrantCommand::Create {
            grant: new,
            ttl_seconds,
        };
        let made: AppResult<()> = crate::objects::call(&self.stub, &create).await;
        if let Err(error) = made {
            // Best effort: listed but never made, the grant would show until its expiry.
            let _ = history::disconnect_app(env, &account_id, &self.grant_id).await;
            return Err(error);
        }
        Ok(renewal_due)
    }
}

/// A code for `app`'s request, handed out for `signed_in` once its grant is made
/// ([`NewGrantObject::make`]), as the redirect to the client. Answers the redirect and whether
/// the account is due its renewal.
pub async fn issue_code(
    ctx: &Ctx,
    issuer: &str,
    app: &ForApp,
    signed_in: SignedIn<'_>,
) -> AppResult<(String, bool)> {
    let request = &app.request;
    let object = NewGrantObject::new(&ctx.env)?;
    let code = format!("{}.{}", object.grant_id, random_secret()?);
    let new = NewGrant {
        account: signed_in.account.clone(),
        client_id: request.client_id.clone(),
        client_name: app.client_name.clone(),
        scope: request.scope.clone(),
        auth_time: signed_in.auth_time,
        amr: signed_in.amr,
        handed_out: HandedOut::Code {
            hash: hash_secret(&code),
            redirect_uri: request.redirect_uri.clone(),
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
        },
    };
    let sign_in = history::entry(ctx, signed_in.device_name, signed_in.via);
    let ttl_seconds = ctx.config.session_ttl_seconds;
    let renewal_due = object
        .make(&ctx.env, new, sign_in, ctx.now_ms, ttl_seconds)
        .await?;
    let redirect = answer(issuer, request, &[("code", &code)]);
    Ok((redirect, renewal_due))
}

/// The redirect of a refusal, `error=access_denied` (a denial on the phone, or a cancel at the
/// PC) or `login_required` (`prompt=none` without a sign-in).
pub fn refusal(issuer: &str, request: &AuthorizationRequest, error: OAuthErrorCode) -> String {
    answer(issuer, request, &[("error", error.as_str())])
}

/// The client's redirect URI with `params`, its `state` and the issuer (RFC 9207).
fn answer(issuer: &str, request: &AuthorizationRequest, params: &[(&str, &str)]) -> String {
    let mut all: Vec<(&str, &str)> = params.to_vec();
    if let Some(state) = &request.state {
        all.push(("state", state));
    }
    all.push(("iss", issuer));
    with_query(&request.redirect_uri, &all)
}

/// Revokes the grant `grant_id` for `revoker` (its object also takes it off its account's
/// list): the account whose grant was revoked, if one was.
pub async fn revoke(env: &Env, grant_id: &str, revoker: Revoker) -> AppResult<Option<String>> {
    let revoked: Option<Option<String>> =
        call(env, grant_id, &GrantCommand::Revoke(revoker)).await?;
    Ok(revoked.flatten())
}

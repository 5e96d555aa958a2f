//! `qrgate whoami` and `qrgate logout`, with the kept sign-in (`credentials.rs`).

use crate::credentials::{self, Credentials};
use crate::error::CliError;
use crate::provider::{Provider, refusal, request_error};
use crate::terminal::print;
use oauth2::{RefreshToken, TokenResponse};
use qrgate_protocol::oauth::UserInfo;
use serde_json::json;

/// An access token this close to its expiry is refreshed first.
const EXPIRY_MARGIN_SECONDS: u64 = 30;

pub fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}

/// Prints who is signed in: `Ann Example (ann)` after `lead`, or with `json` one JSON object.
pub fn print_account(issuer: &str, who: &UserInfo, json: bool, lead: &str) -> Result<(), CliError> {
    if json {
        let account = json!({
            "issuer": issuer,
            "sub": who.sub,
            "name": who.name,
            "preferred_username": who.preferred_username,
        });
        return print(&format!("{account}\n"));
    }
    match (&who.name, &who.preferred_username) {
        (Some(name), Some(username)) => print(&format!("{lead} {name} ({username}) at {issuer}\n")),
        _ => print(&format!("{lead} account {} at {issuer}\n", who.sub)),
    }
}

/// `qrgate whoami`: the account, asked with the kept access token, refreshed first if it has
/// expired or is refused.
pub async fn whoami(json: bool) -> Result<(), CliError> {
    let mut kept = credentials::load()?.ok_or(CliError::NotSignedIn)?;
    let provider = Provider::discover(&kept.issuer).await?;
    let fresh = kept.access_token_expires_at > now_seconds() + EXPIRY_MARGIN_SECONDS;
    let mut who = match fresh {
        true => provider.userinfo(&kept.access_token).await?,
        false => None,
    };
    if who.is_none() {
        kept = refresh(&provider, kept).await?;
        who = provider.userinfo(&kept.access_token).await?;
    }
    let who = who.ok_or(CliError::SignedOut)?;
    print_account(&provider.issuer, &who, json, "Signed in as")
}

/// A new access token (and, as the issuer rotates them, a new refresh token), kept at once: the
/// refresh token just used is spent.
async fn refresh(provider: &Provider, kept: Credentials) -> Result<Credentials, CliError> {
    let refresh_token = kept.refresh_token.clone().ok_or(CliError::SignedOut)?;
    let tokens = provider
        .client(&kept.client_id)?
        .exchange_refresh_token(&RefreshToken::new(refresh_token))
        .request_async(&provider.http)
        .await
        .map_err(|e| request_error(&provider.issuer, e, refusal))?;
    let lifetime = tokens.expires_in().unwrap_or_default().as_secs();
    let renewed = Credentials {
        access_token: tokens.access_token().secret().clone(),
        access_token_expires_at: now_seconds() + lifetime,
        refresh_token: tokens
            .refresh_token()
            .map(|token| token.secret().clone())
            .or(kept.refresh_token.clone()),
        ..kept
    };
    credentials::save(&renewed)?;
    Ok(renewed)
}

/// `qrgate logout`: revokes the grant at the issuer (its refresh token, else its access token,
/// revokes all of it), and forgets it here whether or not the issuer could be told.
pub async fn logout() -> Result<(), CliError> {
    let kept = credentials::load()?.ok_or(CliError::NotSignedIn)?;
    let revoked = revoke(&kept).await;
    credentials::forget()?;
    revoked.map_err(|error| {
        CliError::Io(format!(
            "signed out here, but the issuer could not be told ({error}): the sign-in lapses on its own"
        ))
    })?;
    print(&format!("Signed out of {}\n", kept.issuer))
}

async fn revoke(kept: &Credentials) -> Result<(), CliError> {
    let provider = Provider::discover(&kept.issuer).await?;
    let (token, hint) = match &kept.refresh_token {
        Some(refresh_token) => (refresh_token, "refresh_token"),
        None => (&kept.access_token, "access_token"),
    };
    provider.revoke(&kept.client_id, token, hint).await
}

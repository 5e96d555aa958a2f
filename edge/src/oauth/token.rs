//! `POST /oauth/token` (RFC 6749 §3.2): a form of at most 8 KiB, the client authenticated as
//! registered (`client_auth.rs`), then the grant type's own checks. The grant's object decides
//! every redemption and rotation (`objects/grant.rs`); this mints what it allows.
//!
//! With a DPoP proof (RFC 9449 §5) the access token is bound to the proof's key, and so is a
//! public client's refresh token. Every answer is `no-store`.

use super::error::{OAuthError, OAuthResult};
use super::grants;
use super::{Provider, client_auth, device, json, tokens};
use crate::context::read_limited_body;
use crate::crypto::{encode, hash_secret, random_secret};
use crate::dpop;
use crate::history;
use crate::objects::grant::{Decision, GrantCommand};
use qrgate_protocol::oauth::authorize::is_code_verifier;
use qrgate_protocol::oauth::clients::Client;
use qrgate_protocol::oauth::form::Params;
use qrgate_protocol::oauth::grant::{
    Issued, NewRefresh, Redemption, Refusal, Rotation, token_grant_id,
};
use qrgate_protocol::oauth::{
    AUTHORIZATION_CODE, DEVICE_CODE, REFRESH_TOKEN, TOKEN_TTL_SECONDS, TokenResponse, known_scope,
    scope_string,
};
use qrgate_protocol::{DPOP_HEADER, Secret, TokenType};
use sha2::{Digest, Sha256};
use worker::{Request, Response};

/// A form body: `application/x-www-form-urlencoded`, at most 8 KiB. Anything else is
/// `invalid_request` (`shared/API.md`).
pub async fn form(req: &mut Request) -> OAuthResult<Params> {
    let body = read_limited_body(req).await?;
    if !is_form(req) {
        return Err(OAuthError::InvalidRequest(
            "The body must be application/x-www-form-urlencoded.",
        ));
    }
    let params = Params::parse(&body);
    if params.any_repeated() {
        return Err(OAuthError::InvalidRequest(
            "A parameter was sent more than once.",
        ));
    }
    Ok(params)
}

/// Whether the request's body is `application/x-www-form-urlencoded` (with any parameters).
pub fn is_form(req: &Request) -> bool {
    req.headers()
        .get("Content-Type")
        .ok()
        .flatten()
        .and_then(|value| value.split(';').next().map(str::trim).map(str::to_owned))
        .is_some_and(|media| media.eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// The key of the request's DPoP proof, if it carries one; `invalid_dpop_proof` for a proof
/// that is malformed or does not hold for this request.
pub async fn proof_key(provider: &Provider, req: &Request) -> OAuthResult<Option<String>> {
    let Some(header) = req.headers().get(DPOP_HEADER).ok().flatten() else {
        return Ok(None);
    };
    let proof = dpop::parse(&header).map_err(|_| OAuthError::InvalidDpopProof)?;
    let url = req.inner().url();
    let expected = dpop::Expected {
        htm: "POST",
        htu: &url,
        now_seconds: provider.now_seconds(),
        token: None,
    };
    match proof.verify(&expected).await {
        Ok(thumbprint) => Ok(Some(thumbprint.to_owned())),
        Err(_) => Err(OAuthError::InvalidDpopProof),
    }
}

pub async fn serve(provider: &Provider, mut req: Request) -> OAuthResult<Response> {
    let params = form(&mut req).await?;
    let authorization = req.headers().get("Authorization").ok().flatten();
    let client = client_auth::authenticate(&provider.registry, authorization.as_deref(), &params)?;
    let key = proof_key(provider, &req).await?;
    // Not repeated (`form` checked): `one` answers the value or none.
    let get = |name| params.one(name).ok().flatten();
    match get("grant_type") {
        None => Err(OAuthError::InvalidRequest("grant_type is required.")),
        Some(AUTHORIZATION_CODE) => redeem(provider, client, &params, key).await,
        Some(REFRESH_TOKEN) => refresh(provider, client, &params, key).await,
        Some(DEVICE_CODE) => device::redeem(provider, client, &params, key).await,
        Some(_) => Err(OAuthError::UnsupportedGrantType),
    }
}

/// A new refresh token for a client with the refresh grant: the token, and what the grant
/// keeps of it. A public client's is bound to the key it proved; a confidential client
/// authenticates each use instead.
pub fn new_refresh(
    client: &Client,
    grant_id: &str,
    key: Option<&str>,
) -> OAuthResult<Option<(String, NewRefresh)>> {
    if !client.grant_types.refresh_token {
        return Ok(None);
    }
    let token = format!("{grant_id}.{}", random_secret()?);
    let kept = NewRefresh {
        hash: hash_secret(&token),
        dpop_jkt: key.filter(|_| !client.is_confidential()).map(str::to_owned),
    };
    Ok(Some((token, kept)))
}

/// `unauthorized_client` (saying `why`) unless the client is `registered` for the grant.
pub fn registered_for(registered: bool, why: &'static str) -> OAuthResult<()> {
    match registered {
        true => Ok(()),
        false => Err(OAuthError::UnauthorizedClient(why)),
    }
}

/// RFC 7636's S256: base64url of the SHA-256 of the verifier.
fn s256(verifier: &str) -> String {
    encode(&Sha256::digest(verifier.as_bytes()))
}

async fn redeem(
    provider: &Provider,
    client: &Client,
    params: &Params,
    key: Option<String>,
) -> OAuthResult<Response> {
    let get = |name| params.one(name).ok().flatten();
    registered_for(
        client.grant_types.authorization_code,
        "This client is not registered for the authorization code grant.",
    )?;
    let code = get("code").ok_or(OAuthError::InvalidRequest("code is required."))?;
    let verifier = get("code_verifier").ok_or(OAuthError::InvalidRequest(
        "code_verifier is required (PKCE).",
    ))?;
    let grant_id = token_grant_id(code).ok_or(OAuthError::InvalidGrant(INVALID_CODE))?;
    // A verifier of the wrong form cannot match any challenge: the code's check refuses it.
    let verifier_challenge = if is_code_verifier(verifier) {
        s256(verifier)
    } else {
        String::new()
    };
    let refresh = new_refresh(client, grant_id, key.as_deref())?;
    let redemption = Redemption {
        code_hash: hash_secret(code),
        client_id: client.client_id.clone(),
        redirect_uri: get("redirect_uri").map(str::to_owned),
        verifier_challenge,
        refresh: refresh.as_ref().map(|(_, kept)| kept.clone()),
    };
    let decision: Option<Decision> =
        grants::call(&provider.env, grant_id, &GrantCommand::Redeem(redemption)).await?;
    let issued = decided(decision, INVALID_CODE)?;
    let scope = issued.scope.clone();
    let refresh_token = refresh.map(|(token, _)| token);
    answer(
        provider,
        client,
        grant_id,
        &issued,
        &scope,
        key,
        refresh_token,
    )
    .await
}

async fn refresh(
    provider: &Provider,
    client: &Client,
    params: &Params,
    key: Option<String>,
) -> OAuthResult<Response> {
    let get = |name| params.one(name).ok().flatten();
    registered_for(
        client.grant_types.refresh_token,
        "This client is not registered for the refresh token grant.",
    )?;
    let token =
        get("refresh_token").ok_or(OAuthError::InvalidRequest("refresh_token is required."))?;
    let grant_id = token_grant_id(token).ok_or(OAuthError::InvalidGrant(INVALID_REFRESH))?;
    let Some((next_token, next)) = new_refresh(client, grant_id, key.as_deref())? else {
        return Err(OAuthError::ServerError("refresh without the grant".into()));
    };
    let rotation = Rotation {
        refresh_hash: hash_secret(token),
        client_id: client.client_id.clone(),
        dpop_jkt: key.clone(),
        next,
    };
    let decision: Option<Decision> =
        grants::call(&provider.env, grant_id, &GrantCommand::Rotate(rotation)).await?;
    let issued = decided(decision, INVALID_REFRESH)?;
    // A narrower scope for this access token only (RFC 6749 §6); the grant keeps its own.
    let scope = match get("scope") {
        None => issued.scope.clone(),
        Some(asked) => {
            let asked = known_scope(asked);
            let within = asked.iter().all(|s| issued.scope.contains(s));
            if !within || asked.is_empty() {
                return Err(OAuthError::InvalidScope);
            }
            asked
        }
    };
    if issued.report_use {
        let at = provider.now_seconds();
        let account_id = &issued.account.account_id;
        if let Err(error) = history::app_used(&provider.env, account_id, grant_id, at).await {
            worker::console_warn!("a grant's use was not noted: {error:?}");
        }
    }
    answer(
        provider,
        client,
        grant_id,
        &issued,
        &scope,
        key,
        Some(next_token),
    )
    .await
}

const INVALID_CODE: &str = "The code is unknown, expired, already used, or not this client's.";
const INVALID_REFRESH: &str =
    "The refresh token is unknown, expired, revoked or not this client's.";

/// The grant's decision: what it issued, or `invalid_grant` (a replay has revoked it).
fn decided(decision: Option<Decision>, why: &'static str) -> OAuthResult<Issued> {
    match decision {
        Some(Ok(issued)) => Ok(issued),
        Some(Err(Refusal::InvalidGrant | Refusal::Replayed)) | None => {
            Err(OAuthError::InvalidGrant(why))
        }
    }
}

/// The token answer: an access token bound to `key` if one was proven, an ID token for
/// `openid`, and the refresh token if the client has that grant.
pub async fn answer(
    provider: &Provider,
    client: &Client,
    grant_id: &str,
    issued: &Issued,
    scope: &[String],
    key: Option<String>,
    refresh_token: Option<String>,
) -> OAuthResult<Response> {
    let (access_token, id_token) = futures_util::future::try_join(
        tokens::access_token(provider, grant_id, client, issued, scope, key.as_deref()),
        tokens::id_token(provider, client, issued, scope),
    )
    .await?;
    json(&TokenResponse {
        access_token: Secret::new(access_token),
        token_type: if key.is_some() {
            TokenType::DPoP
        } else {
            TokenType::Bearer
        },
        expires_in: TOKEN_TTL_SECONDS,
        scope: scope_string(scope),
        id_token: id_token.map(Secret::new),
        refresh_token: refresh_token.map(Secret::new),
    })
}

//! The tokens a grant issues (`shared/API.md`, "Tokens"): the ID token and the RFC 9068 access
//! token, signed JWS (`jws.rs`) by the registry's keys (`keys.rs`), and the check of an access
//! token presented to userinfo or revocation. Refresh tokens are opaque: `<grant id>.<random>`,
//! kept by the grant only as a hash (`objects/grant.rs`).

use super::Provider;
use super::error::{OAuthError, OAuthResult};
use super::keys::SigningKey;
use crate::crypto::{encode, random_secret};
use crate::jws::{self, Compact};
use qrgate_protocol::oauth::clients::{Client, SigningAlg};
use qrgate_protocol::oauth::grant::{Issued, token_grant_id};
use qrgate_protocol::oauth::{
    ACCESS_TOKEN_TYP, AccessTokenClaims, Confirmation, IdTokenClaims, JwsHeader, OPENID,
    TOKEN_TTL_SECONDS, UserInfo, scope_string,
};
use serde::Serialize;

/// `claims` signed by `key`, with `typ` in the header.
async fn sign<C: Serialize>(key: &SigningKey, typ: &str, claims: &C) -> OAuthResult<String> {
    let header = JwsHeader {
        alg: key.alg.as_str().to_owned(),
        typ: typ.to_owned(),
        kid: key.kid.clone(),
    };
    let input = jws::signing_input(&header, claims)?;
    let signature = key
        .sign(input.as_bytes())
        .await
        .map_err(OAuthError::ServerError)?;
    Ok(format!("{input}.{}", encode(&signature)))
}

/// An access token of the grant `grant_id`, for `client`, with `scope` (the grant's, or less),
/// bound to the key `jkt` if one was proven.
pub async fn access_token(
    provider: &Provider,
    grant_id: &str,
    client: &Client,
    issued: &Issued,
    scope: &[String],
    jkt: Option<&str>,
) -> OAuthResult<String> {
    let key = provider
        .registry
        .access_token_key()
        .ok_or_else(|| OAuthError::ServerError("no ES256 key".into()))?;
    let iat = provider.now_seconds();
    let claims = AccessTokenClaims {
        iss: provider.issuer.clone(),
        sub: issued.account.account_id.clone(),
        aud: client.client_id.clone(),
        client_id: client.client_id.clone(),
        scope: scope_string(scope),
        // Unique per token, and names the grant, which userinfo asks whether it stands.
        jti: format!("{grant_id}.{}", random_secret()?),
        iat,
        exp: iat + TOKEN_TTL_SECONDS,
        cnf: jkt.map(|jkt| Confirmation {
            jkt: jkt.to_owned(),
        }),
    };
    sign(key, ACCESS_TOKEN_TYP, &claims).await
}

/// The ID token, when `scope` (the grant's, or the narrower one a refresh asked) has
/// `openid`: signed by the algorithm the client registered, with the names only under
/// `profile`.
pub async fn id_token(
    provider: &Provider,
    client: &Client,
    issued: &Issued,
    scope: &[String],
) -> OAuthResult<Option<String>> {
    if !scope.iter().any(|s| s == OPENID) {
        return Ok(None);
    }
    let key = provider
        .registry
        .keys
        .signer(client.id_token_alg)
        .ok_or_else(|| OAuthError::ServerError("no key for the client's algorithm".into()))?;
    let iat = provider.now_seconds();
    let names = UserInfo::of(&issued.account, scope);
    let claims = IdTokenClaims {
        iss: provider.issuer.clone(),
        sub: names.sub,
        aud: client.client_id.clone(),
        iat,
        exp: iat + TOKEN_TTL_SECONDS,
        auth_time: issued.auth_time,
        nonce: issued.nonce.clone(),
        amr: vec![issued.amr],
        name: names.name,
        preferred_username: names.preferred_username,
    };
    Ok(Some(sign(key, "JWT", &claims).await?))
}

/// An access token that this provider signed with a key it still publishes, for this issuer,
/// not expired: its claims, and the grant it names. Anything else is `None`: a forged
/// signature, another `alg` (`none`, or `HS256` keyed with the public key), another `typ`,
/// another issuer, an expired token, a token that is not even a JWS.
pub async fn verified_access_token(
    provider: &Provider,
    token: &str,
) -> Option<(AccessTokenClaims, String)> {
    let compact = Compact::split(token)?;
    let header: JwsHeader = jws::segment(compact.header)?;
    let key = provider.registry.keys.find(&header.kid)?;
    // The key decides the algorithm, never the token's header.
    if key.alg != SigningAlg::Es256 || header.alg != "ES256" || header.typ != ACCESS_TOKEN_TYP {
        return None;
    }
    if !key
        .verify(&compact.signature, compact.signing_input().as_bytes())
        .await
    {
        return None;
    }
    let claims: AccessTokenClaims = jws::segment(compact.claims)?;
    let holds = claims.iss == provider.issuer && provider.now_seconds() < claims.exp;
    let grant_id = token_grant_id(&claims.jti)?.to_owned();
    holds.then_some((claims, grant_id))
}

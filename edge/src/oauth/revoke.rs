//! `POST /oauth/revoke` (RFC 7009): a client revokes one of its tokens, and with it the grant
//! the token belongs to (`shared/API.md`, "Revocation"), at once at every location: the grant's
//! object forgets it. A refresh token is the client's if the grant knows its hash; an access
//! token, if it verifies and names the client. An unknown, expired or already revoked token is
//! `200` and changes nothing; a token of another client is `400 unauthorized_client`.

use super::error::{OAuthError, OAuthResult};
use super::token::form;
use super::{Provider, client_auth, grants, tokens};
use crate::crypto::hash_secret;
use crate::objects::grant::Revoker;
use qrgate_protocol::oauth::grant::token_grant_id;
use worker::{Request, Response};

pub async fn serve(provider: &Provider, mut req: Request) -> OAuthResult<Response> {
    let params = form(&mut req).await?;
    let authorization = req.headers().get("Authorization").ok().flatten();
    let client = client_auth::authenticate(&provider.registry, authorization.as_deref(), &params)?;
    // `token_type_hint` is only a hint (RFC 7009 §2.1): the token's form says what it is.
    let token = params
        .one("token")
        .ok()
        .flatten()
        .ok_or(OAuthError::InvalidRequest("token is required."))?;
    let client_id = client.client_id.clone();
    let (grant_id, revoker) = if token.matches('.').count() == 2 {
        match tokens::verified_access_token(provider, token).await {
            Some((claims, _)) if claims.client_id != client_id => return Err(not_yours()),
            Some((_, grant_id)) => (grant_id, Revoker::Client { client_id }),
            None => return revoked(),
        }
    } else {
        match token_grant_id(token) {
            Some(grant_id) => (
                grant_id.to_owned(),
                Revoker::ClientRefresh {
                    client_id,
                    refresh_hash: hash_secret(token),
                },
            ),
            None => return revoked(),
        }
    };
    grants::revoke(&provider.env, &grant_id, revoker).await?;
    revoked()
}

fn not_yours() -> OAuthError {
    OAuthError::UnauthorizedClient("The token was issued to another client.")
}

/// RFC 7009 §2.2: `200`, with no body, whether or not there was anything to revoke.
fn revoked() -> OAuthResult<Response> {
    Ok(Response::builder()
        .with_status(200)
        .with_header("Cache-Control", "no-store")?
        .empty())
}

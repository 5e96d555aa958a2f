//! `GET` or `POST /oauth/userinfo` (OpenID Connect Core §5.3): the subject of an access token,
//! with its names under `profile`. The token must verify (`tokens.rs`), come in the scheme its
//! binding asks (`Bearer`, or `DPoP` with a proof by its key for this request and token), and
//! its grant must still stand, which its object says: so a revocation holds at once at every
//! location, at the cost of one object call per request.

use super::error::{OAuthError, OAuthResult, ResourceError};
use super::{Provider, grants, json, tokens};
use crate::context::{Credential, credential};
use crate::dpop;
use crate::objects::grant::{GrantCommand, Standing};
use qrgate_protocol::oauth::UserInfo;
use qrgate_protocol::{DPOP_HEADER, TokenType};
use worker::{Request, Response};

pub async fn serve(provider: &Provider, req: Request) -> OAuthResult<Response> {
    let authorization = req.headers().get("Authorization").ok().flatten();
    let refused = |scheme, error| OAuthError::Refused { scheme, error };
    let Credential { scheme, secret } = authorization
        .as_deref()
        .and_then(credential)
        .ok_or(refused(TokenType::Bearer, ResourceError::InvalidToken))?;
    let token = secret.expose();
    let invalid_token = refused(scheme, ResourceError::InvalidToken);
    let (claims, grant_id) = tokens::verified_access_token(provider, token)
        .await
        .ok_or(invalid_token)?;
    match (&claims.cnf, scheme) {
        (None, TokenType::Bearer) => {}
        (Some(cnf), TokenType::DPoP) => {
            let invalid_proof = || refused(TokenType::DPoP, ResourceError::InvalidDpopProof);
            let header = req.headers().get(DPOP_HEADER).ok().flatten();
            let proof = header
                .as_deref()
                .map(dpop::parse)
                .and_then(Result::ok)
                .ok_or_else(invalid_proof)?;
            let url = req.inner().url();
            let method = req.method().to_string();
            let expected = dpop::Expected {
                htm: &method,
                htu: &url,
                now_seconds: provider.now_seconds(),
                token: Some(token),
            };
            match proof.verify(&expected).await {
                Ok(key) if key == cnf.jkt => {}
                _ => return Err(invalid_proof()),
            }
        }
        // A bound token as Bearer, or an unbound one as DPoP.
        (_, scheme) => return Err(refused(scheme, ResourceError::InvalidToken)),
    }
    let standing: Option<Option<Standing>> =
        grants::call(&provider.env, &grant_id, &GrantCommand::Check).await?;
    let account = match standing.flatten() {
        Some(standing) if standing.account.account_id == claims.sub => standing.account,
        _ => return Err(refused(scheme, ResourceError::InvalidToken)),
    };
    let scope: Vec<String> = claims.scope.split(' ').map(str::to_owned).collect();
    json(&UserInfo::of(&account, &scope))
}

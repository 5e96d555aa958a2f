//! `GET /.well-known/openid-configuration` and `/.well-known/oauth-authorization-server` (the
//! same document, RFC 8414 §3), and `GET /oauth/jwks`: what a stock client reads first. Both may
//! be kept a few minutes: keys are published before they sign (`oauth/keys.rs`).

use super::Provider;
use super::error::OAuthResult;
use qrgate_protocol::oauth::Discovery;
use worker::Response;

const CACHE_CONTROL: &str = "public, max-age=300";

fn cacheable<T: serde::Serialize>(body: &T) -> OAuthResult<Response> {
    Ok(Response::builder()
        .with_header("Content-Type", "application/json")?
        .with_header("Cache-Control", CACHE_CONTROL)?
        .fixed(serde_json::to_vec(body)?))
}

pub fn metadata(provider: &Provider) -> OAuthResult<Response> {
    cacheable(&Discovery::at(&provider.issuer))
}

pub fn jwks(provider: &Provider) -> OAuthResult<Response> {
    cacheable(&provider.registry.keys.jwks())
}

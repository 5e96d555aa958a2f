//! qrgate as an OpenID Provider (`shared/API.md`, "Sign in to other apps"): one file per
//! endpoint family, one error per OAuth code (`error.rs`), the pure rules in
//! `qrgate_protocol::oauth`.
//!
//! - `discovery.rs`: the metadata and the JWKS.
//! - `authorize.rs`: the authorization endpoint, which serves the PC page in authorization
//!   mode (`page/`); `handle.rs` is the checked request the page carries.
//! - `token.rs`: the token endpoint (`client_auth.rs` authenticates its clients).
//! - `device.rs`: devices without a browser (RFC 8628): their authorizations, and their grant
//!   at the token endpoint.
//! - `userinfo.rs`, `revoke.rs`.
//! - `grants.rs`: codes handed out for a confirmation, and the grants' objects
//!   (`objects/grant.rs`), which decide every redemption and rotation.
//! - `tokens.rs`: the tokens, signed by `keys.rs`.

pub mod authorize;
pub mod client_auth;
pub mod device;
pub mod discovery;
pub mod error;
pub mod grants;
pub mod handle;
pub mod keys;
pub mod revoke;
pub mod token;
pub mod tokens;
pub mod userinfo;

use crate::config::Config;
use crate::context::origin_of;
use crate::error::{AppError, AppResult};
use crate::routes::ProviderRoute;
use error::{OAuthError, OAuthResult};
use keys::KeySet;
use qrgate_protocol::oauth::OAuthErrorCode;
use qrgate_protocol::oauth::clients::{Client, SigningAlg, parse_registry};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use worker::{Env, Headers, Request, Response};

/// The clients (`OAUTH_CLIENTS`) and the signing keys (`OIDC_SIGNING_KEYS`), checked.
pub struct Registry {
    pub clients: Vec<Client>,
    pub keys: KeySet,
}

thread_local! {
    /// The registry this isolate read, with the settings it read it from: an isolate reads and
    /// checks them once, not at every request (a new setting comes with a new isolate).
    static REGISTRY: RefCell<Option<(String, String, Rc<Registry>)>> = const { RefCell::new(None) };
}

/// A setting's text. `--var` and `.dev.vars` give strings; a TOML array in `[vars]` reaches the
/// Worker as a JSON value, which is read in its JSON text (`../shared/TOOLCHAIN.md`).
fn setting(env: &Env, name: &str) -> Option<String> {
    let value = js_sys::Reflect::get(env.as_ref(), &JsValue::from_str(name)).ok()?;
    if value.is_undefined() || value.is_null() {
        return None;
    }
    match value.as_string() {
        Some(text) => Some(text),
        None => js_sys::JSON::stringify(&value).ok()?.as_string(),
    }
}

impl Registry {
    /// The registry, read from the settings once per isolate. A broken one fails loudly: a
    /// `500` whose log line says which entry and why, at every request that needs it, never a
    /// client or key silently missing.
    pub fn load(env: &Env) -> AppResult<Rc<Self>> {
        let clients = setting(env, "OAUTH_CLIENTS").unwrap_or_else(|| "[]".into());
        let keys = setting(env, "OIDC_SIGNING_KEYS").ok_or_else(|| {
            AppError::Internal("OIDC_SIGNING_KEYS is not set: the provider has no key".into())
        })?;
        let cached = REGISTRY.with_borrow(|cached| match cached {
            Some((c, k, registry)) if *c == clients && *k == keys => Some(registry.clone()),
            _ => None,
        });
        if let Some(registry) = cached {
            return Ok(registry);
        }
        let registry = Rc::new(Self::parse(&clients, &keys).map_err(AppError::Internal)?);
        REGISTRY.with_borrow_mut(|cached| *cached = Some((clients, keys, registry.clone())));
        Ok(registry)
    }

    fn parse(clients: &str, keys: &str) -> Result<Self, String> {
        let clients = parse_registry(clients).map_err(|e| e.to_string())?;
        let keys = KeySet::parse(keys)?;
        for client in &clients {
            if keys.signer(client.id_token_alg).is_none() {
                return Err(format!(
                    "OAUTH_CLIENTS: client {} asks for {} ID tokens, and OIDC_SIGNING_KEYS has no such key",
                    client.client_id,
                    client.id_token_alg.as_str()
                ));
            }
        }
        Ok(Self { clients, keys })
    }

    pub fn client(&self, client_id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    /// The key that signs access tokens.
    pub fn access_token_key(&self) -> Option<&keys::SigningKey> {
        self.keys.signer(SigningAlg::Es256)
    }
}

/// The issuer (`shared/API.md`, "Issuer and keys"): `ISSUER` if set, else the origin the edge
/// is served from, without a trailing slash, the same in discovery, tokens and redirects.
pub fn issuer(config: &Config, origin: &str) -> String {
    config
        .issuer
        .clone()
        .unwrap_or_else(|| origin.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// What every endpoint but the authorization endpoint is given.
pub struct Provider {
    pub env: Env,
    pub registry: Rc<Registry>,
    pub issuer: String,
    pub now_ms: u64,
}

impl Provider {
    pub fn now_seconds(&self) -> u64 {
        self.now_ms / 1000
    }
}

/// Serves one of the provider's endpoints: the answer, and the OAuth error it carries, for the
/// request log.
pub async fn serve(
    req: Request,
    env: Env,
    route: ProviderRoute,
    now_ms: u64,
) -> (Response, Option<OAuthErrorCode>) {
    let cross_origin = !matches!(route, ProviderRoute::Authorize);
    let served = match route {
        ProviderRoute::Preflight(allowed) => Ok(preflight(allowed)),
        ProviderRoute::Authorize => authorize::serve(req, env, now_ms).await,
        _ => match load(&req, env, now_ms) {
            Ok(provider) => match route {
                ProviderRoute::Discovery => discovery::metadata(&provider),
                ProviderRoute::Jwks => discovery::jwks(&provider),
                ProviderRoute::Token => token::serve(&provider, req).await,
                ProviderRoute::DeviceAuthorization => device::authorize(&provider, req).await,
                ProviderRoute::Userinfo => userinfo::serve(&provider, req).await,
                ProviderRoute::Revoke => revoke::serve(&provider, req).await,
                ProviderRoute::Authorize | ProviderRoute::Preflight(_) => {
                    Err(OAuthError::ServerError("routed above".into()))
                }
            },
            Err(error) => Err(error),
        },
    };
    let (response, error) = match served {
        Ok(response) => (response, None),
        Err(error) => {
            let code = error.code();
            (error.into_response(), Some(code))
        }
    };
    if cross_origin {
        allow_any_origin(response.headers());
    }
    (response, error)
}

fn load(req: &Request, env: Env, now_ms: u64) -> OAuthResult<Provider> {
    let config = Config::from_env(&env)?;
    let registry = Registry::load(&env)?;
    let issuer = issuer(&config, &origin_of(&req.inner().url()));
    Ok(Provider {
        env,
        registry,
        issuer,
        now_ms,
    })
}

/// A single-page app on any origin may call the endpoint: no credentials are involved but
/// what it sends itself, and it may read the challenge and the edge's clock (for DPoP).
fn allow_any_origin(headers: &Headers) {
    // Constant names and values: setting them cannot fail.
    let _ = headers.set("Access-Control-Allow-Origin", "*");
    let _ = headers.set("Access-Control-Expose-Headers", "WWW-Authenticate, Date");
}

/// The answer to a CORS preflight for an endpoint allowing `allowed`.
fn preflight(allowed: &[&str]) -> Response {
    let headers = Headers::new();
    let _ = headers.set("Access-Control-Allow-Methods", &allowed.join(", "));
    let _ = headers.set(
        "Access-Control-Allow-Headers",
        "Authorization, DPoP, Content-Type",
    );
    let _ = headers.set("Access-Control-Max-Age", "86400");
    Response::builder()
        .with_status(204)
        .with_headers(headers)
        .empty()
}

/// A JSON answer of the provider, never stored by anyone on the way (RFC 6749 §5.1).
pub fn json<T: serde::Serialize>(body: &T) -> OAuthResult<Response> {
    let response = Response::builder()
        .with_header("Content-Type", "application/json")?
        .with_header("Cache-Control", "no-store")?
        .with_header("Pragma", "no-cache")?
        .fixed(serde_json::to_vec(body)?);
    Ok(response)
}

//! Turns a raw `worker::Request` into a checked [`Ctx`], in the contract's order of checks:
//! route and method are resolved before this, then size (`413`), media type (`415`) and the
//! device headers (`400`). Handlers then parse their own body and path parameters (`400`) and
//! judge a DPoP proof, malformed ones included, with the credential it goes with (`401`).

use crate::config::Config;
use crate::dpop;
use crate::error::{AppError, AppResult};
use crate::store::Store;
use futures_util::StreamExt;
use qrgate_protocol::limit;
use qrgate_protocol::location::Location;
use qrgate_protocol::{
    DEVICE_ID_HEADER, DEVICE_TYPE_HEADER, DPOP_HEADER, DeviceType, MAX_BODY_BYTES, Secret,
    TokenType, validate,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use worker::{Env, Request};

/// The device a request says it comes from: `X-Device-Id` (lower-cased) and `X-Device-Type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceHeaders {
    pub device_id: String,
    pub device_type: DeviceType,
}

/// Everything a handler needs, read once per request.
pub struct Ctx {
    pub env: Env,
    pub config: Config,
    pub store: Store,
    pub now_ms: u64,
    pub device: DeviceHeaders,
    /// The `Authorization` header's secret (a token, a poll secret) and its scheme, `Bearer` or
    /// `DPoP` in any letter case.
    pub credential: Option<Credential>,
    /// The `DPoP` proof header as parsed (`Err` when malformed); [`Ctx::proof`] checks it
    /// against the request.
    dpop: Option<Result<dpop::Proof, dpop::Invalid>>,
    method: String,
    /// The request's URL, which a DPoP proof names as `htu`.
    url: String,
    body: Vec<u8>,
    /// `scheme://host[:port]` of the request, for the QR URL.
    pub origin: String,
    /// The IPv4 address, or the /64 of the IPv6 address, the limits count.
    pub client_address: String,
    pub location: Location,
}

impl Ctx {
    pub async fn from_request(
        mut req: Request,
        env: Env,
        takes_body: bool,
        now_ms: u64,
    ) -> AppResult<Self> {
        let body = if takes_body {
            read_body(&mut req).await?
        } else {
            Vec::new()
        };
        let header = |name: &str| req.headers().get(name).ok().flatten();
        let device = device_headers(
            header(DEVICE_ID_HEADER).as_deref(),
            header(DEVICE_TYPE_HEADER).as_deref(),
        )?;
        let credential = header("Authorization").and_then(|value| credential(&value));
        let dpop = header(DPOP_HEADER).map(|proof| dpop::parse(&proof));
        let url = req.inner().url();
        let origin = origin_of(&url);
        let client_address = client_address(&req);
        let location = request_location(&req);
        let config = Config::from_env(&env)?;
        let store = Store::new(&env, crate::KV_BINDING, now_ms)?;
        Ok(Self {
            env,
            config,
            store,
            now_ms,
            device,
            credential,
            dpop,
            method: req.method().to_string(),
            url,
            body,
            origin,
            client_address,
            location,
        })
    }

    pub fn now_seconds(&self) -> u64 {
        self.now_ms / 1000
    }

    /// The secret of the `Authorization` header, whatever its scheme.
    pub fn secret(&self) -> Option<&Secret> {
        self.credential.as_ref().map(|c| &c.secret)
    }

    /// Checks the request's DPoP proof, if it carries one, against this request and `token`
    /// (the login token it accompanies, if any): the thumbprint of its key, `None` without a
    /// proof, `401 invalid_dpop_proof` for one that does not hold (malformed, another method
    /// or URL, stale, a wrong `ath` or signature), on every route.
    pub async fn proof(&self, token: Option<&Secret>) -> AppResult<Option<String>> {
        let proof = match &self.dpop {
            None => return Ok(None),
            Some(Err(dpop::Invalid)) => return Err(AppError::InvalidDpopProof),
            Some(Ok(proof)) => proof,
        };
        let expected = dpop::Expected {
            htm: &self.method,
            htu: &self.url,
            now_seconds: self.now_seconds(),
            token: token.map(Secret::expose),
        };
        match proof.verify(&expected).await {
            Ok(thumbprint) => Ok(Some(thumbprint.to_owned())),
            Err(dpop::Invalid) => Err(AppError::InvalidDpopProof),
        }
    }

    /// `401 invalid_dpop_proof` for a malformed proof header, which every route refuses at the
    /// step of the credential it goes with (API.md's order of checks): after the path and the
    /// body (`400`); for a QR poll or cancel, after its session is found (`404`).
    pub fn refuse_malformed_proof(&self) -> AppResult<()> {
        match &self.dpop {
            Some(Err(dpop::Invalid)) => Err(AppError::InvalidDpopProof),
            _ => Ok(()),
        }
    }

    /// The proof of a new sign-in (a password login, a QR code's creation): its key's
    /// thumbprint, to bind the token to; `400` without one where `REQUIRE_DPOP` asks for it.
    pub async fn sign_in_proof(&self) -> AppResult<Option<String>> {
        let key = self.proof(None).await?;
        if key.is_none() && self.config.require_dpop {
            return Err(AppError::invalid(
                "A DPoP proof is required to sign in: this edge issues only key-bound tokens.",
            ));
        }
        Ok(key)
    }

    /// The JSON body as `T`; an empty body means `{}`, so routes whose fields are all optional
    /// accept none.
    pub fn json<T: DeserializeOwned>(&self) -> AppResult<T> {
        parse_json(&self.body)
    }
}

/// The answer to a body that is not JSON, or JSON but no object.
const NOT_A_JSON_OBJECT: &str = "The request body is not a valid JSON object.";

/// A JSON body as `T` (empty means `{}`). Errors name the problem, never the offending value:
/// it may be a password.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> AppResult<T> {
    let body: &[u8] = if body.is_empty() { b"{}" } else { body };
    if !validate::is_json_object(body) {
        return Err(AppError::invalid(NOT_A_JSON_OBJECT));
    }
    serde_json::from_slice(body).map_err(|error| {
        let message = error.to_string();
        let field = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .filter(|field| field.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        AppError::invalid(match (error.classify(), field) {
            (_, Some(field)) => format!("The field `{field}` is required."),
            (serde_json::error::Category::Data, None) => {
                "A field of the request body has the wrong type.".to_owned()
            }
            _ => NOT_A_JSON_OBJECT.to_owned(),
        })
    })
}

/// The body, read chunk by chunk and given up on (`413`) as soon as it passes `limit`: a body
/// sent without `Content-Length` (chunked) is never held whole, however large it is.
async fn read_at_most(req: &mut Request, limit: usize) -> AppResult<Vec<u8>> {
    // The one other failure here, a body already read, cannot happen: this is its only reader.
    let Ok(mut chunks) = req.stream() else {
        return Ok(Vec::new());
    };
    let mut body = Vec::new();
    while let Some(chunk) = chunks.next().await {
        let chunk =
            chunk.map_err(|_| AppError::invalid("The request body could not be read whole."))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads a body of at most [`MAX_BODY_BYTES`] that is JSON, or empty (of any stated type).
async fn read_body(req: &mut Request) -> AppResult<Vec<u8>> {
    let body = read_limited_body(req).await?;
    // No body is no body that is not JSON, whatever the type says: `curl -X POST -d ''` sends
    // an empty form, and an empty body means `{}`.
    if body.is_empty() {
        return Ok(body);
    }
    let content_type = req.headers().get("Content-Type").ok().flatten();
    match content_type {
        Some(value) if is_json(&value) => Ok(body),
        _ => Err(AppError::UnsupportedMediaType),
    }
}

/// Reads a body of at most [`MAX_BODY_BYTES`] (`413` past it), of whatever type: the API's
/// JSON, the provider's forms.
pub async fn read_limited_body(req: &mut Request) -> AppResult<Vec<u8>> {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let declared = header("Content-Length").and_then(|len| len.trim().parse::<u64>().ok());
    // HTTP lets `Transfer-Encoding` override `Content-Length`: then the length bounds nothing.
    let length_bounds_body = header("Transfer-Encoding").is_none();
    let body = match declared {
        Some(len) if len > MAX_BODY_BYTES as u64 => return Err(AppError::PayloadTooLarge),
        // The runtime's HTTP layer delivers no more than the declared length, so a body within
        // the limit is read whole in one call: cheaper than chunk by chunk.
        Some(_) if length_bounds_body => req
            .bytes()
            .await
            .map_err(|_| AppError::invalid("The request body could not be read whole."))?,
        _ => read_at_most(req, MAX_BODY_BYTES).await?,
    };
    Ok(body)
}

/// `application/json`, with or without parameters such as `charset=utf-8`.
fn is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// What an `Authorization` header presents: a secret, and the scheme it came with.
#[derive(Debug, Clone)]
pub struct Credential {
    pub scheme: TokenType,
    pub secret: Secret,
}

/// An `Authorization` header with the `Bearer` or the `DPoP` scheme, in any letter case.
pub fn credential(value: &str) -> Option<Credential> {
    let (scheme, secret) = value.trim().split_once(' ')?;
    let secret = secret.trim();
    let scheme = [TokenType::Bearer, TokenType::DPoP]
        .into_iter()
        .find(|t| t.scheme().eq_ignore_ascii_case(scheme))?;
    (!secret.is_empty()).then(|| Credential {
        scheme,
        secret: Secret::new(secret),
    })
}

/// What the edge saw of the client, as the limits count it; every request without a readable
/// address shares one count (deployed, Cloudflare always sets it).
pub fn client_address(req: &Request) -> String {
    req.headers()
        .get("CF-Connecting-IP")
        .ok()
        .flatten()
        .and_then(|seen| limit::client_address(&seen))
        .unwrap_or_else(|| "unknown".into())
}

/// `scheme://host[:port]` of an absolute URL as the runtime serialises it (already normalised,
/// so no URL parser, and its weight in the bundle, is needed).
pub fn origin_of(url: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| authority_start + i);
    url[..authority_end].to_owned()
}

pub fn device_headers(id: Option<&str>, device_type: Option<&str>) -> AppResult<DeviceHeaders> {
    let device_id = id
        .and_then(|id| validate::device_id(id.trim()))
        .ok_or_else(|| AppError::invalid("X-Device-Id must be a UUID."))?;
    let device_type = device_type
        .and_then(|t| DeviceType::parse(t.trim()))
        .ok_or_else(|| AppError::invalid("X-Device-Type must be one of pc, web, ios, android."))?;
    Ok(DeviceHeaders {
        device_id,
        device_type,
    })
}

/// The edge's view of where the request came from (`request.cf`). In `wrangler dev` this is a
/// fixed placeholder; a request without `cf` (made by a worker) has an unknown location.
pub fn request_location(req: &Request) -> Location {
    let Some(cf) = req.cf() else {
        return Location::default();
    };
    let known = |value: Option<String>| value.filter(|v| !v.trim().is_empty() && v != "XX");
    Location {
        country: known(cf.country()),
        city: known(cf.city()),
        network: known(cf.as_organization()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_is_matched_in_any_letter_case() {
        for (value, scheme) in [
            ("Bearer abc", TokenType::Bearer),
            ("bearer abc", TokenType::Bearer),
            ("  bEaReR   abc  ", TokenType::Bearer),
            ("DPoP abc", TokenType::DPoP),
            ("dpop abc", TokenType::DPoP),
        ] {
            let presented = credential(value).unwrap_or_else(|| panic!("{value}"));
            assert_eq!(presented.scheme, scheme, "{value}");
            assert_eq!(presented.secret.expose(), "abc");
        }
        for value in ["Basic abc", "Bearer", "Bearer ", "Bearerabc", "DPoPabc", ""] {
            assert!(credential(value).is_none(), "{value}");
        }
    }

    #[test]
    fn origins_keep_scheme_host_and_port() {
        assert_eq!(
            origin_of("http://127.0.0.1:8787/api/qr"),
            "http://127.0.0.1:8787"
        );
        assert_eq!(
            origin_of("https://qrgate.example/api/qr?x=1"),
            "https://qrgate.example"
        );
        assert_eq!(
            origin_of("https://qrgate.example?x=1"),
            "https://qrgate.example"
        );
    }

    #[test]
    fn json_media_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/jsonp"));
        assert!(!is_json(""));
    }

    #[test]
    fn device_headers_are_required_and_normalised() {
        let ok = device_headers(Some("0F8FAD5B-D9CB-469F-A165-70867728950E"), Some("ios"));
        assert_eq!(
            ok.ok(),
            Some(DeviceHeaders {
                device_id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
                device_type: DeviceType::Ios
            })
        );
        let id = Some("0f8fad5b-d9cb-469f-a165-70867728950e");
        assert!(device_headers(None, Some("pc")).is_err());
        assert!(device_headers(id, None).is_err());
        assert!(device_headers(id, Some("toaster")).is_err());
        assert!(device_headers(Some("123"), Some("pc")).is_err());
    }
}

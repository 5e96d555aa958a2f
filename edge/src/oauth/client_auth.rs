//! Client authentication at the token and revocation endpoints (RFC 6749 §2.3): a confidential
//! client by `client_secret_basic` or `client_secret_post`, a public one by its `client_id`
//! alone (`none`). One method per request; the secret is compared as its SHA-256, in constant
//! time, and never echoed.

use super::Registry;
use super::error::{OAuthError, OAuthResult};
use crate::crypto::{constant_time_eq, hash_secret};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use qrgate_protocol::oauth::clients::Client;
use qrgate_protocol::oauth::form::{Params, decode_component};

/// `Authorization: Basic` credentials: the client id and secret, each form-decoded
/// (RFC 6749 §2.3.1). `None` for another scheme or a malformed value.
fn basic(authorization: &str) -> Option<(String, String)> {
    let (scheme, encoded) = authorization.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("Basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((decode_component(id), decode_component(secret)))
}

/// The client the request authenticates as.
pub fn authenticate<'r>(
    registry: &'r Registry,
    authorization: Option<&str>,
    params: &Params,
) -> OAuthResult<&'r Client> {
    let basic_tried = authorization.is_some_and(|value| {
        value
            .trim()
            .get(..6)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("basic "))
    });
    let failed = OAuthError::InvalidClient { basic: basic_tried };
    let posted_id = params.one("client_id").map_err(|_| repeated())?;
    let posted_secret = params.one("client_secret").map_err(|_| repeated())?;
    let (client_id, secret) = match authorization.filter(|_| basic_tried) {
        Some(value) => {
            if posted_secret.is_some() {
                return Err(OAuthError::InvalidRequest(
                    "Use one client authentication method: Basic or the form, not both.",
                ));
            }
            let (id, secret) = basic(value).ok_or(failed)?;
            if posted_id.is_some_and(|posted| posted != id) {
                return Err(OAuthError::InvalidRequest(
                    "client_id differs from the client that authenticated.",
                ));
            }
            (id, Some(secret))
        }
        None => (
            posted_id
                .ok_or(OAuthError::InvalidClient { basic: false })?
                .to_owned(),
            posted_secret.map(str::to_owned),
        ),
    };
    let client = registry
        .client(&client_id)
        .ok_or(OAuthError::InvalidClient { basic: basic_tried })?;
    let authenticated = match (&client.secret_sha256, &secret) {
        (Some(expected), Some(presented)) => {
            constant_time_eq(hash_secret(presented).as_bytes(), expected.as_bytes())
        }
        // A public client has no secret to present; one that presents one is not it.
        (None, None) => true,
        _ => false,
    };
    if authenticated {
        Ok(client)
    } else {
        Err(OAuthError::InvalidClient { basic: basic_tried })
    }
}

fn repeated() -> OAuthError {
    OAuthError::InvalidRequest("A parameter was sent more than once.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_base64_then_form_decoded() {
        // "my%3Aapp:s%20cret" in base64.
        let value = format!("Basic {}", STANDARD.encode("my%3Aapp:s%20cret"));
        assert_eq!(basic(&value), Some(("my:app".into(), "s cret".into())));
        assert_eq!(
            basic(&format!("basic {}", STANDARD.encode("a:b"))),
            Some(("a".into(), "b".into()))
        );
        assert_eq!(basic("Bearer abc"), None);
        assert_eq!(basic("Basic !!!"), None);
        assert_eq!(
            basic(&format!("Basic {}", STANDARD.encode("no colon"))),
            None
        );
    }
}

//! An authorization request (`GET` or `POST /oauth/authorize`), checked in the order
//! `shared/API.md` gives: first the client and its redirect URI, which decide whether an error
//! may be sent back to the client at all (never to a redirect URI that is not registered, so
//! the endpoint is no open redirect), then everything else, each refusal a redirect.

use super::clients::Client;
use super::form::Params;
use super::{OAuthErrorCode, known_scope};
use serde::{Deserialize, Serialize};

/// The longest `state` and `nonce` kept: they travel in the handle and the code's grant.
pub const MAX_ECHOED_LENGTH: usize = 512;

/// What `prompt` asks (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    /// No `prompt`, or `consent` or `select_account`: the phone's confirmation is both.
    #[default]
    Default,
    /// Show nothing: a code if the browser is signed in, else `login_required`.
    None,
    /// A fresh phone scan, even for a browser that is signed in.
    Login,
}

/// A request that passed every check: what the PC page's handle carries, what a QR session
/// made for it holds, and what its code is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    /// As the request sent it (for a loopback URI, with its port).
    pub redirect_uri: String,
    pub scope: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The S256 challenge (RFC 7636): base64url of a SHA-256, 43 characters.
    pub code_challenge: String,
    #[serde(default)]
    pub prompt: Prompt,
    /// `max_age` in seconds, if asked: an older sign-in needs a fresh phone scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The client or its redirect URI cannot be trusted: an error page, no redirect.
    NoRedirect(NoRedirect),
    /// Sent back to the registered redirect URI, with `state` when one came (once).
    Redirect {
        redirect_uri: String,
        error: OAuthErrorCode,
        description: &'static str,
        state: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoRedirect {
    UnknownClient,
    BadRedirectUri,
}

/// Checks the request's parameters against the registry.
pub fn check<'c>(
    params: &Params,
    clients: &'c [Client],
) -> Result<(AuthorizationRequest, &'c Client), Refused> {
    let no_redirect = |why| Refused::NoRedirect(why);
    let client = params
        .one("client_id")
        .ok()
        .flatten()
        .and_then(|id| clients.iter().find(|c| c.client_id == id))
        .ok_or(no_redirect(NoRedirect::UnknownClient))?;
    let redirect_uri = params
        .one("redirect_uri")
        .ok()
        .flatten()
        .filter(|uri| client.redirect_uri(uri).is_some())
        .ok_or(no_redirect(NoRedirect::BadRedirectUri))?;
    // From here on, every refusal goes back to the client. `state` is echoed when it came once.
    let state = params.one("state").ok().flatten().map(str::to_owned);
    let refuse = |error, description| Refused::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        error,
        description,
        state: state.clone(),
    };
    let invalid = |description| refuse(OAuthErrorCode::InvalidRequest, description);
    if params.any_repeated() {
        return Err(invalid("A parameter was sent more than once."));
    }
    if params.has("request") {
        return Err(refuse(
            OAuthErrorCode::RequestNotSupported,
            "Request objects are not supported.",
        ));
    }
    if params.has("request_uri") {
        return Err(refuse(
            OAuthErrorCode::RequestUriNotSupported,
            "request_uri is not supported.",
        ));
    }
    // Not repeated (checked above): `one` answers the value or none.
    let get = |name| params.one(name).ok().flatten();
    match get("response_type") {
        None => return Err(invalid("response_type is required.")),
        Some("code") => {}
        Some(_) => {
            return Err(refuse(
                OAuthErrorCode::UnsupportedResponseType,
                "Only response_type=code is supported.",
            ));
        }
    }
    if !client.grant_types.authorization_code {
        return Err(refuse(
            OAuthErrorCode::UnauthorizedClient,
            "This client is not registered for the authorization code grant.",
        ));
    }
    if get("response_mode").is_some_and(|mode| mode != "query") {
        return Err(invalid("Only response_mode=query is supported."));
    }
    let scope = get("scope").ok_or_else(|| invalid("scope is required."))?;
    let code_challenge = get("code_challenge")
        .ok_or_else(|| invalid("code_challenge is required (PKCE with S256)."))?;
    if get("code_challenge_method") != Some("S256") {
        return Err(invalid("code_challenge_method must be S256."));
    }
    if !is_s256_challenge(code_challenge) {
        return Err(invalid(
            "code_challenge must be a base64url SHA-256 (43 characters).",
        ));
    }
    let prompt = prompt(get("prompt"))
        .ok_or_else(|| invalid("prompt has a value this provider does not support."))?;
    let max_age = match get("max_age") {
        None => None,
        Some(age) => Some(
            age.parse::<u64>()
                .ok()
                .filter(|_| age.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| invalid("max_age must be a whole number of seconds."))?,
        ),
    };
    let nonce = get("nonce");
    let too_long = |value: Option<&str>| value.is_some_and(|v| v.len() > MAX_ECHOED_LENGTH);
    if too_long(state.as_deref()) || too_long(nonce) {
        return Err(invalid("state and nonce may have at most 512 characters."));
    }
    Ok((
        AuthorizationRequest {
            client_id: client.client_id.clone(),
            redirect_uri: redirect_uri.to_owned(),
            scope: known_scope(scope),
            state,
            nonce: nonce.map(str::to_owned),
            code_challenge: code_challenge.to_owned(),
            prompt,
            max_age,
        },
        client,
    ))
}

/// `prompt`'s values, space-separated: `none` alone, or any of `login`, `consent` and
/// `select_account`; anything else is not supported.
fn prompt(value: Option<&str>) -> Option<Prompt> {
    let Some(value) = value else {
        return Some(Prompt::Default);
    };
    let values: Vec<&str> = value.split(' ').filter(|v| !v.is_empty()).collect();
    if values == ["none"] {
        return Some(Prompt::None);
    }
    if values.is_empty()
        || !values
            .iter()
            .all(|v| ["login", "consent", "select_account"].contains(v))
    {
        return None;
    }
    Some(if values.contains(&"login") {
        Prompt::Login
    } else {
        Prompt::Default
    })
}

/// A base64url SHA-256 without padding: 43 characters of `A-Z a-z 0-9 - _`.
pub fn is_s256_challenge(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A PKCE code verifier (RFC 7636 §4.1): 43–128 characters of `A-Z a-z 0-9 - . _ ~`.
pub fn is_code_verifier(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::clients::parse_registry;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn clients() -> Vec<Client> {
        parse_registry(
            r#"[{"client_id": "app", "client_name": "App", "redirect_uris": ["https://app.example/cb", "http://127.0.0.1/cb"]},
                {"client_id": "tv", "client_name": "TV", "redirect_uris": [], "grant_types": ["urn:ietf:params:oauth:grant-type:device_code"]},
                {"client_id": "odd", "client_name": "Odd", "redirect_uris": ["https://odd.example/cb"], "grant_types": ["refresh_token"]}]"#,
        )
        .unwrap()
    }

    fn query(extra: &str) -> String {
        format!(
            "response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid+profile+email&state=s1&nonce=n1&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}"
        )
    }

    fn checked(query: &str) -> Result<AuthorizationRequest, Refused> {
        check(&Params::parse(query.as_bytes()), &clients()).map(|(request, _)| request)
    }

    fn redirected(query: &str) -> (OAuthErrorCode, Option<String>) {
        match checked(query) {
            Err(Refused::Redirect {
                error,
                state,
                redirect_uri,
                ..
            }) => {
                assert_eq!(redirect_uri, "https://app.example/cb");
                (error, state)
            }
            other => panic!("{query}: {other:?}"),
        }
    }

    #[test]
    fn a_good_request_keeps_what_its_code_is_bound_to() {
        let request = checked(&query("&prompt=consent&max_age=300")).unwrap();
        assert_eq!(request.scope, ["openid", "profile"]);
        assert_eq!(request.state.as_deref(), Some("s1"));
        assert_eq!(request.nonce.as_deref(), Some("n1"));
        assert_eq!(request.code_challenge, CHALLENGE);
        assert_eq!(request.prompt, Prompt::Default);
        assert_eq!(request.max_age, Some(300));
        let loopback = query("").replace(
            "https%3A%2F%2Fapp.example%2Fcb",
            "http%3A%2F%2F127.0.0.1%3A61234%2Fcb",
        );
        assert_eq!(
            checked(&loopback).unwrap().redirect_uri,
            "http://127.0.0.1:61234/cb"
        );
    }

    #[test]
    fn a_bad_client_or_redirect_uri_never_redirects_whatever_else_is_wrong() {
        let cases = [
            (query("").replace("client_id=app", "client_id=nobody"), NoRedirect::UnknownClient),
            (query("").replace("client_id=app&", ""), NoRedirect::UnknownClient),
            (query("&client_id=app"), NoRedirect::UnknownClient),
            (
                query("").replace("app.example%2Fcb", "evil.example%2Fcb"),
                NoRedirect::BadRedirectUri,
            ),
            (
                query("").replace("redirect_uri=https%3A%2F%2Fapp.example%2Fcb&", ""),
                NoRedirect::BadRedirectUri,
            ),
            (query("&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"), NoRedirect::BadRedirectUri),
            (
                "client_id=app&redirect_uri=https%3A%2F%2Fevil.example%2F&response_type=token&request=x".into(),
                NoRedirect::BadRedirectUri,
            ),
        ];
        for (query, why) in cases {
            assert_eq!(checked(&query), Err(Refused::NoRedirect(why)), "{query}");
        }
    }

    #[test]
    fn every_other_error_redirects_with_its_code_and_state() {
        use OAuthErrorCode::*;
        let cases = [
            (query("&request=eyJ"), RequestNotSupported),
            (query("&request_uri=urn%3Ax"), RequestUriNotSupported),
            (query("").replace("response_type=code&", ""), InvalidRequest),
            (
                query("").replace("response_type=code", "response_type=token"),
                UnsupportedResponseType,
            ),
            (query("&response_mode=fragment"), InvalidRequest),
            (
                query("").replace("scope=openid+profile+email&", ""),
                InvalidRequest,
            ),
            (
                query("").replace(&format!("code_challenge={CHALLENGE}&"), ""),
                InvalidRequest,
            ),
            (
                query("").replace("code_challenge_method=S256", "code_challenge_method=plain"),
                InvalidRequest,
            ),
            (
                query("").replace("&code_challenge_method=S256", ""),
                InvalidRequest,
            ),
            (query("").replace(CHALLENGE, "short"), InvalidRequest),
            (query("&prompt=none+login"), InvalidRequest),
            (query("&prompt=dance"), InvalidRequest),
            (query("&max_age=-1"), InvalidRequest),
            (query("&max_age=%2B5"), InvalidRequest),
            (query("&nonce=again"), InvalidRequest),
            (
                query(&format!("&x={}", "y"))
                    .replace("nonce=n1", &format!("nonce={}", "n".repeat(513))),
                InvalidRequest,
            ),
        ];
        for (query, expected) in cases {
            let (error, state) = redirected(&query);
            assert_eq!(error, expected, "{query}");
            assert_eq!(state.as_deref(), Some("s1"), "{query}");
        }
        // A repeated state is not echoed: which one would be the client's?
        let (error, state) = redirected(&query("&state=s2"));
        assert_eq!((error, state), (InvalidRequest, None));
    }

    #[test]
    fn a_client_without_the_code_grant_is_unauthorized() {
        let query = query("")
            .replace("client_id=app", "client_id=odd")
            .replace("app.example", "odd.example");
        match checked(&query) {
            Err(Refused::Redirect { error, .. }) => {
                assert_eq!(error, OAuthErrorCode::UnauthorizedClient)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn prompts() {
        assert_eq!(prompt(None), Some(Prompt::Default));
        assert_eq!(prompt(Some("none")), Some(Prompt::None));
        assert_eq!(prompt(Some("login consent")), Some(Prompt::Login));
        assert_eq!(prompt(Some("select_account")), Some(Prompt::Default));
        assert_eq!(prompt(Some("none login")), None);
        assert_eq!(prompt(Some("unknown")), None);
    }

    #[test]
    fn verifiers_and_challenges() {
        assert!(is_s256_challenge(CHALLENGE));
        assert!(!is_s256_challenge(&format!("{CHALLENGE}=")));
        assert!(is_code_verifier(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        ));
        assert!(!is_code_verifier("short"));
        assert!(!is_code_verifier(&"a".repeat(129)));
        assert!(!is_code_verifier(&format!("{}!", "a".repeat(43))));
    }
}

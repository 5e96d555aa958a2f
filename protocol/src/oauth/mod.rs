//! qrgate as an OpenID Provider (`shared/API.md`, "Sign in to other apps"): the wire types of
//! its endpoints, which speak OAuth's format rather than this API's, one definition each, and
//! the pure rules the edge applies to what arrives. No I/O, no clock, no cryptography here:
//! times are passed in, and secrets arrive as hashes or as "did it match".
//!
//! - [`clients`]: the operator's registry of clients (`OAUTH_CLIENTS`) and redirect URIs.
//! - [`authorize`]: an authorization request, checked in the contract's order.
//! - [`grant`]: what a person granted a client, from the code to its last refresh token.
//! - [`device`]: devices without a browser (RFC 8628): user codes and their polls.
//! - [`form`]: the form bodies and query strings these endpoints read.

pub mod authorize;
pub mod clients;
pub mod device;
pub mod form;
pub mod grant;

use crate::Account;
use serde::{Deserialize, Serialize};

/// How long a code may wait for its redemption, from the moment it is handed out.
pub const CODE_TTL_SECONDS: u64 = 60;
/// How long the handle of a checked authorization request stays good for new codes.
pub const AUTHORIZATION_HANDLE_TTL_SECONDS: u64 = 600;
/// The lifetime of an ID token and of an access token.
pub const TOKEN_TTL_SECONDS: u64 = 300;
/// The `typ` of an RFC 9068 access token's header.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// The `id` of the PC page's data block with the authorization request it serves
/// ([`AuthorizationData`]).
pub const AUTHORIZATION_ELEMENT_ID: &str = "qrgate-authorization";

/// The scope values this provider knows; every other value is ignored.
pub const OPENID: &str = "openid";
pub const PROFILE: &str = "profile";
pub const SCOPES_SUPPORTED: [&str; 2] = [OPENID, PROFILE];

/// The grant types a client may be registered with.
pub const AUTHORIZATION_CODE: &str = "authorization_code";
pub const REFRESH_TOKEN: &str = "refresh_token";
pub const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The `error` of an OAuth answer (RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1, RFC 9449,
/// OpenID Connect Core §3.1.2.6, RFC 8628 §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    AccessDenied,
    UnsupportedResponseType,
    LoginRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    InvalidDpopProof,
    InvalidToken,
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
    ServerError,
    TemporarilyUnavailable,
}

impl OAuthErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::LoginRequired => "login_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::InvalidToken => "invalid_token",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    /// The status of a JSON answer with this error: `401` for a client that failed to
    /// authenticate and for a token a resource refuses, `500` and `503` for the edge's own
    /// failures, `400` for the rest (RFC 6749 §5.2, RFC 6750 §3.1).
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidClient | Self::InvalidToken => 401,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

/// `{"error", "error_description"?}`, as every OAuth endpoint answers a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthErrorBody {
    pub error: OAuthErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// `GET /.well-known/openid-configuration` and `/.well-known/oauth-authorization-server`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    pub revocation_endpoint: String,
    pub device_authorization_endpoint: String,
    pub response_types_supported: Vec<String>,
    pub response_modes_supported: Vec<String>,
    pub grant_types_supported: Vec<String>,
    pub subject_types_supported: Vec<String>,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub claims_supported: Vec<String>,
    pub code_challenge_methods_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    pub dpop_signing_alg_values_supported: Vec<String>,
    pub authorization_response_iss_parameter_supported: bool,
}

/// The endpoints' paths, named once for the router, discovery and the tests.
pub mod paths {
    pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
    pub const AUTHORIZATION_SERVER: &str = "/.well-known/oauth-authorization-server";
    pub const AUTHORIZE: &str = "/oauth/authorize";
    pub const TOKEN: &str = "/oauth/token";
    pub const USERINFO: &str = "/oauth/userinfo";
    pub const JWKS: &str = "/oauth/jwks";
    pub const REVOKE: &str = "/oauth/revoke";
    pub const DEVICE_AUTHORIZATION: &str = "/oauth/device_authorization";
}

impl Discovery {
    /// The provider's metadata at `issuer` (the origin, no trailing slash).
    pub fn at(issuer: &str) -> Self {
        let url = |path: &str| format!("{issuer}{path}");
        let strings = |values: &[&str]| values.iter().map(|v| (*v).to_owned()).collect();
        let client_auth = strings(&["client_secret_basic", "client_secret_post", "none"]);
        Self {
            issuer: issuer.to_owned(),
            authorization_endpoint: url(paths::AUTHORIZE),
            token_endpoint: url(paths::TOKEN),
            userinfo_endpoint: url(paths::USERINFO),
            jwks_uri: url(paths::JWKS),
            revocation_endpoint: url(paths::REVOKE),
            device_authorization_endpoint: url(paths::DEVICE_AUTHORIZATION),
            response_types_supported: strings(&["code"]),
            response_modes_supported: strings(&["query"]),
            grant_types_supported: strings(&[AUTHORIZATION_CODE, REFRESH_TOKEN, DEVICE_CODE]),
            subject_types_supported: strings(&["public"]),
            id_token_signing_alg_values_supported: strings(&["ES256", "RS256"]),
            scopes_supported: strings(&SCOPES_SUPPORTED),
            claims_supported: strings(&[
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "amr",
                "name",
                "preferred_username",
            ]),
            code_challenge_methods_supported: strings(&["S256"]),
            token_endpoint_auth_methods_supported: client_auth.clone(),
            revocation_endpoint_auth_methods_supported: client_auth,
            dpop_signing_alg_values_supported: strings(&["ES256"]),
            authorization_response_iss_parameter_supported: true,
        }
    }
}

/// The scope values of a request that this provider knows, each once, in a fixed order; the
/// rest are ignored (`shared/API.md`).
pub fn known_scope(requested: &str) -> Vec<String> {
    SCOPES_SUPPORTED
        .iter()
        .filter(|known| requested.split(' ').any(|value| value == **known))
        .map(|known| (*known).to_owned())
        .collect()
}

/// `scope` as OAuth writes it: values separated by one space.
pub fn scope_string(scope: &[String]) -> String {
    scope.join(" ")
}

/// How the person authenticated (RFC 8176), as an ID token's `amr` says: approved on the phone
/// over a second channel (`mca`), or a browser's own sign-in reused by single sign-on: with a
/// password (`pwd`), or with a passkey, a hardware-held key (`hwk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Amr {
    Mca,
    Pwd,
    Hwk,
}

/// `POST /oauth/token`'s success (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: crate::Secret,
    pub token_type: crate::TokenType,
    pub expires_in: u64,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<crate::Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<crate::Secret>,
}

/// `GET`/`POST /oauth/userinfo`: the subject, and with scope `profile` its names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
}

impl UserInfo {
    /// What `scope` lets a client know of `account`: its id always, its names with `profile`.
    pub fn of(account: &Account, scope: &[String]) -> Self {
        let profile = scope.iter().any(|s| s == PROFILE);
        Self {
            sub: account.account_id.clone(),
            name: profile.then(|| account.display_name.clone()),
            preferred_username: profile.then(|| account.username.clone()),
        }
    }
}

/// A signed token's header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwsHeader {
    pub alg: String,
    pub typ: String,
    pub kid: String,
}

/// The claims of an ID token (OpenID Connect Core §2; `shared/API.md`, "Tokens").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
    pub auth_time: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub amr: Vec<Amr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
}

/// The claims of an RFC 9068 access token. Its `jti` begins with the grant's id
/// ([`grant::token_grant_id`]), so that whoever verifies it can ask the grant whether it
/// still stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub jti: String,
    pub iat: u64,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

/// `cnf` (RFC 7800): the thumbprint of the key a token is bound to (RFC 9449 §6.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub jkt: String,
}

/// The PC page's data block in authorization mode ([`AUTHORIZATION_ELEMENT_ID`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationData {
    pub handle: String,
    pub client_name: String,
    /// For `prompt=none`: where the page goes when it holds no token (`login_required`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_required_redirect: Option<String>,
}

/// `POST /api/authorizations`: single sign-on with the token the browser holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContinueRequest {
    pub authorization: String,
}

/// Where the PC page goes next: the client's redirect URI with a code or an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedirectTo {
    pub redirect_to: String,
}

/// What the phone is told of the app a scanned code signs the person in to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInfo {
    pub client_id: String,
    pub client_name: String,
    /// `scheme://host[:port]` of the redirect URI: where the app sends the person.
    pub redirect_origin: String,
}

/// One connected app of `GET /api/grants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantEntry {
    pub grant_id: String,
    pub client_id: String,
    pub client_name: String,
    pub scope: Vec<String>,
    pub created_at: u64,
    pub last_used_at: u64,
}

/// `GET /api/grants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantsResponse {
    pub grants: Vec<GrantEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_scope_values_are_ignored_and_known_ones_kept_once() {
        assert_eq!(known_scope("openid profile"), ["openid", "profile"]);
        assert_eq!(
            known_scope("profile email openid openid"),
            ["openid", "profile"]
        );
        assert_eq!(known_scope("email offline_access"), Vec::<String>::new());
        assert_eq!(known_scope(""), Vec::<String>::new());
        assert_eq!(
            scope_string(&known_scope("profile openid")),
            "openid profile"
        );
    }

    #[test]
    fn discovery_names_every_endpoint_under_the_issuer() {
        let discovery = Discovery::at("https://qrgate.example");
        let json = serde_json::to_value(&discovery).unwrap();
        assert_eq!(json["issuer"], "https://qrgate.example");
        assert_eq!(json["token_endpoint"], "https://qrgate.example/oauth/token");
        assert_eq!(
            json["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(json["authorization_response_iss_parameter_supported"], true);
    }

    #[test]
    fn oauth_errors_are_snake_case_with_their_status() {
        for code in [
            OAuthErrorCode::InvalidRequest,
            OAuthErrorCode::InvalidClient,
            OAuthErrorCode::InvalidDpopProof,
            OAuthErrorCode::RequestUriNotSupported,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        assert_eq!(OAuthErrorCode::InvalidClient.status(), 401);
        assert_eq!(OAuthErrorCode::InvalidGrant.status(), 400);
    }

    #[test]
    fn userinfo_names_need_profile() {
        let account = Account {
            account_id: "a1".into(),
            username: "ann".into(),
            display_name: "Ann".into(),
        };
        let bare = UserInfo::of(&account, &known_scope("openid"));
        assert_eq!(
            serde_json::to_value(&bare).unwrap(),
            serde_json::json!({"sub": "a1"})
        );
        let named = UserInfo::of(&account, &known_scope("openid profile"));
        assert_eq!(named.name.as_deref(), Some("Ann"));
        assert_eq!(named.preferred_username.as_deref(), Some("ann"));
    }
}

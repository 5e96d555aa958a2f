//! The issuer as the CLI knows it: its metadata (OpenID Connect Discovery), the `oauth2` client
//! built from it, and its userinfo endpoint. The HTTP client follows no redirect (the `oauth2`
//! crate's advice against SSRF).

use crate::error::CliError;
use oauth2::basic::{BasicClient, BasicErrorResponse, BasicErrorResponseType};
use oauth2::{
    AuthType, ClientId, DeviceAuthorizationUrl, EndpointNotSet, EndpointSet, ErrorResponse,
    HttpClientError, RequestTokenError, TokenUrl,
};
use qrgate_protocol::oauth::paths::OPENID_CONFIGURATION;
use qrgate_protocol::oauth::{Discovery, UserInfo};
use std::time::Duration;

/// The `oauth2` client with the endpoints it serves the CLI at: device authorization, token.
pub type OAuthClient =
    BasicClient<EndpointNotSet, EndpointSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

pub struct Provider {
    pub issuer: String,
    pub metadata: Discovery,
    pub http: reqwest::Client,
}

/// How long one request may take before the issuer counts as unreachable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

fn unreachable(issuer: &str, error: &reqwest::Error) -> CliError {
    // The innermost cause says why ("Connection refused", a certificate's fault, a timeout).
    let mut cause: &dyn std::error::Error = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    CliError::Issuer(format!("cannot reach {issuer}: {cause}"))
}

impl Provider {
    /// The issuer at `issuer` (no trailing slash), as its discovery document describes it; the
    /// document must name the same issuer (OpenID Connect Discovery §4.3).
    pub async fn discover(issuer: &str) -> Result<Self, CliError> {
        let issuer = issuer.trim_end_matches('/').to_owned();
        let url = url::Url::parse(&issuer)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
            .ok_or_else(|| CliError::Usage(format!("--issuer {issuer:?} is not an http(s) URL")))?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| CliError::Io(format!("cannot start an HTTP client: {e}")))?;
        let answer = http
            .get(format!(
                "{}{OPENID_CONFIGURATION}",
                url.as_str().trim_end_matches('/')
            ))
            .send()
            .await
            .map_err(|e| unreachable(&issuer, &e))?;
        if !answer.status().is_success() {
            return Err(CliError::Issuer(format!(
                "{issuer} has no OpenID Provider metadata (HTTP {})",
                answer.status().as_u16()
            )));
        }
        let metadata: Discovery = answer.json().await.map_err(|_| {
            CliError::Issuer(format!("{issuer} answered metadata this CLI cannot read"))
        })?;
        if metadata.issuer != issuer {
            return Err(CliError::Issuer(format!(
                "{issuer}'s metadata names another issuer, {}",
                metadata.issuer
            )));
        }
        Ok(Self {
            issuer,
            metadata,
            http,
        })
    }

    /// The `oauth2` client for `client_id`, a public client: its id goes in the request body.
    pub fn client(&self, client_id: &str) -> Result<OAuthClient, CliError> {
        let endpoint = |what: &str, url: &str| {
            CliError::Issuer(format!("its {what} endpoint {url:?} is not a URL"))
        };
        let metadata = &self.metadata;
        let device = DeviceAuthorizationUrl::new(metadata.device_authorization_endpoint.clone())
            .map_err(|_| {
                endpoint(
                    "device authorization",
                    &metadata.device_authorization_endpoint,
                )
            })?;
        let token = TokenUrl::new(metadata.token_endpoint.clone())
            .map_err(|_| endpoint("token", &metadata.token_endpoint))?;
        Ok(BasicClient::new(ClientId::new(client_id.to_owned()))
            .set_auth_type(AuthType::RequestBody)
            .set_device_authorization_url(device)
            .set_token_uri(token))
    }

    /// Revokes `token` (RFC 7009) as the public client `client_id`: all of its grant. By hand,
    /// a form of three fields: the `oauth2` crate refuses a revocation endpoint that is not
    /// HTTPS, which every issuer on a developer's machine is.
    pub async fn revoke(&self, client_id: &str, token: &str, hint: &str) -> Result<(), CliError> {
        let answer = self
            .http
            .post(&self.metadata.revocation_endpoint)
            .form(&[
                ("token", token),
                ("token_type_hint", hint),
                ("client_id", client_id),
            ])
            .send()
            .await
            .map_err(|e| unreachable(&self.issuer, &e))?;
        match answer.status().as_u16() {
            200 => Ok(()),
            status => Err(CliError::Refused(format!(
                "revocation answered HTTP {status}"
            ))),
        }
    }

    /// Who `access_token` is for; `None` when the issuer no longer accepts it (`401`).
    pub async fn userinfo(&self, access_token: &str) -> Result<Option<UserInfo>, CliError> {
        let answer = self
            .http
            .get(&self.metadata.userinfo_endpoint)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| unreachable(&self.issuer, &e))?;
        match answer.status().as_u16() {
            401 => Ok(None),
            200 => answer.json().await.map(Some).map_err(|_| {
                CliError::Issuer("its userinfo answer is not one this CLI can read".into())
            }),
            status => Err(CliError::Issuer(format!(
                "its userinfo endpoint answered HTTP {status}"
            ))),
        }
    }
}

/// What went wrong with one of the `oauth2` crate's requests, in one line: the issuer's own
/// refusal as `refused` decides, anything else is the issuer's failure.
pub fn request_error<E: ErrorResponse + 'static>(
    issuer: &str,
    error: RequestTokenError<HttpClientError<reqwest::Error>, E>,
    refused: impl FnOnce(E) -> CliError,
) -> CliError {
    match error {
        RequestTokenError::ServerResponse(response) => refused(response),
        RequestTokenError::Request(HttpClientError::Reqwest(error)) => unreachable(issuer, &error),
        RequestTokenError::Request(other) => {
            CliError::Issuer(format!("cannot reach {issuer}: {other}"))
        }
        RequestTokenError::Parse(..) => {
            CliError::Issuer(format!("{issuer} answered what is not an OAuth answer"))
        }
        RequestTokenError::Other(why) => CliError::Issuer(why),
    }
}

/// A refusal of the token endpoint outside the device flow: an `invalid_grant` means the kept
/// sign-in is over; anything else is said as the issuer said it.
pub fn refusal(response: BasicErrorResponse) -> CliError {
    match response.error() {
        BasicErrorResponseType::InvalidGrant => CliError::SignedOut,
        _ => CliError::Refused(response.to_string()),
    }
}

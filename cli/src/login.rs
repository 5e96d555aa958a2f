//! `qrgate login`: the device flow (RFC 8628) with the `oauth2` crate. The QR of
//! `verification_uri_complete` is shown with the user code and `verification_uri` beneath it;
//! then, rather than poll blind, the CLI listens on the session's live channel
//! (`shared/API.md`) and makes its first token request the moment the phone decides. Should
//! the channel fail, the `oauth2` crate polls at the issuer's interval instead. Ctrl-C ends the
//! wait at once: nothing is kept, nothing keeps running.

use crate::credentials::{self, Credentials};
use crate::error::CliError;
use crate::provider::{OAuthClient, Provider, request_error};
use crate::terminal::{Spinner, qr_half_blocks, stderr_is_terminal, tell};
use futures_util::{SinkExt, StreamExt};
use oauth2::DeviceCodeErrorResponseType;
use oauth2::{Scope, StandardDeviceAuthorizationResponse, TokenResponse};
use qrgate_protocol::live::{DeviceHello, PING};
use qrgate_protocol::oauth::{OPENID, PROFILE};
use qrgate_protocol::qr::is_final;
use qrgate_protocol::{PollResponse, QrStatus, Secret};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// How often the CLI pings the live channel (API.md: about every 20 s).
const PING_EVERY: Duration = Duration::from_secs(20);
/// How long past the code's lifetime the CLI listens: the edge pushes `expired` when it ends,
/// by its own clock, which this one does not share.
const EXPIRY_PUSH_GRACE: Duration = Duration::from_secs(5);

pub async fn login(issuer: &str, client_id: &str, json: bool) -> Result<(), CliError> {
    let provider = Provider::discover(issuer).await?;
    let client = provider.client(client_id)?;
    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scopes([OPENID, PROFILE].map(|scope| Scope::new(scope.to_owned())))
        .request_async(&provider.http)
        .await
        .map_err(|e| request_error(&provider.issuer, e, |r| CliError::Refused(r.to_string())))?;
    let asked = Instant::now();
    show(&details)?;
    let spinner = Spinner::start("Waiting for you to confirm on your phone… (Ctrl-C to cancel)");
    let waited = tokio::select! {
        tokens = wait_for_tokens(&provider, &client, &details, asked, &spinner) => tokens,
        _ = tokio::signal::ctrl_c() => Err(CliError::Interrupted),
    };
    drop(spinner);
    let tokens = waited?;
    let access_token = tokens.access_token().secret().clone();
    let who = provider
        .userinfo(&access_token)
        .await?
        .ok_or_else(|| CliError::Issuer("it refused the access token it just issued".into()))?;
    let lifetime = tokens.expires_in().unwrap_or_default().as_secs();
    credentials::save(&Credentials {
        issuer: provider.issuer.clone(),
        client_id: client_id.to_owned(),
        access_token,
        access_token_expires_at: crate::account::now_seconds() + lifetime,
        refresh_token: tokens.refresh_token().map(|token| token.secret().clone()),
    })?;
    crate::account::print_account(&provider.issuer, &who, json, "Signed in as")
}

/// The QR, the code and where to type it, on standard error (standard output is for the
/// answer, which `--json` keeps to one JSON document).
fn show(details: &StandardDeviceAuthorizationResponse) -> Result<(), CliError> {
    let verification_uri = details.verification_uri().as_str();
    let complete = details
        .verification_uri_complete()
        .map(|uri| uri.secret().as_str());
    let qr = qr_half_blocks(complete.unwrap_or(verification_uri), stderr_is_terminal())
        .ok_or_else(|| CliError::Issuer("its verification URI is too long for a QR code".into()))?;
    tell(&format!(
        "Scan this code with the phone you are signed in on, and confirm:\n\n{qr}\n\
         Or open {verification_uri} on the phone and enter the code {}\n\n",
        details.user_code().secret()
    ));
    Ok(())
}

/// The tokens, once the phone confirms: heard on the live channel if it can be, then asked
/// for with one request; else polled for, until the code's lifetime (counted from `asked`)
/// ends, so that an issuer gone quiet ends the wait when the code would have.
async fn wait_for_tokens(
    provider: &Provider,
    client: &OAuthClient,
    details: &StandardDeviceAuthorizationResponse,
    asked: Instant,
    spinner: &Spinner,
) -> Result<oauth2::basic::BasicTokenResponse, CliError> {
    let lifetime = details.expires_in();
    if let Some(url) = details
        .verification_uri_complete()
        .and_then(|uri| live_url(uri.secret()))
    {
        let hello = DeviceHello {
            device_code: Secret::new(details.device_code().secret().clone()),
        };
        let listening = (lifetime + EXPIRY_PUSH_GRACE).saturating_sub(asked.elapsed());
        // Whatever the channel heard, or if it failed, the token endpoint has the last word.
        let _ = listen(&url, &hello, listening, spinner).await;
    }
    // At least one request, however late: the phone may have confirmed at the last moment.
    let left = lifetime
        .saturating_sub(asked.elapsed())
        .max(Duration::from_secs(1));
    client
        .exchange_device_access_token(details)
        .request_async(&provider.http, tokio::time::sleep, Some(left))
        .await
        .map_err(|e| {
            request_error(&provider.issuer, e, |response| match response.error() {
                DeviceCodeErrorResponseType::AccessDenied => CliError::Denied,
                DeviceCodeErrorResponseType::ExpiredToken => CliError::Expired,
                _ => CliError::Refused(response.to_string()),
            })
        })
}

/// The live channel of the session `verification_uri_complete` names: its last path segment
/// is the QR id (API.md), on the same origin.
fn live_url(verification_uri_complete: &str) -> Option<String> {
    let mut url = url::Url::parse(verification_uri_complete).ok()?;
    let qr_id = url.path_segments()?.next_back()?.to_owned();
    let scheme = match url.scheme() {
        "https" => "wss",
        "http" => "ws",
        _ => return None,
    };
    url.set_scheme(scheme).ok()?;
    url.set_path(&format!("/api/qr/{qr_id}/live"));
    url.set_query(None);
    Some(url.into())
}

/// Why listening ended.
#[derive(Debug, PartialEq, Eq)]
enum Heard {
    /// The phone decided, or the session ended.
    Final(QrStatus),
    /// The channel failed or closed first, or the code's lifetime passed.
    Nothing,
}

/// Listens on the live channel until the session's status is final, for at most `within`.
async fn listen(url: &str, hello: &DeviceHello, within: Duration, spinner: &Spinner) -> Heard {
    let listening = async {
        let Ok((mut socket, _)) = tokio_tungstenite::connect_async(url).await else {
            return Heard::Nothing;
        };
        let Ok(hello) = serde_json::to_string(hello) else {
            return Heard::Nothing;
        };
        if socket.send(Message::text(hello)).await.is_err() {
            return Heard::Nothing;
        }
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            let message = tokio::select! {
                message = socket.next() => message,
                _ = ping.tick() => {
                    if socket.send(Message::text(PING)).await.is_err() {
                        return Heard::Nothing;
                    }
                    continue;
                }
            };
            let text = match message {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(_)) | Err(_)) | None => return Heard::Nothing,
                Some(Ok(_)) => continue,
            };
            let Ok(status) = serde_json::from_str::<PollResponse>(&text).map(|s| s.status) else {
                continue; // `pong`
            };
            if status == QrStatus::Scanned {
                spinner.say("Scanned: confirm on your phone… (Ctrl-C to cancel)");
            }
            if is_final(status) {
                return Heard::Final(status);
            }
        }
    };
    tokio::time::timeout(within, listening)
        .await
        .unwrap_or(Heard::Nothing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_live_channel_is_on_the_origin_of_the_qr_link() {
        assert_eq!(
            live_url("https://id.example/m/qr/abc").as_deref(),
            Some("wss://id.example/api/qr/abc/live")
        );
        assert_eq!(
            live_url("http://127.0.0.1:8787/m/qr/abc?x=1").as_deref(),
            Some("ws://127.0.0.1:8787/api/qr/abc/live")
        );
        assert_eq!(live_url("ftp://id.example/m/qr/abc"), None);
        assert_eq!(live_url("not a url"), None);
    }
}

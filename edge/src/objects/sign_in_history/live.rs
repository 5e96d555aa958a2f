//! The account's live channel (`qrgate_protocol::account_live`), on the one object that sees
//! every sign-in and sign-out of the account: a page's socket authenticates with its device's
//! token (and a DPoP proof for a bound one), checked against the token the object holds for
//! that device, and then hears `signed_out` when that token ends and `sign_in` for the
//! account's sign-ins elsewhere. What the object remembers about each socket is in the
//! socket's attachment (`objects/sockets.rs`).

use super::SignInHistory;
use crate::crypto::{constant_time_eq, hash_secret};
use crate::dpop;
use crate::objects::sockets::{self, close};
use qrgate_protocol::account_live::{self, AccountEvent, AccountHello, MAX_AUTHENTICATED_SOCKETS};
use qrgate_protocol::device_tokens::Held;
use qrgate_protocol::live::{self, CloseCode, HELLO_TIMEOUT_MS, PONG, Reaction};
use serde::{Deserialize, Serialize};
use worker::{Response, Result, WebSocket, WebSocketIncomingMessage};

/// What the object remembers about one socket.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Listener {
    opened_at_ms: u64,
    /// The URL its upgrade request was for: what a DPoP proof's `htu` must name.
    url: String,
    /// Once it has authenticated: the device, and the hash of the token it presented.
    device: Option<ListeningDevice>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ListeningDevice {
    device_id: String,
    token_hash: String,
}

impl SignInHistory {
    /// `GET /api/accounts/{account_id}/live`, after the Worker's checks: a hibernatable socket
    /// that must authenticate within 10 s.
    pub(super) async fn open_live(&self, url: &str, now_ms: u64) -> Result<Response> {
        let listener = Listener {
            opened_at_ms: now_ms,
            url: url.to_owned(),
            device: None,
        };
        let opened = sockets::accept(&self.state, listener)?;
        for socket in live::crowded_out(self.waiting()) {
            close(&socket, CloseCode::HelloTimeout);
        }
        self.schedule(now_ms).await?;
        Ok(opened)
    }

    /// A frame from a socket: a ping, the first message, or anything else (closed).
    pub(super) async fn receive(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        let now_ms = worker::Date::now().as_millis();
        let frame = sockets::frame(&message);
        let Some(listener) = sockets::attachment::<Listener>(&ws) else {
            close(&ws, CloseCode::BadMessage);
            return Ok(());
        };
        let authenticated = listener.device.is_some();
        if !authenticated && live::hello_overdue(listener.opened_at_ms, now_ms) {
            close(&ws, CloseCode::HelloTimeout);
            return Ok(());
        }
        match account_live::react(frame, authenticated) {
            // The auto-response normally answers before the object sees a ping.
            Reaction::Pong => ws.send_with_str(PONG)?,
            Reaction::Close(code) => close(&ws, code),
            Reaction::Hello(hello) => self.authenticate(&ws, listener, hello, now_ms).await?,
        }
        Ok(())
    }

    /// The first message: the token the object holds for the device, with a proof by its key if
    /// it is bound, or the socket is closed.
    async fn authenticate(
        &self,
        ws: &WebSocket,
        listener: Listener,
        hello: AccountHello,
        now_ms: u64,
    ) -> Result<()> {
        let token = hello.token.expose();
        // The proof first: its check awaits WebCrypto, during which other events may run. The
        // token's standing is read after it, and the socket marked before anything else can.
        let presented_key = match &hello.proof {
            None => Ok(None),
            Some(proof) => {
                let expected = dpop::Expected {
                    htm: "GET",
                    htu: &listener.url,
                    now_seconds: now_ms / 1000,
                    token: Some(token),
                };
                match dpop::parse(proof) {
                    Ok(proof) => proof
                        .verify(&expected)
                        .await
                        .map(|key| Some(key.to_owned())),
                    Err(invalid) => Err(invalid),
                }
            }
        };
        let token_hash = hash_secret(token);
        let device_id = &hello.device_id;
        let holds = self
            .log
            .read(&self.state, |log| {
                let Some(Held::Token { hash, key }) =
                    log.map(|log| log.tokens.held_by(device_id, now_ms))
                else {
                    return false;
                };
                // A bound token with a proof by its key; an unbound one without a proof.
                let binding_holds = match (key, &presented_key) {
                    (Some(bound), Ok(Some(presented))) => bound == presented,
                    (None, Ok(None)) => true,
                    _ => false,
                };
                constant_time_eq(hash.as_bytes(), token_hash.as_bytes()) && binding_holds
            })
            .await?;
        if !holds {
            close(ws, CloseCode::Unauthorized);
            return Ok(());
        }
        if self.listening().len() >= MAX_AUTHENTICATED_SOCKETS {
            close(ws, CloseCode::TooManySockets);
            return Ok(());
        }
        ws.serialize_attachment(Listener {
            device: Some(ListeningDevice {
                device_id: hello.device_id,
                token_hash,
            }),
            ..listener
        })?;
        sockets::send(ws, &AccountEvent::Ready);
        Ok(())
    }

    /// Tells `device_id`'s pages that their token ended (all of them, or all but those of the
    /// token of hash `kept`), and closes their sockets.
    pub(super) fn signed_out(&self, device_id: &str, kept: Option<&str>) {
        for (socket, device) in self.listening() {
            if device.device_id == device_id && Some(device.token_hash.as_str()) != kept {
                sockets::send(&socket, &AccountEvent::SignedOut);
                close(&socket, CloseCode::Done);
            }
        }
    }

    /// Tells the pages of the devices `to` picks (by device id) of `event`.
    pub(super) fn tell(&self, to: impl Fn(&str) -> bool, event: &AccountEvent) {
        for (socket, device) in self.listening() {
            if to(&device.device_id) {
                sockets::send(&socket, event);
            }
        }
    }

    /// Closes the sockets whose time for a first message is up.
    pub(super) fn close_overdue(&self, now_ms: u64) {
        for (socket, opened_at_ms) in self.waiting() {
            if live::hello_overdue(opened_at_ms, now_ms) {
                close(&socket, CloseCode::HelloTimeout);
            }
        }
    }

    /// When each socket still waiting for its first message is out of time.
    pub(super) fn hello_deadlines(&self) -> Vec<u64> {
        self.waiting()
            .into_iter()
            .map(|(_, opened_at_ms)| opened_at_ms + HELLO_TIMEOUT_MS)
            .collect()
    }

    /// The authenticated sockets, each with its device.
    fn listening(&self) -> Vec<(WebSocket, ListeningDevice)> {
        sockets::open::<Listener>(&self.state)
            .into_iter()
            .filter_map(|(socket, listener)| Some((socket, listener.device?)))
            .collect()
    }

    /// The sockets still waiting for their first message, each with when it opened.
    fn waiting(&self) -> Vec<(WebSocket, u64)> {
        sockets::open::<Listener>(&self.state)
            .into_iter()
            .filter(|(_, listener)| listener.device.is_none())
            .map(|(socket, listener)| (socket, listener.opened_at_ms))
            .collect()
    }
}

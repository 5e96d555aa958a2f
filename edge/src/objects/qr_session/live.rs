//! The live channel: hibernatable sockets (`objects/sockets.rs`), `ping` answered by the
//! runtime's auto-response without waking the object, and what the object must remember about
//! a socket (has it authenticated, when did it open) in the socket's attachment.

use super::rpc::{PcProof, PresentedKey};
use super::steps::{is_creator, presents_secret};
use super::{QrSessionObject, now_ms};
use crate::context::DeviceHeaders;
use crate::crypto::hash_secret;
use crate::error::AppError;
use crate::objects::sockets::{self, close};
use qrgate_protocol::live::{self, CloseCode, Hello, MAX_AUTHENTICATED_SOCKETS, PONG, Reaction};
use qrgate_protocol::qr::{Audience, QrSession, is_final};
use qrgate_protocol::{PollResponse, QrStatus};
use serde::{Deserialize, Serialize};
use worker::{Response, Result, WebSocket, WebSocketIncomingMessage};

/// What the object remembers about one socket, in its hibernation-proof attachment.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(super) struct SocketState {
    authenticated: bool,
    opened_at_ms: u64,
}

impl QrSessionObject {
    /// A frame from a socket: a ping, the first message, or anything else (closed).
    pub(super) async fn receive(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        let frame = sockets::frame(&message);
        let Some(socket_state) = sockets::attachment::<SocketState>(&ws) else {
            // Every socket this object accepts gets an attachment first; one without is not ours.
            close(&ws, CloseCode::BadMessage);
            return Ok(());
        };
        if !socket_state.authenticated && live::hello_overdue(socket_state.opened_at_ms, now_ms()) {
            close(&ws, CloseCode::HelloTimeout);
            return Ok(());
        }
        match live::react(frame, socket_state.authenticated) {
            // The auto-response normally answers before the object sees a ping.
            Reaction::Pong => ws.send_with_str(PONG)?,
            Reaction::Close(code) => close(&ws, code),
            Reaction::Hello(hello) => self.authenticate(&ws, socket_state, &hello).await?,
        }
        Ok(())
    }

    /// `GET /api/qr/{qr_id}/live`, after the Worker's checks: `404` for a session that does not
    /// exist, else a hibernatable socket that must authenticate within 10 s.
    pub(super) async fn open_live(&self, now_ms: u64) -> Result<Response> {
        let Some(session) = self.session.load(&self.state).await? else {
            return Ok(AppError::NotFound("QR session").into_response());
        };
        let opened = sockets::accept(
            &self.state,
            SocketState {
                authenticated: false,
                opened_at_ms: now_ms,
            },
        )?;
        for socket in live::crowded_out(self.waiting_sockets()) {
            close(&socket, CloseCode::HelloTimeout);
        }
        // Wake at this socket's deadline, if it comes before the session's next moment.
        self.schedule(&session, now_ms).await?;
        Ok(opened)
    }

    /// The first message: the creating PC's poll secret and device, or a device's device code,
    /// or the socket is closed.
    async fn authenticate(
        &self,
        ws: &WebSocket,
        socket_state: SocketState,
        hello: &Hello,
    ) -> Result<()> {
        let Some(session) = self.session.load(&self.state).await? else {
            close(ws, CloseCode::Collected);
            return Ok(());
        };
        let holds = match hello {
            Hello::Pc(hello) => {
                let proof = PcProof {
                    pc: DeviceHeaders {
                        device_id: hello.device_id.clone(),
                        device_type: hello.device_type,
                    },
                    poll_secret_hash: hash_secret(hello.poll_secret.expose()),
                    // The live channel carries no token, so it needs no proof (`shared/API.md`).
                    key: PresentedKey::None,
                };
                is_creator(&session, &proof)
            }
            Hello::Device(hello) => {
                let code_hash = hash_secret(hello.device_code.expose());
                let is_device = matches!(session.audience, Audience::Device(_));
                presents_secret(&session, &code_hash) & is_device
            }
        };
        if !holds {
            close(ws, CloseCode::Unauthorized);
            return Ok(());
        }
        let authenticated = self.open_sockets().into_iter();
        if authenticated
            .filter(|(_, state)| state.authenticated)
            .count()
            >= MAX_AUTHENTICATED_SOCKETS
        {
            close(ws, CloseCode::TooManySockets);
            return Ok(());
        }
        ws.serialize_attachment(SocketState {
            authenticated: true,
            ..socket_state
        })?;
        // The current status first, so a PC that reconnects never misses a change.
        let status = session.status(now_ms());
        ws.send_with_str(status_message(&session, status)?)?;
        if is_final(status) {
            close(ws, CloseCode::Done);
        }
        Ok(())
    }

    /// Tells every authenticated socket the new status, and closes them after a final one.
    pub(super) fn push(&self, session: &QrSession, status: QrStatus) -> Result<()> {
        let message = status_message(session, status)?;
        for (socket, socket_state) in self.open_sockets() {
            if socket_state.authenticated {
                // A socket that dropped meanwhile is simply not told; its PC polls.
                let _ = socket.send_with_str(&message);
                if is_final(status) {
                    close(&socket, CloseCode::Done);
                }
            }
        }
        Ok(())
    }

    /// The sockets still open, with what the object knows of each.
    pub(super) fn open_sockets(&self) -> Vec<(WebSocket, SocketState)> {
        sockets::open(&self.state)
    }

    /// The open sockets still waiting for their first message, each with when it opened.
    pub(super) fn waiting_sockets(&self) -> Vec<(WebSocket, u64)> {
        self.open_sockets()
            .into_iter()
            .filter(|(_, socket_state)| !socket_state.authenticated)
            .map(|(socket, socket_state)| (socket, socket_state.opened_at_ms))
            .collect()
    }
}

fn status_message(session: &QrSession, status: QrStatus) -> Result<String> {
    Ok(serde_json::to_string(&PollResponse {
        status,
        expires_at: session.expires_at,
        interval: session.rules.interval,
        session: None,
        authorization: None,
    })?)
}

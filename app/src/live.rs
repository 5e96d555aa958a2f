//! The PC page's live channel (`shared/API.md`, "Live status (WebSocket)"): a WebSocket on
//! which the edge pushes the QR session's status, so the page need not poll. The socket never
//! carries a token; the page picks its token up with one poll when it is told `confirmed`.

use crate::device::Device;
use qrgate_protocol::live::{LiveHello, PING};
use qrgate_protocol::{CreateQrResponse, PollResponse, QrStatus};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{MessageEvent, WebSocket};

/// A dropped live channel (a code's, or the account's) is reopened after this long, doubling up
/// to the maximum.
pub const RECONNECT_FIRST_MS: u32 = 1_000;
pub const RECONNECT_MAX_MS: u32 = 30_000;

/// What the live channel tells the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveEvent {
    /// The session's status, first on connecting and then at every change.
    Status(QrStatus),
    /// Another message (`pong`): the connection is alive.
    Alive,
    /// The socket closed or could not open; the page polls until it reconnects.
    Down,
}

/// `ws://` or `wss://` (as the page is `http:` or `https:`), this host, the session's channel.
/// The URL holds only the public id: the poll secret goes in the first message.
pub fn live_url(page_protocol: &str, host: &str, qr_id: &str) -> String {
    let scheme = if page_protocol == "https:" {
        "wss"
    } else {
        "ws"
    };
    format!("{scheme}://{host}/api/qr/{qr_id}/live")
}

/// An open live channel; dropping it closes the socket and detaches its handlers.
pub struct LiveChannel {
    socket: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut()>,
}

impl LiveChannel {
    /// Opens the channel of `qr` and authenticates as `device` once it is open. Every status
    /// and the socket's end are handed to `on_event`. `None` when the browser refuses the socket.
    pub fn open(
        qr: &CreateQrResponse,
        device: &Device,
        on_event: impl Fn(LiveEvent) + 'static,
    ) -> Option<Self> {
        let location = web_sys::window()?.location();
        let url = live_url(
            &location.protocol().ok()?,
            &location.host().ok()?,
            &qr.qr_id,
        );
        let socket = WebSocket::new(&url).ok()?;
        let hello = crate::json::to_json(&LiveHello {
            poll_secret: qr.poll_secret.clone(),
            device_id: device.id.clone(),
            device_type: device.device_type,
        })?;

        let opened = socket.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || {
            let _ = opened.send_with_str(&hello);
        });
        let on_event = std::rc::Rc::new(on_event);
        let statuses = on_event.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            // `pong` and anything else that is not a status is only a sign of life.
            let status = event
                .data()
                .as_string()
                .and_then(|text| crate::json::from_json::<PollResponse>(&text));
            statuses(match status {
                Some(pushed) => LiveEvent::Status(pushed.status),
                None => LiveEvent::Alive,
            });
        });
        // An error is always followed by a close, so the close alone reports the end.
        let on_close = Closure::<dyn FnMut()>::new(move || on_event(LiveEvent::Down));
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Some(Self {
            socket,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// The keep-alive the contract asks for about every 20 s.
    pub fn ping(&self) {
        if self.socket.ready_state() == WebSocket::OPEN {
            let _ = self.socket.send_with_str(PING);
        }
    }
}

impl Drop for LiveChannel {
    fn drop(&mut self) {
        // Detached first: the handlers' closures are freed with this struct.
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_channel_follows_the_page_scheme_and_holds_only_the_id() {
        assert_eq!(
            live_url("https:", "qrgate.example", "abc123abc123abc1"),
            "wss://qrgate.example/api/qr/abc123abc123abc1/live"
        );
        assert_eq!(
            live_url("http:", "127.0.0.1:8787", "abc123abc123abc1"),
            "ws://127.0.0.1:8787/api/qr/abc123abc123abc1/live"
        );
    }
}

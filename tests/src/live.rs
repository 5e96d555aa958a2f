//! A real WebSocket client for the live channels: a QR session's, `GET /api/qr/{qr_id}/live`,
//! and an account's, `GET /api/accounts/{account_id}/live`.

use crate::{Device, Location, dpop};
use futures::{SinkExt, StreamExt};
use qrgate_protocol::account_live::{AccountEvent, AccountHello};
use qrgate_protocol::live::{CloseCode, LiveHello};
use qrgate_protocol::{CreateQrResponse, LoginSession, PollResponse, QrStatus, Secret};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Longer than anything the edge takes to push or close, shorter than a hung test.
const WAIT: Duration = Duration::from_secs(20);

/// What arrives on a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Text(String),
    /// The edge closed the socket with this code (or the connection ended: `None`).
    Closed(Option<u16>),
}

pub struct LiveSocket {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// `ws://host/api/qr/{qr_id}/live` at `location`: the secret is never in it.
pub fn live_url(location: Location, qr_id: &str) -> String {
    let base = location.base_url().replacen("http", "ws", 1);
    format!("{base}/api/qr/{qr_id}/live")
}

/// `ws://host/api/accounts/{account_id}/live` at `location`.
pub fn account_url(location: Location, account_id: &str) -> String {
    let base = location.base_url().replacen("http", "ws", 1);
    format!("{base}/api/accounts/{account_id}/live")
}

impl LiveSocket {
    /// Opens the live channel of `qr_id` at `location` (no device headers: none are needed).
    pub async fn open(location: Location, qr_id: &str) -> Self {
        Self::connect(&live_url(location, qr_id)).await
    }

    /// Opens the channel at `url`.
    pub async fn connect(url: &str) -> Self {
        let (stream, response) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the live channel opens");
        assert_eq!(response.status(), 101);
        Self { stream }
    }

    /// Opens the account's channel at `device`'s location and authenticates with `login`'s
    /// token (with a proof by `key` if it is bound to one): `ready` has arrived.
    pub async fn listen(device: &Device, login: &LoginSession, key: Option<&dpop::Key>) -> Self {
        let account_id = &login.account.account_id;
        let mut socket = Self::connect(&account_url(device.location, account_id)).await;
        socket.account_hello(device, login, key).await;
        socket.expect_event(&AccountEvent::Ready).await;
        socket
    }

    /// The account channel's first message: the device's token and id, and a proof by `key`.
    pub async fn account_hello(
        &mut self,
        device: &Device,
        login: &LoginSession,
        key: Option<&dpop::Key>,
    ) {
        let url = format!(
            "{}/api/accounts/{}/live",
            device.location.base_url(),
            login.account.account_id
        );
        let hello = AccountHello {
            token: login.token.clone(),
            device_id: device.id.clone(),
            proof: key.map(|key| key.proof("GET", &url, Some(&login.token))),
        };
        let text = serde_json::to_string(&hello).expect("a hello serialises");
        self.send_text(&text).await;
    }

    /// The next message is this event of the account.
    pub async fn expect_event(&mut self, expected: &AccountEvent) -> String {
        match self.next().await {
            Event::Text(text) => {
                let event: AccountEvent = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{e}: not an account event: {text}"));
                assert_eq!(&event, expected, "{text}");
                text
            }
            other => panic!("expected {expected:?}, got {other:?}"),
        }
    }

    /// The next message is an account's `sign_in`: its entry.
    pub async fn expect_sign_in(&mut self) -> qrgate_protocol::SignInEntry {
        match self.next().await {
            Event::Text(text) => match serde_json::from_str(&text) {
                Ok(AccountEvent::SignIn { sign_in }) => sign_in,
                _ => panic!("not a sign-in: {text}"),
            },
            other => panic!("expected a sign-in, got {other:?}"),
        }
    }

    /// Opens the channel of the session `pc` created, at `pc`'s location, and authenticates.
    pub async fn watch(pc: &Device, qr: &CreateQrResponse) -> Self {
        let mut socket = Self::open(pc.location, &qr.qr_id).await;
        socket.hello(pc, &qr.poll_secret).await;
        socket
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::text(text))
            .await
            .expect("the socket takes a message");
    }

    pub async fn send_binary(&mut self, bytes: &[u8]) {
        self.stream
            .send(Message::binary(bytes.to_vec()))
            .await
            .expect("the socket takes a message");
    }

    /// The first message: this device and the poll secret.
    pub async fn hello(&mut self, pc: &Device, poll_secret: &Secret) {
        let hello = LiveHello {
            poll_secret: poll_secret.clone(),
            device_id: pc.id.clone(),
            device_type: pc.device_type,
        };
        let text = serde_json::to_string(&hello).expect("a hello serialises");
        self.send_text(&text).await;
    }

    /// The next text message or the close, whichever comes; fails the test after [`WAIT`].
    pub async fn next(&mut self) -> Event {
        loop {
            let message = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .unwrap_or_else(|_| panic!("nothing arrived on the live channel within {WAIT:?}"));
            return match message {
                None | Some(Err(_)) => Event::Closed(None),
                Some(Ok(Message::Text(text))) => Event::Text(text.to_string()),
                Some(Ok(Message::Close(frame))) => {
                    Event::Closed(frame.map(|CloseFrame { code, .. }| code.into()))
                }
                Some(Ok(Message::Binary(_))) => panic!("the edge sends only text"),
                Some(Ok(_)) => continue, // protocol-level ping and pong
            };
        }
    }

    /// The next message is this status, with exactly the poll's fields and never a token.
    pub async fn expect_status(&mut self, status: QrStatus) -> PollResponse {
        match self.next().await {
            Event::Text(text) => {
                let pushed: PollResponse = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{e}: not a status: {text}"));
                assert_eq!(pushed.status, status, "{text}");
                assert!(pushed.session.is_none(), "a token on the socket: {text}");
                let fields: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&text).expect("an object");
                let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
                names.sort_unstable();
                assert_eq!(names, ["expires_at", "interval", "status"], "{text}");
                pushed
            }
            other => panic!("expected {status:?}, got {other:?}"),
        }
    }

    /// The next event is the edge closing the socket with `code`.
    pub async fn expect_close(&mut self, code: CloseCode) {
        assert_eq!(self.next().await, Event::Closed(Some(code.code())));
    }

    /// The next message is `pong`.
    pub async fn expect_pong(&mut self) {
        assert_eq!(self.next().await, Event::Text("pong".into()));
    }
}

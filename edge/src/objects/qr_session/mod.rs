//! The QR session's Durable Object: the one writer of one session.
//!
//! Each event is: load the session, ask the pure state machine (`qrgate_protocol::qr`, with
//! this object's clock passed in), store, tell the PC's live sockets. The only awaits between
//! loading and storing are this object's own storage calls, during which the runtime's input
//! gate delivers no other event, so every step is decided against the state the previous one
//! left (see `edge/README.md`). KV and `fetch` are never awaited here.
//!
//! The object's work, by what it serves: the Worker's commands (`commands.rs`, deciding each
//! with the pure `steps.rs`), the live channel (`live.rs`) and its alarm (`expiry.rs`). What
//! the Worker may ask it is `rpc.rs`.

mod commands;
mod expiry;
mod live;
pub mod rpc;
mod steps;

use crate::objects::{self, Stored};
use qrgate_protocol::qr::QrSession;
use worker::{
    Date, DurableObject, Env, Request, Response, Result, Socket, State, WebSocket,
    WebSocketIncomingMessage, durable_object,
};

#[cfg_attr(feature = "objects", durable_object)]
pub struct QrSessionObject {
    state: State,
    session: Stored<QrSession>,
}

#[cfg(feature = "objects")]
impl DurableObject for QrSessionObject {
    fn new(state: State, _env: Env) -> Self {
        objects::sockets::answer_pings(&state);
        Self {
            state,
            session: Stored::new("session"),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let now_ms = now_ms();
        if req.headers().get("Upgrade")?.is_some() {
            return self.open_live(now_ms).await;
        }
        let reply = self.run(objects::command(req).await?, now_ms).await?;
        Response::from_json(&reply)
    }

    async fn alarm(&self) -> Result<Response> {
        self.wake(now_ms()).await
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        self.receive(ws, message).await
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _reason: String,
        _was_clean: bool,
    ) -> Result<()> {
        crate::objects::sockets::closed_by_client(&ws, code);
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        // The socket is gone; the session is unaffected and its PC reconnects or polls.
        Ok(())
    }

    async fn connect(&self, _socket: Socket) -> Result<()> {
        Err(worker::Error::RustError(
            "a QR session serves no TCP connections".into(),
        ))
    }
}

fn now_ms() -> u64 {
    Date::now().as_millis()
}

//! What the objects with live sockets share (a QR session's and an account's): hibernatable
//! sockets accepted by the runtime, each with what its object must remember about it in its
//! attachment (which survives hibernation where the object's fields do not), and closing them
//! with the contract's codes.

use crate::logs;
use qrgate_protocol::live::{CloseCode, Frame, PING, PONG};
use serde::Serialize;
use serde::de::DeserializeOwned;
use worker::{
    Response, Result, State, WebSocket, WebSocketIncomingMessage, WebSocketPair,
    WebSocketRequestResponsePair,
};

/// Has the runtime answer `ping` with `pong` on the object's sockets, even while it hibernates,
/// without waking it: called as the object is made.
pub fn answer_pings(state: &State) {
    if let Ok(pair) = WebSocketRequestResponsePair::new(PING, PONG) {
        state.set_websocket_auto_response(&pair);
    }
}

/// A received message as the contract's rules read it.
pub fn frame(message: &WebSocketIncomingMessage) -> Frame<'_> {
    match message {
        WebSocketIncomingMessage::String(text) => Frame::Text(text),
        WebSocketIncomingMessage::Binary(_) => Frame::Binary,
    }
}

/// Accepts a new hibernatable socket that starts with `attachment`: the response that opens it.
pub fn accept<A: Serialize>(state: &State, attachment: A) -> Result<Response> {
    let pair = WebSocketPair::new()?;
    state.accept_web_socket(&pair.server);
    pair.server.serialize_attachment(attachment)?;
    Response::from_websocket(pair.client)
}

/// The object's sockets still open, each with its attachment.
pub fn open<A: DeserializeOwned>(state: &State) -> Vec<(WebSocket, A)> {
    const OPEN: u16 = 1;
    state
        .get_websockets()
        .into_iter()
        .filter(|socket| socket.as_ref().ready_state() == OPEN)
        .filter_map(|socket| {
            let attached = attachment(&socket)?;
            Some((socket, attached))
        })
        .collect()
}

pub fn attachment<A: DeserializeOwned>(ws: &WebSocket) -> Option<A> {
    ws.deserialize_attachment().ok().flatten()
}

/// Sends `message` as JSON; a socket that dropped meanwhile is simply not told.
pub fn send<M: Serialize>(ws: &WebSocket, message: &M) {
    if let Ok(text) = serde_json::to_string(message) {
        let _ = ws.send_with_str(text);
    }
}

pub fn close(ws: &WebSocket, code: CloseCode) {
    // A socket that is already closing cannot be closed again; that is fine.
    if ws.close(Some(code.code()), Some(code.reason())).is_ok() {
        logs::write(&logs::Line::LiveClose {
            by: logs::Closer::Edge,
            code: code.code(),
        });
    }
}

/// The client closed `ws`: logged, and the closing handshake completed.
pub fn closed_by_client(ws: &WebSocket, code: usize) {
    logs::write(&logs::Line::LiveClose {
        by: logs::Closer::Client,
        code: u16::try_from(code).unwrap_or(u16::MAX),
    });
    // Complete the closing handshake; where the runtime already answered it, this fails
    // harmlessly. Nothing else is kept per socket.
    let _ = ws.close(Some(CloseCode::Done.code()), Some("closed"));
}

//! The live channel, `GET /api/qr/{qr_id}/live` (`shared/API.md`, "Live status (WebSocket)"):
//! its messages, its close codes (which the account's channel, `account_live.rs`, shares), and
//! what the edge does with each frame a client sends.
//! The status it pushes is [`crate::PollResponse`] without `session`: the socket never carries
//! a login token.

use crate::{DeviceType, Secret};
use serde::{Deserialize, Serialize};

/// A socket that has not sent its first message within this long is closed with
/// [`CloseCode::HelloTimeout`].
pub const HELLO_TIMEOUT_MS: u64 = 10_000;
/// The largest message a client may send; anything longer is [`CloseCode::BadMessage`].
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// At most this many sockets of one session wait for their first message at once. The QR id is
/// public (anyone who saw the QR has it), so without a bound anyone could hold any number of
/// sockets open on the session's object; the PC needs one, two across a reload.
pub const MAX_WAITING_SOCKETS: usize = 16;
/// At most this many sockets of one session are authenticated at once; a further first
/// message, even a right one, is [`CloseCode::TooManySockets`]. The PC needs one (two across a
/// reload); whoever holds its poll secret must not hold the object's sockets without bound.
pub const MAX_AUTHENTICATED_SOCKETS: usize = 8;
/// The keep-alive a client sends about every 20 s, at any time, answered with [`PONG`].
pub const PING: &str = "ping";
pub const PONG: &str = "pong";

/// The first message: the same poll secret and device that the PC's polls present. Unknown
/// extra keys are ignored. [`react`] hands it on with the device id normalised (lower case),
/// as the `X-Device-Id` header is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LiveHello {
    pub poll_secret: Secret,
    pub device_id: String,
    pub device_type: DeviceType,
}

/// A device's first message (RFC 8628, `shared/API.md`, "Devices without a browser"): its
/// device code, in place of the poll secret and device.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceHello {
    pub device_code: Secret,
}

/// A first message that holds, either kind.
#[derive(Debug, Clone)]
pub enum Hello {
    Pc(LiveHello),
    Device(DeviceHello),
}

/// How the edge ends a live socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseCode {
    /// After a final message has been pushed: a decided or expired status, or `signed_out`.
    Done,
    /// A first message that is not a [`LiveHello`], a binary frame, anything but `ping` after
    /// the first message, or a message over [`MAX_MESSAGE_BYTES`].
    BadMessage,
    /// A wrong poll secret, device code or login token, or another device.
    Unauthorized,
    /// The session was collected while the socket was open.
    Collected,
    /// No first message within [`HELLO_TIMEOUT_MS`], or, before that, crowded out by newer
    /// sockets ([`crowded_out`]).
    HelloTimeout,
    /// A right first message when [`MAX_AUTHENTICATED_SOCKETS`] of the session's sockets are
    /// authenticated already.
    TooManySockets,
}

impl CloseCode {
    pub const ALL: [CloseCode; 6] = [
        Self::Done,
        Self::BadMessage,
        Self::Unauthorized,
        Self::Collected,
        Self::HelloTimeout,
        Self::TooManySockets,
    ];

    pub fn code(self) -> u16 {
        match self {
            Self::Done => 1000,
            Self::BadMessage => 4400,
            Self::Unauthorized => 4401,
            Self::Collected => 4404,
            Self::HelloTimeout => 4408,
            Self::TooManySockets => 4429,
        }
    }

    /// The close frame's reason: a few words for a person reading a trace, never a detail.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Done => "final message sent",
            Self::BadMessage => "malformed message",
            Self::Unauthorized => "wrong secret or device",
            Self::Collected => "session collected",
            Self::HelloTimeout => "no first message in time",
            Self::TooManySockets => "too many sockets",
        }
    }

    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// One frame from a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    Text(&'a str),
    Binary,
}

/// What the edge does with a frame.
#[derive(Debug, Clone)]
pub enum Reaction<H = Hello> {
    Pong,
    /// A well-formed first message: the edge checks it against the session (or the account).
    Hello(H),
    Close(CloseCode),
}

/// The contract's rules for a client's frame on a QR session's channel, given whether the
/// socket has authenticated.
pub fn react(frame: Frame<'_>, authenticated: bool) -> Reaction {
    react_with(frame, authenticated, qr_hello)
}

/// A QR session's first message, either kind.
fn qr_hello(text: &str) -> Option<Hello> {
    let pc = serde_json::from_str::<LiveHello>(text)
        .ok()
        .and_then(|hello| {
            let device_id = crate::validate::device_id(&hello.device_id)?;
            Some(Hello::Pc(LiveHello { device_id, ..hello }))
        });
    pc.or_else(|| {
        serde_json::from_str::<DeviceHello>(text)
            .ok()
            .map(Hello::Device)
    })
}

/// The rules every live channel shares: `ping` at any time, then one first message that
/// `hello` reads from a JSON object, then nothing else; no binary frame, nothing over
/// [`MAX_MESSAGE_BYTES`].
pub fn react_with<H>(
    frame: Frame<'_>,
    authenticated: bool,
    hello: impl FnOnce(&str) -> Option<H>,
) -> Reaction<H> {
    let text = match frame {
        Frame::Binary => return Reaction::Close(CloseCode::BadMessage),
        Frame::Text(text) if text.len() > MAX_MESSAGE_BYTES => {
            return Reaction::Close(CloseCode::BadMessage);
        }
        Frame::Text(text) => text,
    };
    if text == PING {
        return Reaction::Pong;
    }
    if authenticated {
        return Reaction::Close(CloseCode::BadMessage);
    }
    if !crate::validate::is_json_object(text.as_bytes()) {
        return Reaction::Close(CloseCode::BadMessage);
    }
    match hello(text) {
        Some(hello) => Reaction::Hello(hello),
        None => Reaction::Close(CloseCode::BadMessage),
    }
}

/// Whether a socket opened at `opened_at_ms` and not yet authenticated is out of time for its
/// first message: the object's alarm closes it then, and a first message that arrives later
/// (an alarm runs late) is refused all the same.
pub fn hello_overdue(opened_at_ms: u64, now_ms: u64) -> bool {
    now_ms >= opened_at_ms.saturating_add(HELLO_TIMEOUT_MS)
}

/// Of a session's sockets waiting for their first message, each with when it opened, those to
/// close so that at most [`MAX_WAITING_SOCKETS`] wait: the ones that have waited longest. A
/// socket that just opened is kept, so a flood of sockets cannot keep the PC's new one out;
/// sockets that have authenticated are not counted and never crowded out.
pub fn crowded_out<S>(mut waiting: Vec<(S, u64)>) -> Vec<S> {
    let excess = waiting.len().saturating_sub(MAX_WAITING_SOCKETS);
    // Stable: of sockets opened in the same millisecond, the one accepted first goes first.
    waiting.sort_by_key(|(_, opened_at_ms)| *opened_at_ms);
    waiting
        .into_iter()
        .take(excess)
        .map(|(socket, _)| socket)
        .collect()
}

/// When a session's object must next wake: at the session's own next moment, or at the
/// deadline of the first socket still waiting for its first message, whichever comes first.
pub fn next_alarm_ms(
    session_wake_ms: u64,
    unauthenticated_opened_at_ms: impl IntoIterator<Item = u64>,
) -> u64 {
    unauthenticated_opened_at_ms
        .into_iter()
        .map(|opened| opened + HELLO_TIMEOUT_MS)
        .fold(session_wake_ms, u64::min)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &str = r#"{"poll_secret": "s3cret", "device_id": "0f8fad5b-d9cb-469f-a165-70867728950e", "device_type": "pc"}"#;

    fn closes_with(reaction: Reaction) -> Option<CloseCode> {
        match reaction {
            Reaction::Close(code) => Some(code),
            _ => None,
        }
    }

    #[test]
    fn a_device_says_hello_with_its_device_code() {
        let Reaction::Hello(Hello::Device(hello)) =
            react(Frame::Text(r#"{"device_code": "abc.def"}"#), false)
        else {
            panic!("a device's hello")
        };
        assert_eq!(hello.device_code.expose(), "abc.def");
        assert_eq!(
            closes_with(react(Frame::Text(r#"{"device_code": 7}"#), false)),
            Some(CloseCode::BadMessage)
        );
    }

    #[test]
    fn the_first_message_is_the_hello() {
        let Reaction::Hello(Hello::Pc(hello)) = react(Frame::Text(HELLO), false) else {
            panic!("a hello")
        };
        assert_eq!(hello.poll_secret.expose(), "s3cret");
        assert_eq!(hello.device_type, DeviceType::Pc);
    }

    #[test]
    fn the_device_id_is_normalised_like_the_header() {
        let upper = HELLO.replace(
            "0f8fad5b-d9cb-469f-a165-70867728950e",
            "0F8FAD5B-D9CB-469F-A165-70867728950E",
        );
        let Reaction::Hello(Hello::Pc(hello)) = react(Frame::Text(&upper), false) else {
            panic!("a hello")
        };
        assert_eq!(hello.device_id, "0f8fad5b-d9cb-469f-a165-70867728950e");
    }

    #[test]
    fn unknown_extra_keys_are_ignored() {
        let with_extra = HELLO.replace("{", r#"{"hello": "world", "#);
        assert!(matches!(
            react(Frame::Text(&with_extra), false),
            Reaction::Hello(_)
        ));
    }

    #[test]
    fn anything_else_first_is_a_bad_message() {
        for text in [
            "",
            "hello",
            "[]",
            // serde alone would read the hello's fields from an array, in order.
            r#"["s3cret", "0f8fad5b-d9cb-469f-a165-70867728950e", "pc"]"#,
            "{}",
            r#"{"poll_secret": "s"}"#,
            r#"{"poll_secret": 1, "device_id": "x", "device_type": "pc"}"#,
            &HELLO.replace("\"pc\"", "\"toaster\""),
            &HELLO.replace("0f8fad5b-d9cb-469f-a165-70867728950e", "not-a-uuid"),
            "PING",
        ] {
            assert_eq!(
                closes_with(react(Frame::Text(text), false)),
                Some(CloseCode::BadMessage),
                "{text}"
            );
        }
        assert_eq!(
            closes_with(react(Frame::Binary, false)),
            Some(CloseCode::BadMessage)
        );
    }

    #[test]
    fn after_the_hello_only_ping_is_allowed() {
        assert!(matches!(react(Frame::Text(PING), true), Reaction::Pong));
        for frame in [Frame::Text(HELLO), Frame::Text("pong"), Frame::Binary] {
            assert_eq!(closes_with(react(frame, true)), Some(CloseCode::BadMessage));
        }
    }

    #[test]
    fn ping_is_answered_before_the_hello_too() {
        assert!(matches!(react(Frame::Text(PING), false), Reaction::Pong));
    }

    #[test]
    fn messages_over_4_kib_are_refused_even_when_well_formed() {
        let padded = HELLO.replace(
            "{",
            &format!(r#"{{"pad": "{}", "#, "x".repeat(MAX_MESSAGE_BYTES)),
        );
        assert_eq!(
            closes_with(react(Frame::Text(&padded), false)),
            Some(CloseCode::BadMessage)
        );
        let exactly = "x".repeat(MAX_MESSAGE_BYTES);
        assert_eq!(
            closes_with(react(Frame::Text(&exactly), false)),
            Some(CloseCode::BadMessage),
            "4 KiB is allowed in size, but is no hello"
        );
    }

    #[test]
    fn close_codes_are_the_contracts() {
        let codes: Vec<u16> = CloseCode::ALL.into_iter().map(CloseCode::code).collect();
        assert_eq!(codes, [1000, 4400, 4401, 4404, 4408, 4429]);
        for code in CloseCode::ALL {
            assert_eq!(CloseCode::from_code(code.code()), Some(code));
            assert!(code.reason().len() <= 123, "a close reason fits its frame");
        }
        assert_eq!(CloseCode::from_code(1001), None);
    }

    #[test]
    fn the_alarm_is_the_earliest_deadline() {
        assert_eq!(next_alarm_ms(50_000, []), 50_000);
        assert_eq!(next_alarm_ms(50_000, [1_000, 20_000]), 11_000);
        assert_eq!(next_alarm_ms(5_000, [1_000]), 5_000);
    }

    #[test]
    fn a_first_message_is_due_within_ten_seconds_of_opening() {
        assert!(!hello_overdue(1_000, 1_000));
        assert!(!hello_overdue(1_000, 10_999));
        assert!(hello_overdue(1_000, 11_000));
    }

    #[test]
    fn the_sockets_that_waited_longest_are_crowded_out() {
        let waiting = |count: usize| -> Vec<(usize, u64)> {
            // Opened in reverse order of their index, two to a millisecond.
            (0..count).map(|i| (i, 1_000 - (i / 2) as u64)).collect()
        };
        assert!(crowded_out(waiting(MAX_WAITING_SOCKETS)).is_empty());
        // 18 opened first; 16 and 17 in the same millisecond after it, 16 accepted first.
        assert_eq!(crowded_out(waiting(19)), vec![18, 16, 17]);
    }
}

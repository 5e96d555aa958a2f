//! The account's channel, `GET /api/accounts/{account_id}/live` (`asyncapi.yaml`): a signed-in
//! page listens on it for what happens to its account. Its frames follow the QR channel's rules
//! and close codes (`live.rs`); what differs is its first message (the device's login token,
//! never in the URL) and what it pushes: [`AccountEvent`]s.

use crate::live::{Frame, Reaction, react_with};
use crate::{Secret, SignInEntry};
use serde::{Deserialize, Serialize};

/// At most this many sockets of one account are authenticated at once; a further first
/// message, even a right one, is closed with `4429`. A page needs one, and an account has a few
/// devices with a few tabs each.
pub const MAX_AUTHENTICATED_SOCKETS: usize = 32;

/// [`AccountEvent::SignedOut`] as the edge sends it, which a page compares a message with
/// rather than carry the reader of every event.
pub const SIGNED_OUT_EVENT: &str = r#"{"type":"signed_out"}"#;

/// The first message: the device's login token, presented as its requests present it. A
/// token bound to a key (DPoP) comes with `proof`, a DPoP proof by that key for `GET` of the
/// channel's URL (as `https://`, the URL of its upgrade request) with the token's `ath`.
/// Unknown extra keys are ignored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountHello {
    pub token: Secret,
    pub device_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<String>,
}

/// What the account's channel pushes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AccountEvent {
    /// The first message held: this socket now hears the account's events.
    Ready,
    /// This device's token no longer holds (signed out from anywhere, or replaced by a new
    /// sign-in of this device): the page drops it. The socket is then closed with `1000`.
    SignedOut,
    /// A new sign-in of the account, by another device or to an app, as its history lists it.
    SignIn { sign_in: SignInEntry },
}

/// What a page reads of an [`AccountEvent`] when it needs only a sign-in's entry: the entry of
/// a `sign_in`, none for any other. A struct, not the tagged enum, whose reading by serde
/// buffers every message first and would weigh about 15 KiB in a page's wasm.
#[derive(Debug, Clone, Deserialize)]
pub struct ToldSignIn {
    #[serde(default)]
    pub sign_in: Option<SignInEntry>,
}

/// The contract's rules for a client's frame on the account's channel, given whether the
/// socket has authenticated. [`AccountHello`]'s device id is normalised as the header's is.
pub fn react(frame: Frame<'_>, authenticated: bool) -> Reaction<AccountHello> {
    react_with(frame, authenticated, |text| {
        let hello = serde_json::from_str::<AccountHello>(text).ok()?;
        let device_id = crate::validate::device_id(&hello.device_id)?;
        Some(AccountHello { device_id, ..hello })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::CloseCode;

    const HELLO: &str =
        r#"{"token": "abc.def", "device_id": "0F8FAD5B-D9CB-469F-A165-70867728950E"}"#;

    #[test]
    fn the_first_message_is_the_token_and_device_with_an_optional_proof() {
        let Reaction::Hello(hello) = react(Frame::Text(HELLO), false) else {
            panic!("a hello")
        };
        assert_eq!(hello.token.expose(), "abc.def");
        assert_eq!(hello.device_id, "0f8fad5b-d9cb-469f-a165-70867728950e");
        assert_eq!(hello.proof, None);
        let with_proof = HELLO.replace('{', r#"{"proof": "a.b.c", "#);
        let Reaction::Hello(hello) = react(Frame::Text(&with_proof), false) else {
            panic!("a hello")
        };
        assert_eq!(hello.proof.as_deref(), Some("a.b.c"));
    }

    #[test]
    fn anything_else_first_and_anything_but_ping_after_is_a_bad_message() {
        for text in [
            "{}",
            r#"{"token": "abc.def"}"#,
            r#"{"token": "abc.def", "device_id": "not-a-uuid"}"#,
            r#"["abc.def", "0f8fad5b-d9cb-469f-a165-70867728950e"]"#,
        ] {
            assert!(
                matches!(
                    react(Frame::Text(text), false),
                    Reaction::Close(CloseCode::BadMessage)
                ),
                "{text}"
            );
        }
        assert!(matches!(
            react(Frame::Text(HELLO), true),
            Reaction::Close(CloseCode::BadMessage)
        ));
        assert!(matches!(react(Frame::Text("ping"), true), Reaction::Pong));
    }

    #[test]
    fn a_page_reads_the_entry_of_a_sign_in_and_of_nothing_else() {
        let entry = SignInEntry {
            at: 1_700_000_000,
            device_id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
            device_type: crate::DeviceType::Pc,
            device_name: "Chromium on Linux".into(),
            via: crate::Via::Qr,
            country: Some("DE".into()),
            city: Some("Berlin".into()),
            network: None,
            client_id: None,
            client_name: None,
        };
        let read = |event: &AccountEvent| -> Option<SignInEntry> {
            let json = serde_json::to_string(event).ok()?;
            serde_json::from_str::<ToldSignIn>(&json).ok()?.sign_in
        };
        let sign_in = AccountEvent::SignIn {
            sign_in: entry.clone(),
        };
        assert_eq!(read(&sign_in), Some(entry));
        assert_eq!(read(&AccountEvent::Ready), None);
        assert_eq!(read(&AccountEvent::SignedOut), None);
    }

    #[test]
    fn events_are_tagged_by_type() {
        let json = |event: &AccountEvent| serde_json::to_string(event).unwrap_or_default();
        assert_eq!(json(&AccountEvent::Ready), r#"{"type":"ready"}"#);
        assert_eq!(json(&AccountEvent::SignedOut), SIGNED_OUT_EVENT);
    }
}

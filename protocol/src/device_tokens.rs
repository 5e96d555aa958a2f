//! Which login token each of an account's devices holds, as the account's one object knows it
//! (`edge/README.md`, "Revocation at once"). KV keeps the token records, but a delete or an
//! overwrite there reaches other locations only after a minute or more, and until then the old
//! record still validates the old token. Every sign-in and sign-out goes through the account's
//! object first, so it always knows the newest: a token it does not hold is refused at once,
//! wherever it is presented. `now` is passed in.

use crate::Via;
use serde::{Deserialize, Serialize};

/// A token from a QR sign-in made less than `fresh_seconds` ago (`FRESH_SIGN_IN_SECONDS`) has
/// reduced rights (RFC 10027's limited rights for a cross-device sign-in, which a phished code
/// would have made): it cannot approve another QR sign-in, sign other devices out, or remove
/// passkeys or connected apps, until its device signs in again by password or passkey. So a
/// session born from a phished QR cannot at once sign its owner's phone out.
pub fn needs_step_up(via: Via, created_at: u64, now: u64, fresh_seconds: u64) -> bool {
    via == Via::Qr && now < created_at.saturating_add(fresh_seconds)
}

/// How long a sign-out is remembered: far beyond the time KV takes to carry the deleted record
/// everywhere, after which KV alone refuses the token.
pub const SIGNED_OUT_KEPT_MS: u64 = 3600 * 1000;
/// The most devices an account's object keeps. Past it the entries that end soonest go (signed
/// out ones first, as they are kept the shortest), and their tokens are decided by KV alone.
pub const MAX_DEVICES: usize = 1024;

/// One device's entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct DeviceToken {
    device_id: String,
    /// The SHA-256 hash of the device's current token; `None` once it signed out.
    token_hash: Option<String>,
    /// The thumbprint of the key the token is bound to (DPoP), if it is bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    /// When the entry is forgotten: the token's expiry, or a sign-out's end of memory.
    until_ms: u64,
}

/// The devices of one account and the token each holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceTokens {
    devices: Vec<DeviceToken>,
}

/// What the account's object holds for a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held<'a> {
    /// This token, by its hash, bound to the key of thumbprint `key` if it is bound: any
    /// other token is refused.
    Token { hash: &'a str, key: Option<&'a str> },
    /// No token: the device signed out.
    SignedOut,
    /// Nothing: a token issued before its object kept tokens, or one it had to forget, which
    /// KV decides alone.
    Unknown,
}

impl DeviceTokens {
    /// `device_id` was signed in now with the token of hash `token_hash` (bound to `key`, if
    /// bound), which expires at `expires_at_ms`; its earlier token is refused from now on.
    pub fn signed_in(
        &mut self,
        device_id: &str,
        (token_hash, key): (String, Option<String>),
        expires_at_ms: u64,
        now_ms: u64,
    ) {
        self.set(device_id, Some(token_hash), key, expires_at_ms, now_ms);
    }

    /// `device_id` signed out now: whether it held a token.
    pub fn signed_out(&mut self, device_id: &str, now_ms: u64) -> bool {
        let held = matches!(self.held_by(device_id, now_ms), Held::Token { .. });
        self.set(device_id, None, None, now_ms + SIGNED_OUT_KEPT_MS, now_ms);
        held
    }

    /// What is held for `device_id` now.
    pub fn held_by(&self, device_id: &str, now_ms: u64) -> Held<'_> {
        match self
            .devices
            .iter()
            .find(|d| d.device_id == device_id && now_ms < d.until_ms)
        {
            Some(DeviceToken {
                token_hash: Some(hash),
                key,
                ..
            }) => Held::Token {
                hash,
                key: key.as_deref(),
            },
            Some(_) => Held::SignedOut,
            None => Held::Unknown,
        }
    }

    /// When the last entry is forgotten.
    pub fn until_ms(&self) -> Option<u64> {
        self.devices.iter().map(|d| d.until_ms).max()
    }

    fn set(
        &mut self,
        device_id: &str,
        token_hash: Option<String>,
        key: Option<String>,
        until_ms: u64,
        now_ms: u64,
    ) {
        self.devices
            .retain(|d| d.device_id != device_id && now_ms < d.until_ms);
        if self.devices.len() >= MAX_DEVICES {
            self.devices.sort_by_key(|d| std::cmp::Reverse(d.until_ms));
            self.devices.truncate(MAX_DEVICES - 1);
        }
        self.devices.push(DeviceToken {
            device_id: device_id.to_owned(),
            token_hash,
            key,
            until_ms,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000_000;
    const DAY_MS: u64 = 24 * 3600 * 1000;

    fn token(hash: &str) -> (String, Option<String>) {
        (hash.to_owned(), None)
    }

    #[test]
    fn a_qr_sign_in_needs_a_step_up_until_it_is_settled_and_no_other_does() {
        const DAY: u64 = 24 * 3600;
        let at = 1_700_000_000;
        assert!(needs_step_up(Via::Qr, at, at, DAY));
        assert!(needs_step_up(Via::Qr, at, at + DAY - 1, DAY));
        assert!(!needs_step_up(Via::Qr, at, at + DAY, DAY));
        for via in [Via::Password, Via::Passkey] {
            assert!(!needs_step_up(via, at, at, DAY));
        }
        assert!(!needs_step_up(Via::Qr, at, at, 0), "0 turns it off");
    }

    #[test]
    fn a_bound_token_is_held_with_its_key() {
        let mut tokens = DeviceTokens::default();
        tokens.signed_in("pc", ("h".into(), Some("jkt".into())), T0 + DAY_MS, T0);
        assert_eq!(
            tokens.held_by("pc", T0),
            Held::Token {
                hash: "h",
                key: Some("jkt")
            }
        );
    }

    #[test]
    fn a_new_sign_in_replaces_the_device_s_token_and_a_sign_out_ends_it() {
        let mut tokens = DeviceTokens::default();
        assert_eq!(tokens.held_by("pc", T0), Held::Unknown);
        tokens.signed_in("pc", token("h1"), T0 + DAY_MS, T0);
        tokens.signed_in("phone", token("p"), T0 + DAY_MS, T0);
        assert_eq!(
            tokens.held_by("pc", T0 + 1),
            Held::Token {
                hash: "h1",
                key: None
            }
        );
        tokens.signed_in("pc", token("h2"), T0 + DAY_MS, T0 + 2);
        assert_eq!(
            tokens.held_by("pc", T0 + 3),
            Held::Token {
                hash: "h2",
                key: None
            }
        );
        assert!(tokens.signed_out("pc", T0 + 4));
        assert_eq!(tokens.held_by("pc", T0 + 5), Held::SignedOut);
        assert!(!tokens.signed_out("pc", T0 + 6), "signed out already");
        assert_eq!(
            tokens.held_by("phone", T0 + 7),
            Held::Token {
                hash: "p",
                key: None
            }
        );
    }

    #[test]
    fn a_sign_out_is_remembered_an_hour_and_a_token_until_it_expires() {
        let mut tokens = DeviceTokens::default();
        tokens.signed_in("pc", token("h"), T0 + DAY_MS, T0);
        assert_eq!(
            tokens.held_by("pc", T0 + DAY_MS - 1),
            Held::Token {
                hash: "h",
                key: None
            }
        );
        assert_eq!(tokens.held_by("pc", T0 + DAY_MS), Held::Unknown);
        tokens.signed_out("pc", T0);
        assert_eq!(
            tokens.held_by("pc", T0 + SIGNED_OUT_KEPT_MS - 1),
            Held::SignedOut
        );
        assert_eq!(tokens.held_by("pc", T0 + SIGNED_OUT_KEPT_MS), Held::Unknown);
        assert_eq!(tokens.until_ms(), Some(T0 + SIGNED_OUT_KEPT_MS));
    }

    #[test]
    fn past_the_most_devices_the_entries_that_end_soonest_go_first() {
        let mut tokens = DeviceTokens::default();
        tokens.signed_in("kept", token("k"), T0 + 2 * DAY_MS, T0);
        tokens.signed_out("out", T0);
        for i in 0..MAX_DEVICES - 2 {
            tokens.signed_in(&i.to_string(), token("h"), T0 + DAY_MS, T0);
        }
        assert_eq!(tokens.held_by("out", T0), Held::SignedOut);
        tokens.signed_in("one more", token("m"), T0 + DAY_MS, T0);
        assert_eq!(tokens.devices.len(), MAX_DEVICES);
        assert_eq!(tokens.held_by("out", T0), Held::Unknown);
        assert_eq!(
            tokens.held_by("kept", T0),
            Held::Token {
                hash: "k",
                key: None
            }
        );
        assert_eq!(
            tokens.held_by("one more", T0),
            Held::Token {
                hash: "m",
                key: None
            }
        );
    }

    #[test]
    fn entries_past_their_end_are_dropped_when_another_is_set() {
        let mut tokens = DeviceTokens::default();
        tokens.signed_in("old", token("o"), T0 + 10, T0);
        tokens.signed_in("new", token("n"), T0 + DAY_MS, T0 + 20);
        assert_eq!(tokens.devices.len(), 1);
    }
}

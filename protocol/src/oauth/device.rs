//! Devices without a browser (RFC 8628; `shared/API.md`, "Devices without a browser"): a CLI,
//! a TV or a kiosk shows a QR, the phone scans and confirms as for the PC page. Each device
//! authorization is a QR session (`crate::qr`) made for the device ([`ForDevice`]); here are
//! its user code and the rules of its polls at the token endpoint, with `now` passed in.

use crate::Secret;
use serde::{Deserialize, Serialize};

/// The user code's alphabet (RFC 8628 §6.1): consonants only, no vowel to spell a word, none
/// that looks like another.
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
pub const USER_CODE_LENGTH: usize = 8;
/// The least time between a device's polls, at first.
pub const POLL_INTERVAL_SECONDS: u64 = 5;
/// How much longer a device that polled too soon must wait from then on (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP_SECONDS: u64 = 5;
/// The path where a phone that cannot scan types the user code.
pub const VERIFICATION_PATH: &str = "/m/device";

/// `POST /oauth/device_authorization`'s answer (RFC 8628 §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceAuthorizationResponse {
    pub device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: u64,
    pub interval: u64,
}

/// `POST /api/user-codes`: a code typed on the phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCodeRequest {
    pub user_code: String,
}

/// `POST /api/user-codes`'s answer: the device session the code names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCodeResponse {
    pub qr_id: String,
    pub qr_url: String,
}

/// A user code from random bytes, uniform over the alphabet (a byte past the largest multiple
/// of 20 is skipped); `None` if the bytes ran out first.
pub fn user_code_from(random: impl IntoIterator<Item = u8>) -> Option<String> {
    const USABLE: u8 = (256 / USER_CODE_ALPHABET.len() * USER_CODE_ALPHABET.len()) as u8;
    let code: String = random
        .into_iter()
        .filter(|byte| *byte < USABLE)
        .take(USER_CODE_LENGTH)
        .map(|byte| char::from(USER_CODE_ALPHABET[usize::from(byte) % USER_CODE_ALPHABET.len()]))
        .collect();
    (code.len() == USER_CODE_LENGTH).then_some(code)
}

/// A user code as people read it: `XXXX-XXXX`.
pub fn display_user_code(code: &str) -> String {
    let (first, second) = code.split_at(code.len().min(USER_CODE_LENGTH / 2));
    format!("{first}-{second}")
}

/// A code as typed, in any case, with or without the dash and spaces; `None` if it cannot be
/// one.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let holds =
        code.len() == USER_CODE_LENGTH && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
    holds.then_some(code)
}

/// What a QR session made for a device knows of it, beside what every session knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForDevice {
    pub client_id: String,
    pub client_name: String,
    pub scope: Vec<String>,
    /// As the phone shows it, `XXXX-XXXX`.
    pub user_code: String,
    /// The least time between polls now: it grows with every poll that came too soon.
    pub interval_seconds: u64,
    /// When the device last polled (Unix ms), if it has.
    pub last_poll_ms: Option<u64>,
}

impl ForDevice {
    pub fn new(
        client_id: String,
        client_name: String,
        scope: Vec<String>,
        user_code: &str,
    ) -> Self {
        Self {
            client_id,
            client_name,
            scope,
            user_code: display_user_code(user_code),
            interval_seconds: POLL_INTERVAL_SECONDS,
            last_poll_ms: None,
        }
    }

    /// A poll at `now_ms`: whether it came too soon after the last (RFC 8628 §3.5), which makes
    /// the interval grow. The first poll never is. Either way it counts as the last poll.
    pub fn too_soon(&mut self, now_ms: u64) -> bool {
        let too_soon = self
            .last_poll_ms
            .is_some_and(|last| now_ms < last + self.interval_seconds * 1000);
        if too_soon {
            self.interval_seconds += SLOW_DOWN_STEP_SECONDS;
        }
        self.last_poll_ms = Some(now_ms);
        too_soon
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_eight_of_the_alphabet_and_uniform() {
        let code = user_code_from([0, 19, 20, 239, 240, 255, 1, 2, 3, 4]).unwrap();
        assert_eq!(code, "BZBZCDFG", "240 and 255 are skipped");
        assert_eq!(user_code_from([250; 100]), None, "no usable byte");
        assert_eq!(display_user_code("BCDFGHJK"), "BCDF-GHJK");
    }

    #[test]
    fn typed_codes_are_forgiven_case_dashes_and_spaces() {
        for typed in ["BCDF-GHJK", "bcdfghjk", " bcdf ghjk ", "Bc-Df-Gh-Jk"] {
            assert_eq!(
                normalize_user_code(typed).as_deref(),
                Some("BCDFGHJK"),
                "{typed}"
            );
        }
        for typed in ["BCDF-GHJ", "BCDF-GHJKL", "ABCD-EFGH", "BCDF_GHJK", ""] {
            assert_eq!(normalize_user_code(typed), None, "{typed}");
        }
    }

    #[test]
    fn polling_sooner_than_the_interval_slows_down_and_grows_it() {
        let mut device = ForDevice::new("cli".into(), "CLI".into(), vec![], "BCDFGHJK");
        assert_eq!(device.user_code, "BCDF-GHJK");
        assert!(!device.too_soon(1_000), "the first poll never is");
        assert!(device.too_soon(5_999));
        assert_eq!(device.interval_seconds, 10);
        assert!(device.too_soon(15_000), "10 s from the last poll, not 5");
        assert!(!device.too_soon(30_000));
        assert_eq!(device.interval_seconds, 15);
    }
}

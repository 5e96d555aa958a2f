//! qrgate's shared vocabulary: the JSON wire types of `shared/API.md`, the validation rules for
//! every field a client sends, the pure QR-session state machine, and the passkey checks that
//! need no key (`passkey`). No I/O and no clock: every function that depends on time takes
//! `now` as an argument, so the edge, the app and the tests all agree on one definition and the
//! state machine is tested on the host.

pub mod account_live;
pub mod api;
pub mod device_tokens;
pub mod error;
pub mod history;
pub mod keyring;
pub mod limit;
pub mod live;
pub mod location;
pub mod oauth;
pub mod passkey;
pub mod qr;
pub mod qr_image;
pub mod secret;
pub mod text;
pub mod username;
pub mod validate;

pub use api::*;
pub use error::{ErrorBody, ErrorCode};
pub use secret::Secret;

/// Lower-case hex of `bytes`: stored secrets' hashes and account ids on the edge, device ids in
/// the app. Written out rather than by `format!`, which would carry the formatting machinery
/// into the PC page's bundle.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::hex;

    #[test]
    fn hex_is_two_lower_case_digits_per_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(hex(&[]), "");
    }
}

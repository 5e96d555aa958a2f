//! Who this browser is to the API: a device id generated once and kept in `localStorage`, a
//! device type, the login token it holds and who that token signs it in as. The PC page and
//! the phone pages are separate roles (`src/role.rs`) with separate ids, tokens and DPoP keys
//! (`src/dpop.rs`), so one browser can play both without one sign-in replacing the other's token.

use crate::role::Role;
use qrgate_protocol::{
    Account, DeviceType, LoginSession, SIGNED_IN_HINT_COOKIE, Secret, TokenType, Via,
};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::wasm_bindgen;

/// Who a role's token signs it in as, kept beside the token when it is handed out, so that
/// the PC page shows it without asking the edge (which it asks only whether the token still
/// works).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInAs {
    pub account: Account,
    pub device_name: String,
    pub via: Via,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub device_type: DeviceType,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn stored(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

fn store(key: &str, value: &str) {
    if let Some(storage) = storage() {
        // A full or disabled storage only costs persistence across reloads.
        let _ = storage.set_item(key, value);
    }
}

fn forget(key: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(key);
    }
}

pub fn user_agent() -> String {
    web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .unwrap_or_default()
}

/// The name this browser signs `role` in as: a PC by its browser and system, a phone by its
/// type.
pub fn own_device_name(role: Role) -> String {
    match role {
        Role::Pc => qrgate_protocol::browser_name(&user_agent()),
        Role::Phone => device(role).device_type.default_device_name().to_owned(),
    }
}

/// This browser's device for `role`: the id is created on first use and then kept.
pub fn device(role: Role) -> Device {
    let key = format!("{}.device_id", role.storage_prefix());
    let id = stored(&key)
        .filter(|id| qrgate_protocol::validate::device_id(id).is_some())
        .unwrap_or_else(|| {
            let id = new_uuid();
            store(&key, &id);
            id
        });
    let device_type = match role {
        Role::Pc => DeviceType::Pc,
        Role::Phone => phone_type(&user_agent()),
    };
    Device { id, device_type }
}

/// A random (version 4) UUID. `crypto.getRandomValues` works in insecure contexts too (a
/// phone on a LAN address), where `crypto.randomUUID` does not exist; a device id is an
/// identifier, not a secret, so `Math.random` is only the last resort against collisions.
fn new_uuid() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for byte in &mut bytes {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    uuid_from_bytes(bytes)
}

/// Formats 16 random bytes as a version 4, variant 1 UUID.
pub fn uuid_from_bytes(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let (time_low, rest) = bytes.split_at(4);
    let (time_mid, rest) = rest.split_at(2);
    let (time_high, rest) = rest.split_at(2);
    let (clock_seq, node) = rest.split_at(2);
    [time_low, time_mid, time_high, clock_seq, node]
        .map(qrgate_protocol::hex)
        .join("-")
}

/// A role's login token, and the scheme that presents it.
#[derive(Debug, Clone)]
pub struct HeldToken {
    pub secret: Secret,
    pub token_type: TokenType,
}

pub fn token(role: Role) -> Option<HeldToken> {
    let prefix = role.storage_prefix();
    let secret = Secret::new(stored(&format!("{prefix}.token"))?);
    let token_type = match stored(&format!("{prefix}.token_type")) {
        Some(stored) if stored == TokenType::DPoP.scheme() => TokenType::DPoP,
        _ => TokenType::Bearer,
    };
    Some(HeldToken { secret, token_type })
}

/// Keeps a newly handed-out token, its type, and who it signs this role in as; first the key
/// the token may be bound to.
pub async fn keep_sign_in(role: Role, session: &LoginSession, who: &SignedInAs) {
    crate::dpop::keep_key(role).await;
    let prefix = role.storage_prefix();
    store(&format!("{prefix}.token"), session.token.expose());
    store(&format!("{prefix}.token_type"), session.token_type.scheme());
    if let Some(json) = crate::json::to_json(who) {
        store(&format!("{prefix}.signed_in_as"), &json);
    }
    hint_signed_in(role, true);
}

/// Tells the edge whether the PC role holds a token, by the cookie it reads when it serves the
/// PC page ([`SIGNED_IN_HINT_COOKIE`]). Kept for 400 days, the most a browser keeps one.
pub fn hint_signed_in(role: Role, signed_in: bool) {
    if role != Role::Pc {
        return;
    }
    let (value, max_age) = if signed_in {
        ("1", "34560000")
    } else {
        ("", "0")
    };
    set_cookie(&format!(
        "{SIGNED_IN_HINT_COOKIE}={value}; Path=/; Max-Age={max_age}; SameSite=Strict"
    ));
}

#[wasm_bindgen(inline_js = "export function set_cookie(cookie) { document.cookie = cookie; }")]
extern "C" {
    fn set_cookie(cookie: &str);
}

pub fn signed_in_as(role: Role) -> Option<SignedInAs> {
    crate::json::from_json(&stored(&format!("{}.signed_in_as", role.storage_prefix()))?)
}

/// Forgets the role's token and who it signed in as (its key stays, for the next sign-in).
pub fn clear_token(role: Role) {
    for item in ["token", "token_type", "signed_in_as"] {
        forget(&format!("{}.{item}", role.storage_prefix()));
    }
    hint_signed_in(role, false);
}

pub fn stored_language() -> Option<String> {
    stored("qrgate.lang")
}

pub fn store_language(code: &str) {
    store("qrgate.lang", code);
}

/// The phone's device type from its user agent: `ios`, `android`, else `web`.
pub fn phone_type(user_agent: &str) -> DeviceType {
    if ["iPhone", "iPad", "iPod"]
        .iter()
        .any(|m| user_agent.contains(m))
    {
        DeviceType::Ios
    } else if user_agent.contains("Android") {
        DeviceType::Android
    } else {
        DeviceType::Web
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINUX_CHROMIUM: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chromium/156.0.0.0 Chrome/156.0.0.0 Safari/537.36";
    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
    const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36";

    #[test]
    fn generated_device_ids_are_v4_uuids_the_edge_accepts() {
        let id = uuid_from_bytes([0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(qrgate_protocol::validate::device_id(&id), Some(id.clone()));
        let id = uuid_from_bytes([0; 16]);
        assert_eq!(id, "00000000-0000-4000-8000-000000000000");
    }

    #[test]
    fn phone_types_from_user_agents() {
        assert_eq!(phone_type(IPHONE), DeviceType::Ios);
        assert_eq!(phone_type(ANDROID), DeviceType::Android);
        assert_eq!(phone_type(LINUX_CHROMIUM), DeviceType::Web);
    }
}

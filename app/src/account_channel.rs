//! The account's live channel (`asyncapi.yaml`, "account"), on which a signed-in page hears at
//! once that its device was signed out (from anywhere), and of the account's new sign-ins. The
//! socket itself, and its first message ([`qrgate_protocol::account_live::AccountHello`]), are
//! a few lines of JS (`src/account.js`): their Rust would weigh on the PC page.

use crate::live::{RECONNECT_FIRST_MS, RECONNECT_MAX_MS};
use crate::role::Role;
use crate::{api, device, dpop, is_page_hidden, sleep_ms};
use qrgate_protocol::{ErrorCode, TokenType};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/account.js")]
extern "C" {
    #[wasm_bindgen(js_name = listenAccount)]
    fn listen_account(
        path: &str,
        token: &str,
        device_id: &str,
        proof: &str,
        on_event: Option<&Closure<dyn FnMut(String)>>,
    ) -> js_sys::Promise;
}

/// Listens on the account's channel while `wanted()` (the page still shows this sign-in),
/// reopening it with backoff when it drops; while it is down, one check of the token stands in
/// for what it would have said. Whether `role`'s device was signed out (the page then drops its
/// token): `false` once no longer wanted.
pub async fn until_signed_out(
    role: Role,
    on_event: Option<&Closure<dyn FnMut(String)>>,
    wanted: impl Fn() -> bool,
) -> bool {
    let mut reconnect_ms = RECONNECT_FIRST_MS;
    loop {
        let heard = listen(role, on_event).await;
        if !wanted() {
            return false;
        }
        match heard {
            Heard::SignedOut => return true,
            Heard::Down { was_up } => {
                if was_up {
                    reconnect_ms = RECONNECT_FIRST_MS;
                }
                if let Err(error) = api::check_signed_in(role).await
                    && error.is(ErrorCode::Unauthorized)
                {
                    return wanted();
                }
            }
        }
        sleep_ms(reconnect_ms).await;
        reconnect_ms = (reconnect_ms * 2).min(RECONNECT_MAX_MS);
        while is_page_hidden() && wanted() {
            sleep_ms(RECONNECT_MAX_MS).await;
        }
        if !wanted() {
            return false;
        }
    }
}

/// How listening ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heard {
    /// This device's token ended (or the role holds none): the page drops it.
    SignedOut,
    /// The channel ended, or did not open; whether it had been listening (`ready`) first.
    Down { was_up: bool },
}

/// Listens on the account's channel with `role`'s token until its device is signed out or the
/// channel ends; every other event's JSON goes to `on_event`, if given.
async fn listen(role: Role, on_event: Option<&Closure<dyn FnMut(String)>>) -> Heard {
    let (Some(token), Some(who)) = (device::token(role), device::signed_in_as(role)) else {
        return Heard::SignedOut;
    };
    let path = ["/api/accounts/", &who.account.account_id, "/live"].concat();
    let proof = match token.token_type {
        TokenType::DPoP => dpop::proof(role, "GET", &path, Some(&token.secret)).await,
        TokenType::Bearer => None,
    };
    let device_id = device::device(role).id;
    let listening = listen_account(
        &path,
        token.secret.expose(),
        &device_id,
        proof.as_deref().unwrap_or_default(),
        on_event,
    );
    let ended = JsFuture::from(listening)
        .await
        .ok()
        .and_then(|how| how.as_f64());
    match ended {
        Some(2.0) => Heard::SignedOut,
        Some(up) => Heard::Down { was_up: up == 1.0 },
        None => Heard::Down { was_up: false },
    }
}

#[cfg(test)]
mod tests {
    use qrgate_protocol::account_live::SIGNED_OUT_EVENT;

    #[test]
    fn the_listener_knows_signed_out_as_the_edge_sends_it() {
        let listener = include_str!("account.js");
        assert!(listener.contains(&format!("'{SIGNED_OUT_EVENT}'")));
    }
}

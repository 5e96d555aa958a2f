//! Passkeys in this browser (`src/passkey.js`, which speaks WebAuthn): adding one to the
//! phone's account, making a new account with one alone, and signing a role in with one, from a button or from the username field's
//! autofill (conditional mediation), and approving a scan with one. The edge's challenge passes
//! to the browser as the edge's JSON text.

use crate::api::{self, ApiError};
use crate::device::{self, SignedInAs};
use crate::role::Role;
use qrgate_protocol::{
    LoginSession, PasskeyAssertion, PasskeyCeremony, PasskeyChallenge, PasskeyChallengeRequest,
    PasskeyLoginRequest, PasskeySignUpRequest, Via,
};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/passkey.js")]
extern "C" {
    #[wasm_bindgen(js_name = create)]
    fn create_js(challenge: &str) -> js_sys::Promise;

    #[wasm_bindgen(js_name = get)]
    fn get_js(challenge: &str, conditional: bool) -> js_sys::Promise;

    #[wasm_bindgen(js_name = conditionalAvailable)]
    fn conditional_available_js() -> js_sys::Promise;
}

/// Why a passkey ceremony ended without a sign-in or a new passkey.
#[derive(Debug, Clone, Copy)]
pub enum Failure {
    /// The browser's ceremony gave no answer: cancelled, timed out, no passkey chosen, user
    /// verification failed, or no WebAuthn in this browser.
    NoAnswer,
    /// The edge refused the answer, or could not be reached.
    Refused(ApiError),
}

async fn answer(promise: js_sys::Promise) -> Result<String, Failure> {
    JsFuture::from(promise)
        .await
        .ok()
        .and_then(|answer| answer.as_string())
        .ok_or(Failure::NoAnswer)
}

/// Adds a passkey made by this browser's authenticator to the phone's account.
pub async fn add() -> Result<(), Failure> {
    let request = PasskeyChallengeRequest::new(PasskeyCeremony::Register);
    let challenge = api::passkey_challenge(Role::Phone, &request)
        .await
        .map_err(Failure::Refused)?;
    let answer = answer(create_js(&challenge)).await?;
    api::register_passkey(&answer)
        .await
        .map_err(Failure::Refused)
}

/// Makes a new account named `username` (and `display_name`, if any) whose one way to sign
/// in is a passkey this browser's authenticator makes now, and signs `role` in to it.
pub async fn sign_up(
    role: Role,
    username: String,
    display_name: Option<String>,
) -> Result<(), Failure> {
    let request = PasskeyChallengeRequest {
        ceremony: PasskeyCeremony::SignUp,
        username: Some(username),
        display_name,
    };
    let challenge = api::passkey_challenge(role, &request)
        .await
        .map_err(Failure::Refused)?;
    let user = crate::json::from_json::<PasskeyChallenge>(&challenge)
        .and_then(|challenge| challenge.user)
        .ok_or(Failure::NoAnswer)?;
    let answer = answer(create_js(&challenge)).await?;
    let passkey = crate::json::from_json(&answer).ok_or(Failure::NoAnswer)?;
    let device_name = device::own_device_name(role);
    let request = PasskeySignUpRequest {
        user,
        passkey,
        device_name: named(role, &device_name),
    };
    let session = api::passkey_session(role, "/api/accounts/passkey", &request).await;
    keep(role, session.map_err(Failure::Refused)?, device_name).await
}

/// Signs `role` in with a passkey and keeps the token, as a password sign-in does; when
/// `conditional`, the browser offers the passkeys in the username field's autofill and this
/// waits until one is picked there (or a button's sign-in replaces it).
pub async fn sign_in(role: Role, conditional: bool) -> Result<(), Failure> {
    let request = PasskeyChallengeRequest::new(PasskeyCeremony::SignIn);
    let challenge = api::passkey_challenge(role, &request)
        .await
        .map_err(Failure::Refused)?;
    let passkey = assertion(&challenge, conditional).await?;
    let device_name = device::own_device_name(role);
    let request = PasskeyLoginRequest {
        passkey,
        device_name: named(role, &device_name),
    };
    let session = api::passkey_session(role, "/api/sessions/passkey", &request).await;
    keep(role, session.map_err(Failure::Refused)?, device_name).await
}

/// The device name a passkey sign-in sends: a phone is named by its type, the name the edge
/// gives when none is sent.
fn named(role: Role, device_name: &str) -> Option<String> {
    (role == Role::Pc).then(|| device_name.to_owned())
}

/// Keeps a passkey sign-in's token for `role`, as a password sign-in does.
async fn keep(role: Role, session: LoginSession, device_name: String) -> Result<(), Failure> {
    let who = SignedInAs {
        account: session.account.clone(),
        device_name,
        via: Via::Passkey,
    };
    device::keep_sign_in(role, &session, &who).await;
    Ok(())
}

/// The answer of one of the account's passkeys to a scan's challenge, for its confirmation.
pub async fn approve(challenge: &PasskeyChallenge) -> Result<PasskeyAssertion, Failure> {
    let challenge = crate::json::to_json(challenge).ok_or(Failure::NoAnswer)?;
    assertion(&challenge, false).await
}

/// A passkey's answer to the challenge `challenge` (the edge's JSON text).
async fn assertion(challenge: &str, conditional: bool) -> Result<PasskeyAssertion, Failure> {
    let answer = answer(get_js(challenge, conditional)).await?;
    crate::json::from_json(&answer).ok_or(Failure::NoAnswer)
}

/// Whether this browser offers passkeys in a username field's autofill.
pub async fn conditional_available() -> bool {
    JsFuture::from(conditional_available_js())
        .await
        .ok()
        .and_then(|available| available.as_bool())
        .unwrap_or(false)
}

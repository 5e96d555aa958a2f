//! The handlers of passkeys (WebAuthn Level 3): a challenge for one ceremony, a new passkey for
//! the signed-in account, its list, and a sign-in with one.
//!
//! - `POST /api/passkeys/challenges` hands out 32 random bytes for `register` (the signed-in
//!   account, with what `navigator.credentials.create()` needs of it), `sign_up` (a new
//!   account's name, and its id made now) or `sign_in` (anyone); the last two counted per
//!   address like QR creation. Each is kept by its own object
//!   (`objects/passkey_challenge.rs`) for five minutes and taken once.
//! - `POST /api/passkeys` takes the registration's challenge; the account's keyring
//!   (`objects/keyring.rs`) checks the attestation (`qrgate_protocol::passkey`) and a packed
//!   self-attestation's signature, and adds the passkey.
//! - `POST /api/accounts/passkey` takes a `sign_up` challenge (which named the new account):
//!   the name is claimed, the keyring checks and adds the passkey (the account's one way to
//!   sign in, which it never removes), the account is stored, and the device is signed in.
//! - `POST /api/sessions/passkey` takes the sign-in's challenge, then the keyring of the
//!   account the user handle names checks the assertion, its signature and its count; the
//!   device then gets a token as from a password login, `via: "passkey"`.

use crate::api::accounts::{new_names, refuse_taken};
use crate::auth::{authenticate, device_name_or_default, renew_in_use, sign_in};
use crate::context::Ctx;
use crate::crypto::{decode, encode, hash_secret, random_bytes};
use crate::error::{AppError, AppResult};
use crate::objects::keyring::{
    ApprovalRefusal, KEYRINGS_BINDING, KeyringCommand, PendingApproval, RegisterRefusal,
    Registration, SignInAssertion,
};
use crate::objects::passkey_challenge::{
    CHALLENGES_BINDING, ChallengeCommand, IssuedChallenge, Purpose,
};
use crate::store::{AccountRecord, keys};
use crate::{limits, usernames};
use qrgate_protocol::keyring::KeyringRefusal;
use qrgate_protocol::passkey::challenge_of;
use qrgate_protocol::{
    Account, PasskeyAssertion, PasskeyCeremony, PasskeyChallenge, PasskeyChallengeRequest,
    PasskeyEntry, PasskeyLoginRequest, PasskeySignUpRequest, PasskeyUser, PasskeysResponse,
    RegisterPasskeyRequest, RenamePasskeyRequest, Via, hex, validate,
};
use serde::de::DeserializeOwned;
use worker::{Env, Response};

/// `POST /api/passkeys/challenges`.
pub async fn challenge(ctx: &Ctx) -> AppResult<Response> {
    let request: PasskeyChallengeRequest = ctx.json()?;
    let names = request.username.is_some() || request.display_name.is_some();
    if names != (request.ceremony == PasskeyCeremony::SignUp) {
        return Err(AppError::invalid(
            "username and display_name name the account of a sign_up, and only of one.",
        ));
    }
    let (purpose, account, exclude_credentials) = match request.ceremony {
        PasskeyCeremony::Register => {
            let auth = authenticate(ctx).await?;
            let passkeys = list_of(&ctx.env, &auth.account.account_id).await?;
            let ids = passkeys.into_iter().map(|p| p.passkey_id).collect();
            let purpose = Purpose::Register {
                account_id: auth.account.account_id.clone(),
            };
            (purpose, Some(auth.account), ids)
        }
        PasskeyCeremony::SignUp => {
            let username = request.username.as_deref().unwrap_or_default();
            let (username, display_name) = new_names(username, request.display_name.as_deref())?;
            ctx.refuse_malformed_proof()?;
            limits::check_passkey_challenge(&ctx.env, &ctx.client_address).await?;
            refuse_taken(ctx, username).await?;
            // The account's id now: the passkey keeps it as its user handle.
            let account = Account {
                account_id: hex(&random_bytes::<16>()?),
                username: username.to_owned(),
                display_name: display_name.into_owned(),
            };
            (Purpose::SignUp(account.clone()), Some(account), Vec::new())
        }
        PasskeyCeremony::SignIn => {
            ctx.refuse_malformed_proof()?;
            limits::check_passkey_challenge(&ctx.env, &ctx.client_address).await?;
            (Purpose::SignIn, None, Vec::new())
        }
    };
    let mut challenge = issue(ctx, purpose).await?;
    challenge.user = account.map(|account| PasskeyUser {
        id: encode(account.account_id.as_bytes()),
        name: account.username,
        display_name: account.display_name,
    });
    challenge.exclude_credentials = exclude_credentials;
    crate::json_response(201, &challenge)
}

/// A new challenge for `purpose`, kept by its object: what the browser's WebAuthn call needs
/// of it, with no user and no credentials named yet.
async fn issue(ctx: &Ctx, purpose: Purpose) -> AppResult<PasskeyChallenge> {
    let challenge = new_challenge(ctx)?;
    let issued = IssuedChallenge {
        purpose,
        expires_at_ms: challenge_expiry_ms(ctx),
    };
    call::<()>(
        &ctx.env,
        CHALLENGES_BINDING,
        &challenge_object(&challenge.challenge),
        &ChallengeCommand::Issue(issued),
    )
    .await?;
    Ok(challenge)
}

/// 32 random bytes for one ceremony, with what the browser's WebAuthn call needs of them.
fn new_challenge(ctx: &Ctx) -> AppResult<PasskeyChallenge> {
    Ok(PasskeyChallenge {
        challenge: encode(&random_bytes::<32>()?),
        rp_id: rp_id(ctx),
        timeout_ms: ctx
            .config
            .passkey_challenge_ttl_seconds
            .saturating_mul(1000),
        user: None,
        exclude_credentials: Vec::new(),
        allow_credentials: Vec::new(),
    })
}

fn challenge_expiry_ms(ctx: &Ctx) -> u64 {
    ctx.now_ms
        + ctx
            .config
            .passkey_challenge_ttl_seconds
            .saturating_mul(1000)
}

/// The challenge of a scan by `account_id` of the QR session `qr_id` whose scan token hashes
/// to `scan_token_hash`, if the account has a passkey: its confirmation must answer it. The
/// account's keyring decides whether it has one and, if so, keeps the challenge, in one call:
/// no object of its own per approval.
pub async fn approval_challenge(
    ctx: &Ctx,
    account_id: &str,
    qr_id: &str,
    scan_token_hash: &str,
) -> AppResult<Option<PasskeyChallenge>> {
    let mut challenge = new_challenge(ctx)?;
    let approval = PendingApproval {
        qr_id: qr_id.to_owned(),
        scan_token_hash: scan_token_hash.to_owned(),
        challenge: challenge.challenge.clone(),
        expires_at_ms: challenge_expiry_ms(ctx),
    };
    let command = KeyringCommand::AwaitApproval(approval);
    let passkeys: Vec<String> = call(&ctx.env, KEYRINGS_BINDING, account_id, &command).await?;
    if passkeys.is_empty() {
        return Ok(None);
    }
    challenge.allow_credentials = passkeys;
    Ok(Some(challenge))
}

/// A confirmation's passkey check, for the account `account_id` that scanned: nothing to do
/// when the account has no passkey; else `assertion` must answer this scan's challenge with
/// one of the account's passkeys, user verified, else `403` (the session stays scanned).
pub async fn check_approval(
    ctx: &Ctx,
    account_id: &str,
    qr_id: &str,
    scan_token_hash: &str,
    assertion: Option<PasskeyAssertion>,
) -> AppResult<()> {
    let assertion = match assertion {
        None => None,
        Some(assertion) => {
            let client_data = base64url(&assertion.client_data_json, "client_data_json")?;
            let challenge = challenge_of(&client_data).ok_or_else(not_client_data)?;
            Some(sign_in_assertion(ctx, assertion, challenge)?)
        }
    };
    let command = KeyringCommand::Approve {
        qr_id: qr_id.to_owned(),
        scan_token_hash: scan_token_hash.to_owned(),
        assertion,
        now_seconds: ctx.now_seconds(),
        expires_at_ms: account_expiry_ms(ctx),
    };
    match call(&ctx.env, KEYRINGS_BINDING, account_id, &command).await? {
        Ok(()) => Ok(()),
        Err(ApprovalRefusal::PasskeyNeeded) => Err(AppError::Forbidden(
            "This account approves with its passkey: answer the scan's passkey challenge.",
        )),
        Err(ApprovalRefusal::Refused) => Err(AppError::Forbidden(APPROVAL_REFUSED)),
    }
}

const APPROVAL_REFUSED: &str =
    "The passkey's answer does not approve this scan: scan again and confirm with the passkey.";

/// `POST /api/passkeys`.
pub async fn register(ctx: &Ctx) -> AppResult<Response> {
    let request: RegisterPasskeyRequest = ctx.json()?;
    let auth = authenticate(ctx).await?;
    let client_data = checked_registration(&request)?;
    let expected = Purpose::Register {
        account_id: auth.account.account_id.clone(),
    };
    let challenge = take_challenge(ctx, &client_data, expected)
        .await?
        .ok_or_else(|| AppError::invalid(STALE_CHALLENGE))?;
    let entry = add_passkey(ctx, &auth.account, request, challenge, false).await?;
    crate::json_response(201, &entry)
}

/// `POST /api/accounts/passkey`: a new account whose one way to sign in is the passkey, as the
/// `sign_up` challenge named it, and this device signed in to it (`via: "passkey"`). Counted
/// as a sign-up of the address, as a password's is.
pub async fn sign_up(ctx: &Ctx) -> AppResult<Response> {
    let request: PasskeySignUpRequest = ctx.json()?;
    let (username, display_name) = new_names(&request.user.name, Some(&request.user.display_name))?;
    let account = Account {
        account_id: account_of_user_handle(&request.user.id)?,
        username: username.to_owned(),
        display_name: display_name.into_owned(),
    };
    let client_data = checked_registration(&request.passkey)?;
    let device_name = device_name_or_default(ctx, request.device_name.as_deref())?;
    let dpop_jkt = ctx.sign_in_proof().await?;
    let counted = limits::admit_sign_up(ctx).await?;
    let added = claim_with_passkey(ctx, &account, request.passkey, &client_data).await;
    let expires_at = limits::count_if_created(counted, added).await?;
    // A write that fails may have been made: the name stays claimed, not handed to another.
    let record = AccountRecord::passwordless(account.clone(), ctx.now_seconds());
    ctx.store
        .put(&keys::account(&account.username), &record, expires_at)
        .await?;
    let signed_in = sign_in(ctx, &account, &device_name, Via::Passkey, dpop_jkt).await?;
    crate::json_response(201, &signed_in.session)
}

/// Claims a new account's name, then has its keyring check and add the passkey that answered
/// the account's `sign_up` challenge, its one way in: the account's expiry.
async fn claim_with_passkey(
    ctx: &Ctx,
    account: &Account,
    passkey: RegisterPasskeyRequest,
    client_data: &[u8],
) -> AppResult<u64> {
    let username = &account.username;
    refuse_taken(ctx, username).await?;
    let challenge = take_challenge(ctx, client_data, Purpose::SignUp(account.clone()))
        .await?
        .ok_or_else(|| AppError::invalid(STALE_CHALLENGE))?;
    let expires_at = ctx.now_seconds() + ctx.config.account_ttl_seconds;
    // The name's one writer decides, as for a password's sign-up; then the passkey.
    usernames::claim(ctx, username, &account.account_id, expires_at).await?;
    if let Err(error) = add_passkey(ctx, account, passkey, challenge, true).await {
        usernames::release(ctx, username, &account.account_id).await;
        return Err(error);
    }
    Ok(expires_at)
}

/// A registration's members checked as base64url before its challenge is taken, so a malformed
/// request keeps it: the client data's bytes.
fn checked_registration(request: &RegisterPasskeyRequest) -> AppResult<Vec<u8>> {
    base64url(&request.attestation_object, "attestation_object")?;
    base64url(&request.client_data_json, "client_data_json")
}

/// The account's keyring checks the registration that answered `challenge` and adds its
/// passkey (named by the request, else after this device); `passwordless` for the first
/// passkey of an account made with it alone.
async fn add_passkey(
    ctx: &Ctx,
    account: &Account,
    request: RegisterPasskeyRequest,
    challenge: String,
    passwordless: bool,
) -> AppResult<PasskeyEntry> {
    let name = device_name_or_default(ctx, request.name.as_deref())
        .map_err(|_| AppError::invalid("name must be at most 64 characters."))?;
    let command = KeyringCommand::Register {
        account: account.clone(),
        registration: Registration {
            client_data_json: request.client_data_json,
            attestation_object: request.attestation_object,
            rp_id: rp_id(ctx),
            origin: ctx.origin.clone(),
            challenge,
            name: name.into_owned(),
            now_seconds: ctx.now_seconds(),
        },
        expires_at_ms: account_expiry_ms(ctx),
        passwordless,
    };
    let registered: Result<PasskeyEntry, RegisterRefusal> =
        call(&ctx.env, KEYRINGS_BINDING, &account.account_id, &command).await?;
    registered.map_err(|refusal| match refusal {
        RegisterRefusal::Invalid(reason) => AppError::invalid(reason),
        RegisterRefusal::Keyring(KeyringRefusal::Full) => {
            AppError::Conflict("This account has as many passkeys as it may keep.")
        }
        RegisterRefusal::Keyring(_) => AppError::Conflict("This passkey is registered already."),
    })
}

/// `GET /api/passkeys`.
pub async fn list(ctx: &Ctx) -> AppResult<Response> {
    let auth = authenticate(ctx).await?;
    let passkeys = list_of(&ctx.env, &auth.account.account_id).await?;
    crate::json_response(200, &PasskeysResponse { passkeys })
}

/// `PATCH /api/passkeys/{passkey_id}`.
pub async fn rename(ctx: &Ctx, passkey_id: &str) -> AppResult<Response> {
    let request: RenamePasskeyRequest = ctx.json()?;
    let auth = authenticate(ctx).await?;
    let name = validate::device_name(Some(&request.name))
        .ok()
        .flatten()
        .ok_or_else(|| AppError::invalid("name must be 1–64 characters."))?;
    let command = KeyringCommand::Rename {
        passkey_id: passkey_id.to_owned(),
        name: name.into_owned(),
    };
    change_keyring(ctx, &auth.account.account_id, &command).await
}

/// `DELETE /api/passkeys/{passkey_id}`: at once, everywhere: the keyring that checks every
/// sign-in and approval no longer has it.
pub async fn remove(ctx: &Ctx, passkey_id: &str) -> AppResult<Response> {
    let auth = authenticate(ctx).await?;
    auth.settled(ctx)?;
    let command = KeyringCommand::Remove {
        passkey_id: passkey_id.to_owned(),
    };
    change_keyring(ctx, &auth.account.account_id, &command).await
}

/// Renames or removes a passkey of `account_id`'s keyring: `204` for one it had, else `404`
/// (another account's, or none); `409` for the last passkey of an account without a password.
async fn change_keyring(
    ctx: &Ctx,
    account_id: &str,
    command: &KeyringCommand,
) -> AppResult<Response> {
    match call(&ctx.env, KEYRINGS_BINDING, account_id, command).await? {
        Ok(()) => Ok(crate::no_content()),
        Err(KeyringRefusal::LastWayToSignIn) => Err(AppError::Conflict(
            "This passkey is the account's only way to sign in: add another before removing it.",
        )),
        Err(_) => Err(AppError::NotFound("passkey")),
    }
}

/// `POST /api/sessions/passkey`.
pub async fn login(ctx: &Ctx) -> AppResult<Response> {
    let request: PasskeyLoginRequest = ctx.json()?;
    let device_name = device_name_or_default(ctx, request.device_name.as_deref())?;
    let assertion = request.passkey;
    let client_data = base64url(&assertion.client_data_json, "client_data_json")?;
    let account_id = account_of_user_handle(&assertion.user_handle)?;
    let dpop_jkt = ctx.sign_in_proof().await?;
    let challenge = take_challenge(ctx, &client_data, Purpose::SignIn)
        .await?
        .ok_or_else(|| AppError::PasskeyRefused(STALE_CHALLENGE.into()))?;
    let account = verify(ctx, &account_id, assertion, challenge)
        .await?
        .map_err(AppError::PasskeyRefused)?;
    let signed_in = sign_in(ctx, &account, &device_name, Via::Passkey, dpop_jkt).await?;
    if signed_in.renewal_due {
        renew_in_use(ctx, &account).await;
    }
    crate::json_response(201, &signed_in.session)
}

/// The keyring of `account_id` checks `assertion` against `challenge` (taken already): the
/// account, or why not.
async fn verify(
    ctx: &Ctx,
    account_id: &str,
    assertion: PasskeyAssertion,
    challenge: String,
) -> AppResult<Result<Account, String>> {
    let command = KeyringCommand::SignIn {
        assertion: sign_in_assertion(ctx, assertion, challenge)?,
        now_seconds: ctx.now_seconds(),
        expires_at_ms: account_expiry_ms(ctx),
    };
    call(&ctx.env, KEYRINGS_BINDING, account_id, &command).await
}

/// `assertion` as the keyring checks it: each binary member checked as base64url here (a
/// malformed one is `400`), with what the relying party expects of it.
fn sign_in_assertion(
    ctx: &Ctx,
    assertion: PasskeyAssertion,
    challenge: String,
) -> AppResult<SignInAssertion> {
    for (value, name) in [
        (&assertion.authenticator_data, "authenticator_data"),
        (&assertion.signature, "signature"),
        (&assertion.passkey_id, "passkey_id"),
    ] {
        base64url(value, name)?;
    }
    Ok(SignInAssertion {
        passkey_id: assertion.passkey_id,
        client_data_json: assertion.client_data_json,
        authenticator_data: assertion.authenticator_data,
        signature: assertion.signature,
        rp_id: rp_id(ctx),
        origin: ctx.origin.clone(),
        challenge,
    })
}

/// The account id a passkey's user handle names (`PasskeyUser::id`).
fn account_of_user_handle(user_handle: &str) -> AppResult<String> {
    decode(user_handle)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|id| validate::account_id(id))
        .ok_or_else(|| AppError::invalid("user_handle is not one of this edge's accounts."))
}

/// The relying party id: `PASSKEY_RP_ID`, else the host the edge is served from.
fn rp_id(ctx: &Ctx) -> String {
    if let Some(rp_id) = &ctx.config.passkey_rp_id {
        return rp_id.clone();
    }
    let authority = ctx.origin.split_once("://").map_or("", |(_, rest)| rest);
    // The host without its port; an IPv6 literal keeps its brackets (WebAuthn refuses it
    // anyway, as it refuses every IP address).
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host.to_owned(),
        _ => authority.to_owned(),
    }
}

/// The account's lifetime from now, which a passkey added or used extends its keyring to.
fn account_expiry_ms(ctx: &Ctx) -> u64 {
    ctx.now_ms + ctx.config.account_ttl_seconds.saturating_mul(1000)
}

fn base64url(value: &str, name: &'static str) -> AppResult<Vec<u8>> {
    decode(value).map_err(|_| AppError::invalid(format!("{name} is not base64url.")))
}

/// The challenge a client data answers, taken from its object if it was handed out for
/// `expected` (which the object decides): its text. `None` for one never handed out, taken
/// already, lapsed or for another purpose (the caller says which error); it is gone either
/// way. A client data that is not one is `400`.
async fn take_challenge(
    ctx: &Ctx,
    client_data: &[u8],
    expected: Purpose,
) -> AppResult<Option<String>> {
    let challenge = challenge_of(client_data).ok_or_else(not_client_data)?;
    let taken: bool = call(
        &ctx.env,
        CHALLENGES_BINDING,
        &challenge_object(&challenge),
        &ChallengeCommand::Take(expected),
    )
    .await?;
    Ok(taken.then_some(challenge))
}

fn not_client_data() -> AppError {
    AppError::invalid("client_data_json is not a WebAuthn client data.")
}

const STALE_CHALLENGE: &str =
    "The challenge is unknown, used already, expired, or for another ceremony: ask for a new one.";

/// The name of a challenge's object: its hash, so the name says nothing of the challenge.
fn challenge_object(challenge: &str) -> String {
    hash_secret(challenge)
}

async fn list_of(env: &Env, account_id: &str) -> AppResult<Vec<PasskeyEntry>> {
    call(env, KEYRINGS_BINDING, account_id, &KeyringCommand::List).await
}

/// Sends the object named `name` of the class bound as `binding` one command.
async fn call<R: DeserializeOwned>(
    env: &Env,
    binding: &str,
    name: &str,
    command: &impl serde::Serialize,
) -> AppResult<R> {
    let stub = env
        .durable_object(binding)?
        .id_from_name(name)?
        .get_stub()?;
    crate::objects::call(&stub, command).await
}

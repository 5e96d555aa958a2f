//! Devices without a browser (RFC 8628; `shared/API.md`, "Devices without a browser"):
//! `POST /oauth/device_authorization` makes a QR session for the device, in its own object like
//! every other, and the device-code grant at the token endpoint asks that object how the
//! device's poll stands. The object decides every poll (the interval, the one hand-over), so
//! 16 devices polling one code at 16 locations get the tokens once between them.
//!
//! A device code is `<qr id>.<256 random bits>`: the id leads any location to the session's
//! object, which keeps only the code's hash (as a PC's poll secret). The user code is held by
//! the session (`user_codes.rs`) for as long as the session lives.

use super::error::{OAuthError, OAuthResult};
use super::grants::NewGrantObject;
use super::token::{answer, form, new_refresh, registered_for};
use super::{Provider, client_auth, json};
use crate::api::qr::FreshObject;
use crate::config::Config;
use crate::context::{client_address, origin_of, request_location};
use crate::crypto::{hash_secret, random_bytes, random_secret};
use crate::error::AppResult;
use crate::limits;
use crate::objects::qr_session::rpc::{self, Command, NewSession, Outcome, Refusal, Reply, Step};
use crate::user_codes;
use qrgate_protocol::oauth::clients::Client;
use qrgate_protocol::oauth::device::{
    DeviceAuthorizationResponse, ForDevice, POLL_INTERVAL_SECONDS, VERIFICATION_PATH,
    display_user_code, user_code_from,
};
use qrgate_protocol::oauth::form::Params;
use qrgate_protocol::oauth::grant::{HandedOut, NewGrant};
use qrgate_protocol::oauth::{Amr, known_scope};
use qrgate_protocol::qr::{Audience, DevicePoll};
use qrgate_protocol::{DeviceType, PcInfo, Secret, SignInEntry, Via};
use worker::{Request, Response};

const NOT_REGISTERED: &str = "This client is not registered for the device code grant.";

/// How often a new user code may turn out to be held already before the edge gives up: with
/// 20⁸ codes, a second draw is already rare.
const USER_CODE_DRAWS: usize = 4;

/// `POST /oauth/device_authorization`.
pub async fn authorize(provider: &Provider, mut req: Request) -> OAuthResult<Response> {
    let params = form(&mut req).await?;
    let authorization = req.headers().get("Authorization").ok().flatten();
    let client = client_auth::authenticate(&provider.registry, authorization.as_deref(), &params)?;
    registered_for(client.grant_types.device_code, NOT_REGISTERED)?;
    let scope = known_scope(params.one("scope").ok().flatten().unwrap_or_default());
    let config = Config::from_env(&provider.env)?;
    limits::check_qr_create(&provider.env, &client_address(&req)).await?;
    let origin = origin_of(&req.inner().url());
    let object = FreshObject::new(&provider.env, &origin)?;
    let device_code = format!("{}.{}", object.qr_id, random_secret()?);
    let until = provider.now_seconds() + config.device_code_ttl_seconds;
    let user_code = claim_user_code(provider, &object.qr_id, until).await?;
    let session = NewSession {
        device_id: None,
        device_type: DeviceType::Device,
        device_name: client.client_name.clone(),
        location: request_location(&req),
        poll_secret_hash: hash_secret(&device_code),
        dpop_jkt: None,
        audience: Audience::Device(ForDevice::new(
            client.client_id.clone(),
            client.client_name.clone(),
            scope,
            &user_code,
        )),
        lifetime_seconds: config.device_code_ttl_seconds,
        rules: config.session_rules(),
    };
    let expires_at = object.create(session).await?;
    json(&DeviceAuthorizationResponse {
        device_code: Secret::new(device_code),
        user_code: display_user_code(&user_code),
        verification_uri: format!("{origin}{VERIFICATION_PATH}"),
        verification_uri_complete: object.qr_url,
        // The object's clock rounds `expires_at` up to a whole second: never more than the TTL.
        expires_in: expires_at
            .saturating_sub(provider.now_seconds())
            .min(config.device_code_ttl_seconds),
        interval: POLL_INTERVAL_SECONDS,
    })
}

/// A fresh user code, held by the session `qr_id` until `until`.
async fn claim_user_code(provider: &Provider, qr_id: &str, until: u64) -> OAuthResult<String> {
    for _ in 0..USER_CODE_DRAWS {
        // 32 bytes hold the 8 usable ones a code needs but for a chance below 10⁻¹⁵.
        let Some(code) = user_code_from(random_bytes::<32>()?) else {
            continue;
        };
        if user_codes::claim(&provider.env, &code, qr_id, until).await? {
            return Ok(code);
        }
    }
    Err(OAuthError::ServerError(
        "no free user code was drawn".into(),
    ))
}

const INVALID_DEVICE_CODE: &str = "The device code is unknown, already used, or not this client's.";

/// The device-code grant (RFC 8628 §3.4): the device's session decides the poll; on the one
/// confirmation handed over, the grant is made and its tokens issued. Tokens that cannot be
/// issued give the confirmation back, for the device's next poll.
pub async fn redeem(
    provider: &Provider,
    client: &Client,
    params: &Params,
    key: Option<String>,
) -> OAuthResult<Response> {
    registered_for(client.grant_types.device_code, NOT_REGISTERED)?;
    let get = |name| params.one(name).ok().flatten();
    let device_code =
        get("device_code").ok_or(OAuthError::InvalidRequest("device_code is required."))?;
    let invalid = || OAuthError::InvalidGrant(INVALID_DEVICE_CODE);
    let (qr_id, _) = device_code.split_once('.').ok_or_else(invalid)?;
    let stub = rpc::existing_session(&provider.env, qr_id).map_err(|_| invalid())?;
    let poll = Step::DevicePoll {
        device_code_hash: hash_secret(device_code),
        client_id: client.client_id.clone(),
    };
    let reply: Reply = crate::objects::call(&stub, &Command::Step(poll)).await?;
    let (confirmation, device, pc) = match reply {
        Ok(Outcome::DevicePolled { poll, device, pc }) => match poll {
            DevicePoll::Pending => return Err(OAuthError::AuthorizationPending),
            DevicePoll::SlowDown => return Err(OAuthError::SlowDown),
            DevicePoll::Denied => return Err(OAuthError::AccessDenied),
            DevicePoll::Expired => return Err(OAuthError::ExpiredToken),
            DevicePoll::Gone => return Err(invalid()),
            DevicePoll::Confirmed(confirmation) => (confirmation, device, pc),
        },
        Ok(other) => {
            return Err(OAuthError::ServerError(format!(
                "the session object answered {other:?}"
            )));
        }
        Err(Refusal::NotFound | Refusal::Unauthorized) => return Err(invalid()),
        Err(refusal) => {
            return Err(OAuthError::ServerError(format!(
                "a device's poll was refused: {refusal:?}"
            )));
        }
    };
    let new = NewGrant {
        account: confirmation.account,
        client_id: device.client_id,
        client_name: device.client_name,
        scope: device.scope,
        auth_time: confirmation.at_ms / 1000,
        amr: Amr::Mca,
        handed_out: HandedOut::Tokens { refresh: None },
    };
    let issued = issue(provider, client, new, &pc, key).await;
    if issued.is_err() {
        // Best effort: should the session not be told, the device gets `invalid_grant` at its
        // next poll and starts again.
        let release = Command::Step(Step::ReleasePickUp);
        let _: AppResult<Reply> = crate::objects::call(&stub, &release).await;
    }
    issued
}

/// Makes the device's grant (recording its sign-in as the edge saw the device when it asked)
/// and answers its tokens.
async fn issue(
    provider: &Provider,
    client: &Client,
    mut new: NewGrant,
    pc: &PcInfo,
    key: Option<String>,
) -> OAuthResult<Response> {
    let config = Config::from_env(&provider.env)?;
    let object = NewGrantObject::new(&provider.env)?;
    let grant_id = object.grant_id.clone();
    let refresh = new_refresh(client, &grant_id, key.as_deref())?;
    new.handed_out = HandedOut::Tokens {
        refresh: refresh.as_ref().map(|(_, kept)| kept.clone()),
    };
    let issued = new.issued();
    let sign_in = SignInEntry {
        at: provider.now_seconds(),
        // A device has no id of its own: its grant stands for it.
        device_id: grant_id.clone(),
        device_type: pc.device_type,
        device_name: pc.device_name.clone(),
        via: Via::Qr,
        country: pc.country.clone(),
        city: pc.city.clone(),
        network: pc.network.clone(),
        client_id: None,
        client_name: None,
    };
    let ttl_seconds = config.session_ttl_seconds;
    // A device's sign-in renews nothing: its account is renewed by the phone that confirmed.
    let _renewal_due = object
        .make(&provider.env, new, sign_in, provider.now_ms, ttl_seconds)
        .await?;
    let scope = issued.scope.clone();
    let refresh_token = refresh.map(|(token, _)| token);
    answer(
        provider,
        client,
        &grant_id,
        &issued,
        &scope,
        key,
        refresh_token,
    )
    .await
}

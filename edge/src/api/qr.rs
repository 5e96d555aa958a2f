//! The QR-login steps as the Worker serves them: check the request, authenticate the phone
//! (KV), let the session's Durable Object decide (`objects/qr_session/`), and shape its outcome
//! into the contract's answer. No QR state is read from or written to KV; the PC's login token
//! is, here, at the location that served the pick-up poll, which also renews the account when
//! its history finds it due (read and written at most once a day). A session made for an app's
//! authorization request (`oauth/`) hands the PC, in place of a token, the redirect back to the
//! app: with a code at the pick-up, with `access_denied` after a denial or a cancel.

use crate::api::passkeys;
use crate::auth::{Authenticated, authenticate, device_name_or_default, renew_in_use, sign_in};
use crate::context::Ctx;
use crate::crypto::{hash_secret, random_secret};
use crate::error::{AppError, AppResult};
use crate::limits;
use crate::oauth::grants::SignedIn;
use crate::oauth::grants::refusal;
use crate::oauth::{self, Registry};
use crate::objects::qr_session::rpc::{
    self, Command, NewSession, Outcome, PcProof, PickUp, PresentedKey, Step,
};
use qrgate_protocol::QrStatus;
use qrgate_protocol::location::warnings;
use qrgate_protocol::oauth::{Amr, OAuthErrorCode, RedirectTo};
use qrgate_protocol::qr::ForApp;
use qrgate_protocol::qr::{Audience, Scanner, Verdict};
use qrgate_protocol::{
    CreateQrRequest, CreateQrResponse, DecisionRequest, PollResponse, ScanRequest, ScanResponse,
    Secret, Via, validate,
};
use worker::{Env, Request, Response, Stub};

fn checked_qr_id(raw: &str) -> AppResult<&str> {
    validate::qr_id(raw)
        .ok_or_else(|| AppError::invalid("The QR id in the path must be 16–64 of A-Z a-z 0-9 _ -."))
}

/// The object answered a command with another command's outcome: a bug, never the client's.
fn unexpected(outcome: &Outcome) -> AppError {
    AppError::Internal(format!("the session object answered {outcome:?}"))
}

/// The authenticated phone, as the state machine knows a scanner.
fn scanner(auth: Authenticated) -> Scanner {
    Scanner {
        account: auth.account,
        device_id: auth.device_id,
    }
}

/// What the request presents as the creating PC. Without a poll secret the hash is empty and
/// matches nothing, so the object still answers `404` before `401` for an unknown session. A
/// DPoP proof that does not hold is `401` here already, as on every route; whether the session
/// needs one, its object decides.
async fn pc_proof(ctx: &Ctx) -> AppResult<PcProof> {
    // A poll secret is not an access token: the proof carries no `ath`.
    let key = match ctx.proof(None).await {
        Ok(None) => PresentedKey::None,
        Ok(Some(thumbprint)) => PresentedKey::Proven(thumbprint),
        Err(AppError::InvalidDpopProof) => PresentedKey::Invalid,
        Err(other) => return Err(other),
    };
    Ok(PcProof {
        pc: ctx.device.clone(),
        poll_secret_hash: ctx
            .secret()
            .map(|secret| hash_secret(secret.expose()))
            .unwrap_or_default(),
        key,
    })
}

async fn step(stub: &Stub, step: Step) -> AppResult<Outcome> {
    rpc::call(stub, &Command::Step(step)).await
}

/// `POST /api/qr`.
pub async fn create(ctx: &Ctx) -> AppResult<Response> {
    let request: CreateQrRequest = ctx.json()?;
    let device_name = device_name_or_default(ctx, request.device_name.as_deref())?;
    let app = match &request.authorization {
        None => None,
        Some(handle) => {
            let registry = Registry::load(&ctx.env)?;
            Some(
                oauth::handle::for_app(&registry, handle, ctx.now_seconds())
                    .ok_or_else(oauth::handle::stale)?,
            )
        }
    };
    let dpop_jkt = ctx.sign_in_proof().await?;
    limits::check_qr_create(&ctx.env, &ctx.client_address).await?;
    let created = FreshObject::new(&ctx.env, &ctx.origin)?
        .make_session(ctx.config.poll_interval_seconds, |poll_secret_hash| {
            NewSession {
                device_id: Some(ctx.device.device_id.clone()),
                device_type: ctx.device.device_type,
                device_name: device_name.into_owned(),
                location: ctx.location.clone(),
                poll_secret_hash,
                dpop_jkt,
                audience: app.map_or(Audience::Qrgate, Audience::App),
                lifetime_seconds: ctx.config.qr_ttl_seconds,
                rules: ctx.config.session_rules(),
            }
        })
        .await?;
    crate::json_response(201, &created)
}

/// The URL the phone opens for the session `qr_id`: its QR's content.
pub fn qr_url(origin: &str, qr_id: &str) -> String {
    format!("{origin}/m/qr/{qr_id}")
}

/// A fresh object for a new session, not yet asked to make it: its id, and so the code's URL,
/// are known before, so that the edge can draw the page's first code while the session is made
/// (`page/`).
pub struct FreshObject {
    pub qr_id: String,
    stub: Stub,
    pub qr_url: String,
}

impl FreshObject {
    pub fn new(env: &Env, origin: &str) -> AppResult<Self> {
        let (qr_id, stub) = rpc::new_session(env)?;
        let qr_url = qr_url(origin, &qr_id);
        Ok(Self {
            qr_id,
            stub,
            qr_url,
        })
    }

    /// Makes `session` in this object: answers when it expires.
    pub async fn create(&self, session: NewSession) -> AppResult<u64> {
        match rpc::call(&self.stub, &Command::Create(Box::new(session))).await? {
            Outcome::Created { expires_at } => Ok(expires_at),
            other => Err(unexpected(&other)),
        }
    }

    /// Makes the session in this object, as `session` describes it given the hash of its new
    /// poll secret, and answers what `POST /api/qr` answers: for the PC that asked, or for the
    /// page the edge serves with its first code (`page/`).
    pub async fn make_session(
        self,
        interval: u64,
        session: impl FnOnce(String) -> NewSession,
    ) -> AppResult<CreateQrResponse> {
        let poll_secret = random_secret()?;
        let expires_at = self.create(session(hash_secret(&poll_secret))).await?;
        Ok(CreateQrResponse {
            qr_id: self.qr_id,
            qr_url: self.qr_url,
            poll_secret: Secret::new(poll_secret),
            expires_at,
            interval,
        })
    }
}

/// `GET /api/qr/{qr_id}`: the PC's poll. The one poll the object lets pick up mints the PC's
/// token here, or for an app's session its code; if it cannot be stored, the pick-up is given
/// back for the next poll.
pub async fn poll(ctx: &Ctx, raw_id: &str) -> AppResult<Response> {
    let stub = rpc::existing_session(&ctx.env, checked_qr_id(raw_id)?)?;
    let (status, expires_at, interval, pick_up, app) =
        match step(&stub, Step::Poll(pc_proof(ctx).await?)).await? {
            Outcome::Polled {
                status,
                expires_at,
                interval,
                pick_up,
                app,
            } => (status, expires_at, interval, pick_up, app),
            other => return Err(unexpected(&other)),
        };
    let mut answer = PollResponse {
        status,
        expires_at,
        interval,
        session: None,
        authorization: None,
    };
    let issuer = || oauth::issuer(&ctx.config, &ctx.origin);
    match (pick_up, app) {
        (Some(pick_up), app) => {
            let handed = hand_over(ctx, &pick_up, app.as_ref(), &mut answer).await;
            if let Err(error) = handed {
                // Best effort: if this fails too, the PC starts over with a new code.
                let _ = step(&stub, Step::ReleasePickUp).await;
                return Err(error);
            }
        }
        (None, Some(app)) if matches!(status, QrStatus::Denied | QrStatus::Cancelled) => {
            let redirect_to = refusal(&issuer(), &app.request, OAuthErrorCode::AccessDenied);
            answer.authorization = Some(RedirectTo { redirect_to });
        }
        (None, _) => {}
    }
    crate::json_response(200, &answer)
}

/// What the one pick-up hands the PC: a login token for itself, or for an app's session the
/// redirect with the app's code.
async fn hand_over(
    ctx: &Ctx,
    pick_up: &PickUp,
    app: Option<&ForApp>,
    answer: &mut PollResponse,
) -> AppResult<()> {
    let account = &pick_up.account;
    let renewal_due = match app {
        None => {
            let signed_in = sign_in(
                ctx,
                account,
                &pick_up.device_name,
                Via::Qr,
                pick_up.dpop_jkt.clone(),
            )
            .await?;
            answer.session = Some(signed_in.session);
            signed_in.renewal_due
        }
        Some(app) => {
            let signed_in = SignedIn {
                account,
                auth_time: pick_up.confirmed_at_ms / 1000,
                amr: Amr::Mca,
                device_name: &pick_up.device_name,
                via: Via::Qr,
            };
            let issuer = oauth::issuer(&ctx.config, &ctx.origin);
            let (redirect_to, renewal_due) =
                oauth::grants::issue_code(ctx, &issuer, app, signed_in).await?;
            answer.authorization = Some(RedirectTo { redirect_to });
            renewal_due
        }
    };
    if renewal_due {
        renew_in_use(ctx, account).await;
    }
    Ok(())
}

/// `DELETE /api/qr/{qr_id}`: the PC withdraws its session.
pub async fn cancel(ctx: &Ctx, raw_id: &str) -> AppResult<Response> {
    let stub = rpc::existing_session(&ctx.env, checked_qr_id(raw_id)?)?;
    match step(&stub, Step::Cancel(pc_proof(ctx).await?)).await? {
        Outcome::Done => Ok(crate::no_content()),
        other => Err(unexpected(&other)),
    }
}

/// `POST /api/qr/{qr_id}/scan`: binds the signed-in phone and hands it a fresh scan token.
pub async fn scan(ctx: &Ctx, raw_id: &str) -> AppResult<Response> {
    let qr_id = checked_qr_id(raw_id)?;
    let _: ScanRequest = ctx.json()?;
    let auth = authenticate(ctx).await?;
    // A token from a recent QR sign-in approves no other.
    auth.settled(ctx)?;
    let account_id = auth.account.account_id.clone();
    let stub = rpc::existing_session(&ctx.env, qr_id)?;
    // A new token on every scan: a reload retires the one before.
    let scan_token = random_secret()?;
    let scan_token_hash = hash_secret(&scan_token);
    let scan = Step::Scan {
        scanner: scanner(auth),
        scan_token_hash: scan_token_hash.clone(),
    };
    let (expires_at, pc, audience) = match step(&stub, scan).await? {
        Outcome::Scanned {
            expires_at,
            pc,
            audience,
        } => (expires_at, pc, audience),
        other => return Err(unexpected(&other)),
    };
    let (client, scope, user_code) = match audience {
        Audience::Qrgate => (None, None, None),
        Audience::App(app) => (Some(app.client_info()), Some(app.request.scope), None),
        Audience::Device(device) => (None, Some(device.scope), Some(device.user_code)),
    };
    let passkey = passkeys::approval_challenge(ctx, &account_id, qr_id, &scan_token_hash).await?;
    crate::json_response(
        200,
        &ScanResponse {
            scan_token: Secret::new(scan_token),
            expires_at,
            warnings: warnings(&pc.location(), &ctx.location),
            pc,
            client,
            scope,
            user_code,
            passkey,
        },
    )
}

/// `POST /api/qr/{qr_id}/confirm` and `/deny`, by the phone that scanned, with its latest token.
pub async fn decide(ctx: &Ctx, raw_id: &str, verdict: Verdict) -> AppResult<Response> {
    let qr_id = checked_qr_id(raw_id)?;
    let request: DecisionRequest = ctx.json()?;
    let auth = authenticate(ctx).await?;
    let stub = rpc::existing_session(&ctx.env, qr_id)?;
    let scan_token_hash = hash_secret(request.scan_token.expose());
    if verdict == Verdict::Confirmed {
        auth.settled(ctx)?;
        let account_id = &auth.account.account_id;
        passkeys::check_approval(ctx, account_id, qr_id, &scan_token_hash, request.passkey).await?;
    }
    let decide = Step::Decide {
        scanner: scanner(auth),
        scan_token_hash,
        verdict,
    };
    match step(&stub, decide).await? {
        Outcome::Done => Ok(crate::no_content()),
        other => Err(unexpected(&other)),
    }
}

/// `GET /api/qr/{qr_id}/live`: the id's form (`400`), then the upgrade's checks
/// (`api/live.rs`); the session's object takes the socket, or answers `404`.
pub async fn live(req: Request, env: &Env, raw_id: &str) -> AppResult<Response> {
    let qr_id = checked_qr_id(raw_id)?;
    crate::api::live::upgrade(req, || rpc::existing_session(env, qr_id)).await
}

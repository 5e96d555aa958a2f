//! The QR-login steps. Each handler gathers the session's facts from KV, asks the pure state
//! machine in `qrgate_protocol::qr` whether the step is allowed, and writes one new fact.

use crate::accounts::{Authenticated, authenticate, device_name_or_default, mint_token};
use crate::context::{Ctx, DeviceHeaders};
use crate::crypto::{constant_time_eq, encode, hash_secret, random_bytes, random_secret};
use crate::error::{AppError, AppResult};
use crate::ratelimit;
use crate::store::{CancelRecord, DecisionRecord, PickupRecord, QrRecord, ScanRecord, keys};
use futures_util::future::{try_join, try_join3};
use qrgate_protocol::location::warnings;
use qrgate_protocol::qr::{Decision, PICKUP_WINDOW_MS, QrFacts, Scanner, Verdict, expires_at};
use qrgate_protocol::{
    CreateQrRequest, CreateQrResponse, DecisionRequest, PcInfo, PollResponse, ScanRequest,
    ScanResponse, Secret, Via, validate,
};
use worker::Response;

/// Seconds every record of a session outlives `expires_at`: the pick-up window after a
/// confirmation at the last moment, then a minute in which a decided session still reads as
/// decided before it is collected (`404`).
const COLLECT_AFTER_EXPIRY_SECONDS: u64 = PICKUP_WINDOW_MS / 1000 + 60;

/// A session's records as read at one moment.
struct Session {
    record: QrRecord,
    scan: Option<ScanRecord>,
    decision: Option<DecisionRecord>,
    cancelled: bool,
    picked_up: bool,
}

impl Session {
    fn facts(&self) -> QrFacts {
        QrFacts {
            expires_at: self.record.expires_at,
            cancelled: self.cancelled,
            scanned_by: self.scan.as_ref().map(|scan| Scanner {
                account_id: scan.account.account_id.clone(),
                device_id: scan.device_id.clone(),
            }),
            decision: self.decision.as_ref().map(|d| Decision {
                verdict: d.verdict,
                decided_at_ms: d.decided_at_ms,
            }),
            picked_up: self.picked_up,
        }
    }

    fn collect_at(&self) -> u64 {
        self.record.expires_at + COLLECT_AFTER_EXPIRY_SECONDS
    }
}

fn checked_qr_id(raw: &str) -> AppResult<&str> {
    validate::qr_id(raw)
        .ok_or_else(|| AppError::invalid("The QR id in the path must be 16–64 of A-Z a-z 0-9 _ -."))
}

/// Reads every fact of a session: the session, its scan binding and cancellation at once,
/// then the decision made with the current scan token and the pick-up marker. `404` if the
/// session does not exist (or was collected).
async fn load(ctx: &Ctx, qr_id: &str) -> AppResult<Session> {
    let (record, scan, cancel) = try_join3(
        ctx.store.get::<QrRecord>(&keys::qr(qr_id)),
        ctx.store.get::<ScanRecord>(&keys::qr_scan(qr_id)),
        ctx.store.get::<CancelRecord>(&keys::qr_cancel(qr_id)),
    )
    .await?;
    let record = record.ok_or(AppError::NotFound("QR session"))?;
    let (decision, pickup) = match &scan {
        None => (None, None),
        Some(scan) => {
            try_join(
                ctx.store
                    .get::<DecisionRecord>(&keys::qr_decision(qr_id, &scan.scan_token_hash)),
                ctx.store.get::<PickupRecord>(&keys::qr_pickup(qr_id)),
            )
            .await?
        }
    };
    Ok(Session {
        record,
        scan,
        decision,
        cancelled: cancel.is_some(),
        picked_up: pickup.is_some(),
    })
}

/// The authenticated phone, as the state machine knows a scanner.
fn scanner(auth: &Authenticated) -> Scanner {
    Scanner {
        account_id: auth.account.account_id.clone(),
        device_id: auth.device_id.clone(),
    }
}

/// `401` unless the request carries the session's poll secret and the creating PC's headers.
fn check_pc(ctx: &Ctx, session: &Session) -> AppResult<()> {
    let secret = ctx.bearer.as_ref().ok_or(AppError::Unauthorized)?;
    let record = &session.record;
    let secret_matches = constant_time_eq(
        hash_secret(secret.expose()).as_bytes(),
        record.poll_secret_hash.as_bytes(),
    );
    let same_device = ctx.device
        == DeviceHeaders {
            device_id: record.pc_device_id.clone(),
            device_type: record.pc_device_type,
        };
    if secret_matches && same_device {
        Ok(())
    } else {
        Err(AppError::Unauthorized)
    }
}

/// `POST /api/qr`.
pub async fn create(ctx: &Ctx) -> AppResult<Response> {
    let request: CreateQrRequest = ctx.json()?;
    let device_name = device_name_or_default(ctx, request.device_name.as_deref())?;
    ratelimit::check_qr_create(ctx).await?;

    // 192 bits: public, but unguessable, so nobody can scan a session they were not shown.
    let qr_id = encode(&random_bytes::<24>()?);
    let poll_secret = random_secret()?;
    let record = QrRecord {
        poll_secret_hash: hash_secret(&poll_secret),
        pc_device_id: ctx.device.device_id.clone(),
        pc_device_type: ctx.device.device_type,
        pc_device_name: device_name.to_owned(),
        pc_location: ctx.location.clone(),
        created_at: ctx.now_seconds(),
        expires_at: expires_at(ctx.now_ms, ctx.config.qr_ttl_seconds),
    };
    let collect_at = record.expires_at + COLLECT_AFTER_EXPIRY_SECONDS;
    ctx.store
        .put(&keys::qr(&qr_id), &record, collect_at)
        .await?;
    crate::json_response(
        201,
        &CreateQrResponse {
            qr_url: format!("{}/m/qr/{qr_id}", ctx.origin),
            qr_id,
            poll_secret: Secret::new(poll_secret),
            expires_at: record.expires_at,
            interval: ctx.config.poll_interval_seconds,
        },
    )
}

/// `GET /api/qr/{qr_id}`: the PC's poll; the first poll that sees `confirmed` mints its token.
pub async fn poll(ctx: &Ctx, raw_id: &str) -> AppResult<Response> {
    let qr_id = checked_qr_id(raw_id)?;
    let session = load(ctx, qr_id).await?;
    check_pc(ctx, &session)?;
    let facts = session.facts();
    let status = facts.status(ctx.now_ms);
    let login = match &session.decision {
        Some(decision) if facts.may_pick_up(ctx.now_ms) => {
            let record = &session.record;
            let pc = DeviceHeaders {
                device_id: record.pc_device_id.clone(),
                device_type: record.pc_device_type,
            };
            let login =
                mint_token(ctx, &decision.account, &pc, &record.pc_device_name, Via::Qr).await?;
            let pickup = PickupRecord {
                picked_up_at_ms: ctx.now_ms,
                account_id: decision.account.account_id.clone(),
            };
            ctx.store
                .put(&keys::qr_pickup(qr_id), &pickup, session.collect_at())
                .await?;
            Some(login)
        }
        _ => None,
    };
    crate::json_response(
        200,
        &PollResponse {
            status,
            expires_at: session.record.expires_at,
            interval: ctx.config.poll_interval_seconds,
            session: login,
        },
    )
}

/// `DELETE /api/qr/{qr_id}`: the PC withdraws its session.
pub async fn cancel(ctx: &Ctx, raw_id: &str) -> AppResult<Response> {
    let qr_id = checked_qr_id(raw_id)?;
    let session = load(ctx, qr_id).await?;
    check_pc(ctx, &session)?;
    session.facts().check_cancel(ctx.now_ms)?;
    let record = CancelRecord {
        cancelled_at_ms: ctx.now_ms,
    };
    ctx.store
        .put(&keys::qr_cancel(qr_id), &record, session.collect_at())
        .await?;
    Ok(crate::no_content())
}

/// `POST /api/qr/{qr_id}/scan`: binds the signed-in phone and hands it a fresh scan token.
pub async fn scan(ctx: &Ctx, raw_id: &str) -> AppResult<Response> {
    let qr_id = checked_qr_id(raw_id)?;
    let _: ScanRequest = ctx.json()?;
    let auth = authenticate(ctx).await?;
    let session = load(ctx, qr_id).await?;
    let phone = scanner(&auth);
    session.facts().check_scan(&phone, ctx.now_ms)?;

    // A new token on every scan: a reload retires the one before, since decisions are keyed
    // by the hash of the token in the current binding.
    let scan_token = random_secret()?;
    let binding = ScanRecord {
        account: auth.account,
        device_id: auth.device_id,
        scan_token_hash: hash_secret(&scan_token),
        scanned_at_ms: ctx.now_ms,
    };
    ctx.store
        .put(&keys::qr_scan(qr_id), &binding, session.collect_at())
        .await?;
    let record = session.record;
    crate::json_response(
        200,
        &ScanResponse {
            scan_token: Secret::new(scan_token),
            expires_at: record.expires_at,
            warnings: warnings(&record.pc_location, &ctx.location),
            pc: PcInfo {
                device_type: record.pc_device_type,
                device_name: record.pc_device_name,
                created_at: record.created_at,
                country: record.pc_location.country,
                city: record.pc_location.city,
                network: record.pc_location.network,
            },
        },
    )
}

/// `POST /api/qr/{qr_id}/confirm` and `/deny`, by the phone that scanned, with its latest token.
pub async fn decide(ctx: &Ctx, raw_id: &str, verdict: Verdict) -> AppResult<Response> {
    let qr_id = checked_qr_id(raw_id)?;
    let request: DecisionRequest = ctx.json()?;
    let auth = authenticate(ctx).await?;
    let session = load(ctx, qr_id).await?;
    let phone = scanner(&auth);
    let presented_hash = hash_secret(request.scan_token.expose());
    let token_matches = session.scan.as_ref().is_some_and(|scan| {
        constant_time_eq(presented_hash.as_bytes(), scan.scan_token_hash.as_bytes())
    });
    session
        .facts()
        .check_decide(&phone, token_matches, ctx.now_ms)?;

    // Keyed by the scan token's hash: only a decision made with the token of the binding that
    // survives in KV is ever read back, so a phone that lost a race cannot confirm.
    let decision = DecisionRecord {
        verdict,
        account: auth.account,
        decided_at_ms: ctx.now_ms,
    };
    ctx.store
        .put(
            &keys::qr_decision(qr_id, &presented_hash),
            &decision,
            session.collect_at(),
        )
        .await?;
    Ok(crate::no_content())
}

//! What the Worker asks a QR session's Durable Object, and what it answers.
//!
//! The Worker does everything that may wait on the outside world (reading the request,
//! authenticating a phone's token in KV, minting the PC's token into KV) and sends the object
//! one [`Command`] whose outcome it only has to shape into the contract's answer. The object
//! awaits nothing but its own storage, so each command is decided and stored without any other
//! event in between: that is what makes the steps linearizable. Secrets cross only as SHA-256
//! hashes, and the object compares them in constant time.

use crate::context::DeviceHeaders;
use crate::error::{AppError, AppResult};
use qrgate_protocol::location::Location;
use qrgate_protocol::oauth::device::ForDevice;
use qrgate_protocol::qr::{
    Audience, DevicePoll, ForApp, Scanner, SessionRules, StepError, Verdict,
};
use qrgate_protocol::{Account, DeviceType, PcInfo, QrStatus};
use serde::{Deserialize, Serialize};
use worker::{Env, Stub};

/// The Durable Object namespace binding in `wrangler.toml`.
pub const QR_SESSIONS_BINDING: &str = "QR_SESSIONS";

#[derive(Debug, Serialize, Deserialize)]
pub enum Command {
    /// Sent once, to the fresh object of a new id.
    Create(Box<NewSession>),
    /// Sent to the object of an existing session.
    Step(Step),
}

/// A new session for the PC that sends these device headers, or (`device_id: None`) for the
/// page the edge is serving, to be claimed by its first poll, or for a device without a
/// browser (whose poll secret is its device code); the object stamps its times.
#[derive(Debug, Serialize, Deserialize)]
pub struct NewSession {
    pub device_id: Option<String>,
    pub device_type: DeviceType,
    pub device_name: String,
    pub location: Location,
    pub poll_secret_hash: String,
    /// The thumbprint of the key whose proof came with the creation, if one did.
    pub dpop_jkt: Option<String>,
    /// Who the session signs the person in to.
    pub audience: Audience,
    /// How long it lives: `QR_TTL_SECONDS`, or `DEVICE_CODE_TTL_SECONDS` for a device's.
    pub lifetime_seconds: u64,
    pub rules: SessionRules,
}

/// What a request presents as the creating PC: its device headers, the SHA-256 of the poll
/// secret (empty when none was presented: it matches nothing), and the key its DPoP proof
/// showed.
#[derive(Debug, Serialize, Deserialize)]
pub struct PcProof {
    pub pc: DeviceHeaders,
    pub poll_secret_hash: String,
    pub key: PresentedKey,
}

/// The Worker's verdict on a poll's or cancel's DPoP proof. An invalid proof is passed on, not
/// refused at once: API.md checks a proof with the credential it accompanies, the poll secret,
/// which comes after "the session exists" (an unknown or collected session is `404` whatever
/// the proof).
#[derive(Debug, Serialize, Deserialize)]
pub enum PresentedKey {
    None,
    /// The thumbprint of the key whose proof verified.
    Proven(String),
    Invalid,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Step {
    /// The PC's poll: the status, and once, the account to mint the PC's token for.
    Poll(PcProof),
    /// The token a poll picked up could not be stored: let the next poll pick it up again.
    ReleasePickUp,
    Cancel(PcProof),
    Scan {
        scanner: Scanner,
        scan_token_hash: String,
    },
    Decide {
        scanner: Scanner,
        scan_token_hash: String,
        verdict: Verdict,
    },
    /// A device's poll at the token endpoint (RFC 8628 §3.4), by its client, with its code.
    DevicePoll {
        device_code_hash: String,
        client_id: String,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Outcome {
    Created {
        expires_at: u64,
    },
    Polled {
        status: QrStatus,
        expires_at: u64,
        interval: u64,
        /// Present in exactly one poll: the confirming account and the name the PC gave itself.
        pick_up: Option<PickUp>,
        /// The app, for a session made for one: the pick-up is then its code's.
        app: Option<ForApp>,
    },
    Scanned {
        expires_at: u64,
        pc: PcInfo,
        audience: Audience,
    },
    /// A device's poll, with what the tokens of a confirmation are for.
    DevicePolled {
        poll: DevicePoll,
        device: ForDevice,
        pc: PcInfo,
    },
    Done,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PickUp {
    pub account: Account,
    /// When the phone confirmed (Unix milliseconds): an app's `auth_time`.
    pub confirmed_at_ms: u64,
    pub device_name: String,
    /// The key the PC's token is to be bound to: the one that created the session.
    pub dpop_jkt: Option<String>,
}

/// Why the object refused a command, in the contract's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// No such session: never created, or collected.
    NotFound,
    /// A wrong poll secret or device code, another device than the creating PC, or another
    /// client than the device's.
    Unauthorized,
    /// The right poll secret, without a proof by the key that created the session.
    InvalidDpopProof,
    Step(StepError),
}

impl From<StepError> for Refusal {
    fn from(error: StepError) -> Self {
        Self::Step(error)
    }
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotFound => AppError::NotFound("QR session"),
            Refusal::Unauthorized => AppError::Unauthorized,
            Refusal::InvalidDpopProof => AppError::InvalidDpopProof,
            Refusal::Step(error) => error.into(),
        }
    }
}

pub type Reply = Result<Outcome, Refusal>;

/// A QR id is its object's id: the 64 lower-case hex digits `newUniqueId()` makes. Such an id
/// carries a MAC of its namespace, so one that was not made here is refused without reaching
/// (and waking, and billing) any object.
const OBJECT_ID_LEN: usize = 64;

/// A stub for a new session's object, and the session's public id.
pub fn new_session(env: &Env) -> AppResult<(String, Stub)> {
    let namespace = env.durable_object(QR_SESSIONS_BINDING)?;
    let id = namespace.unique_id()?;
    Ok((id.to_string(), id.get_stub()?))
}

/// The stub of the session `qr_id` (well-formed by the contract's rule); `404` when it cannot
/// be one of ours.
pub fn existing_session(env: &Env, qr_id: &str) -> AppResult<Stub> {
    let is_object_id = qr_id.len() == OBJECT_ID_LEN
        && qr_id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let not_found = || AppError::NotFound("QR session");
    if !is_object_id {
        return Err(not_found());
    }
    let namespace = env.durable_object(QR_SESSIONS_BINDING)?;
    let id = namespace.id_from_string(qr_id).map_err(|_| not_found())?;
    Ok(id.get_stub()?)
}

/// Sends `command` to the session's object. A refusal becomes the contract's error.
pub async fn call(stub: &Stub, command: &Command) -> AppResult<Outcome> {
    let reply: Reply = crate::objects::call(stub, command).await?;
    Ok(reply?)
}

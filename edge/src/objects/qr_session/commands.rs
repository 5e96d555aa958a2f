//! The Worker's commands: create a session, or one step of it, decided by `steps.rs`.

use super::QrSessionObject;
use super::rpc::{Command, NewSession, Outcome, Refusal, Reply};
use super::steps::apply;
use qrgate_protocol::PcInfo;
use qrgate_protocol::qr::{Creator, QrSession, expires_at};
use worker::Result;

impl QrSessionObject {
    /// Decides one command: load, ask the state machine, store, tell the sockets.
    pub(super) async fn run(&self, command: Command, now_ms: u64) -> Result<Reply> {
        let step = match command {
            Command::Create(new_session) => return self.create(*new_session, now_ms).await,
            Command::Step(step) => step,
        };
        let Some(mut session) = self.session.load(&self.state).await? else {
            return Ok(Err(Refusal::NotFound));
        };
        let applied = match apply(&mut session, step, now_ms) {
            Ok(applied) => applied,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if applied.changed {
            self.session.store(&self.state, &session).await?;
        }
        if applied.status_changed {
            self.push(&session, session.status(now_ms))?;
        }
        Ok(Ok(applied.outcome))
    }

    /// Stores a new session (its id was just made, so nothing is there yet) and sets the
    /// alarm that will push `expired`.
    pub(super) async fn create(&self, new_session: NewSession, now_ms: u64) -> Result<Reply> {
        let NewSession {
            device_id,
            device_type,
            device_name,
            location,
            poll_secret_hash,
            dpop_jkt,
            audience,
            lifetime_seconds,
            rules,
        } = new_session;
        let created_at = now_ms / 1000;
        let session = QrSession::new(
            Creator {
                device_id,
                poll_secret_hash,
                dpop_jkt,
                info: PcInfo::new(device_type, device_name, created_at, location),
            },
            expires_at(now_ms, lifetime_seconds),
            audience,
            rules,
        );
        // The alarm first: should storing the session fail, the alarm finds nothing and sets
        // none, where the other order could leave a session that no alarm ever collects.
        self.schedule(&session, now_ms).await?;
        self.session.store(&self.state, &session).await?;
        Ok(Ok(Outcome::Created {
            expires_at: session.expires_at,
        }))
    }
}

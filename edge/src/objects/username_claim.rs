//! The Durable Object of one name: the one writer that grants it to one holder
//! (`qrgate_protocol::username`). A username is held by its account, so two sign-ups for it
//! anywhere, at once, cannot both have it; a device's user code by its QR session, so that a
//! phone anywhere finds the device by the code at once. Like the other objects it awaits nothing
//! but its own storage between loading and storing. When the hold ends (the account's lifetime
//! and a margin; the device session's), its alarm forgets everything.

use crate::objects::{self, Stored};
use qrgate_protocol::username::Holder;
use serde::{Deserialize, Serialize};
use worker::{Date, DurableObject, Env, Request, Response, Result, State, durable_object};

#[derive(Debug, Serialize, Deserialize)]
pub enum ClaimCommand {
    /// Grant the name to `holder_id` until `until` (Unix seconds), a sign-up's or a renewal's,
    /// or a new device session's: answers whether it was granted.
    Claim { holder_id: String, until: u64 },
    /// Give the name back if `holder_id` holds it: answers nothing.
    Release { holder_id: String },
    /// Who holds the name now: answers `Option<String>`.
    Find,
}

/// Only `fetch` and `alarm` are bound: this class takes no socket or connection.
#[cfg_attr(feature = "objects", durable_object(alarm))]
pub struct UsernameClaim {
    state: State,
    holder: Stored<Holder>,
}

#[cfg(feature = "objects")]
impl DurableObject for UsernameClaim {
    fn new(state: State, _env: Env) -> Self {
        Self {
            state,
            holder: Stored::new("holder"),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let now = Date::now().as_millis() / 1000;
        let command: ClaimCommand = objects::command(req).await?;
        let held = self.holder.load(&self.state).await?;
        match command {
            ClaimCommand::Claim { holder_id, until } => {
                match Holder::claim(held.as_ref(), &holder_id, until, now) {
                    Some(holder) => {
                        // The alarm first: a hold stored without one would never end.
                        objects::wake_at(&self.state, holder.until.saturating_mul(1000)).await?;
                        self.holder.store(&self.state, &holder).await?;
                        Response::from_json(&true)
                    }
                    None => Response::from_json(&false),
                }
            }
            ClaimCommand::Release { holder_id } => {
                if Holder::is_held_by(held.as_ref(), &holder_id) {
                    self.holder.forget(&self.state).await?;
                }
                Response::from_json(&())
            }
            ClaimCommand::Find => Response::from_json(&Holder::current(held.as_ref(), now)),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.holder
            .keep_until(&self.state, |holder| {
                Some(holder.until.saturating_mul(1000))
            })
            .await?;
        Response::empty()
    }
}

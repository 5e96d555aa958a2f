//! The Durable Object of one username: the one writer that grants the name to one account
//! (`qrgate_protocol::username`), so two sign-ups for it anywhere, at once, cannot both have it.
//! Like the other objects it awaits nothing but its own storage between loading and storing.
//! When the hold ends (the account's lifetime and a margin), its alarm forgets everything.

use crate::objects::{self, Stored};
use qrgate_protocol::username::Holder;
use serde::{Deserialize, Serialize};
use worker::{Date, DurableObject, Env, Request, Response, Result, State, durable_object};

#[derive(Debug, Serialize, Deserialize)]
pub enum UsernameCommand {
    /// Grant the name to `account_id` until `until` (Unix seconds), a sign-up's or a renewal's:
    /// answers whether it was granted.
    Claim { account_id: String, until: u64 },
    /// Give the name back if `account_id` holds it: answers nothing.
    Release { account_id: String },
}

/// Only `fetch` and `alarm` are bound: this class takes no socket or connection.
#[durable_object(alarm)]
pub struct UsernameClaim {
    state: State,
    holder: Stored<Holder>,
}

impl DurableObject for UsernameClaim {
    fn new(state: State, _env: Env) -> Self {
        Self {
            state,
            holder: Stored::new("holder"),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let now = Date::now().as_millis() / 1000;
        let command: UsernameCommand = objects::command(req).await?;
        let held = self.holder.load(&self.state).await?;
        match command {
            UsernameCommand::Claim { account_id, until } => {
                match Holder::claim(held.as_ref(), &account_id, until, now) {
                    Some(holder) => {
                        // The alarm first: a hold stored without one would never end.
                        objects::wake_at(&self.state, holder.until.saturating_mul(1000)).await?;
                        self.holder.store(&self.state, &holder).await?;
                        Response::from_json(&true)
                    }
                    None => Response::from_json(&false),
                }
            }
            UsernameCommand::Release { account_id } => {
                if Holder::is_held_by(held.as_ref(), &account_id) {
                    self.holder.forget(&self.state).await?;
                }
                Response::from_json(&())
            }
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

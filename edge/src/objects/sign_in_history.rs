//! The Durable Object of one account's sign-in history (`qrgate_protocol::history`): the one
//! writer of its list, so every sign-in is listed at once, wherever it happened, in the order
//! it was recorded, and the one that tells a sign-in its account is due a renewal. When its
//! newest sign-in is 90 days old, its alarm forgets everything.

use crate::objects::{self, Stored};
use qrgate_protocol::SignInEntry;
use qrgate_protocol::history::SignInLog;
use serde::{Deserialize, Serialize};
use worker::{Date, DurableObject, Env, Request, Response, Result, State, durable_object};

#[derive(Debug, Serialize, Deserialize)]
pub enum HistoryCommand {
    /// A sign-in that happened now: answers whether its account is due a renewal.
    Record(SignInEntry),
    /// Answers the sign-ins still kept, newest first.
    List,
}

/// Only `fetch` and `alarm` are bound: this class takes no socket or connection.
#[durable_object(alarm)]
pub struct SignInHistory {
    state: State,
    log: Stored<SignInLog>,
}

impl DurableObject for SignInHistory {
    fn new(state: State, _env: Env) -> Self {
        Self {
            state,
            log: Stored::new("log"),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let now_ms = Date::now().as_millis();
        let command: HistoryCommand = objects::command(req).await?;
        let mut log = self.log.load(&self.state).await?.unwrap_or_default();
        match command {
            HistoryCommand::Record(entry) => {
                let renewal_due = log.record(entry, now_ms);
                // The alarm first: entries stored without one would never be deleted.
                if let Some(at_ms) = log.empty_after_ms() {
                    objects::wake_at(&self.state, at_ms).await?;
                }
                self.log.store(&self.state, &log).await?;
                Response::from_json(&renewal_due)
            }
            HistoryCommand::List => Response::from_json(&log.list(now_ms)),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.log
            .keep_until(&self.state, |log| log.empty_after_ms())
            .await?;
        Response::empty()
    }
}

//! The Durable Object of one account's history (`qrgate_protocol::history`): the one writer of
//! its sign-ins, so every sign-in is listed at once, wherever it happened, in the order it was
//! recorded; the one that tells a sign-in its account is due a renewal; and the list of the apps
//! the account is connected to. When its newest sign-in is 90 days old and its last app's grant
//! has expired, its alarm forgets everything.

use crate::objects::{self, Stored};
use qrgate_protocol::SignInEntry;
use qrgate_protocol::history::{ConnectedApp, SignInLog};
use serde::{Deserialize, Serialize};
use worker::{Date, DurableObject, Env, Request, Response, Result, State, durable_object};

#[derive(Debug, Serialize, Deserialize)]
pub enum HistoryCommand {
    /// A sign-in that happened now: answers whether its account is due a renewal.
    Record(SignInEntry),
    /// A sign-in to an app that was granted `app`: answers a `Recorded`.
    RecordApp {
        entry: SignInEntry,
        app: ConnectedApp,
    },
    /// Answers the sign-ins still kept, newest first.
    List,
    /// Answers the apps connected, newest first.
    Apps,
    /// Takes a grant off the list: answers whether it was on it.
    Disconnect { grant_id: String },
    /// A grant was used at `at` (Unix seconds): answers `()`.
    Used { grant_id: String, at: u64 },
}

/// Only `fetch` and `alarm` are bound: this class takes no socket or connection.
#[cfg_attr(feature = "objects", durable_object(alarm))]
pub struct SignInHistory {
    state: State,
    log: Stored<SignInLog>,
}

#[cfg(feature = "objects")]
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
                self.store(&log).await?;
                Response::from_json(&renewal_due)
            }
            HistoryCommand::RecordApp { entry, app } => {
                let recorded = log.record_app(entry, app, now_ms);
                self.store(&log).await?;
                Response::from_json(&recorded)
            }
            HistoryCommand::List => Response::from_json(&log.list(now_ms)),
            HistoryCommand::Apps => Response::from_json(&log.apps(now_ms)),
            HistoryCommand::Disconnect { grant_id } => {
                let listed = log.disconnect(&grant_id);
                if listed {
                    self.store(&log).await?;
                }
                Response::from_json(&listed)
            }
            HistoryCommand::Used { grant_id, at } => {
                log.used(&grant_id, at);
                self.store(&log).await?;
                Response::from_json(&())
            }
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.log
            .keep_until(&self.state, |log| log.empty_after_ms())
            .await?;
        Response::empty()
    }
}

impl SignInHistory {
    async fn store(&self, log: &SignInLog) -> Result<()> {
        // The alarm first: entries stored without one would never be deleted.
        if let Some(at_ms) = log.empty_after_ms() {
            objects::wake_at(&self.state, at_ms).await?;
        }
        self.log.store(&self.state, log).await
    }
}

//! The Durable Object of one passkey challenge: the one writer that hands it to one ceremony,
//! once, within its five minutes, so a challenge replayed or raced at any two locations is
//! taken by one of them only. Its object is named by the challenge's hash (`api/passkeys.rs`),
//! so a challenge never issued finds an empty object. Taking it forgets everything; so does its
//! alarm when it lapses untaken.

use crate::objects::{self, Stored};
use qrgate_protocol::Account;
use serde::{Deserialize, Serialize};
use worker::{Date, DurableObject, Env, Request, Response, Result, State, durable_object};

pub const CHALLENGES_BINDING: &str = "PASSKEY_CHALLENGES";

/// What a challenge was handed out for, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedChallenge {
    pub purpose: Purpose,
    pub expires_at_ms: u64,
}

/// The one ceremony a challenge answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    /// A new passkey for this signed-in account.
    Register { account_id: String },
    /// A new account, as named, made with the passkey alone.
    SignUp(Account),
    /// A sign-in, by anyone. (A scan's approval challenge is kept by the scanning account's
    /// keyring: `objects/keyring.rs`.)
    SignIn,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum ChallengeCommand {
    /// Keep this challenge until it lapses: answers `()`.
    Issue(IssuedChallenge),
    /// Take it, once, whatever it was issued for: answers whether it was live and issued for
    /// `purpose` (`false` for one never issued, taken already, lapsed or for another purpose).
    Take(Purpose),
}

/// Only `fetch` and `alarm` are bound: this class takes no socket or connection.
#[cfg_attr(feature = "objects", durable_object(alarm))]
pub struct PasskeyChallenge {
    state: State,
    issued: Stored<IssuedChallenge>,
}

#[cfg(feature = "objects")]
impl DurableObject for PasskeyChallenge {
    fn new(state: State, _env: Env) -> Self {
        Self {
            state,
            issued: Stored::new("issued"),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let now_ms = Date::now().as_millis();
        match objects::command(req).await? {
            ChallengeCommand::Issue(issued) => {
                // The alarm first: a challenge stored without one would never be forgotten.
                objects::wake_at(&self.state, issued.expires_at_ms).await?;
                self.issued.store(&self.state, &issued).await?;
                Response::from_json(&())
            }
            ChallengeCommand::Take(purpose) => {
                let issued = self.issued.load(&self.state).await?;
                if issued.is_some() {
                    self.issued.forget(&self.state).await?;
                }
                let answers = issued.is_some_and(|issued| {
                    now_ms < issued.expires_at_ms && issued.purpose == purpose
                });
                Response::from_json(&answers)
            }
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.issued.forget(&self.state).await?;
        Response::empty()
    }
}

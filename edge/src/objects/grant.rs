//! The Durable Object of one grant (`qrgate_protocol::oauth::grant`): the one writer that
//! redeems its code once and rotates its refresh token once, wherever the racing requests
//! arrive, and the one place every location asks whether the grant still stands (userinfo,
//! revocation). A revoked or replayed grant forgets everything at once, and then takes itself
//! off its account's list of connected apps: an object with nothing stored refuses every
//! token, and its id (`newUniqueId()`) is never made again. Otherwise its alarm forgets
//! everything when the grant expires, or when its code lapses unredeemed (having first taken
//! itself off the list, as it connected nothing).

use crate::crypto::constant_time_eq;
use crate::history;
use crate::objects::{self, Stored};
use qrgate_protocol::Account;
use qrgate_protocol::oauth::grant::{
    Grant, Issued, NewGrant, Redemption, Refusal, Rotation, Stage,
};
use serde::{Deserialize, Serialize};
use worker::{Date, DurableObject, Env, Request, Response, Result, State, durable_object};

/// The Durable Object namespace of the grants, in `wrangler.toml`.
pub const GRANTS_BINDING: &str = "OAUTH_GRANTS";

#[derive(Debug, Serialize, Deserialize)]
pub enum GrantCommand {
    /// Sent once, to the fresh object of a new id, when the code is handed out: answers `()`.
    Create { grant: NewGrant, ttl_seconds: u64 },
    /// Answers a [`Decision`].
    Redeem(Redemption),
    /// Answers a [`Decision`].
    Rotate(Rotation),
    /// Whether the grant's access tokens still stand: answers `Option<`[`Standing`]`>`.
    Check,
    /// Revokes the grant if the revoker may: answers the account id of the grant revoked, or
    /// `None` (unknown, gone, or not the revoker's).
    Revoke(Revoker),
}

pub type Decision = std::result::Result<Issued, Refusal>;

/// A grant whose access tokens stand: whose they are, and for which client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    pub account: Account,
    pub client_id: String,
}

/// Who asks to revoke the grant.
#[derive(Debug, Serialize, Deserialize)]
pub enum Revoker {
    /// The person, from their list of connected apps.
    Account { account_id: String },
    /// The client, with one of its access tokens (already verified).
    Client { client_id: String },
    /// The client, with one of its refresh tokens, current or rotated away.
    ClientRefresh {
        client_id: String,
        refresh_hash: String,
    },
}

fn same(a: &str, b: &str) -> bool {
    constant_time_eq(a.as_bytes(), b.as_bytes())
}

/// Only `fetch` and `alarm` are bound: this class takes no socket or connection.
#[cfg_attr(feature = "objects", durable_object(alarm))]
pub struct OAuthGrant {
    state: State,
    env: Env,
    grant: Stored<Grant>,
}

#[cfg(feature = "objects")]
impl DurableObject for OAuthGrant {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            grant: Stored::new("grant"),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let now_ms = Date::now().as_millis();
        let command: GrantCommand = objects::command(req).await?;
        if let GrantCommand::Create { grant, ttl_seconds } = command {
            let grant = Grant::new(grant, now_ms, ttl_seconds);
            // The alarm first: a grant stored without one would never be collected.
            objects::wake_at(&self.state, grant.collect_at_ms()).await?;
            self.grant.store(&self.state, &grant).await?;
            return Response::from_json(&());
        }
        let stored = self.grant.load(&self.state).await?;
        match command {
            GrantCommand::Create { .. } => Response::from_json(&()),
            GrantCommand::Redeem(redemption) => {
                let decided = stored.map(|mut grant| {
                    let decision = grant.redeem(redemption, now_ms, same);
                    (grant, decision)
                });
                self.decide(decided).await
            }
            GrantCommand::Rotate(rotation) => {
                let decided = stored.map(|mut grant| {
                    let decision = grant.rotate(rotation, now_ms, same);
                    (grant, decision)
                });
                self.decide(decided).await
            }
            GrantCommand::Check => Response::from_json(&standing(stored.as_ref(), now_ms)),
            GrantCommand::Revoke(revoker) => {
                let allowed = stored.as_ref().is_some_and(|grant| match &revoker {
                    Revoker::Account { account_id } => grant.account.account_id == *account_id,
                    Revoker::Client { client_id } => grant.client_id == *client_id,
                    Revoker::ClientRefresh {
                        client_id,
                        refresh_hash,
                    } => {
                        grant.client_id == *client_id
                            && grant.knows_refresh_token(refresh_hash, same)
                    }
                });
                let revoked = match stored {
                    Some(grant) if allowed => {
                        self.revoke(&grant).await?;
                        Some(grant.account.account_id)
                    }
                    _ => None,
                };
                Response::from_json(&revoked)
            }
        }
    }

    async fn alarm(&self) -> Result<Response> {
        let now_ms = Date::now().as_millis();
        let Some(grant) = self.grant.load(&self.state).await? else {
            return Response::empty();
        };
        if now_ms < grant.collect_at_ms() {
            objects::wake_at(&self.state, grant.collect_at_ms()).await?;
            return Response::empty();
        }
        if matches!(grant.stage, Stage::Code(_)) {
            // A code that lapsed unredeemed connected nothing: off the account's list. Should
            // that fail, the alarm fails and the runtime runs it again.
            let grant_id = self.state.id().to_string();
            history::disconnect_app(&self.env, &grant.account.account_id, &grant_id)
                .await
                .map_err(|e| worker::Error::RustError(format!("not delisted: {e:?}")))?;
        }
        self.grant.forget(&self.state).await?;
        Response::empty()
    }
}

impl OAuthGrant {
    /// Stores what a redemption or a rotation decided, and answers it. A replay revokes: the
    /// grant is forgotten before the refusal is answered.
    async fn decide(&self, decided: Option<(Grant, Decision)>) -> Result<Response> {
        let decision = match decided {
            None => Err(Refusal::InvalidGrant),
            Some((grant, Err(Refusal::Replayed))) => {
                self.revoke(&grant).await?;
                Err(Refusal::Replayed)
            }
            Some((_, Err(refusal))) => Err(refusal),
            Some((grant, Ok(issued))) => {
                self.grant.store(&self.state, &grant).await?;
                Ok(issued)
            }
        };
        Response::from_json(&decision)
    }
}

impl OAuthGrant {
    /// Forgets the grant at once, then takes it off its account's list, best effort: a listing
    /// left behind shows an app that has no access any more, until the grant's expiry or its
    /// removal from the list.
    async fn revoke(&self, grant: &Grant) -> Result<()> {
        self.grant.forget(&self.state).await?;
        let grant_id = self.state.id().to_string();
        if let Err(error) =
            history::disconnect_app(&self.env, &grant.account.account_id, &grant_id).await
        {
            worker::console_warn!("a revoked grant is still listed: {error:?}");
        }
        Ok(())
    }
}

fn standing(grant: Option<&Grant>, now_ms: u64) -> Option<Standing> {
    grant
        .filter(|grant| grant.is_active(now_ms))
        .map(|grant| Standing {
            account: grant.account.clone(),
            client_id: grant.client_id.clone(),
        })
}

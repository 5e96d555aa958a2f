//! The Durable Object of one account's history (`qrgate_protocol::history`): the one writer of
//! its sign-ins, so every sign-in is listed at once, wherever it happened, in the order it was
//! recorded; the one that tells a sign-in its account is due a renewal; the list of the apps
//! the account is connected to; and the authority on which token each device holds
//! (`qrgate_protocol::device_tokens`), so that a device signed out anywhere is refused at once
//! everywhere; which is why it also holds the account's live channel (`live.rs`), where each
//! signed-in page hears of a sign-out of its device and of the account's new sign-ins. When its
//! newest sign-in is 90 days old, its last app's grant and its last device's token have
//! expired, and no socket waits for its first message, its alarm forgets everything.

mod live;

use crate::crypto::constant_time_eq;
use crate::objects::{self, Stored};
use qrgate_protocol::SignInEntry;
use qrgate_protocol::account_live::AccountEvent;
use qrgate_protocol::device_tokens::Held;
use qrgate_protocol::history::{ConnectedApp, SignInLog};
use serde::{Deserialize, Serialize};
use worker::{
    Date, DurableObject, Env, Request, Response, Result, Socket, State, WebSocket,
    WebSocketIncomingMessage, durable_object,
};

#[derive(Debug, Serialize, Deserialize)]
pub enum HistoryCommand {
    /// A device's sign-in that happened now, with the token it is given (by its hash, expiring
    /// at `expires_at_ms`), which replaces the device's earlier one: answers whether its
    /// account is due a renewal.
    Record {
        entry: SignInEntry,
        token_hash: String,
        /// The thumbprint of the key the token is bound to (DPoP), if it is bound.
        key: Option<String>,
        expires_at_ms: u64,
    },
    /// The renewal a sign-in was told of did not happen: answers `()`.
    RenewalStillDue,
    /// The device signed out: answers whether it held a token.
    SignOut { device_id: String },
    /// Answers the [`TokenStanding`] of the token of hash `token_hash` on `device_id`.
    Standing {
        device_id: String,
        token_hash: String,
    },
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

/// What the account's object says of a presented token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenStanding {
    /// The device's current token.
    Current,
    /// Replaced by a newer sign-in, or signed out.
    Revoked,
    /// Not known here: KV decides alone.
    Unknown,
}

#[cfg_attr(feature = "objects", durable_object)]
pub struct SignInHistory {
    state: State,
    log: Stored<SignInLog>,
}

#[cfg(feature = "objects")]
impl DurableObject for SignInHistory {
    fn new(state: State, _env: Env) -> Self {
        objects::sockets::answer_pings(&state);
        Self {
            state,
            log: Stored::new("log"),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let now_ms = Date::now().as_millis();
        if req.headers().get("Upgrade")?.is_some() {
            // The URL as the runtime has it: worker's `Request::url` parses it with the `url`
            // crate, whose tables would weigh about 100 KiB in this bundle.
            return self.open_live(&req.inner().url(), now_ms).await;
        }
        match objects::command(req).await? {
            // Reads, answered from the instance's copy without copying it: a token's standing
            // is asked at every authenticated request.
            HistoryCommand::Standing {
                device_id,
                token_hash,
            } => {
                self.answer(|log| standing(log, &device_id, &token_hash, now_ms))
                    .await
            }
            HistoryCommand::List => self.answer(|log| log.list(now_ms)).await,
            HistoryCommand::Apps => self.answer(|log| log.apps(now_ms)).await,
            HistoryCommand::Record {
                entry,
                token_hash,
                key,
                expires_at_ms,
            } => {
                let device_id = entry.device_id.clone();
                let held = (token_hash.clone(), key);
                let told = entry.clone();
                let answer = self
                    .change(|log| {
                        log.tokens
                            .signed_in(&device_id, held, expires_at_ms, now_ms);
                        log.record(entry, now_ms)
                    })
                    .await?;
                // The device's earlier token ends here: its pages are told, and the account's
                // other devices hear of the sign-in.
                self.signed_out(&device_id, Some(&token_hash));
                self.tell_others(&told);
                Ok(answer)
            }
            HistoryCommand::RenewalStillDue => self.change(SignInLog::renewal_still_due).await,
            HistoryCommand::SignOut { device_id } => {
                let answer = self
                    .change(|log| log.tokens.signed_out(&device_id, now_ms))
                    .await?;
                self.signed_out(&device_id, None);
                Ok(answer)
            }
            HistoryCommand::RecordApp { entry, app } => {
                let told = entry.clone();
                let answer = self
                    .change(|log| log.record_app(entry, app, now_ms))
                    .await?;
                self.tell_others(&told);
                Ok(answer)
            }
            HistoryCommand::Disconnect { grant_id } => {
                self.change(|log| log.disconnect(&grant_id)).await
            }
            HistoryCommand::Used { grant_id, at } => {
                self.change(|log| log.used(&grant_id, at)).await
            }
        }
    }

    async fn alarm(&self) -> Result<Response> {
        let now_ms = Date::now().as_millis();
        self.close_overdue(now_ms);
        self.schedule(now_ms).await?;
        Response::empty()
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        self.receive(ws, message).await
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _reason: String,
        _was_clean: bool,
    ) -> Result<()> {
        objects::sockets::closed_by_client(&ws, code);
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        // The socket is gone; its page reconnects.
        Ok(())
    }

    async fn connect(&self, _socket: Socket) -> Result<()> {
        Err(worker::Error::RustError(
            "an account's history serves no TCP connections".into(),
        ))
    }
}

fn standing(log: &SignInLog, device_id: &str, token_hash: &str, now_ms: u64) -> TokenStanding {
    match log.tokens.held_by(device_id, now_ms) {
        Held::Token { hash, .. } if constant_time_eq(hash.as_bytes(), token_hash.as_bytes()) => {
            TokenStanding::Current
        }
        Held::Token { .. } | Held::SignedOut => TokenStanding::Revoked,
        Held::Unknown => TokenStanding::Unknown,
    }
}

impl SignInHistory {
    /// Answers what `read` makes of the log (an empty one if there is none).
    async fn answer<R: Serialize>(&self, read: impl FnOnce(&SignInLog) -> R) -> Result<Response> {
        let empty = SignInLog::default();
        let answer = self
            .log
            .read(&self.state, |log| read(log.unwrap_or(&empty)))
            .await?;
        Response::from_json(&answer)
    }

    /// Changes the log, stores it, and answers what `change` returned.
    async fn change<R: Serialize>(
        &self,
        change: impl FnOnce(&mut SignInLog) -> R,
    ) -> Result<Response> {
        let mut log = self.log.load(&self.state).await?.unwrap_or_default();
        let answer = change(&mut log);
        // The alarm first: entries stored without one would never be deleted.
        let log_end = log.empty_after_ms();
        if let Some(at_ms) = self.hello_deadlines().into_iter().chain(log_end).min() {
            objects::wake_at(&self.state, at_ms).await?;
        }
        self.log.store(&self.state, &log).await?;
        Response::from_json(&answer)
    }

    /// Forgets the log once it has ended (or if there is none), then wakes at the next moment
    /// something is due: the log's end, a socket's deadline for its first message. With
    /// neither, nothing is left, and the object is gone. A socket that opens on an ended log
    /// still gets its deadline.
    async fn schedule(&self, now_ms: u64) -> Result<()> {
        let log_end = self
            .log
            .read(&self.state, |log| log.and_then(SignInLog::empty_after_ms))
            .await?;
        let log_lasts = log_end.is_some_and(|end_ms| end_ms > now_ms);
        if !log_lasts {
            // Its alarm goes too; a socket still waiting for its first message gets one below.
            self.log.forget(&self.state).await?;
        }
        let log_end = log_end.filter(|_| log_lasts);
        match self.hello_deadlines().into_iter().chain(log_end).min() {
            Some(at_ms) => objects::wake_at(&self.state, at_ms).await,
            None => Ok(()),
        }
    }

    /// Tells the pages of every device but the one that signed in of `entry`.
    fn tell_others(&self, entry: &SignInEntry) {
        let event = AccountEvent::SignIn {
            sign_in: entry.clone(),
        };
        self.tell(|device_id| device_id != entry.device_id, &event);
    }
}

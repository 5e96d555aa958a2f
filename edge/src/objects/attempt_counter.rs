//! The Durable Object of one counted key (a username's failed logins, an address's failed
//! logins, an address's sign-ups): the one writer that admits each attempt before it is judged
//! (`qrgate_protocol::limit`). Like the QR session's object it awaits nothing but its own
//! storage between loading and storing, so concurrent attempts from anywhere are counted one
//! after another. When its last attempt leaves the window, its alarm forgets everything.

use crate::objects::{self, Stored};
use qrgate_protocol::limit::{Admission, Attempts, Window};
use serde::{Deserialize, Serialize};
use worker::{Date, DurableObject, Env, Request, Response, Result, State, durable_object};

#[derive(Debug, Serialize, Deserialize)]
pub enum CounterCommand {
    /// Count an attempt now if the window allows it: answers an [`Admission`].
    Admit(Window),
    /// Take back the attempt admitted at `at_ms`: answers nothing.
    Forgive { at_ms: u64 },
}

/// The key's attempts, with the window they were last counted in.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Counted {
    attempts: Attempts,
    window: Window,
}

/// Only `fetch` and `alarm` are bound: this class takes no socket or connection.
#[cfg_attr(feature = "objects", durable_object(alarm))]
pub struct AttemptCounter {
    state: State,
    counted: Stored<Counted>,
}

#[cfg(feature = "objects")]
impl DurableObject for AttemptCounter {
    fn new(state: State, _env: Env) -> Self {
        Self {
            state,
            counted: Stored::new("counted"),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let now_ms = Date::now().as_millis();
        let command: CounterCommand = objects::command(req).await?;
        let stored = self.counted.load(&self.state).await?;
        match command {
            CounterCommand::Admit(window) => {
                let mut attempts = stored.map(|c| c.attempts).unwrap_or_default();
                let admission = attempts.admit(window, now_ms);
                if let Admission::Admitted { .. } = admission {
                    let counted = Counted { attempts, window };
                    // The alarm first, as in every object: should the store fail, the alarm
                    // finds nothing to delete; the other way round, a count could outlive it.
                    if let Some(at_ms) = counted.attempts.empty_after_ms(window) {
                        objects::wake_at(&self.state, at_ms).await?;
                    }
                    self.counted.store(&self.state, &counted).await?;
                }
                Response::from_json(&admission)
            }
            CounterCommand::Forgive { at_ms } => {
                if let Some(mut counted) = stored {
                    counted.attempts.forgive(at_ms);
                    self.counted.store(&self.state, &counted).await?;
                }
                Response::from_json(&())
            }
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.counted
            .keep_until(&self.state, |c| c.attempts.empty_after_ms(c.window))
            .await?;
        Response::empty()
    }
}

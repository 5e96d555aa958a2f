//! What every Durable Object class here shares: on the Worker's side, sending an object one
//! JSON command and reading its JSON answer; on the object's side, its one stored value (with
//! the copy this instance last read or wrote) and forgetting everything once it is no longer
//! needed, so that the object ceases to exist.

pub mod attempt_counter;
pub mod grant;
pub mod keyring;
pub mod passkey_challenge;
pub mod qr_session;
pub mod sign_in_history;
pub mod sockets;
pub mod username_claim;

use crate::error::{AppError, AppResult};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use wasm_bindgen_futures::JsFuture;
use worker::{Request, Result, ScheduledTime, State, Stub};

/// Sends `command` to the object behind `stub` and reads its answer. A failure to reach the
/// object (overloaded, restarting, its storage failing) is `503`: nothing was changed by it
/// that the next attempt cannot see.
pub async fn call<C: Serialize, R: DeserializeOwned>(stub: &Stub, command: &C) -> AppResult<R> {
    let body = serde_json::to_string(command)?;
    // Built with web-sys's own init: workers-rs's `RequestInit` would link the serializer of
    // every Cloudflare request option (image resizing and all) into the bundle: 6 KiB gzip.
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&body.into());
    // The object reads only the body; the URL just has to be a valid one.
    let request = web_sys::Request::new_with_str_and_init("https://object/", &init)
        .map_err(worker::Error::from)?;
    let request = Request::from(request);
    let response = stub
        .fetch_with_request(request)
        .await
        .map_err(AppError::unavailable)?;
    // Read whole, in one call of the runtime: workers-rs's `Response::json` reads an object's
    // answer chunk by chunk through a stream reader, which took about as much of a refresh's
    // CPU as one of its two signatures (profiled with workerd's inspector).
    let text = web_sys::Response::from(response)
        .text()
        .map_err(worker::Error::from)?;
    let text = JsFuture::from(text)
        .await
        .map_err(|error| AppError::unavailable(worker::Error::from(error)))?;
    serde_json::from_str(&text.as_string().unwrap_or_default()).map_err(AppError::unavailable)
}

/// The object's side of [`call`]: the command a request carries.
pub async fn command<C: DeserializeOwned>(mut req: Request) -> Result<C> {
    req.json().await
}

/// An object's one value, as JSON under one storage key. Storage stays the truth: an evicted
/// or hibernated instance starts with no copy and reads it again.
pub struct Stored<T> {
    key: &'static str,
    copy: RefCell<Option<T>>,
}

impl<T: Clone + Serialize + DeserializeOwned> Stored<T> {
    pub fn new(key: &'static str) -> Self {
        Self {
            key,
            copy: RefCell::new(None),
        }
    }

    pub async fn load(&self, state: &State) -> Result<Option<T>> {
        if let Some(value) = self.copy.borrow().as_ref() {
            return Ok(Some(value.clone()));
        }
        let stored: Option<String> = state.storage().get(self.key).await?;
        let value = stored
            .map(|json| serde_json::from_str::<T>(&json))
            .transpose()?;
        self.copy.replace(value.clone());
        Ok(value)
    }

    /// What `read` makes of the value (or of its absence), without copying it.
    pub async fn read<R>(&self, state: &State, read: impl FnOnce(Option<&T>) -> R) -> Result<R> {
        if self.copy.borrow().is_none() {
            self.load(state).await?;
        }
        Ok(read(self.copy.borrow().as_ref()))
    }

    pub async fn store(&self, state: &State, value: &T) -> Result<()> {
        let json = serde_json::to_string(value)?;
        state.storage().put(self.key, json).await?;
        self.copy.replace(Some(value.clone()));
        Ok(())
    }

    /// What an alarm does with a value that is kept until `until_ms(value)` (when its last
    /// entry expires, if it has any): wakes again then, or, if that has passed, forgets
    /// everything.
    pub async fn keep_until(
        &self,
        state: &State,
        until_ms: impl FnOnce(&T) -> Option<u64>,
    ) -> Result<()> {
        let now_ms = worker::Date::now().as_millis();
        match self.load(state).await?.as_ref().and_then(until_ms) {
            Some(at_ms) if at_ms > now_ms => wake_at(state, at_ms).await,
            _ => self.forget(state).await,
        }
    }

    /// Forgets the value and the alarm: with no storage and no alarm left, the object is gone.
    pub async fn forget(&self, state: &State) -> Result<()> {
        let storage = state.storage();
        storage.delete_alarm().await?;
        storage.delete_all().await?;
        self.copy.replace(None);
        Ok(())
    }
}

/// Wakes the object at `at_ms` (Unix milliseconds), replacing any earlier alarm.
pub async fn wake_at(state: &State, at_ms: u64) -> Result<()> {
    let at = js_sys::Date::new(&(at_ms as f64).into());
    state.storage().set_alarm(ScheduledTime::new(at)).await
}

//! Workers KV, typed: the key schema of accounts and login tokens, the stored
//! records, and the one place every read and write goes through (so each write gets an
//! expiry, and operations can be counted). QR sessions are not here: each lives in its own
//! Durable Object (`objects/qr_session/`). `edge/README.md` explains why.

use crate::error::{AppError, AppResult};
use js_sys::{JSON, Object, Promise, Reflect};
use qrgate_protocol::{Account, DeviceType, Via};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::Env;

/// Workers KV refuses a shorter `expiration_ttl`. Logical expiry is decided from the times
/// stored in each value; the KV TTL only collects garbage.
const MIN_KV_TTL_SECONDS: u64 = 60;

pub mod keys {
    //! Every key the edge writes. Secrets appear only as SHA-256 hashes.

    pub fn account(username: &str) -> String {
        format!("acct:{username}")
    }
    pub fn device(account_id: &str, device_id: &str) -> String {
        format!("dev:{account_id}:{device_id}")
    }
    pub fn devices_of(account_id: &str) -> String {
        format!("dev:{account_id}:")
    }
    pub fn seen(account_id: &str, device_id: &str) -> String {
        format!("seen:{account_id}:{device_id}")
    }
    pub fn seen_of(account_id: &str) -> String {
        format!("seen:{account_id}:")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountRecord {
    pub account: Account,
    /// PBKDF2-HMAC-SHA256, URL-safe base64; both empty for an account made with a passkey
    /// alone, which no password signs in to.
    pub password_salt: String,
    pub password_hash: String,
    pub password_iterations: u32,
    pub created_at: u64,
    /// When the record's expiry was last pushed back (an account lives while it is used).
    pub renewed_at: u64,
}

impl AccountRecord {
    /// The record of an account made at `now` with a passkey alone.
    pub fn passwordless(account: Account, now: u64) -> Self {
        Self {
            account,
            password_salt: String::new(),
            password_hash: String::new(),
            password_iterations: 0,
            created_at: now,
            renewed_at: now,
        }
    }

    pub fn has_password(&self) -> bool {
        !self.password_hash.is_empty()
    }
}

/// The one login token a device holds for an account. Rewriting this key replaces the token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceSessionRecord {
    pub token_hash: String,
    /// The RFC 7638 thumbprint of the key the token is bound to (DPoP), if it is bound.
    #[serde(default)]
    pub dpop_jkt: Option<String>,
    pub account: Account,
    pub device: DeviceSummary,
}

/// What `GET /api/devices` lists; also stored as the key's metadata so one `list` reads all.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceSummary {
    pub device_type: DeviceType,
    pub device_name: String,
    pub created_at: u64,
    pub expires_at: u64,
    pub via: Via,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct LastSeen {
    pub at: u64,
}

/// KV operations this request made, reported in a response header when `KV_COUNT_HEADER` is
/// set, so tests and benchmarks measure cost instead of estimating it.
#[derive(Debug, Default)]
pub struct OpCounts {
    pub reads: Cell<u32>,
    pub writes: Cell<u32>,
    pub lists: Cell<u32>,
    pub deletes: Cell<u32>,
}

impl OpCounts {
    fn bump(cell: &Cell<u32>) {
        cell.set(cell.get() + 1);
    }

    pub fn header_value(&self) -> String {
        format!(
            "reads={}, writes={}, lists={}, deletes={}",
            self.reads.get(),
            self.writes.get(),
            self.lists.get(),
            self.deletes.get()
        )
    }
}

#[wasm_bindgen]
extern "C" {
    /// The Workers KV namespace binding, called as its runtime API is. Not the worker crate's
    /// `KvStore`: that asks KV for each value as a JavaScript object and walks it with
    /// serde-wasm-bindgen (and each list through `serde_json::Value`), a second deserialiser of
    /// every record in the bundle beside `serde_json`'s; here every value and metadata is JSON
    /// text, read by `serde_json` alone.
    type KvNamespace;
    #[wasm_bindgen(method, catch)]
    fn get(this: &KvNamespace, key: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn put(
        this: &KvNamespace,
        key: &str,
        value: &str,
        options: &Object,
    ) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn delete(this: &KvNamespace, key: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn list(this: &KvNamespace, options: &Object) -> Result<Promise, JsValue>;
}

pub struct Store {
    kv: KvNamespace,
    now_ms: u64,
    pub counts: OpCounts,
}

impl Store {
    /// The namespace bound as `binding`.
    pub fn new(env: &Env, binding: &str, now_ms: u64) -> AppResult<Self> {
        let kv = Reflect::get(env.as_ref(), &JsValue::from_str(binding))
            .ok()
            .filter(JsValue::is_object)
            .ok_or_else(|| AppError::Internal(format!("no KV namespace bound as {binding}")))?;
        Ok(Self {
            kv: kv.unchecked_into(),
            now_ms,
            counts: OpCounts::default(),
        })
    }

    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> AppResult<Option<T>> {
        OpCounts::bump(&self.counts.reads);
        match settled(self.kv.get(key)).await?.as_string() {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text).map(Some).map_err(kv_failed),
        }
    }

    /// Writes `value` to be collected at `expires_at` (Unix seconds), or after KV's minimum
    /// TTL if that comes sooner; the record's own times decide when it stops counting.
    pub async fn put<T: Serialize>(&self, key: &str, value: &T, expires_at: u64) -> AppResult<()> {
        OpCounts::bump(&self.counts.writes);
        let options = self.put_options(expires_at)?;
        settled(self.kv.put(key, &serde_json::to_string(value)?, &options)).await?;
        Ok(())
    }

    /// Like [`Store::put`], with `metadata` that [`Store::list`] returns without a read per key.
    pub async fn put_listed<T: Serialize, M: Serialize>(
        &self,
        key: &str,
        value: &T,
        metadata: &M,
        expires_at: u64,
    ) -> AppResult<()> {
        OpCounts::bump(&self.counts.writes);
        let options = self.put_options(expires_at)?;
        let metadata = JSON::parse(&serde_json::to_string(metadata)?).map_err(kv_failed)?;
        set(&options, "metadata", &metadata)?;
        settled(self.kv.put(key, &serde_json::to_string(value)?, &options)).await?;
        Ok(())
    }

    pub async fn delete(&self, key: &str) -> AppResult<()> {
        OpCounts::bump(&self.counts.deletes);
        settled(self.kv.delete(key)).await?;
        Ok(())
    }

    /// Every key under `prefix` with its metadata, in key order. A key whose metadata does not
    /// parse is skipped: it can only be a record of an older shape, soon collected.
    pub async fn list<M: DeserializeOwned>(&self, prefix: &str) -> AppResult<Vec<(String, M)>> {
        let mut found = Vec::new();
        let mut cursor = None;
        loop {
            OpCounts::bump(&self.counts.lists);
            let options = Object::new();
            set(&options, "prefix", &JsValue::from_str(prefix))?;
            if let Some(cursor) = cursor.take() {
                set(&options, "cursor", &cursor)?;
            }
            let page = settled(self.kv.list(&options)).await?;
            let keys = member(&page, "keys")?;
            for key in js_sys::Array::from(&keys).iter() {
                let name = member(&key, "name")?.as_string();
                let metadata = member(&key, "metadata")?;
                let metadata = JSON::stringify(&metadata)
                    .ok()
                    .and_then(|text| text.as_string())
                    .and_then(|text| serde_json::from_str(&text).ok());
                if let (Some(name), Some(metadata)) = (name, metadata) {
                    found.push((name, metadata));
                }
            }
            let complete = member(&page, "list_complete")?.as_bool().unwrap_or(true);
            match member(&page, "cursor")?.as_string() {
                Some(next) if !complete && !next.is_empty() => cursor = Some(next.into()),
                _ => return Ok(found),
            }
        }
    }

    fn put_options(&self, expires_at: u64) -> AppResult<Object> {
        let options = Object::new();
        let ttl = self.ttl_until(expires_at) as f64;
        set(&options, "expirationTtl", &JsValue::from_f64(ttl))?;
        Ok(options)
    }

    fn ttl_until(&self, expires_at: u64) -> u64 {
        let now = self.now_ms / 1000;
        expires_at.saturating_sub(now).max(MIN_KV_TTL_SECONDS)
    }
}

/// What a KV call's promise settles to; a call that throws or rejects is `503`.
async fn settled(call: Result<Promise, JsValue>) -> AppResult<JsValue> {
    JsFuture::from(call.map_err(kv_failed)?)
        .await
        .map_err(kv_failed)
}

fn member(object: &JsValue, name: &str) -> AppResult<JsValue> {
    Reflect::get(object, &JsValue::from_str(name)).map_err(kv_failed)
}

fn set(object: &Object, name: &str, value: &JsValue) -> AppResult<()> {
    Reflect::set(object, &JsValue::from_str(name), value)
        .map(|_| ())
        .map_err(kv_failed)
}

fn kv_failed(error: impl std::fmt::Debug) -> AppError {
    AppError::Unavailable(format!("kv: {error:?}"))
}

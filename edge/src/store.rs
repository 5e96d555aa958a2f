//! Workers KV, typed: the key schema of accounts and login tokens, the stored
//! records, and the one place every read and write goes through (so each write gets an
//! expiry, and operations can be counted). QR sessions are not here: each lives in its own
//! Durable Object (`objects/qr_session/`). `edge/README.md` explains why.

use crate::error::AppResult;
use qrgate_protocol::{Account, DeviceType, Via};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use worker::kv::KvStore;

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
    /// PBKDF2-HMAC-SHA256, URL-safe base64.
    pub password_salt: String,
    pub password_hash: String,
    pub password_iterations: u32,
    pub created_at: u64,
    /// When the record's expiry was last pushed back (an account lives while it is used).
    pub renewed_at: u64,
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

pub struct Store {
    kv: KvStore,
    now_ms: u64,
    pub counts: OpCounts,
}

impl Store {
    pub fn new(kv: KvStore, now_ms: u64) -> Self {
        Self {
            kv,
            now_ms,
            counts: OpCounts::default(),
        }
    }

    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> AppResult<Option<T>> {
        OpCounts::bump(&self.counts.reads);
        Ok(self.kv.get(key).json::<T>().await?)
    }

    /// Writes `value` to be collected at `expires_at` (Unix seconds), or after KV's minimum
    /// TTL if that comes sooner; the record's own times decide when it stops counting.
    pub async fn put<T: Serialize>(&self, key: &str, value: &T, expires_at: u64) -> AppResult<()> {
        OpCounts::bump(&self.counts.writes);
        self.kv
            .put(key, serde_json::to_string(value)?)?
            .expiration_ttl(self.ttl_until(expires_at))
            .execute()
            .await?;
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
        self.kv
            .put(key, serde_json::to_string(value)?)?
            .metadata(metadata)?
            .expiration_ttl(self.ttl_until(expires_at))
            .execute()
            .await?;
        Ok(())
    }

    pub async fn delete(&self, key: &str) -> AppResult<()> {
        OpCounts::bump(&self.counts.deletes);
        Ok(self.kv.delete(key).await?)
    }

    /// Every key under `prefix` with its metadata, in key order. A key whose metadata does not
    /// parse is skipped: it can only be a record of an older shape, soon collected.
    pub async fn list<M: DeserializeOwned>(&self, prefix: &str) -> AppResult<Vec<(String, M)>> {
        let mut found = Vec::new();
        let mut cursor = None;
        loop {
            OpCounts::bump(&self.counts.lists);
            let mut request = self.kv.list().prefix(prefix.to_owned());
            if let Some(cursor) = cursor.take() {
                request = request.cursor(cursor);
            }
            let page = request.execute().await?;
            for key in page.keys {
                let metadata = key.metadata.and_then(|m| serde_json::from_value(m).ok());
                if let Some(metadata) = metadata {
                    found.push((key.name, metadata));
                }
            }
            match page.cursor {
                Some(next) if !page.list_complete && !next.is_empty() => cursor = Some(next),
                _ => return Ok(found),
            }
        }
    }

    fn ttl_until(&self, expires_at: u64) -> u64 {
        let now = self.now_ms / 1000;
        expires_at.saturating_sub(now).max(MIN_KV_TTL_SECONDS)
    }
}

//! The sign-in history of one account (`shared/API.md`, "Sign-in history"): every password and
//! QR sign-in, newest first, at most 50, each kept 90 days. One writer (the account's Durable
//! Object) holds the [`SignInLog`], so sign-ins are listed in the order they were recorded,
//! even within one second, wherever they happened. `now` is passed in.
//!
//! Being the one place that sees every sign-in of its account, the log also says when the
//! account is due its renewal (at most once a day), so that no sign-in has to read the
//! account's record only to find that it is not.

use crate::SignInEntry;
use serde::{Deserialize, Serialize};

/// How many sign-ins an account keeps.
pub const MAX_SIGN_INS: usize = 50;
/// How long a sign-in is kept.
pub const KEEP_MS: u64 = 90 * 24 * 3600 * 1000;
/// An account in use is renewed at most this often.
pub const RENEWAL_INTERVAL_SECONDS: u64 = 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Recorded {
    at_ms: u64,
    entry: SignInEntry,
}

/// An account's sign-ins, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInLog {
    recorded: Vec<Recorded>,
    /// When a sign-in was last told that its account is due a renewal. Absent in logs stored
    /// before it was kept: their next sign-in is told.
    #[serde(default)]
    renewal_due_at_ms: Option<u64>,
}

impl SignInLog {
    /// Records a sign-in that happened now, ahead of every earlier one, and says whether its
    /// account is due a renewal: if no sign-in was told so in the last day. Told once; the
    /// renewal is the caller's, and one that fails is tried again a day later.
    pub fn record(&mut self, entry: SignInEntry, now_ms: u64) -> bool {
        self.recorded.insert(
            0,
            Recorded {
                at_ms: now_ms,
                entry,
            },
        );
        self.forget_old(now_ms);
        let renewal_due = self
            .renewal_due_at_ms
            .is_none_or(|told_ms| now_ms >= told_ms + RENEWAL_INTERVAL_SECONDS * 1000);
        if renewal_due {
            self.renewal_due_at_ms = Some(now_ms);
        }
        renewal_due
    }

    /// The sign-ins still kept, newest first.
    pub fn list(&self, now_ms: u64) -> Vec<SignInEntry> {
        self.recorded
            .iter()
            .filter(|r| now_ms < r.at_ms + KEEP_MS)
            .map(|r| r.entry.clone())
            .collect()
    }

    /// When the newest sign-in stops being kept, after which nothing is left.
    pub fn empty_after_ms(&self) -> Option<u64> {
        self.recorded.first().map(|newest| newest.at_ms + KEEP_MS)
    }

    fn forget_old(&mut self, now_ms: u64) {
        self.recorded.truncate(MAX_SIGN_INS);
        self.recorded.retain(|r| now_ms < r.at_ms + KEEP_MS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DeviceType, Via};

    const T0: u64 = 1_700_000_000_000;

    fn entry(device: &str) -> SignInEntry {
        SignInEntry {
            at: T0 / 1000,
            device_id: device.into(),
            device_type: DeviceType::Pc,
            device_name: "Chromium on Linux".into(),
            via: Via::Qr,
            country: Some("DE".into()),
            city: None,
            network: None,
        }
    }

    fn devices(log: &SignInLog, now_ms: u64) -> Vec<String> {
        log.list(now_ms).into_iter().map(|e| e.device_id).collect()
    }

    #[test]
    fn newest_first_even_within_one_second() {
        let mut log = SignInLog::default();
        log.record(entry("a"), T0);
        log.record(entry("b"), T0);
        log.record(entry("c"), T0 + 1);
        assert_eq!(devices(&log, T0 + 2), ["c", "b", "a"]);
    }

    #[test]
    fn at_most_fifty_are_kept() {
        let mut log = SignInLog::default();
        for i in 0..60 {
            log.record(entry(&i.to_string()), T0 + i);
        }
        let listed = devices(&log, T0 + 100);
        assert_eq!(listed.len(), MAX_SIGN_INS);
        assert_eq!(listed.first().map(String::as_str), Some("59"));
        assert_eq!(listed.last().map(String::as_str), Some("10"));
    }

    #[test]
    fn each_is_kept_ninety_days() {
        let mut log = SignInLog::default();
        log.record(entry("old"), T0);
        log.record(entry("new"), T0 + KEEP_MS / 2);
        assert_eq!(devices(&log, T0 + KEEP_MS - 1), ["new", "old"]);
        assert_eq!(devices(&log, T0 + KEEP_MS), ["new"]);
        assert_eq!(log.empty_after_ms(), Some(T0 + KEEP_MS / 2 + KEEP_MS));
        log.record(entry("newer"), T0 + KEEP_MS + 1);
        assert_eq!(
            log.recorded.len(),
            2,
            "the old one is forgotten when the log is written"
        );
    }

    #[test]
    fn a_renewal_is_due_once_a_day_however_often_the_account_signs_in() {
        let day_ms = RENEWAL_INTERVAL_SECONDS * 1000;
        let mut log = SignInLog::default();
        assert!(log.record(entry("a"), T0), "the first sign-in");
        assert!(!log.record(entry("b"), T0 + 1));
        // Sign-ins every 12 hours: not every one is due, yet the account is renewed daily.
        assert!(!log.record(entry("c"), T0 + day_ms / 2));
        assert!(log.record(entry("d"), T0 + day_ms));
        assert!(!log.record(entry("e"), T0 + day_ms + day_ms / 2));
        assert!(log.record(entry("f"), T0 + 2 * day_ms));
    }

    #[test]
    fn a_log_stored_before_renewals_were_kept_is_due_at_its_next_sign_in() {
        let mut log: SignInLog = serde_json::from_str(r#"{"recorded":[]}"#).unwrap();
        assert!(log.record(entry("a"), T0));
    }
}

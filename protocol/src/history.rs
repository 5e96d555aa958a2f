//! The sign-in history of one account (`shared/API.md`, "Sign-in history"): every password and
//! QR sign-in, newest first, at most 50, each kept 90 days. One writer (the account's Durable
//! Object) holds the [`SignInLog`], so sign-ins are listed in the order they were recorded,
//! even within one second, wherever they happened. `now` is passed in.
//!
//! Being the one place that sees every sign-in of its account, the log also says when the
//! account is due its renewal (at most once a day), so that no sign-in has to read the
//! account's record only to find that it is not; and it lists the apps the account is
//! connected to (`GET /api/grants`), each listed by the sign-in that made its grant.

use crate::SignInEntry;
use crate::device_tokens::DeviceTokens;
use crate::oauth::GrantEntry;
use serde::{Deserialize, Serialize};

/// How many sign-ins an account keeps.
pub const MAX_SIGN_INS: usize = 50;
/// How long a sign-in is kept.
pub const KEEP_MS: u64 = 90 * 24 * 3600 * 1000;
/// An account in use is renewed at most this often.
pub const RENEWAL_INTERVAL_SECONDS: u64 = 24 * 3600;
/// The most apps an account may be connected to at once: a further sign-in to an app is
/// refused until one is removed, rather than hide a connection from the list.
pub const MAX_CONNECTED_APPS: usize = 100;

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
    /// The grants of apps the account signed in to, oldest first.
    #[serde(default)]
    apps: Vec<ConnectedApp>,
    /// The token each device holds, which the log's object is the authority on.
    #[serde(default)]
    pub tokens: DeviceTokens,
}

/// An app the account is connected to: one grant, until it expires or is revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedApp {
    pub entry: GrantEntry,
    /// When the grant expires (its refresh tokens' end), after which it is no longer listed.
    pub expires_at_ms: u64,
}

/// What recording a sign-in came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordOutcome {
    /// Recorded; whether the account is due its renewal.
    Done { renewal_due: bool },
    /// A sign-in to an app, refused: the account is connected to [`MAX_CONNECTED_APPS`].
    TooManyApps,
}

impl SignInLog {
    /// Records a sign-in that happened now, ahead of every earlier one, and says whether its
    /// account is due a renewal: if no sign-in was told so in the last day. Told once; the
    /// renewal is the caller's, and one that fails is tried again a day later.
    pub fn record(&mut self, entry: SignInEntry, now_ms: u64) -> bool {
        self.forget_old(now_ms);
        self.recorded.insert(
            0,
            Recorded {
                at_ms: now_ms,
                entry,
            },
        );
        self.recorded.truncate(MAX_SIGN_INS);
        let renewal_due = self
            .renewal_due_at_ms
            .is_none_or(|told_ms| now_ms >= told_ms + RENEWAL_INTERVAL_SECONDS * 1000);
        if renewal_due {
            self.renewal_due_at_ms = Some(now_ms);
        }
        renewal_due
    }

    /// The renewal the last sign-in was told of did not happen: the next sign-in is told.
    pub fn renewal_still_due(&mut self) {
        self.renewal_due_at_ms = None;
    }

    /// The sign-ins still kept, newest first.
    pub fn list(&self, now_ms: u64) -> Vec<SignInEntry> {
        self.recorded
            .iter()
            .filter(|r| now_ms < r.at_ms + KEEP_MS)
            .map(|r| r.entry.clone())
            .collect()
    }

    /// Records a sign-in to an app, whose grant `app` is, and lists the app; refused when the
    /// account is connected to too many apps already.
    pub fn record_app(
        &mut self,
        entry: SignInEntry,
        app: ConnectedApp,
        now_ms: u64,
    ) -> RecordOutcome {
        self.forget_old(now_ms);
        if self.apps.len() >= MAX_CONNECTED_APPS {
            return RecordOutcome::TooManyApps;
        }
        self.apps.push(app);
        RecordOutcome::Done {
            renewal_due: self.record(entry, now_ms),
        }
    }

    /// The apps connected now, newest first.
    pub fn apps(&self, now_ms: u64) -> Vec<GrantEntry> {
        self.apps
            .iter()
            .rev()
            .filter(|app| now_ms < app.expires_at_ms)
            .map(|app| app.entry.clone())
            .collect()
    }

    /// Takes a grant off the list (revoked, or its code never redeemed): whether it was on it.
    pub fn disconnect(&mut self, grant_id: &str) -> bool {
        let listed = self.apps.len();
        self.apps.retain(|app| app.entry.grant_id != grant_id);
        self.apps.len() < listed
    }

    /// Notes that a grant was used at `at` (Unix seconds).
    pub fn used(&mut self, grant_id: &str, at: u64) {
        for app in self
            .apps
            .iter_mut()
            .filter(|app| app.entry.grant_id == grant_id)
        {
            app.entry.last_used_at = app.entry.last_used_at.max(at);
        }
    }

    /// When the last thing kept goes (the newest sign-in, the last app's grant, or the last
    /// device's token), after which nothing is left.
    pub fn empty_after_ms(&self) -> Option<u64> {
        let newest_sign_in = self.recorded.first().map(|newest| newest.at_ms + KEEP_MS);
        let last_app = self.apps.iter().map(|app| app.expires_at_ms).max();
        newest_sign_in.max(last_app).max(self.tokens.until_ms())
    }

    fn forget_old(&mut self, now_ms: u64) {
        self.recorded.retain(|r| now_ms < r.at_ms + KEEP_MS);
        self.apps.retain(|app| now_ms < app.expires_at_ms);
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
            client_id: None,
            client_name: None,
        }
    }

    fn app(grant_id: &str, expires_at_ms: u64) -> ConnectedApp {
        ConnectedApp {
            entry: GrantEntry {
                grant_id: grant_id.into(),
                client_id: "app".into(),
                client_name: "App".into(),
                scope: vec!["openid".into()],
                created_at: T0 / 1000,
                last_used_at: T0 / 1000,
            },
            expires_at_ms,
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
    fn a_renewal_that_did_not_happen_is_due_at_the_next_sign_in() {
        let mut log = SignInLog::default();
        assert!(log.record(entry("a"), T0));
        log.renewal_still_due();
        assert!(log.record(entry("b"), T0 + 1));
        assert!(!log.record(entry("c"), T0 + 2));
    }

    #[test]
    fn a_log_stored_before_renewals_were_kept_is_due_at_its_next_sign_in() {
        let mut log: SignInLog = serde_json::from_str(r#"{"recorded":[]}"#).unwrap();
        assert!(log.record(entry("a"), T0));
    }

    #[test]
    fn an_app_sign_in_lists_the_app_until_its_grant_expires_or_is_removed() {
        let mut log = SignInLog::default();
        let outcome = log.record_app(entry("pc"), app("g1", T0 + 1000), T0);
        assert_eq!(outcome, RecordOutcome::Done { renewal_due: true });
        log.record_app(entry("pc"), app("g2", T0 + 2000), T0 + 1);
        let listed = |log: &SignInLog, now| -> Vec<String> {
            log.apps(now).into_iter().map(|a| a.grant_id).collect()
        };
        assert_eq!(listed(&log, T0 + 2), ["g2", "g1"]);
        assert_eq!(listed(&log, T0 + 1000), ["g2"]);
        assert!(log.disconnect("g2"));
        assert!(!log.disconnect("g2"));
        assert!(listed(&log, T0 + 2).contains(&"g1".to_owned()));
        assert_eq!(
            devices(&log, T0 + 2).len(),
            2,
            "both sign-ins are in the history"
        );
    }

    #[test]
    fn uses_move_last_used_forward_only() {
        let mut log = SignInLog::default();
        log.record_app(entry("pc"), app("g1", T0 + KEEP_MS), T0);
        log.used("g1", T0 / 1000 + 50);
        log.used("g1", T0 / 1000 + 10);
        assert_eq!(log.apps(T0)[0].last_used_at, T0 / 1000 + 50);
    }

    #[test]
    fn the_log_lasts_as_long_as_its_newest_sign_in_or_its_last_app() {
        let mut log = SignInLog::default();
        log.record_app(entry("pc"), app("g1", T0 + 2 * KEEP_MS), T0);
        assert_eq!(log.empty_after_ms(), Some(T0 + 2 * KEEP_MS));
    }

    #[test]
    fn at_most_a_hundred_apps_are_connected_at_once() {
        let mut log = SignInLog::default();
        for i in 0..MAX_CONNECTED_APPS {
            let outcome = log.record_app(entry("pc"), app(&i.to_string(), T0 + 10), T0);
            assert!(matches!(outcome, RecordOutcome::Done { .. }));
        }
        assert_eq!(
            log.record_app(entry("pc"), app("one more", T0 + 10), T0),
            RecordOutcome::TooManyApps
        );
        // Once they expire, there is room again.
        assert!(matches!(
            log.record_app(entry("pc"), app("later", T0 + 100), T0 + 10),
            RecordOutcome::Done { .. }
        ));
    }
}

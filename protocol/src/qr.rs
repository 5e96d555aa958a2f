//! The QR-session state machine.
//!
//! A session has one writer: its own Durable Object, which holds a [`QrSession`], asks it
//! whether each step is allowed with `now` passed in, stores the result and tells the PC's
//! live sockets. Because nothing else writes a session, its stage is stored as it is, and
//! every step is a plain check-and-update of that one value. No clock, no I/O and no randomness
//! here: secrets arrive as hashes, or as "did the presented one match", so the edge keeps the
//! hashing and the constant-time comparisons and this file keeps the rules of `shared/API.md`.

use crate::oauth::ClientInfo;
use crate::oauth::authorize::AuthorizationRequest;
use crate::oauth::clients::RedirectUri;
use crate::oauth::device::ForDevice;
use crate::{Account, DeviceType, PcInfo, QrStatus};
use serde::{Deserialize, Serialize};

/// How long after the confirmation the PC may still pick up its token, even past expiry.
pub const PICKUP_WINDOW_MS: u64 = 60_000;
/// How long after the last possible pick-up a session still answers (decided sessions keep
/// reading as decided) before it is collected and its id is unknown (`404`).
pub const COLLECTION_DELAY_MS: u64 = 60_000;

/// `expires_at` for a session created at `created_ms` that lives `ttl_seconds`: creation time
/// plus the lifetime, rounded up to a whole second.
pub fn expires_at(created_ms: u64, ttl_seconds: u64) -> u64 {
    (created_ms + ttl_seconds * 1000).div_ceil(1000)
}

/// The phone that scanned: the account it is signed in to and its device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scanner {
    pub account: Account,
    pub device_id: String,
}

impl Scanner {
    /// The same account on the same device. The account's names are not compared: they may
    /// have been read at different moments.
    fn is(&self, other: &Scanner) -> bool {
        self.account.account_id == other.account.account_id && self.device_id == other.device_id
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Confirmed,
    Denied,
}

/// The PC that created the session: what authenticates its polls, and what the phone is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Creator {
    /// Lower case, as [`crate::validate::device_id`] normalises it. `None` for a session the
    /// edge made for a page it served, whose device it could not know: the first poll or
    /// cancel that presents the poll secret claims it ([`Creator::claim`]).
    pub device_id: Option<String>,
    /// SHA-256 of the poll secret; the secret itself is known to the PC only.
    pub poll_secret_hash: String,
    /// The RFC 7638 thumbprint of the key whose DPoP proof created the session, if one did:
    /// its polls must prove the same key, and the PC's token is bound to it.
    #[serde(default)]
    pub dpop_jkt: Option<String>,
    pub info: PcInfo,
}

impl Creator {
    /// Whether a request with these device headers may be the creating PC (the poll secret is
    /// checked separately, in constant time).
    pub fn is_device(&self, device_id: &str, device_type: DeviceType) -> bool {
        self.device_id.as_deref() == Some(device_id) && self.info.device_type == device_type
    }

    /// Binds a session that no device has claimed yet to the device of the request presenting
    /// its poll secret (checked by the caller), and to the key of its DPoP proof if it carried
    /// one: from then on the session is as if that request had created it. Whether it did; a
    /// claimed session, or a device of another type than the page was made for, is not bound.
    pub fn claim(
        &mut self,
        device_id: &str,
        device_type: DeviceType,
        dpop_jkt: Option<String>,
    ) -> bool {
        if self.device_id.is_some() || self.info.device_type != device_type {
            return false;
        }
        self.device_id = Some(device_id.to_owned());
        self.dpop_jkt = dpop_jkt;
        true
    }
}

/// Where a session is. `Decided` keeps the deciding phone's account: the PC is signed in as
/// exactly that account, or not at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    Pending,
    Scanned {
        scanner: Scanner,
        /// SHA-256 of the latest scan token: a rescan by the same phone replaces it.
        scan_token_hash: String,
    },
    Decided {
        verdict: Verdict,
        scanner: Scanner,
        decided_at_ms: u64,
        /// The PC has been handed its login token.
        picked_up: bool,
    },
    Cancelled,
}

/// One QR session, whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrSession {
    pub pc: Creator,
    /// Unix seconds; the session is live while `now` is before it.
    pub expires_at: u64,
    pub stage: Stage,
    /// Who the session signs the person in to.
    #[serde(default)]
    pub audience: Audience,
    /// The edge's settings it was made under.
    #[serde(default)]
    pub rules: SessionRules,
}

/// The edge's settings a session keeps from its making, so that its object needs none of its
/// own: the object may run in another Worker, which has no `[vars]` of the edge's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRules {
    /// The `interval` its polls and pushes answer (`POLL_INTERVAL_SECONDS`).
    pub interval: u64,
    /// `REQUIRE_DPOP`: the page's session is claimed only with a proof, as a session is then
    /// created only with one.
    pub key_required: bool,
}

impl Default for SessionRules {
    /// The edge's defaults, for a session stored before its rules were.
    fn default() -> Self {
        Self {
            interval: 1,
            key_required: false,
        }
    }
}

/// Who a QR session signs the person in to: the PC itself, into qrgate; or, for a session made
/// for an app's authorization request, that app (the PC is handed the redirect with its code);
/// or, for a device without a browser (RFC 8628), that device (which takes its tokens at the
/// token endpoint).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Audience {
    #[default]
    Qrgate,
    App(ForApp),
    Device(ForDevice),
}

impl Audience {
    /// The app, for a session made for an authorization request.
    pub fn app(&self) -> Option<&ForApp> {
        match self {
            Self::App(app) => Some(app),
            _ => None,
        }
    }
}

/// An app's authorization request that a session was made for, as checked, and the app's name
/// as registered then: what the phone is shown, and what the code will be bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForApp {
    pub request: AuthorizationRequest,
    pub client_name: String,
}

impl ForApp {
    /// What the phone is told of the app before it confirms.
    pub fn client_info(&self) -> ClientInfo {
        let redirect_origin = RedirectUri::parse(&self.request.redirect_uri)
            .map(|uri| uri.origin())
            .unwrap_or_default();
        ClientInfo {
            client_id: self.request.client_id.clone(),
            client_name: self.client_name.clone(),
            redirect_origin,
        }
    }
}

/// What a device's poll comes to ([`QrSession::device_poll`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DevicePoll {
    /// `authorization_pending`.
    Pending,
    /// `slow_down`.
    SlowDown,
    /// `access_denied`.
    Denied,
    /// `expired_token`.
    Expired,
    /// `invalid_grant`: handed over already, or no device's session.
    Gone,
    /// The tokens, now and once.
    Confirmed(Confirmation),
}

/// A confirmation picked up: the account that confirmed, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub account: Account,
    pub at_ms: u64,
}

/// Why a step is refused, in the contract's order of checks: state first (`410` past the
/// lifetime, `409` wrong state), then who presents the scan token (`403`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepError {
    Expired,
    Conflict,
    Forbidden,
}

impl QrSession {
    pub fn new(pc: Creator, expires_at: u64, audience: Audience, rules: SessionRules) -> Self {
        Self {
            pc,
            expires_at,
            stage: Stage::Pending,
            audience,
            rules,
        }
    }

    pub fn status(&self, now_ms: u64) -> QrStatus {
        match &self.stage {
            Stage::Decided { verdict, .. } => match verdict {
                Verdict::Confirmed => QrStatus::Confirmed,
                Verdict::Denied => QrStatus::Denied,
            },
            Stage::Cancelled => QrStatus::Cancelled,
            _ if self.past_lifetime(now_ms) => QrStatus::Expired,
            Stage::Scanned { .. } => QrStatus::Scanned,
            Stage::Pending => QrStatus::Pending,
        }
    }

    /// `pending` → `scanned`, or a reload by the phone that already scanned, which replaces
    /// the scan token. Returns whether the status changed (a reload changes nothing the PC
    /// sees, so nothing is pushed).
    pub fn scan(
        &mut self,
        phone: Scanner,
        scan_token_hash: String,
        now_ms: u64,
    ) -> Result<bool, StepError> {
        self.check_undecided(now_ms)?;
        let changed = match &self.stage {
            Stage::Scanned { scanner, .. } if !scanner.is(&phone) => {
                return Err(StepError::Conflict);
            }
            Stage::Scanned { .. } => false,
            _ => true,
        };
        self.stage = Stage::Scanned {
            scanner: phone,
            scan_token_hash,
        };
        Ok(changed)
    }

    /// The hash of the latest scan token, for the edge to compare in constant time.
    pub fn scan_token_hash(&self) -> Option<&str> {
        match &self.stage {
            Stage::Scanned {
                scan_token_hash, ..
            } => Some(scan_token_hash),
            _ => None,
        }
    }

    /// `scanned` → `confirmed` or `denied`, by the phone that scanned with its latest token.
    pub fn decide(
        &mut self,
        phone: &Scanner,
        scan_token_matches: bool,
        verdict: Verdict,
        now_ms: u64,
    ) -> Result<(), StepError> {
        self.check_undecided(now_ms)?;
        let Stage::Scanned { scanner, .. } = &self.stage else {
            return Err(StepError::Conflict);
        };
        if !(scanner.is(phone) && scan_token_matches) {
            return Err(StepError::Forbidden);
        }
        self.stage = Stage::Decided {
            verdict,
            scanner: scanner.clone(),
            decided_at_ms: now_ms,
            picked_up: false,
        };
        Ok(())
    }

    /// `pending` or `scanned` → `cancelled`, by the PC.
    pub fn cancel(&mut self, now_ms: u64) -> Result<(), StepError> {
        self.check_undecided(now_ms)?;
        self.stage = Stage::Cancelled;
        Ok(())
    }

    /// Hands the PC its token (or, for an app, its code), once: the account to mint it for and
    /// when it confirmed, if the session is confirmed, not yet picked up, and within the pick-up
    /// window after the confirmation.
    pub fn pick_up(&mut self, now_ms: u64) -> Option<Confirmation> {
        match &mut self.stage {
            Stage::Decided {
                verdict: Verdict::Confirmed,
                scanner,
                decided_at_ms,
                picked_up: picked_up @ false,
            } if now_ms <= *decided_at_ms + PICKUP_WINDOW_MS => {
                *picked_up = true;
                Some(Confirmation {
                    account: scanner.account.clone(),
                    at_ms: *decided_at_ms,
                })
            }
            _ => None,
        }
    }

    /// A device's poll at the token endpoint (RFC 8628 §3.5): too soon after its last (the
    /// interval then grows), still waiting for the phone, denied, past its lifetime, or, once,
    /// the confirmation to issue tokens for. A confirmation already handed over is gone
    /// (`invalid_grant`), and one not taken within the pick-up window has expired.
    pub fn device_poll(&mut self, now_ms: u64) -> DevicePoll {
        let Audience::Device(device) = &mut self.audience else {
            return DevicePoll::Gone;
        };
        if device.too_soon(now_ms) {
            return DevicePoll::SlowDown;
        }
        match self.status(now_ms) {
            QrStatus::Pending | QrStatus::Scanned => DevicePoll::Pending,
            QrStatus::Denied | QrStatus::Cancelled => DevicePoll::Denied,
            QrStatus::Expired => DevicePoll::Expired,
            QrStatus::Confirmed => match &self.stage {
                Stage::Decided { decided_at_ms, .. }
                    if now_ms > *decided_at_ms + PICKUP_WINDOW_MS =>
                {
                    DevicePoll::Expired
                }
                _ => self
                    .pick_up(now_ms)
                    .map_or(DevicePoll::Gone, DevicePoll::Confirmed),
            },
        }
    }

    /// Undoes [`QrSession::pick_up`] when the token it allowed could not be stored, so that
    /// the PC's next poll can try again. Only the poll that picked up calls this, and no other
    /// poll can pick up in between, so it never undoes a pick-up that handed a token out.
    pub fn release_pick_up(&mut self) {
        if let Stage::Decided { picked_up, .. } = &mut self.stage {
            *picked_up = false;
        }
    }

    /// When the session is collected: after the last moment a confirmation can be picked up,
    /// plus a minute in which a decided session still reads as decided.
    pub fn collect_at_ms(&self) -> u64 {
        self.expires_at * 1000 + PICKUP_WINDOW_MS + COLLECTION_DELAY_MS
    }

    /// When the session's object must next look at it without being asked: at `expires_at`
    /// while it is undecided (to push `expired`), otherwise when it is collected.
    pub fn next_wake_ms(&self, now_ms: u64) -> u64 {
        match self.status(now_ms) {
            QrStatus::Pending | QrStatus::Scanned => self.expires_at * 1000,
            _ => self.collect_at_ms(),
        }
    }

    fn check_undecided(&self, now_ms: u64) -> Result<(), StepError> {
        match self.status(now_ms) {
            QrStatus::Pending | QrStatus::Scanned => Ok(()),
            QrStatus::Expired => Err(StepError::Expired),
            QrStatus::Confirmed | QrStatus::Denied | QrStatus::Cancelled => {
                Err(StepError::Conflict)
            }
        }
    }

    fn past_lifetime(&self, now_ms: u64) -> bool {
        now_ms >= self.expires_at * 1000
    }
}

/// Whether a status is final: nothing but collection follows it, so the live channel closes
/// after pushing it.
pub fn is_final(status: QrStatus) -> bool {
    !matches!(status, QrStatus::Pending | QrStatus::Scanned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPIRES_AT: u64 = 1_700_000_120;
    const LIVE: u64 = EXPIRES_AT * 1000 - 1;
    const DEAD: u64 = EXPIRES_AT * 1000;

    fn phone(account: &str, device: &str) -> Scanner {
        Scanner {
            account: Account {
                account_id: account.into(),
                username: account.into(),
                display_name: account.into(),
            },
            device_id: device.into(),
        }
    }

    fn pending() -> QrSession {
        QrSession::new(
            Creator {
                device_id: Some("pc-1".into()),
                poll_secret_hash: "poll-hash".into(),
                dpop_jkt: None,
                info: PcInfo {
                    device_type: DeviceType::Pc,
                    device_name: "Chromium on Linux".into(),
                    created_at: EXPIRES_AT - 120,
                    country: None,
                    city: None,
                    network: None,
                },
            },
            EXPIRES_AT,
            Audience::Qrgate,
            SessionRules::default(),
        )
    }

    fn scanned() -> QrSession {
        let mut session = pending();
        session
            .scan(phone("ann", "phone-1"), "scan-1".into(), LIVE)
            .unwrap();
        session
    }

    fn decided(verdict: Verdict, decided_at_ms: u64) -> QrSession {
        let mut session = scanned();
        session
            .decide(&phone("ann", "phone-1"), true, verdict, decided_at_ms)
            .unwrap();
        session
    }

    fn cancelled(mut session: QrSession) -> QrSession {
        session.cancel(LIVE).unwrap();
        session
    }

    #[test]
    fn expires_at_rounds_up_to_whole_seconds() {
        assert_eq!(expires_at(1_000_000, 120), 1_120);
        assert_eq!(expires_at(1_000_001, 120), 1_121);
        assert_eq!(expires_at(1_000_999, 2), 1_003);
    }

    #[test]
    fn status_of_each_state() {
        assert_eq!(pending().status(LIVE), QrStatus::Pending);
        assert_eq!(scanned().status(LIVE), QrStatus::Scanned);
        assert_eq!(
            decided(Verdict::Confirmed, LIVE).status(LIVE),
            QrStatus::Confirmed
        );
        assert_eq!(
            decided(Verdict::Denied, LIVE).status(LIVE),
            QrStatus::Denied
        );
        assert_eq!(cancelled(pending()).status(LIVE), QrStatus::Cancelled);
        assert_eq!(cancelled(scanned()).status(LIVE), QrStatus::Cancelled);
    }

    #[test]
    fn expiry_is_exactly_at_expires_at() {
        assert_eq!(pending().status(LIVE), QrStatus::Pending);
        assert_eq!(pending().status(DEAD), QrStatus::Expired);
        assert_eq!(scanned().status(LIVE), QrStatus::Scanned);
        assert_eq!(scanned().status(DEAD), QrStatus::Expired);
    }

    #[test]
    fn decided_sessions_never_turn_expired() {
        let much_later = DEAD + 3_600_000;
        assert_eq!(
            decided(Verdict::Confirmed, LIVE).status(much_later),
            QrStatus::Confirmed
        );
        assert_eq!(
            decided(Verdict::Denied, LIVE).status(much_later),
            QrStatus::Denied
        );
        assert_eq!(cancelled(pending()).status(much_later), QrStatus::Cancelled);
    }

    #[test]
    fn the_first_of_cancel_and_decide_wins_and_the_other_conflicts() {
        let mut session = cancelled(scanned());
        assert_eq!(
            session.decide(&phone("ann", "phone-1"), true, Verdict::Confirmed, LIVE),
            Err(StepError::Conflict)
        );
        assert_eq!(session.pick_up(LIVE), None);

        let mut session = decided(Verdict::Confirmed, LIVE);
        assert_eq!(session.cancel(LIVE), Err(StepError::Conflict));
        assert_eq!(session.status(LIVE), QrStatus::Confirmed);
    }

    #[test]
    fn a_picked_up_session_stays_confirmed() {
        let mut session = decided(Verdict::Confirmed, LIVE);
        assert!(session.pick_up(LIVE).is_some());
        assert_eq!(session.status(DEAD + 1), QrStatus::Confirmed);
        assert_eq!(session.cancel(LIVE), Err(StepError::Conflict));
        assert_eq!(session.pick_up(LIVE), None);
    }

    #[test]
    fn pick_up_only_once_and_only_within_the_window() {
        let confirmed_at = DEAD - 10_000;
        let session = decided(Verdict::Confirmed, confirmed_at);
        for now in [
            confirmed_at,
            DEAD + 5_000, // past expires_at but in the window
            confirmed_at + PICKUP_WINDOW_MS,
        ] {
            assert_eq!(
                session.clone().pick_up(now),
                Some(Confirmation {
                    account: phone("ann", "phone-1").account,
                    at_ms: confirmed_at,
                })
            );
        }
        assert_eq!(
            session.clone().pick_up(confirmed_at + PICKUP_WINDOW_MS + 1),
            None
        );
        let mut picked = session;
        assert!(picked.pick_up(confirmed_at + 1).is_some());
        assert_eq!(picked.pick_up(confirmed_at + 2), None);
    }

    #[test]
    fn a_released_pick_up_can_be_made_again_once() {
        let mut session = decided(Verdict::Confirmed, LIVE);
        assert!(session.pick_up(LIVE).is_some());
        session.release_pick_up();
        assert!(session.pick_up(LIVE).is_some());
        assert_eq!(session.pick_up(LIVE), None);
    }

    #[test]
    fn the_pc_is_signed_in_as_the_account_that_confirmed() {
        let mut session = pending();
        let bob = phone("bob", "phone-2");
        session.scan(bob.clone(), "scan-b".into(), LIVE).unwrap();
        session
            .decide(&bob, true, Verdict::Confirmed, LIVE)
            .unwrap();
        assert_eq!(session.pick_up(LIVE).map(|c| c.account), Some(bob.account));
    }

    #[test]
    fn nothing_but_a_confirmation_can_be_picked_up() {
        for mut session in [
            pending(),
            scanned(),
            decided(Verdict::Denied, LIVE),
            cancelled(scanned()),
        ] {
            assert_eq!(session.pick_up(LIVE), None, "{session:?}");
        }
    }

    #[test]
    fn scan_is_allowed_when_pending_and_for_a_reload_by_the_same_phone() {
        let ann = phone("ann", "phone-1");
        let mut session = pending();
        assert_eq!(session.scan(ann.clone(), "scan-1".into(), LIVE), Ok(true));
        assert_eq!(session.status(LIVE), QrStatus::Scanned);
        assert_eq!(
            session.scan(ann, "scan-2".into(), LIVE),
            Ok(false),
            "a reload changes nothing the PC sees"
        );
        assert_eq!(session.scan_token_hash(), Some("scan-2"));
    }

    #[test]
    fn scan_by_another_device_or_account_conflicts() {
        for other in [
            phone("bob", "phone-2"),
            phone("bob", "phone-1"), // the same device signed in to another account
            phone("ann", "phone-2"),
        ] {
            let mut session = scanned();
            assert_eq!(
                session.scan(other, "scan-x".into(), LIVE),
                Err(StepError::Conflict)
            );
            assert_eq!(session.scan_token_hash(), Some("scan-1"), "unchanged");
        }
    }

    #[test]
    fn scan_of_a_decided_session_conflicts_even_past_its_lifetime() {
        let ann = phone("ann", "phone-1");
        for session in [
            decided(Verdict::Confirmed, LIVE),
            decided(Verdict::Denied, LIVE),
            cancelled(pending()),
        ] {
            for now in [LIVE, DEAD] {
                assert_eq!(
                    session.clone().scan(ann.clone(), "scan-x".into(), now),
                    Err(StepError::Conflict)
                );
            }
        }
    }

    #[test]
    fn scan_past_the_lifetime_is_expired() {
        let ann = phone("ann", "phone-1");
        for mut session in [pending(), scanned()] {
            assert_eq!(
                session.scan(ann.clone(), "scan-x".into(), DEAD),
                Err(StepError::Expired)
            );
        }
    }

    #[test]
    fn decide_needs_the_scanning_phone_and_its_latest_token() {
        let ann = phone("ann", "phone-1");
        for (who, token_matches) in [
            (ann.clone(), false),
            (phone("bob", "phone-2"), true),
            (phone("ann", "phone-2"), true),
        ] {
            let mut session = scanned();
            assert_eq!(
                session.decide(&who, token_matches, Verdict::Confirmed, LIVE),
                Err(StepError::Forbidden)
            );
            assert_eq!(session.status(LIVE), QrStatus::Scanned);
        }
        let mut session = scanned();
        assert_eq!(session.decide(&ann, true, Verdict::Denied, LIVE), Ok(()));
        assert_eq!(session.status(LIVE), QrStatus::Denied);
    }

    #[test]
    fn decide_checks_state_before_the_scan_token() {
        let bob = phone("bob", "phone-2");
        let cases = [
            (pending(), LIVE, StepError::Conflict),
            (scanned(), DEAD, StepError::Expired),
            (decided(Verdict::Confirmed, LIVE), LIVE, StepError::Conflict),
            (cancelled(scanned()), LIVE, StepError::Conflict),
            (pending(), DEAD, StepError::Expired),
        ];
        for (mut session, now, expected) in cases {
            assert_eq!(
                session.decide(&bob, false, Verdict::Confirmed, now),
                Err(expected)
            );
        }
    }

    #[test]
    fn only_one_decision_ever_counts() {
        let ann = phone("ann", "phone-1");
        let mut session = scanned();
        session
            .decide(&ann, true, Verdict::Confirmed, LIVE)
            .unwrap();
        assert_eq!(
            session.decide(&ann, true, Verdict::Denied, LIVE),
            Err(StepError::Conflict)
        );
        assert_eq!(session.status(LIVE), QrStatus::Confirmed);
    }

    #[test]
    fn cancel_is_allowed_until_decided_or_expired() {
        assert_eq!(pending().cancel(LIVE), Ok(()));
        assert_eq!(scanned().cancel(LIVE), Ok(()));
        assert_eq!(pending().cancel(DEAD), Err(StepError::Expired));
        assert_eq!(scanned().cancel(DEAD), Err(StepError::Expired));
        for session in [
            decided(Verdict::Confirmed, LIVE),
            decided(Verdict::Denied, LIVE),
            cancelled(pending()),
        ] {
            assert_eq!(session.clone().cancel(LIVE), Err(StepError::Conflict));
            assert_eq!(session.clone().cancel(DEAD), Err(StepError::Conflict));
        }
    }

    #[test]
    fn the_object_wakes_at_expiry_while_undecided_then_to_collect() {
        let collect = DEAD + PICKUP_WINDOW_MS + COLLECTION_DELAY_MS;
        assert_eq!(pending().next_wake_ms(LIVE), DEAD);
        assert_eq!(scanned().next_wake_ms(LIVE), DEAD);
        assert_eq!(pending().next_wake_ms(DEAD), collect);
        assert_eq!(
            decided(Verdict::Confirmed, LIVE - 5_000).next_wake_ms(LIVE),
            collect
        );
        assert_eq!(cancelled(pending()).next_wake_ms(LIVE), collect);
        // Collection comes after the last possible pick-up.
        let last_moment = decided(Verdict::Confirmed, LIVE);
        assert!(last_moment.collect_at_ms() > LIVE + PICKUP_WINDOW_MS);
    }

    #[test]
    fn only_pending_and_scanned_are_not_final() {
        assert!(!is_final(QrStatus::Pending));
        assert!(!is_final(QrStatus::Scanned));
        for status in [
            QrStatus::Confirmed,
            QrStatus::Denied,
            QrStatus::Cancelled,
            QrStatus::Expired,
        ] {
            assert!(is_final(status));
        }
    }

    #[test]
    fn the_creator_is_matched_by_device_id_and_type() {
        let session = pending();
        assert!(session.pc.is_device("pc-1", DeviceType::Pc));
        assert!(!session.pc.is_device("pc-1", DeviceType::Web));
        assert!(!session.pc.is_device("pc-2", DeviceType::Pc));
    }

    #[test]
    fn an_unclaimed_session_is_claimed_once_by_a_device_of_its_type() {
        let mut session = pending();
        session.pc.device_id = None;
        assert!(!session.pc.is_device("pc-1", DeviceType::Pc));
        assert!(!session.pc.claim("pc-1", DeviceType::Web, None));
        assert!(session.pc.claim("pc-1", DeviceType::Pc, Some("jkt".into())));
        assert!(session.pc.is_device("pc-1", DeviceType::Pc));
        assert_eq!(session.pc.dpop_jkt.as_deref(), Some("jkt"));
        assert!(!session.pc.claim("pc-2", DeviceType::Pc, None));
        assert!(!session.pc.is_device("pc-2", DeviceType::Pc));
        assert_eq!(session.pc.dpop_jkt.as_deref(), Some("jkt"));
    }

    #[test]
    fn a_claimed_session_is_not_claimed_again() {
        let mut session = pending();
        assert!(!session.pc.claim("pc-2", DeviceType::Pc, None));
        assert!(session.pc.is_device("pc-1", DeviceType::Pc));
    }

    #[test]
    fn a_claimed_device_is_stored_as_sessions_were_before_claims() {
        let json = serde_json::to_value(pending()).unwrap();
        assert_eq!(json["pc"]["device_id"], "pc-1");
    }

    #[test]
    fn a_session_survives_storage_as_json() {
        let session = decided(Verdict::Confirmed, LIVE);
        let json = serde_json::to_string(&session).unwrap();
        assert_eq!(serde_json::from_str::<QrSession>(&json).unwrap(), session);
    }

    fn device() -> QrSession {
        let mut session = pending();
        session.audience = Audience::Device(ForDevice::new(
            "cli".into(),
            "CLI".into(),
            vec!["openid".into()],
            "BCDFGHJK",
        ));
        session
    }

    #[test]
    fn a_device_polls_until_confirmed_and_gets_its_tokens_once() {
        let created = EXPIRES_AT * 1000 - 120_000;
        let mut session = device();
        assert_eq!(session.device_poll(created), DevicePoll::Pending);
        assert_eq!(session.device_poll(created + 1_000), DevicePoll::SlowDown);
        session
            .scan(phone("ann", "phone-1"), "scan-1".into(), created + 2_000)
            .unwrap();
        assert_eq!(session.device_poll(created + 11_000), DevicePoll::Pending);
        session
            .decide(
                &phone("ann", "phone-1"),
                true,
                Verdict::Confirmed,
                created + 12_000,
            )
            .unwrap();
        match session.device_poll(created + 21_000) {
            DevicePoll::Confirmed(confirmation) => {
                assert_eq!(confirmation.account, phone("ann", "phone-1").account);
                assert_eq!(confirmation.at_ms, created + 12_000);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(session.device_poll(created + 31_000), DevicePoll::Gone);
    }

    #[test]
    fn a_device_is_told_denied_expired_and_a_lapsed_confirmation() {
        let created = EXPIRES_AT * 1000 - 120_000;
        let mut denied = device();
        denied.scan(phone("ann", "p"), "s".into(), created).unwrap();
        denied
            .decide(&phone("ann", "p"), true, Verdict::Denied, created)
            .unwrap();
        assert_eq!(denied.device_poll(created + 1), DevicePoll::Denied);
        let mut expired = device();
        assert_eq!(expired.device_poll(DEAD), DevicePoll::Expired);
        let mut lapsed = device();
        lapsed.scan(phone("ann", "p"), "s".into(), created).unwrap();
        lapsed
            .decide(&phone("ann", "p"), true, Verdict::Confirmed, created)
            .unwrap();
        assert_eq!(
            lapsed.device_poll(created + PICKUP_WINDOW_MS + 1),
            DevicePoll::Expired
        );
        assert_eq!(
            pending().device_poll(LIVE),
            DevicePoll::Gone,
            "not a device's"
        );
    }
}

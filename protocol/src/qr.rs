//! The QR-session state machine, as a pure function of what the store holds.
//!
//! The edge never stores a "status" field that steps overwrite. Each step writes its own fact
//! once (the scan binding, the decision made with one scan token, the cancellation, the PC's
//! pick-up of its token) and the status is derived from the facts read back. A lost race or a
//! stale read can therefore only hide a fact, which makes a step fail or look earlier; it can
//! never invent a confirmation. See `edge/README.md` for the key schema built on this.

use crate::QrStatus;
use serde::{Deserialize, Serialize};

/// How long after the confirmation the PC may still pick up its token, even past expiry.
pub const PICKUP_WINDOW_MS: u64 = 60_000;

/// `expires_at` for a session created at `created_ms` that lives `ttl_seconds`: creation time
/// plus the lifetime, rounded up to a whole second.
pub fn expires_at(created_ms: u64, ttl_seconds: u64) -> u64 {
    (created_ms + ttl_seconds * 1000).div_ceil(1000)
}

/// The phone that scanned: the account it is signed in to and its device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanner {
    pub account_id: String,
    pub device_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Confirmed,
    Denied,
}

/// A decision made with the current scan token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    pub decided_at_ms: u64,
}

/// Everything the store holds about one QR session, as read at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrFacts {
    /// Unix seconds; the session is live while `now` is before it.
    pub expires_at: u64,
    pub cancelled: bool,
    pub scanned_by: Option<Scanner>,
    /// Only a decision made with the scan token of `scanned_by` counts.
    pub decision: Option<Decision>,
    /// The PC has been handed its login token.
    pub picked_up: bool,
}

/// Why a step is refused, in the contract's order of checks: state first (`410` past the
/// lifetime, `409` wrong state), then who presents the scan token (`403`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepError {
    Expired,
    Conflict,
    Forbidden,
}

impl QrFacts {
    pub fn status(&self, now_ms: u64) -> QrStatus {
        if self.picked_up {
            // The PC holds a token: nothing that was written later can undo that.
            return QrStatus::Confirmed;
        }
        if self.cancelled {
            // The PC withdrew; it wins over a decision that raced it, so no token is minted.
            return QrStatus::Cancelled;
        }
        match (self.decision, &self.scanned_by) {
            (Some(decision), _) => match decision.verdict {
                Verdict::Confirmed => QrStatus::Confirmed,
                Verdict::Denied => QrStatus::Denied,
            },
            _ if self.past_lifetime(now_ms) => QrStatus::Expired,
            (None, Some(_)) => QrStatus::Scanned,
            (None, None) => QrStatus::Pending,
        }
    }

    /// Whether this poll should mint the PC's login token: confirmed, not yet handed out, and
    /// within the pick-up window after the confirmation.
    pub fn may_pick_up(&self, now_ms: u64) -> bool {
        match self.decision {
            Some(decision) if self.status(now_ms) == QrStatus::Confirmed && !self.picked_up => {
                now_ms <= decision.decided_at_ms + PICKUP_WINDOW_MS
            }
            _ => false,
        }
    }

    /// `pending` → `scanned`, or a reload by the phone that already scanned.
    pub fn check_scan(&self, phone: &Scanner, now_ms: u64) -> Result<(), StepError> {
        self.check_undecided(now_ms)?;
        match &self.scanned_by {
            Some(scanner) if scanner != phone => Err(StepError::Conflict),
            _ => Ok(()),
        }
    }

    /// `scanned` → `confirmed` or `denied`, by the phone that scanned with its latest token.
    pub fn check_decide(
        &self,
        phone: &Scanner,
        scan_token_matches: bool,
        now_ms: u64,
    ) -> Result<(), StepError> {
        self.check_undecided(now_ms)?;
        match &self.scanned_by {
            None => Err(StepError::Conflict),
            Some(scanner) if scanner == phone && scan_token_matches => Ok(()),
            Some(_) => Err(StepError::Forbidden),
        }
    }

    /// `pending` or `scanned` → `cancelled`, by the PC.
    pub fn check_cancel(&self, now_ms: u64) -> Result<(), StepError> {
        self.check_undecided(now_ms)
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

#[cfg(test)]
mod tests {
    use super::*;

    const EXPIRES_AT: u64 = 1_700_000_120;
    const LIVE: u64 = EXPIRES_AT * 1000 - 1;
    const DEAD: u64 = EXPIRES_AT * 1000;

    fn phone(account: &str, device: &str) -> Scanner {
        Scanner {
            account_id: account.into(),
            device_id: device.into(),
        }
    }

    fn pending() -> QrFacts {
        QrFacts {
            expires_at: EXPIRES_AT,
            cancelled: false,
            scanned_by: None,
            decision: None,
            picked_up: false,
        }
    }

    fn scanned() -> QrFacts {
        QrFacts {
            scanned_by: Some(phone("ann", "phone-1")),
            ..pending()
        }
    }

    fn decided(verdict: Verdict, decided_at_ms: u64) -> QrFacts {
        QrFacts {
            decision: Some(Decision {
                verdict,
                decided_at_ms,
            }),
            ..scanned()
        }
    }

    fn cancelled(facts: QrFacts) -> QrFacts {
        QrFacts {
            cancelled: true,
            ..facts
        }
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
    fn a_cancellation_beats_a_decision_that_raced_it() {
        let raced = cancelled(decided(Verdict::Confirmed, LIVE));
        assert_eq!(raced.status(LIVE), QrStatus::Cancelled);
        assert!(!raced.may_pick_up(LIVE));
    }

    #[test]
    fn a_picked_up_session_stays_confirmed() {
        let facts = QrFacts {
            picked_up: true,
            cancelled: true,
            ..decided(Verdict::Confirmed, LIVE)
        };
        assert_eq!(facts.status(DEAD + 1), QrStatus::Confirmed);
        assert!(!facts.may_pick_up(LIVE));
    }

    #[test]
    fn pick_up_only_once_and_only_within_the_window() {
        let confirmed_at = DEAD - 10_000;
        let facts = decided(Verdict::Confirmed, confirmed_at);
        assert!(facts.may_pick_up(confirmed_at));
        assert!(
            facts.may_pick_up(DEAD + 5_000),
            "past expires_at but in window"
        );
        assert!(facts.may_pick_up(confirmed_at + PICKUP_WINDOW_MS));
        assert!(!facts.may_pick_up(confirmed_at + PICKUP_WINDOW_MS + 1));
        let picked = QrFacts {
            picked_up: true,
            ..facts
        };
        assert!(!picked.may_pick_up(confirmed_at + 1));
    }

    #[test]
    fn nothing_but_a_confirmation_can_be_picked_up() {
        for facts in [
            pending(),
            scanned(),
            decided(Verdict::Denied, LIVE),
            cancelled(scanned()),
        ] {
            assert!(!facts.may_pick_up(LIVE), "{facts:?}");
        }
    }

    #[test]
    fn scan_is_allowed_when_pending_and_for_a_reload_by_the_same_phone() {
        let ann = phone("ann", "phone-1");
        assert_eq!(pending().check_scan(&ann, LIVE), Ok(()));
        assert_eq!(scanned().check_scan(&ann, LIVE), Ok(()));
    }

    #[test]
    fn scan_by_another_device_or_account_conflicts() {
        let facts = scanned();
        assert_eq!(
            facts.check_scan(&phone("bob", "phone-2"), LIVE),
            Err(StepError::Conflict)
        );
        assert_eq!(
            facts.check_scan(&phone("bob", "phone-1"), LIVE),
            Err(StepError::Conflict),
            "the same device signed in to another account is another scanner"
        );
        assert_eq!(
            facts.check_scan(&phone("ann", "phone-2"), LIVE),
            Err(StepError::Conflict)
        );
    }

    #[test]
    fn scan_of_a_decided_session_conflicts_even_past_its_lifetime() {
        let ann = phone("ann", "phone-1");
        for facts in [
            decided(Verdict::Confirmed, LIVE),
            decided(Verdict::Denied, LIVE),
            cancelled(pending()),
        ] {
            assert_eq!(facts.check_scan(&ann, LIVE), Err(StepError::Conflict));
            assert_eq!(facts.check_scan(&ann, DEAD), Err(StepError::Conflict));
        }
    }

    #[test]
    fn scan_past_the_lifetime_is_expired() {
        let ann = phone("ann", "phone-1");
        assert_eq!(pending().check_scan(&ann, DEAD), Err(StepError::Expired));
        assert_eq!(scanned().check_scan(&ann, DEAD), Err(StepError::Expired));
    }

    #[test]
    fn decide_needs_the_scanning_phone_and_its_latest_token() {
        let ann = phone("ann", "phone-1");
        assert_eq!(scanned().check_decide(&ann, true, LIVE), Ok(()));
        assert_eq!(
            scanned().check_decide(&ann, false, LIVE),
            Err(StepError::Forbidden)
        );
        assert_eq!(
            scanned().check_decide(&phone("bob", "phone-2"), true, LIVE),
            Err(StepError::Forbidden)
        );
        assert_eq!(
            scanned().check_decide(&phone("ann", "phone-2"), true, LIVE),
            Err(StepError::Forbidden)
        );
    }

    #[test]
    fn decide_checks_state_before_the_scan_token() {
        let bob = phone("bob", "phone-2");
        assert_eq!(
            pending().check_decide(&bob, false, LIVE),
            Err(StepError::Conflict)
        );
        assert_eq!(
            scanned().check_decide(&bob, false, DEAD),
            Err(StepError::Expired)
        );
        assert_eq!(
            decided(Verdict::Confirmed, LIVE).check_decide(&bob, false, LIVE),
            Err(StepError::Conflict)
        );
        assert_eq!(
            cancelled(scanned()).check_decide(&bob, false, LIVE),
            Err(StepError::Conflict)
        );
        assert_eq!(
            pending().check_decide(&bob, false, DEAD),
            Err(StepError::Expired)
        );
    }

    #[test]
    fn cancel_is_allowed_until_decided_or_expired() {
        assert_eq!(pending().check_cancel(LIVE), Ok(()));
        assert_eq!(scanned().check_cancel(LIVE), Ok(()));
        assert_eq!(pending().check_cancel(DEAD), Err(StepError::Expired));
        assert_eq!(scanned().check_cancel(DEAD), Err(StepError::Expired));
        for facts in [
            decided(Verdict::Confirmed, LIVE),
            decided(Verdict::Denied, LIVE),
            cancelled(pending()),
        ] {
            assert_eq!(facts.check_cancel(LIVE), Err(StepError::Conflict));
            assert_eq!(facts.check_cancel(DEAD), Err(StepError::Conflict));
        }
    }
}

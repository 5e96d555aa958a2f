//! Attempt limits (`shared/API.md`, "Accounts and password login"): per counted key, at most
//! `limit` attempts within a sliding window. One writer (the key's Durable Object) holds the
//! [`Attempts`] and admits each attempt before it is judged, so concurrent attempts from
//! anywhere are each counted before any is answered. `now` is passed in.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// How many attempts a key allows, within how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub limit: usize,
    pub window_ms: u64,
}

/// The attempts a key has counted, oldest first (Unix milliseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempts {
    counted: Vec<u64>,
}

/// Whether an attempt may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Admission {
    /// Counted at this moment; [`Attempts::forgive`] takes it back.
    Admitted { at_ms: u64 },
    /// The limit is reached: try again after this many whole seconds (at least one).
    Refused { retry_after_seconds: u64 },
}

impl Attempts {
    /// Counts an attempt now, unless `window.limit` attempts already fall within the window.
    pub fn admit(&mut self, window: Window, now_ms: u64) -> Admission {
        self.forget_before(now_ms.saturating_sub(window.window_ms));
        if self.counted.len() < window.limit {
            self.counted.push(now_ms);
            return Admission::Admitted { at_ms: now_ms };
        }
        // The attempt that must age out before another fits: the limit-th newest (with a
        // limit of zero there is none, and the key stays closed for a whole window).
        let blocking = self
            .counted
            .len()
            .checked_sub(window.limit)
            .and_then(|index| self.counted.get(index))
            .map_or(now_ms, |&at| at);
        let wait_ms = (blocking + window.window_ms).saturating_sub(now_ms);
        Admission::Refused {
            retry_after_seconds: wait_ms.div_ceil(1000).max(1),
        }
    }

    /// Takes back one attempt counted at `at_ms`: it turned out not to count (a login with the
    /// right password).
    pub fn forgive(&mut self, at_ms: u64) {
        if let Some(index) = self.counted.iter().position(|&t| t == at_ms) {
            self.counted.remove(index);
        }
    }

    /// When the newest attempt leaves the window, after which nothing is left to keep.
    pub fn empty_after_ms(&self, window: Window) -> Option<u64> {
        self.counted.last().map(|newest| newest + window.window_ms)
    }

    pub fn is_empty(&self) -> bool {
        self.counted.is_empty()
    }

    fn forget_before(&mut self, cutoff_ms: u64) {
        self.counted.retain(|&t| t > cutoff_ms);
    }
}

/// The client address the limits count, as the contract defines it: the IPv4 address, or the
/// /64 prefix of an IPv6 address (one subscriber's block), from what the edge saw of the
/// client. Every way of writing one address gives one value: IPv6 in any case, compressed or
/// not, an IPv4 address mapped into IPv6 as the IPv4 address itself. `None` for anything that is
/// not an address.
pub fn client_address(seen: &str) -> Option<String> {
    let seen = seen.trim();
    // A zone (`fe80::1%eth0`) names the link the address is on, not another address.
    let without_zone = seen.split('%').next().unwrap_or(seen);
    let address: IpAddr = without_zone.parse().ok()?;
    Some(match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN_MINUTES: Window = Window {
        limit: 10,
        window_ms: 600_000,
    };
    const T0: u64 = 1_700_000_000_000;

    fn admitted(attempts: &mut Attempts, now_ms: u64) -> u64 {
        match attempts.admit(TEN_MINUTES, now_ms) {
            Admission::Admitted { at_ms } => at_ms,
            refused => panic!("refused at {now_ms}: {refused:?}"),
        }
    }

    #[test]
    fn the_limit_is_exact_however_close_the_attempts() {
        let mut attempts = Attempts::default();
        for _ in 0..10 {
            admitted(&mut attempts, T0);
        }
        assert_eq!(
            attempts.admit(TEN_MINUTES, T0),
            Admission::Refused {
                retry_after_seconds: 600
            }
        );
    }

    #[test]
    fn retry_after_is_when_the_blocking_attempt_ages_out() {
        let mut attempts = Attempts::default();
        for i in 0..10 {
            admitted(&mut attempts, T0 + i * 1_000);
        }
        // At T0 + 100 s the oldest (T0) blocks until T0 + 600 s.
        assert_eq!(
            attempts.admit(TEN_MINUTES, T0 + 100_000),
            Admission::Refused {
                retry_after_seconds: 500
            }
        );
        // Once it has aged out, one more fits, and the next waits for the second oldest.
        admitted(&mut attempts, T0 + 600_001);
        assert_eq!(
            attempts.admit(TEN_MINUTES, T0 + 600_002),
            Admission::Refused {
                retry_after_seconds: 1
            }
        );
    }

    #[test]
    fn a_forgiven_attempt_frees_its_place() {
        let mut attempts = Attempts::default();
        let first = admitted(&mut attempts, T0);
        for _ in 1..10 {
            admitted(&mut attempts, T0 + 5);
        }
        attempts.forgive(first);
        admitted(&mut attempts, T0 + 10);
        assert!(matches!(
            attempts.admit(TEN_MINUTES, T0 + 11),
            Admission::Refused { .. }
        ));
        // Forgiving what was never counted changes nothing.
        attempts.forgive(T0 - 1);
        assert!(matches!(
            attempts.admit(TEN_MINUTES, T0 + 12),
            Admission::Refused { .. }
        ));
    }

    #[test]
    fn nothing_is_kept_past_the_window() {
        let mut attempts = Attempts::default();
        assert_eq!(attempts.empty_after_ms(TEN_MINUTES), None);
        admitted(&mut attempts, T0);
        admitted(&mut attempts, T0 + 7);
        assert_eq!(attempts.empty_after_ms(TEN_MINUTES), Some(T0 + 7 + 600_000));
        admitted(&mut attempts, T0 + 600_008);
        assert_eq!(
            attempts.counted,
            [T0 + 600_008],
            "the old ones are forgotten"
        );
    }

    #[test]
    fn a_zero_limit_refuses_everything() {
        let mut attempts = Attempts::default();
        let closed = Window {
            limit: 0,
            window_ms: 1_000,
        };
        assert!(matches!(
            attempts.admit(closed, T0),
            Admission::Refused { .. }
        ));
    }

    #[test]
    fn one_address_in_every_form() {
        for (seen, address) in [
            ("203.0.113.7", "203.0.113.7"),
            (" 203.0.113.7 ", "203.0.113.7"),
            ("::ffff:203.0.113.7", "203.0.113.7"),
            ("::FFFF:cb00:7107", "203.0.113.7"),
            ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
            ("2001:0DB8:0001:0002:ffff:0:0:1", "2001:db8:1:2::/64"),
            ("2001:db8:1:2::9", "2001:db8:1:2::/64"),
            ("2001:db8::1", "2001:db8:0:0::/64"),
            (
                "2001:0db8:0000:0000:0000:0000:0000:0001",
                "2001:db8:0:0::/64",
            ),
            ("fe80::1%eth0", "fe80:0:0:0::/64"),
        ] {
            assert_eq!(client_address(seen).as_deref(), Some(address), "{seen}");
        }
        for nonsense in [
            "",
            "unknown",
            "300.1.1.1",
            "1.2.3",
            "2001:db8::g",
            "010.1.1.1",
        ] {
            assert_eq!(client_address(nonsense), None, "{nonsense}");
        }
    }
}

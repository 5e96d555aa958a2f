//! Who holds a username (`shared/API.md`: "A taken username is `409 conflict`"). Accounts live in
//! Workers KV, which carries a write to other locations only after 60 s or more: two sign-ups
//! for one name at two locations would each find it free there and both succeed, the later
//! write silently replacing the other account. So one writer per username (its Durable Object)
//! grants the name to one account at a time, before the account is stored. A device's user code
//! (RFC 8628) is held the same way, by its QR session, so that a code typed on a phone finds its
//! device at once from any location. `now` is passed in.

use serde::{Deserialize, Serialize};

/// Who a name is granted to, and until when (Unix seconds): for a username, its account; for a
/// device's user code (`crate::oauth::device`), the device's QR session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Stored as `account_id` before user codes were held too.
    #[serde(alias = "account_id")]
    pub holder_id: String,
    pub until: u64,
}

impl Holder {
    /// Grants the name to `holder_id` until `until`, if no other account holds it at `now`:
    /// the name's holder from then on, or `None` when it is taken. The holder's own claim (a
    /// renewal) never shortens its hold.
    pub fn claim(held: Option<&Holder>, holder_id: &str, until: u64, now: u64) -> Option<Holder> {
        match held {
            Some(holder) if holder.holder_id == holder_id => Some(Holder {
                holder_id: holder_id.to_owned(),
                until: until.max(holder.until),
            }),
            Some(holder) if now < holder.until => None,
            _ => Some(Holder {
                holder_id: holder_id.to_owned(),
                until,
            }),
        }
    }

    /// Who holds the name at `now`, if anyone does.
    pub fn current(held: Option<&Holder>, now: u64) -> Option<&str> {
        held.filter(|holder| now < holder.until)
            .map(|holder| holder.holder_id.as_str())
    }

    /// Whether `holder_id` holds the name, and so may give it back (its account could not be
    /// stored after all).
    pub fn is_held_by(held: Option<&Holder>, holder_id: &str) -> bool {
        held.is_some_and(|holder| holder.holder_id == holder_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(holder_id: &str, until: u64) -> Holder {
        Holder {
            holder_id: holder_id.to_owned(),
            until,
        }
    }

    #[test]
    fn a_name_is_held_until_its_hold_ends() {
        let holder = held("a", 500);
        assert_eq!(Holder::current(Some(&holder), 499), Some("a"));
        assert_eq!(Holder::current(Some(&holder), 500), None);
        assert_eq!(Holder::current(None, 0), None);
        let stored = r#"{"account_id": "a", "until": 500}"#;
        assert_eq!(serde_json::from_str::<Holder>(stored).unwrap(), holder);
    }

    #[test]
    fn a_free_name_is_granted() {
        assert_eq!(Holder::claim(None, "a", 500, 100), Some(held("a", 500)));
    }

    #[test]
    fn a_held_name_is_taken_for_every_other_account_until_its_hold_ends() {
        let holder = held("a", 500);
        assert_eq!(Holder::claim(Some(&holder), "b", 900, 100), None);
        assert_eq!(Holder::claim(Some(&holder), "b", 900, 499), None);
        assert_eq!(
            Holder::claim(Some(&holder), "b", 900, 500),
            Some(held("b", 900))
        );
    }

    #[test]
    fn the_holder_renews_and_never_shortens_its_hold() {
        let holder = held("a", 500);
        assert_eq!(
            Holder::claim(Some(&holder), "a", 800, 100),
            Some(held("a", 800))
        );
        assert_eq!(
            Holder::claim(Some(&holder), "a", 300, 100),
            Some(held("a", 500))
        );
        // Even after its hold ended, as nobody else took the name meanwhile.
        assert_eq!(
            Holder::claim(Some(&holder), "a", 900, 600),
            Some(held("a", 900))
        );
    }

    #[test]
    fn only_the_holder_may_give_the_name_back() {
        let holder = held("a", 500);
        assert!(Holder::is_held_by(Some(&holder), "a"));
        assert!(!Holder::is_held_by(Some(&holder), "b"));
        assert!(!Holder::is_held_by(None, "a"));
    }
}

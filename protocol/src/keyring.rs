//! An account's passkeys, its keyring: each passkey's public key and sign count, as the
//! account's keyring object (`edge/src/objects/keyring.rs`) keeps them. That object is their
//! one writer, so a sign count moves forward once, wherever two sign-ins with one passkey
//! arrive. The object checks signatures; the rules of the list are here, with time passed in.

use crate::passkey::{PublicKey, sign_count_advances};
use crate::{Account, PasskeyEntry};
use serde::{Deserialize, Serialize};

/// The most passkeys one account keeps.
pub const MAX_PASSKEYS: usize = 20;

/// One passkey: what is listed, its key, and the sign count of its last use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPasskey {
    pub entry: PasskeyEntry,
    pub public_key: PublicKey,
    pub sign_count: u32,
    /// Sign-ins refused because the count did not advance: a sign the passkey may be cloned.
    #[serde(default)]
    pub regressions: u32,
}

/// Why the keyring refuses a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyringRefusal {
    /// The account already has [`MAX_PASSKEYS`].
    Full,
    /// A passkey of this id is already on the keyring.
    AlreadyRegistered,
    /// No passkey of this id is on the keyring.
    Unknown,
    /// The sign count did not advance (`passkey::sign_count_advances`).
    SignCountRegressed,
    /// The account has no password and this is its last passkey: never the last way to sign in.
    LastWayToSignIn,
}

/// The account's passkeys, oldest first, and when the keyring is forgotten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyring {
    pub account: Account,
    passkeys: Vec<StoredPasskey>,
    /// The account's own lifetime: pushed back by each passkey added or used.
    pub expires_at_ms: u64,
    /// The account was made with a passkey alone: it has no password, so its passkeys are its
    /// only way to sign in.
    #[serde(default)]
    pub passwordless: bool,
}

impl Keyring {
    pub fn new(account: Account, expires_at_ms: u64, passwordless: bool) -> Self {
        Self {
            account,
            passkeys: Vec::new(),
            expires_at_ms,
            passwordless,
        }
    }

    pub fn add(
        &mut self,
        passkey: StoredPasskey,
        expires_at_ms: u64,
    ) -> Result<(), KeyringRefusal> {
        if self.find(&passkey.entry.passkey_id).is_some() {
            return Err(KeyringRefusal::AlreadyRegistered);
        }
        if self.passkeys.len() >= MAX_PASSKEYS {
            return Err(KeyringRefusal::Full);
        }
        self.passkeys.push(passkey);
        self.expires_at_ms = self.expires_at_ms.max(expires_at_ms);
        Ok(())
    }

    pub fn find(&self, passkey_id: &str) -> Option<&StoredPasskey> {
        self.passkeys
            .iter()
            .find(|passkey| passkey.entry.passkey_id == passkey_id)
    }

    /// A sign-in whose signature verified with the passkey's key: its count must advance. A
    /// count that does not is refused and counted against the passkey.
    pub fn used(
        &mut self,
        passkey_id: &str,
        sign_count: u32,
        now_seconds: u64,
        expires_at_ms: u64,
    ) -> Result<(), KeyringRefusal> {
        let passkey = self
            .passkeys
            .iter_mut()
            .find(|passkey| passkey.entry.passkey_id == passkey_id)
            .ok_or(KeyringRefusal::Unknown)?;
        if !sign_count_advances(passkey.sign_count, sign_count) {
            passkey.regressions = passkey.regressions.saturating_add(1);
            return Err(KeyringRefusal::SignCountRegressed);
        }
        passkey.sign_count = sign_count;
        passkey.entry.last_used_at = Some(now_seconds);
        self.expires_at_ms = self.expires_at_ms.max(expires_at_ms);
        Ok(())
    }

    /// Renames a passkey: whether the keyring has it.
    pub fn rename(&mut self, passkey_id: &str, name: &str) -> bool {
        let found = self
            .passkeys
            .iter_mut()
            .find(|passkey| passkey.entry.passkey_id == passkey_id);
        match found {
            Some(passkey) => {
                passkey.entry.name = name.to_owned();
                true
            }
            None => false,
        }
    }

    /// Takes a passkey off the keyring, unless it is the last one of an account without a
    /// password (which would be left with no way to sign in).
    pub fn remove(&mut self, passkey_id: &str) -> Result<(), KeyringRefusal> {
        let index = self
            .passkeys
            .iter()
            .position(|passkey| passkey.entry.passkey_id == passkey_id)
            .ok_or(KeyringRefusal::Unknown)?;
        if self.passwordless && self.passkeys.len() == 1 {
            return Err(KeyringRefusal::LastWayToSignIn);
        }
        self.passkeys.remove(index);
        Ok(())
    }

    /// The passkeys as listed, oldest first.
    pub fn list(&self) -> Vec<PasskeyEntry> {
        self.passkeys.iter().map(|p| p.entry.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passkey(id: &str) -> StoredPasskey {
        StoredPasskey {
            entry: PasskeyEntry {
                passkey_id: id.into(),
                name: "Phone".into(),
                created_at: 100,
                last_used_at: None,
            },
            public_key: PublicKey::Ed25519 { x: [7; 32] },
            sign_count: 5,
            regressions: 0,
        }
    }

    fn keyring() -> Keyring {
        let account = Account {
            account_id: "a".repeat(32),
            username: "ann".into(),
            display_name: "Ann".into(),
        };
        Keyring::new(account, 1_000, false)
    }

    #[test]
    fn a_passkey_is_added_once_and_the_keyring_lives_as_long_as_its_account() {
        let mut ring = keyring();
        assert_eq!(ring.add(passkey("k1"), 5_000), Ok(()));
        assert_eq!(ring.expires_at_ms, 5_000);
        assert_eq!(
            ring.add(passkey("k1"), 6_000),
            Err(KeyringRefusal::AlreadyRegistered)
        );
        assert_eq!(ring.list().len(), 1);
    }

    #[test]
    fn a_full_keyring_takes_no_more() {
        let mut ring = keyring();
        for i in 0..MAX_PASSKEYS {
            assert_eq!(ring.add(passkey(&format!("k{i}")), 0), Ok(()));
        }
        assert_eq!(ring.add(passkey("one more"), 0), Err(KeyringRefusal::Full));
    }

    #[test]
    fn a_sign_count_moves_forward_or_the_use_is_refused_and_counted() {
        let mut ring = keyring();
        ring.add(passkey("k"), 0).unwrap();
        assert_eq!(ring.used("k", 6, 200, 9_000), Ok(()));
        let used = ring.find("k").unwrap();
        assert_eq!((used.sign_count, used.entry.last_used_at), (6, Some(200)));
        assert_eq!(ring.expires_at_ms, 9_000);
        assert_eq!(
            ring.used("k", 6, 300, 9_500),
            Err(KeyringRefusal::SignCountRegressed)
        );
        let refused = ring.find("k").unwrap();
        assert_eq!((refused.sign_count, refused.regressions), (6, 1));
        assert_eq!(refused.entry.last_used_at, Some(200));
        assert_eq!(ring.used("nope", 7, 300, 0), Err(KeyringRefusal::Unknown));
    }

    #[test]
    fn a_passkey_is_renamed_and_removed_by_its_id_only() {
        let mut ring = keyring();
        ring.add(passkey("k1"), 0).unwrap();
        ring.add(passkey("k2"), 0).unwrap();
        assert!(ring.rename("k2", "Laptop"));
        assert!(!ring.rename("k3", "Nothing"));
        assert_eq!(ring.find("k2").unwrap().entry.name, "Laptop");
        assert_eq!(ring.remove("k1"), Ok(()));
        assert_eq!(ring.remove("k1"), Err(KeyringRefusal::Unknown));
        let left: Vec<String> = ring.list().into_iter().map(|e| e.passkey_id).collect();
        assert_eq!(left, ["k2"]);
        assert_eq!(
            ring.remove("k2"),
            Ok(()),
            "a password is left to sign in with"
        );
    }

    #[test]
    fn an_account_without_a_password_keeps_its_last_passkey() {
        let mut ring = keyring();
        ring.passwordless = true;
        ring.add(passkey("k1"), 0).unwrap();
        ring.add(passkey("k2"), 0).unwrap();
        assert_eq!(ring.remove("k1"), Ok(()));
        assert_eq!(ring.remove("k2"), Err(KeyringRefusal::LastWayToSignIn));
        assert_eq!(ring.list().len(), 1);
    }
}

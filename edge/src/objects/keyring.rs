//! The Durable Object of one account's passkeys (`qrgate_protocol::keyring`): the one writer of
//! the list and of each passkey's sign count. A sign-in's assertion is checked here whole (its
//! client data, authenticator data and signature, then the count), so two sign-ins with one
//! passkey at two locations move the count forward in turn and one that repeats or trails the
//! count is refused. A registration is checked here too (its attestation and the new key), so
//! the WebAuthn parsing lives in the objects' Worker only, not in the front that every request
//! starts. When the account's lifetime passes unrenewed, its alarm forgets everything.

use crate::crypto::{decode, encode};
use crate::objects::{self, Stored};
use crate::webcrypto;
use qrgate_protocol::keyring::{Keyring, KeyringRefusal, StoredPasskey};
use qrgate_protocol::passkey::{Expected, check_assertion, check_registration};
use qrgate_protocol::{Account, PasskeyEntry};
use serde::{Deserialize, Serialize};
use worker::{Date, DurableObject, Env, Request, Response, Result, State, durable_object};

pub const KEYRINGS_BINDING: &str = "KEYRINGS";

/// A sign-in's assertion as the browser gave it (each member base64url), with what the relying
/// party expects of it.
#[derive(Debug, Serialize, Deserialize)]
pub struct SignInAssertion {
    pub passkey_id: String,
    pub client_data_json: String,
    pub authenticator_data: String,
    pub signature: String,
    pub rp_id: String,
    pub origin: String,
    pub challenge: String,
}

/// A registration's response as the browser gave it (each member base64url, checked as such
/// by the front), with what the relying party expects of it, and the new passkey's name.
#[derive(Debug, Serialize, Deserialize)]
pub struct Registration {
    pub client_data_json: String,
    pub attestation_object: String,
    pub rp_id: String,
    pub origin: String,
    pub challenge: String,
    pub name: String,
    pub now_seconds: u64,
}

/// Why a registration was refused: one of its checks (the reason: `400`), or the keyring
/// (`409`).
#[derive(Debug, Serialize, Deserialize)]
pub enum RegisterRefusal {
    Invalid(String),
    Keyring(KeyringRefusal),
}

/// The most approval challenges a keyring keeps at once: scans by one account waiting for their
/// confirmation. A newer one crowds out the oldest.
const MAX_PENDING_APPROVALS: usize = 16;

/// A scan's approval challenge, kept by the scanning account's keyring until its confirmation
/// takes it (once) or it lapses: bound to the session and the scan token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingApproval {
    pub qr_id: String,
    pub scan_token_hash: String,
    pub challenge: String,
    pub expires_at_ms: u64,
}

/// Why a confirmation is not approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApprovalRefusal {
    /// The account has a passkey, and no answer came.
    PasskeyNeeded,
    /// The answer does not approve this scan: no challenge kept for it, another challenge, or
    /// one of a sign-in's refusals.
    Refused,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum KeyringCommand {
    /// A new passkey of `account`: its registration is checked, then it is added. Answers
    /// `Result<PasskeyEntry, RegisterRefusal>`. `passwordless` is for an account's first
    /// passkey only: the account has no password (a passkey sign-up).
    Register {
        account: Account,
        registration: Registration,
        expires_at_ms: u64,
        passwordless: bool,
    },
    /// Answers the passkeys, oldest first.
    List,
    /// Answers `Result<(), KeyringRefusal>`: `Unknown` for a passkey it does not have.
    Rename { passkey_id: String, name: String },
    /// Answers `Result<(), KeyringRefusal>`: `Unknown`, or `LastWayToSignIn`.
    Remove { passkey_id: String },
    /// A scan by the account: if it has a passkey, keeps this challenge for the scan's
    /// confirmation and answers the passkeys' ids, one of which must answer it; else keeps
    /// nothing and answers none.
    AwaitApproval(PendingApproval),
    /// A scan's confirmation: answers `Result<(), ApprovalRefusal>`. Without an assertion only
    /// an account without passkeys passes; with one, it must answer the scan's kept challenge
    /// (taken, once, whatever the answer's fate) as a sign-in's answers its own.
    Approve {
        qr_id: String,
        scan_token_hash: String,
        assertion: Option<SignInAssertion>,
        now_seconds: u64,
        expires_at_ms: u64,
    },
    /// A sign-in: answers `Result<Account, String>`, the refusal's reason.
    SignIn {
        assertion: SignInAssertion,
        now_seconds: u64,
        expires_at_ms: u64,
    },
}

/// Only `fetch` and `alarm` are bound: this class takes no socket or connection.
#[cfg_attr(feature = "objects", durable_object(alarm))]
pub struct AccountKeyring {
    state: State,
    keyring: Stored<Keyring>,
    approvals: Stored<Vec<PendingApproval>>,
}

#[cfg(feature = "objects")]
impl DurableObject for AccountKeyring {
    fn new(state: State, _env: Env) -> Self {
        Self {
            state,
            keyring: Stored::new("keyring"),
            approvals: Stored::new("approvals"),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let command = objects::command(req).await?;
        let stored = self.keyring.load(&self.state).await?;
        match command {
            KeyringCommand::Register {
                account,
                registration,
                expires_at_ms,
                passwordless,
            } => {
                let passkey = match checked_passkey(registration).await {
                    Ok(passkey) => passkey,
                    Err(reason) => {
                        let refused = RegisterRefusal::Invalid(reason.into());
                        return Response::from_json(&Err::<PasskeyEntry, _>(refused));
                    }
                };
                // Loaded again: the checks awaited WebCrypto, during which another command
                // may have changed the keyring.
                let stored = self.keyring.load(&self.state).await?;
                let mut keyring =
                    stored.unwrap_or_else(|| Keyring::new(account, expires_at_ms, passwordless));
                let entry = passkey.entry.clone();
                let added = keyring.add(passkey, expires_at_ms);
                if added.is_ok() {
                    self.store(&keyring).await?;
                }
                Response::from_json(&added.map(|()| entry).map_err(RegisterRefusal::Keyring))
            }
            KeyringCommand::AwaitApproval(approval) => {
                let passkeys: Vec<String> = stored
                    .map(|keyring| keyring.list().into_iter().map(|p| p.passkey_id).collect())
                    .unwrap_or_default();
                if !passkeys.is_empty() {
                    let mut pending = self.pending().await?;
                    if pending.len() >= MAX_PENDING_APPROVALS {
                        pending.remove(0);
                    }
                    pending.push(approval);
                    self.approvals.store(&self.state, &pending).await?;
                }
                Response::from_json(&passkeys)
            }
            KeyringCommand::Approve {
                qr_id,
                scan_token_hash,
                assertion,
                now_seconds,
                expires_at_ms,
            } => {
                // An account without passkeys approves as before, whatever was sent; one with
                // them (even a keyring emptied since the scan) needs the answer.
                let keyring = stored.filter(|keyring| !keyring.list().is_empty());
                let Some(keyring) = keyring else {
                    return Response::from_json(&Ok::<(), ApprovalRefusal>(()));
                };
                let Some(assertion) = assertion else {
                    return Response::from_json(&Err::<(), _>(ApprovalRefusal::PasskeyNeeded));
                };
                // The scan's challenge is taken before the answer is checked: a second answer
                // finds nothing.
                let mut pending = self.pending().await?;
                let kept = pending.iter().position(|approval| {
                    approval.qr_id == qr_id && approval.scan_token_hash == scan_token_hash
                });
                let Some(kept) = kept.map(|index| pending.remove(index)) else {
                    return Response::from_json(&Err::<(), _>(ApprovalRefusal::Refused));
                };
                self.approvals.store(&self.state, &pending).await?;
                if kept.challenge != assertion.challenge {
                    return Response::from_json(&Err::<(), _>(ApprovalRefusal::Refused));
                }
                let signed = self
                    .sign_in(&keyring, &assertion, now_seconds, expires_at_ms)
                    .await?;
                let approved = signed.map(|_| ()).map_err(|_| ApprovalRefusal::Refused);
                Response::from_json(&approved)
            }
            KeyringCommand::List => {
                let listed: Vec<PasskeyEntry> = stored.map(|k| k.list()).unwrap_or_default();
                Response::from_json(&listed)
            }
            KeyringCommand::Rename { passkey_id, name } => {
                let changed =
                    self.change(stored, |keyring| match keyring.rename(&passkey_id, &name) {
                        true => Ok(()),
                        false => Err(KeyringRefusal::Unknown),
                    });
                Response::from_json(&changed.await?)
            }
            KeyringCommand::Remove { passkey_id } => {
                let changed = self.change(stored, |keyring| keyring.remove(&passkey_id));
                Response::from_json(&changed.await?)
            }
            KeyringCommand::SignIn {
                assertion,
                now_seconds,
                expires_at_ms,
            } => {
                let Some(keyring) = stored else {
                    return Response::from_json(&Err::<Account, _>(unknown()));
                };
                let signed_in = self
                    .sign_in(&keyring, &assertion, now_seconds, expires_at_ms)
                    .await?;
                Response::from_json(&signed_in)
            }
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.keyring
            .keep_until(&self.state, |keyring| Some(keyring.expires_at_ms))
            .await?;
        Response::empty()
    }
}

/// The passkey a registration makes, once its attestation passes every check
/// (`qrgate_protocol::passkey`), its key is one WebCrypto takes (a key stored now must verify
/// later: a point off the curve is refused here, not at every sign-in), and a packed
/// self-attestation verifies with it; else the reason.
async fn checked_passkey(
    registration: Registration,
) -> std::result::Result<StoredPasskey, &'static str> {
    let decoded = (
        decode(&registration.client_data_json),
        decode(&registration.attestation_object),
    );
    let (Ok(client_data), Ok(attestation)) = decoded else {
        return Err("A member of the registration is not base64url.");
    };
    let expected = Expected {
        rp_id: &registration.rp_id,
        origin: &registration.origin,
        challenge: &registration.challenge,
    };
    let credential =
        check_registration(expected, &client_data, &attestation).map_err(|r| r.reason())?;
    if webcrypto::passkey_key(&credential.public_key)
        .await
        .is_err()
    {
        return Err("The credential's public key is not a valid key of its algorithm.");
    }
    if let Some(signed) = &credential.self_attestation
        && !webcrypto::verify_passkey(&credential.public_key, signed).await
    {
        return Err("The self-attestation does not verify with the new key.");
    }
    Ok(StoredPasskey {
        entry: PasskeyEntry {
            passkey_id: encode(&credential.id),
            name: registration.name,
            created_at: registration.now_seconds,
            last_used_at: None,
        },
        public_key: credential.public_key,
        sign_count: credential.sign_count,
        regressions: 0,
    })
}

fn unknown() -> String {
    "No passkey of this id is registered to this account.".into()
}

impl AccountKeyring {
    /// The approval challenges kept, without those lapsed by now.
    async fn pending(&self) -> Result<Vec<PendingApproval>> {
        let mut pending = self.approvals.load(&self.state).await?.unwrap_or_default();
        let now_ms = Date::now().as_millis();
        pending.retain(|approval| now_ms < approval.expires_at_ms);
        Ok(pending)
    }

    /// Applies `change` to the keyring as `stored`, and stores it if the change was made.
    async fn change(
        &self,
        stored: Option<Keyring>,
        change: impl FnOnce(&mut Keyring) -> std::result::Result<(), KeyringRefusal>,
    ) -> Result<std::result::Result<(), KeyringRefusal>> {
        let Some(mut keyring) = stored else {
            return Ok(Err(KeyringRefusal::Unknown));
        };
        let changed = change(&mut keyring);
        if changed.is_ok() {
            self.store(&keyring).await?;
        }
        Ok(changed)
    }

    async fn store(&self, keyring: &Keyring) -> Result<()> {
        // The alarm first: a keyring stored without one would never be forgotten.
        objects::wake_at(&self.state, keyring.expires_at_ms).await?;
        self.keyring.store(&self.state, keyring).await
    }

    /// The assertion's checks and its signature against `keyring` as loaded, then its count
    /// against the keyring as stored now: the signature's check awaits WebCrypto, during which
    /// another sign-in may have moved the count, and the count is decided and stored with no
    /// await but storage's. A count that did not advance is stored as refused before the
    /// refusal is answered.
    async fn sign_in(
        &self,
        keyring: &Keyring,
        assertion: &SignInAssertion,
        now_seconds: u64,
        expires_at_ms: u64,
    ) -> Result<std::result::Result<Account, String>> {
        let Some(passkey) = keyring.find(&assertion.passkey_id) else {
            return Ok(Err(unknown()));
        };
        let decoded = (
            decode(&assertion.client_data_json),
            decode(&assertion.authenticator_data),
            decode(&assertion.signature),
        );
        let (Ok(client_data), Ok(authenticator_data), Ok(signature)) = decoded else {
            return Ok(Err("A member of the assertion is not base64url.".into()));
        };
        let expected = Expected {
            rp_id: &assertion.rp_id,
            origin: &assertion.origin,
            challenge: &assertion.challenge,
        };
        let checked = match check_assertion(
            expected,
            &client_data,
            &authenticator_data,
            &signature,
            &passkey.public_key,
        ) {
            Ok(checked) => checked,
            Err(refusal) => return Ok(Err(refusal.reason().into())),
        };
        if !webcrypto::verify_passkey(&passkey.public_key, &checked.signed).await {
            return Ok(Err(
                "The signature does not verify with the passkey's key.".into()
            ));
        }
        let Some(mut keyring) = self.keyring.load(&self.state).await? else {
            return Ok(Err(unknown()));
        };
        let used = keyring.used(
            &assertion.passkey_id,
            checked.sign_count,
            now_seconds,
            expires_at_ms,
        );
        match used {
            Ok(()) => {
                self.store(&keyring).await?;
                Ok(Ok(keyring.account))
            }
            Err(KeyringRefusal::SignCountRegressed) => {
                self.store(&keyring).await?;
                Ok(Err(
                    "The passkey's sign count did not advance: it may have been copied.".into(),
                ))
            }
            Err(_) => Ok(Err(unknown())),
        }
    }
}

//! A grant: what a person allowed one client, from the code handed to the client to its last
//! refresh token. One writer holds it (the grant's own Durable Object on the edge), asks these
//! rules with `now` passed in and stores the result, so that a code is redeemed once and a
//! refresh token rotates once, wherever the racing requests arrive (`shared/API.md`). Secrets
//! arrive as SHA-256 hashes and are compared by the caller's constant-time `same`.
//!
//! A revoked grant is not kept: its object forgets everything, and an unknown grant refuses
//! every token as surely as a revoked one (its id is never made again).

use super::{Amr, CODE_TTL_SECONDS};
use crate::Account;
use serde::{Deserialize, Serialize};

/// How many refresh tokens a grant remembers after they were rotated away, to tell a replayed
/// one (which revokes the grant) from a guess (which does not). An older one is refused as
/// unknown.
pub const MAX_RETIRED_REFRESH_TOKENS: usize = 50;
/// How often, at most, a grant's use is reported to its account's list of connected apps.
pub const USE_REPORT_INTERVAL_MS: u64 = 3600 * 1000;

/// The id of the grant a code, refresh token or access token's `jti` belongs to: the 64
/// lower-case hex digits before its first `.`.
pub fn token_grant_id(token: &str) -> Option<&str> {
    let (grant_id, rest) = token.split_once('.')?;
    (is_grant_id(grant_id) && !rest.is_empty()).then_some(grant_id)
}

/// A grant's id: its object's, 64 lower-case hex digits.
pub fn is_grant_id(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub account: Account,
    pub client_id: String,
    pub client_name: String,
    pub scope: Vec<String>,
    /// When the person authenticated (Unix seconds): the ID token's `auth_time`.
    pub auth_time: u64,
    pub amr: Amr,
    pub created_at_ms: u64,
    /// When its refresh tokens stop working: `SESSION_TTL_SECONDS` after the grant was made.
    pub expires_at_ms: u64,
    pub stage: Stage,
    pub last_used_at_ms: u64,
    /// When a use was last reported to the account's list of connected apps.
    pub use_reported_at_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// Handed to the client as a code, not yet redeemed.
    Code(Code),
    /// Redeemed: tokens were issued. The code's hash is kept, to know it again; a device's
    /// grant had none (its tokens were issued at once).
    Active {
        code_hash: Option<String>,
        refresh: Option<Refresh>,
    },
}

/// What a code is bound to (`shared/API.md`): the client (the grant's), the redirect URI, the
/// challenge, the nonce, the scope, the account and the time of the confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Code {
    pub hash: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub expires_at_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refresh {
    pub current_hash: String,
    /// The hashes of the tokens rotated away, newest first.
    pub retired: Vec<String>,
    /// For a public client that proved a key (DPoP) when the token was issued: refreshing
    /// needs a proof by that key.
    pub dpop_jkt: Option<String>,
}

impl From<NewRefresh> for Refresh {
    fn from(new: NewRefresh) -> Self {
        Self {
            current_hash: new.hash,
            retired: Vec::new(),
            dpop_jkt: new.dpop_jkt,
        }
    }
}

/// A new refresh token for a redemption or a rotation: its hash, and the key it is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRefresh {
    pub hash: String,
    pub dpop_jkt: Option<String>,
}

/// A code presented at the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redemption {
    pub code_hash: String,
    pub client_id: String,
    /// Optional at the token endpoint; compared when sent.
    pub redirect_uri: Option<String>,
    /// The S256 of the presented `code_verifier`.
    pub verifier_challenge: String,
    /// Issued when the client has the refresh grant.
    pub refresh: Option<NewRefresh>,
}

/// A refresh token presented at the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    pub refresh_hash: String,
    pub client_id: String,
    /// The key of the request's DPoP proof, if it carried one.
    pub dpop_jkt: Option<String>,
    pub next: NewRefresh,
}

/// Why the grant refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// `invalid_grant`; the grant stands.
    InvalidGrant,
    /// `invalid_grant`, and the grant is revoked: a redeemed code, or a rotated refresh token,
    /// came again (RFC 6749 §4.1.2, RFC 9700 §4.14.2).
    Replayed,
}

/// What tokens may be issued for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    pub account: Account,
    pub scope: Vec<String>,
    pub auth_time: u64,
    pub amr: Amr,
    /// Only when a code is redeemed: a refreshed ID token carries none (OpenID Connect Core
    /// §12.2).
    pub nonce: Option<String>,
    /// Whether the caller is to report this use to the account's list (at most hourly).
    pub report_use: bool,
}

/// Everything a new grant is made of: when its code is handed out, or for a device, when its
/// tokens are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewGrant {
    pub account: Account,
    pub client_id: String,
    pub client_name: String,
    pub scope: Vec<String>,
    pub auth_time: u64,
    pub amr: Amr,
    pub handed_out: HandedOut,
}

impl NewGrant {
    /// What a grant handed out as tokens at once (a device's) issues them for.
    pub fn issued(&self) -> Issued {
        Issued {
            account: self.account.clone(),
            scope: self.scope.clone(),
            auth_time: self.auth_time,
            amr: self.amr,
            nonce: None,
            report_use: false,
        }
    }
}

/// How a new grant is handed out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HandedOut {
    /// As a code, and what it is bound to.
    Code {
        hash: String,
        redirect_uri: String,
        code_challenge: String,
        nonce: Option<String>,
    },
    /// As tokens at once (a device's grant), with this refresh token if the client has that
    /// grant.
    Tokens { refresh: Option<NewRefresh> },
}

impl Grant {
    /// A grant handed out at `now_ms`, to live `ttl_seconds`.
    pub fn new(new: NewGrant, now_ms: u64, ttl_seconds: u64) -> Self {
        let stage = match new.handed_out {
            HandedOut::Code {
                hash,
                redirect_uri,
                code_challenge,
                nonce,
            } => Stage::Code(Code {
                hash,
                redirect_uri,
                code_challenge,
                nonce,
                expires_at_ms: now_ms + CODE_TTL_SECONDS * 1000,
            }),
            HandedOut::Tokens { refresh } => Stage::Active {
                code_hash: None,
                refresh: refresh.map(Refresh::from),
            },
        };
        Self {
            account: new.account,
            client_id: new.client_id,
            client_name: new.client_name,
            scope: new.scope,
            auth_time: new.auth_time,
            amr: new.amr,
            created_at_ms: now_ms,
            expires_at_ms: now_ms + ttl_seconds * 1000,
            stage,
            last_used_at_ms: now_ms,
            use_reported_at_ms: now_ms,
        }
    }

    /// Redeems the code: once, by its client, with its redirect URI and verifier, in time.
    /// A code presented after its redemption revokes the grant; a failed check does not use
    /// the code up.
    pub fn redeem(
        &mut self,
        redemption: Redemption,
        now_ms: u64,
        same: impl Fn(&str, &str) -> bool,
    ) -> Result<Issued, Refusal> {
        let code = match &self.stage {
            Stage::Code(code) if same(&code.hash, &redemption.code_hash) => code,
            Stage::Active {
                code_hash: Some(code_hash),
                ..
            } if same(code_hash, &redemption.code_hash) => {
                return Err(Refusal::Replayed);
            }
            _ => return Err(Refusal::InvalidGrant),
        };
        let holds = now_ms < code.expires_at_ms
            && redemption.client_id == self.client_id
            && redemption
                .redirect_uri
                .as_ref()
                .is_none_or(|uri| *uri == code.redirect_uri)
            && same(&redemption.verifier_challenge, &code.code_challenge);
        if !holds {
            return Err(Refusal::InvalidGrant);
        }
        let nonce = code.nonce.clone();
        self.stage = Stage::Active {
            code_hash: Some(code.hash.clone()),
            refresh: redemption.refresh.map(Refresh::from),
        };
        self.last_used_at_ms = now_ms;
        Ok(self.issued(nonce, false))
    }

    /// Rotates the refresh token: the current one, by its client (with a proof by its key if
    /// it is bound to one), before the grant expires. A token rotated away revokes the grant.
    pub fn rotate(
        &mut self,
        rotation: Rotation,
        now_ms: u64,
        same: impl Fn(&str, &str) -> bool,
    ) -> Result<Issued, Refusal> {
        let live = now_ms < self.expires_at_ms;
        let client_id = &self.client_id;
        let Stage::Active {
            refresh: Some(refresh),
            ..
        } = &mut self.stage
        else {
            return Err(Refusal::InvalidGrant);
        };
        if same(&refresh.current_hash, &rotation.refresh_hash) {
            let key_holds = refresh
                .dpop_jkt
                .as_ref()
                .is_none_or(|bound| rotation.dpop_jkt.as_ref() == Some(bound));
            if !(live && rotation.client_id == *client_id && key_holds) {
                return Err(Refusal::InvalidGrant);
            }
            let retired = std::mem::replace(&mut refresh.current_hash, rotation.next.hash);
            refresh.retired.insert(0, retired);
            refresh.retired.truncate(MAX_RETIRED_REFRESH_TOKENS);
            // A bound token's successor stays bound to the same key.
            if refresh.dpop_jkt.is_none() {
                refresh.dpop_jkt = rotation.next.dpop_jkt;
            }
        } else if refresh
            .retired
            .iter()
            .any(|old| same(old, &rotation.refresh_hash))
        {
            return Err(Refusal::Replayed);
        } else {
            return Err(Refusal::InvalidGrant);
        }
        self.last_used_at_ms = now_ms;
        let report_use = now_ms >= self.use_reported_at_ms + USE_REPORT_INTERVAL_MS;
        if report_use {
            self.use_reported_at_ms = now_ms;
        }
        Ok(self.issued(None, report_use))
    }

    /// Whether the grant's access tokens still stand (it was redeemed and has not expired;
    /// a revoked grant is gone altogether).
    pub fn is_active(&self, now_ms: u64) -> bool {
        matches!(self.stage, Stage::Active { .. }) && now_ms < self.expires_at_ms
    }

    /// Whether `refresh_hash` is one of this grant's refresh tokens, current or rotated away:
    /// a client revoking one of its own (RFC 7009) proves the grant is its.
    pub fn knows_refresh_token(
        &self,
        refresh_hash: &str,
        same: impl Fn(&str, &str) -> bool,
    ) -> bool {
        match &self.stage {
            Stage::Active {
                refresh: Some(refresh),
                ..
            } => {
                same(&refresh.current_hash, refresh_hash)
                    || refresh.retired.iter().any(|old| same(old, refresh_hash))
            }
            _ => false,
        }
    }

    /// When nothing of the grant is needed any more: an unredeemed code's expiry, or the
    /// grant's.
    pub fn collect_at_ms(&self) -> u64 {
        match &self.stage {
            Stage::Code(code) => code.expires_at_ms,
            Stage::Active { .. } => self.expires_at_ms,
        }
    }

    fn issued(&self, nonce: Option<String>, report_use: bool) -> Issued {
        Issued {
            account: self.account.clone(),
            scope: self.scope.clone(),
            auth_time: self.auth_time,
            amr: self.amr,
            nonce,
            report_use,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000_000;
    const TTL: u64 = 30 * 24 * 3600;
    const GRANT_ID: &str = "4f2c0d6a8e5b4e1a9c3d7b8a6e5f4d3c4f2c0d6a8e5b4e1a9c3d7b8a6e5f4d3c";

    fn same(a: &str, b: &str) -> bool {
        a == b
    }

    fn grant() -> Grant {
        Grant::new(
            NewGrant {
                account: Account {
                    account_id: "acct".into(),
                    username: "ann".into(),
                    display_name: "Ann".into(),
                },
                client_id: "app".into(),
                client_name: "App".into(),
                scope: vec!["openid".into()],
                auth_time: NOW / 1000,
                amr: Amr::Mca,
                handed_out: HandedOut::Code {
                    hash: "code".into(),
                    redirect_uri: "https://app.example/cb".into(),
                    code_challenge: "challenge".into(),
                    nonce: Some("n".into()),
                },
            },
            NOW,
            TTL,
        )
    }

    fn redemption() -> Redemption {
        Redemption {
            code_hash: "code".into(),
            client_id: "app".into(),
            redirect_uri: Some("https://app.example/cb".into()),
            verifier_challenge: "challenge".into(),
            refresh: Some(NewRefresh {
                hash: "r1".into(),
                dpop_jkt: None,
            }),
        }
    }

    fn rotation(presented: &str, next: &str) -> Rotation {
        Rotation {
            refresh_hash: presented.into(),
            client_id: "app".into(),
            dpop_jkt: None,
            next: NewRefresh {
                hash: next.into(),
                dpop_jkt: None,
            },
        }
    }

    fn redeemed() -> Grant {
        let mut grant = grant();
        grant.redeem(redemption(), NOW, same).unwrap();
        grant
    }

    #[test]
    fn grant_ids_come_before_the_first_dot() {
        assert_eq!(token_grant_id(&format!("{GRANT_ID}.abc")), Some(GRANT_ID));
        assert_eq!(token_grant_id(&format!("{GRANT_ID}.")), None);
        assert_eq!(token_grant_id("short.abc"), None);
        assert_eq!(
            token_grant_id(&GRANT_ID.to_uppercase().replace('C', "c")),
            None
        );
        assert_eq!(token_grant_id("no dot"), None);
    }

    #[test]
    fn a_code_is_redeemed_once_and_its_replay_revokes() {
        let mut grant = grant();
        let issued = grant.redeem(redemption(), NOW + 1, same).unwrap();
        assert_eq!(issued.nonce.as_deref(), Some("n"));
        assert!(grant.is_active(NOW + 1));
        assert_eq!(
            grant.redeem(redemption(), NOW + 2, same),
            Err(Refusal::Replayed)
        );
    }

    #[test]
    fn each_binding_of_the_code_must_hold_and_a_failed_check_leaves_it_usable() {
        let late = NOW + CODE_TTL_SECONDS * 1000;
        let cases: Vec<(Redemption, u64)> = vec![
            (
                Redemption {
                    code_hash: "other".into(),
                    ..redemption()
                },
                NOW,
            ),
            (
                Redemption {
                    client_id: "other".into(),
                    ..redemption()
                },
                NOW,
            ),
            (
                Redemption {
                    redirect_uri: Some("https://app.example/other".into()),
                    ..redemption()
                },
                NOW,
            ),
            (
                Redemption {
                    verifier_challenge: "wrong".into(),
                    ..redemption()
                },
                NOW,
            ),
            (redemption(), late),
        ];
        let mut grant = grant();
        for (redemption, at) in cases {
            assert_eq!(
                grant.redeem(redemption.clone(), at, same),
                Err(Refusal::InvalidGrant),
                "{redemption:?} at {at}"
            );
        }
        let without_redirect_uri = Redemption {
            redirect_uri: None,
            ..redemption()
        };
        assert!(grant.redeem(without_redirect_uri, late - 1, same).is_ok());
    }

    #[test]
    fn a_refresh_token_rotates_once_and_its_replay_revokes() {
        let mut grant = redeemed();
        let issued = grant.rotate(rotation("r1", "r2"), NOW + 10, same).unwrap();
        assert_eq!(issued.nonce, None, "a refreshed ID token carries no nonce");
        assert_eq!(
            grant.rotate(rotation("r1", "r3"), NOW + 11, same),
            Err(Refusal::Replayed)
        );
        assert!(grant.rotate(rotation("r2", "r4"), NOW + 12, same).is_ok());
        assert_eq!(
            grant.rotate(rotation("guess", "r5"), NOW + 13, same),
            Err(Refusal::InvalidGrant)
        );
    }

    #[test]
    fn a_refresh_needs_its_client_its_key_and_a_live_grant() {
        let mut grant = redeemed();
        let other_client = Rotation {
            client_id: "other".into(),
            ..rotation("r1", "r2")
        };
        assert_eq!(
            grant.rotate(other_client, NOW, same),
            Err(Refusal::InvalidGrant)
        );
        let expired = NOW + TTL * 1000;
        assert_eq!(
            grant.rotate(rotation("r1", "r2"), expired, same),
            Err(Refusal::InvalidGrant)
        );
        let mut bound = grant.clone();
        if let Stage::Active {
            refresh: Some(refresh),
            ..
        } = &mut bound.stage
        {
            refresh.dpop_jkt = Some("key".into());
        }
        assert_eq!(
            bound.rotate(rotation("r1", "r2"), NOW, same),
            Err(Refusal::InvalidGrant)
        );
        let with_key = Rotation {
            dpop_jkt: Some("key".into()),
            ..rotation("r1", "r2")
        };
        assert!(bound.rotate(with_key, NOW, same).is_ok());
        assert!(grant.rotate(rotation("r1", "r2"), NOW, same).is_ok());
    }

    #[test]
    fn a_code_is_not_a_refresh_token() {
        let mut grant = grant();
        assert_eq!(
            grant.rotate(rotation("code", "r2"), NOW, same),
            Err(Refusal::InvalidGrant)
        );
        assert!(!grant.is_active(NOW));
    }

    #[test]
    fn rotated_tokens_are_remembered_up_to_a_bound() {
        let mut grant = redeemed();
        let mut current = "r1".to_owned();
        for n in 0..MAX_RETIRED_REFRESH_TOKENS + 1 {
            let next = format!("t{n}");
            grant.rotate(rotation(&current, &next), NOW, same).unwrap();
            current = next;
        }
        assert!(
            !grant.knows_refresh_token("r1", same),
            "forgotten past the bound"
        );
        assert!(grant.knows_refresh_token("t0", same));
        assert!(grant.knows_refresh_token(&current, same));
        assert_eq!(
            grant.rotate(rotation("r1", "x"), NOW, same),
            Err(Refusal::InvalidGrant)
        );
    }

    #[test]
    fn uses_are_reported_at_most_hourly() {
        let mut grant = redeemed();
        let first = grant.rotate(rotation("r1", "r2"), NOW + 1, same).unwrap();
        assert!(!first.report_use);
        let later = NOW + USE_REPORT_INTERVAL_MS;
        assert!(
            grant
                .rotate(rotation("r2", "r3"), later, same)
                .unwrap()
                .report_use
        );
        assert!(
            !grant
                .rotate(rotation("r3", "r4"), later + 1, same)
                .unwrap()
                .report_use
        );
    }

    #[test]
    fn an_unredeemed_code_is_collected_when_it_expires() {
        let grant = grant();
        assert_eq!(grant.collect_at_ms(), NOW + CODE_TTL_SECONDS * 1000);
        assert_eq!(redeemed().collect_at_ms(), NOW + TTL * 1000);
    }

    #[test]
    fn a_devices_grant_is_made_with_its_tokens_and_rotates_as_any() {
        let new = NewGrant {
            account: grant().account,
            client_id: "app".into(),
            client_name: "App".into(),
            scope: vec!["openid".into()],
            auth_time: NOW / 1000,
            amr: Amr::Mca,
            handed_out: HandedOut::Tokens {
                refresh: Some(NewRefresh {
                    hash: "r1".into(),
                    dpop_jkt: None,
                }),
            },
        };
        let issued = new.issued();
        assert_eq!((issued.nonce, issued.report_use), (None, false));
        let mut grant = Grant::new(new, NOW, TTL);
        assert!(grant.is_active(NOW));
        assert_eq!(
            grant.redeem(redemption(), NOW, same),
            Err(Refusal::InvalidGrant),
            "it has no code"
        );
        assert!(grant.rotate(rotation("r1", "r2"), NOW, same).is_ok());
    }
}

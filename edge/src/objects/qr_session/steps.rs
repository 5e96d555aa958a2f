//! One step against a session, with no I/O: the object stores and pushes what [`apply`] says.
//! The rules themselves are `qrgate_protocol::qr`'s; this adds who may take each step.

use super::rpc::{Outcome, PcProof, PickUp, PresentedKey, Refusal, Step};
use crate::crypto::constant_time_eq;
use qrgate_protocol::qr::{Audience, QrSession};

/// What a step did to the session: its answer, whether the session must be stored, and
/// whether the PC's sockets must be told a new status.
#[derive(Debug)]
pub(super) struct Applied {
    pub(super) outcome: Outcome,
    pub(super) changed: bool,
    pub(super) status_changed: bool,
}

impl Applied {
    fn unchanged(outcome: Outcome) -> Self {
        Self {
            outcome,
            changed: false,
            status_changed: false,
        }
    }

    fn changed(outcome: Outcome, status_changed: bool) -> Self {
        Self {
            outcome,
            changed: true,
            status_changed,
        }
    }
}

/// One step against the session, with no I/O: the object stores and pushes what this says.
pub(super) fn apply(
    session: &mut QrSession,
    step: Step,
    now_ms: u64,
) -> std::result::Result<Applied, Refusal> {
    let rules = session.rules;
    Ok(match step {
        Step::Poll(proof) => {
            let claimed = check_creator(session, &proof, rules.key_required)?;
            let status = session.status(now_ms);
            let pick_up = session.pick_up(now_ms).map(|confirmation| PickUp {
                account: confirmation.account,
                confirmed_at_ms: confirmation.at_ms,
                device_name: session.pc.info.device_name.clone(),
                dpop_jkt: session.pc.dpop_jkt.clone(),
            });
            let picked_up = pick_up.is_some();
            let outcome = Outcome::Polled {
                status,
                expires_at: session.expires_at,
                interval: rules.interval,
                pick_up,
                app: session.audience.app().cloned(),
            };
            if picked_up || claimed {
                Applied::changed(outcome, false)
            } else {
                Applied::unchanged(outcome)
            }
        }
        Step::ReleasePickUp => {
            session.release_pick_up();
            Applied::changed(Outcome::Done, false)
        }
        Step::Cancel(proof) => {
            check_creator(session, &proof, rules.key_required)?;
            session.cancel(now_ms)?;
            Applied::changed(Outcome::Done, true)
        }
        Step::Scan {
            scanner,
            scan_token_hash,
        } => {
            // A rescan by the same phone changes nothing the PC sees: nothing to push.
            let status_changed = session.scan(scanner, scan_token_hash, now_ms)?;
            let outcome = Outcome::Scanned {
                expires_at: session.expires_at,
                pc: session.pc.info.clone(),
                audience: session.audience.clone(),
            };
            Applied::changed(outcome, status_changed)
        }
        Step::DevicePoll {
            device_code_hash,
            client_id,
        } => {
            let code_matches = presents_secret(session, &device_code_hash);
            let same_client = matches!(&session.audience,
                Audience::Device(device) if device.client_id == client_id);
            if !(code_matches & same_client) {
                return Err(Refusal::Unauthorized);
            }
            let poll = session.device_poll(now_ms);
            let Audience::Device(device) = &session.audience else {
                return Err(Refusal::Unauthorized);
            };
            let outcome = Outcome::DevicePolled {
                poll,
                device: device.clone(),
                pc: session.pc.info.clone(),
            };
            // Every poll is stored: it is the last poll the next one is measured from.
            Applied::changed(outcome, false)
        }
        Step::Decide {
            scanner,
            scan_token_hash,
            verdict,
        } => {
            let token_matches = session.scan_token_hash().is_some_and(|stored| {
                constant_time_eq(stored.as_bytes(), scan_token_hash.as_bytes())
            });
            session.decide(&scanner, token_matches, verdict, now_ms)?;
            Applied::changed(Outcome::Done, true)
        }
    })
}

/// Whether `secret_hash` is the hash of the session's poll secret (a device's: its device code),
/// compared in constant time.
pub(super) fn presents_secret(session: &QrSession, secret_hash: &str) -> bool {
    constant_time_eq(
        secret_hash.as_bytes(),
        session.pc.poll_secret_hash.as_bytes(),
    )
}

/// Whether `proof` is the creating PC's. Both halves are always evaluated, and the hash is
/// compared in constant time.
pub(super) fn is_creator(session: &QrSession, proof: &PcProof) -> bool {
    let secret_matches = presents_secret(session, &proof.poll_secret_hash);
    let same_device = session
        .pc
        .is_device(&proof.pc.device_id, proof.pc.device_type);
    secret_matches & same_device
}

/// A poll or a cancel by the creating PC: its poll secret and device, then its proof: never an
/// invalid one, and for a session created with a DPoP proof, one by the same key. A session
/// the edge made for a page is first claimed here by the device and key of the first request
/// that presents its poll secret; whether this one did (the session is then to be stored). A
/// device's session is polled only at the token endpoint, by its device code.
fn check_creator(
    session: &mut QrSession,
    proof: &PcProof,
    require_key: bool,
) -> std::result::Result<bool, Refusal> {
    if matches!(session.audience, Audience::Device(_)) {
        return Err(Refusal::Unauthorized);
    }
    if session.pc.device_id.is_none() && presents_secret(session, &proof.poll_secret_hash) {
        let key = match &proof.key {
            PresentedKey::Invalid => return Err(Refusal::InvalidDpopProof),
            PresentedKey::None if require_key => return Err(Refusal::InvalidDpopProof),
            PresentedKey::None => None,
            PresentedKey::Proven(key) => Some(key.clone()),
        };
        let (device_id, device_type) = (&proof.pc.device_id, proof.pc.device_type);
        return match session.pc.claim(device_id, device_type, key) {
            true => Ok(true),
            false => Err(Refusal::Unauthorized),
        };
    }
    if !is_creator(session, proof) {
        return Err(Refusal::Unauthorized);
    }
    match (&session.pc.dpop_jkt, &proof.key) {
        (_, PresentedKey::Invalid) => Err(Refusal::InvalidDpopProof),
        (Some(bound), PresentedKey::Proven(key)) if key == bound => Ok(false),
        (Some(_), _) => Err(Refusal::InvalidDpopProof),
        (None, _) => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::DeviceHeaders;
    use crate::crypto::hash_secret;
    use qrgate_protocol::location::Location;
    use qrgate_protocol::oauth::device::ForDevice;
    use qrgate_protocol::qr::{Creator, SessionRules};
    use qrgate_protocol::qr::{DevicePoll, Scanner, StepError, Verdict};
    use qrgate_protocol::{Account, DeviceType};
    use qrgate_protocol::{PcInfo, QrStatus};

    const NOW: u64 = 1_700_000_000_000;
    fn pc() -> DeviceHeaders {
        DeviceHeaders {
            device_id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
            device_type: DeviceType::Pc,
        }
    }

    fn phone(account_id: &str) -> Scanner {
        Scanner {
            account: Account {
                account_id: account_id.into(),
                username: account_id.into(),
                display_name: account_id.into(),
            },
            device_id: "6f1c2a9e-3b7d-4c2f-9a51-2d8e7b4f0c11".into(),
        }
    }

    fn session() -> QrSession {
        let pc = pc();
        QrSession::new(
            Creator {
                device_id: Some(pc.device_id),
                poll_secret_hash: hash_secret("poll-secret"),
                dpop_jkt: None,
                info: PcInfo::new(
                    pc.device_type,
                    "Work PC".into(),
                    NOW / 1000,
                    Location::default(),
                ),
            },
            NOW / 1000 + 120,
            Audience::Qrgate,
            SessionRules::default(),
        )
    }

    fn proof(secret: &str, pc: DeviceHeaders) -> PcProof {
        PcProof {
            pc,
            poll_secret_hash: hash_secret(secret),
            key: PresentedKey::None,
        }
    }

    fn poll(secret: &str, pc: DeviceHeaders) -> Step {
        Step::Poll(proof(secret, pc))
    }

    fn scan(account_id: &str, token: &str) -> Step {
        Step::Scan {
            scanner: phone(account_id),
            scan_token_hash: hash_secret(token),
        }
    }

    fn decide(account_id: &str, token: &str, verdict: Verdict) -> Step {
        Step::Decide {
            scanner: phone(account_id),
            scan_token_hash: hash_secret(token),
            verdict,
        }
    }

    /// `account_id`'s phone scans the session and confirms it.
    fn scan_and_confirm(session: &mut QrSession, account_id: &str) {
        apply(session, scan(account_id, "t1"), NOW).unwrap();
        let confirm = decide(account_id, "t1", Verdict::Confirmed);
        apply(session, confirm, NOW).unwrap();
    }

    fn picked_up(applied: &Applied) -> Option<&Account> {
        match &applied.outcome {
            Outcome::Polled { pick_up, .. } => pick_up.as_ref().map(|p| &p.account),
            other => panic!("not a poll: {other:?}"),
        }
    }

    #[test]
    fn polls_need_the_poll_secret_and_the_creating_device() {
        let mut session = session();
        let other_device = DeviceHeaders {
            device_type: DeviceType::Web,
            ..pc()
        };
        for step in [poll("wrong", pc()), poll("poll-secret", other_device)] {
            assert_eq!(
                apply(&mut session, step, NOW).err(),
                Some(Refusal::Unauthorized)
            );
        }
        let applied = apply(&mut session, poll("poll-secret", pc()), NOW).unwrap();
        assert!(!applied.changed, "a plain poll stores nothing");
        assert!(picked_up(&applied).is_none());
    }

    #[test]
    fn a_session_made_with_a_key_is_polled_and_cancelled_only_with_that_key() {
        let mut session = session();
        session.pc.dpop_jkt = Some("pc-key".into());
        let with_key = |key: PresentedKey| PcProof {
            key,
            ..proof("poll-secret", pc())
        };
        let others = || {
            [
                PresentedKey::None,
                PresentedKey::Proven("another key".into()),
                PresentedKey::Invalid,
            ]
        };
        for key in others() {
            assert_eq!(
                apply(&mut session, Step::Poll(with_key(key)), NOW).err(),
                Some(Refusal::InvalidDpopProof)
            );
        }
        for key in others() {
            assert_eq!(
                apply(&mut session, Step::Cancel(with_key(key)), NOW).err(),
                Some(Refusal::InvalidDpopProof)
            );
        }
        // The poll secret is checked first: a wrong one says nothing about the key.
        let wrong_secret = PcProof {
            key: PresentedKey::Invalid,
            ..proof("wrong", pc())
        };
        assert_eq!(
            apply(&mut session, Step::Poll(wrong_secret), NOW).err(),
            Some(Refusal::Unauthorized)
        );
        scan_and_confirm(&mut session, "ann");
        let applied = apply(
            &mut session,
            Step::Poll(with_key(PresentedKey::Proven("pc-key".into()))),
            NOW,
        )
        .unwrap();
        match applied.outcome {
            Outcome::Polled {
                pick_up: Some(pick_up),
                ..
            } => assert_eq!(pick_up.dpop_jkt.as_deref(), Some("pc-key")),
            other => panic!("no pick-up: {other:?}"),
        }
    }

    /// A session the edge made for a page it served: no device yet.
    fn unclaimed() -> QrSession {
        let mut session = session();
        session.pc.device_id = None;
        session
    }

    #[test]
    fn the_first_poll_with_the_secret_claims_an_unclaimed_session_for_its_device() {
        let mut session = unclaimed();
        assert_eq!(
            apply(&mut session, poll("wrong", pc()), NOW).err(),
            Some(Refusal::Unauthorized)
        );
        assert_eq!(session.pc.device_id, None, "a wrong secret claims nothing");
        let claim = apply(&mut session, poll("poll-secret", pc()), NOW).unwrap();
        assert!(
            claim.changed && !claim.status_changed,
            "the claim is stored, not pushed"
        );
        let other = DeviceHeaders {
            device_id: "2c0d6a8e-5f4b-4e1a-9c3d-7b8a6e5f4d3c".into(),
            ..pc()
        };
        assert_eq!(
            apply(&mut session, poll("poll-secret", other), NOW).err(),
            Some(Refusal::Unauthorized)
        );
        let again = apply(&mut session, poll("poll-secret", pc()), NOW).unwrap();
        assert!(!again.changed);
    }

    #[test]
    fn a_claim_binds_the_key_it_proves_and_an_edge_that_requires_keys_needs_one() {
        let mut session = unclaimed();
        session.rules.key_required = true;
        assert_eq!(
            apply(&mut session, poll("poll-secret", pc()), NOW).err(),
            Some(Refusal::InvalidDpopProof)
        );
        let with_key = |key: &str| PcProof {
            key: PresentedKey::Proven(key.into()),
            ..proof("poll-secret", pc())
        };
        apply(&mut session, Step::Poll(with_key("jkt")), NOW).unwrap();
        assert_eq!(session.pc.dpop_jkt.as_deref(), Some("jkt"));
        assert_eq!(
            apply(&mut session, Step::Poll(with_key("other")), NOW).err(),
            Some(Refusal::InvalidDpopProof)
        );
    }

    #[test]
    fn a_scan_is_stored_and_pushed_once_and_a_rescan_only_stored() {
        let mut session = session();
        let first = apply(&mut session, scan("ann", "t1"), NOW).unwrap();
        assert!(first.changed && first.status_changed);
        let again = apply(&mut session, scan("ann", "t2"), NOW).unwrap();
        assert!(again.changed && !again.status_changed);
        assert_eq!(
            apply(&mut session, scan("bob", "t3"), NOW).err(),
            Some(Refusal::Step(StepError::Conflict))
        );
    }

    #[test]
    fn only_the_latest_scan_token_decides() {
        let mut session = session();
        apply(&mut session, scan("ann", "t1"), NOW).unwrap();
        apply(&mut session, scan("ann", "t2"), NOW).unwrap();
        assert_eq!(
            apply(&mut session, decide("ann", "t1", Verdict::Confirmed), NOW).err(),
            Some(Refusal::Step(StepError::Forbidden))
        );
        let applied = apply(&mut session, decide("ann", "t2", Verdict::Confirmed), NOW).unwrap();
        assert!(applied.changed && applied.status_changed);
    }

    #[test]
    fn the_confirming_account_is_picked_up_by_exactly_one_poll() {
        let mut session = session();
        scan_and_confirm(&mut session, "ann");
        let first = apply(&mut session, poll("poll-secret", pc()), NOW).unwrap();
        assert_eq!(picked_up(&first), Some(&phone("ann").account));
        assert!(first.changed && !first.status_changed);
        let second = apply(&mut session, poll("poll-secret", pc()), NOW).unwrap();
        assert_eq!(picked_up(&second), None);
        // A pick-up whose token could not be stored is given back, once.
        apply(&mut session, Step::ReleasePickUp, NOW).unwrap();
        let third = apply(&mut session, poll("poll-secret", pc()), NOW).unwrap();
        assert_eq!(picked_up(&third), Some(&phone("ann").account));
    }

    /// A device's session (RFC 8628), whose poll secret is its device code.
    fn device_session() -> QrSession {
        let mut session = unclaimed();
        session.pc.poll_secret_hash = hash_secret("qr.device-code");
        session.audience = Audience::Device(ForDevice::new(
            "cli".into(),
            "CLI".into(),
            vec!["openid".into()],
            "BCDFGHJK",
        ));
        session
    }

    fn device_poll(code: &str, client_id: &str) -> Step {
        Step::DevicePoll {
            device_code_hash: hash_secret(code),
            client_id: client_id.into(),
        }
    }

    #[test]
    fn a_device_polls_with_its_code_as_its_client_and_every_poll_is_stored() {
        assert_eq!(
            apply(&mut session(), device_poll("poll-secret", "cli"), NOW).err(),
            Some(Refusal::Unauthorized),
            "a PC's session is no device's"
        );
        let mut session = device_session();
        for step in [
            device_poll("qr.wrong", "cli"),
            device_poll("qr.device-code", "another-client"),
        ] {
            assert_eq!(
                apply(&mut session, step, NOW).err(),
                Some(Refusal::Unauthorized)
            );
        }
        let polled = apply(&mut session, device_poll("qr.device-code", "cli"), NOW);
        let polled = polled.unwrap();
        assert!(polled.changed && !polled.status_changed);
        match polled.outcome {
            Outcome::DevicePolled { poll, device, .. } => {
                assert_eq!(poll, DevicePoll::Pending);
                assert_eq!(device.last_poll_ms, Some(NOW));
            }
            other => panic!("{other:?}"),
        }
        // A QR session's poll is not polled as a device's, nor the other way round.
        assert_eq!(
            apply(&mut session, poll("qr.device-code", pc()), NOW).err(),
            Some(Refusal::Unauthorized)
        );
        assert_eq!(session.pc.device_id, None, "no PC claimed it");
    }

    #[test]
    fn a_cancel_needs_the_pc_and_ends_the_session() {
        let mut session = session();
        let cancel = |secret: &str| Step::Cancel(proof(secret, pc()));
        assert_eq!(
            apply(&mut session, cancel("wrong"), NOW).err(),
            Some(Refusal::Unauthorized)
        );
        let applied = apply(&mut session, cancel("poll-secret"), NOW).unwrap();
        assert!(applied.changed && applied.status_changed);
        assert_eq!(session.status(NOW), QrStatus::Cancelled);
        assert_eq!(
            apply(&mut session, scan("ann", "t1"), NOW).err(),
            Some(Refusal::Step(StepError::Conflict))
        );
    }
}

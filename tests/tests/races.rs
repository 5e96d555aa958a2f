//! The contract's safety property under races: whatever the interleaving, at most one phone
//! confirms a session, and the PC is signed in as exactly the account that confirmed it.

use futures::future::join_all;
use qrgate_protocol::{LoginSession, MeResponse, QrStatus, ScanResponse, Via};
use qrgate_tests::*;

const PHONES: usize = 12;
const ROUNDS: usize = 5;

async fn phones() -> Vec<(Device, LoginSession)> {
    join_all((0..PHONES).map(|_| async {
        let phone = Device::phone();
        let session = signed_in(&phone).await;
        (phone, session)
    }))
    .await
}

/// Polls until the session is decided and returns the login the PC picked up, if any.
async fn pick_up(pc: &Device, qr: &qrgate_protocol::CreateQrResponse) -> Option<LoginSession> {
    let polled = poll(pc, qr).await;
    assert!(
        matches!(polled.status, QrStatus::Confirmed | QrStatus::Scanned),
        "{polled:?}"
    );
    polled.session
}

async fn assert_signed_in_as(pc: &Device, login: &LoginSession, confirmed_by: &[&LoginSession]) {
    assert!(
        confirmed_by
            .iter()
            .any(|phone| phone.account == login.account),
        "the PC holds an account that did not confirm"
    );
    let me: MeResponse = me_call(pc, &login.token).send().await.expect(200);
    assert_eq!(me.account, login.account);
    assert_eq!(me.session.via, Via::Qr);
    assert_eq!(me.device.device_id, pc.id);
}

#[tokio::test]
async fn many_phones_scanning_then_confirming_at_once() {
    let phones = phones().await;
    for _ in 0..ROUNDS {
        let pc = Device::pc();
        let qr = create_qr(&pc).await;

        // Every phone scans in the same instant; each either gets a scan token or a 409.
        let scans = join_all(phones.iter().map(|(phone, session)| async {
            let reply = scan_call(phone, &session.token, &qr.qr_id).send().await;
            match reply.status.as_u16() {
                200 => Some(reply.expect::<ScanResponse>(200)),
                409 => None,
                other => panic!("scan answered {other}: {}", reply.text()),
            }
        }))
        .await;
        assert!(scans.iter().any(Option::is_some), "someone scans");

        // Everyone holding a scan token confirms in the same instant.
        let qr_id = qr.qr_id.as_str();
        let confirms = join_all(phones.iter().zip(&scans).filter_map(
            |((phone, session), scan)| {
                let scan = scan.as_ref()?;
                Some(async move {
                    let reply =
                        decide_call(phone, &session.token, qr_id, "confirm", &scan.scan_token)
                            .send()
                            .await;
                    let status = reply.status.as_u16();
                    assert!(
                        matches!(status, 204 | 403 | 409),
                        "confirm answered {status}"
                    );
                    (status == 204).then_some(session)
                })
            },
        ))
        .await;
        let confirmed: Vec<&LoginSession> = confirms.into_iter().flatten().collect();
        assert!(
            confirmed.len() <= 1,
            "{} phones confirmed one session",
            confirmed.len()
        );

        let login = pick_up(&pc, &qr).await;
        match (&login, confirmed.first()) {
            (Some(login), Some(_)) => assert_signed_in_as(&pc, login, &confirmed).await,
            (None, None) => {}
            (login, confirmer) => panic!(
                "PC login {:?} does not match the confirmation {:?}",
                login.as_ref().map(|l| &l.account),
                confirmer.map(|c| &c.account)
            ),
        }
    }
}

#[tokio::test]
async fn many_confirms_and_denies_with_one_scan_token_at_once() {
    let phone = Device::phone();
    let session = signed_in(&phone).await;
    let others = phones().await;
    for _ in 0..ROUNDS {
        let pc = Device::pc();
        let qr = create_qr(&pc).await;
        let scan = scan(&phone, &session.token, &qr.qr_id).await;

        // The scanning phone confirms repeatedly while every other phone tries its token.
        let own = (0..4).map(|_| {
            decide_call(
                &phone,
                &session.token,
                &qr.qr_id,
                "confirm",
                &scan.scan_token,
            )
            .send()
        });
        let foreign = others.iter().map(|(other, other_session)| {
            decide_call(
                other,
                &other_session.token,
                &qr.qr_id,
                "confirm",
                &scan.scan_token,
            )
            .send()
        });
        let replies = join_all(own.chain(foreign)).await;
        let (own_replies, foreign_replies) = replies.split_at(4);
        for reply in foreign_replies {
            let status = reply.status.as_u16();
            assert!(
                matches!(status, 403 | 409),
                "a stranger's confirm answered {status}"
            );
        }
        assert!(own_replies.iter().any(|r| r.status == 204));

        let login = pick_up(&pc, &qr).await.expect("confirmed");
        assert_signed_in_as(&pc, &login, &[&session]).await;
        // And never twice.
        assert!(poll(&pc, &qr).await.session.is_none());
    }
}

#[tokio::test]
async fn many_polls_at_the_moment_of_confirmation_mint_for_one_account_only() {
    let phone = Device::phone();
    let session = signed_in(&phone).await;
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let scan = scan(&phone, &session.token, &qr.qr_id).await;
    decide_call(
        &phone,
        &session.token,
        &qr.qr_id,
        "confirm",
        &scan.scan_token,
    )
    .send()
    .await
    .expect_empty(204);
    let polls = join_all((0..8).map(|_| poll(&pc, &qr))).await;
    let minted: Vec<LoginSession> = polls.into_iter().filter_map(|p| p.session).collect();
    assert!(!minted.is_empty());
    for login in &minted {
        assert_eq!(login.account, session.account);
    }
    // Whichever token survived is the PC's and belongs to the confirming account.
    let mut valid = 0;
    for login in &minted {
        let reply = me_call(&pc, &login.token).send().await;
        if reply.status == 200 {
            valid += 1;
            assert_eq!(reply.expect::<MeResponse>(200).account, session.account);
        }
    }
    assert_eq!(valid, 1, "one device holds one token");
}

//! The contract's linearizable steps, fired for real: many devices, each request on its own
//! connection, all at once, round after round, with the PC at location A and the phones spread
//! over A and B (another `wrangler dev` with its own KV that reaches A's session objects, as
//! two Cloudflare locations do). Each round has exactly one winner, and the PC's next poll and
//! its live socket both report that winner. Likewise for sign-ups racing for one username.

use futures::future::join_all;
use qrgate_protocol::live::CloseCode;
use qrgate_protocol::{
    Account, CreateQrResponse, LoginSession, MeResponse, QrStatus, ScanResponse, Via,
};
use qrgate_tests::live::LiveSocket;
use qrgate_tests::*;

const PHONES: usize = 16;
const ROUNDS: usize = 12;
const RACING_POLLS: usize = 16;

/// Signed-in phones, every other one at location B (signed in there, so its token is in B's KV).
async fn phones() -> Vec<(Device, LoginSession)> {
    join_all((0..PHONES).map(|i| async move {
        let location = if i % 2 == 0 { Location::A } else { Location::B };
        let phone = Device::phone().at(location);
        let session = signed_in(&phone).await;
        (phone, session)
    }))
    .await
}

/// A PC with a fresh session and its live socket, told `pending`.
async fn watched_session() -> (Device, CreateQrResponse, LiveSocket) {
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let mut socket = LiveSocket::watch(&pc, &qr).await;
    socket.expect_status(QrStatus::Pending).await;
    (pc, qr, socket)
}

async fn assert_signed_in_as(pc: &Device, login: &LoginSession, confirmer: &LoginSession) {
    assert_eq!(login.account, confirmer.account);
    let me: MeResponse = me_call(pc, &login.token).send().await.expect(200);
    assert_eq!(me.account, confirmer.account);
    assert_eq!(me.session.via, Via::Qr);
    assert_eq!(me.device.device_id, pc.id);
}

#[tokio::test]
async fn of_phones_scanning_one_session_at_once_exactly_one_wins() {
    let phones = phones().await;
    for round in 0..ROUNDS {
        let (pc, qr, mut socket) = watched_session().await;
        let replies = join_all(
            phones
                .iter()
                .map(|(phone, login)| scan_call(phone, &login.token, &qr.qr_id).send()),
        )
        .await;
        let mut winners = Vec::new();
        for ((phone, login), reply) in phones.iter().zip(&replies) {
            match reply.status.as_u16() {
                200 => winners.push((phone, login, reply.expect::<ScanResponse>(200))),
                409 => {}
                other => panic!("round {round}: a scan answered {other}: {}", reply.text()),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "round {round}: {} scans won",
            winners.len()
        );
        socket.expect_status(QrStatus::Scanned).await;
        assert_eq!(poll(&pc, &qr).await.status, QrStatus::Scanned);

        // Every phone now confirms with the winner's scan token: only the winner can.
        let (winner, winner_login, scanned) = &winners[0];
        let replies = join_all(phones.iter().map(|(phone, login)| {
            decide_call(
                phone,
                &login.token,
                &qr.qr_id,
                "confirm",
                &scanned.scan_token,
            )
            .send()
        }))
        .await;
        let mut confirmed = 0;
        for ((phone, _), reply) in phones.iter().zip(&replies) {
            match reply.status.as_u16() {
                204 => {
                    assert_eq!(phone.id, winner.id, "round {round}: a loser confirmed");
                    confirmed += 1;
                }
                403 | 409 => {}
                other => panic!(
                    "round {round}: a confirm answered {other}: {}",
                    reply.text()
                ),
            }
        }
        assert_eq!(confirmed, 1, "round {round}");
        socket.expect_status(QrStatus::Confirmed).await;
        socket.expect_close(CloseCode::Done).await;
        let login = poll(&pc, &qr).await.session.expect("the one pick-up");
        assert_signed_in_as(&pc, &login, winner_login).await;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Confirm,
    Deny,
    Cancel,
}

#[tokio::test]
async fn of_confirm_deny_and_cancel_racing_exactly_one_wins() {
    const EACH: usize = 5;
    let phone = Device::phone().at(Location::B);
    let login = signed_in(&phone).await;
    let mut wins = [0; 3];
    for round in 0..ROUNDS {
        let (pc, qr, mut socket) = watched_session().await;
        let scanned = scan(&phone, &login.token, &qr.qr_id).await;
        socket.expect_status(QrStatus::Scanned).await;

        let attempts: Vec<Decision> = (0..EACH)
            .flat_map(|_| [Decision::Confirm, Decision::Deny, Decision::Cancel])
            .collect();
        let replies = join_all(attempts.iter().map(|decision| match decision {
            Decision::Confirm | Decision::Deny => {
                let step = if *decision == Decision::Confirm {
                    "confirm"
                } else {
                    "deny"
                };
                decide_call(&phone, &login.token, &qr.qr_id, step, &scanned.scan_token).send()
            }
            Decision::Cancel => cancel_call(&pc, &qr).send(),
        }))
        .await;
        let mut winners = Vec::new();
        for (decision, reply) in attempts.iter().zip(&replies) {
            match reply.status.as_u16() {
                204 => winners.push(*decision),
                409 => {}
                other => panic!(
                    "round {round}: {decision:?} answered {other}: {}",
                    reply.text()
                ),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        let winner = winners[0];
        wins[winner as usize] += 1;

        let expected = match winner {
            Decision::Confirm => QrStatus::Confirmed,
            Decision::Deny => QrStatus::Denied,
            Decision::Cancel => QrStatus::Cancelled,
        };
        socket.expect_status(expected).await;
        socket.expect_close(CloseCode::Done).await;
        let polled = poll(&pc, &qr).await;
        assert_eq!(polled.status, expected, "round {round}");
        match (winner, polled.session) {
            (Decision::Confirm, Some(pc_login)) => {
                assert_signed_in_as(&pc, &pc_login, &login).await;
            }
            (Decision::Confirm, None) => panic!("round {round}: confirmed, but no token"),
            (_, Some(_)) => panic!("round {round}: {winner:?} won, yet a token was minted"),
            (_, None) => {}
        }
    }
    println!(
        "{ROUNDS} rounds of {} racing decisions: confirm won {}, deny {}, cancel {}; one winner each",
        EACH * 3,
        wins[0],
        wins[1],
        wins[2]
    );
}

#[tokio::test]
async fn of_polls_racing_after_confirmation_exactly_one_carries_the_token() {
    let phone = Device::phone().at(Location::B);
    let login = signed_in(&phone).await;
    for round in 0..ROUNDS {
        let (pc, qr, mut socket) = watched_session().await;
        scan_and_confirm(&phone, &login.token, &qr.qr_id).await;
        socket.expect_status(QrStatus::Scanned).await;
        socket.expect_status(QrStatus::Confirmed).await;

        let polls = join_all((0..RACING_POLLS).map(|_| poll(&pc, &qr))).await;
        assert!(polls.iter().all(|p| p.status == QrStatus::Confirmed));
        let minted: Vec<LoginSession> = polls.into_iter().filter_map(|p| p.session).collect();
        assert_eq!(
            minted.len(),
            1,
            "round {round}: {} tokens minted",
            minted.len()
        );
        assert_signed_in_as(&pc, &minted[0], &login).await;
        assert!(poll(&pc, &qr).await.session.is_none(), "and never again");
    }
}

#[tokio::test]
async fn a_stranger_holding_the_scan_token_never_decides() {
    let phone = Device::phone();
    let login = signed_in(&phone).await;
    let strangers = phones().await;
    for round in 0..ROUNDS {
        let (pc, qr, mut socket) = watched_session().await;
        let scanned = scan(&phone, &login.token, &qr.qr_id).await;
        socket.expect_status(QrStatus::Scanned).await;
        // The scanning phone confirms while every stranger tries its token at once.
        let own = decide_call(
            &phone,
            &login.token,
            &qr.qr_id,
            "confirm",
            &scanned.scan_token,
        )
        .send();
        let foreign = strangers.iter().map(|(stranger, stranger_login)| {
            decide_call(
                stranger,
                &stranger_login.token,
                &qr.qr_id,
                "deny",
                &scanned.scan_token,
            )
            .send()
        });
        let (own, foreign) = futures::join!(own, join_all(foreign));
        own.expect_empty(204);
        for reply in foreign {
            let status = reply.status.as_u16();
            assert!(matches!(status, 403 | 409), "round {round}: {status}");
        }
        socket.expect_status(QrStatus::Confirmed).await;
        let pc_login = poll(&pc, &qr).await.session.expect("confirmed");
        assert_signed_in_as(&pc, &pc_login, &login).await;
    }
}

/// Sign-ups for one new username, every other one at location B, all at once. Each location's
/// KV is its own here, so neither sees the other's account: only the name's object can keep
/// two locations from both answering `201` (and the later KV write replacing the other account).
#[tokio::test]
async fn of_sign_ups_for_one_username_at_two_locations_exactly_one_wins() {
    const SIGN_UPS: usize = 8;
    for round in 0..ROUNDS {
        let username = unique_username("race");
        let devices: Vec<Device> = (0..SIGN_UPS)
            .map(|i| {
                let location = if i % 2 == 0 { Location::A } else { Location::B };
                Device::phone().at(location)
            })
            .collect();
        let replies = join_all(
            devices
                .iter()
                .map(|device| register_call(device, &username).send()),
        )
        .await;
        let mut winners = Vec::new();
        for (device, reply) in devices.iter().zip(&replies) {
            match reply.status.as_u16() {
                201 => winners.push((device, reply.expect::<Account>(201))),
                409 => {}
                other => panic!(
                    "round {round}: a sign-up answered {other}: {}",
                    reply.text()
                ),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "round {round}: {} sign-ups won",
            winners.len()
        );
        // The winner's account is the one stored: its password signs in to it where it was made.
        let (device, account) = &winners[0];
        assert_eq!(&login(device, &username).await.account, account);
    }
}

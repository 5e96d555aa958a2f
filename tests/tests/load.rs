//! Load and races at scale, against a `wrangler dev` with the default QR lifetime
//! (`scripts/test.sh` runs this file against its second instance). Bounded in count and time.

use futures::StreamExt;
use futures::future::join_all;
use qrgate_protocol::{LoginSession, MeResponse, QrStatus, ScanResponse, Via};
use qrgate_tests::*;
use std::time::{Duration, Instant};

const FLOWS: usize = 1_000;
const CONCURRENCY: usize = 50;
/// Enough for a poll loop under full load; a flow that needs longer counts as lost.
const PICKUP_DEADLINE: Duration = Duration::from_secs(30);

async fn signed_in_phones(count: usize) -> Vec<(Device, LoginSession)> {
    futures::stream::iter(0..count)
        .map(|_| async {
            let phone = Device::phone();
            let session = signed_in(&phone).await;
            (phone, session)
        })
        .buffer_unordered(10)
        .collect()
        .await
}

/// Fails on anything but the statuses a correct flow can see; above all, on any 5xx.
fn check_status(step: &str, reply: &Reply, allowed: &[u16]) {
    let status = reply.status.as_u16();
    assert!(status < 500, "{step} answered {status}: {}", reply.text());
    assert!(
        allowed.contains(&status),
        "{step} answered {status}: {}",
        reply.text()
    );
}

/// One complete QR login: the PC ends signed in as exactly the phone's account.
async fn one_flow(phone: &Device, phone_login: &LoginSession) {
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let reply = scan_call(phone, &phone_login.token, &qr.qr_id).send().await;
    check_status("scan", &reply, &[200]);
    let scan: ScanResponse = reply.expect(200);
    let reply = decide_call(
        phone,
        &phone_login.token,
        &qr.qr_id,
        "confirm",
        &scan.scan_token,
    )
    .send()
    .await;
    check_status("confirm", &reply, &[204]);
    let started = Instant::now();
    let login = loop {
        let reply = poll_call(&pc, &qr).send().await;
        check_status("poll", &reply, &[200]);
        let polled: qrgate_protocol::PollResponse = reply.expect(200);
        assert_eq!(polled.status, QrStatus::Confirmed);
        if let Some(login) = polled.session {
            break login;
        }
        assert!(
            started.elapsed() < PICKUP_DEADLINE,
            "the PC never got its token"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(login.account, phone_login.account);
    let me: MeResponse = me_call(&pc, &login.token).send().await.expect(200);
    assert_eq!(me.account, phone_login.account);
    assert_eq!(me.session.via, Via::Qr);
    assert_eq!(me.device.device_id, pc.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_flows_fifty_at_a_time_all_sign_in_the_right_account() {
    let phones = signed_in_phones(CONCURRENCY).await;
    let started = Instant::now();
    let completed = futures::stream::iter(0..FLOWS)
        .map(|i| {
            let (phone, login) = &phones[i % phones.len()];
            async move { one_flow(phone, login).await }
        })
        .buffer_unordered(CONCURRENCY)
        .count()
        .await;
    let elapsed = started.elapsed();
    assert_eq!(completed, FLOWS);
    println!(
        "{FLOWS} complete QR logins, {CONCURRENCY} at a time: {:.1} s, {:.0} logins/s, none lost, no 5xx",
        elapsed.as_secs_f64(),
        FLOWS as f64 / elapsed.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn races_at_scale_never_sign_the_pc_in_as_a_non_confirming_account() {
    const ROUNDS: usize = 40;
    const PHONES: usize = 16;
    let phones = signed_in_phones(PHONES).await;
    for _ in 0..ROUNDS {
        let pc = Device::pc();
        let qr = create_qr(&pc).await;
        let qr_id = qr.qr_id.as_str();
        // Every phone scans at once, then every phone that got a token confirms at once.
        let scans = join_all(phones.iter().map(|(phone, login)| async move {
            let reply = scan_call(phone, &login.token, qr_id).send().await;
            check_status("scan", &reply, &[200, 409]);
            (reply.status == 200).then(|| reply.expect::<ScanResponse>(200))
        }))
        .await;
        let scanned = scans.iter().filter(|scan| scan.is_some()).count();
        assert_eq!(scanned, 1, "{scanned} scans of one session succeeded");
        let confirms = join_all(
            phones
                .iter()
                .zip(&scans)
                .filter_map(|((phone, login), scan)| {
                    let scan = scan.as_ref()?;
                    Some(async move {
                        let reply =
                            decide_call(phone, &login.token, qr_id, "confirm", &scan.scan_token)
                                .send()
                                .await;
                        check_status("confirm", &reply, &[204, 403, 409]);
                        (reply.status == 204).then_some(login)
                    })
                }),
        )
        .await;
        let confirmed: Vec<&LoginSession> = confirms.into_iter().flatten().collect();
        assert_eq!(confirmed.len(), 1, "{} confirms succeeded", confirmed.len());
        let login = poll(&pc, &qr).await.session.expect("the one confirmation");
        assert_eq!(login.account, confirmed[0].account);
    }
    println!(
        "{ROUNDS} rounds of {PHONES} racing phones: each had exactly one scan and one confirmation, and signed the PC in as that phone's account"
    );
}

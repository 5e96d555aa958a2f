//! The sign-in history (`GET /api/sign-ins`) against a live `wrangler dev`: every password and
//! QR sign-in of the account, newest first, seen alike from both edge locations at once.

use qrgate_protocol::{DeviceType, ErrorCode, SignInsResponse, Via};
use qrgate_tests::*;
use reqwest::Method;

fn sign_ins(device: &Device, token: &qrgate_protocol::Secret) -> Call {
    device.call(Method::GET, "/api/sign-ins").bearer(token)
}

#[tokio::test]
async fn the_history_lists_every_sign_in_newest_first_and_only_the_accounts_own() {
    let username = unique_username("ann");
    let phone = Device::phone().at(Location::B);
    register(&phone, &username).await;
    let phone_login = login(&phone, &username).await;

    // A PC at location A signed in with a QR code the phone at B confirmed.
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    scan_and_confirm(&phone, &phone_login.token, &qr.qr_id).await;
    let pc_login = poll(&pc, &qr).await.session.expect("picked up");
    // Then a second phone with the password, and a stranger on an account of their own.
    let second = Device::new(DeviceType::Android).at(Location::B);
    login(&second, &username).await;
    signed_in(&Device::phone()).await;

    let history: SignInsResponse = sign_ins(&phone, &phone_login.token)
        .send()
        .await
        .expect(200);
    let seen: Vec<(&str, DeviceType, Via)> = history
        .sign_ins
        .iter()
        .map(|s| (s.device_id.as_str(), s.device_type, s.via))
        .collect();
    assert_eq!(
        seen,
        [
            (second.id.as_str(), DeviceType::Android, Via::Password),
            (pc.id.as_str(), DeviceType::Pc, Via::Qr),
            (phone.id.as_str(), DeviceType::Ios, Via::Password),
        ]
    );
    let times: Vec<u64> = history.sign_ins.iter().map(|s| s.at).collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    assert_eq!(history.sign_ins[1].device_name, "Computer");
    // What the edge saw of each device (wrangler dev's placeholder place).
    assert!(history.sign_ins.iter().all(|s| s.country.is_some()));

    // The PC, at the other location, reads the same history at once.
    let from_pc: SignInsResponse = sign_ins(&pc, &pc_login.token).send().await.expect(200);
    assert_eq!(from_pc, history);

    phone
        .call(Method::GET, "/api/sign-ins")
        .fails(401, ErrorCode::Unauthorized)
        .await;
}

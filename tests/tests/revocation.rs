//! A token signed out or replaced is refused at once at every location (issue 35's "revocation
//! that holds at once everywhere"). Location B has a KV of its own that never sees A's writes, so
//! without the account's object as the authority a token would stay valid there for as long as
//! its record did; deployed, KV carries a delete in a minute or more, and these tests would
//! pass only after it.

use futures::future::join_all;
use qrgate_protocol::{ErrorCode, MeResponse};
use qrgate_tests::*;

#[tokio::test]
async fn a_device_signed_out_at_b_is_refused_at_a_on_its_next_request() {
    let (phone, login, pc, pc_login) = phone_and_qr_pc(Location::B, Location::A).await;
    me_call(&pc, &pc_login.token)
        .send()
        .await
        .expect::<MeResponse>(200);

    // B's KV never held the PC's record: the account's object knows it was signed in.
    sign_out_device_call(&phone, &login, &pc)
        .send()
        .await
        .expect_empty(204);
    me_call(&pc, &pc_login.token)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    sign_out_device_call(&phone, &login, &pc)
        .fails(404, ErrorCode::NotFound)
        .await;
}

#[tokio::test]
async fn a_device_signed_in_again_elsewhere_leaves_its_earlier_token_refused_everywhere() {
    let (phone, login, pc, first) = phone_and_qr_pc(Location::A, Location::B).await;
    // The same PC signs in again at A: B's KV still holds the first token's record.
    let second = qr_signed_in(&pc.clone().at(Location::A), &phone, &login).await;
    me_call(&pc, &first.token)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    me_call(&pc.clone().at(Location::A), &second.token)
        .send()
        .await
        .expect::<MeResponse>(200);
}

#[tokio::test]
async fn a_sign_out_racing_the_device_s_requests_at_two_locations_ends_them_all_once_answered() {
    const RACING: usize = 16;
    let phone = Device::phone().at(Location::B);
    let login = signed_in(&phone).await;
    for round in 0..4 {
        let pc = Device::pc();
        let pc_login = qr_signed_in(&pc, &phone, &login).await;
        let requests = (0..RACING).map(|_| me_call(&pc, &pc_login.token).send());
        let (replies, signed_out) = tokio::join!(
            join_all(requests),
            sign_out_device_call(&phone, &login, &pc).send()
        );
        signed_out.expect_empty(204);
        for reply in &replies {
            let status = reply.status.as_u16();
            assert!(
                status == 200 || status == 401,
                "round {round}: a racing request answered {status}: {}",
                reply.text()
            );
        }
        // Once the sign-out is answered, no request with the token holds, at either location.
        for location in [Location::A, Location::B] {
            me_call(&pc.clone().at(location), &pc_login.token)
                .fails(401, ErrorCode::Unauthorized)
                .await;
        }
    }
}

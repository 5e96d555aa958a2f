//! Abuse limits that hold exactly: guesses and sign-ups fired concurrently, each on its own
//! connection, from many addresses and from both edge locations (their counters are Durable
//! Objects, which every location reaches), against a live `wrangler dev`. And the `Bearer`
//! scheme in any letter case.

use futures::future::join_all;
use qrgate_protocol::{Account, ErrorCode, LoginSession, MeResponse, QrStatus};
use qrgate_tests::*;
use reqwest::Method;

/// `wrangler dev`'s default: ten failed logins per username within the window.
const FAILURES_PER_USERNAME: usize = 10;
/// `SIGN_UPS_PER_ADDRESS`'s default, per hour.
const SIGN_UPS_PER_ADDRESS: usize = 10;

/// A phone whose requests come from `address` (as `CF-Connecting-IP`), at `location`.
fn phone_at(address: &str, location: Location) -> Device {
    Device {
        address: address.to_owned(),
        ..Device::phone().at(location)
    }
}

fn either_location(i: usize) -> Location {
    if i.is_multiple_of(2) {
        Location::A
    } else {
        Location::B
    }
}

/// How many of `replies` answered each of `401` and `429`; anything else fails the test.
fn judged_and_refused(replies: &[Reply]) -> (usize, usize) {
    let mut counts = (0, 0);
    for reply in replies {
        match reply.status.as_u16() {
            401 => counts.0 += 1,
            429 => {
                reply.expect_error(429, ErrorCode::RateLimited);
                let retry_after: u64 = reply
                    .header("Retry-After")
                    .and_then(|value| value.parse().ok())
                    .expect("a 429 says when to retry");
                assert!(retry_after >= 1);
                counts.1 += 1;
            }
            other => panic!("a login answered {other}: {}", reply.text()),
        }
    }
    counts
}

/// A random IPv6 /64, as its first four groups.
fn random_block() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    format!(
        "2001:db8:{:x}:{:x}",
        bytes[0] as u16 * 256 + bytes[1] as u16,
        bytes[2]
    )
}

#[tokio::test]
async fn of_thirty_concurrent_guesses_for_one_username_exactly_ten_are_judged() {
    let username = unique_username("target");
    register(&Device::phone(), &username).await;
    // Thirty addresses, half of them reaching location B: each guess is counted before any is
    // answered, wherever it arrives.
    let guesses = (0..30).map(|i| {
        login_call(
            &Device::phone().at(either_location(i)),
            &username,
            "wrong password",
        )
        .send()
    });
    let (judged, refused) = judged_and_refused(&join_all(guesses).await);
    assert_eq!((judged, refused), (FAILURES_PER_USERNAME, 20));

    // Past the limit even the right password, from a fresh address, is refused: a 429 says
    // nothing about the password.
    login_call(&Device::phone(), &username, PASSWORD)
        .fails(429, ErrorCode::RateLimited)
        .await;
}

#[tokio::test]
async fn the_right_password_among_concurrent_attempts_past_the_limit_is_refused() {
    let username = unique_username("target");
    register(&Device::phone(), &username).await;
    let first = (0..FAILURES_PER_USERNAME)
        .map(|_| login_call(&Device::phone(), &username, "wrong password").send());
    assert_eq!(
        judged_and_refused(&join_all(first).await),
        (FAILURES_PER_USERNAME, 0)
    );
    let then = (0..20).map(|i| {
        let password = if i == 7 { PASSWORD } else { "wrong password" };
        login_call(&Device::phone().at(either_location(i)), &username, password).send()
    });
    let replies = join_all(then).await;
    assert_eq!(judged_and_refused(&replies), (0, 20));
}

#[tokio::test]
async fn a_right_password_is_not_a_failure() {
    let username = unique_username("owner");
    let phone = Device::phone();
    register(&phone, &username).await;
    // Twice the limit of right passwords: none counts against the username. (Each holds one of
    // its places while it is judged, so they come one after another here: eleven logins of one
    // username at the same instant would see the eleventh refused.)
    for _ in 0..2 * FAILURES_PER_USERNAME {
        login_call(&Device::phone(), &username, PASSWORD)
            .send()
            .await
            .expect::<LoginSession>(201);
    }
    for _ in 0..FAILURES_PER_USERNAME - 1 {
        login_call(&Device::phone(), &username, "wrong password")
            .fails(401, ErrorCode::Unauthorized)
            .await;
    }
    login(&phone, &username).await;
}

#[tokio::test]
async fn an_ipv6_subscriber_block_is_one_client_address() {
    let block = random_block();
    // 120 addresses of one /64, each guessing a username of its own: only the address limit
    // can trip, at exactly its count.
    let guesses = (0..120).map(|i| {
        let phone = phone_at(&format!("{block}:{i:x}:0:0:{i:x}"), either_location(i));
        login_call(&phone, &unique_username("typo"), "wrong password").send()
    });
    let (judged, refused) = judged_and_refused(&join_all(guesses).await);
    assert_eq!(
        (judged, refused),
        (
            TEST_LOGIN_FAILURES_PER_ADDRESS,
            120 - TEST_LOGIN_FAILURES_PER_ADDRESS
        )
    );
    // The block is closed to everyone in it, the right password too; another block is not.
    let username = unique_username("owner");
    register(&Device::phone(), &username).await;
    let inside = phone_at(&format!("{block}::1"), Location::A);
    login_call(&inside, &username, PASSWORD)
        .fails(429, ErrorCode::RateLimited)
        .await;
    let outside = phone_at(&format!("{}::1", random_block()), Location::A);
    login(&outside, &username).await;
}

#[tokio::test]
async fn every_way_of_writing_an_address_counts_as_that_address() {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let v4 = format!("10.{}.{}.{}", bytes[0], bytes[1], bytes[2]);
    let block = random_block();
    let [a, b, c, d] = block
        .split(':')
        .map(|group| u16::from_str_radix(group, 16).expect("hex"))
        .collect::<Vec<_>>()[..]
    else {
        panic!("four groups")
    };
    let forms_of_one_address = [
        vec![v4.clone(), format!("::ffff:{v4}"), format!("::FFFF:{v4}")],
        vec![
            format!("{block}::7"),
            format!("{a:04x}:{b:04x}:{c:04X}:{d:04x}:0000:0000:0000:0007"),
            format!("{block}:1:2:3:4"),
        ],
    ];
    for forms in forms_of_one_address {
        for i in 0..TEST_LOGIN_FAILURES_PER_ADDRESS {
            let phone = phone_at(&forms[i % forms.len()], either_location(i));
            login_call(&phone, &unique_username("typo"), "wrong password")
                .fails(401, ErrorCode::Unauthorized)
                .await;
        }
        for form in &forms {
            login_call(
                &phone_at(form, Location::A),
                &unique_username("typo"),
                "wrong password",
            )
            .fails(429, ErrorCode::RateLimited)
            .await;
        }
    }
}

#[tokio::test]
async fn the_eleventh_sign_up_of_the_hour_from_one_address_is_refused() {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let address = format!("10.{}.{}.{}", bytes[0], bytes[1], bytes[2]);
    let sign_ups = (0..SIGN_UPS_PER_ADDRESS + 5).map(|i| {
        phone_at(&address, either_location(i))
            .call(Method::POST, "/api/accounts")
            .json(&serde_json::json!({"username": unique_username("new"), "password": PASSWORD}))
            .send()
    });
    let replies = join_all(sign_ups).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, SIGN_UPS_PER_ADDRESS, "at most ten an hour");
    for reply in replies.iter().filter(|r| r.status != 201) {
        reply.expect_error(429, ErrorCode::RateLimited);
        let retry_after: u64 = reply
            .header("Retry-After")
            .and_then(|value| value.parse().ok())
            .expect("a 429 says when to retry");
        assert!((3_500..=3_600).contains(&retry_after), "{retry_after}");
    }
    // Another address is not affected.
    register(&Device::phone(), &unique_username("new")).await;
}

#[tokio::test]
async fn sign_ups_refused_for_a_taken_name_do_not_count_against_the_address() {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let address = format!("10.{}.{}.{}", bytes[0], bytes[1], bytes[2]);
    let taken = unique_username("taken");
    register(&Device::phone(), &taken).await;
    let sign_up = |i: usize, username: &str| {
        phone_at(&address, either_location(i))
            .call(Method::POST, "/api/accounts")
            .json(&serde_json::json!({"username": username, "password": PASSWORD}))
    };
    for i in 0..SIGN_UPS_PER_ADDRESS + 2 {
        sign_up(i, &taken).fails(409, ErrorCode::Conflict).await;
    }
    // Ten accounts are still theirs to create this hour, and not an eleventh.
    for i in 0..SIGN_UPS_PER_ADDRESS {
        sign_up(i, &unique_username("new"))
            .send()
            .await
            .expect::<Account>(201);
    }
    sign_up(0, &unique_username("new"))
        .fails(429, ErrorCode::RateLimited)
        .await;
}

#[tokio::test]
async fn the_bearer_scheme_is_matched_in_any_letter_case() {
    let phone = Device::phone();
    let login = signed_in(&phone).await;
    for scheme in ["bearer", "BEARER", "bEaReR"] {
        let me: MeResponse = phone
            .call(Method::GET, "/api/me")
            .header(
                "Authorization",
                &format!("{scheme} {}", login.token.expose()),
            )
            .send()
            .await
            .expect(200);
        assert_eq!(me.account, login.account);
    }
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let polled: qrgate_protocol::PollResponse = pc
        .call(Method::GET, &format!("/api/qr/{}", qr.qr_id))
        .header(
            "Authorization",
            &format!("bearer {}", qr.poll_secret.expose()),
        )
        .send()
        .await
        .expect(200);
    assert_eq!(polled.status, QrStatus::Pending);
}

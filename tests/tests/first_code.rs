//! The first code, served with the page (`edge/README.md`): a browser loading `/` gets a session
//! made for it in the HTML, which the page's first poll claims for its device and key.

use futures::future::join_all;
use qrgate_protocol::live::CloseCode;
use qrgate_protocol::{
    CreateQrResponse, ErrorCode, FIRST_CODE_ELEMENT_ID, FIRST_VIEW_ELEMENT_ID, PollResponse,
    QrStatus, SIGNED_IN_HINT_COOKIE, TokenType,
};
use qrgate_tests::dpop::Key;
use qrgate_tests::live::LiveSocket;
use qrgate_tests::*;
use reqwest::Method;

/// A page load from `pc` that came with a first code.
async fn load_page(pc: &Device) -> CreateQrResponse {
    let page = page_load_call(pc).send().await;
    assert_eq!(
        page.header("Cache-Control"),
        Some("no-store"),
        "it holds a poll secret"
    );
    assert!(page.header("ETag").is_none());
    assert!(
        page.header("Content-Security-Policy").is_some(),
        "the page keeps its security headers"
    );
    let code = first_code(&page).expect("a browser loading the page gets its first code");
    // Drawn for the page, in the chunk before the code itself (`edge/src/page/first_view.rs`).
    let html = page.text();
    let view = html
        .find(&format!("<div id=\"{FIRST_VIEW_ELEMENT_ID}\">"))
        .expect("the edge draws the code into the page");
    let link = html
        .find(&format!("<code class=\"qr-link\">{}</code>", code.qr_url))
        .expect("the drawn code is the first code's");
    assert!(view < link && link < html.find(FIRST_CODE_ELEMENT_ID).unwrap_or(0));
    code
}

#[tokio::test]
async fn the_first_poll_claims_the_first_code_for_its_device_and_key() {
    let pc = Device::pc();
    let phone = Device::phone();
    let key = Key::new();
    let phone_login = signed_in(&phone).await;
    let qr = load_page(&pc).await;
    assert!(qr.qr_url.starts_with(base_url()));
    assert!(qr.qr_url.ends_with(&format!("/m/qr/{}", qr.qr_id)));
    assert!(!qr.qr_url.contains(qr.poll_secret.expose()));
    assert!(qr.poll_secret.expose().len() >= 43, "256 bits");

    // Not yet claimed: the live channel is the claiming device's only.
    let mut early = LiveSocket::open(Location::A, &qr.qr_id).await;
    early.hello(&pc, &qr.poll_secret).await;
    early.expect_close(CloseCode::Unauthorized).await;

    let claimed: PollResponse = poll_call(&pc, &qr).proof(&key).send().await.expect(200);
    assert_eq!(claimed.status, QrStatus::Pending);
    assert_eq!(claimed.expires_at, qr.expires_at);
    // Claimed: another device with the secret, or the claiming one without its key, is refused.
    poll_call(&Device::pc(), &qr)
        .proof(&key)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    poll_call(&pc, &qr)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    cancel_call(&Device::pc(), &qr)
        .fails(401, ErrorCode::Unauthorized)
        .await;
    let mut socket = LiveSocket::watch(&pc, &qr).await;
    socket.expect_status(QrStatus::Pending).await;

    // The phone is shown the page's browser, named from its user agent.
    let (token, qr_id) = (&phone_login.token, &qr.qr_id);
    let scanned = scan(&phone, token, qr_id).await;
    assert_eq!(scanned.pc.device_name, "Chromium on Linux");
    socket.expect_status(QrStatus::Scanned).await;
    decide(&phone, token, qr_id, "confirm", &scanned.scan_token).await;
    socket.expect_status(QrStatus::Confirmed).await;
    pick_up_with_key(&pc, &qr, &key, &phone_login.account).await;
}

#[tokio::test]
async fn a_first_code_claimed_without_a_key_gives_a_bearer_token() {
    let pc = Device::pc();
    let phone = Device::phone();
    let phone_login = signed_in(&phone).await;
    let qr = load_page(&pc).await;
    assert_eq!(poll(&pc, &qr).await.status, QrStatus::Pending);
    // The claim bound no key: a proof later binds nothing either.
    poll_call(&pc, &qr)
        .proof(&Key::new())
        .send()
        .await
        .expect::<PollResponse>(200);
    scan_and_confirm(&phone, &phone_login.token, &qr.qr_id).await;
    let session = poll(&pc, &qr).await.session.expect("picked up");
    assert_eq!(session.token_type, TokenType::Bearer);
}

#[tokio::test]
async fn of_devices_racing_to_claim_a_first_code_exactly_one_wins() {
    for _ in 0..5 {
        let qr = load_page(&Device::pc()).await;
        let devices: Vec<Device> = (0..12).map(|_| Device::pc()).collect();
        let replies = join_all(devices.iter().map(|pc| poll_call(pc, &qr).send())).await;
        let winners: Vec<&Device> = devices
            .iter()
            .zip(&replies)
            .filter(|(_, reply)| reply.status == 200)
            .map(|(pc, _)| pc)
            .collect();
        assert_eq!(winners.len(), 1, "exactly one device claims the code");
        for reply in replies.iter().filter(|reply| reply.status != 200) {
            reply.expect_error(401, ErrorCode::Unauthorized);
        }
        // The winner keeps it; every other device stays refused.
        assert_eq!(poll(winners[0], &qr).await.status, QrStatus::Pending);
        for pc in devices.iter().filter(|pc| pc.id != winners[0].id) {
            poll_call(pc, &qr).fails(401, ErrorCode::Unauthorized).await;
        }
    }
}

#[tokio::test]
async fn only_a_browser_loading_the_page_to_sign_in_gets_a_first_code() {
    let pc = Device::pc();
    let page = |call: Call| async move {
        let reply = call.send().await;
        assert_eq!(reply.status, 200);
        assert!(
            reply.text().contains("<noscript>"),
            "the PC page: {}",
            reply.text()
        );
        assert!(first_code(&reply).is_none(), "no code made for it");
        assert!(!reply.text().contains(FIRST_VIEW_ELEMENT_ID), "none drawn");
    };
    // A plain fetch of the HTML (curl, a link preview), a prefetch, a prerender.
    page(Call::to(pc.location, Method::GET, "/").header("CF-Connecting-IP", &pc.address)).await;
    page(page_load_call(&pc).header("Sec-Purpose", "prefetch")).await;
    page(page_load_call(&pc).header("Sec-Purpose", "prefetch;prerender")).await;
    page(page_load_call(&pc).header("Purpose", "prefetch")).await;
    // A PC page that holds a token, which shows who it is signed in as: said by its cookie.
    let hint = format!("theme=dark; {SIGNED_IN_HINT_COOKIE}=1");
    page(page_load_call(&pc).header("Cookie", &hint)).await;
    let head = Call::to(pc.location, Method::HEAD, "/").send().await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn page_loads_count_toward_the_creation_limit() {
    let pc = Device::pc();
    // As `qr_creation_is_limited_per_address`: within 41 loads, two clock-aligned windows of 20.
    let mut loads = 0;
    loop {
        let page = page_load_call(&pc).send().await;
        loads += 1;
        if first_code(&page).is_none() {
            break;
        }
        assert!(loads <= 41, "the limiter trips within 41 page loads");
    }
    // The page is still served, and asks for its code itself: refused for now.
    pc.call(Method::POST, "/api/qr")
        .fails(429, ErrorCode::RateLimited)
        .await;
    // Another address is not affected.
    load_page(&Device::pc()).await;
}

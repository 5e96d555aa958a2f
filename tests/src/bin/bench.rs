//! Benchmarks against a live `wrangler dev` (run by `scripts/bench.sh`, which sets QRGATE_URL to
//! an instance with KV operation counting). Prints figures; asserts nothing about speed.
//!
//! `bench latency FLOWS AT_ONCE INTERVAL_SECONDS|live`: the time from the phone's confirm answer
//! to the PC holding its token, with the PC polling every INTERVAL seconds, or listening on the
//! live channel and making the one pick-up poll when it is told `confirmed`, as the page does;
//! AT_ONCE flows (1 to 10) run side by side, from as many signed-in phones.
//! `bench cost`: KV reads and writes of one complete login, polling and listening, and of a
//! minute of an idle QR on screen with its live channel open.
//! `bench pool STEP COUNT`: prints COUNT ready-made requests of one step (`trivial`, `poll`,
//! `scan`, `confirm`, `login` with the right password, `refused`, a login past its username's
//! limit, `me` with a Bearer token, or `me-dpop` with a key-bound token and a proof of its own)
//! for wrk and `tests/bench/pool.lua`, one per line:
//! `METHOD<TAB>PATH<TAB>BODY<TAB>HEADER<TAB>HEADER...`. Each scan or confirm line is a session of
//! its own, made ready here, so the load measures real first scans and real confirmations.
//! `floor-trivial`, `floor-scan` and `floor-refresh` are the same for the floor worker of
//! `scripts/bench.sh` (`tests/bench/floor/worker.js`), which QRGATE_URL then serves.
//!
//! The OpenID Provider (QRGATE_OIDC_DIR names the run's clients, `tests/oidc/config.mjs`):
//! `bench latency-app FLOWS AT_ONCE`: the time from the phone's confirm answer to the client
//! holding its ID token, through the PC's push, its pick-up poll (the redirect with the code)
//! and the client's code exchange. Pool steps: `token-code` (each line a code of its own,
//! redeemed), `token-refresh` and `refresh-narrow` (each a refresh token of its own, rotated;
//! the second with `scope=profile`, so without an ID token: one signature fewer), `userinfo`
//! (verified, its grant asked), `userinfo-forged` (a signature that does not verify) and
//! `userinfo-garbage` (no JWS at all).
//!
//! Devices without a browser (RFC 8628): `bench latency-device FLOWS AT_ONCE poll|live`: the
//! time from the phone's confirm answer to the device holding its tokens, the device polling at
//! the RFC's 5 s interval as a stock client does, or listening on the live channel and asking
//! once when told `confirmed`, as the `qrgate` CLI does. Pool step `user-code`: a phone's look-up
//! of a live device's user code (counted, found, and taken back from the counts), by 40 phones.
//!
//! Passkeys (one account with a passkey, held by an authenticator that keeps no count): pool
//! steps `passkey-sign-in` (each line a sign-in challenge of its own, answered),
//! `passkey-forged` (answered with another key's signature: refused by the verification),
//! `passkey-unknown` (answered by a passkey the account does not have: refused before any
//! verification) and `confirm-passkey` (a scanned session of its own, confirmed with the
//! passkey's answer to the scan's challenge).

use qrgate_protocol::account_live::AccountEvent;
use qrgate_protocol::{
    CreateQrResponse, DPOP_HEADER, DecisionRequest, LoginRequest, LoginSession, PasskeyCeremony,
    PasskeyChallenge, PasskeyChallengeRequest, PasskeyEntry, PasskeyLoginRequest, QrStatus,
    ScanResponse, Secret,
};
use qrgate_tests::dpop;
use qrgate_tests::live::LiveSocket;
use qrgate_tests::oidc::{
    CLI, CONFIDENTIAL, Pkce, REDIRECT_URI, authorization_data, authorization_query, authorize,
    authorize_device, code_form, create_app_qr, device_poll_call, device_qr_id, field, form,
    query_param, refresh_form, secret_of, token_call,
};
use qrgate_tests::passkey::{Authenticator, Said};
use qrgate_tests::*;
use std::time::{Duration, Instant};

/// The most latency flows run side by side.
const MOST_AT_ONCE: usize = 10;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// How the PC learns that it may pick its token up.
#[derive(Debug, Clone, Copy)]
enum Listening {
    /// A poll every this long, as a client without the live channel does.
    Polling(Duration),
    /// The live channel's push, then the one pick-up poll.
    Live,
}

/// One flow; returns milliseconds from the confirm answer to the token in the PC's hands
/// (negative when the PC held it before the phone had its answer).
async fn timed_flow(phone: &Device, login: &LoginSession, listening: Listening) -> f64 {
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let mut socket = None;
    if let Listening::Live = listening {
        let mut watching = LiveSocket::watch(&pc, &qr).await;
        watching.expect_status(QrStatus::Pending).await;
        socket = Some(watching);
    }
    let pc_side = async {
        match (&mut socket, listening) {
            (Some(socket), _) => {
                socket.expect_status(QrStatus::Scanned).await;
                socket.expect_status(QrStatus::Confirmed).await;
                poll(&pc, &qr).await.session.expect("the pick-up poll");
            }
            (None, listening) => {
                let interval = match listening {
                    Listening::Polling(interval) => interval,
                    Listening::Live => Duration::ZERO,
                };
                while poll(&pc, &qr).await.session.is_none() {
                    tokio::time::sleep(interval).await;
                }
            }
        }
        Instant::now()
    };
    let phone_side = async {
        let scan: ScanResponse = scan(phone, &login.token, &qr.qr_id).await;
        // A person takes a moment: confirm at a random phase of the PC's poll cycle.
        if let Listening::Polling(interval) = listening {
            let phase = rand_fraction() * interval.as_secs_f64();
            tokio::time::sleep(Duration::from_secs_f64(phase)).await;
        }
        decide_call(phone, &login.token, &qr.qr_id, "confirm", &scan.scan_token)
            .send()
            .await
            .expect_empty(204);
        Instant::now()
    };
    let (holds_token, confirmed) = tokio::join!(pc_side, phone_side);
    match holds_token.checked_duration_since(confirmed) {
        Some(after) => after.as_secs_f64() * 1000.0,
        None => -(confirmed.duration_since(holds_token).as_secs_f64() * 1000.0),
    }
}

/// One sign-in to an app; milliseconds from the phone's confirm answer to the client holding
/// its ID token.
async fn timed_app_flow(phone: &Device, login: &LoginSession) -> f64 {
    let pkce = Pkce::new();
    let query = authorization_query(CONFIDENTIAL, REDIRECT_URI, &pkce, &[]);
    let data = authorization_data(&authorize(Location::A, &query).await);
    let pc = Device::pc();
    let qr = create_app_qr(&pc, &data.handle).await;
    let mut socket = LiveSocket::watch(&pc, &qr).await;
    socket.expect_status(QrStatus::Pending).await;
    let client_side = async {
        socket.expect_status(QrStatus::Scanned).await;
        socket.expect_status(QrStatus::Confirmed).await;
        let picked: qrgate_protocol::PollResponse = poll_call(&pc, &qr).send().await.expect(200);
        let redirect = picked.authorization.expect("the redirect").redirect_to;
        let code = query_param(&url::Url::parse(&redirect).expect("a URL"), "code").expect("code");
        let tokens: serde_json::Value = token_call(
            Location::A,
            "/oauth/token",
            CONFIDENTIAL,
            &code_form(&code, &pkce, REDIRECT_URI),
        )
        .send()
        .await
        .expect(200);
        field(&tokens, "id_token");
        Instant::now()
    };
    let phone_side = async {
        let scan: ScanResponse = scan(phone, &login.token, &qr.qr_id).await;
        decide_call(phone, &login.token, &qr.qr_id, "confirm", &scan.scan_token)
            .send()
            .await
            .expect_empty(204);
        Instant::now()
    };
    let (holds_id_token, confirmed) = tokio::join!(client_side, phone_side);
    holds_id_token.duration_since(confirmed).as_secs_f64() * 1000.0
}

async fn app_latency(flows: usize, at_once: usize) {
    let phones = signed_in_phones(phones_for(flows, at_once)).await;
    let how = "the client (push, pick-up poll, code exchange)";
    latency_row(how, flows, at_once, &phones, timed_app_flow).await;
}

/// Times `flows` flows, `at_once` at a time, each by a phone of `phones` in turn, and prints
/// their p50, p95 and p99 as a row of a latency table, after `how`.
async fn latency_row<'a, Flow, Timed>(
    how: &str,
    flows: usize,
    at_once: usize,
    phones: &'a [(Device, LoginSession)],
    flow: Flow,
) where
    Flow: Fn(&'a Device, &'a LoginSession) -> Timed,
    Timed: std::future::Future<Output = f64> + 'a,
{
    use futures::StreamExt;
    let mut samples: Vec<f64> = futures::stream::iter(0..flows)
        .map(|i| {
            let (phone, login) = &phones[i % phones.len()];
            flow(phone, login)
        })
        .buffer_unordered(at_once)
        .collect()
        .await;
    samples.sort_by(|a, b| a.total_cmp(b));
    println!(
        "| {how} | {flows} | {at_once} | {:.0} ms | {:.0} ms | {:.0} ms |",
        percentile(&samples, 50.0),
        percentile(&samples, 95.0),
        percentile(&samples, 99.0)
    );
}

/// One device's sign-in; milliseconds from the phone's confirm answer to the device holding
/// its tokens, the device listening on the live channel (`live`) or polling.
async fn timed_device_flow(phone: &Device, login: &LoginSession, live: bool) -> f64 {
    /// RFC 8628's default interval, which the edge answers too.
    const INTERVAL: Duration = Duration::from_secs(5);
    let authorization = authorize_device(Location::A).await;
    let qr_id = device_qr_id(&authorization);
    let device_code = authorization.device_code.expose().to_owned();
    let mut socket = None;
    if live {
        let mut listening = LiveSocket::open(Location::A, &qr_id).await;
        let hello = serde_json::json!({ "device_code": device_code });
        listening.send_text(&hello.to_string()).await;
        listening.expect_status(QrStatus::Pending).await;
        socket = Some(listening);
    }
    let device_side = async {
        if let Some(socket) = &mut socket {
            socket.expect_status(QrStatus::Scanned).await;
            socket.expect_status(QrStatus::Confirmed).await;
            let tokens: serde_json::Value = device_poll_call(Location::A, CLI, &device_code)
                .send()
                .await
                .expect(200);
            field(&tokens, "access_token");
        } else {
            let mut interval = INTERVAL;
            loop {
                let reply = device_poll_call(Location::A, CLI, &device_code)
                    .send()
                    .await;
                if reply.status == 200 {
                    break;
                }
                let error: serde_json::Value = reply.expect(400);
                match error["error"].as_str() {
                    Some("authorization_pending") => {}
                    Some("slow_down") => interval += INTERVAL,
                    other => panic!("the device was told {other:?}"),
                }
                tokio::time::sleep(interval).await;
            }
        }
        Instant::now()
    };
    let phone_side = async {
        let scan: ScanResponse = scan(phone, &login.token, &qr_id).await;
        if !live {
            // A person takes a moment: confirm at a random phase of the device's poll cycle.
            let phase = rand_fraction() * INTERVAL.as_secs_f64();
            tokio::time::sleep(Duration::from_secs_f64(phase)).await;
        }
        decide_call(phone, &login.token, &qr_id, "confirm", &scan.scan_token)
            .send()
            .await
            .expect_empty(204);
        Instant::now()
    };
    let (holds_tokens, confirmed) = tokio::join!(device_side, phone_side);
    holds_tokens.duration_since(confirmed).as_secs_f64() * 1000.0
}

async fn device_latency(flows: usize, at_once: usize, live: bool) {
    let phones = signed_in_phones(phones_for(flows, at_once)).await;
    let how = match live {
        true => "listens on the live channel, then one token request (the CLI)",
        false => "polls every 5 s (a stock client)",
    };
    let flow = |phone, login| timed_device_flow(phone, login, live);
    latency_row(how, flows, at_once, &phones, flow).await;
}

/// One sign-out pushed: a PC signed in by QR listens on its account's channel, and the phone
/// signs it out; milliseconds from the phone sending the sign-out to the PC's socket being told.
async fn timed_sign_out(phone: &Device, login: &LoginSession) -> f64 {
    let pc = Device::pc();
    let pc_login = qr_signed_in(&pc, phone, login).await;
    let mut socket = LiveSocket::listen(&pc, &pc_login, None).await;
    let sent = Instant::now();
    let told = async {
        socket.expect_event(&AccountEvent::SignedOut).await;
        Instant::now()
    };
    let (told, answer) = tokio::join!(told, sign_out_device_call(phone, login, &pc).send());
    answer.expect_empty(204);
    told.duration_since(sent).as_secs_f64() * 1000.0
}

async fn sign_out_latency(flows: usize, at_once: usize) {
    let phones = signed_in_phones(phones_for(flows, at_once)).await;
    let how = "the PC's account channel (the phone's sign-out sent → signed_out)";
    latency_row(how, flows, at_once, &phones, timed_sign_out).await;
}

async fn signed_in_phones(count: usize) -> Vec<(Device, LoginSession)> {
    futures::future::join_all((0..count).map(|_| async {
        let phone = Device::phone();
        let login = signed_in(&phone).await;
        (phone, login)
    }))
    .await
}

fn rand_fraction() -> f64 {
    (uuid::Uuid::new_v4().as_u128() % 1_000_000) as f64 / 1_000_000.0
}

async fn latency(flows: usize, at_once: usize, listening: Listening) {
    let phones = signed_in_phones(at_once).await;
    let how = match listening {
        Listening::Polling(interval) => format!("polls every {:.2} s", interval.as_secs_f64()),
        Listening::Live => "listens on the live channel, then one poll".to_owned(),
    };
    let flow = |phone, login| timed_flow(phone, login, listening);
    latency_row(&how, flows, at_once, &phones, flow).await;
}

/// The KV operations of one complete QR login, with the PC polling at every step (the plain
/// path) or listening on the live channel and polling once to pick its token up.
async fn login_cost(phone: &Device, login: &LoginSession, listening: Listening) -> KvOps {
    let pc = Device::pc();
    let mut total = KvOps::default();
    let reply = pc.call(reqwest::Method::POST, "/api/qr").send().await;
    total += reply.kv_ops();
    let qr: CreateQrResponse = reply.expect(201);
    let polling = matches!(listening, Listening::Polling(_));
    let mut socket = None;
    if !polling {
        socket = Some(LiveSocket::watch(&pc, &qr).await);
    }
    if polling {
        total += poll_call(&pc, &qr).send().await.kv_ops();
    }
    let reply = scan_call(phone, &login.token, &qr.qr_id).send().await;
    total += reply.kv_ops();
    let scan: ScanResponse = reply.expect(200);
    if polling {
        total += poll_call(&pc, &qr).send().await.kv_ops();
    }
    let reply = decide_call(phone, &login.token, &qr.qr_id, "confirm", &scan.scan_token)
        .send()
        .await;
    total += reply.kv_ops();
    if let Some(socket) = &mut socket {
        socket.expect_status(QrStatus::Pending).await;
        socket.expect_status(QrStatus::Scanned).await;
        socket.expect_status(QrStatus::Confirmed).await;
    }
    let reply = poll_call(&pc, &qr).send().await;
    total += reply.kv_ops();
    reply
        .expect::<qrgate_protocol::PollResponse>(200)
        .session
        .expect("picked up");
    total
}

async fn cost() {
    const IDLE: Duration = Duration::from_secs(60);
    const PING_EVERY: Duration = Duration::from_secs(20);
    let phone = Device::phone();
    let login = signed_in(&phone).await;
    let listening = login_cost(&phone, &login, Listening::Live).await;
    let polling = login_cost(&phone, &login, Listening::Polling(Duration::ZERO)).await;
    println!(
        "| one QR login, listening (create, scan, confirm, one pick-up poll) | {} | {} | {} |",
        listening.reads, listening.writes, listening.lists
    );
    println!(
        "| one QR login, polling (create, poll pending, scan, poll scanned, confirm, poll confirmed) | {} | {} | {} |",
        polling.reads, polling.writes, polling.lists
    );
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let idle_poll = poll_call(&pc, &qr).send().await.kv_ops();
    println!(
        "| one idle poll | {} | {} | {} |",
        idle_poll.reads, idle_poll.writes, idle_poll.lists
    );
    // A minute of a code on screen with its channel open: the PC sends only the keep-alive,
    // and makes no request at all, so KV is not touched (every request's operations are
    // counted by the store layer; there are none to count).
    let mut socket = LiveSocket::watch(&pc, &qr).await;
    socket.expect_status(QrStatus::Pending).await;
    let started = Instant::now();
    let mut pings = 0;
    while started.elapsed() < IDLE {
        tokio::time::sleep(PING_EVERY.min(IDLE - started.elapsed())).await;
        socket.send_text("ping").await;
        socket.expect_pong().await;
        pings += 1;
    }
    println!(
        "| a minute of an idle QR on screen, live channel open ({pings} pings answered, 0 requests) | 0 | 0 | 0 |"
    );
    println!(
        "| a minute of an idle QR on screen, polling at 1 s (60 polls) | {} | {} | {} |",
        idle_poll.reads * 60,
        idle_poll.writes * 60,
        idle_poll.lists * 60
    );
    let reply = login_call(&phone, &login.account.username, PASSWORD)
        .send()
        .await;
    let password_login = reply.kv_ops();
    println!(
        "| one password login | {} | {} | {} |",
        password_login.reads, password_login.writes, password_login.lists
    );
}

/// How many sessions are made ready at once: enough to finish a pool of thousands in seconds.
const POOL_CONCURRENCY: usize = 16;

/// What the requests of a pool share: a signed-in phone, one signed in with a DPoP key (for
/// `me-dpop`), a username past its limit of failed logins (for `refused`), and an app's access
/// token (for `userinfo`).
struct PoolContext {
    phone: Device,
    login: LoginSession,
    bound: (Device, dpop::Key, LoginSession),
    locked_username: String,
    access_token: String,
    /// Phones that share the lines' work where one account may not do it all: the grants of
    /// `token-*` lines, the look-ups of `user-code`.
    phones: Vec<(Device, LoginSession)>,
    /// For `user-code`: the live device's code.
    user_code: String,
    /// For the passkey steps: phones whose accounts have a passkey, each held by an
    /// authenticator that keeps no count (so that answers used in any order all pass). One,
    /// but for `confirm-passkey`: an account's keyring keeps the challenges of at most
    /// [`APPROVALS_PER_KEYRING`] scans waiting for their confirmation, so the pool's scans are
    /// shared out among as many accounts as that takes.
    passkeys: Vec<PasskeyHolder>,
}

/// The approval challenges one keyring keeps waiting (`edge/src/objects/keyring.rs`).
const APPROVALS_PER_KEYRING: usize = 16;

struct PasskeyHolder {
    phone: Device,
    login: LoginSession,
    authenticator: Authenticator,
    user_handle: String,
}

impl PasskeyHolder {
    async fn new() -> Self {
        let phone = Device::phone();
        let login = signed_in(&phone).await;
        let challenge: PasskeyChallenge = phone
            .call(reqwest::Method::POST, "/api/passkeys/challenges")
            .bearer(&login.token)
            .json(&PasskeyChallengeRequest::new(PasskeyCeremony::Register))
            .send()
            .await
            .expect(201);
        let user_handle = challenge.user.clone().expect("a registration's user").id;
        let authenticator = Authenticator::new();
        let registration = authenticator.register(&Said::answering(&challenge, base_url()));
        phone
            .call(reqwest::Method::POST, "/api/passkeys")
            .bearer(&login.token)
            .json(&registration)
            .send()
            .await
            .expect::<PasskeyEntry>(201);
        Self {
            phone,
            login,
            authenticator,
            user_handle,
        }
    }
}

/// How many phones share the `user-code` pool: each account's look-ups are counted (10 at most
/// outstanding), so one account under the whole load would be refused, as it should be.
const USER_CODE_PHONES: usize = 40;
/// How many grants one phone's account is made to hold, within the edge's limit of connected
/// apps per account (`qrgate_protocol::history::MAX_CONNECTED_APPS`).
const GRANTS_PER_PHONE: usize = 90;

/// Enough phones for `at_once` flows side by side, and for `flows` grants.
fn phones_for(flows: usize, at_once: usize) -> usize {
    at_once.max(flows.div_ceil(GRANTS_PER_PHONE))
}

/// A code for the confidential test client, approved on `phone`.
async fn app_code(phone: &Device, login: &LoginSession, pkce: &Pkce) -> String {
    qrgate_tests::oidc::code_for(CONFIDENTIAL, REDIRECT_URI, pkce, phone, login).await
}

/// The token answer for a code.
async fn redeemed(code: &str, pkce: &Pkce) -> serde_json::Value {
    token_call(
        Location::A,
        "/oauth/token",
        CONFIDENTIAL,
        &code_form(code, pkce, REDIRECT_URI),
    )
    .send()
    .await
    .expect(200)
}

/// The headers of the confidential client's token requests: its Basic credentials.
fn client_headers() -> Vec<String> {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{CONFIDENTIAL}:{}", secret_of(CONFIDENTIAL)));
    vec![
        format!("Authorization: Basic {basic}"),
        "Content-Type: application/x-www-form-urlencoded".to_owned(),
    ]
}

async fn pool(step: &str, count: usize) {
    use futures::StreamExt;
    if let Some(floor_step) = step.strip_prefix("floor-") {
        return floor_pool(floor_step, count).await;
    }
    let phone = Device::phone();
    let login = signed_in(&phone).await;
    let bound_phone = Device::phone();
    let key = dpop::Key::new();
    let bound_username = unique_username("bound");
    register(&bound_phone, &bound_username).await;
    let bound_login = login_call(&bound_phone, &bound_username, PASSWORD)
        .proof(&key)
        .send()
        .await
        .expect(201);
    let locked_username = unique_username("locked");
    register(&Device::phone(), &locked_username).await;
    for _ in 0..10 {
        login_call(&Device::phone(), &locked_username, "wrong password")
            .send()
            .await;
    }
    let access_token = if step.starts_with("userinfo") {
        let pkce = Pkce::new();
        let code = app_code(&phone, &login, &pkce).await;
        field(&redeemed(&code, &pkce).await, "access_token")
    } else {
        String::new()
    };
    let (phones, user_code) = match step {
        "user-code" => (
            signed_in_phones(USER_CODE_PHONES).await,
            authorize_device(Location::A).await.user_code,
        ),
        _ if step.starts_with("token-") || step == "refresh-narrow" => {
            (signed_in_phones(phones_for(count, 1)).await, String::new())
        }
        _ => (Vec::new(), String::new()),
    };
    let holders = match step {
        "confirm-passkey" => count.div_ceil(APPROVALS_PER_KEYRING),
        _ if step.starts_with("passkey-") => 1,
        _ => 0,
    };
    let passkeys = futures::stream::iter(0..holders)
        .map(|_| PasskeyHolder::new())
        .buffer_unordered(POOL_CONCURRENCY)
        .collect()
        .await;
    let context = &PoolContext {
        phone,
        login,
        bound: (bound_phone, key, bound_login),
        locked_username,
        access_token,
        phones,
        user_code,
        passkeys,
    };
    let lines: Vec<String> = futures::stream::iter(0..count)
        .map(|index| pool_line(step, context, index))
        .buffer_unordered(POOL_CONCURRENCY)
        .collect()
        .await;
    for line in lines {
        println!("{line}");
    }
}

/// The pool of the floor worker (`tests/bench/floor/worker.js`, at QRGATE_URL): each line made
/// by the worker, one request each, as qrgate's sessions are made above, so that its objects
/// are as old and as many when the load begins.
async fn floor_pool(step: &str, count: usize) {
    use futures::StreamExt;
    let path = format!("/pool/{step}");
    let lines: Vec<String> = futures::stream::iter(0..count)
        .map(|_| async {
            let reply = Call::new(reqwest::Method::POST, &path).send().await;
            assert_eq!(reply.status, 200, "the floor worker makes a {step} request");
            String::from_utf8(reply.body).expect("a pool line is text")
        })
        .buffer_unordered(POOL_CONCURRENCY)
        .collect()
        .await;
    print!("{}", lines.concat());
}

/// One request of `step` as a line for `tests/bench/pool.lua`.
async fn pool_line(step: &str, context: &PoolContext, index: usize) -> String {
    let (phone, login) = (&context.phone, &context.login);
    let device_headers = |device: &Device| {
        device
            .headers()
            .map(|(name, value)| format!("{name}: {value}"))
    };
    let bearer = |secret: &Secret| format!("Authorization: {}", bearer_value(secret));
    let (method, path, body, headers) = match step {
        "trivial" => {
            let pc = Device::pc();
            (
                "GET",
                "/api/trivial-404".to_owned(),
                String::new(),
                device_headers(&pc).to_vec(),
            )
        }
        "poll" => {
            let pc = Device::pc();
            let qr = create_qr(&pc).await;
            let mut headers = device_headers(&pc).to_vec();
            headers.push(bearer(&qr.poll_secret));
            (
                "GET",
                format!("/api/qr/{}", qr.qr_id),
                String::new(),
                headers,
            )
        }
        "scan" | "confirm" => {
            let qr = create_qr(&Device::pc()).await;
            let mut headers = device_headers(phone).to_vec();
            headers.push(bearer(&login.token));
            if step == "scan" {
                (
                    "POST",
                    format!("/api/qr/{}/scan", qr.qr_id),
                    String::new(),
                    headers,
                )
            } else {
                let scan = scan(phone, &login.token, &qr.qr_id).await;
                let body = serde_json::to_string(&DecisionRequest {
                    scan_token: scan.scan_token,
                    passkey: None,
                })
                .expect("a decision serialises");
                (
                    "POST",
                    format!("/api/qr/{}/confirm", qr.qr_id),
                    body,
                    headers,
                )
            }
        }
        // A password login of an account of its own: the password check (PBKDF2 at 100,000
        // iterations), both counters, the history, the token.
        "login" | "refused" => {
            let device = Device::phone();
            let username = if step == "login" {
                let username = unique_username("bench");
                register(&Device::phone(), &username).await;
                username
            } else {
                // Past its limit: refused before any password is checked.
                context.locked_username.clone()
            };
            let body = serde_json::to_string(&LoginRequest {
                username,
                password: Secret::new(PASSWORD),
                device_name: None,
            })
            .expect("a login serialises");
            (
                "POST",
                "/api/sessions".to_owned(),
                body,
                device_headers(&device).to_vec(),
            )
        }
        // The same request with a Bearer token and with a bound one: the difference in CPU is
        // the proof's verification. Each proof is its own (a fresh `jti`), valid for 60 s.
        "me" => {
            let mut headers = device_headers(phone).to_vec();
            headers.push(bearer(&login.token));
            ("GET", "/api/me".to_owned(), String::new(), headers)
        }
        "me-dpop" => {
            let (device, key, login) = &context.bound;
            let url = format!("{}/api/me", device.location.base_url());
            let mut headers = device_headers(device).to_vec();
            headers.push(format!("Authorization: DPoP {}", login.token.expose()));
            headers.push(format!(
                "{DPOP_HEADER}: {}",
                key.proof("GET", &url, Some(&login.token))
            ));
            ("GET", "/api/me".to_owned(), String::new(), headers)
        }
        // The provider's: a client authenticated with Basic, each line of its own where a
        // token is used up.
        "token-code" | "token-refresh" | "refresh-narrow" => {
            let pkce = Pkce::new();
            let (phone, login) = &context.phones[index % context.phones.len()];
            let code = app_code(phone, login, &pkce).await;
            let body = if step == "token-code" {
                code_form(&code, &pkce, REDIRECT_URI)
            } else {
                let tokens = redeemed(&code, &pkce).await;
                let refresh_token = field(&tokens, "refresh_token");
                match step {
                    "token-refresh" => refresh_form(&refresh_token),
                    _ => form(&[
                        ("grant_type", "refresh_token"),
                        ("refresh_token", &refresh_token),
                        ("scope", "profile"),
                    ]),
                }
            };
            ("POST", "/oauth/token".to_owned(), body, client_headers())
        }
        "userinfo" | "userinfo-forged" | "userinfo-garbage" => {
            let access_token = context.access_token.clone();
            let token = match step {
                "userinfo" => access_token,
                // The signature's first byte changed: a JWS that parses and does not verify.
                "userinfo-forged" => {
                    let (input, signature) = access_token.rsplit_once('.').expect("a JWS");
                    let flipped = if signature.starts_with('A') { "B" } else { "A" };
                    format!("{input}.{flipped}{}", &signature[1..])
                }
                _ => "not.a.token".to_owned(),
            };
            let headers = vec![format!("Authorization: Bearer {token}")];
            ("GET", "/oauth/userinfo".to_owned(), String::new(), headers)
        }
        "passkey-sign-in" | "passkey-forged" | "passkey-unknown" => {
            let holder = context.passkeys.first().expect("a passkey holder");
            let pc = Device::pc();
            let challenge: PasskeyChallenge = pc
                .call(reqwest::Method::POST, "/api/passkeys/challenges")
                .json(&PasskeyChallengeRequest::new(PasskeyCeremony::SignIn))
                .send()
                .await
                .expect(201);
            let said = Said::answering(&challenge, base_url());
            let passkey = match step {
                "passkey-sign-in" => holder.authenticator.assertion(&said, &holder.user_handle),
                // Another key's signature for this passkey: refused by its verification.
                "passkey-forged" => {
                    let mut impostor = Authenticator::new();
                    impostor.credential_id = holder.authenticator.credential_id.clone();
                    impostor.assertion(&said, &holder.user_handle)
                }
                // A passkey the account does not have: refused before any verification.
                _ => Authenticator::new().assertion(&said, &holder.user_handle),
            };
            let request = PasskeyLoginRequest {
                passkey,
                device_name: None,
            };
            let body = serde_json::to_string(&request).expect("a sign-in serialises");
            let headers = device_headers(&pc).to_vec();
            ("POST", "/api/sessions/passkey".to_owned(), body, headers)
        }
        "confirm-passkey" => {
            let holder = &context.passkeys[index % context.passkeys.len()];
            let qr = create_qr(&Device::pc()).await;
            let scan = scan(&holder.phone, &holder.login.token, &qr.qr_id).await;
            let challenge = scan.passkey.expect("the scan's passkey challenge");
            let said = Said::answering(&challenge, base_url());
            let body = serde_json::to_string(&DecisionRequest {
                scan_token: scan.scan_token,
                passkey: Some(holder.authenticator.assertion(&said, &holder.user_handle)),
            })
            .expect("a decision serialises");
            let mut headers = device_headers(&holder.phone).to_vec();
            headers.push(bearer(&holder.login.token));
            let path = format!("/api/qr/{}/confirm", qr.qr_id);
            ("POST", path, body, headers)
        }
        "user-code" => {
            let code = &context.user_code;
            let (phone, login) = &context.phones[index % context.phones.len()];
            let mut headers: Vec<String> = device_headers(phone).into();
            headers.push(bearer(&login.token));
            headers.push("Content-Type: application/json".to_owned());
            let body = serde_json::json!({ "user_code": code }).to_string();
            ("POST", "/api/user-codes".to_owned(), body, headers)
        }
        other => panic!("no such step: {other}"),
    };
    format!("{method}\t{path}\t{body}\t{}", headers.join("\t"))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["latency", flows, at_once, how] => {
            let listening = match how {
                "live" => Listening::Live,
                seconds => Listening::Polling(Duration::from_secs_f64(
                    seconds.parse().expect("INTERVAL is seconds"),
                )),
            };
            let at_once: usize = at_once.parse().expect("AT_ONCE is a number");
            latency(
                flows.parse().expect("FLOWS is a number"),
                at_once.clamp(1, MOST_AT_ONCE),
                listening,
            )
            .await
        }
        ["latency-app", flows, at_once] => {
            let at_once: usize = at_once.parse().expect("AT_ONCE is a number");
            app_latency(
                flows.parse().expect("FLOWS is a number"),
                at_once.clamp(1, MOST_AT_ONCE),
            )
            .await
        }
        ["latency-device", flows, at_once, how] => {
            let at_once: usize = at_once.parse().expect("AT_ONCE is a number");
            let live = match how {
                "live" => true,
                "poll" => false,
                other => panic!("poll or live, not {other}"),
            };
            device_latency(
                flows.parse().expect("FLOWS is a number"),
                at_once.clamp(1, MOST_AT_ONCE),
                live,
            )
            .await
        }
        ["latency-sign-out", flows, at_once] => {
            let at_once: usize = at_once.parse().expect("AT_ONCE is a number");
            sign_out_latency(
                flows.parse().expect("FLOWS is a number"),
                at_once.clamp(1, MOST_AT_ONCE),
            )
            .await
        }
        ["cost"] => cost().await,
        ["pool", step, count] => pool(step, count.parse().expect("COUNT is a number")).await,
        _ => {
            eprintln!(
                "usage: bench latency FLOWS AT_ONCE INTERVAL_SECONDS|live | bench latency-app FLOWS AT_ONCE | bench latency-device FLOWS AT_ONCE poll|live | bench latency-sign-out FLOWS AT_ONCE | bench cost | bench pool STEP COUNT"
            );
            std::process::exit(2);
        }
    }
}

//! Benchmarks against a live `wrangler dev` (run by `scripts/bench.sh`, which sets QRGATE_URL to
//! an instance with KV operation counting). Prints figures; asserts nothing about speed.
//!
//! `bench latency FLOWS INTERVAL_SECONDS`: the time from the phone's confirm answer to the PC
//! holding its token, with the PC polling every INTERVAL seconds as the page does.
//! `bench cost`: KV reads and writes of one complete login and of a minute of an idle QR.
//! `bench pool STEP COUNT`: prints COUNT ready-made requests of one step (`trivial`, `poll`,
//! `scan` or `confirm`) for wrk and `tests/bench/pool.lua`, one per line:
//! `METHOD<TAB>PATH<TAB>BODY<TAB>HEADER<TAB>HEADER...`. Each scan or confirm line is a session of
//! its own, made ready here, so the load measures real first scans and real confirmations.

use qrgate_protocol::{CreateQrResponse, DecisionRequest, LoginSession, ScanResponse, Secret};
use qrgate_tests::*;
use std::time::{Duration, Instant};

const CONCURRENT_FLOWS: usize = 10;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// One flow; returns milliseconds from the confirm answer to the token in the PC's hands.
async fn timed_flow(phone: &Device, login: &LoginSession, interval: Duration) -> f64 {
    let pc = Device::pc();
    let qr = create_qr(&pc).await;
    let confirmed_at = std::sync::Arc::new(std::sync::Mutex::new(None::<Instant>));
    let poller = {
        let (pc, qr, confirmed_at) = (pc.clone(), qr.clone(), confirmed_at.clone());
        async move {
            loop {
                tokio::time::sleep(interval).await;
                if poll(&pc, &qr).await.session.is_some() {
                    let now = Instant::now();
                    let confirmed = confirmed_at.lock().unwrap().expect("confirmed first");
                    return now.duration_since(confirmed).as_secs_f64() * 1000.0;
                }
            }
        }
    };
    let phone_side = async {
        let scan: ScanResponse = scan(phone, &login.token, &qr.qr_id).await;
        // A person takes a moment: confirm at a random phase of the PC's poll cycle.
        let phase = rand_fraction() * interval.as_secs_f64();
        tokio::time::sleep(Duration::from_secs_f64(phase)).await;
        decide_call(phone, &login.token, &qr.qr_id, "confirm", &scan.scan_token)
            .send()
            .await
            .expect_empty(204);
        *confirmed_at.lock().unwrap() = Some(Instant::now());
    };
    let (latency, ()) = tokio::join!(poller, phone_side);
    latency
}

fn rand_fraction() -> f64 {
    (uuid::Uuid::new_v4().as_u128() % 1_000_000) as f64 / 1_000_000.0
}

async fn latency(flows: usize, interval: f64) {
    use futures::StreamExt;
    let interval = Duration::from_secs_f64(interval);
    let phones: Vec<(Device, LoginSession)> =
        futures::future::join_all((0..CONCURRENT_FLOWS).map(|_| async {
            let phone = Device::phone();
            let login = signed_in(&phone).await;
            (phone, login)
        }))
        .await;
    let mut samples: Vec<f64> = futures::stream::iter(0..flows)
        .map(|i| {
            let (phone, login) = &phones[i % phones.len()];
            timed_flow(phone, login, interval)
        })
        .buffer_unordered(CONCURRENT_FLOWS)
        .collect()
        .await;
    samples.sort_by(|a, b| a.total_cmp(b));
    println!(
        "| poll every {:.2} s | {flows} | {:.0} ms | {:.0} ms | {:.0} ms |",
        interval.as_secs_f64(),
        percentile(&samples, 50.0),
        percentile(&samples, 95.0),
        percentile(&samples, 99.0)
    );
}

async fn cost() {
    let phone = Device::phone();
    let login = signed_in(&phone).await;
    let pc = Device::pc();
    let mut total = KvOps::default();
    let reply = pc.call(reqwest::Method::POST, "/api/qr").send().await;
    total += reply.kv_ops();
    let qr: CreateQrResponse = reply.expect(201);
    let reply = poll_call(&pc, &qr).send().await;
    let idle_poll = reply.kv_ops();
    total += idle_poll;
    let reply = scan_call(&phone, &login.token, &qr.qr_id).send().await;
    total += reply.kv_ops();
    let scan: ScanResponse = reply.expect(200);
    let reply = poll_call(&pc, &qr).send().await;
    total += reply.kv_ops();
    let reply = decide_call(&phone, &login.token, &qr.qr_id, "confirm", &scan.scan_token)
        .send()
        .await;
    total += reply.kv_ops();
    let reply = poll_call(&pc, &qr).send().await;
    total += reply.kv_ops();
    let reply = login_call(&phone, &login.account.username, PASSWORD)
        .send()
        .await;
    let password_login = reply.kv_ops();
    println!(
        "| one QR login (create, poll pending, scan, poll scanned, confirm, poll confirmed) | {} | {} | {} |",
        total.reads, total.writes, total.lists
    );
    println!(
        "| one idle poll | {} | {} | {} |",
        idle_poll.reads, idle_poll.writes, idle_poll.lists
    );
    println!(
        "| a minute of an idle QR on screen (60 polls at 1 s, the default interval) | {} | {} | {} |",
        idle_poll.reads * 60,
        idle_poll.writes * 60,
        idle_poll.lists * 60
    );
    println!(
        "| one password login | {} | {} | {} |",
        password_login.reads, password_login.writes, password_login.lists
    );
}

/// How many sessions are made ready at once: enough to finish a pool of thousands in seconds.
const POOL_CONCURRENCY: usize = 16;

async fn pool(step: &str, count: usize) {
    use futures::StreamExt;
    let phone = Device::phone();
    let login = signed_in(&phone).await;
    let phone = &(phone, login);
    let lines: Vec<String> = futures::stream::iter(0..count)
        .map(|_| pool_line(step, phone))
        .buffer_unordered(POOL_CONCURRENCY)
        .collect()
        .await;
    for line in lines {
        println!("{line}");
    }
}

/// One request of `step` as a line for `tests/bench/pool.lua`.
async fn pool_line(step: &str, (phone, login): &(Device, LoginSession)) -> String {
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
        other => panic!("no such step: {other}"),
    };
    format!("{method}\t{path}\t{body}\t{}", headers.join("\t"))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["latency", flows, interval] => {
            latency(
                flows.parse().expect("FLOWS is a number"),
                interval.parse().expect("INTERVAL is seconds"),
            )
            .await
        }
        ["cost"] => cost().await,
        ["pool", step, count] => pool(step, count.parse().expect("COUNT is a number")).await,
        _ => {
            eprintln!(
                "usage: bench latency FLOWS INTERVAL_SECONDS | bench cost | bench pool STEP COUNT"
            );
            std::process::exit(2);
        }
    }
}

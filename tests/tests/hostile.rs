//! Random requests over every endpoint: ill-formed paths, headers, tokens and bodies mixed with
//! valid ones. Every answer must be below 500, and every error the Worker gives the contract's
//! JSON shape.
//! `scripts/test.sh` then checks the worker log for panics. The seed is printed (and can be
//! set with `QRGATE_FUZZ_SEED`) so a failure can be replayed.

use futures::StreamExt;
use qrgate_protocol::{ErrorBody, MAX_BODY_BYTES, Secret};
use qrgate_tests::*;
use reqwest::Method;

const REQUESTS: usize = 10_000;
const CONCURRENCY: usize = 32;

/// A small deterministic generator (xorshift64*), enough to pick among cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn text(&mut self, max: usize) -> String {
        const CHARS: &[u8] = b"abcXYZ019_-.%/\\\"'{}[]:, \t\n<>&;=?#";
        let len = self.below(max + 1);
        (0..len).map(|_| *self.pick(CHARS) as char).collect()
    }
}

/// Valid material the generator mixes in, so requests also get past the first checks.
struct Known {
    phone: Device,
    token: Secret,
    qr_id: String,
    poll_secret: Secret,
}

/// A random request, and whether the Worker answers it: a path whose dot segments or
/// backslashes the client resolves to one outside `/api/` (`/api/x/..\..` is `/`) goes to the
/// static assets, which answer a method they do not serve with an empty `405` of their own.
fn request(rng: &mut Rng, known: &Known) -> (bool, Call) {
    let qr_id = match rng.below(4) {
        0 => known.qr_id.clone(),
        1 => "abcdefghijklmnopqrstuvwx".to_owned(),
        2 => rng.text(70),
        // Too long (a length of exactly 43 would look like a secret to the log check).
        _ => "a".repeat(65 + rng.below(20)),
    };
    let device_id = match rng.below(3) {
        0 => known.phone.id.clone(),
        1 => uuid_like(rng),
        _ => rng.text(40),
    };
    // Mostly the method the path takes, so requests get past routing to the deeper checks.
    let (method, path) = match rng.below(14) {
        0 => (Method::POST, "/api/accounts".to_owned()),
        1 => (Method::POST, "/api/sessions".to_owned()),
        2 => (Method::DELETE, "/api/sessions/current".to_owned()),
        3 => (Method::GET, "/api/me".to_owned()),
        4 => (Method::GET, "/api/devices".to_owned()),
        5 => (Method::DELETE, format!("/api/devices/{device_id}")),
        6 => (Method::POST, "/api/qr".to_owned()),
        7 => (Method::GET, format!("/api/qr/{qr_id}")),
        8 => (Method::DELETE, format!("/api/qr/{qr_id}")),
        9 => (Method::POST, format!("/api/qr/{qr_id}/scan")),
        10 => (Method::POST, format!("/api/qr/{qr_id}/confirm")),
        11 => (Method::POST, format!("/api/qr/{qr_id}/deny")),
        12 => (Method::GET, format!("/api/{}", rng.text(30))),
        _ => (Method::POST, format!("/api/qr/{qr_id}/{}", rng.text(8))),
    };
    let path: String = path
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '#' && *c != '?')
        .collect();
    let methods = [
        Method::GET,
        Method::POST,
        Method::DELETE,
        Method::PUT,
        Method::PATCH,
    ];
    let method = if rng.below(8) == 0 {
        rng.pick(&methods).clone()
    } else {
        method
    };
    let for_worker = reqwest::Url::parse(&format!("{}{path}", base_url()))
        .is_ok_and(|url| url.path().starts_with("/api/"));
    let mut call = Call::new(method, &path);
    if rng.below(8) != 0 {
        call = call.header("X-Device-Id", &device_id.replace(['\n', '\t'], ""));
    }
    if rng.below(8) != 0 {
        let kinds = ["pc", "web", "ios", "android", "PC", "", "tv"];
        let kind = *rng.pick::<&str>(&kinds);
        call = call.header("X-Device-Type", kind);
    }
    call = call.header(
        "CF-Connecting-IP",
        &format!("10.9.{}.{}", rng.below(256), rng.below(256)),
    );
    call = match rng.below(5) {
        0 => call.bearer(&known.token),
        1 => call.bearer(&known.poll_secret),
        2 => call.header(
            "Authorization",
            &format!("Bearer {}", rng.text(60).replace(['\n', '\t'], "")),
        ),
        3 => call.header("Authorization", "Basic eDp5"),
        _ => call,
    };
    let bodies = [
        String::new(),
        "{}".to_owned(),
        format!(
            r#"{{"username":"{}","password":"{}"}}"#,
            rng.text(12),
            rng.text(20)
        ),
        format!(r#"{{"scan_token":"{}"}}"#, rng.text(50)),
        format!(r#"{{"device_name":{}}}"#, rng.below(1000)),
        rng.text(200),
        "x".repeat(MAX_BODY_BYTES + rng.below(100)),
        "[1,2,3]".to_owned(),
        "null".to_owned(),
    ];
    let body = rng.pick(&bodies).clone();
    let content_types = [
        Some("application/json"),
        Some("text/plain"),
        None,
        Some("application/json; charset=utf-8"),
    ];
    (for_worker, call.raw_body(*rng.pick(&content_types), body))
}

fn uuid_like(rng: &mut Rng) -> String {
    let hex = |rng: &mut Rng, n: usize| -> String {
        (0..n)
            .map(|_| *rng.pick(b"0123456789abcdefABCDEF") as char)
            .collect()
    };
    format!(
        "{}-{}-{}-{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 12)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_random_requests_get_no_5xx_and_only_json_errors() {
    let seed: u64 = std::env::var("QRGATE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("fuzz seed {seed} (QRGATE_FUZZ_SEED replays it)");
    let phone = Device::phone();
    let login = signed_in(&phone).await;
    let qr = create_qr(&Device::pc()).await;
    let known = Known {
        phone,
        token: login.token,
        qr_id: qr.qr_id,
        poll_secret: qr.poll_secret,
    };
    let mut rng = Rng(seed);
    let calls: Vec<(bool, Call)> = (0..REQUESTS).map(|_| request(&mut rng, &known)).collect();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let replies: Vec<(bool, Reply)> = futures::stream::iter(calls)
        .map(|(for_worker, call)| async move { (for_worker, call.send().await) })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for (for_worker, reply) in &replies {
        let status = reply.status.as_u16();
        *statuses.entry(status).or_default() += 1;
        assert!(status < 500, "{status}: {}", reply.text());
        if status >= 400 && *for_worker {
            let body: ErrorBody = serde_json::from_slice(&reply.body)
                .unwrap_or_else(|_| panic!("{status} without the JSON error: {}", reply.text()));
            assert_eq!(body.error.status(), status, "{}", reply.text());
        }
    }
    // Most requests stay under `/api/` as sent: were none judged as the Worker's, the JSON check
    // above would never run and this test could not fail.
    let for_worker = replies.iter().filter(|(for_worker, _)| *for_worker).count();
    assert!(
        for_worker * 10 >= REQUESTS * 8,
        "only {for_worker} of {REQUESTS} requests reached the Worker's paths"
    );
    println!("{REQUESTS} random requests by status: {statuses:?}; {for_worker} for the Worker");
}

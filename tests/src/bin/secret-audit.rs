//! `secret-audit RECORDS... -- PATHS...`: the whole-run secret check of `scripts/test.sh`.
//! RECORDS are the recording proxy's files (one JSON exchange per line); PATHS are the worker
//! logs and the local KV stores. `QRGATE_OIDC_DIR`, when set, names the run's provider settings
//! (`tests/oidc/config.mjs`), whose client secrets and signing keys are searched for too. Prints
//! what it searched and exits 1 on any finding; see `qrgate_tests::audit`.

use qrgate_tests::audit::{
    Coverage, Exchange, Kind, Secrets, audit_exchanges, audit_files, configured_secrets,
};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(split) = args.iter().position(|arg| arg == "--") else {
        eprintln!("usage: secret-audit RECORDS... -- PATHS...");
        return ExitCode::from(2);
    };
    let mut exchanges = Vec::new();
    for file in &args[..split] {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        for (number, line) in text.lines().enumerate() {
            let exchange: Exchange =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{file}:{}: {e}", number + 1));
            exchanges.push(exchange);
        }
    }
    let paths: Vec<PathBuf> = args[split + 1..].iter().map(PathBuf::from).collect();
    let configured = match std::env::var_os("QRGATE_OIDC_DIR") {
        Some(dir) => configured_secrets(&PathBuf::from(dir))
            .unwrap_or_else(|e| panic!("the provider's settings of the run: {e}")),
        None => Vec::new(),
    };
    let secrets = Secrets::collect(&exchanges, &configured);
    let mut coverage = Coverage::default();
    let mut findings = audit_exchanges(&secrets, &exchanges, &mut coverage);
    findings.extend(
        audit_files(&secrets, &paths, &mut coverage).unwrap_or_else(|e| panic!("reading: {e}")),
    );
    println!(
        "searched for {} login tokens, {} poll secrets, {} scan tokens, {} device codes, \
         {} passwords, {} codes, \
         {} refresh tokens, {} access tokens, {} ID tokens, {} client secrets and {} private \
         key members from {} recorded requests: in {} URLs, {} error bodies, {} other answers \
         and {} files of logs and KV storage ({} bytes)",
        secrets.count(Kind::LoginToken),
        secrets.count(Kind::PollSecret),
        secrets.count(Kind::ScanToken),
        secrets.count(Kind::DeviceCode),
        secrets.count(Kind::Password),
        secrets.count(Kind::AuthorizationCode),
        secrets.count(Kind::RefreshToken),
        secrets.count(Kind::AccessToken),
        secrets.count(Kind::IdToken),
        secrets.count(Kind::ClientSecret),
        secrets.count(Kind::SigningKey),
        exchanges.len(),
        coverage.urls,
        coverage.error_bodies,
        coverage.answers,
        coverage.files,
        coverage.file_bytes,
    );
    let provider_unseen = !configured.is_empty()
        && [
            Kind::AuthorizationCode,
            Kind::RefreshToken,
            Kind::DeviceCode,
        ]
        .iter()
        .any(|kind| secrets.count(*kind) == 0);
    if secrets.count(Kind::LoginToken) == 0
        || secrets.count(Kind::PollSecret) == 0
        || provider_unseen
    {
        eprintln!("no secrets were recorded: the proxy saw nothing, so the audit proves nothing");
        return ExitCode::FAILURE;
    }
    if findings.is_empty() {
        println!("no secret found anywhere it must not be");
        return ExitCode::SUCCESS;
    }
    const SHOWN: usize = 50;
    for finding in findings.iter().take(SHOWN) {
        eprintln!("leak: {finding}");
    }
    if findings.len() > SHOWN {
        eprintln!("... and {} more", findings.len() - SHOWN);
    }
    ExitCode::FAILURE
}

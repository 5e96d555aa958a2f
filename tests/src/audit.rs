//! The secret audit of a whole test run. `tests/audit/record-proxy.mjs` records every request
//! and answer that reaches `wrangler dev` during `scripts/test.sh`; this module gathers every
//! secret of the run from those records — each login token, poll secret and scan token the
//! edge handed out, each code, refresh token, access token and ID token of the provider, and
//! each password a client sent — and the run's client secrets and signing keys
//! (`tests/oidc/config.mjs`), and then looks for each of them where no secret may ever be:
//!
//! - in a URL: a request's path and query, a `Location`, a `qr_url` or `redirect_to` the edge
//!   returned (but for the code in the `redirect_to` that hands it out);
//! - in an error body, and in any answer other than the one that handed the secret out (an
//!   echo, a leak across devices or accounts);
//! - in the worker's log and in the local KV store's files (where secrets may be kept only as
//!   hashes), given as paths.
//!
//! A finding names the kind of secret and the place, never the secret itself.

use aho_corasick::AhoCorasick;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// One request and its answer, as the recording proxy writes them.
#[derive(Debug, Clone, Deserialize)]
pub struct Exchange {
    pub method: String,
    pub url: String,
    pub request_body: String,
    pub status: u16,
    pub location: Option<String>,
    pub response_body: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    LoginToken,
    PollSecret,
    ScanToken,
    DeviceCode,
    Password,
    AuthorizationCode,
    RefreshToken,
    AccessToken,
    IdToken,
    ClientSecret,
    SigningKey,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LoginToken => "a login token",
            Self::PollSecret => "a poll secret",
            Self::ScanToken => "a scan token",
            Self::DeviceCode => "a device code",
            Self::Password => "a password",
            Self::AuthorizationCode => "an authorization code",
            Self::RefreshToken => "a refresh token",
            Self::AccessToken => "an access token",
            Self::IdToken => "an ID token",
            Self::ClientSecret => "a client secret",
            Self::SigningKey => "a signing key's private part",
        })
    }
}

struct SecretInfo {
    kind: Kind,
    /// The exchange whose answer handed it out (none for a password: clients send those).
    issued_in: Option<usize>,
}

/// Every secret of a run, and a matcher that finds any of them in one pass over a text.
pub struct Secrets {
    secrets: Vec<SecretInfo>,
    /// Each pattern and the secret it belongs to: a login token is searched whole and by its
    /// random part alone (`<account_id>.<random>`), a password also in its JSON-escaped form.
    pattern_owner: Vec<usize>,
    matcher: AhoCorasick,
}

/// A short password, or one of few distinct characters (`00000000`, as schemathesis sends), could
/// turn up by chance among the tens of megabytes of logs and KV files (timestamps, hashes,
/// JSON); one with at least this many characters, this many of them distinct, cannot. Every
/// password the tests choose (`correct horse battery`, `wrong password`, ...) qualifies.
const MIN_PASSWORD_CHARACTERS: usize = 10;
const MIN_DISTINCT_PASSWORD_CHARACTERS: usize = 6;

fn is_searchable_password(password: &str) -> bool {
    let distinct: HashSet<char> = password.chars().collect();
    password.chars().count() >= MIN_PASSWORD_CHARACTERS
        && distinct.len() >= MIN_DISTINCT_PASSWORD_CHARACTERS
}

/// The provider's settings of the run (`tests/oidc/config.mjs`): the clients' secrets and the
/// signing keys' private members, which no answer, URL, log or storage may ever hold.
pub fn configured_secrets(oidc_dir: &Path) -> std::io::Result<Vec<(Kind, String)>> {
    let read = |name: &str| -> std::io::Result<Value> {
        let text = std::fs::read_to_string(oidc_dir.join(name))?;
        serde_json::from_str(&text).map_err(std::io::Error::other)
    };
    let mut found = Vec::new();
    if let Value::Object(secrets) = read("secrets.json")? {
        for secret in secrets.values().filter_map(Value::as_str) {
            found.push((Kind::ClientSecret, secret.to_owned()));
        }
    }
    let keys = read("keys.json")?;
    for key in keys["keys"].as_array().into_iter().flatten() {
        for member in ["d", "p", "q", "dp", "dq", "qi"] {
            if let Some(private) = key[member].as_str() {
                found.push((Kind::SigningKey, private.to_owned()));
            }
        }
    }
    Ok(found)
}

/// The `code` of a redirect URL, if it has one.
fn code_in(url: &str) -> Option<&str> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| pair.strip_prefix("code="))
}

impl Secrets {
    pub fn collect(exchanges: &[Exchange], configured: &[(Kind, String)]) -> Self {
        let mut secrets = Vec::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_owner = Vec::new();
        let mut seen = HashSet::new();
        let mut add = |kind: Kind, issued_in: Option<usize>, forms: Vec<String>| {
            if !seen.insert(forms[0].clone()) {
                return;
            }
            secrets.push(SecretInfo { kind, issued_in });
            for form in forms {
                patterns.push(form);
                pattern_owner.push(secrets.len() - 1);
            }
        };
        for (kind, secret) in configured {
            add(*kind, None, vec![secret.clone()]);
        }
        for (index, exchange) in exchanges.iter().enumerate() {
            if exchange.status < 400 {
                let answer = answer_json(exchange);
                for (field, value) in string_fields(&answer) {
                    let (kind, value) = match field {
                        "token" => (Kind::LoginToken, value),
                        "poll_secret" => (Kind::PollSecret, value),
                        "scan_token" => (Kind::ScanToken, value),
                        "device_code" => (Kind::DeviceCode, value),
                        "refresh_token" => (Kind::RefreshToken, value),
                        "access_token" => (Kind::AccessToken, value),
                        "id_token" => (Kind::IdToken, value),
                        "redirect_to" => match code_in(value) {
                            Some(code) => (Kind::AuthorizationCode, code),
                            None => continue,
                        },
                        _ => continue,
                    };
                    let mut forms = vec![value.to_owned()];
                    if let Some((_, random)) = value.split_once('.') {
                        forms.push(random.to_owned());
                    }
                    add(kind, Some(index), forms);
                }
            }
            let request = serde_json::from_str(&exchange.request_body).unwrap_or(Value::Null);
            for (field, value) in string_fields(&request) {
                if field == "password" && is_searchable_password(value) {
                    let escaped = serde_json::to_string(value).unwrap_or_default();
                    let escaped = escaped.trim_matches('"').to_owned();
                    let mut forms = vec![value.to_owned()];
                    if escaped != value {
                        forms.push(escaped);
                    }
                    add(Kind::Password, None, forms);
                }
            }
        }
        let matcher = AhoCorasick::new(&patterns).expect("the secrets make a matcher");
        Self {
            secrets,
            pattern_owner,
            matcher,
        }
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.secrets.iter().filter(|s| s.kind == kind).count()
    }

    /// The secrets found in any of `haystacks`, by index, but those handed out by `issuer`.
    fn found_in(&self, haystacks: &[&[u8]], issuer: Option<usize>) -> Vec<usize> {
        let mut found: Vec<usize> = haystacks
            .iter()
            .flat_map(|haystack| self.matcher.find_iter(haystack))
            .map(|m| self.pattern_owner[m.pattern().as_usize()])
            .filter(|&secret| issuer.is_none() || self.secrets[secret].issued_in != issuer)
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// An answer's JSON: its body, or the first code in the PC page's HTML.
fn answer_json(exchange: &Exchange) -> Value {
    let body = &exchange.response_body;
    serde_json::from_str(body)
        .ok()
        .or_else(|| serde_json::from_str(crate::first_code_json(body)?).ok())
        .unwrap_or(Value::Null)
}

/// Where a secret turned up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: Kind,
    pub place: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {}", self.kind, self.place)
    }
}

/// What the audit looked at, for its report.
#[derive(Debug, Default, Clone, Copy)]
pub struct Coverage {
    pub urls: usize,
    pub error_bodies: usize,
    pub answers: usize,
    pub files: usize,
    pub file_bytes: u64,
}

/// Searches the exchanges themselves: URLs, error bodies and answers.
pub fn audit_exchanges(
    secrets: &Secrets,
    exchanges: &[Exchange],
    coverage: &mut Coverage,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut report = |found: Vec<usize>, place: &dyn Fn() -> String| {
        for secret in found {
            findings.push(Finding {
                kind: secrets.secrets[secret].kind,
                place: place(),
            });
        }
    };
    for (index, exchange) in exchanges.iter().enumerate() {
        // The method and the index say which exchange; its URL may be the leak, so not that.
        let name = || format!("{} #{index} ({})", exchange.method, exchange.status);
        let answer = answer_json(exchange);
        let mut urls = vec![exchange.url.as_str()];
        urls.extend(exchange.location.as_deref());
        let answered = string_fields(&answer);
        urls.extend(
            answered
                .iter()
                .filter(|(field, _)| field.ends_with("url"))
                .map(|(_, value)| *value),
        );
        let url_bytes: Vec<&[u8]> = urls.iter().map(|url| url.as_bytes()).collect();
        report(secrets.found_in(&url_bytes, None), &|| {
            format!("a URL of {}", name())
        });
        // A redirect to a client may carry the one code this answer hands out, and nothing else.
        let redirects: Vec<&[u8]> = answered
            .iter()
            .filter(|(field, _)| field.starts_with("redirect") || field.ends_with("redirect"))
            .map(|(_, value)| value.as_bytes())
            .collect();
        let found = secrets
            .found_in(&redirects, None)
            .into_iter()
            .filter(|&secret| {
                let info = &secrets.secrets[secret];
                info.kind != Kind::AuthorizationCode || info.issued_in != Some(index)
            })
            .collect();
        report(found, &|| format!("a redirect URL of {}", name()));
        coverage.urls += urls.len() + redirects.len();
        if exchange.status >= 400 {
            coverage.error_bodies += 1;
            // Raw, and each string decoded from JSON (a password with a quote is escaped).
            let mut texts = vec![exchange.response_body.as_bytes()];
            texts.extend(
                string_fields(&answer)
                    .into_iter()
                    .map(|(_, v)| v.as_bytes()),
            );
            report(secrets.found_in(&texts, None), &|| {
                format!("the error body of {}", name())
            });
        } else {
            coverage.answers += 1;
            let found = secrets.found_in(&[exchange.response_body.as_bytes()], Some(index));
            report(found, &|| format!("the answer to {}", name()));
        }
    }
    findings
}

/// Searches files (logs) and every file under directories (the KV store), byte for byte.
pub fn audit_files(
    secrets: &Secrets,
    paths: &[PathBuf],
    coverage: &mut Coverage,
) -> std::io::Result<Vec<Finding>> {
    let mut findings = Vec::new();
    for path in paths {
        for file in files_under(path)? {
            let bytes = std::fs::read(&file)?;
            coverage.files += 1;
            coverage.file_bytes += bytes.len() as u64;
            for secret in secrets.found_in(&[&bytes], None) {
                findings.push(Finding {
                    kind: secrets.secrets[secret].kind,
                    place: file.display().to_string(),
                });
            }
        }
    }
    Ok(findings)
}

fn files_under(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path)? {
        files.extend(files_under(&entry?.path())?);
    }
    Ok(files)
}

/// Every string in a JSON value, with the name of the field that holds it.
fn string_fields(value: &Value) -> Vec<(&str, &str)> {
    fn walk<'a>(field: &'a str, value: &'a Value, out: &mut Vec<(&'a str, &'a str)>) {
        match value {
            Value::String(text) => out.push((field, text)),
            Value::Array(items) => items.iter().for_each(|item| walk(field, item, out)),
            Value::Object(fields) => fields.iter().for_each(|(name, v)| walk(name, v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", value, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str =
        "0123456789abcdef0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const RANDOM_PART: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const POLL_SECRET: &str = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

    fn exchange(method: &str, url: &str, request: &str, status: u16, answer: &str) -> Exchange {
        Exchange {
            method: method.into(),
            url: url.into(),
            request_body: request.into(),
            status,
            location: None,
            response_body: answer.into(),
        }
    }

    fn clean_run() -> Vec<Exchange> {
        vec![
            exchange(
                "POST",
                "/api/sessions",
                r#"{"username":"ann","password":"correct horse battery"}"#,
                201,
                &format!(r#"{{"token":"{TOKEN}","expires_at":1,"account":{{}}}}"#),
            ),
            exchange(
                "POST",
                "/api/qr",
                "",
                201,
                &format!(
                    r#"{{"qr_id":"q","poll_secret":"{POLL_SECRET}","qr_url":"http://x/m/qr/q"}}"#
                ),
            ),
            exchange(
                "GET",
                "/api/me",
                "",
                401,
                r#"{"error":"unauthorized","message":"Sign in again."}"#,
            ),
        ]
    }

    fn findings(exchanges: &[Exchange]) -> Vec<Finding> {
        let secrets = Secrets::collect(exchanges, &[]);
        audit_exchanges(&secrets, exchanges, &mut Coverage::default())
    }

    #[test]
    fn collects_what_the_edge_hands_out_and_the_passwords_clients_send() {
        let secrets = Secrets::collect(&clean_run(), &[]);
        assert_eq!(secrets.count(Kind::LoginToken), 1);
        assert_eq!(secrets.count(Kind::PollSecret), 1);
        assert_eq!(secrets.count(Kind::Password), 1);
        assert_eq!(findings(&clean_run()), vec![]);
    }

    #[test]
    fn finds_a_secret_in_a_url_an_error_body_or_another_answer() {
        let mut run = clean_run();
        run.push(exchange(
            "GET",
            &format!("/m/x?t={RANDOM_PART}"),
            "",
            200,
            "",
        ));
        run.push(exchange(
            "POST",
            "/api/accounts",
            "",
            400,
            r#"{"error":"invalid_request","message":"bad: correct horse battery"}"#,
        ));
        run.push(exchange(
            "GET",
            "/api/me",
            "",
            200,
            &format!(r#"{{"leak":"{POLL_SECRET}"}}"#),
        ));
        let found = findings(&run);
        let kinds: Vec<Kind> = found.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [Kind::LoginToken, Kind::Password, Kind::PollSecret]);
        assert!(
            found[0].place.starts_with("a URL of GET #3"),
            "{}",
            found[0]
        );
        assert!(found[1].place.starts_with("the error body"), "{}", found[1]);
        assert!(
            found[2].place.starts_with("the answer to GET #5"),
            "{}",
            found[2]
        );
        // A finding never carries the secret.
        assert!(found.iter().all(|f| !f.to_string().contains(RANDOM_PART)));
    }

    #[test]
    fn a_code_may_be_in_the_redirect_that_hands_it_out_and_nowhere_else() {
        const CODE: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC";
        let redirect = format!("https://app.example/cb?code={CODE}&state=s");
        let mut run = clean_run();
        run.push(exchange(
            "GET",
            "/api/qr/q",
            "",
            200,
            &format!(r#"{{"status":"confirmed","authorization":{{"redirect_to":"{redirect}"}}}}"#),
        ));
        let secrets = Secrets::collect(&run, &[]);
        assert_eq!(secrets.count(Kind::AuthorizationCode), 1);
        assert_eq!(findings(&run), vec![]);
        run.push(exchange(
            "GET",
            &format!("/oauth/authorize?x={CODE}"),
            "",
            200,
            "",
        ));
        let found = findings(&run);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, Kind::AuthorizationCode);
    }

    #[test]
    fn configured_secrets_are_searched_everywhere() {
        let configured = [(
            Kind::ClientSecret,
            "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD".to_owned(),
        )];
        let mut run = clean_run();
        run.push(exchange(
            "POST",
            "/oauth/token",
            "",
            400,
            r#"{"error":"invalid_client","error_description":"DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD"}"#,
        ));
        let secrets = Secrets::collect(&run, &configured);
        let found = audit_exchanges(&secrets, &run, &mut Coverage::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, Kind::ClientSecret);
    }

    #[test]
    fn short_or_uniform_passwords_are_not_searched() {
        assert!(!is_searchable_password("00000000000000"));
        assert!(!is_searchable_password("abc:def1"));
        assert!(is_searchable_password("correct horse battery"));
        let run = [exchange(
            "POST",
            "/api/accounts",
            r#"{"username":"abc","password":"00000000"}"#,
            201,
            "{}",
        )];
        assert_eq!(Secrets::collect(&run, &[]).count(Kind::Password), 0);
    }

    #[test]
    fn searches_files_and_directories() {
        let dir = std::env::temp_dir().join(format!("qrgate-audit-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("blobs")).unwrap();
        std::fs::write(
            dir.join("blobs/value"),
            format!("{{\"h\":\"{POLL_SECRET}\"}}"),
        )
        .unwrap();
        std::fs::write(dir.join("clean"), "nothing here").unwrap();
        let secrets = Secrets::collect(&clean_run(), &[]);
        let mut coverage = Coverage::default();
        let found = audit_files(&secrets, std::slice::from_ref(&dir), &mut coverage).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(coverage.files, 2);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, Kind::PollSecret);
        assert!(found[0].place.ends_with("value"));
    }
}

//! The clients an operator registers in `OAUTH_CLIENTS` (`shared/API.md`, "Clients"), read
//! strictly: an entry that breaks a rule is refused with the entry and the reason, never
//! skipped, so that no client is silently missing.

use super::{AUTHORIZATION_CODE, DEVICE_CODE, REFRESH_TOKEN};
use serde::Deserialize;
use std::fmt;

/// An entry as the operator writes it. Unknown fields are refused: a misspelt
/// `client_secret_sha256` must not make a confidential client public.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    client_id: String,
    client_name: String,
    redirect_uris: Vec<String>,
    #[serde(default)]
    client_secret_sha256: Option<String>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    id_token_signed_response_alg: Option<String>,
}

/// The algorithms this provider signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlg {
    Es256,
    Rs256,
}

impl SigningAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }

    pub fn parse(alg: &str) -> Option<Self> {
        [Self::Es256, Self::Rs256]
            .into_iter()
            .find(|known| known.as_str() == alg)
    }
}

/// The grant types a client may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GrantTypes {
    pub authorization_code: bool,
    pub refresh_token: bool,
    pub device_code: bool,
}

/// A registered client, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    pub client_name: String,
    pub redirect_uris: Vec<RedirectUri>,
    /// Lower-case hex SHA-256 of the secret: the client is confidential. `None`: public.
    pub secret_sha256: Option<String>,
    pub grant_types: GrantTypes,
    pub id_token_alg: SigningAlg,
}

impl Client {
    pub fn is_confidential(&self) -> bool {
        self.secret_sha256.is_some()
    }

    /// The registered redirect URI that `requested` is, if any: the same string, or for a
    /// loopback one the same but for the port (RFC 8252 §7.3).
    pub fn redirect_uri(&self, requested: &str) -> Option<&RedirectUri> {
        self.redirect_uris
            .iter()
            .find(|registered| registered.matches(requested))
    }
}

/// Why `OAUTH_CLIENTS` cannot be used: which entry (from 0), and what is wrong with it. Never
/// shown to a client: it goes to the log, as a `500`'s detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryError {
    pub entry: Option<usize>,
    pub why: String,
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.entry {
            Some(entry) => write!(f, "OAUTH_CLIENTS entry {entry}: {}", self.why),
            None => write!(f, "OAUTH_CLIENTS: {}", self.why),
        }
    }
}

/// Reads `OAUTH_CLIENTS` (a JSON array in a string). Any entry that breaks a rule fails all.
pub fn parse_registry(json: &str) -> Result<Vec<Client>, RegistryError> {
    let whole = |why: String| RegistryError { entry: None, why };
    let values: Vec<serde_json::Value> = serde_json::from_str(json)
        .map_err(|e| whole(format!("not a JSON array of client objects ({e})")))?;
    let mut clients: Vec<Client> = Vec::with_capacity(values.len());
    for (index, value) in values.into_iter().enumerate() {
        let at = |why: String| RegistryError {
            entry: Some(index),
            why,
        };
        let entry: Entry = serde_json::from_value(value).map_err(|e| at(e.to_string()))?;
        let client = check(entry).map_err(|why| at(why.to_owned()))?;
        if clients.iter().any(|c| c.client_id == client.client_id) {
            return Err(at(format!(
                "client_id {} is registered twice",
                client.client_id
            )));
        }
        clients.push(client);
    }
    Ok(clients)
}

fn check(entry: Entry) -> Result<Client, &'static str> {
    let id_ok = (1..=64).contains(&entry.client_id.len())
        && entry
            .client_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !id_ok {
        return Err("client_id must be 1-64 of A-Z a-z 0-9 . _ -");
    }
    let name = crate::validate::clean_name(&entry.client_name);
    if !(1..=64).contains(&name.chars().count()) || name != entry.client_name {
        return Err("client_name must be 1-64 characters, without control characters");
    }
    let secret_sha256 = match entry.client_secret_sha256 {
        None => None,
        Some(hash)
            if hash.len() == 64
                && hash
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
        {
            Some(hash)
        }
        Some(_) => return Err("client_secret_sha256 must be 64 lower-case hex digits"),
    };
    let mut grant_types = GrantTypes::default();
    let listed = entry
        .grant_types
        .unwrap_or_else(|| vec![AUTHORIZATION_CODE.into(), REFRESH_TOKEN.into()]);
    if listed.is_empty() {
        return Err("grant_types must name at least one grant type");
    }
    for grant_type in &listed {
        let flag = match grant_type.as_str() {
            AUTHORIZATION_CODE => &mut grant_types.authorization_code,
            REFRESH_TOKEN => &mut grant_types.refresh_token,
            DEVICE_CODE => &mut grant_types.device_code,
            _ => return Err("grant_types holds a grant type this provider does not know"),
        };
        if *flag {
            return Err("grant_types names a grant type twice");
        }
        *flag = true;
    }
    let redirect_uris = entry
        .redirect_uris
        .iter()
        .map(|uri| RedirectUri::parse(uri))
        .collect::<Option<Vec<_>>>()
        .ok_or("each redirect_uri must be an https URL, or http on 127.0.0.1, [::1] or localhost, without a fragment")?;
    if grant_types.authorization_code && redirect_uris.is_empty() {
        return Err("a client with the authorization_code grant needs a redirect_uri");
    }
    let id_token_alg = match entry.id_token_signed_response_alg {
        None => SigningAlg::Es256,
        Some(alg) => {
            SigningAlg::parse(&alg).ok_or("id_token_signed_response_alg must be ES256 or RS256")?
        }
    };
    Ok(Client {
        client_id: entry.client_id,
        client_name: entry.client_name,
        redirect_uris,
        secret_sha256,
        grant_types,
        id_token_alg,
    })
}

/// A redirect URI: an absolute `https` URL, or `http` on a loopback host. Its parts are found
/// by RFC 3986's grammar, as far as the comparisons here need them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri {
    raw: String,
    scheme: &'static str,
    host: String,
    port: Option<u16>,
    /// The path and query, from the first `/` or `?` after the authority.
    rest: String,
}

const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "[::1]", "localhost"];

impl RedirectUri {
    pub fn parse(raw: &str) -> Option<Self> {
        let printable = raw.bytes().all(|b| b.is_ascii_graphic());
        if !printable || raw.contains('#') || raw.len() > 2048 {
            return None;
        }
        let (scheme, rest) = if let Some(rest) = raw.strip_prefix("https://") {
            ("https", rest)
        } else if let Some(rest) = raw.strip_prefix("http://") {
            ("http", rest)
        } else {
            return None;
        };
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        if authority.contains('@') {
            return None;
        }
        let (host, port) = match authority.rfind(':') {
            Some(at) if !authority[at..].contains(']') => {
                let port = &authority[at + 1..];
                let port = (!port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| port.parse::<u16>().ok())
                    .flatten()?;
                (&authority[..at], Some(port))
            }
            _ => (authority, None),
        };
        let host = host.to_ascii_lowercase();
        let host_ok = !host.is_empty()
            && (host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b))
                || host == "[::1]");
        if !host_ok || (scheme == "http" && !LOOPBACK_HOSTS.contains(&host.as_str())) {
            return None;
        }
        Some(Self {
            raw: raw.to_owned(),
            scheme,
            host,
            port,
            rest: path.to_owned(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn is_loopback(&self) -> bool {
        self.scheme == "http"
    }

    /// Whether `requested` is this URI: the same string, or for a loopback URI the same scheme,
    /// host, path and query on any port.
    pub fn matches(&self, requested: &str) -> bool {
        if requested == self.raw {
            return true;
        }
        self.is_loopback()
            && RedirectUri::parse(requested).is_some_and(|other| {
                other.scheme == self.scheme && other.host == self.host && other.rest == self.rest
            })
    }

    /// `scheme://host[:port]`, the port only when it is not the scheme's default: what the
    /// phone shows as where the app sends the person.
    pub fn origin(&self) -> String {
        let default_port = if self.scheme == "https" { 443 } else { 80 };
        match self.port {
            Some(port) if port != default_port => format!("{}://{}:{port}", self.scheme, self.host),
            _ => format!("{}://{}", self.scheme, self.host),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET_HASH: &str = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";

    fn one(json: &str) -> Result<Client, RegistryError> {
        parse_registry(&format!("[{json}]")).map(|mut clients| clients.remove(0))
    }

    #[test]
    fn a_confidential_client_with_defaults() {
        let client = one(&format!(
            r#"{{"client_id": "app", "client_name": "The App", "redirect_uris": ["https://app.example/cb"], "client_secret_sha256": "{SECRET_HASH}"}}"#
        ))
        .unwrap();
        assert!(client.is_confidential());
        assert!(client.grant_types.authorization_code && client.grant_types.refresh_token);
        assert!(!client.grant_types.device_code);
        assert_eq!(client.id_token_alg, SigningAlg::Es256);
    }

    #[test]
    fn a_public_device_client_needs_no_redirect_uri() {
        let client = one(
            r#"{"client_id": "qrgate-cli", "client_name": "qrgate CLI", "redirect_uris": [], "grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"]}"#,
        )
        .unwrap();
        assert!(!client.is_confidential());
        assert!(client.grant_types.device_code && !client.grant_types.authorization_code);
    }

    #[test]
    fn every_broken_rule_names_its_entry() {
        let good = r#"{"client_id": "ok", "client_name": "OK", "redirect_uris": ["https://ok.example/cb"]}"#;
        for bad in [
            r#"{"client_id": "", "client_name": "A", "redirect_uris": ["https://a.example/"]}"#,
            r#"{"client_id": "a b", "client_name": "A", "redirect_uris": ["https://a.example/"]}"#,
            r#"{"client_id": "a", "client_name": "", "redirect_uris": ["https://a.example/"]}"#,
            r#"{"client_id": "a", "client_name": "A\u0007", "redirect_uris": ["https://a.example/"]}"#,
            r#"{"client_id": "a", "client_name": "A", "redirect_uris": []}"#,
            r#"{"client_id": "a", "client_name": "A", "redirect_uris": ["http://a.example/cb"]}"#,
            r#"{"client_id": "a", "client_name": "A", "redirect_uris": ["https://a.example/cb#f"]}"#,
            r#"{"client_id": "a", "client_name": "A", "redirect_uris": ["/cb"]}"#,
            r#"{"client_id": "a", "client_name": "A", "redirect_uris": ["https://a.example/"], "client_secret_sha256": "short"}"#,
            r#"{"client_id": "a", "client_name": "A", "redirect_uris": ["https://a.example/"], "grant_types": ["implicit"]}"#,
            r#"{"client_id": "a", "client_name": "A", "redirect_uris": ["https://a.example/"], "grant_types": []}"#,
            r#"{"client_id": "a", "client_name": "A", "redirect_uris": ["https://a.example/"], "id_token_signed_response_alg": "HS256"}"#,
            r#"{"client_id": "a", "client_name": "A", "redirect_uris": ["https://a.example/"], "client_secret": "oops"}"#,
            r#"{"client_name": "A", "redirect_uris": ["https://a.example/"]}"#,
        ] {
            let error = parse_registry(&format!("[{good}, {bad}]")).unwrap_err();
            assert_eq!(error.entry, Some(1), "{bad}: {error}");
        }
        let twice = parse_registry(&format!("[{good}, {good}]")).unwrap_err();
        assert!(twice.why.contains("twice"), "{twice}");
        for broken in ["", "{}", "[1]", "not json"] {
            assert!(parse_registry(broken).is_err(), "{broken}");
        }
        assert_eq!(parse_registry("[]"), Ok(vec![]));
    }

    #[test]
    fn redirect_uris_match_exactly_except_a_loopback_port() {
        let https = RedirectUri::parse("https://app.example/cb?x=1").unwrap();
        assert!(https.matches("https://app.example/cb?x=1"));
        for other in [
            "https://app.example/cb",
            "https://app.example/cb?x=1&y=2",
            "https://APP.example/cb?x=1",
            "https://app.example:443/cb?x=1",
            "https://app.example/cb?x=1#frag",
        ] {
            assert!(!https.matches(other), "{other}");
        }
        let loopback = RedirectUri::parse("http://127.0.0.1/callback").unwrap();
        assert!(loopback.matches("http://127.0.0.1:53124/callback"));
        assert!(loopback.matches("http://127.0.0.1/callback"));
        assert!(!loopback.matches("http://127.0.0.1:53124/other"));
        assert!(!loopback.matches("http://localhost:53124/callback"));
        assert!(!loopback.matches("https://127.0.0.1:53124/callback"));
        let localhost = RedirectUri::parse("http://localhost:3000/cb").unwrap();
        assert!(localhost.matches("http://localhost:4000/cb"));
        let v6 = RedirectUri::parse("http://[::1]:8080/cb").unwrap();
        assert!(v6.matches("http://[::1]:9/cb"));
        assert!(RedirectUri::parse("http://[::2]/cb").is_none());
        assert!(RedirectUri::parse("https://user@app.example/cb").is_none());
        assert!(RedirectUri::parse("https://app.example:99999/cb").is_none());
    }

    #[test]
    fn origins_name_scheme_host_and_a_port_that_is_not_the_default() {
        let origin = |uri: &str| RedirectUri::parse(uri).unwrap().origin();
        assert_eq!(origin("https://app.example/cb"), "https://app.example");
        assert_eq!(origin("https://app.example:443/cb"), "https://app.example");
        assert_eq!(
            origin("https://app.example:8443/cb"),
            "https://app.example:8443"
        );
        assert_eq!(
            origin("http://127.0.0.1:3000/cb?x"),
            "http://127.0.0.1:3000"
        );
    }
}

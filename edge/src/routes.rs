//! The edge's route table: a pure function from method and path to a route, so the first two
//! checks (unknown path `404`, wrong method `405`) are unit-tested on the host. Two families:
//! `shared/API.md`'s API under `/api/`, and the OpenID Provider's endpoints under `/oauth/` and
//! `/.well-known/`, which speak OAuth's wire format. (`GET /`, the PC page, is the page's.)

use qrgate_protocol::oauth::paths;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Api(ApiRoute),
    Provider(ProviderRoute),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiRoute {
    CreateAccount,
    Login,
    Logout,
    Me,
    ListDevices,
    SignIns,
    /// The raw path segment; validated with the other inputs, after method and body checks.
    RevokeDevice(String),
    CreateQr,
    PollQr(String),
    CancelQr(String),
    ScanQr(String),
    ConfirmQr(String),
    DenyQr(String),
    /// `GET /api/qr/{qr_id}/live`: the WebSocket that pushes the session's status.
    LiveQr(String),
    /// `GET /api/accounts/{account_id}/live`: the WebSocket that pushes the account's events.
    LiveAccount(String),
    /// `POST /api/authorizations`: single sign-on into an app with the browser's token.
    ContinueAuthorization,
    ListGrants,
    RevokeGrant(String),
    /// `POST /api/user-codes`: the device session a typed user code names.
    FindUserCode,
    /// `POST /api/passkeys/challenges`: a challenge for one WebAuthn ceremony.
    PasskeyChallenge,
    /// `POST /api/passkeys`: a new passkey for the signed-in account.
    RegisterPasskey,
    ListPasskeys,
    /// The raw path segment, as `RevokeDevice`'s.
    RenamePasskey(String),
    RemovePasskey(String),
    /// `POST /api/sessions/passkey`: a sign-in with a passkey.
    PasskeyLogin,
    /// `POST /api/accounts/passkey`: a new account with a passkey alone.
    PasskeySignUp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderRoute {
    Discovery,
    Jwks,
    Authorize,
    Token,
    Userinfo,
    Revoke,
    DeviceAuthorization,
    /// A browser's CORS preflight for an endpoint that a single-page app calls.
    Preflight(&'static [&'static str]),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Found(Route),
    NotFound,
    MethodNotAllowed(&'static [&'static str]),
}

pub fn resolve(method: &str, path: &str) -> Resolved {
    match path.strip_prefix("/api/") {
        Some(rest) => api(method, rest),
        None => provider(method, path),
    }
}

/// Of the methods a path allows, `method`'s route; else `405` naming them.
fn pick(allowed: &'static [&'static str], method: &str, route: Option<Route>) -> Resolved {
    match route {
        Some(route) if allowed.contains(&method) => Resolved::Found(route),
        _ => Resolved::MethodNotAllowed(allowed),
    }
}

fn api(method: &str, rest: &str) -> Resolved {
    use ApiRoute::*;
    let segments: Vec<&str> = rest.split('/').collect();
    let param = |s: &str| s.to_owned();
    // Each path: the methods it allows, and the route for this method.
    let (allowed, route): (&'static [&'static str], Option<ApiRoute>) =
        match (method, &segments[..]) {
            (m, ["accounts"]) => (&["POST"], (m == "POST").then_some(CreateAccount)),
            (m, ["accounts", "passkey"]) => (&["POST"], (m == "POST").then_some(PasskeySignUp)),
            (m, ["accounts", id, "live"]) if !id.is_empty() => {
                (&["GET"], (m == "GET").then(|| LiveAccount(param(id))))
            }
            (m, ["sessions"]) => (&["POST"], (m == "POST").then_some(Login)),
            (m, ["sessions", "current"]) => (&["DELETE"], (m == "DELETE").then_some(Logout)),
            (m, ["sessions", "passkey"]) => (&["POST"], (m == "POST").then_some(PasskeyLogin)),
            (m, ["passkeys"]) => (
                &["GET", "POST"],
                match m {
                    "GET" => Some(ListPasskeys),
                    "POST" => Some(RegisterPasskey),
                    _ => None,
                },
            ),
            (m, ["passkeys", "challenges"]) => {
                (&["POST"], (m == "POST").then_some(PasskeyChallenge))
            }
            (m, ["passkeys", id]) if !id.is_empty() => (
                &["PATCH", "DELETE"],
                match m {
                    "PATCH" => Some(RenamePasskey(param(id))),
                    "DELETE" => Some(RemovePasskey(param(id))),
                    _ => None,
                },
            ),
            (m, ["me"]) => (&["GET"], (m == "GET").then_some(Me)),
            (m, ["devices"]) => (&["GET"], (m == "GET").then_some(ListDevices)),
            (m, ["sign-ins"]) => (&["GET"], (m == "GET").then_some(SignIns)),
            (m, ["devices", id]) if !id.is_empty() => (
                &["DELETE"],
                (m == "DELETE").then(|| RevokeDevice(param(id))),
            ),
            (m, ["qr"]) => (&["POST"], (m == "POST").then_some(CreateQr)),
            (m, ["qr", id]) if !id.is_empty() => (
                &["GET", "DELETE"],
                match m {
                    "GET" => Some(PollQr(param(id))),
                    "DELETE" => Some(CancelQr(param(id))),
                    _ => None,
                },
            ),
            (m, ["qr", id, "live"]) if !id.is_empty() => {
                (&["GET"], (m == "GET").then(|| LiveQr(param(id))))
            }
            (m, ["qr", id, step]) if !id.is_empty() => {
                let route = match *step {
                    "scan" => ScanQr(param(id)),
                    "confirm" => ConfirmQr(param(id)),
                    "deny" => DenyQr(param(id)),
                    _ => return Resolved::NotFound,
                };
                (&["POST"], (m == "POST").then_some(route))
            }
            (m, ["authorizations"]) => (&["POST"], (m == "POST").then_some(ContinueAuthorization)),
            (m, ["grants"]) => (&["GET"], (m == "GET").then_some(ListGrants)),
            (m, ["user-codes"]) => (&["POST"], (m == "POST").then_some(FindUserCode)),
            (m, ["grants", id]) if !id.is_empty() => {
                (&["DELETE"], (m == "DELETE").then(|| RevokeGrant(param(id))))
            }
            _ => return Resolved::NotFound,
        };
    pick(allowed, method, route.map(Route::Api))
}

fn provider(method: &str, path: &str) -> Resolved {
    use ProviderRoute::*;
    const GET: &[&str] = &["GET", "OPTIONS"];
    const POST: &[&str] = &["POST", "OPTIONS"];
    const GET_POST: &[&str] = &["GET", "POST", "OPTIONS"];
    // Each endpoint, its methods, and whether a browser app may call it across origins (and
    // so send a preflight).
    let (route, allowed, cross_origin) = match path {
        paths::OPENID_CONFIGURATION | paths::AUTHORIZATION_SERVER => (Discovery, GET, true),
        paths::JWKS => (Jwks, GET, true),
        paths::AUTHORIZE => (Authorize, &["GET", "POST"][..], false),
        paths::TOKEN => (Token, POST, true),
        paths::USERINFO => (Userinfo, GET_POST, true),
        paths::REVOKE => (Revoke, POST, true),
        // A device without a browser calls it; no page has a reason to.
        paths::DEVICE_AUTHORIZATION => (DeviceAuthorization, &["POST"][..], false),
        _ => return Resolved::NotFound,
    };
    if method == "OPTIONS" && cross_origin {
        return Resolved::Found(Route::Provider(Preflight(allowed)));
    }
    pick(
        allowed,
        method,
        (method != "OPTIONS").then_some(Route::Provider(route)),
    )
}

impl ApiRoute {
    /// The route as the contract names it, for the logs: its method and path pattern.
    pub fn pattern(&self) -> &'static str {
        match self {
            Self::CreateAccount => "POST /api/accounts",
            Self::Login => "POST /api/sessions",
            Self::Logout => "DELETE /api/sessions/current",
            Self::Me => "GET /api/me",
            Self::ListDevices => "GET /api/devices",
            Self::SignIns => "GET /api/sign-ins",
            Self::RevokeDevice(_) => "DELETE /api/devices/{device_id}",
            Self::CreateQr => "POST /api/qr",
            Self::PollQr(_) => "GET /api/qr/{qr_id}",
            Self::CancelQr(_) => "DELETE /api/qr/{qr_id}",
            Self::ScanQr(_) => "POST /api/qr/{qr_id}/scan",
            Self::ConfirmQr(_) => "POST /api/qr/{qr_id}/confirm",
            Self::DenyQr(_) => "POST /api/qr/{qr_id}/deny",
            Self::LiveQr(_) => "GET /api/qr/{qr_id}/live",
            Self::LiveAccount(_) => "GET /api/accounts/{account_id}/live",
            Self::ContinueAuthorization => "POST /api/authorizations",
            Self::ListGrants => "GET /api/grants",
            Self::RevokeGrant(_) => "DELETE /api/grants/{grant_id}",
            Self::FindUserCode => "POST /api/user-codes",
            Self::PasskeyChallenge => "POST /api/passkeys/challenges",
            Self::RegisterPasskey => "POST /api/passkeys",
            Self::ListPasskeys => "GET /api/passkeys",
            Self::RenamePasskey(_) => "PATCH /api/passkeys/{passkey_id}",
            Self::RemovePasskey(_) => "DELETE /api/passkeys/{passkey_id}",
            Self::PasskeyLogin => "POST /api/sessions/passkey",
            Self::PasskeySignUp => "POST /api/accounts/passkey",
        }
    }

    /// Whether the route reads a JSON body (POST); others ignore any body they are sent.
    pub fn takes_body(&self) -> bool {
        matches!(
            self,
            Self::CreateAccount
                | Self::Login
                | Self::CreateQr
                | Self::ScanQr(_)
                | Self::ConfirmQr(_)
                | Self::DenyQr(_)
                | Self::ContinueAuthorization
                | Self::FindUserCode
                | Self::PasskeyChallenge
                | Self::RegisterPasskey
                | Self::RenamePasskey(_)
                | Self::PasskeyLogin
                | Self::PasskeySignUp
        )
    }
}

impl ProviderRoute {
    pub fn pattern(&self) -> &'static str {
        match self {
            Self::Discovery => "GET /.well-known/{metadata}",
            Self::Jwks => "GET /oauth/jwks",
            Self::Authorize => "/oauth/authorize",
            Self::Token => "POST /oauth/token",
            Self::Userinfo => "/oauth/userinfo",
            Self::Revoke => "POST /oauth/revoke",
            Self::DeviceAuthorization => "POST /oauth/device_authorization",
            Self::Preflight(_) => "OPTIONS /oauth/{endpoint}",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(method: &str, path: &str) -> Route {
        match resolve(method, path) {
            Resolved::Found(route) => route,
            other => panic!("{method} {path}: {other:?}"),
        }
    }

    fn api(method: &str, path: &str) -> ApiRoute {
        match found(method, path) {
            Route::Api(route) => route,
            other => panic!("{method} {path}: {other:?}"),
        }
    }

    #[test]
    fn every_route_of_the_api() {
        use ApiRoute::*;
        assert_eq!(api("POST", "/api/accounts"), CreateAccount);
        assert_eq!(api("POST", "/api/sessions"), Login);
        assert_eq!(api("DELETE", "/api/sessions/current"), Logout);
        assert_eq!(api("GET", "/api/me"), Me);
        assert_eq!(api("POST", "/api/passkeys/challenges"), PasskeyChallenge);
        assert_eq!(api("POST", "/api/passkeys"), RegisterPasskey);
        assert_eq!(api("GET", "/api/passkeys"), ListPasskeys);
        assert_eq!(
            api("PATCH", "/api/passkeys/abc"),
            RenamePasskey("abc".into())
        );
        assert_eq!(
            api("DELETE", "/api/passkeys/abc"),
            RemovePasskey("abc".into())
        );
        assert_eq!(api("POST", "/api/sessions/passkey"), PasskeyLogin);
        assert_eq!(api("POST", "/api/accounts/passkey"), PasskeySignUp);
        assert_eq!(api("GET", "/api/devices"), ListDevices);
        assert_eq!(api("GET", "/api/sign-ins"), SignIns);
        assert_eq!(
            api("DELETE", "/api/devices/abc"),
            RevokeDevice("abc".into())
        );
        assert_eq!(api("POST", "/api/qr"), CreateQr);
        assert_eq!(api("GET", "/api/qr/abc"), PollQr("abc".into()));
        assert_eq!(api("DELETE", "/api/qr/abc"), CancelQr("abc".into()));
        assert_eq!(api("POST", "/api/qr/abc/scan"), ScanQr("abc".into()));
        assert_eq!(api("POST", "/api/qr/abc/confirm"), ConfirmQr("abc".into()));
        assert_eq!(api("POST", "/api/qr/abc/deny"), DenyQr("abc".into()));
        assert_eq!(api("GET", "/api/qr/abc/live"), LiveQr("abc".into()));
        assert_eq!(
            api("GET", "/api/accounts/abc/live"),
            LiveAccount("abc".into())
        );
        assert_eq!(api("POST", "/api/authorizations"), ContinueAuthorization);
        assert_eq!(api("GET", "/api/grants"), ListGrants);
        assert_eq!(api("DELETE", "/api/grants/abc"), RevokeGrant("abc".into()));
        assert_eq!(api("POST", "/api/user-codes"), FindUserCode);
    }

    #[test]
    fn every_endpoint_of_the_provider() {
        use ProviderRoute::*;
        let provider = |method, path| match found(method, path) {
            Route::Provider(route) => route,
            other => panic!("{method} {path}: {other:?}"),
        };
        assert_eq!(
            provider("GET", "/.well-known/openid-configuration"),
            Discovery
        );
        assert_eq!(
            provider("GET", "/.well-known/oauth-authorization-server"),
            Discovery
        );
        assert_eq!(provider("GET", "/oauth/jwks"), Jwks);
        assert_eq!(provider("GET", "/oauth/authorize"), Authorize);
        assert_eq!(provider("POST", "/oauth/authorize"), Authorize);
        assert_eq!(provider("POST", "/oauth/token"), Token);
        assert_eq!(provider("GET", "/oauth/userinfo"), Userinfo);
        assert_eq!(provider("POST", "/oauth/userinfo"), Userinfo);
        assert_eq!(provider("POST", "/oauth/revoke"), Revoke);
        assert_eq!(
            provider("POST", "/oauth/device_authorization"),
            DeviceAuthorization
        );
        assert_eq!(
            provider("OPTIONS", "/oauth/token"),
            Preflight(&["POST", "OPTIONS"])
        );
        assert_eq!(
            resolve("OPTIONS", "/oauth/authorize"),
            Resolved::MethodNotAllowed(&["GET", "POST"])
        );
    }

    #[test]
    fn wrong_methods_list_what_is_allowed() {
        assert_eq!(
            resolve("GET", "/api/accounts"),
            Resolved::MethodNotAllowed(&["POST"])
        );
        assert_eq!(
            resolve("POST", "/api/qr/abc"),
            Resolved::MethodNotAllowed(&["GET", "DELETE"])
        );
        assert_eq!(
            resolve("GET", "/api/qr/abc/confirm"),
            Resolved::MethodNotAllowed(&["POST"])
        );
        assert_eq!(
            resolve("PUT", "/api/devices/x"),
            Resolved::MethodNotAllowed(&["DELETE"])
        );
        assert_eq!(
            resolve("POST", "/api/qr/abc/live"),
            Resolved::MethodNotAllowed(&["GET"])
        );
        assert_eq!(
            resolve("GET", "/oauth/token"),
            Resolved::MethodNotAllowed(&["POST", "OPTIONS"])
        );
        assert_eq!(
            resolve("DELETE", "/oauth/userinfo"),
            Resolved::MethodNotAllowed(&["GET", "POST", "OPTIONS"])
        );
    }

    #[test]
    fn unknown_paths_are_not_found() {
        for path in [
            "/",
            "/api",
            "/api/",
            "/api/nothing",
            "/api/accounts/x",
            "/api/qr/",
            "/api/qr//scan",
            "/api/qr/abc/steal",
            "/api/qr/abc/scan/more",
            "/api/devices/",
            "/api/grants/",
            "/apix/me",
            "/oauth",
            "/oauth/",
            "/oauth/token/x",
            "/.well-known/",
            "/.well-known/jwks.json",
        ] {
            assert_eq!(resolve("GET", path), Resolved::NotFound, "{path}");
        }
    }

    /// `openapi.yaml` (for schemathesis and outside clients) describes exactly this table:
    /// every path it lists resolves with exactly the methods it lists, and no other route
    /// exists (each route of the table appears in it). Its fields and enums are checked
    /// against the wire types in `protocol/tests/openapi.rs`.
    #[test]
    fn the_openapi_description_matches_the_route_table() {
        const METHODS: [&str; 6] = ["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"];
        let spec = include_str!("../../openapi.yaml");
        let mut described = std::collections::BTreeSet::new();
        let mut path = None;
        for line in spec.lines() {
            if let Some(rest) = line.strip_prefix("  /") {
                path = Some(format!("/{}", rest.trim_end_matches(':')));
            } else if !line.starts_with("  ") {
                path = None;
            } else if let (Some(path), Some(method)) = (
                &path,
                line.strip_prefix("    ")
                    .and_then(|m| m.strip_suffix(':'))
                    .map(str::to_uppercase),
            ) && METHODS.contains(&method.as_str())
            {
                described.insert((method, path.clone()));
            }
        }
        let concrete = |template: &str| {
            template
                .replace("{qr_id}", "abcdefghijklmnop")
                .replace("{device_id}", "0f8fad5b-d9cb-469f-a165-70867728950e")
                .replace("{grant_id}", "abcdef")
                .replace("{passkey_id}", "Y3JlZGVudGlhbC1pZC0xNg")
        };
        let paths: std::collections::BTreeSet<&String> = described.iter().map(|(_, p)| p).collect();
        for path in &paths {
            for method in METHODS {
                let is_described = described.contains(&(method.to_owned(), (*path).clone()));
                let resolves = matches!(resolve(method, &concrete(path)), Resolved::Found(_));
                assert_eq!(is_described, resolves, "{method} {path}");
            }
        }
        let api = described
            .iter()
            .filter(|(_, p)| p.starts_with("/api/"))
            .count();
        assert_eq!(api, 25, "the twenty-five routes of the API: {described:?}");
        let provider = described.len() - api;
        assert_eq!(
            provider, 16,
            "the provider's eleven methods on its eight paths, and five preflights: {described:?}"
        );
    }
}

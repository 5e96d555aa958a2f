//! The API's route table: a pure function from method and path to a route, so the contract's
//! first two checks (unknown path `404`, wrong method `405`) are unit-tested on the host.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Found(Route),
    NotFound,
    MethodNotAllowed(&'static [&'static str]),
}

pub fn resolve(method: &str, path: &str) -> Resolved {
    let Some(rest) = path.strip_prefix("/api/") else {
        return Resolved::NotFound;
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let param = |s: &str| s.to_owned();
    // Each path: the methods it allows, and the route for each.
    let (allowed, route): (&'static [&'static str], Option<Route>) = match (method, &segments[..]) {
        (m, ["accounts"]) => (&["POST"], (m == "POST").then_some(Route::CreateAccount)),
        (m, ["sessions"]) => (&["POST"], (m == "POST").then_some(Route::Login)),
        (m, ["sessions", "current"]) => (&["DELETE"], (m == "DELETE").then_some(Route::Logout)),
        (m, ["me"]) => (&["GET"], (m == "GET").then_some(Route::Me)),
        (m, ["devices"]) => (&["GET"], (m == "GET").then_some(Route::ListDevices)),
        (m, ["sign-ins"]) => (&["GET"], (m == "GET").then_some(Route::SignIns)),
        (m, ["devices", id]) if !id.is_empty() => (
            &["DELETE"],
            (m == "DELETE").then(|| Route::RevokeDevice(param(id))),
        ),
        (m, ["qr"]) => (&["POST"], (m == "POST").then_some(Route::CreateQr)),
        (m, ["qr", id]) if !id.is_empty() => (
            &["GET", "DELETE"],
            match m {
                "GET" => Some(Route::PollQr(param(id))),
                "DELETE" => Some(Route::CancelQr(param(id))),
                _ => None,
            },
        ),
        (m, ["qr", id, "live"]) if !id.is_empty() => {
            (&["GET"], (m == "GET").then(|| Route::LiveQr(param(id))))
        }
        (m, ["qr", id, step]) if !id.is_empty() => {
            let route = match *step {
                "scan" => Route::ScanQr(param(id)),
                "confirm" => Route::ConfirmQr(param(id)),
                "deny" => Route::DenyQr(param(id)),
                _ => return Resolved::NotFound,
            };
            (&["POST"], (m == "POST").then_some(route))
        }
        _ => return Resolved::NotFound,
    };
    match route {
        Some(route) => Resolved::Found(route),
        None => Resolved::MethodNotAllowed(allowed),
    }
}

impl Route {
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
        )
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

    #[test]
    fn every_route_of_the_contract() {
        assert_eq!(found("POST", "/api/accounts"), Route::CreateAccount);
        assert_eq!(found("POST", "/api/sessions"), Route::Login);
        assert_eq!(found("DELETE", "/api/sessions/current"), Route::Logout);
        assert_eq!(found("GET", "/api/me"), Route::Me);
        assert_eq!(found("GET", "/api/devices"), Route::ListDevices);
        assert_eq!(found("GET", "/api/sign-ins"), Route::SignIns);
        assert_eq!(
            found("DELETE", "/api/devices/abc"),
            Route::RevokeDevice("abc".into())
        );
        assert_eq!(found("POST", "/api/qr"), Route::CreateQr);
        assert_eq!(found("GET", "/api/qr/abc"), Route::PollQr("abc".into()));
        assert_eq!(
            found("DELETE", "/api/qr/abc"),
            Route::CancelQr("abc".into())
        );
        assert_eq!(
            found("POST", "/api/qr/abc/scan"),
            Route::ScanQr("abc".into())
        );
        assert_eq!(
            found("POST", "/api/qr/abc/confirm"),
            Route::ConfirmQr("abc".into())
        );
        assert_eq!(
            found("POST", "/api/qr/abc/deny"),
            Route::DenyQr("abc".into())
        );
        assert_eq!(
            found("GET", "/api/qr/abc/live"),
            Route::LiveQr("abc".into())
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
            "/apix/me",
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
        const METHODS: [&str; 5] = ["GET", "POST", "DELETE", "PUT", "PATCH"];
        let spec = include_str!("../../openapi.yaml");
        let mut described = std::collections::BTreeSet::new();
        let mut path = None;
        for line in spec.lines() {
            if let Some(rest) = line.strip_prefix("  /api/") {
                path = Some(format!("/api/{}", rest.trim_end_matches(':')));
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
        };
        let paths: std::collections::BTreeSet<&String> = described.iter().map(|(_, p)| p).collect();
        for path in &paths {
            for method in METHODS {
                let is_described = described.contains(&(method.to_owned(), (*path).clone()));
                let resolves = matches!(resolve(method, &concrete(path)), Resolved::Found(_));
                assert_eq!(is_described, resolves, "{method} {path}");
            }
        }
        assert_eq!(
            described.len(),
            14,
            "the fourteen routes of the contract: {described:?}"
        );
    }
}

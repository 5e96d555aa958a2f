//! Request and response bodies of `shared/API.md`, one definition each. Times are Unix seconds.

use crate::Secret;
use crate::location::Location;
use crate::oauth::{ClientInfo, RedirectTo};
use serde::{Deserialize, Serialize};

/// Header carrying the client's stable device id (a UUID, any letter case).
pub const DEVICE_ID_HEADER: &str = "X-Device-Id";
/// Header carrying the client's device type.
pub const DEVICE_TYPE_HEADER: &str = "X-Device-Type";
/// Header carrying a DPoP proof (RFC 9449).
pub const DPOP_HEADER: &str = "DPoP";
/// Largest request body the API reads.
pub const MAX_BODY_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceType {
    Pc,
    Web,
    Ios,
    Android,
    /// A device without a browser (a CLI, a TV) that signs in by the device grant (RFC 8628):
    /// it sends no device headers, and is known only by what the edge saw of it.
    Device,
}

impl DeviceType {
    /// The types a client names itself by in `X-Device-Type`.
    pub const ALL: [DeviceType; 4] = [Self::Pc, Self::Web, Self::Ios, Self::Android];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pc => "pc",
            Self::Web => "web",
            Self::Ios => "ios",
            Self::Android => "android",
            Self::Device => "device",
        }
    }

    /// Parses the `X-Device-Type` header value (exact, lower case, as the contract lists them).
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }

    /// The device name used when a client gives none.
    pub fn default_device_name(self) -> &'static str {
        match self {
            Self::Pc => "Computer",
            Self::Web => "Web browser",
            Self::Ios => "iPhone or iPad",
            Self::Android => "Android device",
            Self::Device => "Device",
        }
    }
}

/// The `id` of the `<script type="application/json">` element in which the edge hands the PC
/// page its first code: a [`CreateQrResponse`] (`edge/README.md`, "The first code, served with
/// the page").
pub const FIRST_CODE_ELEMENT_ID: &str = "qrgate-first-code";

/// The `id` of the element in which the edge draws the PC page with its first code, as the
/// page's own code draws it, so that the code is on screen before the page's code has run. The
/// page removes it when it draws itself (`edge/README.md`, "The first code, served with the
/// page").
pub const FIRST_VIEW_ELEMENT_ID: &str = "qrgate-first-view";

/// The cookie by which the PC page tells the edge that it holds a token (`=1`): its page then
/// shows who it is signed in as, not a code, and the edge makes and draws none for it. A hint,
/// not a credential: wrong either way, it costs only a code made for nothing, or asked for by
/// the page itself.
pub const SIGNED_IN_HINT_COOKIE: &str = "qrgate_pc_signed_in";

/// A name a person recognises for the browser of `user_agent`, e.g. "Chromium on Linux": what
/// the PC page calls itself when it asks for a code, and what the edge calls a page it makes
/// the first code for (`edge/README.md`, "The first code, served with the page"). `#[inline]`:
/// compiled here rather than in the app's own crate, it cost each page's wasm about 8 KB more
/// (measured); inlined where it is called, nothing.
#[inline]
pub fn browser_name(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map_or("Browser", |(_, name)| name);
    let system = [
        ("Windows", "Windows"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Android", "Android"),
        ("CrOS", "ChromeOS"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map(|(_, name)| *name);
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_owned(),
    }
}

/// How a login token was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Password,
    Qr,
    Passkey,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub account_id: String,
    pub username: String,
    pub display_name: String,
}

/// `POST /api/accounts`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateAccountRequest {
    pub username: String,
    pub password: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// `POST /api/sessions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
}

/// How a login token is presented (`shared/API.md`, "Tokens bound to a key"): `Bearer` alone,
/// or `DPoP` with a proof signed by the key it is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenType {
    Bearer,
    #[serde(rename = "DPoP")]
    DPoP,
}

impl TokenType {
    /// The `Authorization` scheme that presents such a token.
    pub fn scheme(self) -> &'static str {
        match self {
            Self::Bearer => "Bearer",
            Self::DPoP => "DPoP",
        }
    }
}

/// A freshly minted login token: the answer to a password login and, once, to a QR poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginSession {
    pub token: Secret,
    pub token_type: TokenType,
    pub expires_at: u64,
    pub account: Account,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub device_id: String,
    pub device_type: DeviceType,
    pub device_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub created_at: u64,
    pub expires_at: u64,
    pub via: Via,
    pub token_type: TokenType,
}

/// `GET /api/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeResponse {
    pub account: Account,
    pub device: DeviceInfo,
    pub session: SessionInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceEntry {
    pub device_id: String,
    pub device_type: DeviceType,
    pub device_name: String,
    pub created_at: u64,
    pub last_seen_at: u64,
    pub via: Via,
    pub current: bool,
}

/// `GET /api/devices`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicesResponse {
    pub devices: Vec<DeviceEntry>,
}

/// One sign-in of an account: when, which device, how, and what the edge saw of the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInEntry {
    pub at: u64,
    pub device_id: String,
    pub device_type: DeviceType,
    pub device_name: String,
    pub via: Via,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// A sign-in to another app: which.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
}

/// `GET /api/sign-ins`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInsResponse {
    pub sign_ins: Vec<SignInEntry>,
}

/// `POST /api/qr`; every field is optional, so an empty body means this with defaults.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CreateQrRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// The handle of the PC page's authorization request: the session signs the person in to
    /// that app, not to qrgate (`shared/API.md`, "Sign in to other apps").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateQrResponse {
    pub qr_id: String,
    pub poll_secret: Secret,
    pub qr_url: String,
    pub expires_at: u64,
    pub interval: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QrStatus {
    Pending,
    Scanned,
    Confirmed,
    Denied,
    Cancelled,
    Expired,
}

/// `GET /api/qr/{qr_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollResponse {
    pub status: QrStatus,
    pub expires_at: u64,
    pub interval: u64,
    /// Present exactly once: in the first poll that sees `confirmed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<LoginSession>,
    /// For a session made for an app's authorization request, in place of `session`: where
    /// the PC page goes, with the code (exactly once, as `session`) or, after a denial or a
    /// cancel, with `error=access_denied` (every poll).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<RedirectTo>,
}

/// What the phone is shown about the PC that asks to be signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PcInfo {
    pub device_type: DeviceType,
    pub device_name: String,
    pub created_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
}

impl PcInfo {
    /// The one place the phone's view of a PC is put together: what the PC said of itself
    /// (type, name) and what the edge saw of its request (`location`).
    pub fn new(
        device_type: DeviceType,
        device_name: String,
        created_at: u64,
        location: Location,
    ) -> Self {
        Self {
            device_type,
            device_name,
            created_at,
            country: location.country,
            city: location.city,
            network: location.network,
        }
    }

    /// Where the edge saw the PC, to compare with the phone ([`crate::location::warnings`]).
    pub fn location(&self) -> Location {
        Location {
            country: self.country.clone(),
            city: self.city.clone(),
            network: self.network.clone(),
        }
    }
}

/// Why the phone should look twice before confirming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    DifferentCountry,
    DifferentNetwork,
}

/// `POST /api/qr/{qr_id}/scan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanResponse {
    pub scan_token: Secret,
    pub expires_at: u64,
    pub pc: PcInfo,
    pub warnings: Vec<Warning>,
    /// For a session that signs the person in to an app: which, and where it sends them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientInfo>,
    /// What the app asks for (with `client`, or for a device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Vec<String>>,
    /// For a device's session: the code its screen shows, to check against it (RFC 8628
    /// §3.3.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_code: Option<String>,
    /// When the account has a passkey: the challenge of this scan, which the confirmation must
    /// answer with one of them (`navigator.credentials.get()`, user verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passkey: Option<PasskeyChallenge>,
}

/// `POST /api/qr/{qr_id}/scan` takes no fields: no body, or `{}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ScanRequest {}

/// `POST /api/qr/{qr_id}/confirm` and `/deny`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecisionRequest {
    pub scan_token: Secret,
    /// A confirmation's answer to the scan's passkey challenge, when it had one; a denial
    /// needs none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passkey: Option<PasskeyAssertion>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_names() {
        const LINUX_CHROMIUM: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chromium/156.0.0.0 Chrome/156.0.0.0 Safari/537.36";
        const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36";
        assert_eq!(browser_name(LINUX_CHROMIUM), "Chromium on Linux");
        assert_eq!(browser_name(IPHONE), "Safari on iOS");
        assert_eq!(browser_name(ANDROID), "Chrome on Android");
        assert_eq!(browser_name(""), "Browser");
    }

    #[test]
    fn device_types_round_trip_through_their_header_form() {
        for device_type in DeviceType::ALL {
            assert_eq!(DeviceType::parse(device_type.as_str()), Some(device_type));
            let json = serde_json::to_string(&device_type).unwrap();
            assert_eq!(json, format!("\"{}\"", device_type.as_str()));
        }
        assert_eq!(DeviceType::parse("PC"), None);
        assert_eq!(
            DeviceType::parse("device"),
            None,
            "no client's header names it"
        );
        assert_eq!(DeviceType::parse("tv"), None);
    }

    #[test]
    fn poll_omits_the_session_until_there_is_one() {
        let poll = PollResponse {
            status: QrStatus::Scanned,
            expires_at: 10,
            interval: 1,
            session: None,
            authorization: None,
        };
        let json = serde_json::to_value(&poll).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"status": "scanned", "expires_at": 10, "interval": 1})
        );
    }

    #[test]
    fn optional_fields_may_be_absent_or_null() {
        let request: CreateQrRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(request.device_name, None);
        let request: LoginRequest =
            serde_json::from_str(r#"{"username":"ann","password":"x","device_name":null}"#)
                .unwrap();
        assert_eq!(request.device_name, None);
    }
}

/// `POST /api/passkeys/challenges`: a challenge for one WebAuthn ceremony. `username` (and
/// optionally `display_name`) name the account a `sign_up` makes; no other ceremony takes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyChallengeRequest {
    pub ceremony: PasskeyCeremony,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

impl PasskeyChallengeRequest {
    /// A challenge for `ceremony` that names no new account (every ceremony but `sign_up`).
    pub fn new(ceremony: PasskeyCeremony) -> Self {
        Self {
            ceremony,
            username: None,
            display_name: None,
        }
    }
}

/// What a passkey challenge is for: adding a passkey to the signed-in account, or making a new
/// account whose one way to sign in is the passkey (`navigator.credentials.create()`), or
/// signing in with one (`navigator.credentials.get()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasskeyCeremony {
    Register,
    SignUp,
    SignIn,
}

/// The answer to `POST /api/passkeys/challenges`: what the page hands the browser's WebAuthn
/// call. `user` and `exclude_credentials` come with a registration's challenge only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyChallenge {
    /// 32 random bytes, base64url: single-use, for this ceremony only.
    pub challenge: String,
    pub rp_id: String,
    pub timeout_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<PasskeyUser>,
    /// The ids of the account's passkeys, so an authenticator does not make a second one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_credentials: Vec<String>,
    /// An approval's: the ids of the account's passkeys, one of which must answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_credentials: Vec<String>,
}

/// The account as a new passkey is made for it: `id` (the user handle, base64url of the
/// account id's text) is what a sign-in's assertion gives back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyUser {
    pub id: String,
    pub name: String,
    pub display_name: String,
}

/// `POST /api/passkeys`: a new passkey for the signed-in account, as the browser's
/// `create()` answered (each binary member base64url).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterPasskeyRequest {
    pub client_data_json: String,
    pub attestation_object: String,
    /// What the passkey is called in the list; by default, the device's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `POST /api/accounts/passkey`: a new account with a passkey alone, as the browser's `create()`
/// answered a `sign_up` challenge; the account is the challenge's `user` (its `id` and `name`
/// come back here), and this device is signed in to it at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeySignUpRequest {
    pub user: PasskeyUser,
    pub passkey: RegisterPasskeyRequest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
}

/// `PATCH /api/passkeys/{passkey_id}`: a passkey's new name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenamePasskeyRequest {
    pub name: String,
}

/// A passkey of the account, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyEntry {
    /// The credential id, base64url.
    pub passkey_id: String,
    pub name: String,
    pub created_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<u64>,
}

/// `GET /api/passkeys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeysResponse {
    pub passkeys: Vec<PasskeyEntry>,
}

/// A passkey's answer to a challenge, as the browser's `get()` gave it (each binary member
/// base64url): a sign-in's, or an approval's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyAssertion {
    pub passkey_id: String,
    pub client_data_json: String,
    pub authenticator_data: String,
    pub signature: String,
    pub user_handle: String,
}

/// `POST /api/sessions/passkey`: a sign-in with a passkey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyLoginRequest {
    pub passkey: PasskeyAssertion,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
}

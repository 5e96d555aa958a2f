//! Lifetimes and limits from `[vars]` in `wrangler.toml`, so tests and load runs can change
//! them with `wrangler dev --var NAME:VALUE`.

use crate::error::{AppError, AppResult};
use qrgate_protocol::qr::SessionRules;
use worker::Env;

#[derive(Debug, Clone)]
pub struct Config {
    pub qr_ttl_seconds: u64,
    /// How long a device's authorization (RFC 8628) waits for the phone.
    pub device_code_ttl_seconds: u64,
    pub session_ttl_seconds: u64,
    pub poll_interval_seconds: u64,
    /// An account not signed in to with its password for this long is collected.
    pub account_ttl_seconds: u64,
    pub login_failure_window_seconds: u64,
    pub login_failures_per_username: usize,
    pub login_failures_per_address: usize,
    /// Accounts one client address may create within the sign-up window.
    pub sign_ups_per_address: usize,
    pub sign_up_window_seconds: u64,
    /// Every new sign-in (a password login, a QR code's creation) must carry a DPoP proof.
    pub require_dpop: bool,
    /// Adds the `X-Qrgate-Kv` header with this request's KV operation counts (tests, benches).
    pub kv_count_header: bool,
    /// `ISSUER`: the provider's issuer, where it is not the origin the edge is served from
    /// (behind a custom domain, say).
    pub issuer: Option<String>,
    /// How long a token from a QR sign-in keeps reduced rights (a day by default).
    pub fresh_sign_in_seconds: u64,
    /// How long a passkey challenge can be answered (WebAuthn's recommended ceremony timeout,
    /// 5 minutes, by default).
    pub passkey_challenge_ttl_seconds: u64,
    /// `PASSKEY_RP_ID`: the passkeys' relying party id, where it is not the host the edge is
    /// served from (a parent domain, say).
    pub passkey_rp_id: Option<String>,
}

impl Config {
    /// What a new QR session keeps of these settings (its object reads no `[vars]`).
    pub fn session_rules(&self) -> SessionRules {
        SessionRules {
            interval: self.poll_interval_seconds,
            key_required: self.require_dpop,
        }
    }

    pub fn from_env(env: &Env) -> AppResult<Self> {
        let number = |name: &str, default: u64| -> AppResult<u64> {
            match env.var(name) {
                Err(_) => Ok(default),
                Ok(value) => value.to_string().trim().parse().map_err(|_| {
                    AppError::Internal(format!("[vars] {name} is not a whole number"))
                }),
            }
        };
        Ok(Self {
            qr_ttl_seconds: number("QR_TTL_SECONDS", 120)?,
            device_code_ttl_seconds: number("DEVICE_CODE_TTL_SECONDS", 600)?,
            session_ttl_seconds: number("SESSION_TTL_SECONDS", 30 * 24 * 3600)?,
            poll_interval_seconds: number("POLL_INTERVAL_SECONDS", 1)?,
            account_ttl_seconds: number("ACCOUNT_TTL_SECONDS", 400 * 24 * 3600)?,
            login_failure_window_seconds: number("LOGIN_FAILURE_WINDOW_SECONDS", 600)?,
            login_failures_per_username: number("LOGIN_FAILURES_PER_USERNAME", 10)? as usize,
            login_failures_per_address: number("LOGIN_FAILURES_PER_ADDRESS", 100)? as usize,
            sign_ups_per_address: number("SIGN_UPS_PER_ADDRESS", 10)? as usize,
            sign_up_window_seconds: number("SIGN_UP_WINDOW_SECONDS", 3600)?,
            require_dpop: number("REQUIRE_DPOP", 0)? == 1,
            kv_count_header: number("KV_COUNT_HEADER", 0)? == 1,
            issuer: env
                .var("ISSUER")
                .ok()
                .map(|value| value.to_string())
                .filter(|issuer| !issuer.trim().is_empty()),
            fresh_sign_in_seconds: number("FRESH_SIGN_IN_SECONDS", 24 * 3600)?,
            passkey_challenge_ttl_seconds: number("PASSKEY_CHALLENGE_TTL_SECONDS", 300)?,
            passkey_rp_id: env
                .var("PASSKEY_RP_ID")
                .ok()
                .map(|value| value.to_string().trim().to_owned())
                .filter(|rp_id| !rp_id.is_empty()),
        })
    }
}

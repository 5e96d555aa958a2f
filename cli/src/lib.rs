//! The `qrgate` CLI (`shared/API.md`, "The `qrgate` CLI"): signs a terminal in by the device
//! grant (RFC 8628) with the `oauth2` crate, showing the QR of `verification_uri_complete` in
//! half blocks and listening on the session's live channel, so that the token is asked for the
//! moment the phone confirms (polling only if the channel fails); keeps its refresh token in
//! the user's config folder (mode `0600`); tells who is signed in, refreshing when needed; and
//! signs out by revoking.
//!
//! - `args.rs`: the command line. `error.rs`: the one error, one line each.
//! - `provider.rs`: the issuer's metadata and the `oauth2` client built from it.
//! - `login.rs`: the device flow and the live channel. `account.rs`: `whoami` and `logout`.
//! - `credentials.rs`: the file. `terminal.rs`: the QR in half blocks, and the spinner.

mod account;
mod args;
mod credentials;
mod error;
mod login;
mod provider;
mod terminal;

pub use args::Command;
pub use error::CliError;
use std::process::ExitCode;

/// Runs `command`.
pub async fn run(command: Command) -> Result<(), CliError> {
    match command {
        Command::Help => terminal::print(args::USAGE),
        Command::Login {
            issuer,
            client_id,
            json,
        } => login::login(&issuer, &client_id, json).await,
        Command::Whoami { json } => account::whoami(json).await,
        Command::Logout => account::logout().await,
    }
}

/// Reports `error` as the one line it is, and answers its exit status.
pub fn fail(error: &CliError) -> ExitCode {
    terminal::tell(&format!("qrgate: {error}\n"));
    ExitCode::from(error.exit_status())
}

/// A bug still ends in one line, not a backtrace.
pub fn one_line_panics() {
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
            .unwrap_or("unknown");
        terminal::tell(&format!(
            "qrgate: internal error ({what}); please report it\n"
        ));
    }));
}

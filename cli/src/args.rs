//! The command line, read by hand: three commands of a few flags each need no parser crate.

use crate::error::CliError;

/// The client id the local edge registers for the CLI (`shared/API.md`).
pub const DEFAULT_CLIENT_ID: &str = "qrgate-cli";

pub const USAGE: &str = "\
qrgate: sign this terminal in by scanning a QR code with your phone

usage:
  qrgate login --issuer URL [--client-id ID] [--json]
        shows a QR code; scan it with the phone you are signed in on and confirm
  qrgate whoami [--json]
        who is signed in here (refreshing the sign-in when needed)
  qrgate logout
        revokes the sign-in at the issuer and forgets it here
  qrgate help

The sign-in is kept in $XDG_CONFIG_HOME/qrgate/ (else ~/.config/qrgate/), readable by you only.
";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Login {
        issuer: String,
        client_id: String,
        json: bool,
    },
    Whoami {
        json: bool,
    },
    Logout,
}

impl Command {
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, CliError> {
        let mut args = args.into_iter();
        let command = args.next();
        let mut issuer = None;
        let mut client_id = None;
        let mut json = false;
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
                None => (arg.clone(), None),
            };
            let mut value = |flag: &str| {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| CliError::Usage(format!("{flag} needs a value")))
            };
            match name.as_str() {
                "--issuer" => issuer = Some(value("--issuer")?),
                "--client-id" => client_id = Some(value("--client-id")?),
                "--json" if inline.is_none() => json = true,
                "-h" | "--help" => return Ok(Self::Help),
                _ => return Err(CliError::Usage(format!("unknown argument {arg:?}"))),
            }
        }
        let only_json = |command: &str| match (&issuer, &client_id) {
            (None, None) => Ok(()),
            _ => Err(CliError::Usage(format!(
                "`qrgate {command}` takes no --issuer or --client-id: they are kept from the login"
            ))),
        };
        match command.as_deref() {
            None | Some("help" | "-h" | "--help") => Ok(Self::Help),
            Some("login") => Ok(Self::Login {
                issuer: issuer
                    .ok_or_else(|| CliError::Usage("`qrgate login` needs --issuer URL".into()))?,
                client_id: client_id.unwrap_or_else(|| DEFAULT_CLIENT_ID.into()),
                json,
            }),
            Some("whoami") => only_json("whoami").map(|()| Self::Whoami { json }),
            Some("logout") if json => {
                Err(CliError::Usage("`qrgate logout` takes no --json".into()))
            }
            Some("logout") => only_json("logout").map(|()| Self::Logout),
            Some(other) => Err(CliError::Usage(format!("unknown command {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Command, CliError> {
        Command::parse(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn each_command_and_its_flags() {
        assert_eq!(
            parse("login --issuer https://id.example").unwrap(),
            Command::Login {
                issuer: "https://id.example".into(),
                client_id: DEFAULT_CLIENT_ID.into(),
                json: false
            }
        );
        assert_eq!(
            parse("login --json --client-id=tv --issuer=http://127.0.0.1:8787").unwrap(),
            Command::Login {
                issuer: "http://127.0.0.1:8787".into(),
                client_id: "tv".into(),
                json: true
            }
        );
        assert_eq!(
            parse("whoami --json").unwrap(),
            Command::Whoami { json: true }
        );
        assert_eq!(parse("logout").unwrap(), Command::Logout);
        assert_eq!(parse("").unwrap(), Command::Help);
        assert_eq!(parse("login --help").unwrap(), Command::Help);
    }

    #[test]
    fn mistakes_are_usage_errors() {
        for line in [
            "login",
            "login --issuer",
            "login --issuer x --colour",
            "whoami --issuer x",
            "logout --json",
            "frobnicate",
            "login --json=yes --issuer x",
        ] {
            assert!(
                matches!(parse(line), Err(CliError::Usage(_))),
                "{line}: {:?}",
                parse(line)
            );
        }
    }
}

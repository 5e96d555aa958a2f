//! The CLI's one error type: each variant says in one line what went wrong and, where the
//! person can do something, what.

use std::fmt;

#[derive(Debug)]
pub enum CliError {
    /// The command line is wrong: status 2.
    Usage(String),
    /// No account is signed in here.
    NotSignedIn,
    /// The issuer could not be reached, or answered what no issuer answers.
    Issuer(String),
    /// The person denied the sign-in on the phone.
    Denied,
    /// The code expired before anyone confirmed it.
    Expired,
    /// The issuer refused a request (an OAuth error), with what it said.
    Refused(String),
    /// The stored sign-in is no longer valid (revoked, expired).
    SignedOut,
    /// Ctrl-C while waiting: status 130, as a shell reports an interrupt.
    Interrupted,
    /// Reading or writing the credentials file, or the terminal.
    Io(String),
}

impl CliError {
    pub fn exit_status(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            Self::Interrupted => 130,
            _ => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(why) => write!(f, "{why} (see `qrgate help`)"),
            Self::NotSignedIn => f.write_str("not signed in: run `qrgate login --issuer URL`"),
            Self::Issuer(why) => write!(f, "the issuer: {why}"),
            Self::Denied => f.write_str("the sign-in was denied on the phone"),
            Self::Expired => {
                f.write_str("the code expired before it was confirmed: run `qrgate login` again")
            }
            Self::Refused(why) => write!(f, "the issuer refused: {why}"),
            Self::SignedOut => f.write_str(
                "this sign-in is no longer valid (revoked or expired): run `qrgate login` again",
            ),
            Self::Interrupted => f.write_str("cancelled"),
            Self::Io(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for CliError {}

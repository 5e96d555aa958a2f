//! The sign-in kept between runs: `$XDG_CONFIG_HOME/qrgate/credentials.json` (else
//! `~/.config/qrgate/`), readable and writable by its owner only (`0600`, in a `0700` folder),
//! replaced whole by a rename so that a crash never leaves half a file. No token is ever
//! printed: this type has no `Debug`.

use crate::error::CliError;
use serde::{Deserialize, Serialize};
use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

#[derive(Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub issuer: String,
    pub client_id: String,
    pub access_token: String,
    /// Unix seconds.
    pub access_token_expires_at: u64,
    /// Absent for a client registered without the refresh grant: it signs in again instead.
    pub refresh_token: Option<String>,
}

const FILE: &str = "credentials.json";

/// The folder, by the XDG rule: `$XDG_CONFIG_HOME` if it is an absolute path, else
/// `$HOME/.config`; then `qrgate`.
fn folder() -> Result<PathBuf, CliError> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|path| path.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|path| path.is_absolute())
                .map(|home| home.join(".config"))
        })
        .ok_or_else(|| CliError::Io("neither XDG_CONFIG_HOME nor HOME is set".into()))?;
    Ok(base.join("qrgate"))
}

fn io_error(doing: &str, path: &std::path::Path, error: std::io::Error) -> CliError {
    CliError::Io(format!("{doing} {}: {error}", path.display()))
}

/// The kept sign-in, if there is one.
pub fn load() -> Result<Option<Credentials>, CliError> {
    let path = folder()?.join(FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|_| {
            CliError::Io(format!(
                "{} is not a qrgate sign-in: remove it and run `qrgate login`",
                path.display()
            ))
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(io_error("cannot read", &path, error)),
    }
}

/// Keeps `credentials`, replacing any kept before.
pub fn save(credentials: &Credentials) -> Result<(), CliError> {
    let folder = folder()?;
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&folder)
        .map_err(|e| io_error("cannot create", &folder, e))?;
    let path = folder.join(FILE);
    let partial = folder.join(format!("{FILE}.partial"));
    let json = serde_json::to_vec_pretty(credentials)
        .map_err(|e| CliError::Io(format!("cannot encode the sign-in: {e}")))?;
    let write = || -> std::io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&partial)?;
        // A file left from before with wider permissions is narrowed too.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(&json)?;
        file.sync_all()?;
        std::fs::rename(&partial, &path)
    };
    write().map_err(|e| io_error("cannot write", &path, e))
}

/// Forgets the kept sign-in: whether there was one.
pub fn forget() -> Result<bool, CliError> {
    let path = folder()?.join(FILE);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(io_error("cannot remove", &path, error)),
    }
}

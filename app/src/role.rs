//! The two parts a browser can play, each with its own device id, token and DPoP key: the PC
//! page and the phone pages. Its own module, below both the device (`device.rs`) and the key
//! (`dpop.rs`), which each name a role.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Pc,
    Phone,
}

impl Role {
    /// The prefix of the role's `localStorage` keys, and the name of its DPoP key.
    pub fn storage_prefix(self) -> &'static str {
        match self {
            Self::Pc => "qrgate.pc",
            Self::Phone => "qrgate.phone",
        }
    }
}

//! qrgate's shared vocabulary: the JSON wire types of `shared/API.md`, the validation rules for
//! every field a client sends, and the pure QR-session state machine. No I/O and no clock:
//! every function that depends on time takes `now` as an argument, so the edge, the app and
//! the tests all agree on one definition and the state machine is tested on the host.

pub mod api;
pub mod error;
pub mod history;
pub mod limit;
pub mod live;
pub mod location;
pub mod qr;
pub mod secret;
pub mod username;
pub mod validate;

pub use api::*;
pub use error::{ErrorBody, ErrorCode};
pub use secret::Secret;

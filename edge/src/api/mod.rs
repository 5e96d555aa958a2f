//! The handlers of `shared/API.md`'s routes under `/api/`, each family in its own file; what
//! they share (who a request is, the stores, the objects) lives beside this folder.

pub mod accounts;
pub mod authorizations;
pub mod grants;
pub mod live;
pub mod passkeys;
pub mod qr;
pub mod user_codes;

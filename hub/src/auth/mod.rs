//! Accounts and how callers prove who they are: API tokens, roles and scopes, one-time
//! password links.

pub mod caller;
pub mod names;
pub mod password_links;
pub mod roles;
pub mod tokens;

pub use caller::{Caller, Identity};

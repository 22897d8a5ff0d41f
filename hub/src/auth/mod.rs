//! Accounts and how callers prove who they are: authenticators and passwords, browser
//! sessions, API tokens, roles and scopes, one-time password links.

pub mod authenticator;
pub mod caller;
pub mod names;
pub mod password_links;
pub mod passwords;
pub mod roles;
pub mod session;
pub mod throttle;
pub mod tokens;

pub use caller::{Caller, Identity};

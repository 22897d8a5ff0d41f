//! Accounts and how callers prove who they are: authenticators (passwords, or an external
//! OAuth 2.0 provider), browser sessions, API tokens, roles and scopes, one-time password links.

pub mod authenticator;
pub mod caller;
pub mod generic_oauth;
pub mod names;
pub mod oauth_state;
pub mod password_links;
pub mod passwords;
pub mod roles;
pub mod session;
pub mod throttle;
pub mod tokens;

pub use caller::{Caller, Identity};

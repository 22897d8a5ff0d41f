//! Accounts and how callers prove who they are: authenticators (passwords in the database or
//! checked by an external login service, or an external OAuth 2.0 provider), browser
//! sessions, API tokens, roles and scopes, one-time password links.

pub mod auth_state;
pub mod authenticator;
pub mod caller;
pub mod generic_oauth;
pub mod http_client;
pub mod names;
pub mod native;
pub mod oauth_state;
pub mod password_links;
pub mod passwords;
pub mod rest;
pub mod roles;
pub mod session;
pub mod throttle;
pub mod tokens;

pub use caller::{Caller, Identity};

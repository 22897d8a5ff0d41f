//! Pieces every ferrohub binary agrees on: wire types, names, secrets and the proxy client.
//!
//! # Layout
//! - [`secret`]: a wrapper that keeps secrets out of logs, and random token generation.
//! - [`html`]: escaping text for hand-written HTML; [`cookies`]: reading request cookies.
//! - [`env`]: the names of environment variables read or set across the binaries.
//! - [`labels`]: the Docker label keys on single-user containers and application images.
//! - [`apps`]: application grants and their policies, as the hub serves them to managers.
//! - [`routes`]: route specs and the configurable-http-proxy REST wire types;
//!   [`route_data`]: ferrohub's keys in a route's data (access rules, VNC bridges, app routes).
//! - `proxy_client` (feature `client`): a client for that REST API, used by the hub and the
//!   manager.
//! - [`proxy_key`], [`proxy_session`], [`route_credential`]: the key the hub and
//!   `ferrohub-proxy` share, the session cookie the proxy checks on private routes, and the
//!   scoped credentials for its API.
//! - [`scopes`]: JupyterHub's scope vocabulary, expansion and access checks.
//! - [`signed`]: values signed with a key, for cookies and OAuth state.
//! - [`api_error`]: JupyterHub's `{"status", "message"}` error body.
//! - `docker` (feature `docker`): connecting to the Docker engine and bounding its calls.
//! - `process` (feature `process`): logging set-up and shutdown signals for every binary.
//!
//! This crate is a leaf: no web framework, database or Docker client lives here.

pub mod api_error;
pub mod apps;
pub mod cookies;
#[cfg(feature = "docker")]
pub mod docker;
pub mod env;
pub mod html;
pub mod labels;
#[cfg(feature = "process")]
pub mod process;
#[cfg(feature = "client")]
pub mod proxy_client;
pub mod proxy_key;
pub mod proxy_session;
pub mod route_credential;
pub mod route_data;
pub mod routes;
pub mod scopes;
pub mod secret;
pub mod signed;

/// The version every binary reports (`--version`, `X-JupyterHub-Version` carries JupyterHub's).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

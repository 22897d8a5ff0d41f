//! Docker label keys ferrohub puts on the containers it starts, so a restarted hub, an admin
//! (`docker ps --filter label=...`) or a test can find them again.

/// Marks a container as a single-user server; shared with JupyterHub's own spawners' key.
pub const SERVICE: &str = "org.jupyter.service";
/// The [`SERVICE`] value of ferrohub's single-user containers.
pub const SERVICE_SINGLEUSER: &str = "ferrohub-singleuser";
/// The name of the user the container belongs to.
pub const USER: &str = "ferrohub.user";
/// The server's name: empty for the user's default server.
pub const SERVER: &str = "ferrohub.server";

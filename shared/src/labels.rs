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

/// Labels read from application images. simphony-remote's keys are kept as they are, so
/// images built for it work unchanged; ferrohub's own say where the app listens.
pub mod app {
    /// The name shown to users (the image name when absent).
    pub const UI_NAME: &str = "eu.simphony-project.docker.ui_name";
    /// A 128x128 PNG icon, base64-encoded.
    pub const ICON_128: &str = "eu.simphony-project.docker.icon_128";
    pub const DESCRIPTION: &str = "eu.simphony-project.docker.description";
    /// `webapp` or `vncapp`.
    pub const TYPE: &str = "eu.simphony-project.docker.type";
    /// `...env.x11-width` says the image reads `X11_WIDTH`; the value is ignored.
    pub const ENV_PREFIX: &str = "eu.simphony-project.docker.env.";
    /// The port the app serves HTTP on inside the container (default [`DEFAULT_HTTP_PORT`]).
    pub const HTTP_PORT: &str = "org.ferrohub.http-port";
    /// For a desktop that runs only a VNC server: its port; ferrohub-proxy bridges the
    /// browser's websocket to it and serves noVNC.
    pub const VNC_PORT: &str = "org.ferrohub.vnc-port";
    /// simphony-remote's port, kept as the default.
    pub const DEFAULT_HTTP_PORT: u16 = 8888;
}

/// Labels a manager writes on the app containers it starts (simphony-remote's `runinfo`
/// namespace, so its tools keep finding them), to find them again after a restart.
pub mod runinfo {
    /// The hub user the container belongs to.
    pub const USER: &str = "eu.simphony-project.docker.runinfo.user";
    /// The grant it was started under.
    pub const MAPPING_ID: &str = "eu.simphony-project.docker.runinfo.mapping_id";
    /// Its id in URLs: `/user/NAME/containers/URL_ID/`.
    pub const URL_ID: &str = "eu.simphony-project.docker.runinfo.url_id";
    /// Its URL path without a trailing slash.
    pub const URLPATH: &str = "eu.simphony-project.docker.runinfo.urlpath";
    /// The hub's realm (`[Manager] realm`).
    pub const REALM: &str = "eu.simphony-project.docker.runinfo.realm";
    /// ferrohub's: the user's server whose manager started it (`""` for the default one).
    pub const SERVER: &str = "org.ferrohub.app.server";
    /// ferrohub's: the image as registered at the hub.
    pub const IMAGE: &str = "org.ferrohub.app.image";
}

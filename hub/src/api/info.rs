//! `GET /hub/api` (the version, which every JupyterHub client asks for first) and
//! `GET /hub/api/info` (what the hub runs with).

use crate::auth::Caller;
use crate::error::ApiError;
use crate::routes::JUPYTERHUB_API_VERSION;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

pub async fn root() -> Json<Value> {
    Json(json!({ "version": JUPYTERHUB_API_VERSION }))
}

/// `GET /info`, with `read:hub`.
pub async fn info(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require_any("read:hub")?;
    let hub = &state.config.hub;
    Ok(Json(json!({
        "version": JUPYTERHUB_API_VERSION,
        "ferrohub_version": ferrohub_shared::VERSION,
        "sys_executable": std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
        "authenticator": { "class": hub.authenticator_class, "version": ferrohub_shared::VERSION },
        "spawner": { "class": hub.spawner_class, "version": ferrohub_shared::VERSION },
    })))
}

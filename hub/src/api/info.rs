//! `GET /hub/api`: the version, which every JupyterHub client asks for first.

use crate::routes::JUPYTERHUB_API_VERSION;
use axum::Json;
use serde_json::{json, Value};

pub async fn root() -> Json<Value> {
    Json(json!({ "version": JUPYTERHUB_API_VERSION }))
}

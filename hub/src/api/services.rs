//! `/hub/api/services`: the services the hub knows.

use super::models::service_model;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use ferrohub_shared::scopes::Target;
use serde_json::{Map, Value};

/// `GET /services`: an object keyed by service name, as JupyterHub answers.
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require_any("list:services")?;
    let mut out = Map::new();
    for s in state.store.list_services().await? {
        if caller
            .scopes
            .allows("list:services", Target::Service(&s.name))
        {
            if let Some(model) = service_model(&caller, &s) {
                out.insert(s.name.clone(), model);
            }
        }
    }
    Ok(Json(Value::Object(out)))
}

/// `GET /services/{name}`
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require_any("read:services:name")?;
    let service = state
        .store
        .get_service(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No such service: {name}")))?;
    caller.require("read:services:name", Target::Service(&service.name))?;
    Ok(Json(
        service_model(&caller, &service).expect("name readable, checked above"),
    ))
}

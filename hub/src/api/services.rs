//! `/hub/api/services`: the services the hub knows.

use super::extract::Path;
use super::models::service_model;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use ferrohub_shared::scopes::Target;
use serde_json::{json, Map, Value};

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
    // Any of these, as JupyterHub's `GET /services/{name}`; the model shows what they reach.
    const READ_SERVICE: &[&str] = &["read:services", "read:services:name", "read:roles:services"];
    caller.require_any_of(READ_SERVICE)?;
    let service = state
        .store
        .get_service(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No such service: {name}")))?;
    caller.require_one_of(READ_SERVICE, Target::Service(&service.name))?;
    Ok(Json(service_model(&caller, &service).unwrap_or_else(
        || json!({"kind": "service", "name": service.name}),
    )))
}

//! `POST /hub/api/shutdown`: stop the hub, optionally leaving servers or the proxy running.

use super::{parse_optional_body, JsonBody};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::{AppState, ShutdownRequest};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Body {
    servers: Option<bool>,
    proxy: Option<bool>,
}

/// Answers 202 at once; the hub stops right after.
pub async fn post(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require_any("shutdown")?;
    let req: Body = parse_optional_body(&body)?.unwrap_or_default();
    tracing::warn!(by = %caller.name(), "shutdown requested through the API");
    state.shutdown.request(ShutdownRequest {
        servers: req.servers,
        proxy: req.proxy,
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"message": "Shutting down Hub"})),
    ))
}

//! `/share-codes/{owner}[/{server}]` (JupyterHub 5): secret links that grant access to a
//! server to whoever accepts them at `/hub/accept-share`. Codes are stored hashed; the code
//! is in the response that issues it and nowhere else.

use super::extract::{Path, Query};
use super::models::iso;
use super::shares::{
    grantable_scopes, respond_list, server_for, shared_server_model, PageQuery, SharedServer,
};
use super::{bad_request, parse_optional_body, JsonBody};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::store::ShareCode;
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use chrono::{Duration, Utc};
use ferrohub_shared::secret::{random_hex, sha256_hex};
use serde::Deserialize;
use serde_json::{json, Value};

/// Bounds on `expires_in`, as JupyterHub's: a minute to a year; a day by default.
const MIN_EXPIRES: u64 = 60;
const MAX_EXPIRES: u64 = 525_600 * 60;
const DEFAULT_EXPIRES: u64 = 86_400;

pub(crate) fn code_model(state: &AppState, code: &ShareCode) -> Value {
    json!({
        "server": shared_server_model(state, &code.owner, &code.server, code.server_running),
        "scopes": code.scopes,
        "id": format!("sc_{}", code.id),
        "created_at": iso(code.created_at),
        "expires_at": iso(code.expires_at),
        "exchange_count": code.exchange_count,
        "last_exchanged_at": code.last_exchanged_at.map(iso),
    })
}

/// `GET /share-codes/{owner}`
pub async fn list_owner(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
    Path(owner): Path<String>,
) -> Result<Response, ApiError> {
    let user = super::users::find_for(&state, &caller, &owner, "read:shares").await?;
    let codes = state.store.list_share_codes(&user.name, None).await?;
    let models = codes.iter().map(|c| code_model(&state, c)).collect();
    respond_list(
        &state,
        &headers,
        &q,
        &format!("/share-codes/{owner}"),
        models,
    )
}

/// `GET /share-codes/{owner}/{server}`
pub async fn list_server(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
    Path(path): Path<SharedServer>,
) -> Result<Response, ApiError> {
    let (_, owner, server) = path.parts();
    server_for(&state, &caller, &owner, &server, "read:shares").await?;
    let codes = state.store.list_share_codes(&owner, Some(&server)).await?;
    let models = codes.iter().map(|c| code_model(&state, c)).collect();
    respond_list(
        &state,
        &headers,
        &q,
        &format!("/share-codes/{owner}/{server}"),
        models,
    )
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CodeRequest {
    scopes: Option<Vec<String>>,
    expires_in: Option<u64>,
}

/// `POST /share-codes/{owner}/{server}`: issue a code (shown once, with its accept URL).
pub async fn issue(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(path): Path<SharedServer>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let (_, owner, server) = path.parts();
    server_for(&state, &caller, &owner, &server, "shares").await?;
    let req: CodeRequest = parse_optional_body(&body)?.unwrap_or_default();
    let expires_in = req.expires_in.unwrap_or(DEFAULT_EXPIRES);
    if !(MIN_EXPIRES..=MAX_EXPIRES).contains(&expires_in) {
        return Err(bad_request(format!(
            "expires_in must be between {MIN_EXPIRES} and {MAX_EXPIRES} seconds"
        )));
    }
    let scopes = grantable_scopes(&state, &caller, &owner, &server, req.scopes).await?;
    let code = random_hex(32);
    let expires_at = Utc::now() + Duration::seconds(i64::try_from(expires_in).unwrap_or(86_400));
    let stored = state
        .store
        .create_share_code(
            &owner,
            &server,
            &sha256_hex(code.as_bytes()),
            &scopes,
            expires_at,
        )
        .await?;
    tracing::info!(by = %caller.name(), "share code issued for {owner}/{server}");
    let accept_url = format!("{}hub/accept-share?code={code}", state.config.hub.base_url);
    let mut model = code_model(&state, &stored);
    model["code"] = Value::String(code);
    model["full_accept_url"] = Value::String(format!(
        "{}{accept_url}",
        super::pagination::request_origin(&headers)
    ));
    model["accept_url"] = Value::String(accept_url);
    Ok(Json(model))
}

#[derive(Deserialize, Default)]
pub struct RevokeQuery {
    code: Option<String>,
    id: Option<String>,
}

/// `DELETE /share-codes/{owner}/{server}[?code=...|?id=sc_N]`: revoke one code, or all.
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<SharedServer>,
    Query(q): Query<RevokeQuery>,
) -> Result<StatusCode, ApiError> {
    let (_, owner, server) = path.parts();
    server_for(&state, &caller, &owner, &server, "shares").await?;
    let id = match q.id.as_deref() {
        Some(raw) => Some(
            raw.strip_prefix("sc_")
                .and_then(|n| n.parse::<i64>().ok())
                .ok_or_else(|| ApiError::not_found("No matching code found"))?,
        ),
        None => None,
    };
    let hash = q.code.as_deref().map(|c| sha256_hex(c.as_bytes()));
    let deleted = state
        .store
        .delete_share_codes(&owner, &server, id, hash.as_deref())
        .await?;
    if deleted == 0 && (id.is_some() || hash.is_some()) {
        return Err(ApiError::not_found("No matching code found"));
    }
    Ok(StatusCode::NO_CONTENT)
}

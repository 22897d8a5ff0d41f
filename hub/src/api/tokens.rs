//! `/hub/api/users/{name}/tokens`: a user's API tokens.

use super::extract::Path;
use super::models::token_model;
use super::{bad_request, parse_optional_body, JsonBody};
use crate::auth::tokens::{self, TokenRequest};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::store::TokenOwner;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ferrohub_shared::scopes::{parse_all, Owner, ScopeSet};
use serde::Deserialize;
use serde_json::{json, Value};

/// `a42` -> 42; anything else is no token.
fn parse_token_id(raw: &str) -> Result<i64, ApiError> {
    raw.strip_prefix('a')
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| ApiError::not_found(format!("No such token: {raw}")))
}

/// `GET /users/{name}/tokens`
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = super::users::find_for(&state, &caller, &name, "read:tokens").await?;
    let tokens = state.store.list_user_tokens(&user.name).await?;
    let now = chrono::Utc::now();
    let models: Vec<Value> = tokens
        .iter()
        .filter(|t| !t.is_expired(now))
        .map(token_model)
        .collect();
    Ok(Json(json!({ "api_tokens": models })))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CreateToken {
    expires_in: Option<u64>,
    note: Option<String>,
    scopes: Option<Vec<String>>,
    /// Deprecated by JupyterHub in favour of scopes; only `token` (the default) is accepted.
    roles: Option<Vec<String>>,
}

/// `POST /users/{name}/tokens`: mint a token; the response is the only place it appears.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    // JupyterHub answers an unknown user here with 403, not 404 as elsewhere.
    let user = super::users::find_for(&state, &caller, &name, "tokens")
        .await
        .map_err(|e| match e.status {
            StatusCode::NOT_FOUND => ApiError::new(
                StatusCode::FORBIDDEN,
                format!("User {name} not found or no permissions to generate tokens"),
            ),
            _ => e,
        })?;
    let req: CreateToken = parse_optional_body(&body)?.unwrap_or_default();
    if let Some(roles) = &req.roles {
        if roles.iter().any(|r| r != "token") {
            return Err(bad_request(
                "Only the `token` role can be requested; ask for scopes instead",
            ));
        }
    }
    let scopes = req.scopes.unwrap_or_else(|| vec!["inherit".to_owned()]);
    let parsed = parse_all(&scopes).map_err(|e| bad_request(e.to_string()))?;
    // A token may not carry more than the one who asks for it holds.
    if !scopes.iter().any(|s| s == "inherit") {
        let wanted = ScopeSet::expand(&parsed, &Owner::User(user.name.clone()));
        let excess: Vec<String> = wanted
            .to_strings()
            .into_iter()
            .filter(|s| !caller_holds(&caller, s))
            .collect();
        if !excess.is_empty() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "Not assigning requested scopes {excess:?} not held by {}",
                    caller.name()
                ),
            ));
        }
    }
    let note = match req.note {
        Some(n) if !n.is_empty() => n,
        _ => format!("Requested via API by {}", caller.name()),
    };
    let (secret, token) = tokens::mint(
        state.store.as_ref(),
        TokenRequest {
            owner: TokenOwner::User(user.name.clone()),
            scopes,
            note,
            expires_in: req.expires_in.filter(|s| *s > 0),
            session_id: None,
            oauth_client: None,
        },
    )
    .await?;
    let mut model = token_model(&token);
    model["token"] = Value::String(secret.expose().to_owned());
    Ok((StatusCode::CREATED, Json(model)).into_response())
}

/// Whether the caller holds the expanded scope string `s` (`base` or `base!filter`).
fn caller_holds(caller: &Caller, s: &str) -> bool {
    ferrohub_shared::scopes::Scope::parse(s).is_ok_and(|scope| caller.scopes.holds(&scope, &[]))
}

/// `GET /users/{name}/tokens/{token_id}`
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, token_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let user = super::users::find_for(&state, &caller, &name, "read:tokens").await?;
    let id = parse_token_id(&token_id)?;
    let now = chrono::Utc::now();
    let token = state
        .store
        .list_user_tokens(&user.name)
        .await?
        .into_iter()
        .find(|t| t.id == id && !t.is_expired(now))
        .ok_or_else(|| ApiError::not_found(format!("No such token: {token_id}")))?;
    Ok(Json(token_model(&token)))
}

/// `DELETE /users/{name}/tokens/{token_id}`
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, token_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let user = super::users::find_for(&state, &caller, &name, "tokens").await?;
    let id = parse_token_id(&token_id)?;
    state.store.delete_user_token(&user.name, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

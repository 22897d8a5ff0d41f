//! `/hub/api/authorizations/*`: JupyterHub's deprecated identification endpoints, kept for
//! old services: who owns a token, who holds a login cookie. New code uses `GET /user`.

use super::extract::Path;
use super::users::identity_model;
use crate::auth::session;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;

/// `GET /authorizations/token/{token}`: the model of the token's owner. Anyone holding a
/// token may learn what it identifies; the caller must still be authenticated.
pub async fn token(
    State(state): State<AppState>,
    _caller: Caller,
    Path(token): Path<String>,
) -> Result<Json<Value>, ApiError> {
    tracing::warn!(
        "/authorizations/token/:token is deprecated since JupyterHub 2.0; use GET /hub/api/user"
    );
    let owner = Caller::from_token(&state, &token)
        .await?
        .ok_or_else(|| ApiError::not_found("No such token"))?;
    identity_model(&state, &owner).await.map(Json)
}

/// `POST /authorizations/token`: removed in JupyterHub 2.0, and here.
pub async fn token_post() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "Deprecated endpoint /hub/api/authorizations/token is removed in JupyterHub 2.0. Use /hub/api/users/:user/tokens instead.",
    )
}

/// `GET /authorizations/cookie/{name}/{value}`: the user a hub login cookie belongs to.
pub async fn cookie(
    State(state): State<AppState>,
    _caller: Caller,
    Path((name, value)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    tracing::warn!("/authorizations/cookie is deprecated since JupyterHub 2.0; use OAuth and GET /hub/api/user");
    if name != session::COOKIE {
        return Err(ApiError::not_found("No such cookie"));
    }
    let logged_in = session::from_cookie_value(&state, &value)
        .await?
        .ok_or_else(|| ApiError::not_found("No such cookie"))?;
    let owner = Caller::for_user(&state, logged_in.user).await?;
    identity_model(&state, &owner).await.map(Json)
}

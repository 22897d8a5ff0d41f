//! `/hub/api/applications`, `/hub/api/grants` and `/hub/api/users/{name}/applications`:
//! app images registered with the hub, who may launch them under which policy, and what one
//! user may launch (what the user's manager lists). ferrohub's own endpoints, under their
//! own scopes: `read:applications`, `admin:applications`, `read:users:applications`.

use super::extract::{Path, Query};
use super::models::iso;
use super::users::find_for;
use super::{bad_request, parse_body, JsonBody};
use crate::applications as apps;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::store::{Application, Grant, GrantFilter};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ferrohub_shared::apps::{GrantModel, Grantee, Policy};
use serde::Deserialize;
use serde_json::{json, Value};

/// An application as the API shows it.
pub fn application_model(app: &Application) -> Value {
    json!({ "id": app.id, "image": app.image, "created": iso(app.created) })
}

/// A grant as the API shows it.
pub fn grant_model(grant: &Grant) -> GrantModel {
    GrantModel {
        mapping_id: grant.mapping_id.clone(),
        application_id: grant.application_id,
        image: grant.image.clone(),
        grantee: grant.grantee.clone(),
        policy: grant.policy.clone(),
        created: iso(grant.created),
    }
}

/// 201 with the new resource's URL in `Location`.
fn created(state: &AppState, path: &str, body: impl serde::Serialize) -> Response {
    let location = format!("{}hub/api{path}", state.config.hub.base_url);
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response()
}

async fn find_application(state: &AppState, id: &str) -> Result<Application, ApiError> {
    let missing = || ApiError::not_found(format!("No such application: {id}"));
    let id: i64 = id.parse().map_err(|_| missing())?;
    state.store.get_application(id).await?.ok_or_else(missing)
}

/// `GET /applications`
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require_any("read:applications")?;
    let apps = state.store.list_applications().await?;
    Ok(Json(apps.iter().map(application_model).collect()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateApplication {
    image: String,
    /// Check that the Docker engine has the image (the default).
    #[serde(default = "yes")]
    verify: bool,
}

fn yes() -> bool {
    true
}

/// `POST /applications`
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require_any("admin:applications")?;
    let req: CreateApplication = parse_body(&body)?;
    let app = apps::register(state.store.as_ref(), &state.config, &req.image, req.verify).await?;
    tracing::info!(by = %caller.name(), image = %app.image, id = app.id, "application registered");
    Ok(created(
        &state,
        &format!("/applications/{}", app.id),
        application_model(&app),
    ))
}

/// `GET /applications/{id}`
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require_any("read:applications")?;
    Ok(Json(application_model(
        &find_application(&state, &id).await?,
    )))
}

/// `DELETE /applications/{id}`: the application and every grant of it.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_any("admin:applications")?;
    let app = find_application(&state, &id).await?;
    state.store.delete_application(app.id).await?;
    tracing::info!(by = %caller.name(), image = %app.image, id = app.id, "application removed");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
pub struct GrantQuery {
    application: Option<String>,
    user: Option<String>,
    group: Option<String>,
}

/// `GET /grants?application=ID&user=NAME|group=NAME`
pub async fn list_grants(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<GrantQuery>,
) -> Result<Json<Vec<GrantModel>>, ApiError> {
    caller.require_any("read:applications")?;
    let application_id = match &q.application {
        Some(id) => Some(find_application(&state, id).await?.id),
        None => None,
    };
    let grantee = match (q.user, q.group) {
        (Some(_), Some(_)) => return Err(bad_request("Filter by user or by group, not both")),
        (Some(u), None) => Some(Grantee::User(state.names.normalize(&u))),
        (None, Some(g)) => Some(Grantee::Group(g)),
        (None, None) => None,
    };
    let filter = GrantFilter {
        application_id,
        grantee,
    };
    let grants = state.store.list_grants(&filter).await?;
    Ok(Json(grants.iter().map(grant_model).collect()))
}

/// `POST /grants`'s body: the image, one holder, and the policy (all fields optional).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateGrant {
    image: String,
    user: Option<String>,
    group: Option<String>,
    #[serde(default)]
    policy: Policy,
}

/// `POST /grants`
pub async fn create_grant(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require_any("admin:applications")?;
    let req: CreateGrant = parse_body(&body)?;
    let grantee = match (req.user, req.group) {
        (Some(u), None) => Grantee::User(state.names.normalize(&u)),
        (None, Some(g)) => Grantee::Group(g),
        _ => return Err(bad_request("Give exactly one of `user` and `group`")),
    };
    let grant = apps::grant(state.store.as_ref(), &req.image, &grantee, &req.policy).await?;
    tracing::info!(
        by = %caller.name(), image = %grant.image, to = %grant.grantee,
        mapping_id = %grant.mapping_id, "application granted"
    );
    Ok(created(
        &state,
        &format!("/grants/{}", grant.mapping_id),
        grant_model(&grant),
    ))
}

async fn find_grant(state: &AppState, mapping_id: &str) -> Result<Grant, ApiError> {
    state
        .store
        .get_grant(mapping_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No such grant: {mapping_id}")))
}

/// `GET /grants/{mapping_id}`
pub async fn get_grant(
    State(state): State<AppState>,
    caller: Caller,
    Path(mapping_id): Path<String>,
) -> Result<Json<GrantModel>, ApiError> {
    caller.require_any("read:applications")?;
    Ok(Json(grant_model(&find_grant(&state, &mapping_id).await?)))
}

/// `DELETE /grants/{mapping_id}`
pub async fn delete_grant(
    State(state): State<AppState>,
    caller: Caller,
    Path(mapping_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_any("admin:applications")?;
    let grant = find_grant(&state, &mapping_id).await?;
    state
        .store
        .delete_grants(std::slice::from_ref(&grant.mapping_id))
        .await?;
    tracing::info!(
        by = %caller.name(), image = %grant.image, from = %grant.grantee,
        mapping_id = %grant.mapping_id, "grant revoked"
    );
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /users/{name}/applications`: what the user may launch, through its own grants and
/// its groups', oldest first.
pub async fn for_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Vec<GrantModel>>, ApiError> {
    let user = find_for(&state, &caller, &name, "read:users:applications").await?;
    let grants = state.store.user_grants(&user.name).await?;
    Ok(Json(grants.iter().map(grant_model).collect()))
}

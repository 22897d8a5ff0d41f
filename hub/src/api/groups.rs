//! `/hub/api/groups`: list, read, create and delete groups, manage members and properties.

use super::extract::{Path, Query};
use super::models::group_model;
use super::pagination::{request_origin, Paging};
use super::{bad_request, parse_body, parse_optional_body, JsonBody};
use crate::auth::names::check_group;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::store::Group;
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ferrohub_shared::scopes::Target;
use serde::Deserialize;
use serde_json::{json, Map, Value};

async fn find(
    state: &AppState,
    caller: &Caller,
    name: &str,
    scopes: &[&str],
) -> Result<Group, ApiError> {
    caller.require_any_of(scopes)?;
    let group = state
        .store
        .get_group(name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No such group: {name}")))?;
    caller.require_one_of(scopes, Target::Group(&group.name))?;
    Ok(group)
}

fn model(caller: &Caller, group: &Group) -> Value {
    group_model(caller, group).unwrap_or_else(|| json!({"kind": "group", "name": group.name}))
}

/// Every name must be an existing user; the first unknown one is a 400 (JupyterHub's answer).
async fn check_members(state: &AppState, users: &[String]) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::with_capacity(users.len());
    for raw in users {
        let name = state.names.normalize(raw);
        if state.store.get_user(&name).await?.is_none() {
            return Err(bad_request(format!("No such user: {name}")));
        }
        out.push(name);
    }
    Ok(out)
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    offset: Option<String>,
    limit: Option<String>,
}

/// `GET /groups`
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    caller.require_any("list:groups")?;
    let hub = &state.config.hub;
    let paging = Paging::new(q.offset.as_deref(), q.limit.as_deref(), &headers, hub)?;
    let (groups, total) = if caller.scopes.has_all("list:groups") {
        state.store.list_groups(paging.page).await?
    } else {
        let everything = crate::store::Page {
            offset: 0,
            limit: u64::MAX / 2,
        };
        let (all, _) = state.store.list_groups(everything).await?;
        let visible: Vec<Group> = all
            .into_iter()
            .filter(|g| caller.scopes.allows("list:groups", Target::Group(&g.name)))
            .collect();
        let (page, total) = paging.slice(visible);
        (page, total)
    };
    let items = groups
        .iter()
        .filter_map(|g| group_model(&caller, g))
        .collect();
    let base = format!("{}{}hub/api/groups", request_origin(&headers), hub.base_url);
    Ok(paging.respond(items, total, |o, l| format!("{base}?offset={o}&limit={l}")))
}

/// `GET /groups/{name}`
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let group = find(
        &state,
        &caller,
        &name,
        &["read:groups", "read:groups:name", "read:roles:groups"],
    )
    .await?;
    Ok(Json(model(&caller, &group)))
}

/// `POST /groups/{name}`'s optional body.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Members {
    #[serde(default)]
    users: Vec<String>,
}

/// The body of adding or removing members: `users` is required, as JupyterHub's
/// "Must specify users".
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberChange {
    users: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateMany {
    groups: Vec<String>,
    /// Members of every group created, as JupyterHub's `POST /groups` takes them.
    #[serde(default)]
    users: Vec<String>,
}

/// `POST /groups/{name}`
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require_any("admin:groups")?;
    check_group(&name).map_err(bad_request)?;
    let req: Members = parse_optional_body(&body)?.unwrap_or_default();
    if state.store.get_group(&name).await?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("Group {name} already exists"),
        ));
    }
    let users = check_members(&state, &req.users).await?;
    let group = state.store.create_groups(&[(name, users)]).await?.remove(0);
    Ok((StatusCode::CREATED, Json(model(&caller, &group))).into_response())
}

/// `POST /groups`: create several at once, all or none.
pub async fn create_many(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require_any("admin:groups")?;
    let req: CreateMany = parse_body(&body)?;
    if req.groups.is_empty() {
        return Err(bad_request("Must specify at least one group to create"));
    }
    let users = check_members(&state, &req.users).await?;
    let mut batch = Vec::with_capacity(req.groups.len());
    for name in &req.groups {
        check_group(name).map_err(bad_request)?;
        if state.store.get_group(name).await?.is_some() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("Group {name} already exists"),
            ));
        }
        batch.push((name.clone(), users.clone()));
    }
    let groups = state.store.create_groups(&batch).await?;
    let models: Vec<Value> = groups.iter().map(|g| model(&caller, g)).collect();
    Ok((StatusCode::CREATED, Json(Value::Array(models))).into_response())
}

/// `DELETE /groups/{name}`
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let group = find(&state, &caller, &name, &["delete:groups"]).await?;
    state.store.delete_group(&group.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /groups/{name}/users`
pub async fn add_users(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let group = find(&state, &caller, &name, &["groups"]).await?;
    let req: MemberChange = parse_body(&body)?;
    let users = check_members(&state, &req.users).await?;
    let group = state.store.add_group_members(&group.name, &users).await?;
    Ok(Json(model(&caller, &group)))
}

/// `DELETE /groups/{name}/users`
pub async fn remove_users(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let group = find(&state, &caller, &name, &["groups"]).await?;
    let req: MemberChange = parse_body(&body)?;
    let users = check_members(&state, &req.users).await?;
    let group = state
        .store
        .remove_group_members(&group.name, &users)
        .await?;
    Ok(Json(model(&caller, &group)))
}

/// `PUT /groups/{name}/properties`: replace the group's properties with the body.
pub async fn set_properties(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let group = find(&state, &caller, &name, &["groups"]).await?;
    let properties: Map<String, Value> = parse_body(&body)?;
    let group = state
        .store
        .set_group_properties(&group.name, &properties)
        .await?;
    Ok(Json(model(&caller, &group)))
}

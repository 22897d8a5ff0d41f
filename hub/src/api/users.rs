//! `/hub/api/users` and `/hub/api/user`: list, read, create, update and delete users, and
//! record their activity.

use super::extract::{Path, Query};
use super::models::{iso, service_model, user_model, UserModel};
use super::pagination::{request_origin, Paging};
use super::{bad_request, parse_body, parse_optional_body, JsonBody};
use crate::auth::auth_state;
use crate::auth::caller::Identity;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::proxy::revocations;
use crate::store::{CreateUserRequest, UpdateUserRequest, User, UserState};
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use ferrohub_shared::scopes::Target;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

#[derive(Deserialize, Default)]
pub struct ListQuery {
    state: Option<String>,
    offset: Option<String>,
    limit: Option<String>,
    name_filter: Option<String>,
    include_stopped_servers: Option<String>,
}

fn target(user: &User) -> Target<'_> {
    Target::User {
        name: &user.name,
        groups: &user.groups,
    }
}

/// The user called `name`, or 404.
async fn find(state: &AppState, name: &str) -> Result<User, ApiError> {
    state
        .store
        .get_user(name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No such user: {name}")))
}

/// The user called `name` if the caller holds `scope` for it: 403 without the scope at all,
/// 404 for an unknown user or one outside the scope's reach.
pub(crate) async fn find_for(
    state: &AppState,
    caller: &Caller,
    name: &str,
    scope: &str,
) -> Result<User, ApiError> {
    find_for_any(state, caller, name, &[scope]).await
}

/// As [`find_for`], for an endpoint that accepts any of `scopes`.
async fn find_for_any(
    state: &AppState,
    caller: &Caller,
    name: &str,
    scopes: &[&str],
) -> Result<User, ApiError> {
    caller.require_any_of(scopes)?;
    let user = find(state, name).await?;
    caller.require_one_of(scopes, target(&user))?;
    Ok(user)
}

/// The scopes any one of which lets a caller read a user, as JupyterHub's `GET /users/{name}`;
/// the model shows only the fields the caller's scopes reach.
const READ_USER: &[&str] = &[
    "read:users",
    "read:users:name",
    "read:servers",
    "read:users:groups",
    "read:users:activity",
    "read:roles:users",
];

/// `GET /users`
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    caller.require_any("list:users")?;
    let filter = match q.state.as_deref().unwrap_or("") {
        "" => UserState::Any,
        "active" => UserState::Active,
        "inactive" => UserState::Inactive,
        "ready" => UserState::Ready,
        other => return Err(bad_request(format!("Unrecognized state filter: {other:?}"))),
    };
    let hub = &state.config.hub;
    let paging = Paging::new(q.offset.as_deref(), q.limit.as_deref(), &headers, hub)?;
    // JupyterHub reads any value but `0` or `false` as yes.
    let include_stopped = q
        .include_stopped_servers
        .as_deref()
        .is_some_and(|v| !matches!(v.to_ascii_lowercase().as_str(), "0" | "false"));
    let name_filter = q.name_filter.as_deref().filter(|s| !s.is_empty());
    let (users, total) = if caller.scopes.has_all("list:users") {
        state
            .store
            .list_users(filter, name_filter, paging.page)
            .await?
    } else {
        // A filtered `list:users` (e.g. `!group=staff`) sees only the users it names: list
        // everything matching, keep what the scope admits, then page.
        let everything = crate::store::Page {
            offset: 0,
            limit: u64::MAX / 2,
        };
        let (all, _) = state
            .store
            .list_users(filter, name_filter, everything)
            .await?;
        let visible: Vec<User> = all
            .into_iter()
            .filter(|u| caller.scopes.allows("list:users", target(u)))
            .collect();
        let (page, total) = paging.slice(visible);
        (page, total)
    };
    let pending = state.servers.pending_view();
    let items = users
        .iter()
        .filter_map(|u| user_model(&caller, &state.urls, &pending, u, include_stopped))
        .collect();
    let base = format!("{}{}hub/api/users", request_origin(&headers), hub.base_url);
    let state_q = q.state.clone().unwrap_or_default();
    Ok(paging.respond(items, total, |offset, limit| {
        format!("{base}?offset={offset}&limit={limit}&state={state_q}")
    }))
}

/// `GET /users/{name}`
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = find_for_any(&state, &caller, &name, READ_USER).await?;
    let mut model = user_model(
        &caller,
        &state.urls,
        &state.servers.pending_view(),
        &user,
        true,
    )
    .map_or_else(
        || json!({"kind": "user", "name": user.name}),
        UserModel::into_value,
    );
    // The model names `auth_state` only for callers holding `admin:auth_state` on the user.
    if model.get("auth_state").is_some() {
        model["auth_state"] =
            json!(auth_state::load(&*state.store, &state.crypt, &user.name).await?);
    }
    Ok(Json(model))
}

const GRANT_ADMIN: &str = "grant admin permissions";

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CreateOne {
    #[serde(default)]
    admin: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateMany {
    usernames: Vec<String>,
    #[serde(default)]
    admin: bool,
}

/// `POST /users/{name}`
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require_any("admin:users")?;
    let req: CreateOne = parse_optional_body(&body)?.unwrap_or_default();
    let name = state.names.normalize(&name);
    state.names.check_user(&name).map_err(bad_request)?;
    if state.store.get_user(&name).await?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("User {name} already exists"),
        ));
    }
    if req.admin {
        caller.require_admin_for(GRANT_ADMIN)?;
    }
    let user = state
        .store
        .create_users(&[CreateUserRequest {
            name,
            admin: req.admin,
        }])
        .await?
        .remove(0);
    let model = user_model(
        &caller,
        &state.urls,
        &state.servers.pending_view(),
        &user,
        true,
    )
    .map_or_else(|| json!({}), UserModel::into_value);
    Ok((StatusCode::CREATED, Json(model)).into_response())
}

/// `POST /users`: create several; names that exist already are skipped.
pub async fn create_many(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> Result<Response, ApiError> {
    caller.require_any("admin:users")?;
    let req: CreateMany = parse_body(&body)?;
    if req.usernames.is_empty() {
        return Err(bad_request("Must specify at least one user to create"));
    }
    if req.admin {
        caller.require_admin_for(GRANT_ADMIN)?;
    }
    let mut to_create = Vec::new();
    for raw in &req.usernames {
        let name = state.names.normalize(raw);
        state.names.check_user(&name).map_err(bad_request)?;
        if state.store.get_user(&name).await?.is_none()
            && !to_create.iter().any(|r: &CreateUserRequest| r.name == name)
        {
            to_create.push(CreateUserRequest {
                name,
                admin: req.admin,
            });
        }
    }
    if to_create.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("All {} users already exist", req.usernames.len()),
        ));
    }
    let users = state.store.create_users(&to_create).await?;
    let pending = state.servers.pending_view();
    let models: Vec<Value> = users
        .iter()
        .filter_map(|u| user_model(&caller, &state.urls, &pending, u, true))
        .map(UserModel::into_value)
        .collect();
    Ok((StatusCode::CREATED, Json(Value::Array(models))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Patch {
    name: Option<String>,
    admin: Option<bool>,
    /// `Some(Value::Null)` for an explicit `null`, which JupyterHub refuses too.
    #[serde(default, deserialize_with = "present")]
    auth_state: Option<Value>,
}

/// A field that is present, even as `null` (serde's `Option` would read `null` as absent).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// `PATCH /users/{name}`: rename, change the admin flag and/or replace `auth_state`, all or
/// nothing.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let user = find_for(&state, &caller, &name, "admin:users").await?;
    let patch: Patch = parse_body(&body)?;
    let new_name = match patch.name {
        Some(raw) => {
            let n = state.names.normalize(&raw);
            state.names.check_user(&n).map_err(bad_request)?;
            if n != user.name && state.store.get_user(&n).await?.is_some() {
                return Err(bad_request(format!(
                    "User {n} already exists, username must be unique"
                )));
            }
            Some(n)
        }
        None => None,
    };
    if user.admin {
        caller.require_admin_for("modify other admins")?;
    }
    if patch.admin == Some(true) {
        caller.require_admin_for(GRANT_ADMIN)?;
    }
    let auth_state = match patch.auth_state {
        None => None,
        Some(value @ Value::Object(_)) => Some(Some(
            state
                .crypt
                .encrypt(&value)
                .map_err(|e| bad_request(e.to_string()))?,
        )),
        Some(other) => {
            return Err(bad_request(format!(
                "user.auth_state must be an object, not {other}"
            )))
        }
    };
    let updated = state
        .store
        .update_user(
            &user.name,
            &UpdateUserRequest {
                name: new_name,
                admin: patch.admin,
                auth_state,
            },
        )
        .await?;
    let mut model = user_model(
        &caller,
        &state.urls,
        &state.servers.pending_view(),
        &updated,
        true,
    )
    .map_or_else(|| json!({}), UserModel::into_value);
    // As JupyterHub, the answer to a PATCH carries the stored auth_state (`admin:users`
    // includes `admin:auth_state`).
    if model.is_object() {
        model["auth_state"] =
            json!(auth_state::load(&*state.store, &state.crypt, &updated.name).await?);
    }
    Ok(Json(model))
}

/// `DELETE /users/{name}`
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = find_for(&state, &caller, &name, "delete:users").await?;
    if matches!(&caller.identity, Identity::User { name, .. } if *name == user.name) {
        return Err(bad_request("Cannot delete yourself!"));
    }
    // As JupyterHub: the user's servers are stopped first, so none is orphaned.
    state.servers.stop_user(&user).await?;
    // Their sessions end with them, and the proxy must refuse their proxy cookies too.
    state.store.delete_user(&user.name).await?;
    if let Some(proxy) = &state.proxy {
        revocations::deliver_now(state.store.as_ref(), proxy).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerActivity {
    last_activity: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Activity {
    last_activity: Option<String>,
    #[serde(default)]
    servers: HashMap<String, ServerActivity>,
}

fn parse_time(field: &str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            // JupyterHub also accepts ISO 8601 without an offset, meaning UTC.
            chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f").map(|t| t.and_utc())
        })
        .map_err(|_| {
            bad_request(format!(
                "{field} must be an ISO 8601 timestamp, not {raw:?}"
            ))
        })
        .and_then(|t| {
            // A clock far ahead would pin activity in the future and keep a server from
            // ever being culled; JupyterHub refuses more than an hour ahead too.
            if t - Utc::now() > chrono::Duration::minutes(59) {
                Err(bad_request(format!(
                    "Rejecting activity from more than an hour in the future: {raw}"
                )))
            } else {
                Ok(t)
            }
        })
}

/// `POST /users/{name}/activity`: single-user servers report when they were last used.
/// Answers 200 with an empty body, as JupyterHub does.
pub async fn activity(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: JsonBody,
) -> Result<StatusCode, ApiError> {
    let user = find_for(&state, &caller, &name, "users:activity").await?;
    let report: Activity = parse_body(&body)?;
    let mut servers = BTreeMap::new();
    for (server, a) in &report.servers {
        if !user.servers.iter().any(|s| &s.name == server) {
            return Err(bad_request(format!(
                "No such server '{server}' for user {}",
                user.name
            )));
        }
        servers.insert(
            server.clone(),
            parse_time(&format!("servers.{server}.last_activity"), &a.last_activity)?,
        );
    }
    let at = match &report.last_activity {
        Some(raw) => parse_time("last_activity", raw)?,
        None => match servers.values().max() {
            Some(t) => *t,
            None => return Err(bad_request("last_activity or servers is required")),
        },
    };
    state
        .store
        .record_activity(&user.name, at, &servers)
        .await?;
    Ok(StatusCode::OK)
}

/// `GET /user`: who the caller is, with its scopes.
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    identity_model(&state, &caller).await.map(Json)
}

/// Who `caller` is, with what it may read about itself and its expanded scopes, as
/// `GET /user` answers (and the deprecated `/authorizations` endpoints).
pub(crate) async fn identity_model(state: &AppState, caller: &Caller) -> Result<Value, ApiError> {
    let mut model = match &caller.identity {
        Identity::User { name, .. } => {
            let user = find(state, name).await?;
            user_model(
                caller,
                &state.urls,
                &state.servers.pending_view(),
                &user,
                true,
            )
            .map_or_else(
                || json!({"kind": "user", "name": user.name}),
                UserModel::into_value,
            )
        }
        Identity::Service { name, .. } => {
            let service = state
                .store
                .get_service(name)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("No such service: {name}")))?;
            service_model(caller, &service)
                .unwrap_or_else(|| json!({"kind": "service", "name": service.name}))
        }
    };
    let obj: &mut Map<String, Value> = model.as_object_mut().expect("models are objects");
    obj.insert("scopes".into(), json!(caller.scopes.to_strings()));
    if let Some(token) = &caller.token {
        obj.insert("token_id".into(), format!("a{}", token.id).into());
        obj.insert("session_id".into(), json!(token.session_id));
        if let Some(t) = token.last_activity {
            obj.insert("token_last_activity".into(), iso(t).into());
        }
    }
    Ok(model)
}

/// `POST /users/{name}/password-link` (ferrohub's own): issue a one-time link and PIN that let
/// the user set a password, for an invitation or a reset. The response is the only place the
/// link and PIN appear; hand them over separately.
pub async fn password_link(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let user = find_for(&state, &caller, &name, "admin:users").await?;
    let hours = state.config.native_authenticator.link_lifetime_hours;
    let link = crate::auth::password_links::issue(state.store.as_ref(), &user, hours).await?;
    let origin = request_origin(&headers);
    let public = url::Url::parse(&origin).unwrap_or_else(|_| state.config.public_url());
    tracing::info!(user = %user.name, by = %caller.name(), "password link issued");
    let expires = Utc::now() + chrono::Duration::hours(i64::try_from(hours).unwrap_or(24));
    let body = json!({
        "url": link.url(&public, &state.config.hub.base_url),
        "pin": link.pin.expose(),
        "expires_at": iso(expires),
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

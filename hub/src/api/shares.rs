//! Sharing servers (JupyterHub 5): `/shares/{owner}[/{server}]` grant, list and revoke access
//! to a server for users and groups; `/users/{name}/shared` and `/groups/{name}/shared` show
//! and leave what was shared with them. A share's scopes join the user's own at login and in
//! the OAuth provider, so a shared server lets its guests in.

use super::extract::{Path, Query};
use super::pagination::{request_origin, Paging};
use super::{bad_request, parse_body, JsonBody};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::store::{Share, ShareFilter, ShareWith};
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use ferrohub_shared::scopes::{is_known, Filter, Scope, Target};
use serde::Deserialize;
use serde_json::{json, Value};

/// The truncated server model shares and share codes carry, as JupyterHub's.
pub(crate) fn shared_server_model(
    state: &AppState,
    owner: &str,
    server: &str,
    running: bool,
) -> Value {
    json!({
        "user": { "name": owner },
        "name": server,
        "url": state.urls.server(owner, server),
        "full_url": Value::Null,
        "ready": running,
    })
}

/// A share as JupyterHub shows it, with a truncated model of the server.
pub(crate) fn share_model(state: &AppState, share: &Share) -> Value {
    let (user, group) = match &share.with {
        ShareWith::User(u) => (json!({ "name": u }), Value::Null),
        ShareWith::Group(g) => (Value::Null, json!({ "name": g })),
    };
    json!({
        "server": shared_server_model(state, &share.owner, &share.server, share.server_running),
        "scopes": share.scopes,
        "user": user,
        "group": group,
        "kind": if group.is_null() { "user" } else { "group" },
        "created_at": super::models::iso(share.created_at),
    })
}

/// Path parameters naming a shared server; the default server's path ends with a slash
/// (`/shares/alice/`), so the server name may be absent.
#[derive(Deserialize)]
pub struct SharedServer {
    name: Option<String>,
    owner: String,
    server_name: Option<String>,
}

impl SharedServer {
    pub(crate) fn parts(self) -> (String, String, String) {
        (
            self.name.unwrap_or_default(),
            self.owner,
            self.server_name.unwrap_or_default(),
        )
    }
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    offset: Option<String>,
    limit: Option<String>,
}

/// A page of `models` (shares or share codes), always in the pagination envelope (the page's
/// default size still follows the `Accept` header, as in JupyterHub).
pub(crate) fn respond_list(
    state: &AppState,
    headers: &HeaderMap,
    q: &PageQuery,
    path: &str,
    models: Vec<Value>,
) -> Result<Response, ApiError> {
    let paging = Paging::new(
        q.offset.as_deref(),
        q.limit.as_deref(),
        headers,
        &state.config.hub,
    )?
    .enveloped();
    let (page, total) = paging.slice(models);
    let base = format!(
        "{}{}hub/api{path}",
        request_origin(headers),
        state.config.hub.base_url
    );
    Ok(paging.respond(page, total, |offset, limit| {
        format!("{base}?offset={offset}&limit={limit}")
    }))
}

/// Filter `scopes` to one server, as JupyterHub's `Share._apply_filter`: an unfiltered scope
/// is narrowed to the server; one filtered to the server or its owner is kept (narrowed);
/// any other filter is refused.
pub fn apply_filter(scopes: &[String], owner: &str, server: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for raw in scopes {
        let scope = Scope::parse(raw).map_err(|e| e.to_string())?;
        if !is_known(&scope.base) {
            return Err(format!("unknown scope `{raw}`"));
        }
        let fits = match &scope.filter {
            None => true,
            Some(Filter::Server(u, s)) => u == owner && s == server,
            Some(Filter::User(u)) => u == owner,
            Some(_) => false,
        };
        if !fits {
            return Err(format!(
                "scope `{raw}` cannot be shared on server {owner}/{server}"
            ));
        }
        out.push(format!("{}!server={owner}/{server}", scope.base));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The scopes a share (or share code) of `owner/server` grants: those requested (default:
/// access to the server), narrowed to the server; 400 for ones that cannot be, 403 for ones
/// the caller does not hold there itself.
pub(crate) async fn grantable_scopes(
    state: &AppState,
    caller: &Caller,
    owner: &str,
    server: &str,
    requested: Option<Vec<String>>,
) -> Result<Vec<String>, ApiError> {
    let requested = match requested {
        Some(s) if !s.is_empty() => s,
        _ => vec![format!("access:servers!server={owner}/{server}")],
    };
    let scopes = apply_filter(&requested, owner, server).map_err(bad_request)?;
    let groups = state
        .store
        .get_user(owner)
        .await?
        .map(|u| u.groups)
        .unwrap_or_default();
    let target = Target::Server {
        user: owner,
        server,
        groups: &groups,
    };
    for scope in &scopes {
        let base = scope.split('!').next().unwrap_or(scope);
        if !caller.scopes.allows(base, target) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("Do not have permission to grant share with scope {scope}"),
            ));
        }
    }
    Ok(scopes)
}

/// The caller must hold `scope` for the owner's server; 404 for an unknown owner or server.
pub(crate) async fn server_for(
    state: &AppState,
    caller: &Caller,
    owner: &str,
    server: &str,
    scope: &str,
) -> Result<(), ApiError> {
    caller.require_any(scope)?;
    let user = state.store.get_user(owner).await?;
    let groups = user.as_ref().map(|u| u.groups.clone()).unwrap_or_default();
    caller.require(
        scope,
        Target::Server {
            user: owner,
            server,
            groups: &groups,
        },
    )?;
    let exists = user.is_some_and(|u| u.servers.iter().any(|s| s.name == server));
    if !exists {
        return Err(ApiError::not_found(format!(
            "No such server: {owner}/{server}"
        )));
    }
    Ok(())
}

/// `GET /shares/{owner}`
pub async fn list_owner(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
    Path(owner): Path<String>,
) -> Result<Response, ApiError> {
    let user = super::users::find_for(&state, &caller, &owner, "read:shares").await?;
    let shares = state
        .store
        .list_shares(&ShareFilter::Owner(user.name.clone()))
        .await?;
    let models = shares.iter().map(|s| share_model(&state, s)).collect();
    respond_list(&state, &headers, &q, &format!("/shares/{owner}"), models)
}

/// `GET /shares/{owner}/{server}`
pub async fn list_server(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
    Path(path): Path<SharedServer>,
) -> Result<Response, ApiError> {
    let (_, owner, server) = path.parts();
    server_for(&state, &caller, &owner, &server, "read:shares").await?;
    let shares = state
        .store
        .list_shares(&ShareFilter::Server(owner.clone(), server.clone()))
        .await?;
    respond_list(
        &state,
        &headers,
        &q,
        &format!("/shares/{owner}/{server}"),
        shares.iter().map(|s| share_model(&state, s)).collect(),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareRequest {
    user: Option<String>,
    group: Option<String>,
    scopes: Option<Vec<String>>,
}

impl ShareRequest {
    fn with(&self) -> Result<ShareWith, ApiError> {
        match (&self.user, &self.group) {
            (Some(u), None) => Ok(ShareWith::User(u.clone())),
            (None, Some(g)) => Ok(ShareWith::Group(g.clone())),
            (Some(_), Some(_)) => Err(bad_request(
                "Expected exactly one of `user` or `group`, not both.",
            )),
            (None, None) => Err(bad_request("Specify exactly one of `user` or `group`")),
        }
    }
}

/// `POST /shares/{owner}/{server}`: grant `scopes` (default: access to the server).
pub async fn grant(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<SharedServer>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let (_, owner, server) = path.parts();
    server_for(&state, &caller, &owner, &server, "shares").await?;
    let req: ShareRequest = parse_body(&body)?;
    let with = req.with()?;
    let scopes = grantable_scopes(&state, &caller, &owner, &server, req.scopes.clone()).await?;
    match &with {
        ShareWith::User(u) => {
            let groups = state
                .store
                .get_user(u)
                .await?
                .map(|x| x.groups)
                .unwrap_or_default();
            if !caller.scopes.allows(
                "read:users:name",
                Target::User {
                    name: u,
                    groups: &groups,
                },
            ) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "Need scope 'read:users:name' to share with users by name",
                ));
            }
            if state.store.get_user(u).await?.is_none() {
                return Err(bad_request(format!("No such user: {u}")));
            }
        }
        ShareWith::Group(g) => {
            if !caller.scopes.allows("read:groups:name", Target::Group(g)) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "Need scope 'read:groups:name' to share with groups by name",
                ));
            }
            if state.store.get_group(g).await?.is_none() {
                return Err(bad_request(format!("No such group: {g}")));
            }
        }
    }
    let share = state
        .store
        .grant_share(&owner, &server, &with, &scopes)
        .await?;
    tracing::info!(by = %caller.name(), "shared {owner}/{server} with {:?}: {:?}", share.with, share.scopes);
    Ok(Json(share_model(&state, &share)))
}

/// `PATCH /shares/{owner}/{server}`: revoke some scopes (all without `scopes`).
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<SharedServer>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let (_, owner, server) = path.parts();
    server_for(&state, &caller, &owner, &server, "shares").await?;
    let req: ShareRequest = parse_body(&body)?;
    let with = req.with()?;
    let scopes = match &req.scopes {
        Some(s) if !s.is_empty() => Some(apply_filter(s, &owner, &server).map_err(bad_request)?),
        _ => None,
    };
    // Revoking from someone unknown revokes nothing, as in JupyterHub.
    match state
        .store
        .revoke_share(&owner, &server, &with, scopes.as_deref())
        .await
    {
        Ok(Some(share)) => Ok(Json(share_model(&state, &share))),
        Ok(None) | Err(crate::store::StoreError::NotFound(_)) => Ok(Json(json!({}))),
        Err(e) => Err(e.into()),
    }
}

/// `DELETE /shares/{owner}/{server}`: revoke every share of the server.
pub async fn revoke_all(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<SharedServer>,
) -> Result<StatusCode, ApiError> {
    let (_, owner, server) = path.parts();
    server_for(&state, &caller, &owner, &server, "shares").await?;
    state.store.delete_server_shares(&owner, &server).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /users/{name}/shared`
pub async fn list_user(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let user = super::users::find_for(&state, &caller, &name, "read:users:shares").await?;
    let shares = state
        .store
        .list_shares(&ShareFilter::User(user.name.clone()))
        .await?;
    respond_list(
        &state,
        &headers,
        &q,
        &format!("/users/{name}/shared"),
        shares.iter().map(|s| share_model(&state, s)).collect(),
    )
}

async fn one_share(
    state: &AppState,
    filter: ShareFilter,
    owner: &str,
    server: &str,
) -> Result<Share, ApiError> {
    state
        .store
        .list_shares(&filter)
        .await?
        .into_iter()
        .find(|s| s.owner == owner && s.server == server)
        .ok_or_else(|| ApiError::not_found(format!("No share of {owner}/{server} found")))
}

/// `GET /users/{name}/shared/{owner}/{server}`
pub async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<SharedServer>,
) -> Result<Json<Value>, ApiError> {
    let (name, owner, server) = path.parts();
    let user = super::users::find_for(&state, &caller, &name, "read:users:shares").await?;
    let share = one_share(&state, ShareFilter::User(user.name), &owner, &server).await?;
    Ok(Json(share_model(&state, &share)))
}

/// `DELETE /users/{name}/shared/{owner}/{server}`: leave a shared server.
pub async fn leave_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<SharedServer>,
) -> Result<StatusCode, ApiError> {
    let (name, owner, server) = path.parts();
    let user = super::users::find_for(&state, &caller, &name, "users:shares").await?;
    one_share(
        &state,
        ShareFilter::User(user.name.clone()),
        &owner,
        &server,
    )
    .await?;
    state
        .store
        .revoke_share(&owner, &server, &ShareWith::User(user.name), None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn find_group(
    state: &AppState,
    caller: &Caller,
    name: &str,
    scope: &str,
) -> Result<(), ApiError> {
    caller.require_any(scope)?;
    caller.require(scope, Target::Group(name))?;
    if state.store.get_group(name).await?.is_none() {
        return Err(ApiError::not_found(format!("No such group: {name}")));
    }
    Ok(())
}

/// `GET /groups/{name}/shared`
pub async fn list_group(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    find_group(&state, &caller, &name, "read:groups:shares").await?;
    let shares = state
        .store
        .list_shares(&ShareFilter::Group(name.clone()))
        .await?;
    respond_list(
        &state,
        &headers,
        &q,
        &format!("/groups/{name}/shared"),
        shares.iter().map(|s| share_model(&state, s)).collect(),
    )
}

/// `GET /groups/{name}/shared/{owner}/{server}`
pub async fn get_group(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<SharedServer>,
) -> Result<Json<Value>, ApiError> {
    let (name, owner, server) = path.parts();
    find_group(&state, &caller, &name, "read:groups:shares").await?;
    let share = one_share(&state, ShareFilter::Group(name), &owner, &server).await?;
    Ok(Json(share_model(&state, &share)))
}

/// `DELETE /groups/{name}/shared/{owner}/{server}`
pub async fn leave_group(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<SharedServer>,
) -> Result<StatusCode, ApiError> {
    let (name, owner, server) = path.parts();
    find_group(&state, &caller, &name, "groups:shares").await?;
    one_share(&state, ShareFilter::Group(name.clone()), &owner, &server).await?;
    state
        .store
        .revoke_share(&owner, &server, &ShareWith::Group(name), None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_narrowed_to_the_server() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            apply_filter(
                &s(&["access:servers", "read:servers!user=ann"]),
                "ann",
                "lab"
            )
            .unwrap(),
            s(&[
                "access:servers!server=ann/lab",
                "read:servers!server=ann/lab"
            ])
        );
        assert!(apply_filter(&s(&["access:servers!user=bob"]), "ann", "").is_err());
        assert!(apply_filter(&s(&["access:servers!server=ann/other"]), "ann", "lab").is_err());
        assert!(apply_filter(&s(&["no:such"]), "ann", "").is_err());
    }
}

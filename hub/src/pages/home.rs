//! The pages around a user's servers: `/hub/home` (start, stop, open), `/hub/spawn` (the
//! spawner's options form), `/hub/spawn-pending` (live progress), `/user/{name}/...` when
//! the request reaches the hub because the server is not running (redirected to
//! `/hub/user/{name}/...`, where the hub's cookie is sent), and `/hub/user-redirect`.

use super::{check_xsrf, parse_form, user_context, PageUser};
use crate::api::models::iso;
use crate::auth::session::{self, LoggedIn};
use crate::auth::Caller;
use crate::error::PageError;
use crate::servers::PendingKind;
use crate::store::User;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use ferrohub_shared::scopes::Target;
use minijinja::context;
use serde::Deserialize;
use std::time::Duration;

fn encode(s: &str) -> String {
    crate::servers::contract::escape_path(s)
}

/// `/hub/spawn/alice` or `/hub/spawn/alice/lab`.
fn spawn_url(state: &AppState, user: &str, server: &str) -> String {
    let base = &state.config.hub.base_url;
    if server.is_empty() {
        format!("{base}hub/spawn/{}", encode(user))
    } else {
        format!("{base}hub/spawn/{}/{}", encode(user), encode(server))
    }
}

fn pending_url(state: &AppState, user: &str, server: &str) -> String {
    spawn_url(state, user, server).replacen("hub/spawn/", "hub/spawn-pending/", 1)
}

/// The user a page acts on: the logged-in user, or another one whose servers the logged-in
/// user's scopes reach (`servers` on that user, as JupyterHub's spawn pages ask): an admin,
/// or a custom role such as `servers!group=lab`. The same check as the REST API's, so a role
/// behaves alike in a page and in the API: 403 without the scope at all, 404 for a user
/// outside its reach or unknown.
async fn target_user(
    state: &AppState,
    logged_in: &LoggedIn,
    name: Option<&str>,
) -> Result<User, PageError> {
    let Some(name) = name.filter(|n| *n != logged_in.user.name) else {
        return Ok(logged_in.user.clone());
    };
    let caller = Caller::for_user(state, logged_in.user.clone()).await?;
    caller.require_any("servers")?;
    let user =
        state.store.get_user(name).await?.ok_or_else(|| {
            PageError::new(StatusCode::NOT_FOUND, format!("No such user: {name}"))
        })?;
    caller.require(
        "servers",
        Target::User {
            name: &user.name,
            groups: &user.groups,
        },
    )?;
    Ok(user)
}

/// `GET /hub/` and `GET /`: home for a logged-in user, the login page for anyone else.
pub async fn root(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let base = &state.config.hub.base_url;
    let to = match session::current(&state, &headers).await? {
        Some(_) => format!("{base}hub/home"),
        None => format!("{base}hub/login"),
    };
    Ok(Redirect::to(&to).into_response())
}

/// `GET /hub/home`
pub async fn home(
    State(state): State<AppState>,
    PageUser(me): PageUser,
) -> Result<Response, PageError> {
    render_home(&state, &me, None).await
}

async fn render_home(
    state: &AppState,
    me: &LoggedIn,
    error: Option<String>,
) -> Result<Response, PageError> {
    let user = state
        .store
        .get_user(&me.user.name)
        .await?
        .unwrap_or_else(|| me.user.clone());
    let mut names: Vec<String> = user.servers.iter().map(|s| s.name.clone()).collect();
    if !names.iter().any(String::is_empty) {
        names.insert(0, String::new());
    }
    let servers: Vec<minijinja::Value> = names
        .iter()
        .map(|name| {
            let record = user.servers.iter().find(|s| &s.name == name);
            let running = record.is_some_and(|s| s.url.is_some());
            let status = match (state.servers.pending(&user.name, name), running) {
                (Some(PendingKind::Spawn), _) => "starting",
                (Some(PendingKind::Stop), _) => "stopping",
                (None, true) => "running",
                (None, false) => "stopped",
            };
            let display_name = record.map_or("", |s| s.display_name.as_str());
            context! {
                name,
                display_name => if display_name.is_empty() { name.as_str() } else { display_name },
                status,
                url => state.urls.server(&user.name, name),
                pending_url => pending_url(state, &user.name, name),
                last_activity => record.and_then(|s| s.last_activity).map(iso),
            }
        })
        .collect();
    let page = state.templates.render(
        "home.html",
        context! {
            user => user_context(me),
            xsrf => me.xsrf,
            servers,
            error,
            named_servers => state.config.hub.allow_named_servers,
        },
    )?;
    Ok(page.into_response())
}

/// `POST /hub/home`: start, stop or delete one of the user's servers (a form, no script).
pub async fn home_action(
    State(state): State<AppState>,
    PageUser(me): PageUser,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = parse_form(&body);
    check_xsrf(&me, &form)?;
    let server = form.get("server").cloned().unwrap_or_default();
    let user = state
        .store
        .get_user(&me.user.name)
        .await?
        .unwrap_or_else(|| me.user.clone());
    let result = match form.get("action").map(String::as_str) {
        Some("start") => return start_and_follow(&state, &user, &server, None).await,
        Some("stop") => state
            .servers
            .stop(&user.name, &server, false)
            .await
            .map(|_| ()),
        Some("delete") => state
            .servers
            .stop(&user.name, &server, true)
            .await
            .map(|_| ()),
        _ => return Err(PageError::new(StatusCode::BAD_REQUEST, "Unknown action.")),
    };
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("{}hub/home", state.config.hub.base_url)).into_response())
        }
        Err(e) => render_home(&state, &me, Some(e.to_string())).await,
    }
}

/// Start a server (or show the options form first) and go to its progress page.
async fn start_and_follow(
    state: &AppState,
    user: &User,
    server: &str,
    options: Option<serde_json::Value>,
) -> Result<Response, PageError> {
    let record = user.servers.iter().find(|s| s.name == server);
    if record.is_some_and(|s| s.url.is_some())
        && state.servers.pending(&user.name, server).is_none()
    {
        return Ok(Redirect::to(&state.urls.server(&user.name, server)).into_response());
    }
    if options.is_none() && state.servers.options_form(&user.name).is_some() {
        return Ok(Redirect::to(&spawn_url(state, &user.name, server)).into_response());
    }
    // Pages do not wait: the progress page shows the spawn as it happens.
    state
        .servers
        .spawn(user, server, options, Duration::ZERO)
        .await?;
    Ok(Redirect::to(&pending_url(state, &user.name, server)).into_response())
}

#[derive(Deserialize)]
pub struct SpawnPath {
    user: Option<String>,
    server: Option<String>,
}

/// `GET /hub/spawn[/{user}[/{server}]]`: the options form if the spawner has one, else start.
pub async fn spawn_form(
    State(state): State<AppState>,
    PageUser(me): PageUser,
    Path(path): Path<SpawnPath>,
) -> Result<Response, PageError> {
    let user = target_user(&state, &me, path.user.as_deref()).await?;
    let server = path.server.unwrap_or_default();
    let Some(fields) = state.servers.options_form(&user.name) else {
        return start_and_follow(&state, &user, &server, None).await;
    };
    let page = state.templates.render(
        "spawn.html",
        context! {
            user => user_context(&me),
            xsrf => me.xsrf,
            action => spawn_url(&state, &user.name, &server),
            options_form => fields,
        },
    )?;
    Ok(page.into_response())
}

/// `POST /hub/spawn[/{user}[/{server}]]`: start with the submitted options.
pub async fn spawn_submit(
    State(state): State<AppState>,
    PageUser(me): PageUser,
    Path(path): Path<SpawnPath>,
    body: Bytes,
) -> Result<Response, PageError> {
    let mut fields: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (k, v) in url::form_urlencoded::parse(&body) {
        fields
            .entry(k.into_owned())
            .or_default()
            .push(v.into_owned());
    }
    let xsrf = fields
        .remove("_xsrf")
        .and_then(|v| v.into_iter().next())
        .unwrap_or_default();
    check_xsrf(&me, &[("_xsrf".to_owned(), xsrf)].into())?;
    let user = target_user(&state, &me, path.user.as_deref()).await?;
    let server = path.server.unwrap_or_default();
    let options = state.servers.options_from_form(&fields);
    start_and_follow(&state, &user, &server, Some(options)).await
}

/// `GET /hub/spawn-pending/{user}[/{server}]`: live progress; a ready server is opened, a
/// stopped one explained.
pub async fn spawn_pending(
    State(state): State<AppState>,
    PageUser(me): PageUser,
    Path(path): Path<SpawnPath>,
) -> Result<Response, PageError> {
    let user = target_user(&state, &me, path.user.as_deref()).await?;
    let server = path.server.unwrap_or_default();
    let running = user
        .servers
        .iter()
        .any(|s| s.name == server && s.url.is_some());
    match state.servers.pending(&user.name, &server) {
        Some(PendingKind::Spawn) => {}
        Some(PendingKind::Stop) => {
            return Err(PageError::new(
                StatusCode::CONFLICT,
                "This server is stopping; try again in a moment.",
            ))
        }
        None if running => {
            return Ok(Redirect::to(&state.urls.server(&user.name, &server)).into_response())
        }
        None => return not_running(&state, &me, &user, &server, StatusCode::OK),
    }
    let page = state.templates.render(
        "spawn_pending.html",
        context! {
            user => user_context(&me),
            progress_url => state.urls.progress(&user.name, &server),
            server_url => state.urls.server(&user.name, &server),
        },
    )?;
    Ok(page.into_response())
}

/// The "server not running" page, with why the last start failed if it did.
fn not_running(
    state: &AppState,
    me: &LoggedIn,
    user: &User,
    server: &str,
    status: StatusCode,
) -> Result<Response, PageError> {
    let failure = state
        .servers
        .progress(&user.name, server)
        .and_then(|p| p.last())
        .filter(|e| e.failed)
        .map(|e| e.message);
    let page = state.templates.render(
        "not_running.html",
        context! {
            user => user_context(me),
            server_name => server,
            failure,
            spawn_url => spawn_url(state, &user.name, server),
        },
    )?;
    Ok((status, page).into_response())
}

#[derive(Deserialize, Default)]
pub struct UserUrlQuery {
    redirects: Option<u32>,
}

/// `/user/{name}/...` reaching the hub: the proxy has no route there, so the server is not
/// running (or just started). The owner is offered to start it (JupyterHub answers 424);
/// a server that just became ready gets one more try; others get a 404.
pub async fn user_url(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Path(params): Path<Vec<(String, String)>>,
    Query(q): Query<UserUrlQuery>,
) -> Result<Response, PageError> {
    let name = params
        .iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let rest = params
        .iter()
        .find(|(k, _)| k == "rest")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let is_api = rest.starts_with("api/") || rest.contains("/api/");
    let Some(me) = session::current(&state, &headers).await? else {
        if is_api {
            return Err(PageError::new(StatusCode::FORBIDDEN, "Not logged in."));
        }
        let next = uri.path_and_query().map_or("", |p| p.as_str());
        return Ok(super::login_redirect(&state, next));
    };
    if me.user.name != name {
        return Err(PageError::new(
            StatusCode::NOT_FOUND,
            format!("There is no server of yours at {}.", uri.path()),
        ));
    }
    let first = rest.split('/').next().unwrap_or("");
    let server = if !first.is_empty() && me.user.servers.iter().any(|s| s.name == first) {
        first.to_owned()
    } else {
        String::new()
    };
    let running = me
        .user
        .servers
        .iter()
        .any(|s| s.name == server && s.url.is_some());
    match state.servers.pending(&name, &server) {
        Some(PendingKind::Spawn) => {
            Ok(Redirect::to(&pending_url(&state, &name, &server)).into_response())
        }
        None if running && q.redirects.unwrap_or(0) == 0 => {
            // The route may have been added a moment ago: try the server's own URL once more.
            let to = server_path(&state, &uri);
            let sep = if to.contains('?') { '&' } else { '?' };
            Ok(Redirect::to(&format!("{to}{sep}redirects=1")).into_response())
        }
        _ if is_api => Err(PageError::new(
            StatusCode::from_u16(424).expect("valid status"),
            format!("{name}'s server is not running"),
        )),
        _ => not_running(
            &state,
            &me,
            &me.user,
            &server,
            StatusCode::from_u16(424).expect("valid status"),
        ),
    }
}

/// `GET /user/{name}/...` reaching the hub: the same path and query under `/hub/user/`.
pub async fn into_hub(State(state): State<AppState>, OriginalUri(uri): OriginalUri) -> Response {
    let base = &state.config.hub.base_url;
    let path_and_query = uri.path_and_query().map_or("", |p| p.as_str());
    let tail = path_and_query
        .strip_prefix(base.as_str())
        .unwrap_or(path_and_query);
    Redirect::to(&format!("{base}hub/{tail}")).into_response()
}

/// `/hub/user/alice/tree?x=1` -> `/user/alice/tree?x=1`: the server's own address.
fn server_path(state: &AppState, uri: &axum::http::Uri) -> String {
    let hub = format!("{}hub/", state.config.hub.base_url);
    let path_and_query = uri.path_and_query().map_or("", |p| p.as_str());
    match path_and_query.strip_prefix(&hub) {
        Some(tail) => format!("{}{tail}", state.config.hub.base_url),
        None => path_and_query.to_owned(),
    }
}

/// `GET /hub/user-redirect/{path}`: the same path under the logged-in user's server.
pub async fn user_redirect(
    State(state): State<AppState>,
    PageUser(me): PageUser,
    OriginalUri(uri): OriginalUri,
    Path(path): Path<String>,
) -> Response {
    let mut to = format!("{}{path}", state.urls.server(&me.user.name, ""));
    if let Some(q) = uri.query() {
        to.push('?');
        to.push_str(q);
    }
    Redirect::to(&to).into_response()
}

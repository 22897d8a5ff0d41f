//! `/hub/api/users/{name}/server` and `/servers/{server_name}`: start, stop, read and create
//! a user's servers, and follow a spawn's progress. The work is done by [`crate::servers`].

use super::extract::Path;
use super::models::server_model;
use super::{bad_request, parse_optional_body, JsonBody};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::servers::{PendingKind, ServerKey, SpawnOutcome, StopOutcome};
use crate::store::{Server, User};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ferrohub_shared::scopes::Target;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// The user called `name` if the caller holds `scope` for its server `server`: 403 without
/// the scope at all, 404 for an unknown user or one outside the scope's reach.
async fn find_for_server(
    state: &AppState,
    caller: &Caller,
    name: &str,
    server: &str,
    scope: &str,
) -> Result<User, ApiError> {
    caller.require_any(scope)?;
    let user = state
        .store
        .get_user(name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No such user: {name}")))?;
    let target = Target::Server {
        user: &user.name,
        server,
        groups: &user.groups,
    };
    caller.require(scope, target)?;
    Ok(user)
}

fn record<'a>(user: &'a User, server: &str) -> Result<&'a Server, ApiError> {
    user.servers
        .iter()
        .find(|s| s.name == server)
        .ok_or_else(|| ApiError::not_found(format!("{} has no server named {server:?}", user.name)))
}

/// A start or create request's body.
#[derive(Debug, Default)]
struct ServerRequest {
    display_name: Option<String>,
    user_options: Option<Value>,
}

/// Read `{"display_name", "user_options"}`, or (as older clients send) the user options
/// themselves, as JupyterHub's `get_server_json_body`.
fn server_request(body: &JsonBody) -> Result<ServerRequest, ApiError> {
    let Some(body) = parse_optional_body::<Value>(body)? else {
        return Ok(ServerRequest::default());
    };
    let Value::Object(mut body) = body else {
        return Err(bad_request("Body must be a JSON object"));
    };
    let display_name = match body.remove("display_name") {
        None | Some(Value::Null) => None,
        Some(Value::String(d)) => Some(d),
        Some(_) => return Err(bad_request("display_name must be a string")),
    };
    if display_name.is_none() && !body.contains_key("user_options") {
        let options = (!body.is_empty()).then_some(Value::Object(body));
        return Ok(ServerRequest {
            display_name,
            user_options: options,
        });
    }
    let user_options = match body.remove("user_options") {
        None | Some(Value::Null) => None,
        Some(options @ Value::Object(_)) => Some(options),
        Some(_) => return Err(bad_request("user_options must be an object or null")),
    };
    Ok(ServerRequest {
        display_name,
        user_options,
    })
}

fn plain(status: StatusCode) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain")]).into_response()
}

async fn start_server(
    state: &AppState,
    caller: &Caller,
    name: &str,
    server: &str,
    body: &JsonBody,
) -> Result<Response, ApiError> {
    let user = find_for_server(state, caller, name, server, "start:servers").await?;
    let req = server_request(body)?;
    let user = match req.display_name.filter(|_| !server.is_empty()) {
        Some(display_name) => {
            // Keep the display name the client gave (JupyterHub updates it on start).
            state.servers.check_server_name(&user, server)?;
            let mut record = user
                .servers
                .iter()
                .find(|s| s.name == server)
                .cloned()
                .unwrap_or_else(|| {
                    Server::stopped(
                        server,
                        req.user_options.clone().unwrap_or_else(|| json!({})),
                    )
                });
            record.display_name = display_name;
            state.store.save_server(&user.name, &record).await?;
            state.store.get_user(&user.name).await?.unwrap_or(user)
        }
        None => user,
    };
    let options = req.user_options;
    Ok(
        match state
            .servers
            .spawn(&user, server, options, crate::servers::SLOW_TIMEOUT)
            .await?
        {
            SpawnOutcome::Ready => plain(StatusCode::CREATED),
            SpawnOutcome::Pending => plain(StatusCode::ACCEPTED),
        },
    )
}

/// `POST /users/{name}/server`
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    start_server(&state, &caller, &name, "", &body).await
}

/// `POST /users/{name}/servers/{server_name}`
pub async fn start_named(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, server)): Path<(String, String)>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    start_server(&state, &caller, &name, &server, &body).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StopBody {
    #[serde(default)]
    remove: bool,
}

async fn stop_server(
    state: &AppState,
    caller: &Caller,
    name: &str,
    server: &str,
    body: &JsonBody,
) -> Result<Response, ApiError> {
    let user = find_for_server(state, caller, name, server, "delete:servers").await?;
    let StopBody { remove } = parse_optional_body(body)?.unwrap_or_default();
    if server.is_empty() {
        if remove {
            return Err(bad_request("Cannot delete the default server"));
        }
    } else {
        if !state.config.hub.allow_named_servers {
            return Err(bad_request("Named servers are not enabled."));
        }
        record(&user, server)?;
    }
    if server.is_empty() && user.default_server().is_none() {
        // Never started: nothing to stop.
        return Ok(plain(StatusCode::NO_CONTENT));
    }
    Ok(
        match state.servers.stop(&user.name, server, remove).await? {
            StopOutcome::Stopped => plain(StatusCode::NO_CONTENT),
            StopOutcome::Pending => plain(StatusCode::ACCEPTED),
        },
    )
}

/// `DELETE /users/{name}/server`
pub async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    stop_server(&state, &caller, &name, "", &body).await
}

/// `DELETE /users/{name}/servers/{server_name}`
pub async fn stop_named(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, server)): Path<(String, String)>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    stop_server(&state, &caller, &name, &server, &body).await
}

fn model(state: &AppState, caller: &Caller, user: &User, server: &Server) -> Value {
    let target = Target::Server {
        user: &user.name,
        server: &server.name,
        groups: &user.groups,
    };
    let with_state = caller.scopes.allows("admin:server_state", target);
    let pending = state.servers.pending(&user.name, &server.name);
    server_model(&state.urls, &user.name, server, pending, with_state)
}

/// `GET /users/{name}/servers/{server_name}`
pub async fn get_named(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, server)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let user = find_for_server(&state, &caller, &name, &server, "read:servers").await?;
    let record = record(&user, &server)?;
    Ok(Json(model(&state, &caller, &user, record)))
}

/// `PUT /users/{name}/servers/{server_name}`: create a named server without starting it.
pub async fn create_named(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, server)): Path<(String, String)>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let user = find_for_server(&state, &caller, &name, &server, "start:servers").await?;
    if server.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("User {name} already has a default server"),
        ));
    }
    if user.servers.iter().any(|s| s.name == server) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("User {name} already has server {server}"),
        ));
    }
    state.servers.check_server_name(&user, &server)?;
    let req = server_request(&body)?;
    let options = req
        .user_options
        .unwrap_or_else(|| Value::Object(Map::new()));
    let created = Server {
        display_name: req.display_name.unwrap_or_default(),
        ..Server::stopped(&server, options)
    };
    state.store.save_server(&user.name, &created).await?;
    Ok((
        StatusCode::CREATED,
        Json(model(&state, &caller, &user, &created)),
    )
        .into_response())
}

/// `GET /users/{name}/server/progress`
pub async fn progress(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    progress_of(&state, &caller, &name, "").await
}

/// `GET /users/{name}/servers/{server_name}/progress`
pub async fn progress_named(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, server)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    progress_of(&state, &caller, &name, &server).await
}

/// The spawn's progress as server-sent events (`data: {...}`), as JupyterHub streams them:
/// a ready server gives one `ready` event, a spawn in progress every event until the last,
/// a failed one its failure; otherwise the server is not starting (400).
async fn progress_of(
    state: &AppState,
    caller: &Caller,
    name: &str,
    server: &str,
) -> Result<Response, ApiError> {
    let user = find_for_server(state, caller, name, server, "read:servers").await?;
    let pending = state.servers.pending(&user.name, server);
    // A spawn just requested may not have written its record yet.
    let running = match pending {
        Some(PendingKind::Spawn) => false,
        _ => record(&user, server)?.url.is_some(),
    };
    let key = ServerKey::new(&user.name, server);
    let progress = state.servers.progress(&user.name, server);
    let events: Vec<Value> = if running && pending.is_none() {
        let url = state.urls.server(&user.name, server);
        vec![json!(crate::servers::ProgressEvent::ready(&url))]
    } else if pending == Some(PendingKind::Spawn) {
        let reader = progress.expect("a pending spawn has progress").subscribe();
        let stream = futures_util::stream::unfold(reader, |mut reader| async move {
            let event = reader.next().await?;
            let data = serde_json::to_string(&event).expect("events serialise");
            Some((
                Ok::<_, std::convert::Infallible>(Event::default().data(data)),
                reader,
            ))
        });
        let sse = Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(8)));
        return Ok(([(header::CACHE_CONTROL, "no-cache")], sse).into_response());
    } else if let Some(failed) = progress.and_then(|p| p.last()).filter(|e| e.failed) {
        vec![json!(failed)]
    } else {
        return Err(bad_request(format!("{key} is not starting...")));
    };
    let body: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchServer {
    name: Option<String>,
    display_name: Option<String>,
    user_options: Option<Map<String, Value>>,
}

/// `PATCH /users/{name}/servers/{server_name}`: rename a stopped server, or change its
/// display name or saved options.
pub async fn update_named(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, server)): Path<(String, String)>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let user = find_for_server(&state, &caller, &name, &server, "start:servers").await?;
    let req: PatchServer = super::parse_body(&body)?;
    if req.name.is_none() && req.display_name.is_none() && req.user_options.is_none() {
        return Err(bad_request("Must specify at least one field to modify."));
    }
    let mut current = record(&user, &server)?.clone();
    if current.url.is_some() || state.servers.pending(&user.name, &server).is_some() {
        return Err(bad_request(format!(
            "{}'s server {server:?} is active. Please stop it before modifying it.",
            user.name
        )));
    }
    if let Some(new_name) = req.name.as_ref().filter(|n| **n != server) {
        state.servers.check_named_server(&user, new_name, false)?;
        if user.servers.iter().any(|s| &s.name == new_name) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("User {name} already has server {new_name:?}"),
            ));
        }
        state
            .store
            .rename_server(&user.name, &server, new_name)
            .await?;
        tracing::info!(by = %caller.name(), "renamed server {name}/{server} to {new_name}");
        current.name = new_name.clone();
    }
    if let Some(options) = req.user_options {
        current.user_options = Value::Object(options);
    }
    if let Some(display_name) = req.display_name {
        current.display_name = display_name;
    }
    state.store.save_server(&user.name, &current).await?;
    Ok(Json(model(&state, &caller, &user, &current)))
}

//! simphony-remote's user web API under the server's prefix, same shapes and status codes:
//! `api/v1/applications/` and `api/v1/containers/`. Collections answer
//! `{"offset", "total", "items": {id: item}, "identifiers": [id]}`; a create is 201 with the
//! new item's URL in `Location`; errors are JSON with a `message` (and JupyterHub's
//! `status`, and simphony-remote's `type`). Only the server's owner uses them.

use crate::apps::launch::Configurables;
use crate::apps::{AppError, Apps};
use crate::visitor::Visitor;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// An error in the API's form.
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            message: message.into(),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        match e {
            AppError::BadRequest(m) => {
                ApiError::new(StatusCode::BAD_REQUEST, "BadRepresentation", m)
            }
            AppError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "NotFound", m),
            AppError::Busy(m) => ApiError::new(StatusCode::CONFLICT, "Exists", m),
            AppError::Unable(m) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Unable", m),
            AppError::Unreachable(m) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "Unable", m),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            json!({"status": self.status.as_u16(), "type": self.kind, "message": self.message});
        (self.status, Json(body)).into_response()
    }
}

/// The server's own user may use its apps; visitors a share let in may not start or stop
/// them.
fn owner_only(state: &AppState, who: &Visitor) -> Result<(), ApiError> {
    if who.0.name == state.config.user {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("only {} starts and stops apps here", state.config.user),
        ))
    }
}

/// simphony-remote's collection envelope.
fn items<T: Serialize>(entries: Vec<(String, T)>) -> Json<Value> {
    let identifiers: Vec<&String> = entries.iter().map(|(id, _)| id).collect();
    let identifiers = json!(identifiers);
    let mut map = Map::new();
    for (id, item) in &entries {
        map.insert(id.clone(), json!(item));
    }
    Json(json!({"offset": 0, "total": entries.len(), "items": map, "identifiers": identifiers}))
}

fn apps(state: &AppState) -> &Apps {
    &state.apps
}

/// `GET api/v1/applications/`: one item per grant whose image is on the engine.
pub async fn list_applications(
    State(state): State<AppState>,
    who: Visitor,
) -> Result<Json<Value>, ApiError> {
    owner_only(&state, &who)?;
    let catalog = apps(&state).catalog().await?;
    Ok(items(
        catalog
            .into_iter()
            .map(|l| (l.mapping_id.clone(), l))
            .collect(),
    ))
}

/// `GET api/v1/applications/{mapping_id}/`
pub async fn get_application(
    State(state): State<AppState>,
    who: Visitor,
    Path(mapping_id): Path<String>,
) -> Result<Response, ApiError> {
    owner_only(&state, &who)?;
    let catalog = apps(&state).catalog().await?;
    catalog
        .into_iter()
        .find(|l| l.mapping_id == mapping_id)
        .map(|l| Json(l).into_response())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("no application {mapping_id}"),
            )
        })
}

/// A container as `api/v1/containers/` shows it (simphony-remote's fields, and where to
/// open it).
#[derive(Serialize)]
pub struct ContainerItem {
    mapping_id: String,
    name: String,
    image_name: String,
    url: String,
    started: chrono::DateTime<chrono::Utc>,
}

impl From<crate::apps::ContainerView> for ContainerItem {
    fn from(c: crate::apps::ContainerView) -> ContainerItem {
        ContainerItem {
            mapping_id: c.mapping_id,
            name: c.name,
            image_name: c.image_name,
            url: c.url,
            started: c.started,
        }
    }
}

/// `GET api/v1/containers/`
pub async fn list_containers(
    State(state): State<AppState>,
    who: Visitor,
) -> Result<Json<Value>, ApiError> {
    owner_only(&state, &who)?;
    let containers = apps(&state).containers();
    Ok(items(
        containers
            .into_iter()
            .map(|c| (c.url_id.clone(), ContainerItem::from(c)))
            .collect(),
    ))
}

#[derive(Deserialize)]
struct StartRequest {
    mapping_id: Option<String>,
    #[serde(default)]
    configurables: Option<Value>,
}

/// `POST api/v1/containers/` with `{"mapping_id", "configurables"}`: 201 once the app
/// answers, with `Location: .../containers/{url_id}/`.
pub async fn start_container(
    State(state): State<AppState>,
    who: Visitor,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    owner_only(&state, &who)?;
    // A cross-site form cannot send JSON without the browser asking first, so requiring it
    // keeps a forged form from starting apps with the owner's cookie.
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_body {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "BadRepresentation",
            "send the request as JSON (Content-Type: application/json)",
        ));
    }
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "BadRepresentation", m);
    let req: StartRequest = serde_json::from_slice(&body)
        .map_err(|e| bad(format!("the body is not a start request: {e}")))?;
    let Some(mapping_id) = req.mapping_id else {
        return Err(bad("Missing mandatory elements: {'mapping_id'}".into()));
    };
    let configurables: Configurables = match req.configurables {
        None | Some(Value::Null) => Configurables::default(),
        Some(v) => {
            serde_json::from_value(v).map_err(|e| bad(format!("invalid configurables: {e}")))?
        }
    };
    let started = apps(&state).start(&mapping_id, &configurables).await?;
    let location = format!(
        "{}api/v1/containers/{}/",
        state.config.prefix, started.url_id
    );
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

/// `GET api/v1/containers/{url_id}/`
pub async fn get_container(
    State(state): State<AppState>,
    who: Visitor,
    Path(url_id): Path<String>,
) -> Result<Json<ContainerItem>, ApiError> {
    owner_only(&state, &who)?;
    apps(&state)
        .container(&url_id)
        .map(|c| Json(ContainerItem::from(c)))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("no container {url_id}"),
            )
        })
}

/// `DELETE api/v1/containers/{url_id}/`: route and container go; 204.
pub async fn stop_container(
    State(state): State<AppState>,
    who: Visitor,
    Path(url_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    owner_only(&state, &who)?;
    apps(&state).stop(&url_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! The REST API, exactly configurable-http-proxy's: `GET /api/routes[?inactive_since=]`,
//! `GET|POST|DELETE /api/routes/{path}`, `Authorization: token ...`.

use crate::persist::PersistError;
use crate::routes::activity::parse_iso;
use crate::routes::path::percent_decode;
use crate::routes::Target;
use crate::state::AppState;
use crate::tcp_bridge;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use ferrohub_shared::api_error::ApiErrorBody;
use ferrohub_shared::routes::RouteSpec;
use serde_json::{Map, Value};

/// Every API path. Paths under `/api/routes` are route specs, so one set of handlers serves
/// the collection and its members and reads the spec from the URI itself.
pub fn router(state: AppState) -> Router {
    let routes = get(read)
        .post(create)
        .delete(delete)
        .fallback(method_not_allowed);
    Router::new()
        .route("/api/routes", routes.clone())
        .route("/api/routes/", routes.clone())
        .route("/api/routes/{*spec}", routes)
        .fallback(not_found)
        .with_state(state)
}

/// The only API error type; its `IntoResponse` is the only place statuses are chosen.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Forbidden")]
    Forbidden,
    #[error("Not Found")]
    NotFound,
    #[error("Method not supported")]
    MethodNotAllowed,
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Persist(#[from] PersistError),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            ApiError::Forbidden => (StatusCode::FORBIDDEN, self.to_string()),
            ApiError::NotFound => (StatusCode::NOT_FOUND, self.to_string()),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, self.to_string()),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            ApiError::Persist(e) => {
                tracing::error!("{e}");
                let m = "the route table changed but could not be saved; see the proxy's log";
                (StatusCode::INTERNAL_SERVER_ERROR, m.to_owned())
            }
        };
        let body = ApiErrorBody {
            status: status.as_u16(),
            message,
        };
        (status, Json(body)).into_response()
    }
}

/// The caller presented the admin token (or the proxy runs without one, as CHP allows).
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(expected) = &state.config.auth_token else {
            return Ok(Admin);
        };
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(token_from_header);
        match presented {
            Some(t) if constant_time_eq(t.as_bytes(), expected.expose().as_bytes()) => Ok(Admin),
            _ => {
                tracing::debug!("rejecting an API request without the token");
                Err(ApiError::Forbidden)
            }
        }
    }
}

/// CHP's reading of `Authorization`: the first `token<whitespace><word>` anywhere in it.
fn token_from_header(value: &str) -> Option<&str> {
    value.match_indices("token").find_map(|(i, _)| {
        let rest = &value[i + "token".len()..];
        let trimmed = rest.trim_start();
        if trimmed.len() == rest.len() {
            return None;
        }
        trimmed.split_whitespace().next()
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The route path a request names: what follows `/api/routes`, decoded as CHP decodes it
/// (`decodeURIComponent`), `/` when nothing follows.
fn route_path(uri: &Uri) -> Result<String, ApiError> {
    let rest = uri.path().strip_prefix("/api/routes").unwrap_or("");
    let decoded = percent_decode(rest).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(if decoded.is_empty() {
        "/".into()
    } else {
        decoded
    })
}

/// `GET /api/routes` (the table, optionally only routes inactive since a time) or
/// `GET /api/routes/{path}` (one route's data, 404 if there is none).
async fn read(_: Admin, State(state): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    let path = route_path(&uri)?;
    if path != "/" {
        let spec = RouteSpec::parse(&path).map_err(|_| ApiError::NotFound)?;
        let route = state.routes.get(&spec).ok_or(ApiError::NotFound)?;
        return Ok(Json(route.to_json()).into_response());
    }
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    // CHP reads the camel-case spelling first and falls back to the older snake case.
    let since = param("inactiveSince")
        .or_else(|| param("inactive_since"))
        .filter(|s| !s.is_empty());
    let table = match since {
        None => state.routes.snapshot(),
        Some(s) => {
            let t = parse_iso(&s).ok_or_else(|| {
                ApiError::BadRequest(format!("Invalid datestamp '{s}' must be ISO8601."))
            })?;
            state.routes.inactive_since(t.timestamp_millis())
        }
    };
    Ok(Json(table).into_response())
}

/// `POST /api/routes/{path}` with `{"target": URL, ...data}`: add or replace; 201.
async fn create(
    _: Admin,
    State(state): State<AppState>,
    uri: Uri,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let spec =
        RouteSpec::parse(&route_path(&uri)?).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("Body not valid JSON: {e}")))?;
    let mut data = match value {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let target = match data.get("target") {
        Some(Value::String(t)) => {
            Target::parse(t).map_err(|e| ApiError::BadRequest(e.to_string()))?
        }
        _ => {
            return Err(ApiError::BadRequest(
                "Must specify 'target' as string".into(),
            ))
        }
    };
    match tcp_bridge::requested(&data) {
        Err(m) => return Err(ApiError::BadRequest(m)),
        Ok(true) if target.is_https() => {
            return Err(ApiError::BadRequest(format!(
                "a '{}' route needs an http:// or ws:// target naming the TCP host and port",
                tcp_bridge::DATA_KEY
            )))
        }
        Ok(_) => {}
    }
    // CHP stamps `last_activity` itself when a route is added, whatever the body said.
    data.remove("last_activity");
    if state.config.host_routing {
        if let Some(host) = spec.segments().next() {
            data.insert("host".into(), Value::String(host.to_owned()));
        }
    }
    tracing::info!(route = %spec, target = ?data.get("target"), "adding route");
    state.routes.add(spec, target, data).await?;
    Ok(StatusCode::CREATED)
}

/// `DELETE /api/routes/{path}`: 204, or 404 when there is no such route.
async fn delete(_: Admin, State(state): State<AppState>, uri: Uri) -> Result<StatusCode, ApiError> {
    let spec = RouteSpec::parse(&route_path(&uri)?).map_err(|_| ApiError::NotFound)?;
    if state.routes.remove(&spec).await? {
        tracing::info!(route = %spec, "removed route");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// The metrics port: `GET /metrics` only.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(s): State<AppState>| async move {
                let body = s.metrics.render(s.routes.len());
                ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
            }),
        )
        .fallback(not_found)
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_read_as_chp_reads_it() {
        assert_eq!(token_from_header("token abc"), Some("abc"));
        assert_eq!(token_from_header("token   abc  def"), Some("abc"));
        assert_eq!(token_from_header("Bearer tokenx token abc"), Some("abc"));
        assert_eq!(token_from_header("tokenabc"), None);
        assert_eq!(token_from_header("token "), None);
        assert_eq!(token_from_header("Bearer abc"), None);
    }

    #[test]
    fn route_paths_are_decoded() {
        let p = |s: &str| route_path(&s.parse().unwrap()).unwrap();
        assert_eq!(p("/api/routes"), "/");
        assert_eq!(p("/api/routes/"), "/");
        assert_eq!(p("/api/routes/user/a%40b/"), "/user/a@b/");
        assert!(route_path(&"/api/routes/%zz".parse().unwrap()).is_err());
    }
}

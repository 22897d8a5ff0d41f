//! The REST API, exactly configurable-http-proxy's: `GET /api/routes[?inactive_since=]`,
//! `GET|POST|DELETE /api/routes/{path}`, `Authorization: token ...`.
//!
//! Two ferrohub additions, which a real configurable-http-proxy answers with 404:
//! - scoped route credentials ([`ferrohub_shared::route_credential`]) in place of the admin
//!   token: the route endpoints limited to routes under the credential's prefix (403 JSON
//!   outside it; the table lists only routes under it). Needs the proxy key.
//! - `POST /api/revoked-sessions` with `{"session_id": id, "expires": unix seconds}` (admin
//!   token only): the hub ending a proxy session at logout; 204.

use crate::access;
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
use ferrohub_shared::route_credential;
use ferrohub_shared::routes::RouteSpec;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

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
        .route(
            "/api/revoked-sessions",
            axum::routing::post(revoke_session).fallback(method_not_allowed),
        )
        .fallback(not_found)
        .with_state(state)
}

/// The only API error type; its `IntoResponse` is the only place statuses are chosen.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Forbidden")]
    Forbidden,
    #[error("this credential only allows routes under {0}")]
    OutsidePrefix(String),
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
            ApiError::Forbidden | ApiError::OutsidePrefix(_) => {
                (StatusCode::FORBIDDEN, self.to_string())
            }
            ApiError::NotFound => (StatusCode::NOT_FOUND, self.to_string()),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, self.to_string()),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            ApiError::Persist(e) => {
                tracing::error!("{e}");
                let m = "the change was made but could not be saved to disk; see the proxy's log";
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

/// Who is calling: the admin token (or anyone, when the proxy runs without one, as CHP
/// allows), or a scoped route credential good for routes under one prefix.
pub enum Caller {
    Admin,
    Scoped(RouteSpec),
}

impl Caller {
    /// Whether the caller may read or change the route `spec`.
    fn may(&self, spec: &RouteSpec) -> Result<(), ApiError> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Scoped(prefix) if route_credential::covers(prefix, spec) => Ok(()),
            Caller::Scoped(prefix) => {
                tracing::debug!(route = %spec, %prefix, "refusing a route outside the credential's prefix");
                Err(ApiError::OutsidePrefix(prefix.with_trailing_slash()))
            }
        }
    }

    fn admin_only(&self) -> Result<(), ApiError> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Scoped(_) => Err(ApiError::Forbidden),
        }
    }

    /// The routes of `table` the caller may see.
    fn visible(&self, mut table: BTreeMap<String, Value>) -> BTreeMap<String, Value> {
        if let Caller::Scoped(prefix) = self {
            table.retain(|spec, _| {
                RouteSpec::parse(spec).is_ok_and(|s| route_credential::covers(prefix, &s))
            });
        }
        table
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(expected) = &state.config.auth_token else {
            return Ok(Caller::Admin);
        };
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(token_from_header);
        let Some(presented) = presented else {
            tracing::debug!("rejecting an API request without a token");
            return Err(ApiError::Forbidden);
        };
        if constant_time_eq(presented.as_bytes(), expected.expose().as_bytes()) {
            return Ok(Caller::Admin);
        }
        let scoped = state
            .config
            .proxy_key
            .as_ref()
            .and_then(|key| route_credential::verify(key, presented));
        match scoped {
            Some(prefix) => Ok(Caller::Scoped(prefix)),
            None => {
                tracing::debug!("rejecting an API request with a wrong token");
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
        decoded.into_owned()
    })
}

/// `GET /api/routes` (the table, optionally only routes inactive since a time) or
/// `GET /api/routes/{path}` (one route's data, 404 if there is none).
async fn read(
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let path = route_path(&uri)?;
    if path != "/" {
        let spec = RouteSpec::parse(&path).map_err(|_| ApiError::NotFound)?;
        caller.may(&spec)?;
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
    Ok(Json(caller.visible(table)).into_response())
}

/// `POST /api/routes/{path}` with `{"target": URL, ...data}`: add or replace; 201.
async fn create(
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let spec =
        RouteSpec::parse(&route_path(&uri)?).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    caller.may(&spec)?;
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
                ferrohub_shared::route_data::BRIDGE
            )))
        }
        Ok(_) => {}
    }
    access::Rule::from_data(&data).map_err(ApiError::BadRequest)?;
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
async fn delete(
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
) -> Result<StatusCode, ApiError> {
    let spec = RouteSpec::parse(&route_path(&uri)?).map_err(|_| ApiError::NotFound)?;
    caller.may(&spec)?;
    if state.routes.remove(&spec).await? {
        tracing::info!(route = %spec, "removed route");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Revocation {
    session_id: String,
    /// Unix seconds; the id is refused until then.
    expires: i64,
}

/// `POST /api/revoked-sessions`: refuse a proxy session from now until it expires; 204.
async fn revoke_session(
    caller: Caller,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    caller.admin_only()?;
    let r: Revocation = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(format!(
            "expected {{\"session_id\": string, \"expires\": unix seconds}}: {e}"
        ))
    })?;
    if r.session_id.is_empty() {
        return Err(ApiError::BadRequest("empty session_id".into()));
    }
    tracing::info!(session = %r.session_id, "session revoked");
    let now = chrono::Utc::now().timestamp();
    state.revoked.add(r.session_id, r.expires, now).await?;
    Ok(StatusCode::NO_CONTENT)
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

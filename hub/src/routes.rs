//! Every path the hub serves, in one table, under `base_url`.

use crate::error::ApiError;
use crate::{api, pages, AppState};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

/// The JupyterHub version whose REST API ferrohub serves, sent as `X-JupyterHub-Version`
/// and in `GET /hub/api` so JupyterHub's clients accept the hub.
pub const JUPYTERHUB_API_VERSION: &str = "6.1.0";

pub fn app(state: AppState) -> Router {
    let base = state.config.hub.base_url.clone();
    let hub = Router::new()
        .route("/health", get(pages::health))
        .route("/error/{code}", get(pages::proxy_error))
        .route("/api", get(api::info::root))
        .route("/api/", get(api::info::root))
        .route("/api/{*rest}", get(api_not_found).fallback(api_not_found))
        .with_state(state);
    Router::new()
        .nest(&format!("{base}hub"), hub)
        .layer(axum::middleware::map_response(version_header))
}

async fn api_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such API endpoint")
}

async fn version_header(mut response: Response) -> Response {
    response.headers_mut().insert(
        "x-jupyterhub-version",
        HeaderValue::from_static(JUPYTERHUB_API_VERSION),
    );
    response
}

//! `/hub/api/proxy`: the proxy's routing table, a check on demand, and pointing the hub at a
//! new proxy.

use super::extract::Query;
use super::pagination::Paging;
use super::{bad_request, parse_body, JsonBody};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::proxy::{revocations, Proxy};
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ferrohub_shared::proxy_client::ProxyError;
use ferrohub_shared::secret::Secret;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::Arc;

fn proxy_of(state: &AppState) -> Result<Arc<Proxy>, ApiError> {
    state.proxy.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "This hub runs without a proxy",
        )
    })
}

fn unreachable_proxy(e: ProxyError) -> ApiError {
    tracing::error!("proxy request failed: {e}");
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        format!("The proxy did not answer as expected: {e}"),
    )
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    offset: Option<String>,
    limit: Option<String>,
}

/// `GET /proxy`: the routes the hub added, keyed by route spec.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    caller.require_any("proxy")?;
    let hub = &state.config.hub;
    let paging = Paging::new(q.offset.as_deref(), q.limit.as_deref(), &headers, hub)?;
    let routes = proxy_of(&state)?
        .get_all_routes()
        .await
        .map_err(unreachable_proxy)?;
    let (page, total) = paging.slice(routes);
    if !paging.envelope {
        return Ok(Json(page.into_iter().collect::<Map<String, Value>>()).into_response());
    }
    let items: Vec<Value> = page.into_iter().map(|(_, route)| route).collect();
    let base = format!(
        "{}{}hub/api/proxy",
        super::pagination::request_origin(&headers),
        hub.base_url
    );
    Ok(paging.respond(items, total, |o, l| format!("{base}?offset={o}&limit={l}")))
}

/// `POST /proxy`: check the proxy now instead of at the next interval, and deliver the
/// queued session revocations to it (as each periodic check does).
pub async fn check(State(state): State<AppState>, caller: Caller) -> Result<StatusCode, ApiError> {
    caller.require_any("proxy")?;
    let proxy = proxy_of(&state)?;
    proxy.check().await.map_err(|e| {
        tracing::error!("proxy check failed: {e}");
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!("The proxy check failed: {e}"),
        )
    })?;
    revocations::deliver_now(state.store.as_ref(), &proxy).await;
    Ok(StatusCode::OK)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewProxy {
    api_url: Option<String>,
    auth_token: Option<String>,
}

/// `PATCH /proxy`: a new proxy is in charge; use its API from now on, check it and give it
/// the queued session revocations.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> Result<StatusCode, ApiError> {
    caller.require_any("proxy")?;
    let req: NewProxy = parse_body(&body)?;
    if let Some(url) = &req.api_url {
        let parsed =
            url::Url::parse(url).map_err(|e| bad_request(format!("api_url is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad_request("api_url must be an http(s) URL"));
        }
    }
    let proxy = proxy_of(&state)?;
    proxy.replace_client(req.api_url.as_deref(), req.auth_token.map(Secret::new));
    proxy.check().await.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!("The new proxy did not answer: {e}"),
        )
    })?;
    revocations::deliver_now(state.store.as_ref(), &proxy).await;
    Ok(StatusCode::OK)
}

//! `offset` / `limit` paging as JupyterHub does it, and the envelope sent when the client
//! asks for `Accept: application/jupyterhub-pagination+json`.

use crate::config::JupyterHubConfig;
use crate::error::ApiError;
use crate::store::Page;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

pub const PAGINATION_MEDIA_TYPE: &str = "application/jupyterhub-pagination+json";

/// `http://host:port` as the client addressed the hub, for absolute links: clients such as
/// the idle culler fetch `next.url` as it is, so it must be a full URL. The proxy's
/// `X-Forwarded-Proto` says whether the client used https.
pub fn request_origin(headers: &HeaderMap) -> String {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let proto = header("x-forwarded-proto")
        .and_then(|p| p.split(',').next())
        .map(str::trim)
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or("http");
    let host = header("host").unwrap_or("localhost");
    format!("{proto}://{host}")
}

/// The page a request asks for, bounded by the configured limits.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub page: Page,
    /// Whether to answer with the pagination envelope.
    pub envelope: bool,
}

impl Paging {
    /// Read `offset` and `limit` from the query and the `Accept` header. A limit above
    /// `api_page_max_limit` is lowered to it, as JupyterHub does.
    pub fn new(
        offset: Option<&str>,
        limit: Option<&str>,
        headers: &HeaderMap,
        hub: &JupyterHubConfig,
    ) -> Result<Paging, ApiError> {
        let (default_limit, max_limit) = (hub.api_page_default_limit, hub.api_page_max_limit);
        let number = |name: &str, raw: Option<&str>| -> Result<Option<u64>, ApiError> {
            raw.filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<u64>().map_err(|_| {
                        ApiError::new(
                            StatusCode::BAD_REQUEST,
                            format!("{name} must be a non-negative integer, not {s:?}"),
                        )
                    })
                })
                .transpose()
        };
        let offset = number("offset", offset)?.unwrap_or(0);
        let limit = number("limit", limit)?
            .unwrap_or(u64::from(default_limit))
            .min(u64::from(max_limit));
        let envelope = headers
            .get_all(axum::http::header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains(PAGINATION_MEDIA_TYPE));
        Ok(Paging {
            page: Page { offset, limit },
            envelope,
        })
    }

    /// This page of `items` (already filtered and sorted), with the total before paging.
    pub fn slice<T>(&self, items: impl IntoIterator<Item = T>) -> (Vec<T>, u64) {
        let all: Vec<T> = items.into_iter().collect();
        let total = all.len() as u64;
        let page = all
            .into_iter()
            .skip(usize::try_from(self.page.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(self.page.limit).unwrap_or(usize::MAX))
            .collect();
        (page, total)
    }

    /// The response: the bare list, or the envelope with a link to the next page.
    /// `next_url` builds the URL of a page from its offset and limit. Items are serialised
    /// straight into the body (no intermediate JSON values), which matters for big pages.
    pub fn respond<T: Serialize>(
        &self,
        items: Vec<T>,
        total: u64,
        next_url: impl Fn(u64, u64) -> String,
    ) -> Response {
        if !self.envelope {
            return Json(items).into_response();
        }
        let Page { offset, limit } = self.page;
        let next_offset = offset + items.len() as u64;
        let next = (next_offset < total && !items.is_empty()).then(|| {
            json!({ "offset": next_offset, "limit": limit, "url": next_url(next_offset, limit) })
        });
        Json(Envelope {
            items,
            pagination: json!({ "offset": offset, "limit": limit, "total": total, "next": next }),
        })
        .into_response()
    }
}

#[derive(Serialize)]
struct Envelope<T> {
    items: Vec<T>,
    #[serde(rename = "_pagination")]
    pagination: Value,
}

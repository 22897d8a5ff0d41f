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
    /// Read `offset` and `limit` from the query and the `Accept` header, as JupyterHub's
    /// `get_api_pagination`: a client that does not ask for the envelope gets up to
    /// `api_page_max_limit` items by default (it was written before pagination and would
    /// otherwise miss items), one that does gets `api_page_default_limit`; a limit is lowered
    /// to the maximum and raised to 1; signs are dropped; anything but an integer is a 400.
    pub fn new(
        offset: Option<&str>,
        limit: Option<&str>,
        headers: &HeaderMap,
        hub: &JupyterHubConfig,
    ) -> Result<Paging, ApiError> {
        let envelope = headers
            .get_all(axum::http::header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains(PAGINATION_MEDIA_TYPE));
        let max_limit = u64::from(hub.api_page_max_limit);
        let default_limit = if envelope {
            u64::from(hub.api_page_default_limit)
        } else {
            max_limit
        };
        let number = |raw: Option<&str>| -> Result<Option<u64>, ApiError> {
            raw.map(|s| {
                s.trim().parse::<i64>().map(i64::unsigned_abs).map_err(|_| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        format!(
                            "Invalid argument type, offset and limit must be integers, not {s:?}"
                        ),
                    )
                })
            })
            .transpose()
        };
        let offset = number(offset)?.unwrap_or(0);
        let limit = number(limit)?
            .unwrap_or(default_limit)
            .clamp(1, max_limit.max(1));
        Ok(Paging {
            page: Page { offset, limit },
            envelope,
        })
    }

    /// The same page, always answered in the envelope: JupyterHub's share listings have no
    /// bare-list form.
    pub fn enveloped(self) -> Paging {
        Paging {
            envelope: true,
            ..self
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(offset: Option<&str>, limit: Option<&str>, envelope: bool) -> Result<Page, u16> {
        let mut headers = HeaderMap::new();
        if envelope {
            headers.insert(
                axum::http::header::ACCEPT,
                PAGINATION_MEDIA_TYPE.parse().unwrap(),
            );
        }
        Paging::new(offset, limit, &headers, &JupyterHubConfig::default())
            .map(|p| p.page)
            .map_err(|e| e.status.as_u16())
    }

    #[test]
    fn a_client_without_the_envelope_gets_the_maximum_page_by_default() {
        assert_eq!(paging(None, None, false).unwrap().limit, 200);
        assert_eq!(paging(None, None, true).unwrap().limit, 50);
        assert_eq!(paging(None, Some("20"), false).unwrap().limit, 20);
    }

    #[test]
    fn limits_are_bounded_and_signs_dropped_as_in_jupyterhub() {
        assert_eq!(paging(None, Some("1000"), true).unwrap().limit, 200);
        assert_eq!(paging(None, Some("0"), true).unwrap().limit, 1);
        assert_eq!(paging(None, Some("-5"), true).unwrap().limit, 5);
        assert_eq!(paging(Some("-7"), None, true).unwrap().offset, 7);
    }

    #[test]
    fn anything_but_an_integer_is_a_client_error() {
        for bad in ["abc", "1.5", ""] {
            assert_eq!(paging(None, Some(bad), true), Err(400), "limit={bad:?}");
            assert_eq!(paging(Some(bad), None, false), Err(400), "offset={bad:?}");
        }
    }
}

//! Error pages for requests the proxy cannot forward (404 no route, 503 target down, ...):
//! from `--error-target`, from `--error-path`, or a small built-in page.

use crate::outgoing::Outgoing;
use crate::state::{AppState, Body, BoxError};
use crate::upstream::{Answer, Key, Upstream};
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::uri::Scheme;
use http::{Response, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Full};
use std::time::Duration;

/// Whether the failed request was a plain one or a websocket handshake. A handshake gets a
/// bare status: no browser shows a page for a failed websocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Web,
    Ws,
}

/// How long the error target may take; past it the built-in page is used.
const ERROR_TARGET_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn respond(
    state: &AppState,
    client: &Upstream,
    code: StatusCode,
    kind: Kind,
    request_url: &str,
) -> Response<Body> {
    if kind == Kind::Ws {
        return status_only(code);
    }
    if let Some(base) = &state.config.error_target {
        match from_error_target(client, base, code, request_url).await {
            Ok(r) => return r,
            Err(e) => {
                let cause = crate::forward::error_chain(e.as_ref());
                tracing::error!("failed to get the custom error page: {cause}");
            }
        }
    } else if let Some(dir) = &state.config.error_path {
        for name in [format!("{}.html", code.as_u16()), "error.html".to_owned()] {
            if let Ok(page) = tokio::fs::read(dir.join(&name)).await {
                return html(code, Bytes::from(page));
            }
        }
        tracing::error!(dir = %dir.display(), "no {}.html or error.html in the error path", code.as_u16());
    }
    html(code, Bytes::from(builtin_page(code)))
}

/// CHP's error target URL: `{error_target}/{code}?url={request url}` (other query parameters
/// of the error target kept), e.g. `http://hub:8081/hub/error/404?url=%2Fuser%2Ffoo`.
pub fn error_target_url(base: &url::Url, code: StatusCode, request_url: &str) -> url::Url {
    let mut u = base.clone();
    let path = format!("{}/{}", u.path().trim_end_matches('/'), code.as_u16());
    u.set_path(&path);
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != "url")
        .collect();
    u.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("url", request_url);
    u
}

async fn from_error_target(
    client: &Upstream,
    base: &url::Url,
    code: StatusCode,
    request_url: &str,
) -> Result<Response<Body>, BoxError> {
    let url = error_target_url(base, code, request_url);
    tracing::debug!(%url, "requesting custom error page");
    let uri: Uri = url.as_str().parse()?;
    let key = Key {
        https: uri.scheme() == Some(&Scheme::HTTPS),
        authority: uri
            .authority()
            .ok_or("the error target has no host")?
            .clone(),
    };
    let pq = uri.path_and_query().map_or("/", |p| p.as_str());
    let req = Outgoing::get(key, pq);
    let Answer::Response(head, body) =
        tokio::time::timeout(ERROR_TARGET_TIMEOUT, client.send(&req, None, false)).await??
    else {
        return Err("the error target switched protocols".into());
    };
    let mut resp = Response::new(body.boxed());
    *resp.status_mut() = code;
    // Only what describes the body travels; the status is ours, not the error page's.
    for name in [header::CONTENT_TYPE, header::CONTENT_ENCODING] {
        if let Some(v) = head.get(name.as_str()).map(HeaderValue::from_bytes) {
            resp.headers_mut().insert(name, v?);
        }
    }
    Ok(resp)
}

pub fn html(code: StatusCode, page: Bytes) -> Response<Body> {
    let mut r = Response::new(Full::new(page).map_err(BoxError::from).boxed());
    *r.status_mut() = code;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

fn status_only(code: StatusCode) -> Response<Body> {
    let mut r = Response::new(Empty::new().map_err(BoxError::from).boxed());
    *r.status_mut() = code;
    r
}

/// A short plain-text answer for requests that are wrong in themselves (bad escapes).
pub fn plain(code: StatusCode) -> Response<Body> {
    let text = code.canonical_reason().unwrap_or("Error");
    let mut r = Response::new(Full::new(Bytes::from(text)).map_err(BoxError::from).boxed());
    *r.status_mut() = code;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn builtin_page(code: StatusCode) -> String {
    let reason = code.canonical_reason().unwrap_or("Error");
    let detail = match code.as_u16() {
        404 => "Nothing is served at this address.",
        503 => "The server for this address is not responding. It may be starting or stopped.",
        502 => "The server for this address gave an answer the proxy could not use.",
        504 => "The server for this address took too long to answer.",
        _ => "The proxy could not complete this request.",
    };
    let n = code.as_u16();
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{n} {reason}</title></head>\n\
         <body><h1>{n}: {reason}</h1><p>{detail}</p><hr><p>ferrohub-proxy</p></body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_target_urls_have_chps_shape() {
        let base: url::Url = "http://127.0.0.1:8081/hub/error".parse().unwrap();
        let u = error_target_url(&base, StatusCode::NOT_FOUND, "/user/foo?x=1");
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:8081/hub/error/404?url=%2Fuser%2Ffoo%3Fx%3D1"
        );
        let base: url::Url = "http://h/e/?lang=fr&url=old".parse().unwrap();
        let u = error_target_url(&base, StatusCode::SERVICE_UNAVAILABLE, "/a");
        assert_eq!(u.as_str(), "http://h/e/503?lang=fr&url=%2Fa");
    }

    #[test]
    fn the_builtin_page_names_the_status() {
        let p = builtin_page(StatusCode::SERVICE_UNAVAILABLE);
        assert!(p.contains("503: Service Unavailable"));
    }
}

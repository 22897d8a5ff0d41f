//! Private routes: a route whose data carries an access rule is served only to browsers
//! holding a valid proxy session issued by the hub. Checked here on every request (plain
//! HTTP, websocket upgrades and `ws_bridge` routes alike) with the shared proxy key alone,
//! with no round trip to the hub.
//!
//! # The route-data convention
//! `POST /api/routes/user/alice/app` with
//! `{"target": "http://127.0.0.1:9000", "ferrohub_access": {"owner": "alice", "users": ["bob"], "groups": ["lab"]}}`
//! lets in the owner, the users listed and members of the groups listed (all optional; an
//! empty rule lets nobody in). The data stays verbatim, as for every route, and
//! configurable-http-proxy would ignore the key. A malformed rule is refused with 400 when the
//! route is added; one read back malformed from the routes file lets nobody in.
//!
//! # What a request gets
//! - a valid, unrevoked session ([`ferrohub_shared::proxy_session`]) of an allowed user: the
//!   route, with the session cookie removed (as on every route, see [`strip_session_cookie`]);
//! - no session, or an invalid, expired or revoked one: a 302 to `{--login-url}?next={path}`
//!   when the request accepts `text/html`, else 403 JSON `{"status": 403, "message": ...}`;
//! - a valid session of someone else: 403 (a page, or JSON);
//! - a proxy started without the key: 503 and a log line saying how to give it the key.
//!
//! A websocket handshake gets the bare status in each case.

use crate::error_page::{self, Kind};
use crate::state::{AppState, Body, BoxError};
use bytes::Bytes;
use ferrohub_shared::api_error::ApiErrorBody;
use ferrohub_shared::proxy_session::{self, ProxySession, SessionError};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{Map, Value};

/// Who may use a private route: the rule in route data, defined with the other route-data
/// keys in [`ferrohub_shared::route_data`].
pub use ferrohub_shared::route_data::AccessRule as Rule;

/// The rule a route in the table enforces: a malformed one fails closed (lets nobody in).
pub fn rule_for_route(data: &Map<String, Value>) -> Option<Rule> {
    Rule::from_data(data).unwrap_or_else(|_| Some(Rule::default()))
}

/// Decide a request to a private route: `Ok` to forward it, `Err` with the answer otherwise.
/// `url` is the request's path and query, where the login page sends the browser back to.
#[allow(clippy::result_large_err)]
pub fn check(
    state: &AppState,
    rule: &Rule,
    headers: &HeaderMap,
    url: &str,
    kind: Kind,
) -> Result<(), Response<Body>> {
    let Some(key) = &state.config.proxy_key else {
        tracing::error!(
            %url,
            "503: this route is private but the proxy has no key; start ferrohub-proxy with \
             --proxy-key-file (the output of `ferrohub proxy-key`) or {}",
            ferrohub_shared::env::FERROHUB_PROXY_KEY
        );
        return Err(refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            kind,
            headers,
            "This address is private, and the proxy is not configured to check who you are.",
        ));
    };
    let cookies = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let now = chrono::Utc::now().timestamp();
    let session = match ferrohub_shared::cookies::cookie_value(cookies, proxy_session::COOKIE) {
        None => Err(SessionError::Malformed),
        Some(v) => ProxySession::decode(key, v, now),
    };
    let session = match session {
        Ok(s) if state.revoked.contains(&s.sid) => {
            tracing::debug!(user = %s.user, %url, "refusing a revoked session");
            None
        }
        Ok(s) => Some(s),
        Err(e) => {
            tracing::debug!(%url, "no usable session: {e}");
            None
        }
    };
    match session {
        Some(s) if rule.allows(&s.user, &s.groups) => Ok(()),
        Some(s) => {
            tracing::info!(user = %s.user, %url, "403: not allowed on this private route");
            Err(refusal(
                StatusCode::FORBIDDEN,
                kind,
                headers,
                &format!(
                    "{} is not allowed to use this address.",
                    ferrohub_shared::html::escape(&s.user)
                ),
            ))
        }
        None if kind == Kind::Web && accepts_html(headers) => {
            let next: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
            let location = format!("{}?next={next}", state.config.login_url);
            let mut r = Response::new(empty());
            *r.status_mut() = StatusCode::FOUND;
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            Err(r)
        }
        None => Err(refusal(
            StatusCode::FORBIDDEN,
            kind,
            headers,
            "This address is private: log in to the hub first.",
        )),
    }
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"))
}

/// A page for browsers, JSON for scripts, the bare status for websockets. `message` must be
/// HTML-safe.
fn refusal(code: StatusCode, kind: Kind, headers: &HeaderMap, message: &str) -> Response<Body> {
    let mut r = if kind == Kind::Ws {
        Response::new(empty())
    } else if accepts_html(headers) {
        let n = code.as_u16();
        let reason = code.canonical_reason().unwrap_or("Error");
        let page = format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{n} {reason}</title></head>\n\
             <body><h1>{n}: {reason}</h1><p>{message}</p><hr><p>ferrohub-proxy</p></body></html>\n"
        );
        return error_page::html(code, Bytes::from(page));
    } else {
        let body = ApiErrorBody {
            status: code.as_u16(),
            message: message.to_owned(),
        };
        let mut r = Response::new(
            Full::new(Bytes::from(serde_json::to_vec(&body).expect("serialises")))
                .map_err(BoxError::from)
                .boxed(),
        );
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    };
    *r.status_mut() = code;
    r
}

fn empty() -> Body {
    Full::new(Bytes::new()).map_err(BoxError::from).boxed()
}

/// A request's `Cookie` header value less the proxy session cookie, which is removed on every
/// route before forwarding: a target (a user's server) must never see a visitor's session,
/// or it could replay it. `None`: the value has no such cookie and goes as it is; `Some` of
/// an empty value: it had nothing else, drop the header.
pub fn without_session_cookie(value: &[u8]) -> Option<Vec<u8>> {
    let name = proxy_session::COOKIE.as_bytes();
    if !value.windows(name.len()).any(|w| w == name) {
        return None;
    }
    let mut kept = Vec::with_capacity(value.len());
    for pair in value.split(|&b| b == b';').map(<[u8]>::trim_ascii) {
        let key = pair.split(|&b| b == b'=').next().unwrap_or_default();
        if pair.is_empty() || key.trim_ascii() == name {
            continue;
        }
        if !kept.is_empty() {
            kept.extend_from_slice(b"; ");
        }
        kept.extend_from_slice(pair);
    }
    Some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn malformed_rules_are_refused_and_fail_closed() {
        let public = json!({"target": "http://x"});
        assert_eq!(Rule::from_data(public.as_object().unwrap()), Ok(None));
        for bad in [
            json!("alice"),
            json!({"owner": 1}),
            json!({"ownr": "alice"}),
        ] {
            let data = json!({"target": "http://x", ferrohub_shared::route_data::ACCESS: bad});
            let data = data.as_object().unwrap();
            assert!(Rule::from_data(data).is_err(), "{data:?}");
            assert_eq!(rule_for_route(data), Some(Rule::default()));
        }
    }

    #[test]
    fn the_session_cookie_is_stripped_and_others_kept() {
        let strip = |v: &str| without_session_cookie(v.as_bytes()).map(String::from_utf8);
        assert_eq!(
            strip("a=1; ferrohub-proxy-session=p.s;b=2"),
            Some(Ok("a=1; b=2".into()))
        );
        assert_eq!(strip("ferrohub-proxy-session=p.s"), Some(Ok(String::new())));
        assert_eq!(
            strip(" ferrohub-proxy-session =p.s; c"),
            Some(Ok("c".into()))
        );
        // The name as a value, or inside another name, is not the cookie.
        assert_eq!(
            strip("x=ferrohub-proxy-session"),
            Some(Ok("x=ferrohub-proxy-session".into()))
        );
        assert_eq!(strip("a=1; b=2"), None);
    }
}

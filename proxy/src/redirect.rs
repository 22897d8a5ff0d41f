//! `--redirect-port` / `--redirect-to`: a plain-HTTP port that sends every request to the same
//! host and path over HTTPS, as configurable-http-proxy does for a proxy serving TLS.
//!
//! Like CHP the answer is a 301 to `https://HOST[:PORT]/path?query`, where HOST is the request's
//! `Host` without its port and PORT is `--redirect-to` (else the proxy's own port), left out when
//! it is 443; a request without a usable `Host` gets a 400 that says why, as in CHP 5. Unlike
//! CHP, an IPv6 host keeps its brackets.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::uri::Authority;
use http::{header, StatusCode};

/// Answers every request on the redirect port with a redirect to HTTPS on `to_port`.
pub fn router(to_port: u16) -> Router {
    Router::new().fallback(redirect).with_state(to_port)
}

async fn redirect(State(to_port): State<u16>, req: Request) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    match host.and_then(|h| location(h, to_port, path)) {
        Some(to) => Response::builder()
            .status(StatusCode::MOVED_PERMANENTLY)
            .header(header::LOCATION, to)
            .body(Body::empty())
            .unwrap_or_else(|_| StatusCode::BAD_REQUEST.into_response()),
        None => (
            StatusCode::BAD_REQUEST,
            "This port redirects to HTTPS, which needs the request's Host header naming the \
             server.\n",
        )
            .into_response(),
    }
}

/// Where a request for `path` (with its query) to `host` (as in a `Host` header, perhaps with a
/// port) goes over HTTPS on `to_port`; `None` when `host` is no host name or address.
pub fn location(host: &str, to_port: u16, path: &str) -> Option<String> {
    let client = host_header(host)?;
    let port = if to_port == 443 {
        String::new()
    } else {
        format!(":{to_port}")
    };
    Some(format!("https://{}{port}{path}", client.host()))
}

/// A `Host` header's value as host and optional port; `None` for anything else (an empty
/// host, user information, a path).
pub fn host_header(value: &str) -> Option<Authority> {
    let authority: Authority = value.trim().parse().ok()?;
    let plain = !authority.as_str().contains('@') && !authority.host().is_empty();
    plain.then_some(authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_host_and_path_and_swaps_the_port() {
        assert_eq!(
            location("hub.example.org:8000", 8443, "/user/a/lab?x=1").as_deref(),
            Some("https://hub.example.org:8443/user/a/lab?x=1")
        );
        assert_eq!(
            location("hub.example.org", 443, "/").as_deref(),
            Some("https://hub.example.org/")
        );
        assert_eq!(
            location("[::1]:8000", 8443, "/hub/").as_deref(),
            Some("https://[::1]:8443/hub/")
        );
    }

    #[test]
    fn refuses_hosts_that_are_not_hosts() {
        for bad in ["", ":80", "a b", "user@evil.example", "evil.example/x"] {
            assert_eq!(location(bad, 443, "/"), None, "{bad:?}");
        }
    }
}

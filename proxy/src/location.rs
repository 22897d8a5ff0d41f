//! `--auto-rewrite` and `--protocol-rewrite`, as configurable-http-proxy passes them to node's
//! http-proxy: the `Location` of a redirect (201, 301, 302, 307, 308) that points at the route's
//! own target is made to point where the client is, at the host (and port) the client asked
//! for and/or with the given scheme. Relative locations and locations naming another server are
//! left alone, as there.
//!
//! Such answers are rewritten on hyper's path only: with either flag set the plain path hands
//! every request to hyper (`plain::Conn::plain`).

use crate::config::Config;
use crate::routes::Target;
use http::header::{HeaderValue, LOCATION};
use http::{Response, StatusCode};

/// Rewrite `resp`'s `Location` if the flags ask for it; `client_host` is the request's `Host`.
pub fn apply<B>(
    config: &Config,
    target: &Target,
    client_host: Option<&HeaderValue>,
    resp: &mut Response<B>,
) {
    let Some(location) = resp.headers().get(LOCATION).and_then(|v| v.to_str().ok()) else {
        return;
    };
    let client_host = client_host.and_then(|h| h.to_str().ok());
    let new = rewrite(config, resp.status(), location, target, client_host);
    if let Some(value) = new.and_then(|n| HeaderValue::from_str(&n).ok()) {
        resp.headers_mut().insert(LOCATION, value);
    }
}

/// The new `Location`, or `None` to keep it.
pub fn rewrite(
    config: &Config,
    status: StatusCode,
    location: &str,
    target: &Target,
    client_host: Option<&str>,
) -> Option<String> {
    if !matches!(status.as_u16(), 201 | 301 | 302 | 307 | 308) {
        return None;
    }
    // Relative locations do not parse on their own: they already follow the client.
    let mut url = url::Url::parse(location).ok()?;
    let points_at_target = format!("{}:{}", url.host_str()?, url.port_or_known_default()?)
        .eq_ignore_ascii_case(target.authority.as_str());
    if !points_at_target {
        return None;
    }
    // The scheme first, so that a port the client named stays when it is the old default.
    if let Some(scheme) = &config.protocol_rewrite {
        url.set_scheme(scheme).ok()?;
    }
    if config.auto_rewrite {
        let client = crate::redirect::host_header(client_host?)?;
        url.set_host(Some(client.host())).ok()?;
        url.set_port(client.port_u16()).ok()?;
    }
    Some(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(auto: bool, protocol: Option<&str>) -> Config {
        Config {
            auto_rewrite: auto,
            protocol_rewrite: protocol.map(str::to_owned),
            ..Config::default()
        }
    }

    fn target() -> Target {
        Target::parse("http://127.0.0.1:8888/prefix").unwrap()
    }

    #[test]
    fn a_redirect_to_the_target_follows_the_client() {
        let c = config(true, None);
        let to = |host| {
            rewrite(
                &c,
                StatusCode::FOUND,
                "http://127.0.0.1:8888/hub/login?next=%2Fx#top",
                &target(),
                host,
            )
        };
        assert_eq!(
            to(Some("hub.example.org:8000")).as_deref(),
            Some("http://hub.example.org:8000/hub/login?next=%2Fx#top")
        );
        assert_eq!(
            to(Some("hub.example.org")).as_deref(),
            Some("http://hub.example.org/hub/login?next=%2Fx#top")
        );
        assert_eq!(to(None), None, "no Host: nothing to point at");
        assert_eq!(to(Some("user@evil.example")), None);
    }

    #[test]
    fn the_protocol_alone_or_with_the_host() {
        let loc = "http://127.0.0.1:8888/x";
        let c = config(false, Some("https"));
        assert_eq!(
            rewrite(&c, StatusCode::MOVED_PERMANENTLY, loc, &target(), None).as_deref(),
            Some("https://127.0.0.1:8888/x")
        );
        let c = config(true, Some("https"));
        assert_eq!(
            rewrite(
                &c,
                StatusCode::TEMPORARY_REDIRECT,
                loc,
                &target(),
                Some("h.org:80")
            )
            .as_deref(),
            Some("https://h.org:80/x")
        );
        assert_eq!(
            rewrite(&c, StatusCode::CREATED, loc, &target(), Some("h.org")).as_deref(),
            Some("https://h.org/x")
        );
    }

    #[test]
    fn other_answers_and_locations_are_left_alone() {
        let c = config(true, Some("https"));
        let host = Some("h.org");
        for (status, loc) in [
            (StatusCode::FOUND, "/hub/login"),
            (StatusCode::FOUND, "http://127.0.0.1:9999/x"),
            (StatusCode::FOUND, "http://other.example/x"),
            (StatusCode::OK, "http://127.0.0.1:8888/x"),
            (StatusCode::SEE_OTHER, "http://127.0.0.1:8888/x"),
        ] {
            assert_eq!(
                rewrite(&c, status, loc, &target(), host),
                None,
                "{status} {loc}"
            );
        }
    }
}

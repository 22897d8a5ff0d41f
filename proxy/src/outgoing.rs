//! What a target receives: the request line with the route's target path, and the client's
//! headers rewritten as CHP's http-proxy rewrites them (hop-by-hop headers dropped,
//! `X-Forwarded-*` appended, `--custom-header`s set, `Host` changed with `--change-origin`),
//! less the proxy's own session cookie. Written as bytes in one pass over the client's
//! headers, whether hyper parsed them (a `HeaderMap`) or the plain path did (see `plain`).

use crate::access;
use crate::config::Config;
use crate::routes::{path, Route};
use crate::upstream::Key;
use http::Method;
use std::fmt;
use std::net::SocketAddr;

/// A request ready for the upstream client: which connection it needs and its head.
pub struct Outgoing {
    pub key: Key,
    pub method: Method,
    /// The request line and headers, as written to the target.
    pub head: Vec<u8>,
    /// The body follows in chunked encoding (the client sent one without a length).
    pub chunked: bool,
}

impl Outgoing {
    /// A bare `GET` of `path_and_query` from `key` (the error target's pages).
    pub fn get(key: Key, path_and_query: &str) -> Outgoing {
        let mut head = Vec::with_capacity(64 + path_and_query.len());
        request_line(&mut head, &Method::GET, path_and_query);
        line(&mut head, b"host", key.authority.as_str().as_bytes());
        head.extend_from_slice(b"\r\n");
        Outgoing {
            key,
            method: Method::GET,
            head,
            chunked: false,
        }
    }

    /// The target URL, for logs.
    pub fn target(&self) -> impl fmt::Display + '_ {
        struct Target<'a>(&'a Outgoing);
        impl fmt::Display for Target<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let o = self.0;
                let line = o.head.split(|&b| b == b'\r').next().unwrap_or_default();
                let pq = line.split(|&b| b == b' ').nth(1).unwrap_or_default();
                let scheme = if o.key.https { "https" } else { "http" };
                let pq = String::from_utf8_lossy(pq);
                write!(f, "{scheme}://{}{pq}", o.key.authority)
            }
        }
        Target(self)
    }
}

/// The client at the other end of a connection, as `X-Forwarded-For` names it: worked out
/// once per connection rather than per request.
#[derive(Clone)]
pub struct Peer {
    /// `None` for a client on a unix socket: it has no address, so `X-Forwarded-For` is passed
    /// on as that client (typically a front proxy) wrote it.
    forwarded_for: Option<Box<str>>,
}

impl Peer {
    pub fn new(addr: SocketAddr) -> Peer {
        Peer {
            forwarded_for: Some(addr.ip().to_canonical().to_string().into()),
        }
    }

    pub fn unix() -> Peer {
        Peer {
            forwarded_for: None,
        }
    }
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            self.forwarded_for
                .as_deref()
                .unwrap_or("unix socket client"),
        )
    }
}

/// One request to rewrite for its route's target.
pub struct Rewrite<'a> {
    pub config: &'a Config,
    pub route: &'a Route,
    pub peer: &'a Peer,
    /// A websocket handshake: keeps `Upgrade` and says `Connection: upgrade`.
    pub websocket: bool,
}

/// Headers that describe one connection, not the message (RFC 9110 section 7.6.1), besides
/// those the `Connection` header names. `upgrade` is one unless a handshake is forwarded.
const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// `Connection` tokens that need no entry of their own: hop-by-hop anyway, or no header's name.
const ALWAYS_DROPPED_OR_NONE: [&str; 3] = ["keep-alive", "close", "upgrade"];

/// The `X-Forwarded-*` headers each proxy appends its own value to, comma-separated (as
/// http-proxy does).
const APPENDED: [&str; 3] = ["x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"];

/// The header names a message's `Connection` headers list: they are hop-by-hop too.
pub struct Listed<'h>(Vec<&'h [u8]>);

impl<'h> Listed<'h> {
    pub fn new<H: Iterator<Item = (&'h str, &'h [u8])>>(headers: H) -> Listed<'h> {
        let mut names = Vec::new();
        for (name, value) in headers {
            if name.eq_ignore_ascii_case("connection") {
                // `keep-alive` and `close` (nearly every value) name nothing more to drop.
                names.extend(tokens(value).filter(|t| {
                    !ALWAYS_DROPPED_OR_NONE
                        .iter()
                        .any(|h| t.eq_ignore_ascii_case(h.as_bytes()))
                }));
            }
        }
        Listed(names)
    }

    /// Whether `name` travels no further than this hop (`keep_upgrade`: unless it is
    /// `Upgrade`, which a websocket handshake keeps).
    pub fn is_hop_by_hop(&self, name: &str, keep_upgrade: bool) -> bool {
        if keep_upgrade && name.eq_ignore_ascii_case("upgrade") {
            return false;
        }
        HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h))
            || self
                .0
                .iter()
                .any(|l| l.eq_ignore_ascii_case(name.as_bytes()))
    }
}

impl Rewrite<'_> {
    /// The request for the target: `method`, the route's target path joined with the
    /// client's (already normalised) path and the queries of both, and the client's headers
    /// (`headers()` walks them; it is called more than once) rewritten. `chunked`: a body
    /// without a length follows.
    pub fn request<'h, H>(
        &self,
        method: &Method,
        normalized: &str,
        query: Option<&str>,
        headers: impl Fn() -> H,
        chunked: bool,
    ) -> Outgoing
    where
        H: Iterator<Item = (&'h str, &'h [u8])>,
    {
        let target = &self.route.target;
        let mut head = Vec::with_capacity(512);
        request_line(&mut head, method, &self.path_and_query(normalized, query));
        self.headers(&mut head, headers);
        if chunked {
            head.extend_from_slice(b"transfer-encoding: chunked\r\n");
        }
        head.extend_from_slice(b"\r\n");
        Outgoing {
            key: Key {
                https: target.is_https(),
                authority: target.authority.clone(),
            },
            method: method.clone(),
            head,
            chunked,
        }
    }

    /// The target's path (unless `--no-prepend-path`), then the request's path (less the
    /// route's prefix with `--no-include-prefix`), then the queries of both.
    fn path_and_query(&self, normalized: &str, query: Option<&str>) -> String {
        let (c, target) = (self.config, &self.route.target);
        let rest = if c.include_prefix {
            normalized.to_owned()
        } else {
            path::strip_segments(normalized, self.route.path_depth(c.host_routing))
        };
        let (base, base_query) = if c.prepend_path {
            (target.path.as_str(), target.query.as_deref())
        } else {
            ("/", None)
        };
        let mut pq = path::join(base, &rest);
        let mut sep = '?';
        for q in [base_query, query].into_iter().flatten() {
            if !q.is_empty() {
                pq.push(sep);
                pq.push_str(q);
                sep = '&';
            }
        }
        pq
    }

    fn headers<'h, H>(&self, out: &mut Vec<u8>, headers: impl Fn() -> H)
    where
        H: Iterator<Item = (&'h str, &'h [u8])>,
    {
        let c = self.config;
        let listed = Listed::new(headers());
        let custom = |name: &str| {
            c.custom_headers
                .iter()
                .any(|(k, _)| name.eq_ignore_ascii_case(k.as_str()))
        };
        // The client's Host, which `X-Forwarded-Host` and `-Port` describe even when the
        // target is sent another.
        let host = headers()
            .find(|(n, _)| n.eq_ignore_ascii_case("host"))
            .map(|(_, v)| v);
        // Who sets the target's Host: `--change-origin`, else a custom header, else the client.
        let origin_host = c.change_origin || (host.is_none() && !custom("host"));
        let mut forwarded_host = false;
        for (name, value) in headers() {
            if listed.is_hop_by_hop(name, self.websocket) || custom(name) {
                continue;
            }
            if name.eq_ignore_ascii_case("host") {
                if c.change_origin {
                    continue;
                }
            } else if name.eq_ignore_ascii_case("cookie") {
                // A target (a user's server) must never see a visitor's proxy session, or it
                // could replay it.
                if let Some(kept) = access::without_session_cookie(value) {
                    if !kept.is_empty() {
                        line(out, name.as_bytes(), &kept);
                    }
                    continue;
                }
            } else if c.x_forward && APPENDED.iter().any(|a| name.eq_ignore_ascii_case(a)) {
                continue; // written below, with ours appended
            } else if name.eq_ignore_ascii_case("x-forwarded-host") {
                forwarded_host = true;
            }
            line(out, name.as_bytes(), value);
        }
        if self.websocket {
            line(out, b"connection", b"upgrade");
        }
        if origin_host {
            // `--change-origin`, or a client that sent no Host (HTTP/1.0 may not): the
            // target's own name (its default port left out with `--change-origin`).
            let a = &self.route.target.authority;
            let default_port = if self.route.target.is_https() {
                443
            } else {
                80
            };
            let name = match c.change_origin && a.port_u16() == Some(default_port) {
                true => a.host(),
                false => a.as_str(),
            };
            line(out, b"host", name.as_bytes());
        }
        if c.x_forward {
            let tls = c.tls.public.is_some();
            let port = host
                .and_then(|h| {
                    h.rsplit(|&b| b == b':')
                        .next()
                        .filter(|_| h.contains(&b':'))
                })
                .filter(|p| !p.is_empty() && p.iter().all(u8::is_ascii_digit))
                .unwrap_or(if tls { b"443" } else { b"80" });
            let proto: &[u8] = match (self.websocket, tls) {
                (false, false) => b"http",
                (false, true) => b"https",
                (true, false) => b"ws",
                (true, true) => b"wss",
            };
            let ours = [
                self.peer.forwarded_for.as_deref().map(str::as_bytes),
                Some(port),
                Some(proto),
            ];
            for (name, value) in APPENDED.iter().zip(ours) {
                if !custom(name) {
                    appended(out, name, headers(), value);
                }
            }
            if let (false, Some(h), false) = (forwarded_host, host, custom("x-forwarded-host")) {
                line(out, b"x-forwarded-host", h);
            }
        }
        for (k, v) in &c.custom_headers {
            // `--change-origin` decides the Host over a custom one.
            if !(c.change_origin && k == http::header::HOST) {
                line(out, k.as_str().as_bytes(), v.as_bytes());
            }
        }
    }
}

/// `name: earlier values, ours`: what earlier proxies said (joined with ", "), then ours
/// after a comma. Without ours, the earlier values alone (no line if there are none).
fn appended<'h>(
    out: &mut Vec<u8>,
    name: &str,
    headers: impl Iterator<Item = (&'h str, &'h [u8])>,
    ours: Option<&[u8]>,
) {
    let start = out.len();
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    let mut earlier = false;
    for (_, v) in headers.filter(|(n, _)| n.eq_ignore_ascii_case(name)) {
        if earlier {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(v);
        earlier = true;
    }
    match ours {
        Some(ours) => {
            if earlier {
                out.push(b',');
            }
            out.extend_from_slice(ours);
        }
        None if !earlier => return out.truncate(start),
        None => {}
    }
    out.extend_from_slice(b"\r\n");
}

fn request_line(out: &mut Vec<u8>, method: &Method, path_and_query: &str) {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(path_and_query.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
}

/// The comma-separated elements of a header value, trimmed (`Connection`, `Transfer-Encoding`,
/// a `Content-Length` list).
pub fn tokens(value: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(<[u8]>::trim_ascii)
}

/// One header line.
pub fn line(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::{RouteTable, Target};
    use ferrohub_shared::routes::RouteSpec;
    use http::{HeaderName, HeaderValue};
    use std::sync::Arc;

    fn route(target: &str) -> Arc<Route> {
        let spec = RouteSpec::parse("/user/a").unwrap();
        let target = Target::parse(target).unwrap();
        RouteTable::new(false).insert(spec, target, Default::default(), None)
    }

    /// The head written for `headers` (`name: value` lines) to a route for `/user/a`.
    fn head(
        config: &Config,
        target: &str,
        path: &str,
        headers: &[(&str, &str)],
        ws: bool,
    ) -> String {
        let route = route(target);
        let peer = Peer::new("[::ffff:10.0.0.7]:5000".parse().unwrap());
        let rewrite = Rewrite {
            config,
            route: &route,
            peer: &peer,
            websocket: ws,
        };
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        let headers = || headers.iter().map(|(n, v)| (*n, v.as_bytes()));
        let out = rewrite.request(&Method::GET, path, query, headers, false);
        String::from_utf8(out.head).unwrap()
    }

    #[test]
    fn the_request_line_joins_target_and_request_paths_and_queries() {
        let c = Config::default();
        let h = head(
            &c,
            "http://127.0.0.1:9000/base?t=1",
            "/user/a/x?q=2",
            &[],
            false,
        );
        assert!(
            h.starts_with("GET /base/user/a/x?t=1&q=2 HTTP/1.1\r\n"),
            "{h}"
        );
        // No Host from the client (HTTP/1.0): the target's.
        assert!(h.contains("\r\nhost: 127.0.0.1:9000\r\n"), "{h}");
        let c = Config {
            include_prefix: false,
            prepend_path: false,
            ..Config::default()
        };
        let h = head(&c, "http://127.0.0.1:9000/base", "/user/a/x", &[], false);
        assert!(h.starts_with("GET /x HTTP/1.1\r\n"), "{h}");
    }

    #[test]
    fn hop_by_hop_headers_go_and_those_connection_names_too() {
        let c = Config {
            x_forward: false,
            ..Config::default()
        };
        let headers = [
            ("Host", "hub.example"),
            ("Connection", "keep-alive, X-Secret"),
            ("X-Secret", "1"),
            ("Keep-Alive", "timeout=5"),
            ("TE", "trailers"),
            ("Upgrade", "h2c"),
            ("Accept", "*/*"),
        ];
        let h = head(&c, "http://127.0.0.1:9000", "/user/a", &headers, false);
        assert_eq!(
            h,
            "GET /user/a HTTP/1.1\r\nHost: hub.example\r\nAccept: */*\r\n\r\n"
        );
    }

    #[test]
    fn a_websocket_handshake_keeps_its_upgrade() {
        let c = Config {
            x_forward: false,
            ..Config::default()
        };
        let headers = [
            ("Connection", "keep-alive, Upgrade"),
            ("Upgrade", "websocket"),
        ];
        let h = head(&c, "http://127.0.0.1:9000", "/user/a", &headers, true);
        assert!(h.contains("\r\nUpgrade: websocket\r\n"), "{h}");
        assert!(h.contains("\r\nconnection: upgrade\r\n"), "{h}");
        assert!(!h.contains("keep-alive"), "{h}");
    }

    #[test]
    fn forwarded_headers_append_to_earlier_proxies() {
        let c = Config::default();
        let headers = [
            ("Host", "hub.example:8443"),
            ("X-Forwarded-For", "10.0.0.1"),
            ("x-forwarded-for", "10.0.0.2"),
        ];
        let h = head(&c, "http://127.0.0.1:9000", "/user/a", &headers, false);
        assert!(
            h.contains("\r\nx-forwarded-for: 10.0.0.1, 10.0.0.2,10.0.0.7\r\n"),
            "{h}"
        );
        assert!(h.contains("\r\nx-forwarded-port: 8443\r\n"), "{h}");
        assert!(h.contains("\r\nx-forwarded-proto: http\r\n"), "{h}");
        assert!(
            h.contains("\r\nx-forwarded-host: hub.example:8443\r\n"),
            "{h}"
        );
        assert_eq!(h.matches("x-forwarded-for").count(), 1, "{h}");
        let h = head(
            &c,
            "http://127.0.0.1:9000",
            "/user/a",
            &[("Host", "hub")],
            true,
        );
        assert!(h.contains("\r\nx-forwarded-port: 80\r\n"), "{h}");
        assert!(h.contains("\r\nx-forwarded-proto: ws\r\n"), "{h}");
    }

    #[test]
    fn custom_headers_replace_and_change_origin_sets_the_host() {
        let c = Config {
            change_origin: true,
            custom_headers: vec![(
                HeaderName::from_static("x-forwarded-proto"),
                HeaderValue::from_static("https"),
            )],
            ..Config::default()
        };
        let headers = [("Host", "hub.example"), ("X-Forwarded-Proto", "gopher")];
        let h = head(&c, "https://10.1.1.1:443/", "/user/a", &headers, false);
        assert!(h.contains("\r\nhost: 10.1.1.1\r\n"), "{h}");
        assert!(!h.contains("Host: hub"), "{h}");
        assert_eq!(h.matches("x-forwarded-proto").count(), 1, "{h}");
        assert!(h.contains("\r\nx-forwarded-proto: https\r\n"), "{h}");
        assert!(!h.contains("gopher"), "{h}");
    }

    #[test]
    fn the_target_gets_one_host_whoever_sets_it() {
        // The target's head, with a custom Host configured, for this client's headers.
        let sent = |change_origin, client: &[(&str, &str)]| {
            let config = Config {
                change_origin,
                custom_headers: vec![(
                    http::header::HOST,
                    HeaderValue::from_static("custom.example"),
                )],
                ..Config::default()
            };
            head(&config, "http://10.1.1.1:80/", "/user/a", client, false)
        };
        let hosts = |h: &str| h.to_ascii_lowercase().matches("\r\nhost: ").count();
        let client = [("Host", "hub.example:8000")];
        let h = sent(false, &client);
        assert_eq!(hosts(&h), 1, "{h}");
        assert!(h.contains("\r\nhost: custom.example\r\n"), "{h}");
        // X-Forwarded-Host and -Port still describe what the client asked for.
        assert!(
            h.contains("\r\nx-forwarded-host: hub.example:8000\r\n"),
            "{h}"
        );
        assert!(h.contains("\r\nx-forwarded-port: 8000\r\n"), "{h}");
        let h = sent(false, &[]);
        assert_eq!(hosts(&h), 1, "{h}");
        assert!(h.contains("\r\nhost: custom.example\r\n"), "{h}");
        let h = sent(true, &client);
        assert_eq!(hosts(&h), 1, "{h}");
        assert!(h.contains("\r\nhost: 10.1.1.1\r\n"), "{h}");
    }

    #[test]
    fn the_session_cookie_never_reaches_the_target() {
        let c = Config::default();
        let headers = [
            ("Cookie", "a=1; ferrohub-proxy-session=p.s"),
            ("Cookie", "ferrohub-proxy-session=x"),
        ];
        let h = head(&c, "http://127.0.0.1:9000", "/user/a", &headers, false);
        assert!(h.contains("\r\nCookie: a=1\r\n"), "{h}");
        assert!(!h.contains("session"), "{h}");
    }

    #[test]
    fn the_target_is_named_for_logs() {
        let key = Key {
            https: true,
            authority: "hub:8081".parse().unwrap(),
        };
        let out = Outgoing::get(key, "/hub/error/404?url=%2F");
        assert_eq!(
            out.target().to_string(),
            "https://hub:8081/hub/error/404?url=%2F"
        );
        assert!(String::from_utf8(out.head)
            .unwrap()
            .contains("\r\nhost: hub:8081\r\n"));
    }
}

//! A route's target: where requests for the route go, parsed once when the route is added.

use http::uri::{Authority, Scheme};

/// Why a string is not a usable target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("target {0:?} is not a URL")]
    NotAUrl(String),
    #[error("target {0:?} is not an http, https, ws or wss URL")]
    Scheme(String),
    #[error("target {0:?} has no host")]
    NoHost(String),
}

/// A parsed target URL. `ws` and `wss` are accepted as CHP accepts them and mean `http` and
/// `https`: the upgrade decides whether a connection becomes a websocket, not the scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// `host:port` as the connector needs it (IPv6 in brackets).
    pub authority: Authority,
    /// The target's own path, `/` at least; prepended to forwarded paths unless
    /// `--no-prepend-path`.
    pub path: String,
    /// The target's own query, merged before the request's.
    pub query: Option<String>,
}

impl Target {
    pub fn parse(raw: &str) -> Result<Self, TargetError> {
        let url = url::Url::parse(raw).map_err(|_| TargetError::NotAUrl(raw.to_owned()))?;
        let scheme = match url.scheme() {
            "http" | "ws" => Scheme::HTTP,
            "https" | "wss" => Scheme::HTTPS,
            _ => return Err(TargetError::Scheme(raw.to_owned())),
        };
        let host = match url.host() {
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            Some(host) => host.to_string(),
            None => return Err(TargetError::NoHost(raw.to_owned())),
        };
        let port = url
            .port_or_known_default()
            .unwrap_or(if scheme == Scheme::HTTPS { 443 } else { 80 });
        let authority = format!("{host}:{port}")
            .parse()
            .map_err(|_| TargetError::NoHost(raw.to_owned()))?;
        Ok(Target {
            scheme,
            authority,
            path: url.path().to_owned(),
            query: url.query().map(str::to_owned),
        })
    }

    pub fn is_https(&self) -> bool {
        self.scheme == Scheme::HTTPS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_jupyterhub_sends() {
        let t = Target::parse("http://127.0.0.1:8888").unwrap();
        assert_eq!(t.authority.as_str(), "127.0.0.1:8888");
        assert_eq!(t.path, "/");
        let t = Target::parse("ws://[::1]/base/?a=1").unwrap();
        assert_eq!(t.scheme, Scheme::HTTP);
        assert_eq!(t.authority.as_str(), "[::1]:80");
        assert_eq!(t.path, "/base/");
        assert_eq!(t.query.as_deref(), Some("a=1"));
        assert!(Target::parse("wss://h.example").unwrap().is_https());
    }

    #[test]
    fn refuses_what_cannot_be_forwarded_to() {
        assert!(matches!(
            Target::parse("not a url"),
            Err(TargetError::NotAUrl(_))
        ));
        assert!(matches!(
            Target::parse("ftp://x"),
            Err(TargetError::Scheme(_))
        ));
        assert!(matches!(
            Target::parse("file:///etc"),
            Err(TargetError::Scheme(_))
        ));
    }
}

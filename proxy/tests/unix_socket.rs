//! The public port, the API and the metrics on unix sockets (`--socket`, `--api-socket`,
//! `--metrics-socket`), as JupyterHub asks for with `http+unix://` URLs.

mod common;
#[path = "common/tls.rs"]
mod tls_kit;

use common::*;
use ferrohub_proxy::listen::Listen;
use ferrohub_proxy::{run, Listeners};
use serde_json::json;
use std::path::Path;
use tokio::net::UnixStream;

/// `request` on a new connection to the unix socket at `path`; the whole answer as text.
async fn over(path: &Path, request: &str) -> String {
    exchange(UnixStream::connect(path).await.unwrap(), request).await
}

#[tokio::test]
async fn routes_added_and_served_over_unix_sockets() {
    let dir = scratch_dir("unix");
    let (public, api) = (dir.join("proxy.sock"), dir.join("api.sock"));
    let metrics = dir.join("metrics.sock");
    let backend = Backend::start("alice").await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listeners = Listeners {
        public: Listen::unix(&public).unwrap(),
        api: Listen::unix(&api).unwrap(),
        metrics: Some(Listen::unix(&metrics).unwrap()),
        redirect: None,
    };
    let task = tokio::spawn(run(TestProxy::config(), listeners, async {
        let _ = stopped.await;
    }));

    let body = json!({"target": backend.url()}).to_string();
    let add = format!(
        "POST /api/routes/user/alice HTTP/1.1\r\nHost: localhost\r\nAuthorization: token {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = over(&api, &add).await;
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");

    // A front proxy on the socket names the client; the proxy has no address of its own to add.
    let get = "GET /user/alice/tree?x=1 HTTP/1.1\r\nHost: hub.example.org\r\n\
               X-Forwarded-For: 203.0.113.7\r\nConnection: close\r\n\r\n";
    let answer = over(&public, get).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let seen = body_json(&answer);
    assert_eq!(seen["uri"], "/user/alice/tree?x=1");
    assert_eq!(seen["headers"]["x-forwarded-for"], "203.0.113.7");
    assert_eq!(seen["headers"]["x-forwarded-proto"], "http");
    assert_eq!(seen["headers"]["x-forwarded-host"], "hub.example.org");
    // A request with a body goes through hyper's path: the same there.
    let post = "POST /user/alice/api HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\
                Connection: close\r\n\r\nhi";
    let answer = over(&public, post).await;
    let seen = body_json(&answer);
    assert_eq!(seen["body"], "hi", "{answer}");
    assert!(seen["headers"]["x-forwarded-for"].is_null(), "{answer}");

    let routes = over(
        &api,
        &format!("GET /api/routes HTTP/1.1\r\nHost: l\r\nAuthorization: token {TOKEN}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert_eq!(body_json(&routes)["/user/alice"]["target"], backend.url());
    let scrape = over(
        &metrics,
        "GET /metrics HTTP/1.1\r\nHost: l\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(scrape.starts_with("HTTP/1.1 200"), "{scrape}");
    assert!(
        scrape.contains("\nrequests_web 2\n"),
        "the GET and the POST on the public socket counted: {scrape}"
    );

    let _ = stop.send(());
    task.await.unwrap().unwrap();
    for file in [public, api, metrics] {
        assert!(!file.exists(), "{file:?} goes with the proxy");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// What `run` says to `config` with the public port and the API on unix sockets in a fresh
/// directory (and a redirect port if `redirect`).
async fn start_error(config: ferrohub_proxy::Config, redirect: bool) -> ferrohub_proxy::ProxyError {
    let dir = scratch_dir("unix");
    let redirect = match redirect {
        true => Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()),
        false => None,
    };
    let listeners = Listeners {
        public: Listen::unix(&dir.join("proxy.sock")).unwrap(),
        api: Listen::unix(&dir.join("api.sock")).unwrap(),
        metrics: None,
        redirect,
    };
    let err = run(config, listeners, std::future::pending())
        .await
        .expect_err("the start is refused");
    std::fs::remove_dir_all(dir).unwrap();
    err
}

#[tokio::test]
async fn tls_api_on_a_socket_and_a_redirect_with_nowhere_to_go_are_refused() {
    use ferrohub_proxy::tls::TlsOptions;
    use ferrohub_proxy::{Config, ConfigError, ProxyError};
    let pki = tls_kit::Pki::new();
    let api_tls = Config {
        tls: TlsOptions {
            api: Some(pki.server_tls()),
            ..Default::default()
        },
        ..TestProxy::config()
    };
    let err = start_error(api_tls, false).await;
    assert!(
        matches!(err, ProxyError::Config(ConfigError::ApiTlsOnUnixSocket)),
        "{err}"
    );
    assert!(err.to_string().contains("--api-socket"), "{err}");

    let public_tls = |redirect_to| Config {
        tls: TlsOptions {
            public: Some(pki.server_tls()),
            ..Default::default()
        },
        redirect_to,
        ..TestProxy::config()
    };
    let err = start_error(public_tls(None), true).await;
    assert!(
        matches!(err, ProxyError::Config(ConfigError::RedirectNeedsPort)),
        "{err}"
    );
    assert!(err.to_string().contains("--redirect-to"), "{err}");
}

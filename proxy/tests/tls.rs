//! TLS on every side, with certificates from a throwaway CA: https and wss clients to the
//! proxy, https and wss targets behind it (trusted through `--client-ssl-ca` or `--insecure`),
//! the API over https, client certificates, and clear errors for unusable files.

mod common;
#[path = "common/tls.rs"]
mod tls_kit;

use common::*;
use ferrohub_proxy::tls::{ClientTls, TlsOptions};
use ferrohub_proxy::{run, Config, Listeners, ProxyError};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tls_kit::*;
use tokio::net::TcpListener;

fn with_tls(tls: TlsOptions) -> Config {
    Config {
        tls,
        ..TestProxy::config()
    }
}

#[tokio::test]
async fn https_and_wss_clients_reach_plain_targets() {
    let pki = Pki::new();
    let web = TlsBackend::http(None).await;
    let ws = TlsBackend::ws_echo(None).await;
    let p = TestProxy::start(with_tls(TlsOptions {
        public: Some(pki.server_tls()),
        ..Default::default()
    }))
    .await;
    p.add_route("/web", json!({"target": format!("http://{}", web.addr)}))
        .await;
    p.add_route("/ws", json!({"target": format!("ws://{}", ws.addr)}))
        .await;

    let url = format!("https://localhost:{}/web/page", p.public.port());
    let (status, body) = get(pki.client_config(false), &url, None).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let seen: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(seen["uri"], "/web/page");
    assert_eq!(seen["headers"]["x-forwarded-proto"], "https");
    assert_eq!(
        seen["headers"]["x-forwarded-port"],
        p.public.port().to_string()
    );

    let back = ws_echo_once(
        p.public,
        "/ws/socket",
        Some(pki.client_config(false)),
        "hello",
    )
    .await;
    assert_eq!(back, "hello");

    // Plain HTTP to the TLS port gets nowhere near a route.
    let plain = reqwest::Client::new().get(p.url("/web/page")).send().await;
    assert!(plain.is_err(), "{plain:?}");
}

async fn add_tls_routes(p: &TestProxy, web: &TlsBackend, ws: &TlsBackend) {
    // One by IP address, one by name: the certificate names both.
    let web = format!("https://127.0.0.1:{}", web.addr.port());
    p.add_route("/web", json!({ "target": web })).await;
    let ws = format!("wss://localhost:{}", ws.addr.port());
    p.add_route("/ws", json!({ "target": ws })).await;
}

#[tokio::test]
async fn https_targets_are_verified_with_the_client_ca() {
    let pki = Pki::new();
    let web = TlsBackend::http(Some(pki.acceptor())).await;
    let ws = TlsBackend::ws_echo(Some(pki.acceptor())).await;
    // Mozilla's roots do not include the test CA: the target is refused as not trusted.
    let p = TestProxy::start(TestProxy::config()).await;
    add_tls_routes(&p, &web, &ws).await;
    let r = p.http.get(p.url("/web/x")).send().await.unwrap();
    assert_eq!(r.status(), 503);

    let trusting = with_tls(TlsOptions {
        client: ClientTls {
            ca: Some(pki.path("ca.pem")),
            ..Default::default()
        },
        ..Default::default()
    });
    let insecure = Config {
        insecure: true,
        ..TestProxy::config()
    };
    for config in [trusting, insecure] {
        let p = TestProxy::start(config).await;
        add_tls_routes(&p, &web, &ws).await;
        let r = p.http.get(p.url("/web/x")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let seen: Value = r.json().await.unwrap();
        assert_eq!(seen["uri"], "/web/x");
        assert_eq!(seen["headers"]["x-forwarded-proto"], "http");
        assert_eq!(
            ws_echo_once(p.public, "/ws/", None, "through").await,
            "through"
        );
    }
}

#[tokio::test]
async fn the_api_speaks_https() {
    let pki = Pki::new();
    let config = with_tls(TlsOptions {
        api: Some(pki.server_tls()),
        ..Default::default()
    });
    let Started {
        api_port,
        stop,
        task,
        ..
    } = start(config, false).await;
    let url = format!("https://localhost:{api_port}/api/routes");
    let deadline = Instant::now() + Duration::from_secs(10);
    let answer = loop {
        match get(pki.client_config(false), &url, Some(TOKEN)).await {
            Ok(a) => break a,
            Err(e) => assert!(Instant::now() < deadline, "no https answer: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(answer.0, 200, "{}", answer.1);
    assert_eq!(serde_json::from_str::<Value>(&answer.1).unwrap(), json!({}));
    let (status, _) = get(pki.client_config(false), &url, Some("wrong"))
        .await
        .unwrap();
    assert_eq!(status, 403);
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_required_client_certificate_is_enforced() {
    let pki = Pki::new();
    let web = TlsBackend::http(None).await;
    let mut public = pki.server_tls();
    public.ca = Some(pki.path("ca.pem"));
    public.request_cert = true;
    public.reject_unauthorized = true;
    let p = TestProxy::start(with_tls(TlsOptions {
        public: Some(public),
        ..Default::default()
    }))
    .await;
    p.add_route("/", json!({"target": format!("http://{}", web.addr)}))
        .await;
    let url = format!("https://localhost:{}/page", p.public.port());

    let refused = get(pki.client_config(false), &url, None).await;
    assert!(refused.is_err(), "{refused:?}");
    let (status, _) = get(pki.client_config(true), &url, None).await.unwrap();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn unusable_tls_files_stop_the_start_naming_the_file() {
    let pki = Pki::new();
    let missing = pki.path("nope.key");
    let mut bad_key = pki.server_tls();
    bad_key.key = missing.clone();
    let mut not_pem = pki.server_tls();
    not_pem.cert = pki.path("server.ext");
    let mut no_ca = pki.server_tls();
    no_ca.request_cert = true;
    let cases = [
        (
            TlsOptions {
                public: Some(bad_key),
                ..Default::default()
            },
            "--ssl-key",
            missing.display().to_string(),
        ),
        (
            TlsOptions {
                api: Some(not_pem),
                ..Default::default()
            },
            "--api-ssl-cert",
            pki.path("server.ext").display().to_string(),
        ),
        (
            TlsOptions {
                public: Some(no_ca),
                ..Default::default()
            },
            "--ssl-ca",
            String::new(),
        ),
        (
            TlsOptions {
                client: ClientTls {
                    ca: Some(pki.path("server.key")),
                    ..Default::default()
                },
                ..Default::default()
            },
            "--client-ssl-ca",
            pki.path("server.key").display().to_string(),
        ),
    ];
    for (tls, flag, file) in cases {
        let err = match TestProxy::try_start(with_tls(tls)).await {
            Err(e @ ProxyError::Tls(_)) => e.to_string(),
            Err(other) => panic!("{flag}: not a TLS error: {other}"),
            Ok(_) => panic!("{flag}: the proxy started"),
        };
        assert!(err.contains(flag) && err.contains(&file), "{err}");
    }
}

/// A proxy serving `config` on its own listeners (with a `--redirect-port` one if `redirect`),
/// for what `TestProxy` does not set up.
struct Started {
    public_port: u16,
    api_port: u16,
    redirect: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), ProxyError>>,
}

async fn start(config: Config, redirect: bool) -> Started {
    let bind = || TcpListener::bind("127.0.0.1:0");
    let (public, api, redirect_listener) = (
        bind().await.unwrap(),
        bind().await.unwrap(),
        bind().await.unwrap(),
    );
    let public_port = public.local_addr().unwrap().port();
    let api_port = api.local_addr().unwrap().port();
    let redirect_addr = redirect_listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listeners = Listeners {
        public: public.into(),
        api: api.into(),
        metrics: None,
        redirect: redirect.then_some(redirect_listener),
    };
    let task = tokio::spawn(run(config, listeners, async {
        let _ = stopped.await;
    }));
    Started {
        public_port,
        api_port,
        redirect: redirect_addr,
        stop,
        task,
    }
}

#[tokio::test]
async fn the_redirect_port_sends_browsers_to_https_on_the_proxy_port() {
    let pki = Pki::new();
    let web = TlsBackend::http(None).await;
    let config = Config {
        default_target: Some(format!("http://{}", web.addr)),
        ..with_tls(TlsOptions {
            public: Some(pki.server_tls()),
            ..Default::default()
        })
    };
    let Started {
        public_port,
        redirect,
        stop,
        task,
        ..
    } = start(config, true).await;
    let ask = |request: String| async move {
        eventually(Duration::from_secs(10), "the redirect port", || {
            let request = request.clone();
            async move {
                let mut s = tokio::net::TcpStream::connect(redirect).await.ok()?;
                tokio::io::AsyncWriteExt::write_all(&mut s, request.as_bytes())
                    .await
                    .ok()?;
                Some(read_head(&mut s).await.0)
            }
        })
        .await
    };
    let head = ask(format!(
        "GET /user/alice/lab?token=x&b=1 HTTP/1.1\r\nHost: localhost:{}\r\n\r\n",
        redirect.port()
    ))
    .await;
    assert!(head.starts_with("HTTP/1.1 301"), "{head}");
    let location = format!("https://localhost:{public_port}/user/alice/lab?token=x&b=1");
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("location: {location}\r\n").to_ascii_lowercase()),
        "{head}"
    );
    // Where it points is the proxy, over TLS, serving the same path.
    let (status, body) = get(pki.client_config(false), &location, None)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["uri"],
        "/user/alice/lab?token=x&b=1"
    );

    // No Host: nowhere to send the browser, and it is told why.
    let head = ask("GET / HTTP/1.0\r\n\r\n".to_string()).await;
    assert!(
        head.starts_with("HTTP/1.0 400") || head.starts_with("HTTP/1.1 400"),
        "{head}"
    );
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn redirect_to_443_leaves_the_port_out() {
    let pki = Pki::new();
    let config = Config {
        redirect_to: Some(443),
        ..with_tls(TlsOptions {
            public: Some(pki.server_tls()),
            ..Default::default()
        })
    };
    let Started {
        redirect,
        stop,
        task,
        ..
    } = start(config, true).await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = format!("http://{redirect}/hub/login?next=%2Fhub%2F");
    let r = eventually(Duration::from_secs(10), "the redirect port", || {
        let (http, url) = (&http, &url);
        async move {
            http.post(url)
                .header("Host", "hub.example.org")
                .send()
                .await
                .ok()
        }
    })
    .await;
    assert_eq!(r.status(), 301);
    assert_eq!(
        r.headers()["location"],
        "https://hub.example.org/hub/login?next=%2Fhub%2F"
    );
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_redirect_port_without_tls_is_refused() {
    let started = start(TestProxy::config(), true).await;
    let err = started
        .task
        .await
        .unwrap()
        .expect_err("no TLS, no redirect");
    assert!(
        matches!(
            err,
            ProxyError::Config(ferrohub_proxy::ConfigError::RedirectWithoutTls)
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("--ssl-key and --ssl-cert"),
        "{err}"
    );
}

//! Forwarding through the public port to real backends: CHP's prefix rules, headers, error
//! statuses and pages, path tricks, and activity.

mod common;

use common::*;
use ferrohub_proxy::Config;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn get_json(p: &TestProxy, path: &str) -> (u16, Value) {
    let r = p.http.get(p.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_full_path_and_forwarding_headers_reach_the_target() {
    let b = Backend::start("alice").await;
    let p = TestProxy::start(TestProxy::config()).await;
    p.add_route("/user/alice", json!({"target": b.url()})).await;
    let r = p
        .http
        .post(p.url("/user/alice/api/contents?type=file&x=%2F"))
        .header("Connection", "x-private")
        .header("X-Private", "hop-by-hop")
        .header("X-Forwarded-For", "10.1.2.3")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-backend"], "alice");
    let echo: Value = r.json().await.unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["uri"], "/user/alice/api/contents?type=file&x=%2F");
    assert_eq!(echo["body"], "hello");
    let h = &echo["headers"];
    assert_eq!(h["host"], p.public.to_string(), "the client's Host is kept");
    assert_eq!(h["x-forwarded-for"], "10.1.2.3,127.0.0.1");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(h["x-forwarded-port"], p.public.port().to_string());
    assert_eq!(h["x-forwarded-host"], p.public.to_string());
    assert!(
        h.get("x-private").is_none(),
        "headers named by Connection stay here: {h}"
    );
}

#[tokio::test]
async fn prefix_options_behave_like_chps() {
    let b = Backend::start("b").await;
    let base = format!("{}/base/", b.url());

    let p = TestProxy::start(TestProxy::config()).await;
    p.add_route("/user/a", json!({"target": base})).await;
    assert_eq!(
        get_json(&p, "/user/a/tree?q=1").await.1["uri"],
        "/base/user/a/tree?q=1"
    );

    let p = TestProxy::start(Config {
        include_prefix: false,
        ..TestProxy::config()
    })
    .await;
    p.add_route("/user/a", json!({"target": b.url()})).await;
    assert_eq!(get_json(&p, "/user/a/tree?q=1").await.1["uri"], "/tree?q=1");
    assert_eq!(get_json(&p, "/user/a").await.1["uri"], "/");

    let p = TestProxy::start(Config {
        prepend_path: false,
        ..TestProxy::config()
    })
    .await;
    p.add_route("/user/a", json!({"target": base})).await;
    assert_eq!(get_json(&p, "/user/a/tree").await.1["uri"], "/user/a/tree");

    let p = TestProxy::start(Config {
        x_forward: false,
        ..TestProxy::config()
    })
    .await;
    p.add_route("/", json!({"target": b.url()})).await;
    let h = get_json(&p, "/x").await.1["headers"].clone();
    assert!(h.get("x-forwarded-for").is_none(), "{h}");
}

#[tokio::test]
async fn longest_prefix_and_default_target() {
    let hub = Backend::start("hub").await;
    let alice = Backend::start("alice").await;
    let p = TestProxy::start(Config {
        default_target: Some(hub.url()),
        ..TestProxy::config()
    })
    .await;
    p.add_route("/user/alice/", json!({"target": alice.url()}))
        .await;
    assert_eq!(get_json(&p, "/user/alice/lab").await.1["name"], "alice");
    assert_eq!(get_json(&p, "/user/alicex/lab").await.1["name"], "hub");
    assert_eq!(get_json(&p, "/hub/login").await.1["name"], "hub");
    assert_eq!(
        p.routes("").await["/"]["target"],
        hub.url(),
        "the default target is the route /"
    );
}

#[tokio::test]
async fn no_route_is_404_and_a_dead_target_503() {
    let p = TestProxy::start(TestProxy::config()).await;
    let r = p.http.get(p.url("/nowhere")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("404"));

    let dead = dead_address().await;
    p.add_route("/user/gone", json!({"target": format!("http://{dead}")}))
        .await;
    let r = p.http.get(p.url("/user/gone/x")).send().await.unwrap();
    assert_eq!(r.status(), 503);

    let r = p.http.get(p.url("/_chp_healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn garbage_and_resets_are_502_and_others_are_still_served() {
    let garbage = RawBackend::start(|mut s: TcpStream| async move {
        let _ = read_head(&mut s).await;
        let _ = s.write_all(b"SPEAKING NONSENSE\r\n\r\n").await;
    })
    .await;
    let reset = RawBackend::start(|mut s: TcpStream| async move {
        let _ = read_head(&mut s).await;
        let _ = s.set_zero_linger();
        drop(s);
    })
    .await;
    let good = Backend::start("good").await;
    let p = TestProxy::start(TestProxy::config()).await;
    p.add_route("/garbage", json!({"target": garbage.url()}))
        .await;
    p.add_route("/reset", json!({"target": reset.url()})).await;
    p.add_route("/good", json!({"target": good.url()})).await;
    for _ in 0..3 {
        assert_eq!(
            p.http
                .get(p.url("/garbage/x"))
                .send()
                .await
                .unwrap()
                .status(),
            502
        );
        assert_eq!(
            p.http.get(p.url("/reset/x")).send().await.unwrap().status(),
            502
        );
        assert_eq!(get_json(&p, "/good/x").await.1["name"], "good");
    }
}

#[tokio::test]
async fn error_target_gets_code_and_url() {
    let errors = Backend::start("errors").await;
    let config = Config {
        error_target: Some(format!("{}/hub/error", errors.url()).parse().unwrap()),
        ..TestProxy::config()
    };
    let p = TestProxy::start(config).await;
    let r = p.http.get(p.url("/user/foo/x?y=1")).send().await.unwrap();
    assert_eq!(
        r.status(),
        404,
        "the status is the proxy's, the page the error target's"
    );
    assert_eq!(r.headers()["content-type"], "application/json");
    let echo: Value = r.json().await.unwrap();
    assert_eq!(echo["name"], "errors");
    assert_eq!(echo["uri"], "/hub/error/404?url=%2Fuser%2Ffoo%2Fx%3Fy%3D1");

    let dead = dead_address().await;
    p.add_route("/user/gone", json!({"target": format!("http://{dead}")}))
        .await;
    let r = p.http.get(p.url("/user/gone/")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let echo: Value = r.json().await.unwrap();
    assert_eq!(echo["uri"], "/hub/error/503?url=%2Fuser%2Fgone%2F");
}

#[tokio::test]
async fn error_path_serves_code_pages_then_error_html() {
    let dir = scratch_dir("errors");
    std::fs::write(dir.join("404.html"), "custom not found").unwrap();
    std::fs::write(dir.join("error.html"), "custom other").unwrap();
    let p = TestProxy::start(Config {
        error_path: Some(dir.clone()),
        ..TestProxy::config()
    })
    .await;
    let r = p.http.get(p.url("/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(r.text().await.unwrap(), "custom not found");
    let dead = dead_address().await;
    p.add_route("/gone", json!({"target": format!("http://{dead}")}))
        .await;
    let r = p.http.get(p.url("/gone")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.text().await.unwrap(), "custom other");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn dot_segments_cannot_reach_another_route() {
    let alice = Backend::start("alice").await;
    let bob = Backend::start("bob").await;
    let p = TestProxy::start(TestProxy::config()).await;
    p.add_route("/user/alice", json!({"target": alice.url()}))
        .await;
    p.add_route("/user/bob", json!({"target": bob.url()})).await;
    // Each path's routing and the path the backend gets must agree.
    for (path, name, uri) in [
        ("/user/bob/../alice/x", "alice", "/user/alice/x"),
        ("/user/bob/%2e%2e/alice/x", "alice", "/user/alice/x"),
        ("/user/bob/%2E./alice/x", "alice", "/user/alice/x"),
        (
            "/user/alice/..%2f..%2fuser/bob/x",
            "alice",
            "/user/alice/..%2f..%2fuser/bob/x",
        ),
        (
            "/user/alice/%2e%2e%2fbob/x",
            "alice",
            "/user/alice/%2e%2e%2fbob/x",
        ),
        ("/user/alice/..\\bob/x", "bob", "/user/bob/x"),
        ("/../../user/bob/", "bob", "/user/bob/"),
    ] {
        let answer = raw_request(
            p.public,
            &format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{path}: {answer}");
        let echo = body_json(&answer);
        assert_eq!(
            (
                echo["name"].as_str().unwrap(),
                echo["uri"].as_str().unwrap()
            ),
            (name, uri),
            "{path}"
        );
    }
    let bad = raw_request(
        p.public,
        "GET /user/%zz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
}

#[tokio::test]
async fn oversized_headers_get_431() {
    let b = Backend::start("b").await;
    let p = TestProxy::start(Config {
        default_target: Some(b.url()),
        ..TestProxy::config()
    })
    .await;
    let big = "a".repeat(64 * 1024);
    let answer = raw_request(
        p.public,
        &format!("GET / HTTP/1.1\r\nHost: t\r\nX-Big: {big}\r\n\r\n"),
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.1 431"),
        "{}",
        &answer[..answer.len().min(200)]
    );
    assert_eq!(get_json(&p, "/").await.0, 200, "and the proxy still serves");
}

#[tokio::test]
async fn slow_clients_are_dropped() {
    let b = Backend::start("b").await;
    let config = Config {
        default_target: Some(b.url()),
        timeout: Some(Duration::from_millis(300)),
        ..TestProxy::config()
    };
    let p = TestProxy::start(config).await;

    // Headers that never finish: the connection is closed.
    let mut s = TcpStream::connect(p.public).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        .await
        .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
        .await
        .expect("the proxy closed a connection whose headers never ended")
        .ok();

    // A body that stops arriving: 408.
    let mut s = TcpStream::connect(p.public).await.unwrap();
    s.write_all(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc")
        .await
        .unwrap();
    let (head, _) = tokio::time::timeout(Duration::from_secs(5), read_head(&mut s))
        .await
        .expect("an answer to a stalled body");
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
}

#[tokio::test]
async fn http_traffic_moves_last_activity_and_failures_do_not() {
    let b = Backend::start("b").await;
    let dead = dead_address().await;
    let p = TestProxy::start(TestProxy::config()).await;
    p.add_route("/live", json!({"target": b.url()})).await;
    p.add_route("/dead", json!({"target": format!("http://{dead}")}))
        .await;
    let routes = p.routes("").await;
    let (live0, dead0) = (
        millis_of(&routes["/live"]["last_activity"]),
        millis_of(&routes["/dead"]["last_activity"]),
    );
    clock_past(live0.max(dead0)).await;

    assert_eq!(get_json(&p, "/live/x").await.0, 200);
    assert_eq!(
        p.http.get(p.url("/dead/x")).send().await.unwrap().status(),
        503
    );

    let routes = p.routes("").await;
    assert!(
        millis_of(&routes["/live"]["last_activity"]) > live0,
        "a 200 is activity"
    );
    assert_eq!(
        millis_of(&routes["/dead"]["last_activity"]),
        dead0,
        "a 503 is not"
    );
    let idle = p
        .routes(&format!("?inactive_since={}", iso(dead0 + 1)))
        .await;
    assert_eq!(
        idle.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["/dead"]
    );
}

#[tokio::test]
async fn host_routing_picks_the_route_by_host() {
    let alice = Backend::start("alice").await;
    let hub = Backend::start("hub").await;
    let p = TestProxy::start(Config {
        host_routing: true,
        ..TestProxy::config()
    })
    .await;
    p.add_route("/", json!({"target": hub.url()})).await;
    p.add_route("/alice.example/", json!({"target": alice.url()}))
        .await;
    let get = |host: &'static str| {
        let p = &p;
        async move {
            let a = raw_request(
                p.public,
                &format!("GET /x HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
            )
            .await;
            body_json(&a)["name"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!(get("alice.example:8000").await, "alice");
    assert_eq!(get("ALICE.example").await, "alice");
    assert_eq!(get("bob.example").await, "hub");
}

#[tokio::test]
async fn upstream_connections_are_reused() {
    let b = Backend::start("b").await;
    let p = TestProxy::start(Config {
        default_target: Some(b.url()),
        ..TestProxy::config()
    })
    .await;
    for i in 0..20 {
        // A new client connection each time: reuse must come from the proxy's pool.
        let answer = raw_request(
            p.public,
            &format!("GET /{i} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    let n = b.connections.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        n <= 2,
        "20 sequential requests opened {n} upstream connections"
    );
}

/// A target that answers `GET /STATUS/WHERE` with that status and a `Location`: `self` (its
/// own address), `other` (another server) or `relative`.
async fn redirecting_target() -> RawBackend {
    RawBackend::start(|mut s: TcpStream| async move {
        let own = s.local_addr().unwrap();
        let (head, _) = read_head(&mut s).await;
        let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
        let mut parts = path.trim_start_matches('/').splitn(2, '/');
        let status = parts.next().unwrap_or("200").to_owned();
        let location = match parts.next().unwrap_or("") {
            "self" => format!("http://{own}/hub/login?next=%2Fuser%2Fa%2F"),
            "other" => "http://other.example:9/x".to_owned(),
            _ => "/hub/login".to_owned(),
        };
        let answer = format!(
            "HTTP/1.1 {status} X\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let _ = s.write_all(answer.as_bytes()).await;
    })
    .await
}

/// The `Location` the client gets for `path`, sent with `Host: host`.
async fn location_through(p: &TestProxy, path: &str, host: &str) -> String {
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .get(p.url(path))
        .header("Host", host)
        .send()
        .await
        .unwrap();
    r.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn auto_and_protocol_rewrite_point_redirects_at_the_client() {
    let t = redirecting_target().await;
    let own = format!("http://{}", t.addr);
    let host = "hub.example.org:8000";

    // Without the flags (the plain path) the target's own address goes out as it is.
    let p = TestProxy::start(TestProxy::config()).await;
    p.add_route("/", json!({"target": t.url()})).await;
    assert_eq!(
        location_through(&p, "/302/self", host).await,
        format!("{own}/hub/login?next=%2Fuser%2Fa%2F")
    );

    let p = TestProxy::start(Config {
        auto_rewrite: true,
        ..TestProxy::config()
    })
    .await;
    p.add_route("/", json!({"target": t.url()})).await;
    for status in [301, 302, 307, 308, 201] {
        assert_eq!(
            location_through(&p, &format!("/{status}/self"), host).await,
            "http://hub.example.org:8000/hub/login?next=%2Fuser%2Fa%2F",
            "{status}"
        );
    }
    // Left alone: another server, a relative location, an answer that is not a redirect.
    assert_eq!(
        location_through(&p, "/302/other", host).await,
        "http://other.example:9/x"
    );
    assert_eq!(
        location_through(&p, "/302/relative", host).await,
        "/hub/login"
    );
    assert_eq!(
        location_through(&p, "/303/self", host).await,
        format!("{own}/hub/login?next=%2Fuser%2Fa%2F")
    );

    let p = TestProxy::start(Config {
        auto_rewrite: true,
        protocol_rewrite: Some("https".into()),
        ..TestProxy::config()
    })
    .await;
    p.add_route("/", json!({"target": t.url()})).await;
    assert_eq!(
        location_through(&p, "/302/self", "hub.example.org").await,
        "https://hub.example.org/hub/login?next=%2Fuser%2Fa%2F"
    );
}

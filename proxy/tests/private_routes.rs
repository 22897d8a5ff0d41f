//! Private routes and scoped route credentials: an access rule in the route's data checked
//! against the hub's signed session cookie, the cookie kept from targets, revocation, and
//! API credentials limited to one prefix.

mod common;

use common::*;
use ferrohub_proxy::Config;
use ferrohub_shared::proxy_key::ProxyKey;
use ferrohub_shared::proxy_session::{ProxySession, COOKIE};
use ferrohub_shared::route_credential;
use ferrohub_shared::routes::RouteSpec;
use reqwest::header::{ACCEPT, AUTHORIZATION, COOKIE as COOKIE_HEADER, LOCATION};
use serde_json::{json, Value};

fn key() -> ProxyKey {
    ProxyKey::derive(b"a cookie secret for private route tests")
}

fn config() -> Config {
    Config {
        proxy_key: Some(key()),
        login_url: "/jupyter/hub/login".into(),
        ..TestProxy::config()
    }
}

fn session(user: &str, groups: &[&str], sid: &str, exp: i64) -> String {
    let s = ProxySession {
        user: user.into(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        sid: sid.into(),
        exp,
    };
    format!("{COOKIE}={}", s.encode(&key()))
}

fn in_an_hour() -> i64 {
    chrono::Utc::now().timestamp() + 3600
}

/// A client that shows redirects instead of following them.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn private_proxy(backend: &Backend, c: Config) -> TestProxy {
    let p = TestProxy::start(c).await;
    p.add_route(
        "/user/alice/app",
        json!({"target": backend.url(), "ferrohub_access": {"owner": "alice", "users": ["bob"], "groups": ["lab"]}}),
    )
    .await;
    p.add_route("/public", json!({"target": backend.url()}))
        .await;
    p
}

async fn get(p: &TestProxy, path: &str, cookie: Option<&str>, html: bool) -> reqwest::Response {
    let mut req = client().get(p.url(path));
    if let Some(c) = cookie {
        req = req.header(COOKIE_HEADER, c);
    }
    if html {
        req = req.header(ACCEPT, "text/html,application/xhtml+xml");
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn the_rule_lets_in_owner_users_and_groups_only() {
    let backend = Backend::start("app").await;
    let p = private_proxy(&backend, config()).await;
    for cookie in [
        session("alice", &[], "1", in_an_hour()),
        session("bob", &[], "2", in_an_hour()),
        session("carol", &["other", "lab"], "3", in_an_hour()),
    ] {
        let r = get(&p, "/user/alice/app/x", Some(&cookie), true).await;
        assert_eq!(r.status(), 200, "{cookie}");
        assert_eq!(r.headers()["x-backend"], "app");
    }
    let mallory = session("mallory", &["other"], "4", in_an_hour());
    let r = get(&p, "/user/alice/app/x", Some(&mallory), true).await;
    assert_eq!(r.status(), 403);
    let page = r.text().await.unwrap();
    assert!(page.contains("mallory is not allowed"), "{page}");
    let r = get(&p, "/user/alice/app/x", Some(&mallory), false).await;
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], 403);
}

#[tokio::test]
async fn no_session_redirects_browsers_to_the_login_and_refuses_scripts() {
    let backend = Backend::start("app").await;
    let p = private_proxy(&backend, config()).await;
    let expired = session("alice", &[], "1", chrono::Utc::now().timestamp() - 1);
    // Alice's signature on bob's payload.
    let alice = session("alice", &[], "1", in_an_hour());
    let bob = session("bob", &[], "1", in_an_hour());
    let forged = format!(
        "{}.{}",
        bob.split_once('.').unwrap().0,
        alice.split_once('.').unwrap().1
    );
    let other_key = {
        let s = ProxySession {
            user: "alice".into(),
            groups: vec![],
            sid: "1".into(),
            exp: in_an_hour(),
        };
        format!(
            "{COOKIE}={}",
            s.encode(&ProxyKey::derive(b"another secret"))
        )
    };
    for cookie in [
        None,
        Some(expired.as_str()),
        Some(forged.as_str()),
        Some(other_key.as_str()),
    ] {
        let r = get(&p, "/user/alice/app/a%20b?x=1", cookie, true).await;
        assert_eq!(r.status(), 302, "{cookie:?}");
        assert_eq!(
            r.headers()[LOCATION],
            "/jupyter/hub/login?next=%2Fuser%2Falice%2Fapp%2Fa%2520b%3Fx%3D1"
        );
        let r = get(&p, "/user/alice/app/", cookie, false).await;
        assert_eq!(r.status(), 403, "{cookie:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["status"], 403);
        assert!(
            body["message"].as_str().unwrap().contains("log in"),
            "{body}"
        );
    }
    let r = get(&p, "/public/x", None, true).await;
    assert_eq!(r.status(), 200, "routes without a rule stay public");
}

#[tokio::test]
async fn targets_never_see_the_session_cookie() {
    let backend = Backend::start("app").await;
    let p = private_proxy(&backend, config()).await;
    let alice = session("alice", &[], "1", in_an_hour());
    for path in ["/user/alice/app/", "/public/"] {
        let r = get(&p, path, Some(&format!("a=1; {alice}; b=2")), false).await;
        assert_eq!(r.status(), 200);
        let echo: Value = r.json().await.unwrap();
        assert_eq!(echo["headers"]["cookie"], "a=1; b=2", "{path}: {echo}");
    }
    let r = get(&p, "/public/", Some(&alice), false).await;
    let echo: Value = r.json().await.unwrap();
    assert!(echo["headers"].get("cookie").is_none(), "{echo}");
}

async fn revoke(p: &TestProxy, token: &str, sid: &str, expires: i64) -> reqwest::Response {
    client()
        .post(format!("http://{}/api/revoked-sessions", p.api))
        .header(AUTHORIZATION, format!("token {token}"))
        .json(&json!({"session_id": sid, "expires": expires}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn revoked_sessions_are_refused_even_after_a_restart() {
    let backend = Backend::start("app").await;
    let dir = scratch_dir("private");
    let file = dir.join("routes.json");
    let with_file = || Config {
        routes_file: Some(file.clone()),
        ..config()
    };
    let p = private_proxy(&backend, with_file()).await;
    let alice = session("alice", &[], "sid-1", in_an_hour());
    let other = session("alice", &[], "sid-2", in_an_hour());
    assert_eq!(
        get(&p, "/user/alice/app/", Some(&alice), true)
            .await
            .status(),
        200
    );

    let r = revoke(&p, TOKEN, "sid-1", in_an_hour()).await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        get(&p, "/user/alice/app/", Some(&alice), true)
            .await
            .status(),
        302
    );
    assert_eq!(
        get(&p, "/user/alice/app/", Some(&other), true)
            .await
            .status(),
        200
    );
    p.kill();

    let p = TestProxy::start(with_file()).await;
    assert_eq!(
        get(&p, "/user/alice/app/", Some(&alice), true)
            .await
            .status(),
        302
    );
    assert_eq!(
        get(&p, "/user/alice/app/", Some(&other), true)
            .await
            .status(),
        200
    );
    // The routes file itself keeps configurable-http-proxy's form.
    let routes: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(routes.as_object().unwrap().len(), 2, "{routes}");

    assert_eq!(
        revoke(&p, "wrong", "sid-2", in_an_hour()).await.status(),
        403
    );
    let bad = client()
        .post(format!("http://{}/api/revoked-sessions", p.api))
        .header(AUTHORIZATION, format!("token {TOKEN}"))
        .body("{\"session_id\": 3}")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    drop(p);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn websocket_upgrades_need_a_session_too() {
    let backend = Backend::start("app").await;
    let p = private_proxy(&backend, config()).await;
    p.add_route(
        "/user/alice/vnc",
        json!({"target": backend.url(), "ws_bridge": "tcp", "ferrohub_access": {"owner": "alice"}}),
    )
    .await;
    for (path, cookie) in [
        ("/user/alice/app/ws", String::new()),
        ("/user/alice/vnc", String::new()),
        (
            "/user/alice/vnc",
            format!("Cookie: {}\r\n", session("mallory", &[], "m", in_an_hour())),
        ),
    ] {
        let answer = raw_request(
            p.public,
            &format!(
                "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\n\
                 Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                 Accept: text/html\r\n{cookie}\r\n"
            ),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 403"), "{path}: {answer}");
    }
}

#[tokio::test]
async fn without_a_key_private_routes_are_unavailable_and_credentials_refused() {
    let backend = Backend::start("app").await;
    let p = private_proxy(&backend, TestProxy::config()).await;
    let alice = session("alice", &[], "1", in_an_hour());
    let r = get(&p, "/user/alice/app/", Some(&alice), true).await;
    assert_eq!(r.status(), 503);
    assert_eq!(get(&p, "/public/", None, true).await.status(), 200);
    let cred = route_credential::mint(&key(), &RouteSpec::parse("/user/alice/").unwrap());
    let r = client()
        .get(p.api_url(""))
        .header(AUTHORIZATION, format!("token {}", cred.expose()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn scoped_credentials_reach_only_their_prefix() {
    let backend = Backend::start("app").await;
    let p = private_proxy(&backend, config()).await;
    let cred = route_credential::mint(&key(), &RouteSpec::parse("/user/alice/").unwrap());
    let auth = format!("token {}", cred.expose());
    let http = client();
    let post = |path: &str| {
        http.post(p.api_url(path))
            .header(AUTHORIZATION, &auth)
            .json(&json!({"target": backend.url()}))
            .send()
    };
    assert_eq!(post("/user/alice/desktop").await.unwrap().status(), 201);
    assert_eq!(post("/user/alice").await.unwrap().status(), 201);
    for outside in ["/user/alicex", "/user/bob/x", "/", "/user"] {
        let r = post(outside).await.unwrap();
        assert_eq!(r.status(), 403, "{outside}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["status"], 403);
        assert!(
            body["message"].as_str().unwrap().contains("/user/alice/"),
            "{body}"
        );
    }
    let listed: Value = http
        .get(p.api_url(""))
        .header(AUTHORIZATION, &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut specs: Vec<&String> = listed.as_object().unwrap().keys().collect();
    specs.sort();
    assert_eq!(
        specs,
        ["/user/alice", "/user/alice/app", "/user/alice/desktop"]
    );
    assert_eq!(
        p.routes("").await.as_object().unwrap().len(),
        4,
        "the admin sees all"
    );

    let one = |path: &str| {
        http.get(p.api_url(path))
            .header(AUTHORIZATION, &auth)
            .send()
    };
    assert_eq!(one("/user/alice/desktop").await.unwrap().status(), 200);
    assert_eq!(one("/public").await.unwrap().status(), 403);
    let delete = |path: &str| {
        http.delete(p.api_url(path))
            .header(AUTHORIZATION, &auth)
            .send()
    };
    assert_eq!(delete("/public").await.unwrap().status(), 403);
    assert_eq!(delete("/user/alice/desktop").await.unwrap().status(), 204);
    assert_eq!(
        revoke(&p, cred.expose(), "x", in_an_hour()).await.status(),
        403
    );

    let forged = route_credential::mint(
        &ProxyKey::derive(b"another secret"),
        &RouteSpec::parse("/").unwrap(),
    );
    let r = http
        .get(p.api_url(""))
        .header(AUTHORIZATION, format!("token {}", forged.expose()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn malformed_rules_are_refused_at_the_api() {
    let p = TestProxy::start(config()).await;
    let r = client()
        .post(p.api_url("/x"))
        .header(AUTHORIZATION, format!("token {TOKEN}"))
        .json(&json!({"target": "http://127.0.0.1:9", "ferrohub_access": {"owner": ["a"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("ferrohub_access"),
        "{body}"
    );
}

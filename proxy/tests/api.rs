//! The REST API against configurable-http-proxy's contract: statuses, bodies, auth, and the
//! hub's own client.

mod common;

use common::*;
use ferrohub_shared::proxy_client::{ProxyClient, ProxyError as ClientError};
use ferrohub_shared::routes::RouteSpec;
use ferrohub_shared::secret::Secret;
use serde_json::{json, Map, Value};

fn auth() -> String {
    format!("token {TOKEN}")
}

#[tokio::test]
async fn routes_are_added_read_and_deleted_with_chps_statuses() {
    let p = TestProxy::start(TestProxy::config()).await;
    let before = chrono::Utc::now().timestamp_millis();
    p.add_route(
        "/user/alice/",
        json!({"target": "http://127.0.0.1:9999", "user": "alice", "n": 1}),
    )
    .await;

    let all = p.routes("").await;
    let alice = &all["/user/alice"];
    assert_eq!(alice["target"], "http://127.0.0.1:9999");
    assert_eq!(alice["user"], "alice", "data is kept verbatim");
    assert_eq!(alice["n"], 1);
    let la = alice["last_activity"].as_str().unwrap();
    assert!(
        la.ends_with('Z') && la.len() == "2026-01-01T00:00:00.000Z".len(),
        "{la}"
    );
    assert!(millis_of(&alice["last_activity"]) >= before);

    // One route: its data without the key, 404 for an unknown one.
    let one = p
        .http
        .get(p.api_url("/user/alice"))
        .header("Authorization", auth())
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), 200);
    let one: Value = one.json().await.unwrap();
    assert_eq!(one["user"], "alice");
    assert!(one.get("/user/alice").is_none());
    let none = p
        .http
        .get(p.api_url("/user/bob"))
        .header("Authorization", auth())
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 404);
    let body: Value = none.json().await.unwrap();
    assert_eq!(body["status"], 404);

    let del = p
        .http
        .delete(p.api_url("/user/alice/"))
        .header("Authorization", auth())
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    let again = p
        .http
        .delete(p.api_url("/user/alice"))
        .header("Authorization", auth())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    assert_eq!(p.routes("").await, json!({}));
}

#[tokio::test]
async fn the_api_refuses_callers_without_the_token() {
    let p = TestProxy::start(TestProxy::config()).await;
    for auth in [
        None,
        Some("token wrong"),
        Some("Bearer test-token"),
        Some("test-token"),
    ] {
        let mut req = p.http.get(p.api_url(""));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 403, "{auth:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body, json!({"status": 403, "message": "Forbidden"}));
    }
    let r = p
        .http
        .post(p.api_url("/x"))
        .json(&json!({"target": "http://127.0.0.1:1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(p.routes("").await, json!({}), "nothing was added");
}

#[tokio::test]
async fn bad_bodies_get_400_with_a_json_message() {
    let p = TestProxy::start(TestProxy::config()).await;
    let cases: [(&str, &str); 6] = [
        ("{\"target\": ", "Body not valid JSON"),
        ("", "Body not valid JSON"),
        ("{}", "Must specify 'target' as string"),
        ("{\"target\": 5}", "Must specify 'target' as string"),
        ("[1]", "Must specify 'target' as string"),
        ("{\"target\": \"not a url\"}", "not a URL"),
    ];
    for (body, message) in cases {
        let r = p
            .http
            .post(p.api_url("/x"))
            .header("Authorization", auth())
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body:?}");
        let err: Value = r.json().await.unwrap();
        assert_eq!(err["status"], 400);
        assert!(
            err["message"].as_str().unwrap().contains(message),
            "{body:?}: {err}"
        );
    }
    let r = p
        .http
        .post(p.api_url("/x"))
        .header("Authorization", auth())
        .json(&json!({"target": "ftp://127.0.0.1/"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = p
        .http
        .post(p.api_url("/a/../b"))
        .header("Authorization", auth())
        .json(&json!({"target": "http://127.0.0.1:1"}))
        .send()
        .await
        .unwrap();
    // reqwest resolves `..` itself, so this lands on /b: a valid route, not a trick.
    assert_eq!(r.status(), 201);
    let body = r#"{"target": "http://127.0.0.1:1"}"#;
    let raw = raw_request(
        p.api,
        &format!(
            "POST /api/routes/a/%2e%2e/b HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            auth(),
            body.len()
        ),
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 400"), "{raw}");
    assert!(
        body_json(&raw)["message"]
            .as_str()
            .unwrap()
            .contains("`..`"),
        "{raw}"
    );
    assert_eq!(p.routes("").await.as_object().unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_methods_and_paths() {
    let p = TestProxy::start(TestProxy::config()).await;
    let r = p
        .http
        .put(p.api_url("/x"))
        .header("Authorization", auth())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = p
        .http
        .get(format!("http://{}/api/other", p.api))
        .header("Authorization", auth())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], 404);
}

#[tokio::test]
async fn inactive_since_filters_strictly_before() {
    let p = TestProxy::start(TestProxy::config()).await;
    p.add_route("/old", json!({"target": "http://127.0.0.1:1"}))
        .await;
    let old = millis_of(&p.routes("").await["/old"]["last_activity"]);
    clock_past(old).await;
    p.add_route("/new", json!({"target": "http://127.0.0.1:1"}))
        .await;
    let new = millis_of(&p.routes("").await["/new"]["last_activity"]);
    assert!(new > old);

    let at = |m: i64| format!("?inactive_since={}", iso(m));
    let keys = |v: Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(p.routes(&at(old)).await), Vec::<String>::new());
    assert_eq!(keys(p.routes(&at(new)).await), ["/old"]);
    assert_eq!(keys(p.routes(&at(new + 1)).await), ["/new", "/old"]);
    // CHP's camel-case spelling, and an offset instead of `Z`.
    let camel = format!("?inactiveSince={}", iso(new).replace('Z', "%2B00:00"));
    assert_eq!(keys(p.routes(&camel).await), ["/old"]);

    let r = p
        .http
        .get(p.api_url("?inactive_since=last-tuesday"))
        .header("Authorization", auth())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("ISO8601"));
}

#[tokio::test]
async fn host_routing_records_the_host() {
    let p = TestProxy::start(ferrohub_proxy::Config {
        host_routing: true,
        ..TestProxy::config()
    })
    .await;
    p.add_route("/alice.example/", json!({"target": "http://127.0.0.1:1"}))
        .await;
    assert_eq!(
        p.routes("").await["/alice.example"]["host"],
        "alice.example"
    );
}

#[tokio::test]
async fn the_hubs_own_client_works_against_it() {
    let p = TestProxy::start(TestProxy::config()).await;
    let client = ProxyClient::new(&format!("http://{}", p.api), Secret::new(TOKEN));
    let spec = RouteSpec::parse("/user/alice/").unwrap();
    let mut data = Map::new();
    data.insert("user".into(), json!("alice"));
    data.insert("server_name".into(), json!(""));
    client
        .add_route(&spec, "http://127.0.0.1:8888", data)
        .await
        .unwrap();
    let routes = client.get_routes().await.unwrap();
    let entry = &routes["/user/alice"];
    assert_eq!(entry.target, "http://127.0.0.1:8888");
    assert_eq!(entry.data["user"], "alice");
    assert!(entry.last_activity.is_some());
    client.delete_route(&spec).await.unwrap();
    client.delete_route(&spec).await.unwrap(); // a missing route is fine for the client
    assert!(client.get_routes().await.unwrap().is_empty());

    let wrong = ProxyClient::new(&format!("http://{}", p.api), Secret::new("nope"));
    match wrong.get_routes().await {
        Err(ClientError::Refused { status: 403, .. }) => {}
        other => panic!("expected 403, got {other:?}"),
    }
}

#[tokio::test]
async fn without_a_token_the_api_is_open_as_in_chp() {
    let p = TestProxy::start(ferrohub_proxy::Config::default()).await;
    let r = p.http.get(p.api_url("")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

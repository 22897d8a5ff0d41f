//! Driving a [`TestHub`] through its REST API with an admin token, as the tests do to create
//! users, start servers and look at routes.

use crate::{http, poll, TestHub};
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

/// How long a server may take to be ready (a real `jupyterhub-singleuser` on a busy machine).
const READY: Duration = Duration::from_secs(90);

pub async fn create_user(hub: &TestHub, token: &str, name: &str) {
    let (status, body) = hub
        .api(Method::POST, &format!("/users/{name}"), token, None)
        .await;
    assert_eq!(status, 201, "creating {name}: {body}");
}

/// A new API token of `name`'s, with all of the user's own scopes, as scripts use.
pub async fn token_of(hub: &TestHub, admin_token: &str, name: &str) -> String {
    let (status, body) = hub
        .api(
            Method::POST,
            &format!("/users/{name}/tokens"),
            admin_token,
            Some(serde_json::json!({"note": "end-to-end test"})),
        )
        .await;
    assert_eq!(status, 201, "a token for {name}: {body}");
    body["token"].as_str().expect("a token").to_owned()
}

/// The user's model as an admin sees it (servers with their spawner state).
pub async fn user(hub: &TestHub, token: &str, name: &str) -> Value {
    let (status, body) = hub
        .api(Method::GET, &format!("/users/{name}"), token, None)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Ask for `name`'s server (`server` "" for the default one) with `options` as its body.
pub async fn request_start(
    hub: &TestHub,
    token: &str,
    name: &str,
    server: &str,
    options: Option<Value>,
) -> (u16, Value) {
    let path = if server.is_empty() {
        format!("/users/{name}/server")
    } else {
        format!("/users/{name}/servers/{server}")
    };
    hub.api(Method::POST, &path, token, options).await
}

/// Start a server, wait until the hub calls it ready, and return its model (with `state`).
pub async fn start_and_wait(
    hub: &TestHub,
    token: &str,
    name: &str,
    server: &str,
    options: Option<Value>,
) -> Value {
    let (status, body) = request_start(hub, token, name, server, options).await;
    assert!(
        status == 201 || status == 202,
        "starting {name}/{server}: {status} {body}\n{}",
        hub.process.output()
    );
    wait_ready(hub, token, name, server).await
}

/// Wait until the hub calls a server ready, and return its model (with `state`).
pub async fn wait_ready(hub: &TestHub, token: &str, name: &str, server: &str) -> Value {
    poll(READY, "the server to be ready", || async {
        let model = user(hub, token, name).await["servers"][server].clone();
        (model["ready"] == true).then_some(model)
    })
    .await
}

/// The proxy's routes, as the hub's `GET /proxy` shows them.
pub async fn routes(hub: &TestHub, token: &str) -> Value {
    let (status, body) = hub.api(Method::GET, "/proxy", token, None).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// `GET url` (with a hub token if given): status and body text.
pub async fn get_text(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = http().get(url);
    if let Some(t) = token {
        req = req.header("Authorization", format!("token {t}"));
    }
    let resp = req.send().await.expect("the proxy answers");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

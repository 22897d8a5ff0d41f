//! `/hub/api/proxy` and `/hub/api/shutdown` against the real hub and proxy binaries.

use ferrohub_e2e::{pid_alive, signal_pid, TestHub};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

const ADMIN: &str = "proxy-api-admin-token-9a8b7c6d";

fn config() -> String {
    format!(
        "[JupyterHub]\nauthenticator_class = \"dummy\"\n\n[[JupyterHub.services]]\nname = \"ops\"\napi_token = \"{ADMIN}\"\nadmin = true\n"
    )
}

#[tokio::test]
async fn proxy_routes_check_and_repoint() {
    let hub = TestHub::start("proxy-api", &config()).await;
    let (status, routes) = hub.api(Method::GET, "/proxy", ADMIN, None).await;
    assert_eq!(status, 200, "{routes}");
    let hub_route = &routes["/"];
    assert_eq!(hub_route["routespec"], "/");
    assert_eq!(
        hub_route["target"],
        format!("http://127.0.0.1:{}", hub.hub_port)
    );
    assert_eq!(hub_route["data"]["hub"], true);
    assert!(hub_route["data"]["last_activity"].is_string(), "{routes}");

    let (status, paged) = hub.api(Method::GET, "/proxy?limit=1", ADMIN, None).await;
    assert_eq!(status, 200);
    assert_eq!(paged.as_object().unwrap().len(), 1);

    assert_eq!(hub.api(Method::POST, "/proxy", ADMIN, None).await.0, 200);
    let (status, body) = hub
        .api(
            Method::PATCH,
            "/proxy",
            ADMIN,
            Some(json!({"api_url": "not a url"})),
        )
        .await;
    assert_eq!(
        (status, body["status"].as_u64()),
        (400, Some(400)),
        "{body}"
    );
    let (status, body) = hub
        .api(
            Method::PATCH,
            "/proxy",
            ADMIN,
            Some(json!({"colour": "blue"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let same = json!({"api_url": format!("http://127.0.0.1:{}", hub.proxy_api)});
    assert_eq!(
        hub.api(Method::PATCH, "/proxy", ADMIN, Some(same)).await.0,
        200
    );

    // A user's own token has no `proxy` scope.
    let (status, _) = hub.api(Method::POST, "/users/alice", ADMIN, None).await;
    assert_eq!(status, 201);
    let (_, token) = hub
        .api(Method::POST, "/users/alice/tokens", ADMIN, None)
        .await;
    let alice = token["token"].as_str().unwrap();
    assert_eq!(hub.api(Method::GET, "/proxy", alice, None).await.0, 403);
    assert_eq!(hub.api(Method::POST, "/shutdown", alice, None).await.0, 403);
}

/// `POST /shutdown` with `proxy: false` stops the hub and leaves its proxy serving.
#[tokio::test]
async fn shutdown_through_the_api_can_keep_the_proxy() {
    let mut hub = TestHub::start("shutdown", &config()).await;
    let proxy_pid: u32 = std::fs::read_to_string(hub.dir.path().join("jupyterhub-proxy.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let (status, body) = hub
        .api(
            Method::POST,
            "/shutdown",
            ADMIN,
            Some(json!({"proxy": "no"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = hub
        .api(
            Method::POST,
            "/shutdown",
            ADMIN,
            Some(json!({"proxy": false})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["message"], "Shutting down Hub");
    let exit = hub.process.wait_exit(Duration::from_secs(15)).await;
    assert!(exit.success(), "{}", hub.process.output());
    assert!(pid_alive(proxy_pid), "the proxy was asked to stay");
    signal_pid(proxy_pid, "TERM");
}

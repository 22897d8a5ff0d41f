//! A real JupyterHub runs with `ferrohub-proxy` as its proxy command: it spawns a real
//! `jupyterhub-singleuser`, and a client reaches that server's REST API and a kernel's websocket
//! through the proxy's public port, on the route JupyterHub added through the proxy's REST API.

use ferrohub_e2e::jupyterhub::{py, venv_path, JupyterHub};
use ferrohub_e2e::websocket::WebSocket;
use ferrohub_e2e::{free_port, http, poll, venv_bin};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const ADMIN_TOKEN: &str = "e2e-admin-token-3c5e7a9b1d2f4a6c";
const PROXY_TOKEN: &str = "e2e-proxy-token-8b6d4f2a0c1e3b5d";
/// A request without a body.
const NO_BODY: Value = Value::Null;

/// The JupyterHub of this test: spawns real single-user servers in the scratch directory.
async fn start_jupyterhub() -> JupyterHub {
    JupyterHub::start("jupyterhub", free_port(), PROXY_TOKEN, |scratch| {
        format!(
            "c.JupyterHub.authenticator_class = 'dummy'
c.JupyterHub.spawner_class = 'simple'
c.SimpleLocalProcessSpawner.home_dir_template = {home}
c.Spawner.cmd = [{singleuser}]
c.Spawner.args = ['--allow-root']
c.Spawner.environment = {{'PATH': {path}}}
c.Spawner.http_timeout = 90
c.Spawner.start_timeout = 90
c.JupyterHub.services = [{{'name': 'e2e', 'api_token': '{ADMIN_TOKEN}', 'admin': True}}]
",
            home = py(&format!("{}/home/{{username}}", scratch.display())),
            singleuser = py(&venv_bin("jupyterhub-singleuser").display().to_string()),
            path = py(&venv_path()),
        )
    })
    .await
}

/// The calls this test makes on its JupyterHub.
trait Calls {
    async fn api(&self, method: &str, path: &str, body: Value) -> (u16, Value);
    async fn routes(&self) -> Value;
}

impl Calls for JupyterHub {
    /// Call the hub's REST API through the proxy as the admin service.
    async fn api(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let url = self.url(&format!("/hub/api{path}"));
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        call(method, &url, ADMIN_TOKEN, body).await
    }

    /// ferrohub-proxy's route table, from its REST API.
    async fn routes(&self) -> Value {
        let url = format!("http://127.0.0.1:{}/api/routes", self.proxy_api);
        let (status, body) = call(Method::GET, &url, PROXY_TOKEN, NO_BODY).await;
        assert_eq!(status, 200, "GET {url} with the proxy's token: {body}");
        body
    }
}

/// `method url` with `Authorization: token {token}` and a JSON body unless `body` is null;
/// returns the status and the JSON answer (null when it is not JSON).
async fn call(method: Method, url: &str, token: &str, body: Value) -> (u16, Value) {
    let mut req = http().request(method.clone(), url);
    req = req.header("Authorization", format!("token {token}"));
    if !body.is_null() {
        req = req.json(&body);
    }
    let resp = req.send().await;
    let resp = resp.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn singleuser_server_and_kernel_websocket_through_ferrohub_proxy() {
    let mut hub = start_jupyterhub().await;
    let (status, body) = hub.api("POST", "/users/alice", NO_BODY).await;
    assert_eq!(status, 201, "creating alice: {body}");
    let (status, body) = hub.api("POST", "/users/alice/server", NO_BODY).await;
    assert!([201, 202].contains(&status), "spawning: {status} {body}");
    let ready = || async {
        let (status, user) = hub.api("GET", "/users/alice", NO_BODY).await;
        assert_eq!(status, 200, "GET /users/alice: {user}");
        let server = &user["servers"][""];
        assert!(server.is_object(), "alice's server stopped: {user}");
        (server["ready"] == true).then_some(())
    };
    let what = "alice's server to be ready";
    poll(Duration::from_secs(120), what, ready).await;

    // JupyterHub added alice's route through the proxy's REST API, without the trailing slash
    // as it does for CHP.
    let routes = hub.routes().await;
    let route = &routes["/user/alice"];
    assert_eq!(route["user"], "alice", "route /user/alice in {routes}");
    assert_eq!(route["server_name"], "", "route /user/alice in {routes}");

    let note = json!({"note": "e2e"});
    let (status, body) = hub.api("POST", "/users/alice/tokens", note).await;
    assert_eq!(status, 201, "minting a token for alice: {body}");
    let alice = body["token"].as_str().expect("a token").to_owned();

    let url = hub.url("/user/alice/api/status");
    let (status, body) = call(Method::GET, &url, &alice, NO_BODY).await;
    assert_eq!(status, 200, "GET {url} as alice: {body}");
    assert!(body["started"].is_string(), "GET {url}: {body}");

    let url = hub.url("/user/alice/api/kernels");
    let spec = json!({"name": "python3"});
    let (status, kernel) = call(Method::POST, &url, &alice, spec).await;
    assert_eq!(status, 201, "POST {url} as alice: {kernel}");
    let id = kernel["id"].as_str().expect("the kernel has an id");

    let path = format!("/user/alice/api/kernels/{id}/channels?session_id=e2e");
    let mut ws = WebSocket::connect(hub.public, &path, &alice).await;
    let output = ws.execute("print(6*7)").await;
    assert!(output.contains("42"), "print(6*7) printed {output:?}");

    let (status, body) = hub.api("DELETE", "/users/alice/server", NO_BODY).await;
    assert!([202, 204].contains(&status), "stopping: {status} {body}");
    let gone = || async { hub.routes().await["/user/alice"].is_null().then_some(()) };
    let what = "the proxy to drop /user/alice";
    poll(Duration::from_secs(60), what, gone).await;

    let body = json!({"proxy": true, "servers": true});
    let (status, body) = hub.api("POST", "/shutdown", body).await;
    assert_eq!(status, 202, "POST /hub/api/shutdown: {body}");
    let exit = hub.process.wait_exit(Duration::from_secs(30)).await;
    assert!(exit.success(), "JupyterHub exited with {exit} on shutdown");
    let left = hub.dir.after_exit().await;
    assert!(left.is_empty(), "running after the shutdown: {left:#?}");
}

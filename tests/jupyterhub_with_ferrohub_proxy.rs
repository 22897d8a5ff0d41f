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

/// `GET path` with `Authorization: token {token}` on the unix socket at `socket`; the status
/// and the JSON body.
async fn get_over_unix(socket: &std::path::Path, path: &str, token: &str) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::UnixStream::connect(socket)
        .await
        .unwrap_or_else(|e| panic!("connecting to {socket:?}: {e}"));
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: token {token}\r\n\
         Connection: close\r\n\r\n"
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).await.unwrap();
    let status = answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn jupyterhub_drives_the_proxy_api_over_a_unix_socket() {
    let mut socket = None;
    let mut hub = JupyterHub::start("jupyterhub-unix", free_port(), PROXY_TOKEN, |scratch| {
        let path = scratch.join("proxy-api.sock");
        let url = format!(
            "http+unix://{}",
            path.display().to_string().replace('/', "%2F")
        );
        socket = Some(path);
        format!(
            "c.JupyterHub.authenticator_class = 'dummy'
c.ConfigurableHTTPProxy.api_url = {url}
c.JupyterHub.services = [{{'name': 'e2e', 'api_token': '{ADMIN_TOKEN}', 'admin': True}}]
",
            url = py(&url),
        )
    })
    .await;
    let socket = socket.expect("the configuration was written");
    // JupyterHub answering through the proxy's public port means it added its own route
    // through the API on the socket (it passes no --default-target); the table says so too.
    let (status, routes) = get_over_unix(&socket, "/api/routes", PROXY_TOKEN).await;
    assert_eq!(status, 200, "GET /api/routes on {socket:?}: {routes}");
    assert_eq!(routes["/"]["hub"], true, "the hub's route in {routes}");
    let (status, _) = get_over_unix(&socket, "/api/routes", "wrong-token").await;
    assert_eq!(status, 403);

    let body = json!({"proxy": true, "servers": true});
    let (status, body) = hub.api("POST", "/shutdown", body).await;
    assert_eq!(status, 202, "POST /hub/api/shutdown: {body}");
    let exit = hub.process.wait_exit(Duration::from_secs(30)).await;
    assert!(exit.success(), "JupyterHub exited with {exit} on shutdown");
    let gone = || async { (!socket.exists()).then_some(()) };
    poll(
        Duration::from_secs(15),
        "the API socket file to be removed",
        gone,
    )
    .await;
}

//! A real JupyterHub runs with `ferrohub-proxy` as its proxy command: it spawns a real
//! `jupyterhub-singleuser`, and a client reaches that server's REST API and a kernel's websocket
//! through the proxy's public port, on the route JupyterHub added through the proxy's REST API.

use ferrohub_e2e::websocket::WebSocket;
use ferrohub_e2e::{
    bin, free_port, http, pid_alive, poll, signal_pid, status_of, venv_bin, Running, ScratchDir,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ADMIN_TOKEN: &str = "e2e-admin-token-3c5e7a9b1d2f4a6c";
const PROXY_TOKEN: &str = "e2e-proxy-token-8b6d4f2a0c1e3b5d";
/// A request without a body.
const NO_BODY: Value = Value::Null;

/// JupyterHub (from the test venv) with ferrohub-proxy, on ports of its own, in a scratch
/// directory. Dropping it stops JupyterHub, then kills whatever it left running.
struct JupyterHub {
    process: Running,
    dir: Leftovers,
    public: u16,
    proxy_api: u16,
}

impl JupyterHub {
    async fn start() -> JupyterHub {
        let dir = ScratchDir::new("jupyterhub");
        let (public, hub_port, proxy_api) = (free_port(), free_port(), free_port());
        let venv_bin_dir = venv_bin("jupyterhub").parent().unwrap().to_owned();
        let path = format!("{}:/usr/local/bin:/usr/bin:/bin", venv_bin_dir.display());
        // JSON strings are valid Python string literals.
        let py = |s: &str| serde_json::to_string(s).unwrap();
        let scratch = dir.path().display().to_string();
        let config = format!(
            "c.JupyterHub.bind_url = 'http://127.0.0.1:{public}'
c.JupyterHub.hub_bind_url = 'http://127.0.0.1:{hub_port}'
c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{proxy_api}'
c.ConfigurableHTTPProxy.command = [{proxy}]
c.ConfigurableHTTPProxy.should_start = True
c.JupyterHub.db_url = {db}
c.JupyterHub.cookie_secret_file = {cookie}
c.JupyterHub.authenticator_class = 'dummy'
c.JupyterHub.spawner_class = 'simple'
c.SimpleLocalProcessSpawner.home_dir_template = {home}
c.Spawner.cmd = [{singleuser}]
c.Spawner.args = ['--allow-root']
c.Spawner.environment = {{'PATH': {path}}}
c.Spawner.http_timeout = 90
c.Spawner.start_timeout = 90
c.JupyterHub.services = [{{'name': 'e2e', 'api_token': '{ADMIN_TOKEN}', 'admin': True}}]
",
            proxy = py(&bin("ferrohub-proxy").display().to_string()),
            db = py(&format!("sqlite:///{scratch}/jupyterhub.sqlite")),
            cookie = py(&format!("{scratch}/jupyterhub_cookie_secret")),
            home = py(&format!("{scratch}/home/{{username}}")),
            singleuser = py(&venv_bin("jupyterhub-singleuser").display().to_string()),
            path = py(&path),
        );
        std::fs::write(dir.path().join("jupyterhub_config.py"), config).unwrap();
        let process = Running::start(
            &venv_bin("jupyterhub"),
            &["-f", "jupyterhub_config.py"],
            dir.path(),
            &[("CONFIGPROXY_AUTH_TOKEN", PROXY_TOKEN), ("PATH", &path)],
        );
        let hub = JupyterHub {
            process,
            dir: Leftovers(dir),
            public,
            proxy_api,
        };
        let (client, url, pid) = (http(), hub.url("/hub/api"), hub.process.pid());
        let up = || async {
            assert!(pid_alive(pid), "JupyterHub exited while starting");
            (status_of(&client, &url).await == Some(200)).then_some(())
        };
        let what = "JupyterHub to answer through ferrohub-proxy";
        poll(Duration::from_secs(60), what, up).await;
        hub
    }

    /// `http://127.0.0.1:PUBLIC{path}`
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.public)
    }

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

impl Drop for JupyterHub {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let output = self.process.output();
            eprintln!("--- JupyterHub and ferrohub-proxy output ---\n{output}");
        }
    }
}

/// The scratch directory; on drop, every process whose working directory is inside it is
/// killed before it is removed. JupyterHub starts the proxy and the single-user servers in
/// sessions of their own, so they outlive a killed JupyterHub in no common process group.
struct Leftovers(ScratchDir);

impl Leftovers {
    /// Processes running in the scratch directory, as `(pid, command line)`.
    fn processes(&self) -> Vec<(u32, String)> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return vec![];
        };
        let pids = entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok());
        let inside = |pid: &u32| {
            let cwd = std::fs::read_link(format!("/proc/{pid}/cwd"));
            cwd.is_ok_and(|cwd| cwd.starts_with(self.0.path())) && pid_alive(*pid)
        };
        let cmdline = |pid| std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        pids.filter(inside)
            .map(|pid| {
                (
                    pid,
                    String::from_utf8_lossy(&cmdline(pid)).replace('\0', " "),
                )
            })
            .collect()
    }

    /// Waits up to 10 s for the processes in the scratch directory to exit; returns the rest.
    async fn after_exit(&self) -> Vec<(u32, String)> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = self.processes();
            if left.is_empty() || Instant::now() > deadline {
                return left;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        for (pid, _) in self.processes() {
            signal_pid(pid, "KILL");
        }
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
    let mut hub = JupyterHub::start().await;
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

//! The server lifecycle with real processes: a real `jupyterhub-singleuser` started by the
//! local-process spawner and reached through the proxy, a server that fails to start, and
//! servers that outlive a hub killed with SIGKILL.

use ferrohub_e2e::websocket::WebSocket;
use ferrohub_e2e::{
    admin, http, pid_alive, poll, signal_pid, singleuser_spawner_keys, venv_bin, TestHub,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const ADMIN_TOKEN: &str = "setup-token-5c1e0b9a8d7f6e5d";

/// A minimal single-user server: serves its user's name at every path of the address
/// `JUPYTERHUB_SERVICE_URL` gives, as the spawner contract says a server must listen.
const TINY_SERVER: &str = r#"
import http.server, os, urllib.parse
url = urllib.parse.urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = os.environ["JUPYTERHUB_USER"].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer((url.hostname, url.port), Handler).serve_forever()
"#;

fn config(spawner: &str) -> String {
    format!(
        r#"
[JupyterHub]
authenticator_class = "dummy"
allow_named_servers = true

[[JupyterHub.services]]
name = "setup"
api_token = "{ADMIN_TOKEN}"
admin = true

[Spawner]
poll_interval = 1
http_timeout = 60
{spawner}

[LocalProcessSpawner]
home_dir_template = "home/{{username}}"
interrupt_timeout = 3
"#
    )
}

fn tiny_config() -> String {
    config(&format!("cmd = [\"python3\", \"-c\", '''{TINY_SERVER}''']"))
}

/// Start a server and wait until the hub calls it ready; returns its pid from the state.
async fn start_and_wait(hub: &TestHub, name: &str) -> u32 {
    let model = admin::start_and_wait(hub, ADMIN_TOKEN, name, "", None).await;
    assert_eq!(model["url"], json!(format!("/user/{name}/")));
    assert_eq!(model["pending"], Value::Null);
    let pid = model["state"]["pid"]
        .as_u64()
        .unwrap_or_else(|| panic!("the admin sees the server's state: {model}"));
    u32::try_from(pid).unwrap()
}

/// A real `jupyterhub-singleuser` (jupyter_server from PyPI) is spawned with JupyterHub's
/// environment, validates tokens against the hub, is reached through the proxy by its
/// owner and refused to another user, reports ready on the progress stream, and is gone
/// (process and route) after a stop.
#[tokio::test]
async fn real_singleuser_server_starts_answers_and_stops() {
    let hub = TestHub::start("spawn-real", &config(&singleuser_spawner_keys())).await;
    admin::create_user(&hub, ADMIN_TOKEN, "alice").await;
    admin::create_user(&hub, ADMIN_TOKEN, "bob").await;
    let pid = start_and_wait(&hub, "alice").await;
    assert!(pid_alive(pid));

    let token = |name: &'static str| {
        let hub = &hub;
        async move {
            let (status, body) = hub
                .api(
                    Method::POST,
                    &format!("/users/{name}/tokens"),
                    ADMIN_TOKEN,
                    Some(json!({"note": "test"})),
                )
                .await;
            assert_eq!(status, 201, "{body}");
            body["token"].as_str().unwrap().to_owned()
        }
    };
    let alice = token("alice").await;
    let bob = token("bob").await;
    let status_url = format!("{}/user/alice/api/status", hub.public_url());
    let (status, body) = admin::get_text(&status_url, Some(&alice)).await;
    assert_eq!(status, 200, "alice reaches her server: {body}");
    let parsed: Value = serde_json::from_str(&body).expect("jupyter_server's status is JSON");
    assert!(parsed.get("kernels").is_some(), "{parsed}");
    let (status, body) = admin::get_text(&status_url, Some(&bob)).await;
    assert_eq!(status, 403, "bob must not reach alice's server: {body}");

    // A kernel, and its websocket through the proxy.
    let resp = http()
        .post(format!("{}/user/alice/api/kernels", hub.public_url()))
        .header("Authorization", format!("token {alice}"))
        .json(&json!({"name": "python3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let kernel: Value = resp.json().await.unwrap();
    let id = kernel["id"].as_str().expect("the kernel has an id");
    let path = format!("/user/alice/api/kernels/{id}/channels?session_id=e2e");
    let mut ws = WebSocket::connect(hub.public, &path, &alice).await;
    let output = ws.execute("print(6*7)").await;
    assert!(output.contains("42"), "print(6*7) printed {output:?}");

    let (status, body) = admin::get_text(
        &format!("{}/hub/api/users/alice/server/progress", hub.public_url()),
        Some(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body.starts_with("data: ")
            && body.contains("\"ready\":true")
            && body.contains("/user/alice/"),
        "a ready server's progress is one ready event: {body}"
    );
    let route = &admin::routes(&hub, ADMIN_TOKEN).await["/user/alice/"];
    assert_eq!(route["data"]["user"], "alice", "{route}");

    let (status, body) = hub
        .api(Method::DELETE, "/users/alice/server", ADMIN_TOKEN, None)
        .await;
    assert!(status == 204 || status == 202, "{status} {body}");
    poll(
        Duration::from_secs(30),
        "the server process to exit",
        || async { (!pid_alive(pid)).then_some(()) },
    )
    .await;
    poll(
        Duration::from_secs(15),
        "the server to show as stopped",
        || async {
            (admin::user(&hub, ADMIN_TOKEN, "alice").await["server"] == Value::Null).then_some(())
        },
    )
    .await;
    assert!(admin::routes(&hub, ADMIN_TOKEN)
        .await
        .get("/user/alice/")
        .is_none());
    let (status, _) = admin::get_text(&status_url, Some(&alice)).await;
    assert_ne!(status, 200, "nothing answers for a stopped server");
}

/// A server that exits at once: the start request fails with the reason and the server's
/// own last words, the progress stream says so, and nothing is left (no route, no state).
#[tokio::test]
async fn a_server_that_fails_to_start_leaves_nothing_behind() {
    let spawner =
        r#"cmd = ["/bin/sh", "-c", "echo 'no notebook here: missing package' >&2; exit 3"]"#;
    let hub = TestHub::start("spawn-fail", &config(spawner)).await;
    admin::create_user(&hub, ADMIN_TOKEN, "carol").await;
    let (status, body) = hub
        .api(Method::POST, "/users/carol/server", ADMIN_TOKEN, None)
        .await;
    assert_eq!(status, 500, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("exited with status 3") && message.contains("no notebook here"),
        "the error says what happened: {message}"
    );
    let (status, events) = admin::get_text(
        &format!("{}/hub/api/users/carol/server/progress", hub.public_url()),
        Some(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        events.contains("\"failed\":true") && events.contains("exited with status 3"),
        "{events}"
    );
    let carol = admin::user(&hub, ADMIN_TOKEN, "carol").await;
    assert_eq!(carol["server"], Value::Null);
    assert_eq!(carol["servers"][""]["state"], json!({}), "{carol}");
    assert!(admin::routes(&hub, ADMIN_TOKEN)
        .await
        .get("/user/carol/")
        .is_none());
}

/// Servers outlive a hub killed with SIGKILL: the new hub finds every one running and
/// reachable through the proxy; a server that then dies on its own is noticed and its route
/// removed; deleting a user stops its server first.
#[tokio::test]
async fn servers_survive_a_hub_killed_with_sigkill() {
    const USERS: usize = 20;
    let mut hub = TestHub::start("spawn-restart", &tiny_config()).await;
    let names: Vec<String> = (0..USERS).map(|i| format!("user{i}")).collect();
    let mut pids = Vec::new();
    for name in &names {
        admin::create_user(&hub, ADMIN_TOKEN, name).await;
        pids.push(start_and_wait(&hub, name).await);
    }
    hub.kill_and_restart().await;

    for (name, pid) in names.iter().zip(&pids) {
        assert!(pid_alive(*pid), "{name}'s server survived the hub");
        let u = admin::user(&hub, ADMIN_TOKEN, name).await;
        assert_eq!(
            u["servers"][""]["ready"],
            json!(true),
            "{u}\n{}",
            hub.process.output()
        );
        let (status, body) =
            admin::get_text(&format!("{}/user/{name}/", hub.public_url()), None).await;
        assert_eq!(
            (status, body.as_str()),
            (200, name.as_str()),
            "{name} reachable"
        );
    }

    // A server dies on its own: the hub notices within its poll interval.
    signal_pid(pids[0], "KILL");
    poll(
        Duration::from_secs(20),
        "the dead server to be noticed",
        || async {
            (admin::user(&hub, ADMIN_TOKEN, &names[0]).await["server"] == Value::Null).then_some(())
        },
    )
    .await;
    assert!(admin::routes(&hub, ADMIN_TOKEN)
        .await
        .get("/user/user0/")
        .is_none());

    // Deleting a user with a running server stops the server first.
    let (status, body) = hub
        .api(Method::DELETE, "/users/user1", ADMIN_TOKEN, None)
        .await;
    assert_eq!(status, 204, "{body}");
    assert!(
        !pid_alive(pids[1]),
        "user1's server was stopped with the user"
    );
    assert!(admin::routes(&hub, ADMIN_TOKEN)
        .await
        .get("/user/user1/")
        .is_none());
}

/// `jupyterhub-idle-culler` (from PyPI) stops a server idle past its timeout through the
/// servers API, as against JupyterHub, and leaves a server that reports activity running.
#[tokio::test]
async fn the_idle_culler_stops_idle_servers() {
    const CULLER_TOKEN: &str = "culler-token-9d8c7b6a5f4e3d2c";
    let config = format!(
        r#"{}
[[JupyterHub.services]]
name = "idle-culler"
api_token = "{CULLER_TOKEN}"

[[JupyterHub.load_roles]]
name = "idle-culler"
scopes = ["list:users", "read:users:activity", "read:servers", "delete:servers"]
services = ["idle-culler"]
"#,
        tiny_config()
    );
    let hub = TestHub::start("spawn-culler", &config).await;
    for name in ["idle", "busy"] {
        admin::create_user(&hub, ADMIN_TOKEN, name).await;
    }
    let idle_pid = start_and_wait(&hub, "idle").await;
    let busy_pid = start_and_wait(&hub, "busy").await;
    let culler = ferrohub_e2e::Running::start(
        &venv_bin("jupyterhub-idle-culler"),
        &[
            &format!("--url={}", hub.api_url()),
            "--timeout=3",
            "--cull-every=1",
        ],
        hub.dir.path(),
        &[("JUPYTERHUB_API_TOKEN", CULLER_TOKEN)],
    );
    // The busy server reports activity, as jupyterhub-singleuser does, until the idle one is
    // gone.
    poll(
        Duration::from_secs(60),
        "the culler to stop the idle server",
        || async {
            let now = chrono::Utc::now().to_rfc3339();
            let body = json!({"servers": {"": {"last_activity": now}}, "last_activity": now});
            let (status, answer) = hub
                .api(
                    Method::POST,
                    "/users/busy/activity",
                    ADMIN_TOKEN,
                    Some(body),
                )
                .await;
            assert_eq!(status, 200, "{answer}");
            // Stopped means its process is gone too, not only its route (a stop may take a
            // moment after the culler's request returns 202).
            let stopped = admin::user(&hub, ADMIN_TOKEN, "idle").await["server"] == Value::Null
                && !pid_alive(idle_pid);
            stopped.then_some(())
        },
    )
    .await;
    assert!(pid_alive(busy_pid), "the busy server is left alone");
    assert_eq!(
        admin::user(&hub, ADMIN_TOKEN, "busy").await["servers"][""]["ready"],
        json!(true)
    );
    let out = culler.output();
    assert!(out.contains("Culling server idle"), "{out}");
    assert!(!out.contains("Traceback"), "{out}");
}

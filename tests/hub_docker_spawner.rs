//! The Docker spawner against the real engine, with the `ferrohub-test-singleuser` image
//! `scripts/build-test-images.sh` builds: a server in a container reached through the proxy,
//! images that do not exist or are not allowed, a command that cannot run, a volume the
//! engine refuses, an engine that cannot be reached, and containers that outlive a hub killed with SIGKILL.

use ferrohub_e2e::{admin, poll, TestHub};
use reqwest::Method;
use serde_json::{json, Value};
use std::process::Command;
use std::time::{Duration, Instant};

const ADMIN_TOKEN: &str = "setup-token-d0c4e7a1b2c3d4e5";
const IMAGE: &str = "ferrohub-test-singleuser:latest";
/// The label every container of one test carries, so its guard can remove them all.
const RUN_LABEL: &str = "ferrohub.e2e.run";

/// Removes every container a test started, by label, however the test ends.
struct Containers {
    run: String,
}

impl Containers {
    fn new(test: &str) -> Containers {
        assert!(
            docker(&["image", "inspect", IMAGE]).is_some(),
            "{IMAGE} is missing: run `bash scripts/build-test-images.sh` (scripts/test.sh does)"
        );
        Containers {
            run: format!("{test}-{}", std::process::id()),
        }
    }

    /// Ids of this test's containers, running or not.
    fn ids(&self) -> Vec<String> {
        let filter = format!("label={RUN_LABEL}={}", self.run);
        docker(&["ps", "-aq", "--filter", &filter])
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Containers {
    fn drop(&mut self) {
        for id in self.ids() {
            let _ = docker(&["rm", "-f", "-v", &id]);
        }
    }
}

/// Run the docker CLI (for inspection and cleanup only; the hub uses the engine's API);
/// `None` if it fails.
fn docker(args: &[&str]) -> Option<String> {
    let out = Command::new("docker").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `docker inspect` of one container, or `None` once it no longer exists.
fn inspect(id: &str) -> Option<Value> {
    let text = docker(&["container", "inspect", id])?;
    let mut all: Vec<Value> = serde_json::from_str(&text).ok()?;
    all.pop()
}

fn config(containers: &Containers, docker_spawner: &str) -> String {
    format!(
        r#"
[JupyterHub]
authenticator_class = "dummy"
spawner_class = "docker"
allow_named_servers = true

[[JupyterHub.services]]
name = "setup"
api_token = "{ADMIN_TOKEN}"
admin = true

[Spawner]
poll_interval = 1
http_timeout = 30
mem_limit = "256M"
cpu_limit = 0.5

[DockerSpawner]
image = "{IMAGE}"
name_template = "{run}-{{username}}"
extra_labels = {{ "{RUN_LABEL}" = "{run}" }}
stop_timeout = 2
{docker_spawner}
"#,
        run = containers.run
    )
}

/// Start a server, wait until the hub calls it ready, and return its container id.
async fn start_and_wait(hub: &TestHub, name: &str, server: &str, options: Option<Value>) -> String {
    let model = admin::start_and_wait(hub, ADMIN_TOKEN, name, server, options).await;
    model["state"]["container_id"]
        .as_str()
        .unwrap_or_else(|| panic!("the admin sees the container in the state: {model}"))
        .to_owned()
}

/// A server in a container: reached through the proxy, started with JupyterHub's environment,
/// labelled and limited as configured, and removed with its route when stopped.
#[tokio::test]
async fn a_server_runs_in_a_labelled_limited_container() {
    let containers = Containers::new("docker-run");
    let hub = TestHub::start("docker-run", &config(&containers, "")).await;
    admin::create_user(&hub, ADMIN_TOKEN, "alice").await;
    let id = start_and_wait(&hub, "alice", "", None).await;

    let (status, body) = admin::get_text(&format!("{}/user/alice/", hub.public_url()), None).await;
    assert_eq!((status, body.as_str()), (200, "alice"));
    let (status, body) =
        admin::get_text(&format!("{}/user/alice/env", hub.public_url()), None).await;
    assert_eq!(status, 200, "{body}");
    let env: Value = serde_json::from_str(&body).expect("the server's env as JSON");
    assert!(
        env["JUPYTERHUB_API_TOKEN"]
            .as_str()
            .is_some_and(|t| t.len() > 16),
        "{env}"
    );
    assert_eq!(env["JUPYTERHUB_USER"], "alice");
    assert_eq!(env["JUPYTERHUB_SERVICE_PREFIX"], "/user/alice/");
    assert_eq!(
        env["JUPYTERHUB_SERVICE_URL"],
        "http://0.0.0.0:8888/user/alice/"
    );
    assert_eq!(env["JUPYTER_IMAGE_SPEC"], IMAGE);
    assert_eq!(env["MEM_LIMIT"], "256M");
    assert_ne!(
        env["PATH"].as_str(),
        std::env::var("PATH").ok().as_deref(),
        "the hub's PATH stays out of the container"
    );

    let info = inspect(&id).expect("the container exists");
    let labels = &info["Config"]["Labels"];
    assert_eq!(
        labels["org.jupyter.service"], "ferrohub-singleuser",
        "{labels}"
    );
    assert_eq!(labels["ferrohub.user"], "alice");
    assert_eq!(labels["ferrohub.server"], "");
    assert_eq!(info["Name"], format!("/{}-alice", containers.run));
    assert_eq!(info["HostConfig"]["Memory"], json!(256 << 20));
    assert_eq!(info["HostConfig"]["NanoCpus"], json!(500_000_000));
    let published = &info["NetworkSettings"]["Ports"]["8888/tcp"][0];
    assert_eq!(published["HostIp"], "127.0.0.1", "{published}");

    let (status, body) = hub
        .api(Method::DELETE, "/users/alice/server", ADMIN_TOKEN, None)
        .await;
    assert!(status == 204 || status == 202, "{status} {body}");
    poll(
        Duration::from_secs(30),
        "the container to be removed",
        || async { inspect(&id).is_none().then_some(()) },
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
    assert!(containers.ids().is_empty(), "nothing is left");
}

/// An image the engine does not have fails the start at once with a message saying what to
/// do, and leaves no container, route or running record.
#[tokio::test]
async fn an_unknown_image_fails_fast_and_leaves_nothing() {
    let containers = Containers::new("docker-noimage");
    let hub = TestHub::start(
        "docker-noimage",
        &config(&containers, "").replace(IMAGE, "no-such-image:1"),
    )
    .await;
    admin::create_user(&hub, ADMIN_TOKEN, "carol").await;
    let began = Instant::now();
    let (status, body) = admin::request_start(&hub, ADMIN_TOKEN, "carol", "", None).await;
    assert!(began.elapsed() < Duration::from_secs(10), "fails fast");
    assert_eq!(status, 500, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("no-such-image:1 is not available on this Docker engine")
            && message.contains("build or load it first"),
        "the error says what to do: {message}"
    );
    let carol = admin::user(&hub, ADMIN_TOKEN, "carol").await;
    assert_eq!(carol["server"], Value::Null, "{carol}");
    assert!(admin::routes(&hub, ADMIN_TOKEN)
        .await
        .get("/user/carol/")
        .is_none());
    assert!(containers.ids().is_empty());
}

/// A command the image cannot run fails the start with Docker's reason, and the container
/// created for it is removed again.
#[tokio::test]
async fn a_command_that_cannot_run_leaves_no_container() {
    let containers = Containers::new("docker-nocmd");
    let extra = r#"cmd = ["/no/such/program"]"#;
    let hub = TestHub::start("docker-nocmd", &config(&containers, extra)).await;
    admin::create_user(&hub, ADMIN_TOKEN, "fay").await;
    let (status, body) = admin::request_start(&hub, ADMIN_TOKEN, "fay", "", None).await;
    assert_eq!(status, 500, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("Docker could not start container")
            && message.contains("/no/such/program"),
        "{message}"
    );
    assert!(
        containers.ids().is_empty(),
        "the failed container was removed"
    );
    assert!(admin::routes(&hub, ADMIN_TOKEN)
        .await
        .get("/user/fay/")
        .is_none());
}

/// A volume the engine refuses (a relative host path, which Docker reads as an invalid
/// volume name) fails the start with Docker's reason naming it, and leaves nothing behind.
#[tokio::test]
async fn a_volume_the_engine_refuses_is_a_readable_error() {
    let containers = Containers::new("docker-badvolume");
    let extra = r#"volumes = { "relative/data-{username}" = "/data" }"#;
    let hub = TestHub::start("docker-badvolume", &config(&containers, extra)).await;
    admin::create_user(&hub, ADMIN_TOKEN, "gus").await;
    let (status, body) = admin::request_start(&hub, ADMIN_TOKEN, "gus", "", None).await;
    assert_eq!(status, 500, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("Docker") && message.contains("relative/data-gus"),
        "{message}"
    );
    assert!(containers.ids().is_empty(), "no container is left");
    assert!(admin::routes(&hub, ADMIN_TOKEN)
        .await
        .get("/user/gus/")
        .is_none());
    let gus = admin::user(&hub, ADMIN_TOKEN, "gus").await;
    assert_eq!(gus["server"], Value::Null, "{gus}");
}

/// The hub starts without a reachable engine; a spawn then says the engine cannot be reached.
#[tokio::test]
async fn an_unreachable_engine_is_a_readable_error() {
    let containers = Containers::new("docker-noengine");
    let extra = r#"docker_host = "unix:///nonexistent/docker.sock""#;
    let hub = TestHub::start("docker-noengine", &config(&containers, extra)).await;
    admin::create_user(&hub, ADMIN_TOKEN, "dave").await;
    let (status, body) = admin::request_start(&hub, ADMIN_TOKEN, "dave", "", None).await;
    assert_eq!(status, 500, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("cannot reach the Docker engine at unix:///nonexistent/docker.sock"),
        "{message}"
    );
}

/// Users choose among `allowed_images` through `user_options`; an image outside the list, or
/// one the engine lacks, is refused with a readable message.
#[tokio::test]
async fn users_choose_only_allowed_images() {
    let containers = Containers::new("docker-choice");
    // The default image does not exist: a server that runs proves the choice was used.
    let extra = format!("allowed_images = [\"{IMAGE}\", \"no-such-image:2\"]");
    let hub = TestHub::start(
        "docker-choice",
        &config(&containers, &extra).replace(
            &format!("image = \"{IMAGE}\""),
            "image = \"no-such-image:2\"",
        ),
    )
    .await;
    admin::create_user(&hub, ADMIN_TOKEN, "erin").await;

    let (status, body) = admin::request_start(
        &hub,
        ADMIN_TOKEN,
        "erin",
        "",
        Some(json!({"image": "evil:1"})),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`evil:1` is not one of the allowed images") && message.contains(IMAGE),
        "{message}"
    );
    let (status, body) = admin::request_start(
        &hub,
        ADMIN_TOKEN,
        "erin",
        "",
        Some(json!({"image": "no-such-image:2"})),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap_or_default()
        .contains("build or load it first"));
    assert!(containers.ids().is_empty());

    let id = start_and_wait(&hub, "erin", "", Some(json!({"image": IMAGE}))).await;
    let info = inspect(&id).expect("the container exists");
    assert_eq!(info["Config"]["Image"], IMAGE);
    let erin = admin::user(&hub, ADMIN_TOKEN, "erin").await;
    assert_eq!(
        erin["servers"][""]["user_options"],
        json!({"image": IMAGE}),
        "{erin}"
    );
    let (status, body) = admin::get_text(&format!("{}/user/erin/", hub.public_url()), None).await;
    assert_eq!((status, body.as_str()), (200, "erin"));
}

/// Twenty containers outlive a hub killed with SIGKILL: the new hub finds each one ready and
/// reachable; a container killed behind the hub's back is noticed, its route removed and
/// the container cleaned up.
#[tokio::test]
async fn containers_survive_a_hub_killed_with_sigkill() {
    let containers = Containers::new("docker-restart");
    let mut hub = TestHub::start("docker-restart", &config(&containers, "")).await;
    // Nineteen default servers and one named one, all started at once.
    let mut servers: Vec<(String, &str)> = (0..19).map(|i| (format!("user{i}"), "")).collect();
    servers.push(("user0".into(), "lab"));
    for (name, _) in servers.iter().filter(|(_, server)| server.is_empty()) {
        admin::create_user(&hub, ADMIN_TOKEN, name).await;
    }
    for (name, server) in &servers {
        let (status, body) = admin::request_start(&hub, ADMIN_TOKEN, name, server, None).await;
        assert!(
            status == 201 || status == 202,
            "{name}/{server}: {status} {body}"
        );
    }
    let mut ids = Vec::new();
    for (name, server) in &servers {
        let model = admin::wait_ready(&hub, ADMIN_TOKEN, name, server).await;
        ids.push(model["state"]["container_id"].as_str().unwrap().to_owned());
    }
    let lab = inspect(ids.last().unwrap()).expect("the named server's container");
    assert_eq!(lab["Name"], format!("/{}-user0--lab", containers.run));
    assert_eq!(lab["Config"]["Labels"]["ferrohub.server"], "lab");

    hub.kill_and_restart().await;

    for ((name, server), id) in servers.iter().zip(&ids) {
        let server = *server;
        let info = inspect(id).expect("the container outlived the hub");
        assert_eq!(info["State"]["Running"], json!(true));
        let u = admin::user(&hub, ADMIN_TOKEN, name).await;
        assert_eq!(
            u["servers"][server]["ready"],
            json!(true),
            "{u}\n{}",
            hub.process.output()
        );
        let url = format!(
            "{}/user/{name}/{}",
            hub.public_url(),
            if server.is_empty() {
                String::new()
            } else {
                format!("{server}/")
            }
        );
        let (status, body) = admin::get_text(&url, None).await;
        assert_eq!(
            (status, body.as_str()),
            (200, name.as_str()),
            "{url} reachable"
        );
    }

    // A container dies behind the hub's back: noticed within the poll interval.
    docker(&["kill", &ids[1]]).expect("docker kill");
    poll(
        Duration::from_secs(20),
        "the dead server to be noticed",
        || async {
            (admin::user(&hub, ADMIN_TOKEN, "user1").await["server"] == Value::Null).then_some(())
        },
    )
    .await;
    assert!(admin::routes(&hub, ADMIN_TOKEN)
        .await
        .get("/user/user1/")
        .is_none());
    poll(
        Duration::from_secs(20),
        "the dead container to be removed",
        || async { inspect(&ids[1]).is_none().then_some(()) },
    )
    .await;
    let (status, body) = admin::get_text(&format!("{}/user/user0/", hub.public_url()), None).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "user0"),
        "the others still run"
    );
}

//! The real `ferrohub` binary starting from nothing, from a file, and refusing bad files.

use ferrohub_e2e::{bin, free_port, http, pid_alive, poll, status_of, Running, ScratchDir};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

const START: Duration = Duration::from_secs(30);

/// With no configuration at all, in an empty directory, the hub uses JupyterHub's ports,
/// starts its proxy, answers /hub/health through the proxy's public port, creates its state
/// files, and prints a one-time link to set the admin's password. SIGTERM stops hub and proxy.
#[tokio::test]
async fn starts_with_no_configuration_in_an_empty_directory() {
    let dir = ScratchDir::new("defaults");
    let mut hub = Running::start(&bin("ferrohub"), &[], dir.path(), &[]);
    let client = http();
    poll(START, "/hub/health through the proxy on :8000", || async {
        (status_of(&client, "http://127.0.0.1:8000/hub/health").await == Some(200)).then_some(())
    })
    .await;
    let out = hub
        .wait_for_output("http://127.0.0.1:8000/hub/set-password?token=", START)
        .await;
    assert!(
        out.contains("admin user `admin` has no password yet"),
        "{out}"
    );
    assert!(out.contains("PIN "), "{out}");
    assert!(!out.to_lowercase().contains("default password"), "{out}");

    let secret = dir.path().join("jupyterhub_cookie_secret");
    let mode = std::fs::metadata(&secret)
        .expect("cookie secret written")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(dir.path().join("jupyterhub.sqlite").is_file());
    let api = client
        .get("http://127.0.0.1:8081/hub/api")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
    assert!(api.headers().contains_key("x-jupyterhub-version"));

    let proxy_pid: u32 = std::fs::read_to_string(dir.path().join("jupyterhub-proxy.pid"))
        .expect("proxy pid file")
        .trim()
        .parse()
        .unwrap();
    assert!(pid_alive(proxy_pid));
    hub.signal("TERM");
    let status = hub.wait_exit(Duration::from_secs(15)).await;
    assert!(
        status.success(),
        "exit {status:?}; output:\n{}",
        hub.output()
    );
    assert!(
        !pid_alive(proxy_pid),
        "cleanup_proxy stops the proxy the hub started"
    );
    assert!(status_of(&client, "http://127.0.0.1:8000/hub/health")
        .await
        .is_none());
}

/// Every test below runs on ports of its own, given on the command line.
fn port_args(public: u16, hub: u16, api: u16) -> Vec<String> {
    vec![
        format!("--JupyterHub.bind_url=http://127.0.0.1:{public}"),
        format!("--JupyterHub.hub_bind_url=http://127.0.0.1:{hub}"),
        format!("--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{api}"),
    ]
}

#[tokio::test]
async fn a_misspelt_key_stops_start_up_naming_the_key() {
    let dir = ScratchDir::new("misspelt");
    std::fs::write(
        dir.path().join("jupyterhub_config.toml"),
        "[JupyterHub]\nbase_url = \"/jh/\"\nallow_named_server = true\n",
    )
    .unwrap();
    let mut hub = Running::start(
        &bin("ferrohub"),
        &["-f", "jupyterhub_config.toml"],
        dir.path(),
        &[],
    );
    let status = hub.wait_exit(START).await;
    assert!(!status.success());
    let out = hub.output();
    assert!(out.contains("`JupyterHub.allow_named_server`"), "{out}");
    assert!(out.contains("did you mean `allow_named_servers`"), "{out}");
    assert!(
        !dir.path().join("jupyterhub.sqlite").exists(),
        "nothing is created on a bad config"
    );
}

/// `--generate-config` prints the example file, and the hub starts from it.
#[tokio::test]
async fn the_generated_example_config_starts_a_hub() {
    let dir = ScratchDir::new("example");
    let out = std::process::Command::new(bin("ferrohub"))
        .arg("--generate-config")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../jupyterhub_config.example.toml"
    ))
    .unwrap();
    assert_eq!(text, shipped);
    std::fs::write(dir.path().join("c.toml"), &text).unwrap();

    let (public, hub_port, api) = (free_port(), free_port(), free_port());
    let mut args = vec!["-f".to_owned(), "c.toml".to_owned()];
    args.extend(port_args(public, hub_port, api));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let hub = Running::start(&bin("ferrohub"), &args, dir.path(), &[]);
    let client = http();
    let url = format!("http://127.0.0.1:{public}/hub/health");
    poll(START, "health through the proxy", || async {
        (status_of(&client, &url).await == Some(200)).then_some(())
    })
    .await;
    drop(hub);
}

/// A second start reuses the database and the cookie secret and prints no new link; a proxy
/// killed under the hub is started again and gets the hub's route back.
#[tokio::test]
async fn restart_keeps_state_and_a_killed_proxy_comes_back() {
    let dir = ScratchDir::new("restart");
    let (public, hub_port, api) = (free_port(), free_port(), free_port());
    let mut args = port_args(public, hub_port, api);
    args.push("--ConfigurableHTTPProxy.check_running_interval=1".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let client = http();
    let health = format!("http://127.0.0.1:{public}/hub/health");

    let mut first = Running::start(&bin("ferrohub"), &args, dir.path(), &[]);
    first.wait_for_output("set-password?token=", START).await;
    let secret = std::fs::read_to_string(dir.path().join("jupyterhub_cookie_secret")).unwrap();
    first.signal("TERM");
    assert!(first.wait_exit(START).await.success());

    let second = Running::start(&bin("ferrohub"), &args, dir.path(), &[]);
    second.wait_for_output("is running at", START).await;
    assert!(
        !second.output().contains("set-password?token="),
        "{}",
        second.output()
    );
    assert_eq!(
        secret,
        std::fs::read_to_string(dir.path().join("jupyterhub_cookie_secret")).unwrap()
    );

    let pid_file = dir.path().join("jupyterhub-proxy.pid");
    let old_pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    ferrohub_e2e::signal_pid(old_pid, "KILL");
    let new_pid = poll(START, "a new proxy serving the hub route", || async {
        let pid: u32 = std::fs::read_to_string(&pid_file)
            .ok()?
            .trim()
            .parse()
            .ok()?;
        (pid != old_pid && status_of(&client, &health).await == Some(200)).then_some(pid)
    })
    .await;
    assert!(
        second
            .output()
            .contains("the proxy exited; starting it again"),
        "{}",
        second.output()
    );
    // Stopping the hub right after a restart stops the new proxy too (a restart in
    // progress is finished, not abandoned).
    let mut second = second;
    second.signal("TERM");
    assert!(second.wait_exit(START).await.success());
    assert!(!pid_alive(new_pid), "the restarted proxy outlived the hub");
}

#[tokio::test]
async fn json_logs_on_request() {
    let dir = ScratchDir::new("json");
    let (public, hub_port, api) = (free_port(), free_port(), free_port());
    let mut args = port_args(public, hub_port, api);
    args.push("--log-format=json".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let hub = Running::start(&bin("ferrohub"), &args, dir.path(), &[]);
    let out = hub.wait_for_output("is running at", START).await;
    let line = out.lines().find(|l| l.contains("is running at")).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(line).expect("a JSON log line");
    assert_eq!(parsed["level"], "INFO");
}

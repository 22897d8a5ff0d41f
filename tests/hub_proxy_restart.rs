//! The proxy killed with SIGKILL while the hub is down too: started again by hand with the
//! same command line, it serves every server's route from its routes file without the hub;
//! when the hub comes back it takes the proxy over (through the pid file, as JupyterHub does)
//! and reconciles the table: a server that died meanwhile loses its route, the others keep
//! theirs.

use ferrohub_e2e::{admin, bin, http, pid_alive, poll, signal_pid, Running, TestHub};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const ADMIN_TOKEN: &str = "setup-token-4a8c2e6f1b3d5a7c";
const USERS: usize = 5;

fn config() -> String {
    format!(
        r#"
[JupyterHub]
authenticator_class = "dummy"

[[JupyterHub.services]]
name = "setup"
api_token = "{ADMIN_TOKEN}"
admin = true

[Spawner]
# A small single-user server that answers its user's name under its prefix.
cmd = ["{}"]
poll_interval = 1

[LocalProcessSpawner]
interrupt_timeout = 2
"#,
        bin("ferrohub-test-singleuser").display()
    )
}

/// A running process' command line, environment and working directory, from `/proc`.
fn launch_of(pid: u32) -> (Vec<String>, Vec<(String, String)>, PathBuf) {
    let split = |file: &str| -> Vec<String> {
        std::fs::read(format!("/proc/{pid}/{file}"))
            .unwrap_or_else(|e| panic!("reading /proc/{pid}/{file}: {e}"))
            .split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect()
    };
    let env = split("environ")
        .into_iter()
        .filter_map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        })
        .collect();
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap();
    (split("cmdline"), env, cwd)
}

async fn all_served(hub: &TestHub, users: &[String]) -> bool {
    for name in users {
        let url = format!("{}/user/{name}/", hub.public_url());
        // Refused connections count as not served: the proxy may not be listening yet.
        let Ok(resp) = http().get(&url).send().await else {
            return false;
        };
        if resp.status() != 200 || resp.text().await.ok().as_deref() != Some(name.as_str()) {
            return false;
        }
    }
    true
}

#[tokio::test]
async fn routes_come_back_from_the_routes_file_while_the_hub_is_down() {
    let mut hub = TestHub::start("proxy-restart", &config()).await;
    let users: Vec<String> = (0..USERS).map(|i| format!("user{i}")).collect();
    let mut pids = Vec::new();
    for name in &users {
        admin::create_user(&hub, ADMIN_TOKEN, name).await;
        let model = admin::start_and_wait(&hub, ADMIN_TOKEN, name, "", None).await;
        pids.push(model["state"]["pid"].as_u64().unwrap() as u32);
    }
    assert!(all_served(&hub, &users).await);

    // The hub dies first, then its proxy.
    let proxy_pid: u32 = std::fs::read_to_string(hub.dir.path().join("jupyterhub-proxy.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let (command, env, cwd) = launch_of(proxy_pid);
    assert!(
        command.iter().any(|a| a == "--routes-file"),
        "the hub gives its proxy a routes file: {command:?}"
    );
    hub.process.signal("KILL");
    signal_pid(proxy_pid, "KILL");
    poll(
        Duration::from_secs(10),
        "hub and proxy to be gone",
        || async { (!pid_alive(proxy_pid) && !pid_alive(hub.process.pid())).then_some(()) },
    )
    .await;

    // An administrator (or systemd) starts the proxy again; the hub is still down. With the
    // hub's pid file, the hub will find it when it comes back and replace it with its own.
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut args: Vec<&str> = command[1..].iter().map(String::as_str).collect();
    args.extend(["--pid-file", "jupyterhub-proxy.pid"]);
    let restarted = Instant::now();
    let proxy = Running::start(&PathBuf::from(&command[0]), &args, &cwd, &env);
    poll(
        Duration::from_secs(5),
        "every route to be served again without the hub",
        || async { all_served(&hub, &users).await.then_some(()) },
    )
    .await;
    eprintln!("routes back after {:?}", restarted.elapsed());

    // A server dies while the hub is down; the hub, back, reconciles the proxy's table.
    signal_pid(pids[0], "KILL");
    poll(
        Duration::from_secs(10),
        "user0's server to be gone",
        || async { (!pid_alive(pids[0])).then_some(()) },
    )
    .await;
    hub.kill_and_restart().await;
    poll(
        Duration::from_secs(20),
        "the hub to drop the dead server's route",
        || async {
            let routes = admin::routes(&hub, ADMIN_TOKEN).await;
            let user0 = admin::user(&hub, ADMIN_TOKEN, "user0").await;
            (routes.get("/user/user0/").is_none() && user0["server"].is_null()).then_some(())
        },
    )
    .await;
    assert!(
        all_served(&hub, &users[1..]).await,
        "the others keep their routes"
    );
    drop(proxy);
}

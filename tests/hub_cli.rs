//! The hub's command-line tools against a real database: `upgrade-db` and `token`.

use ferrohub_e2e::{bin, free_port, http, poll, status_of, Running, ScratchDir};
use std::process::Command;
use std::time::Duration;

#[tokio::test]
async fn token_command_mints_a_token_the_running_hub_accepts() {
    let dir = ScratchDir::new("token");
    let run = |args: &[&str]| {
        Command::new(bin("ferrohub"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };

    let out = run(&["--version"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("ferrohub 0."),
        "{out:?}"
    );
    let out = run(&["--log-level", "loud"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown log level `loud`"));

    let out = run(&["upgrade-db"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("jupyterhub.sqlite").is_file());

    let out = run(&["token", "nobody"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such user: nobody"));

    // Start once so the admin exists, then mint a narrow token for it.
    let (public, hub_port, api) = (free_port(), free_port(), free_port());
    let args = [
        format!("--JupyterHub.bind_url=http://127.0.0.1:{public}"),
        format!("--JupyterHub.hub_bind_url=http://127.0.0.1:{hub_port}"),
        format!("--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{api}"),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let hub = Running::start(&bin("ferrohub"), &args, dir.path(), &[]);
    hub.wait_for_output("is running at", Duration::from_secs(30))
        .await;

    let out = run(&["token", "admin", "--scope", "read:users", "--note", "e2e"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(token.len(), 64);
    let out = run(&["token", "admin", "--scope", "bogus:scope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown scope"));

    // A password link for a user who forgot the password: a URL and a PIN.
    let out = run(&["password-link", "nobody"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such user: nobody"));
    let out = run(&["password-link", "admin"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let link = printed.lines().next().unwrap_or("");
    let path = &link[link
        .find("/hub/set-password?token=")
        .expect("a set-password link")..];
    assert!(
        printed
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("PIN: ")),
        "{printed}"
    );

    let client = http();
    let url = format!("http://127.0.0.1:{public}/hub/api/user");
    poll(
        Duration::from_secs(30),
        "the API through the proxy",
        || async {
            (status_of(&client, &format!("http://127.0.0.1:{public}/hub/health")).await
                == Some(200))
            .then_some(())
        },
    )
    .await;
    let me: serde_json::Value = client
        .get(&url)
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "admin");
    let page = client
        .get(format!("http://127.0.0.1:{public}{path}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200, "the printed link works");

    let scopes: Vec<&str> = me["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        scopes.contains(&"read:users") && !scopes.contains(&"admin:users"),
        "{scopes:?}"
    );
    let denied = client
        .get(format!("http://127.0.0.1:{public}/hub/api/users"))
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403, "read:users alone does not list users");
}

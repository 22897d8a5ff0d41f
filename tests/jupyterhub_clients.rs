//! JupyterHub's own clients, from PyPI, against the real ferrohub binary: the idle culler and
//! a service authenticating users with `HubAuth`.

use ferrohub_e2e::{poll, venv_bin, Running, TestHub};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

const SETUP_TOKEN: &str = "setup-token-7f3a9c1e5b2d4f60";
const CULLER_TOKEN: &str = "culler-token-0d9e8f7a6b5c4d3e";
const SERVICE_TOKEN: &str = "whoami-token-1a2b3c4d5e6f7a8b";

fn config() -> String {
    format!(
        r#"
[JupyterHub]
authenticator_class = "dummy"

[[JupyterHub.services]]
name = "setup"
api_token = "{SETUP_TOKEN}"
admin = true

[[JupyterHub.services]]
name = "idle-culler"
api_token = "{CULLER_TOKEN}"

[[JupyterHub.services]]
name = "whoami"
api_token = "{SERVICE_TOKEN}"

[[JupyterHub.load_roles]]
name = "idle-culler"
scopes = ["list:users", "read:users:activity", "read:servers", "delete:servers", "admin:users"]
services = ["idle-culler"]
"#
    )
}

/// The culler deletes a user idle past its timeout, keeps an active one, and pages through
/// users with the pagination envelope exactly as against JupyterHub.
#[tokio::test]
async fn idle_culler_culls_inactive_users() {
    let hub = TestHub::start("culler", &config()).await;
    let long_ago = ago(7200);
    for name in ["idle-ivy", "busy-bob", "idle-ida"] {
        let (status, body) = hub
            .api(Method::POST, &format!("/users/{name}"), SETUP_TOKEN, None)
            .await;
        assert_eq!(status, 201, "{body}");
    }
    for (name, when) in [
        ("idle-ivy", long_ago.clone()),
        ("idle-ida", long_ago.clone()),
        ("busy-bob", ago(0)),
    ] {
        let (status, body) = hub
            .api(
                Method::POST,
                &format!("/users/{name}/activity"),
                SETUP_TOKEN,
                Some(json!({"last_activity": when})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    let culler = Running::start(
        &venv_bin("jupyterhub-idle-culler"),
        &[
            &format!("--url={}", hub.api_url()),
            "--timeout=3600",
            "--cull-every=1",
            "--cull-users=True",
            // A page size of 2 makes the culler follow `next` links.
            "--api-page-size=2",
        ],
        hub.dir.path(),
        &[("JUPYTERHUB_API_TOKEN", CULLER_TOKEN)],
    );
    poll(
        Duration::from_secs(60),
        "the culler to delete both idle users",
        || async {
            let ivy = hub
                .api(Method::GET, "/users/idle-ivy", SETUP_TOKEN, None)
                .await
                .0;
            let ida = hub
                .api(Method::GET, "/users/idle-ida", SETUP_TOKEN, None)
                .await
                .0;
            (ivy == 404 && ida == 404).then_some(())
        },
    )
    .await;
    assert_eq!(
        hub.api(Method::GET, "/users/busy-bob", SETUP_TOKEN, None)
            .await
            .0,
        200
    );
    assert_eq!(
        hub.api(Method::GET, "/users/admin", SETUP_TOKEN, None)
            .await
            .0,
        200
    );
    let out = culler.output();
    assert!(out.contains("Culling user idle-ivy"), "{out}");
    assert!(!out.contains("Traceback"), "{out}");
}

/// A service validates a user's token with `HubAuth.user_for_token`, as JupyterHub services do.
#[tokio::test]
async fn hubauth_validates_user_tokens() {
    let hub = TestHub::start("hubauth", &config()).await;
    let (status, _) = hub
        .api(Method::POST, "/users/alice", SETUP_TOKEN, None)
        .await;
    assert_eq!(status, 201);
    let (status, body) = hub
        .api(
            Method::POST,
            "/users/alice/tokens",
            SETUP_TOKEN,
            Some(json!({"note": "hubauth test"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let user_token = body["token"].as_str().unwrap().to_owned();

    let script = r#"
import json, os, sys
from jupyterhub.services.auth import HubAuth
auth = HubAuth(api_token=os.environ["SERVICE_TOKEN"], api_url=os.environ["HUB_API"], cache_max_age=0)
good = auth.user_for_token(os.environ["USER_TOKEN"], use_cache=False)
bad = auth.user_for_token("not-a-real-token", use_cache=False)
print(json.dumps({"good": good, "bad": bad}))
"#;
    let out = std::process::Command::new(venv_bin("python"))
        .args(["-c", script])
        .env("SERVICE_TOKEN", SERVICE_TOKEN)
        .env("HUB_API", hub.api_url())
        .env("USER_TOKEN", &user_token)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(out.stdout.trim_ascii()).unwrap();
    assert_eq!(result["good"]["name"], "alice", "{result}");
    assert_eq!(result["good"]["kind"], "user");
    assert!(
        result["good"]["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "read:users!user=alice"),
        "{result}"
    );
    assert_eq!(result["bad"], serde_json::Value::Null);
}

/// An ISO 8601 UTC timestamp `seconds` ago.
fn ago(seconds: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::seconds(seconds))
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

//! `ferrohub app ...` (simphony-remote's `remoteappdb app`) on the database of a running hub:
//! images checked on the real Docker engine, grants to users and groups seen by the running
//! hub's API at once, and every mistake an exit code 1 with a sentence.

use ferrohub_e2e::apps::app_command as app;
use ferrohub_e2e::TestHub;
use reqwest::Method;
use serde_json::{json, Value};
use std::process::Output;

const ADMIN_TOKEN: &str = "app-cli-admin-token-9a8b7c6d5e";
/// Built by scripts/build-test-images.sh; inspected only, never pulled.
const IMAGE: &str = "ferrohub-test-singleuser:latest";

const CONFIG: &str = r#"
[JupyterHub]
authenticator_class = "dummy"

[[JupyterHub.services]]
name = "setup"
api_token = "app-cli-admin-token-9a8b7c6d5e"
admin = true
"#;

/// The command succeeded; its standard output.
fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The command failed with exit code 1 and said `needle`.
fn refused(out: Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(needle), "wanted {needle:?} in: {stderr}");
}

#[tokio::test]
async fn apps_are_registered_granted_and_revoked_from_the_command_line() {
    let hub = TestHub::start("app-cli", CONFIG).await;
    for (path, body) in [
        ("/users", json!({"usernames": ["ada", "bo"]})),
        ("/groups/physics", json!({"users": ["bo"]})),
    ] {
        let (status, reply) = hub.api(Method::POST, path, ADMIN_TOKEN, Some(body)).await;
        assert_eq!(status, 201, "{path}: {reply}");
    }

    // Registering checks the engine unless told not to; a duplicate is refused.
    refused(
        app(&hub, &["create", "ferrohub-no-such-image:never"]),
        "no image",
    );
    assert!(ok(app(&hub, &["create", IMAGE])).contains(&format!("registered {IMAGE}")));
    ok(app(&hub, &["create", "desk:1", "--no-verify"]));
    refused(
        app(&hub, &["create", "desk:1", "--no-verify"]),
        "already exists",
    );

    let granted = ok(app(
        &hub,
        &[
            "--json",
            "grant",
            IMAGE,
            "ada",
            "--allow-home",
            "--volume",
            "/data:/data:ro",
        ],
    ));
    let granted: Value = serde_json::from_str(&granted).unwrap();
    assert_eq!(granted["user"], "ada");
    assert_eq!(granted["policy"]["allow_home"], true);
    assert_eq!(granted["policy"]["volume_source"], "/data");
    let to_group = ok(app(
        &hub,
        &["grant", "desk:1", "--group", "physics", "--allow-view"],
    ));
    assert!(
        to_group.contains("granted desk:1 to group physics"),
        "{to_group}"
    );

    // Mistakes: exit code 1 and a sentence; nothing changes.
    refused(
        app(&hub, &["grant", "desk:1", "ghost"]),
        "no such user ghost",
    );
    refused(
        app(&hub, &["grant", "desk:1", "--group", "nogroup"]),
        "no such group nogroup",
    );
    refused(
        app(&hub, &["grant", "unregistered:1", "ada"]),
        "no application is registered",
    );
    refused(
        app(&hub, &["grant", "desk:1", "ada", "--volume", "/a:/b:rx"]),
        "neither ro nor rw",
    );
    refused(
        app(
            &hub,
            &["grant", "desk:1", "--group", "physics", "--allow-view"],
        ),
        "already exists",
    );
    let all: Value = serde_json::from_str(&ok(app(&hub, &["--json", "grants"]))).unwrap();
    assert_eq!(all.as_array().map(Vec::len), Some(2), "{all}");
    let table = ok(app(&hub, &["grants", "--user", "ada"]));
    assert!(table.starts_with("MAPPING_ID"), "{table}");
    assert!(table.contains("/data:/data:ro"), "{table}");

    // The running hub sees the grants at once, each user what they may launch.
    let (status, ada) = hub
        .api(Method::GET, "/users/ada/applications", ADMIN_TOKEN, None)
        .await;
    assert_eq!(status, 200, "{ada}");
    assert_eq!(ada[0]["mapping_id"], granted["mapping_id"], "{ada}");
    assert_eq!(ada.as_array().map(Vec::len), Some(1), "{ada}");
    let (_, bo) = hub
        .api(Method::GET, "/users/bo/applications", ADMIN_TOKEN, None)
        .await;
    assert_eq!(bo[0]["image"], "desk:1", "{bo}");

    // Revoking needs the grant's own policy flags, or --revoke-all.
    refused(
        app(&hub, &["revoke", "desk:1", "--group", "physics"]),
        "holds no grant of desk:1 with this policy",
    );
    ok(app(
        &hub,
        &["revoke", "desk:1", "--group", "physics", "--allow-view"],
    ));
    refused(
        app(
            &hub,
            &["revoke", IMAGE, "ada", "--revoke-all", "--allow-home"],
        ),
        "without policy flags",
    );
    let revoked = ok(app(&hub, &["revoke", IMAGE, "ada", "--revoke-all"]));
    assert!(revoked.contains("revoked 1 grant(s)"), "{revoked}");
    let (_, bo) = hub
        .api(Method::GET, "/users/bo/applications", ADMIN_TOKEN, None)
        .await;
    assert_eq!(bo, json!([]));

    let listed = ok(app(&hub, &["list"]));
    assert!(listed.starts_with("ID  IMAGE"), "{listed}");
    assert!(
        listed.contains(IMAGE) && listed.contains("desk:1"),
        "{listed}"
    );
    ok(app(&hub, &["remove", "desk:1"]));
    refused(
        app(&hub, &["remove", "desk:1"]),
        "no application is registered",
    );
    let left: Value = serde_json::from_str(&ok(app(&hub, &["--json", "list"]))).unwrap();
    assert_eq!(left.as_array().map(Vec::len), Some(1), "{left}");
    assert_eq!(left[0]["image"], IMAGE);
}

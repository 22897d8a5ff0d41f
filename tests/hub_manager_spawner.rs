//! `spawner_class = "manager"`: the hub starts the real `ferrohub-manager` for a user with
//! JupyterHub's single-user contract; the owner lands in it through the hub's OAuth provider
//! and `ferrohub-proxy`, others are refused, tokens work for its API, it reports activity to
//! the hub, and stopping the server ends the process and its route (after which the hub's
//! not-running page answers).

use ferrohub_e2e::apps::log_in;
use ferrohub_e2e::browser::Page;
use ferrohub_e2e::{admin, http, pid_alive, poll, TestHub};
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

const ADMIN_TOKEN: &str = "setup-token-9c1e5a7b3d2f4e6a";

const CONFIG: &str = r#"
[JupyterHub]
authenticator_class = "dummy"
spawner_class = "manager"

[[JupyterHub.services]]
name = "setup"
api_token = "setup-token-9c1e5a7b3d2f4e6a"
admin = true

[Spawner]
http_timeout = 30

[Spawner.environment]
# Report activity every second instead of every five minutes, so the test sees it.
JUPYTERHUB_ACTIVITY_INTERVAL = "1"

[LocalProcessSpawner]
interrupt_timeout = 3
"#;

async fn server_model(hub: &TestHub, user: &str) -> Value {
    admin::user(hub, ADMIN_TOKEN, user).await["servers"][""].clone()
}

fn assert_manager_home(page: &Page, owner: &str, visitor: &str) {
    assert_eq!(page.status, 200, "{:?}\n{}", page.hops, page.body);
    assert!(
        page.body.contains(&format!("{owner}&#39;s server"))
            && page
                .body
                .contains(&format!("Signed in as <strong>{visitor}</strong>")),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn the_manager_spawner_runs_ferrohub_manager_under_the_single_user_contract() {
    let hub = TestHub::start("manager-spawner", CONFIG).await;
    let public = hub.public_url();
    let alice = log_in(&hub, "alice").await;
    let bob = log_in(&hub, "bob").await;
    let server = admin::start_and_wait(&hub, ADMIN_TOKEN, "alice", "", None).await;
    let pid = server["state"]["pid"].as_u64().expect("a local process") as u32;
    let port = server["state"]["port"].as_u64().expect("its port");

    // The owner goes through the hub's OAuth provider and lands on the manager's page.
    let page = alice.get(&format!("{public}/user/alice/")).await;
    assert!(
        page.hops
            .iter()
            .any(|h| h.contains("/hub/api/oauth2/authorize?client_id=jupyterhub-user-alice")),
        "{:?}",
        page.hops
    );
    assert!(
        page.hops
            .iter()
            .any(|h| h.contains("/user/alice/oauth_callback?code=")),
        "{:?}",
        page.hops
    );
    assert_manager_home(&page, "alice", "alice");
    // Once logged in, the manager's own cookie is enough: no trip to the hub.
    let again = alice.get(&format!("{public}/user/alice/")).await;
    assert_eq!(again.hops.len(), 1, "{:?}", again.hops);
    assert_manager_home(&again, "alice", "alice");

    // Another user is refused: the hub's OAuth provider grants bob no access to the server,
    // so he never gets a code for it.
    let refused = bob.get(&format!("{public}/user/alice/")).await;
    assert_eq!(refused.status, 403, "{:?}\n{}", refused.hops, refused.body);
    assert!(
        !refused
            .hops
            .iter()
            .any(|h| h.contains("/user/alice/oauth_callback?")),
        "{:?}",
        refused.hops
    );

    // Scripts use hub tokens: the owner's works, bob's and none do not (JupyterHub's JSON).
    let (alice_token, bob_token) = (
        admin::token_of(&hub, ADMIN_TOKEN, "alice").await,
        admin::token_of(&hub, ADMIN_TOKEN, "bob").await,
    );
    let status_url = format!("{public}/user/alice/api/status");
    let client = http();
    let answer = |token: Option<String>| {
        let (client, url) = (client.clone(), status_url.clone());
        async move {
            let mut req = client.get(&url);
            if let Some(t) = token {
                req = req.header("Authorization", format!("token {t}"));
            }
            let resp = req.send().await.unwrap();
            (
                resp.status().as_u16(),
                resp.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, body) = answer(Some(alice_token.clone())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"], "alice");
    for token in [None, Some(bob_token), Some("not-a-token".to_owned())] {
        let (status, body) = answer(token.clone()).await;
        assert_eq!(status, 403, "{token:?}: {body}");
        assert_eq!(body["status"], 403, "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }

    // Activity reaches the hub from the manager itself: a request straight to the process
    // (bypassing the proxy, whose activity is older) moves the server's last_activity.
    // In whole milliseconds, as activity is reported.
    let before = chrono::DateTime::from_timestamp_millis(chrono::Utc::now().timestamp_millis())
        .expect("now is a valid time");
    let direct = client
        .get(format!("http://127.0.0.1:{port}/user/alice/api/status"))
        .header("Authorization", format!("token {alice_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), 200);
    poll(
        Duration::from_secs(15),
        "the manager's activity report to reach the hub",
        || async {
            let server = server_model(&hub, "alice").await;
            let last = server["last_activity"].as_str()?;
            let last = chrono::DateTime::parse_from_rfc3339(last).ok()?;
            (last >= before).then_some(())
        },
    )
    .await;

    // Stopping the server ends the manager and its route.
    let (status, body) = hub
        .api(Method::DELETE, "/users/alice/server", ADMIN_TOKEN, None)
        .await;
    assert!(status == 204 || status == 202, "{status} {body}");
    poll(Duration::from_secs(20), "the manager to exit", || async {
        (!pid_alive(pid)).then_some(())
    })
    .await;
    let gone = alice.get(&format!("{public}/user/alice/")).await;
    // The request reaches the hub, which moves it under /hub/ (where its cookie is sent) and
    // says the server is not running instead of sending a logged-in user to log in again.
    assert_eq!(gone.status, 424, "{:?}\n{}", gone.hops, gone.body);
    assert!(gone.url.ends_with("/hub/user/alice/"), "{:?}", gone.hops);
    assert!(gone.body.contains("not running"), "{}", gone.body);
}

#[tokio::test]
async fn a_manager_started_by_hand_says_what_it_needs() {
    let dir = ferrohub_e2e::ScratchDir::new("manager-by-hand");
    let mut manager =
        ferrohub_e2e::Running::start(&ferrohub_e2e::bin("ferrohub-manager"), &[], dir.path(), &[]);
    let output = manager
        .wait_for_output("spawner_class", Duration::from_secs(10))
        .await;
    assert!(!manager.wait_exit(Duration::from_secs(10)).await.success());
    assert!(
        output.contains("JUPYTERHUB_SERVICE_URL is not set")
            && output.contains("spawner_class = \"manager\""),
        "{output}"
    );
}

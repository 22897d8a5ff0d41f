//! The hub's pages in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`) logs in through the form, starts a real `jupyterhub-singleuser` from
//! the home page, follows the live progress page (its script and the server-sent events),
//! and lands in the server through `ferrohub-proxy` after the OAuth exchange.

use ferrohub_e2e::webdriver::{ChromeDriver, Session};
use ferrohub_e2e::{poll, singleuser_spawner_keys, TestHub};

use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const ADMIN_TOKEN: &str = "chromium-admin-token-7e6d5c4b3a29";

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
{}http_timeout = 60

[LocalProcessSpawner]
home_dir_template = "home/{{username}}"
interrupt_timeout = 3
"#,
        singleuser_spawner_keys()
    )
}

/// Wait until the browser's URL satisfies `ok`; returns it.
async fn wait_for_url(session: &Session, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let url = session.current_url().await;
        if ok(&url) {
            return url;
        }
        if std::time::Instant::now() > deadline {
            let text = page_text(session).await;
            panic!("timed out waiting for {what}; the browser is at {url} showing:\n{text}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn page_text(session: &Session) -> String {
    session
        .execute(
            "return document.body ? document.body.innerText : '';",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or("")
        .to_owned()
}

#[tokio::test]
async fn chromium_logs_in_starts_a_server_and_lands_in_it() {
    let hub = TestHub::start("chromium", &config()).await;
    let public = hub.public_url();
    let driver = ChromeDriver::start().await;
    let session = driver.session().await;

    session.navigate(&format!("{public}/hub/home")).await;
    wait_for_url(&session, "the login page", |u| u.contains("/hub/login")).await;
    // Type into the form and submit it, as a user would.
    session
        .execute(
            "document.getElementById('username_input').value = arguments[0];
             document.getElementById('password_input').value = 'any';
             document.getElementById('login_submit').click();",
            vec![json!("alice")],
        )
        .await;
    wait_for_url(&session, "the home page after login", |u| {
        u.ends_with("/hub/home")
    })
    .await;
    let home = page_text(&session).await;
    assert!(
        home.contains("Default server") && home.contains("alice"),
        "{home}"
    );

    // Start: the progress page follows the spawn and opens the server when it is ready.
    std::fs::create_dir_all(hub.dir.path().join("home/alice")).unwrap();
    std::fs::write(
        hub.dir.path().join("home/alice/hello.txt"),
        "hello from chromium",
    )
    .unwrap();
    session
        .execute(
            "document.querySelector('button[name=action][value=start]').click();",
            vec![],
        )
        .await;
    wait_for_url(&session, "the progress page", |u| {
        u.contains("/hub/spawn-pending/alice") || u.contains("/user/alice/")
    })
    .await;
    let landed = wait_for_url(&session, "the progress page to open the server", |u| {
        u.contains("/user/alice/")
    })
    .await;
    assert!(!landed.contains("/hub/"), "{landed}");

    // A file behind the server's login: the OAuth exchange runs in the browser.
    session
        .navigate(&format!("{public}/user/alice/files/hello.txt"))
        .await;
    let text = poll(
        Duration::from_secs(30),
        "the file through OAuth",
        || async {
            let text = page_text(&session).await;
            text.contains("hello from chromium").then_some(text)
        },
    )
    .await;
    assert!(text.contains("hello from chromium"));
    let (status, user) = hub
        .api(Method::GET, "/users/alice", ADMIN_TOKEN, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(user["servers"][""]["ready"], Value::Bool(true), "{user}");

    session.delete().await;
    let (status, _) = hub
        .api(Method::DELETE, "/users/alice/server", ADMIN_TOKEN, None)
        .await;
    assert!(status == 204 || status == 202);
}

//! The browser side of the hub with real parts: logging in through the form, starting a real
//! `jupyterhub-singleuser` from the home page, following its progress, and landing in it
//! through the hub's OAuth provider and `ferrohub-proxy`; another user is refused; logout
//! ends the session; invitation links with a PIN set passwords for the native authenticator.

use ferrohub_e2e::browser::{Browser, Page};
use ferrohub_e2e::{singleuser_spawner_keys, TestHub};
use reqwest::Method;
use serde_json::json;

const ADMIN_TOKEN: &str = "setup-token-2b8e4d6f0a1c3e5b";

fn singleuser_config(authenticator: &str) -> String {
    format!(
        r#"
[JupyterHub]
authenticator_class = "{authenticator}"

[Authenticator]
admin_users = ["ada"]

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

async fn log_in(hub: &TestHub, browser: &Browser, name: &str, password: &str) -> Page {
    let form = browser
        .get(&format!("{}/hub/login", hub.public_url()))
        .await;
    assert_eq!(form.status, 200, "{}", form.body);
    let xsrf = form
        .field("_xsrf")
        .expect("the login form carries an XSRF token");
    browser
        .post_form(
            &format!("{}/hub/login", hub.public_url()),
            &[
                ("username", name),
                ("password", password),
                ("_xsrf", &xsrf),
                ("next", ""),
            ],
        )
        .await
}

#[tokio::test]
async fn a_user_logs_in_starts_a_server_and_lands_in_it_through_oauth() {
    let hub = TestHub::start("login-oauth", &singleuser_config("dummy")).await;
    let public = hub.public_url();
    let alice = Browser::new();

    // Pages need a login: the home page sends an anonymous browser to the form.
    let anonymous = alice.get(&format!("{public}/hub/home")).await;
    assert!(
        anonymous.url.contains("/hub/login?next=%2Fhub%2Fhome"),
        "{:?}",
        anonymous.hops
    );

    let home = log_in(&hub, &alice, "alice", "any").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.url.ends_with("/hub/home"), "{:?}", home.hops);
    assert!(home.body.contains("alice") && home.body.contains("Default server"));

    // A form without the XSRF token is refused.
    let forged = alice
        .post_form(
            &format!("{public}/hub/home"),
            &[("action", "start"), ("server", "")],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);

    let xsrf = home
        .field("_xsrf")
        .expect("home forms carry the XSRF token");
    let pending = alice
        .post_form(
            &format!("{public}/hub/home"),
            &[("action", "start"), ("server", ""), ("_xsrf", &xsrf)],
        )
        .await;
    assert_eq!(pending.status, 200, "{}", pending.body);
    assert!(
        pending.url.contains("/hub/spawn-pending/alice"),
        "{:?}",
        pending.hops
    );
    assert!(
        pending.body.contains("progress.js"),
        "the page follows progress live"
    );

    // The progress stream (what the page's script reads), with the browser's cookie.
    let events = alice
        .get(&format!("{public}/hub/api/users/alice/server/progress"))
        .await;
    assert_eq!(events.status, 200, "{}", events.body);
    assert!(events.body.contains("\"ready\":true"), "{}", events.body);
    assert!(
        events.body.contains("Server requested"),
        "every step is reported: {}",
        events.body
    );

    // Opening a file on the server: it sends the browser through the hub's OAuth provider
    // and back.
    std::fs::write(
        hub.dir.path().join("home/alice/hello.txt"),
        "hello from alice",
    )
    .unwrap();
    let landed = alice
        .get(&format!("{public}/user/alice/files/hello.txt"))
        .await;
    assert!(
        landed
            .hops
            .iter()
            .any(|h| h.contains("/hub/api/oauth2/authorize")),
        "the server logs the user in through the hub: {:?} {} {}",
        landed.hops,
        landed.status,
        &landed.body[..landed.body.len().min(600)]
    );
    assert!(
        landed
            .hops
            .iter()
            .any(|h| h.contains("/user/alice/oauth_callback?code=")),
        "{:?}",
        landed.hops
    );
    assert_eq!(
        landed.status, 200,
        "landed on {}: {}",
        landed.url, landed.body
    );
    assert_eq!(landed.body, "hello from alice");
    let status = alice.get(&format!("{public}/user/alice/api/status")).await;
    assert_eq!(
        status.status, 200,
        "the server's cookie works: {}",
        status.body
    );

    // Another user is refused at the hub's authorization step.
    let bob = Browser::new();
    log_in(&hub, &bob, "bob", "any").await;
    let refused = bob
        .get(&format!("{public}/user/alice/files/hello.txt"))
        .await;
    assert_eq!(refused.status, 403, "{:?}\n{}", refused.hops, refused.body);
    assert!(
        refused.body.contains("do not have permission"),
        "{}",
        refused.body
    );

    // After the owner's server is shared with bob, he is let in (after confirming).
    let (status, share) = hub
        .api(
            Method::POST,
            "/shares/alice/",
            ADMIN_TOKEN,
            Some(json!({"user": "bob"})),
        )
        .await;
    assert_eq!(status, 200, "{share}");
    assert_eq!(share["scopes"], json!(["access:servers!server=alice/"]));
    let (status, shared) = hub
        .api(Method::GET, "/users/bob/shared", ADMIN_TOKEN, None)
        .await;
    assert_eq!(status, 200, "{shared}");
    assert_eq!(
        shared["items"][0]["server"]["user"]["name"], "alice",
        "{shared}"
    );
    let consent = bob
        .get(&format!("{public}/user/alice/files/hello.txt"))
        .await;
    assert_eq!(consent.status, 200, "{:?}\n{}", consent.hops, consent.body);
    assert!(
        consent.body.contains("would like permission"),
        "{}",
        consent.body
    );
    let xsrf = consent
        .field("_xsrf")
        .expect("the consent form carries the XSRF token");
    let inside = bob.post_form(&consent.url, &[("_xsrf", &xsrf)]).await;
    assert_eq!(inside.status, 200, "{:?}\n{}", inside.hops, inside.body);
    assert_eq!(inside.body, "hello from alice");

    // A share code: carol accepts the link she was sent, confirms, and reads the file.
    let (status, issued) = hub
        .api(
            Method::POST,
            "/share-codes/alice/",
            ADMIN_TOKEN,
            Some(json!({"expires_in": 3600})),
        )
        .await;
    assert_eq!(status, 200, "{issued}");
    let accept_url = issued["accept_url"]
        .as_str()
        .expect("an accept URL")
        .to_owned();
    let carol = Browser::new();
    log_in(&hub, &carol, "carol", "any").await;
    let offer = carol
        .get(&format!(
            "{public}{accept_url}&next=%2Fuser%2Falice%2Ffiles%2Fhello.txt"
        ))
        .await;
    assert_eq!(offer.status, 200, "{}", offer.body);
    assert!(offer.body.contains("offers you access"), "{}", offer.body);
    let consent = carol
        .post_form(
            &format!("{public}/hub/accept-share"),
            &[
                ("_xsrf", &offer.field("_xsrf").unwrap()),
                ("code", &offer.field("code").unwrap()),
                ("next", &offer.field("next").unwrap()),
            ],
        )
        .await;
    assert!(
        consent.body.contains("would like permission"),
        "{:?}\n{}",
        consent.hops,
        consent.body
    );
    let inside = carol
        .post_form(&consent.url, &[("_xsrf", &consent.field("_xsrf").unwrap())])
        .await;
    assert_eq!(inside.body, "hello from alice", "{:?}", inside.hops);
    let (_, codes) = hub
        .api(Method::GET, "/share-codes/alice/", ADMIN_TOKEN, None)
        .await;
    assert_eq!(codes["items"][0]["exchange_count"], 1, "{codes}");
    // A revoked code no longer works.
    let (status, _) = hub
        .api(Method::DELETE, "/share-codes/alice/", ADMIN_TOKEN, None)
        .await;
    assert_eq!(status, 204);
    let gone = carol.get(&format!("{public}{accept_url}")).await;
    assert_eq!(gone.status, 404, "{}", gone.body);

    // Logout ends the session: pages ask for a login again.
    let out = alice.get(&format!("{public}/hub/logout")).await;
    assert!(out.url.ends_with("/hub/login"), "{:?}", out.hops);
    let again = alice.get(&format!("{public}/hub/home")).await;
    assert!(again.url.contains("/hub/login?next="), "{:?}", again.hops);

    let (status, _) = hub
        .api(Method::DELETE, "/users/alice/server", ADMIN_TOKEN, None)
        .await;
    assert!(status == 204 || status == 202);
}

/// An invitation link and its PIN, as an admin gets them.
async fn password_link(hub: &TestHub) -> (String, String) {
    let (status, body) = hub
        .api(Method::POST, "/users/nina/password-link", ADMIN_TOKEN, None)
        .await;
    assert_eq!(status, 201, "{body}");
    let field = |k: &str| body[k].as_str().unwrap().to_owned();
    (field("url"), field("pin"))
}

#[tokio::test]
async fn invitation_links_with_a_pin_set_passwords() {
    let hub = TestHub::start("login-native", &singleuser_config("native")).await;
    let public = hub.public_url();
    let (status, body) = hub
        .api(Method::POST, "/users/nina", ADMIN_TOKEN, None)
        .await;
    assert_eq!(status, 201, "{body}");
    let browser = Browser::new();
    // No password yet: no login.
    let refused = log_in(&hub, &browser, "nina", "Whatever-1").await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("Invalid username or password"));

    // Three wrong PINs burn the first link.
    let (url, pin) = password_link(&hub).await;
    let wrong = if pin == "0000" { "1111" } else { "0000" };
    let mut last = None;
    for _ in 0..3 {
        let form = browser.get(&url).await;
        assert_eq!(form.status, 200, "{}", form.body);
        let page = browser
            .post_form(
                &format!("{public}/hub/set-password"),
                &[
                    ("_xsrf", &form.field("_xsrf").unwrap()),
                    ("token", &form.field("token").unwrap()),
                    ("pin", wrong),
                    ("password", "Good-pass1"),
                    ("confirm", "Good-pass1"),
                ],
            )
            .await;
        last = Some(page);
    }
    let last = last.unwrap();
    assert!(last.body.contains("no longer works"), "{}", last.body);
    let burnt = browser.get(&url).await;
    assert_eq!(burnt.status, 410, "a burnt link is refused: {}", burnt.body);

    // A fresh link with the right PIN; the policy is enforced first.
    let (url, pin) = password_link(&hub).await;
    let form = browser.get(&url).await;
    let submit = |password: &'static str| {
        let (browser, form, pin, public) = (&browser, &form, &pin, &public);
        async move {
            browser
                .post_form(
                    &format!("{public}/hub/set-password"),
                    &[
                        ("_xsrf", &form.field("_xsrf").unwrap()),
                        ("token", &form.field("token").unwrap()),
                        ("pin", pin),
                        ("password", password),
                        ("confirm", password),
                    ],
                )
                .await
        }
    };
    let weak = submit("short").await;
    assert_eq!(weak.status, 400);
    assert!(weak.body.contains("at least 8 characters"), "{}", weak.body);
    let done = submit("Good-pass1").await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Your password is set"), "{}", done.body);
    assert_eq!(
        browser.get(&url).await.status,
        410,
        "a used link is refused"
    );

    let wrong = log_in(&hub, &Browser::new(), "nina", "Bad-pass1").await;
    assert_eq!(wrong.status, 403);
    let home = log_in(&hub, &Browser::new(), "nina", "Good-pass1").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.url.ends_with("/hub/home"));

    // Markup in user-controlled text is shown, never run: a token note.
    let nina = Browser::new();
    log_in(&hub, &nina, "nina", "Good-pass1").await;
    let token_page = nina.get(&format!("{public}/hub/token")).await;
    assert_eq!(token_page.status, 200, "{}", token_page.body);
    let created = nina
        .post_form(
            &format!("{public}/hub/token"),
            &[
                ("_xsrf", &token_page.field("_xsrf").unwrap()),
                ("action", "create"),
                ("note", "<script>alert(1)</script>"),
                ("expires_in", "3600"),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert!(
        created.body.contains("&lt;script&gt;alert(1)"),
        "{}",
        created.body
    );
    assert!(!created.body.contains("<script>alert(1)</script>"));
    let shown = created
        .body
        .split("<pre id=\"new_token\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .expect("the new token is shown once");
    let (status, me) = hub.api(Method::GET, "/user", shown.trim(), None).await;
    assert_eq!(
        (status, me["name"].clone()),
        (200, json!("nina")),
        "the new token works"
    );

    // An administrator locks the account: the open sessions end at once, the right password
    // no longer logs in (and the page says why), tokens are refused; unlocking undoes it.
    let cli = |command: &'static str| {
        let config = hub.dir.path().join("jupyterhub_config.toml");
        let out = std::process::Command::new(ferrohub_e2e::bin("ferrohub"))
            .args(["-f", config.to_str().unwrap(), command, "nina"])
            .current_dir(hub.dir.path())
            .output()
            .expect("ferrohub runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{command}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    assert!(cli("lock").contains("nina is locked; 2 session(s) ended"));
    let ended = nina.get(&format!("{public}/hub/home")).await;
    assert!(ended.url.contains("/hub/login"), "{:?}", ended.hops);
    let locked = log_in(&hub, &Browser::new(), "nina", "Good-pass1").await;
    assert_eq!(locked.status, 403);
    assert!(
        locked.body.contains("The account nina is locked"),
        "{}",
        locked.body
    );
    let wrong = log_in(&hub, &Browser::new(), "nina", "Bad-pass1").await;
    assert!(
        wrong.body.contains("Invalid username or password"),
        "a wrong password reveals nothing about the lock: {}",
        wrong.body
    );
    let (status, _) = hub.api(Method::GET, "/user", shown.trim(), None).await;
    assert_eq!(status, 403, "a locked account's tokens are refused");
    assert!(cli("unlock").contains("nina is unlocked"));
    let (status, _) = hub.api(Method::GET, "/user", shown.trim(), None).await;
    assert_eq!(status, 200, "and work again after unlocking");
    let back = log_in(&hub, &Browser::new(), "nina", "Good-pass1").await;
    assert!(back.url.ends_with("/hub/home"), "{:?}", back.hops);
}

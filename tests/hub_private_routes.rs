//! Private routes end to end with the real `ferrohub` and `ferrohub-proxy`: a route under
//! alice's prefix, registered with a scoped credential from `ferrohub proxy-credential`,
//! that only alice reaches after logging in through the hub's form; bob is refused, an
//! anonymous browser is sent to the login page, and after alice logs out her old proxy
//! cookie is refused even when replayed. `ferrohub proxy-key` gives an external proxy the
//! same key. `ferrohub lock`, run as a separate command while the hub runs, ends a user's
//! proxy session too, and `ferrohub unlock` does not bring it back. A logout while the proxy
//! is down reaches the proxy once it is back, and deleting a user ends their proxy sessions.

use ferrohub_e2e::browser::{Browser, Page};
use ferrohub_e2e::{
    bin, free_port, http, pid_alive, poll, signal_pid, status_of, Running, TestHub,
};
use reqwest::cookie::CookieStore;
use serde_json::json;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const CONFIG: &str = r#"
[JupyterHub]
authenticator_class = "dummy"
"#;
const SESSION_COOKIE: &str = "ferrohub-proxy-session";
const ADMIN_TOKEN: &str = "private-routes-admin-5e1f3a9c";

/// [`CONFIG`] with an admin service holding [`ADMIN_TOKEN`], and `extra` after it.
fn config_with_admin(extra: &str) -> String {
    format!(
        "{CONFIG}\n[[JupyterHub.services]]\nname = \"setup\"\napi_token = \"{ADMIN_TOKEN}\"\n\
         admin = true\n{extra}"
    )
}

/// A tiny HTTP target on 127.0.0.1:0 that answers every request with a greeting and the
/// `Cookie` header it received.
async fn target() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let cookie = head
                    .lines()
                    .find_map(|l| l.strip_prefix("cookie: ").or(l.strip_prefix("Cookie: ")))
                    .unwrap_or("");
                let body = format!("hello from the target; cookie=[{cookie}]");
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(answer.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

/// `ferrohub -f jupyterhub_config.toml ARGS...` in the hub's directory; its stdout.
fn ferrohub_cli(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(bin("ferrohub"))
        .args(["-f", "jupyterhub_config.toml"])
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("ferrohub runs");
    assert!(
        out.status.success(),
        "ferrohub {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn log_in(hub: &TestHub, browser: &Browser, name: &str) -> Page {
    let login = format!("{}/hub/login", hub.public_url());
    let form = browser.get(&login).await;
    let xsrf = form
        .field("_xsrf")
        .expect("the login form has an XSRF token");
    let page = browser
        .post_form(
            &login,
            &[("username", name), ("password", "any"), ("_xsrf", &xsrf)],
        )
        .await;
    assert_eq!(page.status, 200, "{name} logs in: {:?}", page.hops);
    page
}

/// The proxy session cookie the browser holds for `url`.
fn proxy_cookie(browser: &Browser, url: &str) -> String {
    let header = browser
        .cookies
        .cookies(&url.parse().unwrap())
        .expect("the browser has cookies");
    header
        .to_str()
        .unwrap()
        .split("; ")
        .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
        .expect("a proxy session cookie")
        .to_owned()
}

/// A GET as a browser would send it (accepting HTML), not following redirects.
async fn browser_get(url: &str, cookie: Option<&str>) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = client.get(url).header("Accept", "text/html,*/*;q=0.8");
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    req.send().await.unwrap()
}

async fn add_route(api: &str, credential: &str, spec: &str, target: &str) -> u16 {
    http()
        .post(format!("{api}/api/routes{spec}"))
        .header("Authorization", format!("token {credential}"))
        .json(&json!({"target": target, "ferrohub_access": {"owner": "alice"}}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A private route for alice at `/user/alice/private` (registered with her prefix's
/// credential from the command line, as her manager would), and the page URL under it.
async fn alice_private_page(hub: &TestHub) -> String {
    let target = target().await;
    let credential = ferrohub_cli(hub.dir.path(), &["proxy-credential", "/user/alice/"]);
    let api = format!("http://127.0.0.1:{}", hub.proxy_api);
    assert_eq!(
        add_route(&api, &credential, "/user/alice/private", &target).await,
        201
    );
    format!("{}/user/alice/private/", hub.public_url())
}

/// The `Set-Cookie` headers of a login through the form (and of the logout after it).
async fn login_and_logout_cookies(hub: &TestHub, name: &str) -> (Vec<String>, Vec<String>) {
    let client = reqwest::Client::builder()
        .no_proxy()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = format!("{}/hub/login", hub.public_url());
    let form = client
        .get(&login)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let page = Page {
        status: 200,
        url: login.clone(),
        body: form,
        hops: vec![],
    };
    let xsrf = page.field("_xsrf").expect("an XSRF token");
    let set_cookies = |r: &reqwest::Response| -> Vec<String> {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    };
    let r = client
        .post(&login)
        .form(&[("username", name), ("password", "any"), ("_xsrf", &xsrf)])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let at_login = set_cookies(&r);
    let r = client
        .get(format!("{}/hub/logout", hub.public_url()))
        .send()
        .await
        .unwrap();
    (at_login, set_cookies(&r))
}

#[tokio::test]
async fn only_the_owner_reaches_a_private_route_until_logout() {
    let hub = TestHub::start("private-routes", CONFIG).await;
    let target = target().await;

    // The proxy session cookie is set beside the hub's at login, for every path the proxy
    // serves, and cleared at logout.
    let (at_login, at_logout) = login_and_logout_cookies(&hub, "carol").await;
    let proxy_set = at_login
        .iter()
        .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
        .unwrap_or_else(|| panic!("{at_login:?}"));
    assert!(
        proxy_set.contains("; Path=/;")
            && proxy_set.contains("HttpOnly")
            && proxy_set.contains("SameSite=Lax"),
        "{proxy_set}"
    );
    assert!(
        at_logout
            .iter()
            .any(|c| c.starts_with(&format!("{SESSION_COOKIE}=;")) && c.contains("Max-Age=0")),
        "{at_logout:?}"
    );
    let api = format!("http://127.0.0.1:{}", hub.proxy_api);

    // A credential for alice's prefix registers a private route there and nowhere else.
    let credential = ferrohub_cli(hub.dir.path(), &["proxy-credential", "/user/alice/"]);
    assert_eq!(
        add_route(&api, &credential, "/user/alice/private", &target).await,
        201
    );
    assert_eq!(
        add_route(&api, &credential, "/user/bob/private", &target).await,
        403
    );

    let page = format!("{}/user/alice/private/page?x=1", hub.public_url());
    let alice = Browser::new();
    log_in(&hub, &alice, "alice").await;
    let seen = alice.get(&page).await;
    assert_eq!(seen.status, 200, "{:?} {}", seen.hops, seen.body);
    assert!(
        seen.body.starts_with("hello from the target"),
        "{}",
        seen.body
    );
    assert!(
        !seen.body.contains(SESSION_COOKIE),
        "the target never sees the proxy session: {}",
        seen.body
    );

    let bob = Browser::new();
    log_in(&hub, &bob, "bob").await;
    let refused = bob.get(&page).await;
    assert_eq!(refused.status, 403, "{}", refused.body);

    let anonymous = browser_get(&page, None).await;
    assert_eq!(anonymous.status(), 302);
    assert_eq!(
        anonymous.headers()["location"],
        "/hub/login?next=%2Fuser%2Falice%2Fprivate%2Fpage%3Fx%3D1"
    );

    // An external proxy given `ferrohub proxy-key` accepts the hub's credentials and sessions.
    let stolen = proxy_cookie(&alice, &page);
    let key_file = hub.dir.path().join("proxy.key");
    std::fs::write(
        &key_file,
        ferrohub_cli(hub.dir.path(), &["proxy-key"]) + "\n",
    )
    .unwrap();
    let (port, api_port) = (free_port(), free_port());
    let _external = Running::start(
        &bin("ferrohub-proxy"),
        &[
            "--ip",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--api-ip",
            "127.0.0.1",
            "--api-port",
            &api_port.to_string(),
            "--proxy-key-file",
            key_file.to_str().unwrap(),
        ],
        hub.dir.path(),
        &[("CONFIGPROXY_AUTH_TOKEN", "external-admin")],
    );
    let external_api = format!("http://127.0.0.1:{api_port}");
    let routes = format!("{external_api}/api/routes");
    poll(Duration::from_secs(10), "the external proxy", || async {
        status_of(&http(), &routes).await.map(|_| ())
    })
    .await;
    assert_eq!(
        add_route(&external_api, &credential, "/user/alice/private", &target).await,
        201
    );
    let via_external = format!("http://127.0.0.1:{port}/user/alice/private/");
    assert_eq!(
        browser_get(&via_external, Some(&stolen)).await.status(),
        200
    );

    // Replaying alice's cookie works while she is logged in, and not once she logged out.
    assert_eq!(browser_get(&page, Some(&stolen)).await.status(), 200);
    let out = alice.get(&format!("{}/hub/logout", hub.public_url())).await;
    assert!(out.url.ends_with("/hub/login"), "{:?}", out.hops);
    let replayed = browser_get(&page, Some(&stolen)).await;
    assert_eq!(replayed.status(), 302, "a revoked session is refused");
    // The scripted browser does not ask for HTML, so it gets the API's 403 rather than the
    // login page; logout cleared its cookie.
    let again = alice.get(&page).await;
    assert_eq!(again.status, 403, "{}", again.body);
    assert!(again.body.contains("log in"), "{}", again.body);
}

#[tokio::test]
async fn locking_a_user_at_the_command_line_revokes_their_proxy_session() {
    // A short proxy check interval: the hub delivers queued revocations on each check.
    let config = format!("{CONFIG}\n[ConfigurableHTTPProxy]\ncheck_running_interval = 1\n");
    let hub = TestHub::start("lock-revokes", &config).await;
    let page = alice_private_page(&hub).await;

    let alice = Browser::new();
    log_in(&hub, &alice, "alice").await;
    let seen = alice.get(&page).await;
    assert_eq!(seen.status, 200, "{:?} {}", seen.hops, seen.body);
    let cookie = proxy_cookie(&alice, &page);
    assert_eq!(browser_get(&page, Some(&cookie)).await.status(), 200);

    // The command has no connection to the proxy: it ends the hub session and queues the
    // revocation, which the running hub delivers.
    let out = ferrohub_cli(hub.dir.path(), &["lock", "alice"]);
    assert!(
        out.starts_with("alice is locked; 1 session(s) ended"),
        "{out}"
    );
    poll(
        Duration::from_secs(30),
        "the proxy to refuse alice's locked session",
        || async { (browser_get(&page, Some(&cookie)).await.status() == 302).then_some(()) },
    )
    .await;
    let refused = browser_get(&page, Some(&cookie)).await;
    assert!(
        refused.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/hub/login?next="),
        "sent to log in again: {:?}",
        refused.headers()
    );

    // Unlocking lets alice log in again, but her old session stays dead, at the hub and at
    // the proxy.
    let out = ferrohub_cli(hub.dir.path(), &["unlock", "alice"]);
    assert_eq!(out, "alice is unlocked");
    assert_eq!(browser_get(&page, Some(&cookie)).await.status(), 302);
    let home = alice.get(&format!("{}/hub/home", hub.public_url())).await;
    assert!(
        home.url.contains("/hub/login"),
        "the hub session is gone: {:?}",
        home.hops
    );
    log_in(&hub, &alice, "alice").await;
    assert_eq!(alice.get(&page).await.status, 200, "a new login works");
    assert_eq!(browser_get(&page, Some(&cookie)).await.status(), 302);
}

/// A browser's `Cookie` header for `url`.
fn cookie_header(browser: &Browser, url: &str) -> String {
    browser
        .cookies
        .cookies(&url.parse().unwrap())
        .expect("the browser has cookies")
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_logout_while_the_proxy_is_down_reaches_it_when_it_is_back() {
    // The hub checks its proxy only once an hour, so the killed proxy stays down until the
    // test asks for a check (`POST /hub/api/proxy`): the logout surely happens without it.
    let config = config_with_admin("[ConfigurableHTTPProxy]\ncheck_running_interval = 3600\n");
    let hub = TestHub::start("logout-proxy-down", &config).await;
    let page = alice_private_page(&hub).await;

    // Two sessions of alice's: one logs out, the other stays logged in.
    let (leaving, staying) = (Browser::new(), Browser::new());
    log_in(&hub, &leaving, "alice").await;
    log_in(&hub, &staying, "alice").await;
    let (revoked, kept) = (proxy_cookie(&leaving, &page), proxy_cookie(&staying, &page));
    assert_eq!(browser_get(&page, Some(&revoked)).await.status(), 200);
    assert_eq!(browser_get(&page, Some(&kept)).await.status(), 200);

    let pid: u32 = std::fs::read_to_string(hub.dir.path().join("jupyterhub-proxy.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    signal_pid(pid, "KILL");
    poll(Duration::from_secs(10), "the proxy to be gone", || async {
        (!pid_alive(pid)).then_some(())
    })
    .await;

    // Logging out straight at the hub (nothing listens on the public port now): the hub
    // session ends, and the revocation cannot reach the proxy.
    let hub_direct = format!("http://127.0.0.1:{}", hub.hub_port);
    let cookies = cookie_header(&leaving, &format!("{}/hub/logout", hub.public_url()));
    let out = browser_get(&format!("{hub_direct}/hub/logout"), Some(&cookies)).await;
    assert_eq!(out.status(), 303);
    assert_eq!(out.headers()["location"], "/hub/login");
    hub.process
        .wait_for_output(
            "could not deliver proxy session revocations yet; will retry",
            Duration::from_secs(10),
        )
        .await;

    // A check starts the proxy again (same key, routes from its routes file) and delivers
    // the queued revocation before it answers.
    let checked = http()
        .post(format!("{hub_direct}/hub/api/proxy"))
        .header("Authorization", format!("token {ADMIN_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(checked.status(), 200);
    assert_ne!(
        std::fs::read_to_string(hub.dir.path().join("jupyterhub-proxy.pid"))
            .unwrap()
            .trim(),
        pid.to_string(),
        "a new proxy"
    );
    assert_eq!(
        browser_get(&page, Some(&kept)).await.status(),
        200,
        "the new proxy takes alice's other session"
    );
    let refused = browser_get(&page, Some(&revoked)).await;
    assert_eq!(refused.status(), 302, "and refuses the one that logged out");
    assert!(refused.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/hub/login?next="));
}

#[tokio::test]
async fn deleting_a_user_refuses_their_proxy_cookie() {
    let hub = TestHub::start("delete-user-revokes", &config_with_admin("")).await;
    let page = alice_private_page(&hub).await;
    let alice = Browser::new();
    log_in(&hub, &alice, "alice").await;
    let cookie = proxy_cookie(&alice, &page);
    assert_eq!(browser_get(&page, Some(&cookie)).await.status(), 200);

    let (status, body) = hub
        .api(reqwest::Method::DELETE, "/users/alice", ADMIN_TOKEN, None)
        .await;
    assert_eq!(status, 204, "{body}");
    let refused = browser_get(&page, Some(&cookie)).await;
    assert_eq!(refused.status(), 302, "a deleted user's session is refused");

    // A new alice (the dummy authenticator creates her at login) does not revive it.
    let again = Browser::new();
    log_in(&hub, &again, "alice").await;
    assert_eq!(again.get(&page).await.status, 200, "a new login works");
    assert_eq!(browser_get(&page, Some(&cookie)).await.status(), 302);
}

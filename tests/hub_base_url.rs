//! A hub under a base URL (`/jupyter/`): pages, redirects, cookies, the API and a spawned
//! server all live under it, as JupyterHub's `base_url` promises.

use ferrohub_e2e::browser::Browser;
use ferrohub_e2e::{poll, TestHub};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

const ADMIN_TOKEN: &str = "base-url-admin-token-4c3b2a190f8e";

/// A minimal single-user server: serves its user's name under its prefix.
const TINY_SERVER: &str = r#"
import http.server, os, urllib.parse
url = urllib.parse.urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
prefix = os.environ["JUPYTERHUB_SERVICE_PREFIX"]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (os.environ["JUPYTERHUB_USER"] + " at " + prefix).encode()
        self.send_response(200 if self.path.startswith(prefix) else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer((url.hostname, url.port), H).serve_forever()
"#;

#[tokio::test]
async fn everything_lives_under_the_base_url() {
    let config = format!(
        r#"
[JupyterHub]
base_url = "/jupyter/"
authenticator_class = "dummy"

[[JupyterHub.services]]
name = "setup"
api_token = "{ADMIN_TOKEN}"
admin = true

[Spawner]
cmd = ["python3", "-c", '''{TINY_SERVER}''']
"#
    );
    let hub = TestHub::start_at("base-url", &config, "/jupyter/").await;
    let public = hub.public_url();
    let browser = Browser::new();

    let login = browser.get(&format!("{public}/jupyter/hub/home")).await;
    assert!(
        login
            .url
            .contains("/jupyter/hub/login?next=%2Fjupyter%2Fhub%2Fhome"),
        "{:?}",
        login.hops
    );
    assert!(
        login.body.contains("/jupyter/hub/static/style.css"),
        "{}",
        login.body
    );
    let home = browser
        .post_form(
            &format!("{public}/jupyter/hub/login"),
            &[
                ("username", "ann"),
                ("password", "x"),
                ("_xsrf", &login.field("_xsrf").unwrap()),
                ("next", &login.field("next").unwrap()),
            ],
        )
        .await;
    assert!(home.url.ends_with("/jupyter/hub/home"), "{:?}", home.hops);
    assert_eq!(home.status, 200, "{}", home.body);

    let pending = browser
        .post_form(
            &format!("{public}/jupyter/hub/home"),
            &[
                ("action", "start"),
                ("server", ""),
                ("_xsrf", &home.field("_xsrf").unwrap()),
            ],
        )
        .await;
    assert!(
        pending
            .hops
            .iter()
            .any(|h| h.contains("/jupyter/hub/spawn-pending/ann")
                || h.contains("/jupyter/user/ann/")),
        "{:?}",
        pending.hops
    );
    let page = poll(
        Duration::from_secs(30),
        "the server through the proxy",
        || async {
            let page = browser.get(&format!("{public}/jupyter/user/ann/")).await;
            (page.status == 200 && page.body.contains("ann at /jupyter/user/ann/")).then_some(page)
        },
    )
    .await;
    assert!(page.url.ends_with("/jupyter/user/ann/"));

    let (status, user) = hub.api(Method::GET, "/users/ann", ADMIN_TOKEN, None).await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["server"], json!("/jupyter/user/ann/"));
    assert_eq!(
        user["servers"][""]["progress_url"],
        json!("/jupyter/hub/api/users/ann/server/progress")
    );
    // Nothing answers outside the base URL but the proxy's own 404.
    let outside = browser.get(&format!("{public}/hub/home")).await;
    assert_eq!(outside.status, 404, "{:?}", outside.hops);
    let out = browser.get(&format!("{public}/jupyter/hub/logout")).await;
    assert!(out.url.ends_with("/jupyter/hub/login"), "{:?}", out.hops);
}

//! `authenticator_class = "rest"` with a real login service (`support/login_service.py`, a
//! separate Python process on a port of its own): the real `ferrohub` sends the passwords
//! typed into its login form there. A right password logs in with the admin flag and groups
//! of the answer; a wrong one says so; a service that answers 503, answers nonsense or is
//! gone makes the page say the service is unavailable, and does not count towards the
//! login rate limit. With `enable_auth_state`, what the service says to keep is stored
//! encrypted in JupyterHub's own format (JupyterHub's `CryptKeeper` reads it).

use ferrohub_e2e::browser::{Browser, Page};
use ferrohub_e2e::{venv_bin, Running, ScratchDir, TestHub};
use reqwest::Method;
use serde_json::{json, Value};

const ADMIN_TOKEN: &str = "rest-e2e-admin-token-8c1e3a5f7b9d";
/// The hub's own credential at the login service.
const HUB_TOKEN: &str = "rest-e2e-hub-token-4f6a8c0e2b";
const UNAVAILABLE: &str = "The login service is not answering";
/// The hub's `JUPYTERHUB_CRYPT_KEY` (32 bytes, hex).
const CRYPT_KEY: &str = "5f0d2c8e7a1b4c6d9e3f20a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5";

/// The login service, with its users: ada (admin, two groups), bob (no admin field, one
/// group) and `garbled`, whose right password gets an answer that is not JSON.
async fn start_login_service(dir: &ScratchDir) -> (Running, u16) {
    let users = json!({
        "ada": {"password": "ada-pass", "answer": {"name": "ada", "admin": true, "groups": ["physics", "ops"],
                "auth_state": {"facility_token": "ft-0451", "projects": ["p1", "p2"]}}},
        "bob@facility.org": {"password": "bob-pass", "answer": {"name": "bob", "groups": ["physics"]}},
        "garbled": {"password": "garbled-pass", "answer": "<html>Service Temporarily Unavailable</html>"},
    });
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("support/login_service.py");
    let maintenance = dir.path().join("maintenance");
    let args = [
        script.display().to_string(),
        users.to_string(),
        HUB_TOKEN.to_owned(),
        maintenance.display().to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let service = Running::start(&venv_bin("python"), &args, dir.path(), &[]);
    let port = service.listening_port().await;
    (service, port)
}

fn hub_config(service_port: u16) -> String {
    format!(
        r#"
[JupyterHub]
authenticator_class = "rest"
load_groups = {{ legacy = ["ada"] }}

[Authenticator]
allow_all = true
enable_auth_state = true

[[JupyterHub.services]]
name = "setup"
api_token = "{ADMIN_TOKEN}"
admin = true

[RESTAuthenticator]
url = "http://127.0.0.1:{service_port}/check"
auth_token = "{HUB_TOKEN}"
timeout = 5
manage_groups = true
"#
    )
}

/// Post the login form as `name`, going to `next`; returns where the browser lands.
async fn log_in(hub: &TestHub, browser: &Browser, name: &str, password: &str, next: &str) -> Page {
    let login = format!("{}/hub/login", hub.public_url());
    let form = browser.get(&login).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body.contains("password"),
        "a password form: {}",
        form.body
    );
    let xsrf = form.field("_xsrf").expect("the login form has _xsrf");
    let fields = [
        ("username", name),
        ("password", password),
        ("_xsrf", &xsrf),
        ("next", next),
    ];
    browser.post_form(&login, &fields).await
}

async fn user(hub: &TestHub, name: &str) -> Value {
    let (status, body) = hub
        .api(Method::GET, &format!("/users/{name}"), ADMIN_TOKEN, None)
        .await;
    assert_eq!(status, 200, "GET /users/{name}: {body}");
    body
}

/// The user's `auth_state` as JupyterHub itself reads it from the hub's SQLite database: its
/// `CryptKeeper`, with the same `JUPYTERHUB_CRYPT_KEY`, decrypts the stored value.
fn jupyterhub_decrypts(hub: &TestHub, name: &str) -> Value {
    let script = r#"
import json, sqlite3, sys
from jupyterhub.crypto import CryptKeeper
db = sqlite3.connect(sys.argv[1])
(sealed,) = db.execute("SELECT auth_state FROM users WHERE name = ?", (sys.argv[2],)).fetchone()
print(json.dumps(CryptKeeper.instance()._decrypt(sealed.encode())))
"#;
    let db = hub.dir.path().join("jupyterhub.sqlite");
    let out = std::process::Command::new(venv_bin("python"))
        .args(["-c", script, &db.display().to_string(), name])
        .env("JUPYTERHUB_CRYPT_KEY", CRYPT_KEY)
        .output()
        .expect("run the venv's python");
    assert!(
        out.status.success(),
        "JupyterHub's CryptKeeper failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from the script")
}

fn sorted_groups(model: &Value) -> Vec<String> {
    let mut groups: Vec<String> = serde_json::from_value(model["groups"].clone()).unwrap();
    groups.sort();
    groups
}

#[tokio::test]
async fn passwords_are_checked_by_an_external_login_service() {
    let dir = ScratchDir::new("rest-login-service");
    let (mut service, port) = start_login_service(&dir).await;
    let env = [("JUPYTERHUB_CRYPT_KEY", CRYPT_KEY)];
    let hub = TestHub::start_with_env("rest-login", &hub_config(port), "/", &env).await;
    let public = hub.public_url();

    // A right password: logged in, sent where `next` says, admin and groups from the answer
    // (the group the answer does not list is dropped).
    let ada = Browser::new();
    let landed = log_in(&hub, &ada, "ada", "ada-pass", "/hub/token").await;
    assert_eq!(landed.status, 200, "{:?}\n{}", landed.hops, landed.body);
    assert_eq!(
        landed.url,
        format!("{public}/hub/token"),
        "{:?}",
        landed.hops
    );
    let model = user(&hub, "ada").await;
    assert_eq!(model["admin"], true, "{model}");
    assert_eq!(sorted_groups(&model), ["ops", "physics"], "{model}");
    let kept = json!({"facility_token": "ft-0451", "projects": ["p1", "p2"]});
    assert_eq!(model["auth_state"], kept, "{model}");
    assert_eq!(
        jupyterhub_decrypts(&hub, "ada"),
        kept,
        "the database holds JupyterHub's encrypted form"
    );

    // The service gets the typed name normalised (lower case) and may answer another one;
    // no admin field leaves the flag alone. An outside `next` is not followed.
    let bob = Browser::new();
    let landed = log_in(
        &hub,
        &bob,
        "Bob@Facility.org",
        "bob-pass",
        "https://evil.example/",
    )
    .await;
    assert_eq!(
        landed.url,
        format!("{public}/hub/home"),
        "{:?}",
        landed.hops
    );
    assert!(landed.body.contains("bob"), "{}", landed.body);
    let model = user(&hub, "bob").await;
    assert_eq!(model["admin"], false, "{model}");
    assert_eq!(sorted_groups(&model), ["physics"], "{model}");
    assert_eq!(
        model["auth_state"],
        Value::Null,
        "bob's answer kept nothing"
    );

    // A wrong password (the service answers 401) is a wrong password.
    let eve = Browser::new();
    let refused = log_in(&hub, &eve, "ada", "guess", "").await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains("Invalid username or password"),
        "{}",
        refused.body
    );
    let home = eve.get(&format!("{public}/hub/home")).await;
    assert!(home.url.contains("/hub/login?next="), "{:?}", home.hops);

    // An answer that is not JSON: unavailable, with the detail in the hub's log only.
    let garbled = log_in(&hub, &eve, "garbled", "garbled-pass", "").await;
    assert_eq!(garbled.status, 503, "{}", garbled.body);
    assert!(garbled.body.contains(UNAVAILABLE), "{}", garbled.body);
    assert!(
        !garbled.body.contains("Invalid username"),
        "{}",
        garbled.body
    );
    assert!(
        !garbled.body.contains("Temporarily"),
        "no detail on the page"
    );
    let (status, _) = hub
        .api(Method::GET, "/users/garbled", ADMIN_TOKEN, None)
        .await;
    assert_eq!(status, 404, "nobody is created from a malformed answer");

    // A service in maintenance (503) more often than the rate limit allows wrong passwords:
    // every attempt says "unavailable", none counts, and carol (a name the service does not
    // know) is refused normally once it is back.
    std::fs::write(dir.path().join("maintenance"), "").unwrap();
    let carol = Browser::new();
    for _ in 0..12 {
        let page = log_in(&hub, &carol, "ada", "ada-pass", "").await;
        assert_eq!(page.status, 503, "{}", page.body);
        assert!(page.body.contains(UNAVAILABLE), "{}", page.body);
    }
    std::fs::remove_file(dir.path().join("maintenance")).unwrap();
    let landed = log_in(&hub, &carol, "ada", "ada-pass", "").await;
    assert_eq!(
        landed.url,
        format!("{public}/hub/home"),
        "not rate limited: {}",
        landed.body
    );

    // The service is gone: unavailable again, not a 500.
    service.signal("KILL");
    service.wait_exit(std::time::Duration::from_secs(10)).await;
    let gone = log_in(&hub, &Browser::new(), "ada", "ada-pass", "").await;
    assert_eq!(gone.status, 503, "{}", gone.body);
    assert!(gone.body.contains(UNAVAILABLE), "{}", gone.body);

    // The log is read by another thread: wait for the last line before checking them all.
    let output = hub
        .process
        .wait_for_output("Connection refused", std::time::Duration::from_secs(10))
        .await;
    for logged in [
        "login service unavailable",
        "not with JSON",
        "answered 503",
        "Connection refused",
    ] {
        assert!(output.contains(logged), "the log has {logged:?}:\n{output}");
    }
}

//! Helpers for the tests of applications: the `ferrohub app` command line on a test hub's
//! database, a dummy-authenticator login, and removing a test realm's app containers.

use crate::browser::Browser;
use crate::{bin, TestHub};
use std::process::{Command, Output};

/// `ferrohub app ARGS` on `hub`'s configuration and database (the hub may be running).
pub fn app_command(hub: &TestHub, args: &[&str]) -> Output {
    Command::new(bin("ferrohub"))
        .args([
            "-f",
            "jupyterhub_config.toml",
            "--log-level",
            "error",
            "app",
        ])
        .args(args)
        .current_dir(hub.dir.path())
        .output()
        .expect("ferrohub runs")
}

/// [`app_command`] that must succeed; its standard output.
pub fn app(hub: &TestHub, args: &[&str]) -> String {
    let out = app_command(hub, args);
    assert!(
        out.status.success(),
        "app {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// A browser logged in to `hub` as `name` through its login form (the dummy authenticator:
/// any password).
pub async fn log_in(hub: &TestHub, name: &str) -> Browser {
    let browser = Browser::new();
    let login = format!("{}/hub/login", hub.public_url());
    let form = browser.get(&login).await;
    let xsrf = form
        .field("_xsrf")
        .expect("the login form has an XSRF token");
    let home = browser
        .post_form(
            &login,
            &[("username", name), ("password", "x"), ("_xsrf", &xsrf)],
        )
        .await;
    assert!(home.url.ends_with("/hub/home"), "{name}: {:?}", home.hops);
    browser
}

/// The `docker ps --filter` that picks a realm's app containers.
pub fn realm_filter(realm: &str) -> String {
    format!("label=eu.simphony-project.docker.runinfo.realm={realm}")
}

/// The realm's app containers are removed when this is dropped, however the test ends.
pub struct RealmCleanup(pub String);

impl Drop for RealmCleanup {
    fn drop(&mut self) {
        if let Ok(out) = Command::new("docker")
            .args(["ps", "-aq", "--filter", &realm_filter(&self.0)])
            .output()
        {
            for id in String::from_utf8_lossy(&out.stdout).lines() {
                let _ = Command::new("docker").args(["rm", "-f", id]).output();
            }
        }
    }
}

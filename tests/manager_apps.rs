//! The manager launches labelled apps with the real Docker engine: apps registered and
//! granted from the command line (to a user and to a group) are listed by the user's
//! manager, started through simphony-remote's API, reached through ferrohub-proxy by their
//! owner only, stopped, and found again after the manager and then the hub are killed.

use ferrohub_e2e::apps::{app, log_in, realm_filter, RealmCleanup};
use ferrohub_e2e::browser::Browser;
use ferrohub_e2e::{admin, http, pid_alive, poll, signal_pid, TestHub};
use reqwest::Method;
use serde_json::{json, Value};
use std::process::Command;
use std::time::Duration;

const ADMIN_TOKEN: &str = "manager-apps-admin-token-3e5f7a9b";
const PROXY_TOKEN: &str = "manager-apps-proxy-token-8c6d4e2f";
/// Built by scripts/build-test-images.sh; inspected and run, never pulled.
const WEBAPP: &str = "ferrohub-test-webapp:latest";

fn config(realm: &str) -> String {
    format!(
        r#"
[JupyterHub]
authenticator_class = "dummy"
spawner_class = "manager"

[[JupyterHub.services]]
name = "setup"
api_token = "{ADMIN_TOKEN}"
admin = true

[ConfigurableHTTPProxy]
auth_token = "{PROXY_TOKEN}"

[Spawner]
http_timeout = 30
poll_interval = 1

[LocalProcessSpawner]
interrupt_timeout = 3

[Manager]
realm = "{realm}"
start_timeout = 30
"#
    )
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs");
    assert!(out.status.success(), "docker {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The ids of the realm's app containers that run.
fn running_containers(realm: &str) -> Vec<String> {
    let out = docker(&["ps", "-q", "--no-trunc", "--filter", &realm_filter(realm)]);
    let mut ids: Vec<String> = out.lines().map(str::to_owned).collect();
    ids.sort();
    ids
}

/// A call to alice's manager API with a hub token, as a script would.
async fn manager_api(
    hub: &TestHub,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Option<String>, Value) {
    let mut req = http()
        .request(
            method,
            format!("{}/user/alice/api/v1/{path}", hub.public_url()),
        )
        .header("Authorization", format!("token {token}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("the manager answers");
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    let text = resp.text().await.unwrap_or_default();
    (
        status,
        location,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// Start the app of `mapping_id`; its url_id.
async fn start(hub: &TestHub, token: &str, mapping_id: &str) -> String {
    let (status, location, body) = manager_api(
        hub,
        token,
        Method::POST,
        "containers/",
        Some(json!({"mapping_id": mapping_id, "configurables": {}})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let location = location.expect("a Location");
    assert!(
        location.starts_with("/user/alice/api/v1/containers/"),
        "{location}"
    );
    location
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

/// The app's environment as it answers through the proxy to `browser`.
async fn app_env(hub: &TestHub, browser: &Browser, url_id: &str) -> (u16, String) {
    let url = format!("{}/user/alice/containers/{url_id}/env", hub.public_url());
    let (status, _, body) = browser.fetch(Method::GET, &url, None).await;
    (status, body)
}

#[tokio::test]
async fn the_manager_starts_routes_and_stops_granted_apps() {
    let realm = format!("fhtest{}", std::process::id());
    let _cleanup = RealmCleanup(realm.clone());
    let mut hub = TestHub::start("manager-apps", &config(&realm)).await;
    let public = hub.public_url();
    for (path, body) in [
        ("/users", json!({"usernames": ["alice", "bob"]})),
        ("/groups/lab", json!({"users": ["alice"]})),
    ] {
        let (status, reply) = hub.api(Method::POST, path, ADMIN_TOKEN, Some(body)).await;
        assert_eq!(status, 201, "{path}: {reply}");
    }
    // One grant to alice, one (other policy) through her group, one of an image that is gone.
    app(&hub, &["create", WEBAPP]);
    app(&hub, &["create", "ferrohub-gone:never", "--no-verify"]);
    let own: Value =
        serde_json::from_str(&app(&hub, &["--json", "grant", WEBAPP, "alice"])).unwrap();
    let via_group: Value = serde_json::from_str(&app(
        &hub,
        &["--json", "grant", WEBAPP, "--group", "lab", "--allow-view"],
    ))
    .unwrap();
    app(&hub, &["grant", "ferrohub-gone:never", "alice"]);
    let own_id = own["mapping_id"].as_str().unwrap().to_owned();
    let group_id = via_group["mapping_id"].as_str().unwrap().to_owned();

    admin::start_and_wait(&hub, ADMIN_TOKEN, "alice", "", None).await;
    let alice = log_in(&hub, "alice").await;
    let bob = log_in(&hub, "bob").await;
    let page = alice.get(&format!("{public}/user/alice/")).await;
    assert_eq!(page.status, 200, "{:?}", page.hops);
    assert!(page.body.contains("Test web app"), "{}", page.body);
    let token = admin::token_of(&hub, ADMIN_TOKEN, "alice").await;

    // Exactly what alice may launch, in simphony-remote's envelope; the gone image skipped.
    let (status, _, listed) = manager_api(&hub, &token, Method::GET, "applications/", None).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["total"], 2, "{listed}");
    assert_eq!(listed["identifiers"], json!([own_id, group_id]));
    let item = &listed["items"][&own_id];
    assert_eq!(item["image"]["ui_name"], "Test web app");
    assert_eq!(item["image"]["type"], "webapp");
    assert_eq!(item["image"]["policy"]["allow_view"], false);
    assert_eq!(
        listed["items"][&group_id]["image"]["policy"]["allow_view"],
        true
    );
    assert!(item.get("container").is_none(), "{item}");

    // Bad requests are 400s that say why; nothing starts.
    for bad in [
        json!({}),
        json!({"mapping_id": "nope"}),
        json!({"mapping_id": own_id, "configurables": {"resolution": {"resolution": "800x600"}}}),
        json!({"mapping_id": own_id, "configurables": {"colour": {}}}),
    ] {
        let (status, _, body) =
            manager_api(&hub, &token, Method::POST, "containers/", Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["message"].is_string(), "{body}");
    }
    assert!(running_containers(&realm).is_empty());

    // A start: 201, then the app answers at its route for alice with the environment
    // simphony-remote gives.
    let url_id = start(&hub, &token, &own_id).await;
    assert_eq!(url_id.len(), 32, "{url_id}");
    let (status, env) = app_env(&hub, &alice, &url_id).await;
    assert_eq!(status, 200, "{env}");
    let env: Value = serde_json::from_str(&env).unwrap();
    assert_eq!(env["JPY_USER"], "alice");
    assert_eq!(env["JPY_BASE_USER_URL"], "/user/alice");
    assert_eq!(env["URL_ID"], url_id.as_str());
    assert_eq!(env["USER"], "alice");
    // A second start of the same grant is refused while it runs.
    let (status, _, body) = manager_api(
        &hub,
        &token,
        Method::POST,
        "containers/",
        Some(json!({"mapping_id": own_id})),
    )
    .await;
    assert_eq!(status, 409, "{body}");

    // Nobody else gets in: bob is refused, an anonymous browser is sent to log in.
    let (status, _) = app_env(&hub, &bob, &url_id).await;
    assert_eq!(status, 403);
    let anonymous = http()
        .get(format!("{public}/user/alice/containers/{url_id}/env"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 302);
    assert!(anonymous.headers()["location"]
        .to_str()
        .unwrap()
        .contains("/hub/login?next="));
    // Nor can bob drive alice's manager.
    let bob_token = admin::token_of(&hub, ADMIN_TOKEN, "bob").await;
    let (status, _, _) = manager_api(&hub, &bob_token, Method::GET, "containers/", None).await;
    assert_eq!(status, 403);

    let (_, _, containers) = manager_api(&hub, &token, Method::GET, "containers/", None).await;
    assert_eq!(containers["identifiers"], json!([url_id]), "{containers}");
    assert_eq!(containers["items"][&url_id]["mapping_id"], own_id.as_str());

    // DELETE removes container and route.
    let (status, _, body) = manager_api(
        &hub,
        &token,
        Method::DELETE,
        &format!("containers/{url_id}/"),
        None,
    )
    .await;
    assert_eq!(status, 204, "{body}");
    assert!(running_containers(&realm).is_empty());
    let (status, _) = app_env(&hub, &alice, &url_id).await;
    assert_eq!(status, 404, "the route went with the container");
    let (status, _, _) = manager_api(
        &hub,
        &token,
        Method::DELETE,
        &format!("containers/{url_id}/"),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // An app that ends on its own (killed here) loses its route and leaves the listing
    // within the manager's next checks; its container is removed.
    let ended = start(&hub, &token, &own_id).await;
    let (status, _) = app_env(&hub, &alice, &ended).await;
    assert_eq!(status, 200);
    let container = running_containers(&realm).pop().expect("its container");
    docker(&["kill", &container]);
    poll(
        Duration::from_secs(20),
        "the ended app to lose its route",
        || async {
            let (_, _, containers) =
                manager_api(&hub, &token, Method::GET, "containers/", None).await;
            let (status, _) = app_env(&hub, &alice, &ended).await;
            (containers["total"] == 0 && status == 404).then_some(())
        },
    )
    .await;
    let filter = realm_filter(&realm);
    poll(
        Duration::from_secs(20),
        "the ended container to be removed",
        || async {
            docker(&["ps", "-aq", "--filter", &filter])
                .is_empty()
                .then_some(())
        },
    )
    .await;

    // Two apps run; the manager is killed. The hub notices its server is gone and removes
    // the app routes with it; started again, the new manager finds both containers, routes
    // them again and starts nothing.
    let first = start(&hub, &token, &own_id).await;
    let second = start(&hub, &token, &group_id).await;
    let before = running_containers(&realm);
    assert_eq!(before.len(), 2);
    let server = admin::user(&hub, ADMIN_TOKEN, "alice").await["servers"][""].clone();
    let pid = server["state"]["pid"].as_u64().expect("a local process") as u32;
    signal_pid(pid, "KILL");
    poll(
        Duration::from_secs(20),
        "the hub to notice the dead manager",
        || async {
            let servers = admin::user(&hub, ADMIN_TOKEN, "alice").await["servers"].clone();
            (servers.get("").is_none_or(|s| s["ready"] != true)).then_some(())
        },
    )
    .await;
    assert!(!pid_alive(pid));
    let routes = admin::routes(&hub, ADMIN_TOKEN).await;
    let at_proxy = proxy_routes(&hub).await;
    assert!(
        !at_proxy.contains(&first) && !at_proxy.contains(&second),
        "app routes outlived their server: {at_proxy}\n{routes}"
    );
    assert_eq!(
        running_containers(&realm),
        before,
        "the containers kept running"
    );

    admin::start_and_wait(&hub, ADMIN_TOKEN, "alice", "", None).await;
    for url_id in [&first, &second] {
        let (status, env) = poll(
            Duration::from_secs(20),
            "the app to be routed again",
            || async {
                let got = app_env(&hub, &alice, url_id).await;
                (got.0 == 200).then_some(got)
            },
        )
        .await;
        assert_eq!(status, 200, "{env}");
    }
    let (_, _, containers) = manager_api(&hub, &token, Method::GET, "containers/", None).await;
    assert_eq!(containers["total"], 2, "{containers}");
    assert_eq!(
        running_containers(&realm),
        before,
        "nothing was started twice"
    );

    // Now the hub is killed and restarted: the manager still runs, so its app routes stay.
    hub.kill_and_restart().await;
    admin::wait_ready(&hub, ADMIN_TOKEN, "alice", "").await;
    for url_id in [&first, &second] {
        let (status, _) = app_env(&hub, &alice, url_id).await;
        assert_eq!(status, 200, "{url_id} after the hub's restart");
    }
    assert_eq!(running_containers(&realm), before);

    // Stopping the server stops its apps (the default) and removes their routes.
    let (status, _) = hub
        .api(Method::DELETE, "/users/alice/server", ADMIN_TOKEN, None)
        .await;
    assert!(status == 204 || status == 202, "{status}");
    poll(
        Duration::from_secs(30),
        "the apps to stop with the server",
        || async { running_containers(&realm).is_empty().then_some(()) },
    )
    .await;
    let at_proxy = proxy_routes(&hub).await;
    assert!(!at_proxy.contains(&first), "{at_proxy}");
}

/// Every route at the proxy, as its API lists them (app routes are not the hub's, so the
/// hub's `GET /proxy` does not show them).
async fn proxy_routes(hub: &TestHub) -> String {
    http()
        .get(format!("http://127.0.0.1:{}/api/routes", hub.proxy_api))
        .header("Authorization", format!("token {PROXY_TOKEN}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

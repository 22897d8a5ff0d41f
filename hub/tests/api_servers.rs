//! `/hub/api/users/{name}/server(s)`: the servers API through the router, with a tiny real
//! server process for the spawns.

mod common;

use axum::http::Method;
use common::{assert_error, TestHub};
use serde_json::{json, Value};

/// A minimal single-user server: answers 200 at the address `JUPYTERHUB_SERVICE_URL` gives.
const TINY_SERVER: &str = r#"
import http.server, os, urllib.parse
url = urllib.parse.urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
http.server.HTTPServer((url.hostname, url.port), H).serve_forever()
"#;

fn tiny_cmd() -> String {
    serde_json::to_string(&["python3", "-c", TINY_SERVER]).unwrap()
}

#[tokio::test]
async fn named_servers_follow_jupyterhubs_rules() {
    let hub = TestHub::new(&[
        ("JupyterHub.allow_named_servers", "true"),
        ("JupyterHub.named_server_limit_per_user", "1"),
    ])
    .await;
    hub.user("alice", false).await;
    hub.user("bob", false).await;
    let alice = hub.token("alice", &["inherit"]).await;
    let bob = hub.token("bob", &["inherit"]).await;
    let reader = hub.token("alice", &["read:servers!user=alice"]).await;

    let r = hub
        .call(
            Method::PUT,
            "/users/alice/servers/lab",
            &alice,
            Some(json!({"user_options": {"size": "s"}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        (
            r.body["name"].clone(),
            r.body["ready"].clone(),
            r.body["stopped"].clone()
        ),
        (json!("lab"), json!(false), json!(true))
    );
    assert_eq!(r.body["user_options"], json!({"size": "s"}));
    assert_error(
        &hub.call(Method::PUT, "/users/alice/servers/lab", &alice, None)
            .await,
        409,
    );
    let limit = hub
        .call(Method::PUT, "/users/alice/servers/second", &alice, None)
        .await;
    assert_error(&limit, 400);
    assert!(
        limit.body["message"]
            .as_str()
            .unwrap()
            .contains("maximum of 1"),
        "{}",
        limit.body
    );
    assert_error(
        &hub.call(Method::POST, "/users/alice/servers/a$b", &alice, None)
            .await,
        400,
    );

    let r = hub
        .call(Method::GET, "/users/alice/servers/lab", &reader, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["url"], "/user/alice/lab/");
    assert!(
        r.body.get("state").is_none(),
        "state needs admin:server_state"
    );
    assert_error(
        &hub.call(Method::GET, "/users/alice/servers/nope", &alice, None)
            .await,
        404,
    );
    assert_error(
        &hub.call(Method::GET, "/users/nobody/servers/lab", &alice, None)
            .await,
        404,
    );
    // Bob holds start:servers only for himself: alice's servers are out of reach (404).
    assert_error(
        &hub.call(Method::POST, "/users/alice/servers/lab", &bob, None)
            .await,
        404,
    );
    // A token without start:servers at all: 403.
    assert_error(
        &hub.call(Method::POST, "/users/alice/servers/lab", &reader, None)
            .await,
        403,
    );
    assert_error(
        &hub.call(Method::DELETE, "/users/alice/servers/lab", &reader, None)
            .await,
        403,
    );

    // Bad bodies.
    assert_error(
        &hub.call_raw(
            Method::POST,
            "/users/alice/server",
            Some(&alice),
            "[1]",
            None,
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/users/alice/server",
            &alice,
            Some(json!({"user_options": 5})),
        )
        .await,
        400,
    );
    assert_error(
        &hub.call_raw(
            Method::POST,
            "/users/alice/server",
            Some(&alice),
            "{not json",
            None,
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(
            Method::DELETE,
            "/users/alice/server",
            &alice,
            Some(json!({"remove": true})),
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(
            Method::DELETE,
            "/users/alice/servers/lab",
            &alice,
            Some(json!({"remove": "yes"})),
        )
        .await,
        400,
    );

    // Progress: a stopped server is not starting.
    assert_error(
        &hub.call(
            Method::GET,
            "/users/alice/servers/lab/progress",
            &alice,
            None,
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(Method::GET, "/users/alice/server/progress", &alice, None)
            .await,
        404,
    );

    // Removing a stopped named server forgets it.
    let r = hub
        .call(
            Method::DELETE,
            "/users/alice/servers/lab",
            &alice,
            Some(json!({"remove": true})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_error(
        &hub.call(Method::GET, "/users/alice/servers/lab", &alice, None)
            .await,
        404,
    );
}

#[tokio::test]
async fn named_servers_can_be_disabled() {
    let hub = TestHub::new(&[]).await;
    hub.user("alice", false).await;
    let alice = hub.token("alice", &["inherit"]).await;
    let r = hub
        .call(Method::POST, "/users/alice/servers/lab", &alice, None)
        .await;
    assert_error(&r, 400);
    assert!(r.body["message"].as_str().unwrap().contains("not enabled"));
}

#[tokio::test]
async fn a_server_starts_stops_and_cannot_start_twice() {
    let cmd = tiny_cmd();
    let hub = TestHub::new(&[("Spawner.cmd", &cmd), ("Spawner.poll_interval", "1")]).await;
    hub.user("alice", false).await;
    let alice = hub.token("alice", &["inherit"]).await;
    let r = hub
        .call(
            Method::POST,
            "/users/alice/server",
            &alice,
            Some(json!({"flavour": "small"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let model = hub
        .call(Method::GET, "/users/alice", &alice, None)
        .await
        .body;
    assert_eq!(model["server"], "/user/alice/", "{model}");
    assert_eq!(model["servers"][""]["ready"], true);
    assert_eq!(
        model["servers"][""]["user_options"],
        json!({"flavour": "small"}),
        "legacy bodies are user options"
    );
    let admin = hub.token("admin", &["inherit"]).await;
    let listed = hub
        .call(Method::GET, "/users?state=active", &admin, None)
        .await
        .body;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");

    let again = hub
        .call(Method::POST, "/users/alice/server", &alice, None)
        .await;
    assert_error(&again, 400);
    assert!(again.body["message"]
        .as_str()
        .unwrap()
        .contains("already running"));

    // The server's own token may report activity, check access and read what alice may
    // launch, nothing else.
    let tokens = hub.store().list_user_tokens("alice").await.unwrap();
    let server_token = tokens
        .iter()
        .find(|t| t.note == "Server at /user/alice/")
        .expect("a server token");
    assert_eq!(
        server_token.scopes,
        [
            "users:activity!user=alice",
            "access:servers!server=alice/",
            "read:users:applications!user=alice"
        ]
    );

    let r = hub
        .call(Method::DELETE, "/users/alice/server", &alice, None)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let model = hub
        .call(Method::GET, "/users/alice", &alice, None)
        .await
        .body;
    assert_eq!(model["server"], Value::Null);
    assert!(
        hub.store()
            .list_user_tokens("alice")
            .await
            .unwrap()
            .iter()
            .all(|t| t.note != "Server at /user/alice/"),
        "the server's token is revoked when it stops"
    );
    // Stopping a stopped server is fine.
    assert_eq!(
        hub.call(Method::DELETE, "/users/alice/server", &alice, None)
            .await
            .status,
        204
    );
}

#[tokio::test]
async fn stopped_named_servers_can_be_renamed_and_edited() {
    let hub = TestHub::new(&[
        ("JupyterHub.allow_named_servers", "true"),
        ("JupyterHub.named_server_limit_per_user", "2"),
    ])
    .await;
    hub.user("alice", false).await;
    let alice = hub.token("alice", &["inherit"]).await;
    let r = hub
        .call(
            Method::PUT,
            "/users/alice/servers/lab",
            &alice,
            Some(json!({"display_name": "My Lab"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["display_name"], "My Lab");
    hub.call(Method::PUT, "/users/alice/servers/other", &alice, None)
        .await;

    let r = hub
        .call(
            Method::PATCH,
            "/users/alice/servers/lab",
            &alice,
            Some(json!({"name": "lab2", "user_options": {"gpu": 1}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.body["name"].clone(), r.body["display_name"].clone()),
        (json!("lab2"), json!("My Lab"))
    );
    assert_eq!(r.body["user_options"], json!({"gpu": 1}));
    assert_error(
        &hub.call(Method::GET, "/users/alice/servers/lab", &alice, None)
            .await,
        404,
    );
    assert_eq!(
        hub.call(Method::GET, "/users/alice/servers/lab2", &alice, None)
            .await
            .status,
        200
    );

    assert_error(
        &hub.call(
            Method::PATCH,
            "/users/alice/servers/lab2",
            &alice,
            Some(json!({"name": "other"})),
        )
        .await,
        409,
    );
    assert_error(
        &hub.call(
            Method::PATCH,
            "/users/alice/servers/lab2",
            &alice,
            Some(json!({})),
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(
            Method::PATCH,
            "/users/alice/servers/lab2",
            &alice,
            Some(json!({"name": "a b"})),
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(
            Method::PATCH,
            "/users/alice/servers/lab2",
            &alice,
            Some(json!({"size": 1})),
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(
            Method::PATCH,
            "/users/alice/servers/nope",
            &alice,
            Some(json!({"name": "x"})),
        )
        .await,
        404,
    );
    let reader = hub.token("alice", &["read:servers!user=alice"]).await;
    assert_error(
        &hub.call(
            Method::PATCH,
            "/users/alice/servers/lab2",
            &reader,
            Some(json!({"name": "x"})),
        )
        .await,
        403,
    );
}

#[tokio::test]
async fn a_started_named_server_keeps_its_display_name() {
    let cmd = tiny_cmd();
    let hub = TestHub::new(&[
        ("JupyterHub.allow_named_servers", "true"),
        ("Spawner.cmd", &cmd),
    ])
    .await;
    hub.user("alice", false).await;
    let alice = hub.token("alice", &["inherit"]).await;
    let r = hub
        .call(
            Method::PUT,
            "/users/alice/servers/lab",
            &alice,
            Some(json!({"display_name": "My Lab"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = hub
        .call(Method::POST, "/users/alice/servers/lab", &alice, None)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = hub
        .call(Method::GET, "/users/alice/servers/lab", &alice, None)
        .await;
    assert_eq!(
        (r.body["ready"].clone(), r.body["display_name"].clone()),
        (json!(true), json!("My Lab"))
    );
    assert_eq!(
        hub.call(Method::DELETE, "/users/alice/servers/lab", &alice, None)
            .await
            .status,
        204
    );
    let r = hub
        .call(Method::GET, "/users/alice/servers/lab", &alice, None)
        .await;
    assert_eq!(r.body["display_name"], "My Lab", "stopping keeps it too");
}

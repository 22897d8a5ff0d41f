//! `/hub/api/users`, `/hub/api/user` and activity, through the router.

mod common;

use axum::http::Method;
use common::{assert_error, TestHub};
use serde_json::json;

#[tokio::test]
async fn version_and_unauthenticated_calls() {
    let hub = TestHub::new(&[]).await;
    let r = hub.call_raw(Method::GET, "/", None, "", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["version"], ferrohub::routes::JUPYTERHUB_API_VERSION);
    assert!(r.headers.contains_key("x-jupyterhub-version"));
    assert_error(
        &hub.call_raw(Method::GET, "/users", None, "", None).await,
        403,
    );
    assert_error(
        &hub.call_raw(Method::GET, "/users", Some("not-a-token"), "", None)
            .await,
        403,
    );
    // Tokens of any length or encoding are refused, never a 500.
    let long = "x".repeat(100_000);
    assert_error(
        &hub.call_raw(Method::GET, "/users", Some(&long), "", None)
            .await,
        403,
    );
    assert_error(
        &hub.call_raw(Method::GET, "/no/such/endpoint", None, "", None)
            .await,
        404,
    );
}

#[tokio::test]
async fn admin_lists_creates_updates_and_deletes_users() {
    let hub = TestHub::new(&[]).await;
    let admin = hub.token("admin", &["inherit"]).await;

    let r = hub.call(Method::POST, "/users/alice", &admin, None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["name"], "alice");
    assert_eq!(r.body["admin"], false);
    assert_eq!(r.body["roles"], json!(["user"]));
    assert_error(
        &hub.call(Method::POST, "/users/alice", &admin, None).await,
        409,
    );
    assert_error(
        &hub.call(Method::POST, "/users/a%2Fb", &admin, None).await,
        400,
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/users/bob",
            &admin,
            Some(json!({"admin": "yes"})),
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/users/bob",
            &admin,
            Some(json!({"bogus": 1})),
        )
        .await,
        400,
    );
    assert!(
        hub.store().get_user("bob").await.unwrap().is_none(),
        "nothing half-written"
    );

    let r = hub
        .call(
            Method::POST,
            "/users",
            &admin,
            Some(json!({"usernames": ["Bob", "carol", "alice"], "admin": false})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let names: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["bob", "carol"],
        "names are normalised, existing ones skipped"
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/users",
            &admin,
            Some(json!({"usernames": ["alice"]})),
        )
        .await,
        409,
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/users",
            &admin,
            Some(json!({"names": ["x"]})),
        )
        .await,
        400,
    );
    assert_error(
        &hub.call_raw(Method::POST, "/users", Some(&admin), "{not json", None)
            .await,
        400,
    );

    let r = hub.call(Method::GET, "/users", &admin, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_array().unwrap().len(), 4);
    let r = hub.call(Method::GET, "/users/carol", &admin, None).await;
    assert_eq!(r.status, 200);
    for field in [
        "kind",
        "name",
        "admin",
        "roles",
        "groups",
        "server",
        "pending",
        "created",
        "last_activity",
        "servers",
    ] {
        assert!(r.body.get(field).is_some(), "missing {field}: {}", r.body);
    }
    assert_error(
        &hub.call(Method::GET, "/users/nobody", &admin, None).await,
        404,
    );

    let r = hub
        .call(
            Method::PATCH,
            "/users/carol",
            &admin,
            Some(json!({"name": "caroline", "admin": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"], "caroline");
    assert_eq!(r.body["roles"], json!(["user", "admin"]));
    assert_error(
        &hub.call(
            Method::PATCH,
            "/users/caroline",
            &admin,
            Some(json!({"name": "bob"})),
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(
            Method::PATCH,
            "/users/nobody",
            &admin,
            Some(json!({"admin": true})),
        )
        .await,
        404,
    );
    assert_error(
        &hub.call(
            Method::PATCH,
            "/users/bob",
            &admin,
            Some(json!({"admin": 3})),
        )
        .await,
        400,
    );

    assert_eq!(
        hub.call(Method::DELETE, "/users/caroline", &admin, None)
            .await
            .status,
        204
    );
    assert_error(
        &hub.call(Method::DELETE, "/users/caroline", &admin, None)
            .await,
        404,
    );
    assert_error(
        &hub.call(Method::DELETE, "/users/admin", &admin, None).await,
        400,
    );
}

#[tokio::test]
async fn users_see_themselves_only() {
    let hub = TestHub::new(&[]).await;
    hub.user("alice", false).await;
    hub.user("bob", false).await;
    let alice = hub.token("alice", &["inherit"]).await;

    let r = hub.call(Method::GET, "/user", &alice, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"], "alice");
    assert!(r.body["scopes"]
        .as_array()
        .unwrap()
        .contains(&json!("read:users!user=alice")));
    assert!(r.body["token_id"].as_str().unwrap().starts_with('a'));

    assert_eq!(
        hub.call(Method::GET, "/users/alice", &alice, None)
            .await
            .status,
        200
    );
    assert_error(
        &hub.call(Method::GET, "/users/bob", &alice, None).await,
        404,
    );
    assert_error(&hub.call(Method::GET, "/users", &alice, None).await, 403);
    assert_error(
        &hub.call(Method::POST, "/users/eve", &alice, None).await,
        403,
    );
    assert_error(
        &hub.call(Method::DELETE, "/users/bob", &alice, None).await,
        403,
    );
    assert_error(
        &hub.call(
            Method::PATCH,
            "/users/alice",
            &alice,
            Some(json!({"admin": true})),
        )
        .await,
        403,
    );
    assert!(!hub.store().get_user("alice").await.unwrap().unwrap().admin);
}

#[tokio::test]
async fn token_scopes_narrow_what_a_caller_sees() {
    let hub = TestHub::new(&[]).await;
    hub.user("alice", false).await;
    let names_only = hub.token("admin", &["list:users"]).await;
    let r = hub.call(Method::GET, "/users", &names_only, None).await;
    assert_eq!(r.status, 200);
    let alice = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "alice")
        .unwrap()
        .clone();
    assert_eq!(
        alice,
        json!({"kind": "user", "name": "alice", "admin": false, "user_info": {}}),
        "only what read:users:name allows"
    );
    assert_error(
        &hub.call(Method::DELETE, "/users/alice", &names_only, None)
            .await,
        403,
    );

    // A token asking for more than its owner holds gets only the owner's part.
    let greedy = hub.token("alice", &["admin:users"]).await;
    assert_error(&hub.call(Method::GET, "/users", &greedy, None).await, 403);
}

#[tokio::test]
async fn pagination_and_state_filters() {
    let hub = TestHub::new(&[
        ("JupyterHub.api_page_default_limit", "2"),
        ("JupyterHub.api_page_max_limit", "3"),
    ])
    .await;
    for n in ["u1", "u2", "u3", "u4"] {
        hub.user(n, false).await;
    }
    let admin = hub.token("admin", &["inherit"]).await;
    let paged = Some("application/jupyterhub-pagination+json");
    let r = hub
        .call_raw(Method::GET, "/users?offset=1", Some(&admin), "", paged)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["_pagination"]["total"], 5);
    assert_eq!(r.body["_pagination"]["next"]["offset"], 3);
    let r = hub
        .call_raw(Method::GET, "/users?limit=100", Some(&admin), "", paged)
        .await;
    assert_eq!(
        r.body["_pagination"]["limit"], 3,
        "limit capped at api_page_max_limit"
    );
    let r = hub
        .call_raw(Method::GET, "/users?offset=4", Some(&admin), "", paged)
        .await;
    assert_eq!(r.body["_pagination"]["next"], serde_json::Value::Null);
    // As JupyterHub: the sign of a limit is dropped, a non-integer is refused, and a client
    // that does not ask for the envelope gets the maximum page by default.
    let r = hub
        .call_raw(Method::GET, "/users?limit=-1", Some(&admin), "", None)
        .await;
    assert_eq!(r.body.as_array().map(Vec::len), Some(1), "{:?}", r.body);
    assert_error(
        &hub.call_raw(Method::GET, "/users?limit=two", Some(&admin), "", None)
            .await,
        400,
    );
    let r = hub
        .call_raw(Method::GET, "/users", Some(&admin), "", None)
        .await;
    assert_eq!(r.body.as_array().map(Vec::len), Some(3), "{:?}", r.body);
    assert_error(
        &hub.call(Method::GET, "/users?state=sleeping", &admin, None)
            .await,
        400,
    );
    let r = hub
        .call(Method::GET, "/users?state=active", &admin, None)
        .await;
    assert_eq!(r.body, json!([]));
    let r = hub
        .call(Method::GET, "/users?state=inactive&limit=3", &admin, None)
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn activity_is_recorded_and_validated() {
    let hub = TestHub::new(&[]).await;
    hub.user("alice", false).await;
    let alice = hub.token("alice", &["inherit"]).await;
    let admin = hub.token("admin", &["inherit"]).await;
    let when = "2026-11-24T10:00:00.000000Z";
    let r = hub
        .call(
            Method::POST,
            "/users/alice/activity",
            &alice,
            Some(json!({"last_activity": when})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = hub.call(Method::GET, "/users/alice", &admin, None).await;
    assert_eq!(r.body["last_activity"], "2026-11-24T10:00:00.000000Z");
    assert_error(
        &hub.call(
            Method::POST,
            "/users/alice/activity",
            &alice,
            Some(json!({"last_activity": "yesterday"})),
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/users/alice/activity",
            &alice,
            Some(json!({"last_activity": when, "servers": {"nope": {"last_activity": when}}})),
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/users/admin/activity",
            &alice,
            Some(json!({"last_activity": when})),
        )
        .await,
        404,
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/users/nobody/activity",
            &admin,
            Some(json!({"last_activity": when})),
        )
        .await,
        404,
    );
}

/// `admin:users` without being an admin creates and edits users but cannot make admins or
/// touch them, as JupyterHub; an admin's token with only `admin:users` still can.
#[tokio::test]
async fn only_admins_grant_or_change_admin() {
    let hub = TestHub::new(&[(
        "JupyterHub.load_roles",
        r#"[{name = "user-managers", scopes = ["admin:users"], users = ["manager"]}]"#,
    )])
    .await;
    hub.user("alice", false).await;
    let manager = hub.token("manager", &["inherit"]).await;
    let refused = [
        (Method::POST, "/users/carol", json!({"admin": true})),
        (
            Method::POST,
            "/users",
            json!({"usernames": ["carol"], "admin": true}),
        ),
        (Method::PATCH, "/users/alice", json!({"admin": true})),
        (Method::PATCH, "/users/admin", json!({"name": "demoted"})),
        (Method::PATCH, "/users/admin", json!({"admin": false})),
    ];
    for (method, path, body) in refused {
        let r = hub.call(method.clone(), path, &manager, Some(body)).await;
        assert_error(&r, 403);
        assert!(
            r.body["message"]
                .as_str()
                .unwrap()
                .starts_with("Only admins"),
            "{method} {path}: {}",
            r.body
        );
    }
    assert!(hub.store().get_user("carol").await.unwrap().is_none());
    assert!(!hub.store().get_user("alice").await.unwrap().unwrap().admin);
    assert!(hub.store().get_user("admin").await.unwrap().unwrap().admin);

    let r = hub
        .call(Method::POST, "/users/carol", &manager, Some(json!({})))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = hub
        .call(
            Method::PATCH,
            "/users/carol",
            &manager,
            Some(json!({"name": "caroline", "admin": false})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let scoped_admin = hub.token("admin", &["admin:users"]).await;
    let r = hub
        .call(
            Method::POST,
            "/users/dave",
            &scoped_admin,
            Some(json!({"admin": true})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["admin"], true);
}

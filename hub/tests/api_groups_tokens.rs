//! `/hub/api/groups`, `/hub/api/users/{name}/tokens` and `/hub/api/services`, through the router.

mod common;

use axum::http::Method;
use common::{assert_error, TestHub};
use serde_json::json;

#[tokio::test]
async fn groups_lifecycle() {
    let hub = TestHub::new(&[]).await;
    hub.user("alice", false).await;
    hub.user("bob", false).await;
    let admin = hub.token("admin", &["inherit"]).await;
    let alice = hub.token("alice", &["inherit"]).await;

    let r = hub
        .call(
            Method::POST,
            "/groups/staff",
            &admin,
            Some(json!({"users": ["alice"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["users"], json!(["alice"]));
    assert_error(
        &hub.call(Method::POST, "/groups/staff", &admin, None).await,
        409,
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/groups/ghosts",
            &admin,
            Some(json!({"users": ["nobody"]})),
        )
        .await,
        400,
    );
    assert!(hub.store().get_group("ghosts").await.unwrap().is_none());
    assert_error(
        &hub.call(Method::POST, "/groups/x", &alice, None).await,
        403,
    );

    let r = hub
        .call(
            Method::POST,
            "/groups",
            &admin,
            Some(json!({"groups": ["a", "b"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_error(
        &hub.call(
            Method::POST,
            "/groups",
            &admin,
            Some(json!({"groups": ["c", "a"]})),
        )
        .await,
        409,
    );
    assert!(
        hub.store().get_group("c").await.unwrap().is_none(),
        "all or none"
    );
    assert_error(
        &hub.call(Method::POST, "/groups", &admin, Some(json!({"groups": []})))
            .await,
        400,
    );

    let r = hub
        .call(
            Method::POST,
            "/groups/staff/users",
            &admin,
            Some(json!({"users": ["bob"]})),
        )
        .await;
    assert_eq!(r.body["users"], json!(["alice", "bob"]));
    let r = hub
        .call(
            Method::DELETE,
            "/groups/staff/users",
            &admin,
            Some(json!({"users": ["alice"]})),
        )
        .await;
    assert_eq!(r.body["users"], json!(["bob"]));
    assert_error(
        &hub.call(
            Method::POST,
            "/groups/staff/users",
            &admin,
            Some(json!({"users": "bob"})),
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/groups/nope/users",
            &admin,
            Some(json!({"users": ["bob"]})),
        )
        .await,
        404,
    );
    let r = hub
        .call(
            Method::PUT,
            "/groups/staff/properties",
            &admin,
            Some(json!({"lab": "x-ray"})),
        )
        .await;
    assert_eq!(r.body["properties"], json!({"lab": "x-ray"}));
    assert_error(
        &hub.call(
            Method::PUT,
            "/groups/staff/properties",
            &admin,
            Some(json!([1])),
        )
        .await,
        400,
    );

    let r = hub.call(Method::GET, "/groups", &admin, None).await;
    assert_eq!(r.body.as_array().unwrap().len(), 3);
    assert_error(&hub.call(Method::GET, "/groups", &alice, None).await, 403);
    let r = hub.call(Method::GET, "/users/bob", &admin, None).await;
    assert_eq!(r.body["groups"], json!(["staff"]));

    // A group-filtered scope reaches the group's members and nobody else.
    let staff_reader = hub.token("admin", &["read:users!group=staff"]).await;
    assert_eq!(
        hub.call(Method::GET, "/users/bob", &staff_reader, None)
            .await
            .status,
        200
    );
    assert_error(
        &hub.call(Method::GET, "/users/alice", &staff_reader, None)
            .await,
        404,
    );

    assert_eq!(
        hub.call(Method::DELETE, "/groups/staff", &admin, None)
            .await
            .status,
        204
    );
    assert_error(
        &hub.call(Method::DELETE, "/groups/staff", &admin, None)
            .await,
        404,
    );
    assert_error(
        &hub.call(Method::GET, "/groups/staff", &admin, None).await,
        404,
    );
}

#[tokio::test]
async fn tokens_lifecycle() {
    let hub = TestHub::new(&[]).await;
    hub.user("alice", false).await;
    hub.user("bob", false).await;
    let alice = hub.token("alice", &["inherit"]).await;
    let admin = hub.token("admin", &["inherit"]).await;

    let r = hub
        .call(
            Method::POST,
            "/users/alice/tokens",
            &alice,
            Some(
                json!({"note": "culler", "expires_in": 3600, "scopes": ["read:users!user=alice"]}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let new_token = r.body["token"].as_str().unwrap().to_owned();
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["note"], "culler");
    assert!(r.body["expires_at"].is_string());

    let me = hub.call(Method::GET, "/user", &new_token, None).await;
    assert_eq!(me.body["name"], "alice");
    assert_eq!(
        me.body["scopes"],
        json!([
            "read:users!user=alice",
            "read:users:activity!user=alice",
            "read:users:groups!user=alice",
            "read:users:name!user=alice"
        ])
    );

    let r = hub
        .call(Method::GET, "/users/alice/tokens", &alice, None)
        .await;
    assert_eq!(r.body["api_tokens"].as_array().unwrap().len(), 2);
    assert!(
        r.body.to_string().find(&new_token).is_none(),
        "tokens are never shown again"
    );
    assert_eq!(
        hub.call(
            Method::GET,
            &format!("/users/alice/tokens/{id}"),
            &alice,
            None
        )
        .await
        .status,
        200
    );
    assert_error(
        &hub.call(Method::GET, "/users/alice/tokens/a99999", &alice, None)
            .await,
        404,
    );
    assert_error(
        &hub.call(Method::GET, "/users/alice/tokens/garbage", &alice, None)
            .await,
        404,
    );
    assert_error(
        &hub.call(Method::GET, "/users/bob/tokens", &alice, None)
            .await,
        404,
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/users/alice/tokens",
            &alice,
            Some(json!({"scopes": ["admin:users"]})),
        )
        .await,
        403,
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/users/alice/tokens",
            &alice,
            Some(json!({"scopes": ["no:such:scope"]})),
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/users/alice/tokens",
            &alice,
            Some(json!({"expires_in": "soon"})),
        )
        .await,
        400,
    );

    let r = hub
        .call(Method::POST, "/users/bob/tokens", &admin, None)
        .await;
    assert_eq!(
        r.status, 201,
        "admins may mint tokens for users: {}",
        r.body
    );

    assert_eq!(
        hub.call(
            Method::DELETE,
            &format!("/users/alice/tokens/{id}"),
            &alice,
            None
        )
        .await
        .status,
        204
    );
    assert_error(&hub.call(Method::GET, "/user", &new_token, None).await, 403);
    assert_error(
        &hub.call(
            Method::DELETE,
            &format!("/users/alice/tokens/{id}"),
            &alice,
            None,
        )
        .await,
        404,
    );
}

#[tokio::test]
async fn configured_services_authenticate_with_their_roles() {
    let token = "culler-token-0123456789";
    let hub = TestHub::new(&[
        ("JupyterHub.services", &format!("[{{name = \"culler\", api_token = \"{token}\"}}]")),
        ("JupyterHub.load_roles", "[{name = \"culler-role\", scopes = [\"list:users\", \"read:users:activity\", \"delete:servers\"], services = [\"culler\"]}]"),
    ])
    .await;
    hub.user("alice", false).await;
    let me = hub.call(Method::GET, "/user", token, None).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["kind"], "service");
    let r = hub.call(Method::GET, "/users", token, None).await;
    assert_eq!(r.status, 200);
    let alice = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "alice")
        .unwrap()
        .clone();
    // list:users and read:users:activity give name, admin and activity, not the full model.
    assert!(
        alice.get("last_activity").is_some() && alice.get("created").is_none(),
        "{alice}"
    );
    assert_error(&hub.call(Method::POST, "/users/x", token, None).await, 403);

    let admin = hub.token("admin", &["inherit"]).await;
    let r = hub.call(Method::GET, "/services", &admin, None).await;
    assert_eq!(r.body["culler"]["roles"], json!(["culler-role"]));
    assert_eq!(
        hub.call(Method::GET, "/services/culler", &admin, None)
            .await
            .status,
        200
    );
    assert_error(
        &hub.call(Method::GET, "/services/nope", &admin, None).await,
        404,
    );
}

//! `/hub/api/shares`, `/users/{name}/shared`, `/groups/{name}/shared` through the router.

mod common;

use axum::http::Method;
use common::{assert_error, TestHub};
use ferrohub::store::Server;
use serde_json::json;

async fn with_server(hub: &TestHub, user: &str) {
    hub.user(user, false).await;
    let server = Server {
        name: String::new(),
        display_name: String::new(),
        url: None,
        started: None,
        last_activity: None,
        state: json!({}),
        user_options: json!({}),
    };
    hub.store().save_server(user, &server).await.unwrap();
}

#[tokio::test]
async fn sharing_grants_revokes_and_checks_scopes() {
    // As JupyterHub's documentation suggests, users may share their own servers.
    let hub = TestHub::new(&[(
        "JupyterHub.load_roles",
        r#"[{name = "user", scopes = ["self", "shares!user", "read:users:name", "read:groups:name"]}]"#,
    )])
    .await;
    with_server(&hub, "ann").await;
    hub.user("ben", false).await;
    let ann = hub.token("ann", &["inherit"]).await;
    let ben = hub.token("ben", &["inherit"]).await;

    // Ann shares her server with Ben; Ben gains access to it (and only to it).
    let r = hub
        .call(
            Method::POST,
            "/shares/ann/",
            &ann,
            Some(json!({"user": "ben"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["kind"], "user");
    assert_eq!(r.body["server"]["url"], "/user/ann/");
    let me = hub.call(Method::GET, "/user", &ben, None).await.body;
    let scopes: Vec<String> = serde_json::from_value(me["scopes"].clone()).unwrap();
    assert!(
        scopes.contains(&"access:servers!server=ann/".to_owned()),
        "{scopes:?}"
    );

    // Ben cannot share Ann's server on, nor read its shares.
    assert_error(
        &hub.call(
            Method::POST,
            "/shares/ann/",
            &ben,
            Some(json!({"user": "ben"})),
        )
        .await,
        404,
    );
    assert_error(&hub.call(Method::GET, "/shares/ann", &ben, None).await, 404);
    // A token without the scope at all: 403.
    let narrow = hub.token("ann", &["read:users:name!user=ann"]).await;
    assert_error(
        &hub.call(
            Method::POST,
            "/shares/ann/",
            &narrow,
            Some(json!({"user": "ben"})),
        )
        .await,
        403,
    );
    // Scopes Ann does not hold cannot be shared.
    let r = hub
        .call(
            Method::POST,
            "/shares/ann/",
            &ann,
            Some(json!({"user": "ben", "scopes": ["admin:users"]})),
        )
        .await;
    assert_error(&r, 403);
    // Bad bodies and unknown objects.
    assert_error(
        &hub.call(
            Method::POST,
            "/shares/ann/",
            &ann,
            Some(json!({"user": "ben", "group": "g"})),
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(Method::POST, "/shares/ann/", &ann, Some(json!({})))
            .await,
        400,
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/shares/ann/",
            &ann,
            Some(json!({"user": "ghost"})),
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/shares/ann/",
            &ann,
            Some(json!({"user": "ben", "scopes": ["access:servers!user=ben"]})),
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/shares/ann/",
            &ann,
            Some(json!({"user": "ben", "extra": 1})),
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/shares/ann/nope",
            &ann,
            Some(json!({"user": "ben"})),
        )
        .await,
        404,
    );

    // Ben sees and leaves the share.
    // Share listings always come in the pagination envelope, as in JupyterHub.
    let r = hub.call(Method::GET, "/users/ben/shared", &ben, None).await;
    assert_eq!(
        r.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.body
    );
    assert_eq!(r.body["_pagination"]["total"], 1, "{}", r.body);
    assert_eq!(
        hub.call(Method::GET, "/users/ben/shared/ann/", &ben, None)
            .await
            .status,
        200
    );
    assert_eq!(
        hub.call(Method::DELETE, "/users/ben/shared/ann/", &ben, None)
            .await
            .status,
        204
    );
    assert_error(
        &hub.call(Method::GET, "/users/ben/shared/ann/", &ben, None)
            .await,
        404,
    );
    let me = hub.call(Method::GET, "/user", &ben, None).await.body;
    assert!(
        !me["scopes"].to_string().contains("server=ann/"),
        "access ends with the share"
    );

    // Revoking from someone who holds nothing is not an error.
    let r = hub
        .call(
            Method::PATCH,
            "/shares/ann/",
            &ann,
            Some(json!({"user": "ben"})),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.body.clone()), (200, json!({})));
    assert_eq!(
        hub.call(Method::DELETE, "/shares/ann/", &ann, None)
            .await
            .status,
        204
    );
}

#[tokio::test]
async fn share_codes_are_issued_listed_and_revoked() {
    let hub = TestHub::new(&[]).await;
    with_server(&hub, "ann").await;
    let admin = hub.token("admin", &["inherit"]).await;
    let ann = hub.token("ann", &["inherit"]).await;

    let r = hub
        .call(
            Method::POST,
            "/share-codes/ann/",
            &admin,
            Some(json!({"expires_in": 600})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let code = r.body["code"].as_str().unwrap().to_owned();
    assert!(r.body["accept_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("accept-share?code={code}")));
    let listed = hub
        .call(Method::GET, "/share-codes/ann/", &admin, None)
        .await
        .body["items"]
        .clone();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert!(
        listed[0].get("code").is_none(),
        "the code is shown once only"
    );

    // Without the shares scope (Ann cannot share by default, as in JupyterHub): 403.
    assert_error(
        &hub.call(Method::POST, "/share-codes/ann/", &ann, None)
            .await,
        403,
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/share-codes/ann/",
            &admin,
            Some(json!({"expires_in": 5})),
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(
            Method::POST,
            "/share-codes/ann/",
            &admin,
            Some(json!({"bogus": 1})),
        )
        .await,
        400,
    );
    assert_error(
        &hub.call(Method::POST, "/share-codes/ann/nope", &admin, None)
            .await,
        404,
    );
    assert_error(
        &hub.call(Method::DELETE, "/share-codes/ann/?id=sc_999", &admin, None)
            .await,
        404,
    );
    assert_error(
        &hub.call(Method::DELETE, "/share-codes/ann/?id=bogus", &admin, None)
            .await,
        404,
    );
    let id = listed[0]["id"].as_str().unwrap();
    let r = hub
        .call(
            Method::DELETE,
            &format!("/share-codes/ann/?id={id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        hub.call(Method::GET, "/share-codes/ann", &admin, None)
            .await
            .body["items"],
        json!([])
    );
}

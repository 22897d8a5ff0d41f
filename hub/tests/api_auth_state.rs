//! `auth_state` through the REST API: admins set it with `PATCH /users/{name}` and read it
//! with `GET /users/{name}`; it is stored encrypted, shown only to `admin:auth_state`, refused
//! with a clear message when the hub has no key, and re-encrypted when keys rotate.

mod common;

use axum::http::Method;
use common::{assert_error, TestHub};
use serde_json::{json, Value};

const KEY_A: &str = "a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0";
const KEY_B: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

async fn hub_with_admin() -> (TestHub, String) {
    let hub = TestHub::new(&[]).await;
    hub.user("root", true).await;
    hub.user("ada", false).await;
    let admin = hub.token("root", &["inherit"]).await;
    (hub, admin)
}

#[tokio::test]
async fn admins_store_and_read_auth_state_encrypted() {
    let (hub, _) = hub_with_admin().await;
    let hub = hub.with_crypt_keys(KEY_A);
    let admin = hub.token("root", &["inherit"]).await;
    let state = json!({"access_token": "secret-at-1", "groups": ["physics"]});

    let reply = hub
        .call(
            Method::PATCH,
            "/users/ada",
            &admin,
            Some(json!({"auth_state": state})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.body["auth_state"], state,
        "the PATCH answers what it stored"
    );
    assert_eq!(reply.body["name"], "ada");

    // Stored encrypted: the database never holds the plain text.
    let sealed = hub.store().get_auth_state("ada").await.unwrap().unwrap();
    assert!(!sealed.contains("secret-at-1"), "{sealed}");

    let reply = hub.call(Method::GET, "/users/ada", &admin, None).await;
    assert_eq!(reply.body["auth_state"], state, "{}", reply.body);

    // `admin:auth_state` alone reveals it (with the name); `read:users` does not.
    let reader = hub.token("root", &["read:users"]).await;
    let reply = hub.call(Method::GET, "/users/ada", &reader, None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.get("auth_state").is_none(), "{}", reply.body);
    let keeper = hub.token("root", &["read:users", "admin:auth_state"]).await;
    let reply = hub.call(Method::GET, "/users/ada", &keeper, None).await;
    assert_eq!(reply.body["auth_state"], state, "{}", reply.body);
    // The owner does not see their own (JupyterHub's users lack admin:auth_state).
    let own = hub.token("ada", &["inherit"]).await;
    let reply = hub.call(Method::GET, "/users/ada", &own, None).await;
    assert!(reply.body.get("auth_state").is_none(), "{}", reply.body);
    // Listings never decrypt (as JupyterHub, they show null).
    let reply = hub.call(Method::GET, "/users", &admin, None).await;
    let listed = reply.body.as_array().unwrap();
    let ada = listed.iter().find(|u| u["name"] == "ada").unwrap();
    assert_eq!(ada["auth_state"], Value::Null, "{ada}");

    // A rename keeps it; another PATCH replaces it.
    let reply = hub
        .call(
            Method::PATCH,
            "/users/ada",
            &admin,
            Some(json!({"name": "ada2"})),
        )
        .await;
    assert_eq!(reply.body["auth_state"], state, "{}", reply.body);
    let next = json!({"access_token": "secret-at-2"});
    let reply = hub
        .call(
            Method::PATCH,
            "/users/ada2",
            &admin,
            Some(json!({"auth_state": next})),
        )
        .await;
    assert_eq!(reply.body["auth_state"], next, "{}", reply.body);
}

#[tokio::test]
async fn bad_auth_state_is_refused_and_changes_nothing() {
    let (hub, admin) = hub_with_admin().await;

    // No key: a clear 400, and the rename in the same body does not happen either.
    let reply = hub
        .call(
            Method::PATCH,
            "/users/ada",
            &admin,
            Some(json!({"name": "ada2", "auth_state": {"k": "v"}})),
        )
        .await;
    assert_error(&reply, 400);
    let message = reply.body["message"].as_str().unwrap();
    assert!(message.contains("JUPYTERHUB_CRYPT_KEY"), "{message}");
    assert_eq!(
        hub.call(Method::GET, "/users/ada", &admin, None)
            .await
            .status,
        200
    );
    assert_eq!(hub.store().get_auth_state("ada").await.unwrap(), None);

    let hub = hub.with_crypt_keys(KEY_A);
    for bad in [json!(null), json!("text"), json!([1, 2]), json!(7)] {
        let reply = hub
            .call(
                Method::PATCH,
                "/users/ada",
                &admin,
                Some(json!({"auth_state": bad})),
            )
            .await;
        assert_error(&reply, 400);
        assert!(
            reply.body["message"]
                .as_str()
                .unwrap()
                .contains("must be an object"),
            "{bad}: {}",
            reply.body
        );
    }
    assert_eq!(hub.store().get_auth_state("ada").await.unwrap(), None);

    // Without `admin:users` nobody may write it, not even with `admin:auth_state`.
    let keeper = hub.token("root", &["read:users", "admin:auth_state"]).await;
    let reply = hub
        .call(
            Method::PATCH,
            "/users/ada",
            &keeper,
            Some(json!({"auth_state": {}})),
        )
        .await;
    assert_error(&reply, 403);
}

#[tokio::test]
async fn rotated_keys_still_read_and_rewrite_under_the_first() {
    let (hub, _) = hub_with_admin().await;
    let hub = hub.with_crypt_keys(KEY_A);
    let admin = hub.token("root", &["inherit"]).await;
    let state = json!({"refresh_token": "r-1"});
    let reply = hub
        .call(
            Method::PATCH,
            "/users/ada",
            &admin,
            Some(json!({"auth_state": state})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let under_a = hub.store().get_auth_state("ada").await.unwrap().unwrap();

    // A hub that only knows B cannot read it: null, not an error.
    let hub = hub.with_crypt_keys(KEY_B);
    let reply = hub.call(Method::GET, "/users/ada", &admin, None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["auth_state"], Value::Null);

    // "B;A": A still reads it, and reading writes it back under B.
    let hub = hub.with_crypt_keys(&format!("{KEY_B};{KEY_A}"));
    let reply = hub.call(Method::GET, "/users/ada", &admin, None).await;
    assert_eq!(reply.body["auth_state"], state, "{}", reply.body);
    let under_b = hub.store().get_auth_state("ada").await.unwrap().unwrap();
    assert_ne!(under_a, under_b, "re-encrypted");
    let reply = hub.call(Method::GET, "/users/ada", &admin, None).await;
    assert_eq!(reply.body["auth_state"], state, "{}", reply.body);
    assert_eq!(
        hub.store().get_auth_state("ada").await.unwrap().unwrap(),
        under_b,
        "a value already under the first key is not written again"
    );
    let hub = hub.with_crypt_keys(KEY_B);
    let reply = hub.call(Method::GET, "/users/ada", &admin, None).await;
    assert_eq!(reply.body["auth_state"], state, "B alone reads it now");
}

#[tokio::test]
async fn the_hub_refuses_to_start_with_auth_state_but_no_usable_key() {
    use ferrohub::config::{ConfigSource, HubConfig, Overrides};
    let mut o = Overrides::default();
    let key = "Authenticator.enable_auth_state";
    o.push(key, "true", ConfigSource::CommandLine(key.into()));
    let config = HubConfig::load(None, &o).unwrap();
    for (crypt_key, expect) in [
        (None, "openssl rand -hex 32"),
        (Some(" "), "enable_auth_state"),
        (Some("not-a-key"), "key number 1"),
    ] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let env = ferrohub::HubEnv {
            crypt_key: crypt_key.map(str::to_owned),
            ..Default::default()
        };
        // Refused before anything is opened or started, so nothing needs stopping.
        let err = ferrohub::run(config.clone(), env, listener, std::future::pending())
            .await
            .expect_err("must not start");
        assert!(err.to_string().contains(expect), "{crypt_key:?}: {err}");
    }
}

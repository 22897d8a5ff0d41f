//! `/hub/api/applications`, `/hub/api/grants` and `/hub/api/users/{name}/applications`:
//! registering app images, granting them to users and groups, and what each user may launch.

mod common;

use axum::http::Method;
use common::{assert_error, TestHub};
use serde_json::{json, Value};

fn mapping_ids(body: &Value) -> Vec<String> {
    body.as_array()
        .unwrap_or_else(|| panic!("a list: {body}"))
        .iter()
        .map(|g| g["mapping_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn applications_are_registered_listed_and_removed() {
    let hub = TestHub::new(&[]).await;
    hub.user("root", true).await;
    hub.user("ada", false).await;
    let admin = hub.token("root", &["inherit"]).await;
    let ada = hub.token("ada", &["inherit"]).await;

    let r = hub
        .call(
            Method::POST,
            "/applications",
            &admin,
            Some(json!({"image": "desktop:1", "verify": false})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["image"], "desktop:1");
    assert_eq!(
        r.headers["location"].to_str().unwrap(),
        format!("/hub/api/applications/{id}")
    );
    let again = hub
        .call(
            Method::POST,
            "/applications",
            &admin,
            Some(json!({"image": "desktop:1", "verify": false})),
        )
        .await;
    assert_error(&again, 409);

    // Bad bodies are 400s that say why; nothing is registered.
    for body in [
        json!({}),
        json!({"image": "x:1", "verify": false, "extra": 1}),
        json!({"image": "   ", "verify": false}),
        json!({"image": "two words", "verify": false}),
    ] {
        let r = hub
            .call(Method::POST, "/applications", &admin, Some(body.clone()))
            .await;
        assert_error(&r, 400);
    }
    // By default the image must be on the Docker engine (nothing is pulled).
    let r = hub
        .call(
            Method::POST,
            "/applications",
            &admin,
            Some(json!({"image": "ferrohub-no-such-image:never"})),
        )
        .await;
    assert_error(&r, 400);
    assert!(
        r.body["message"].as_str().unwrap().contains("no image"),
        "{}",
        r.body
    );

    let listed = hub.call(Method::GET, "/applications", &admin, None).await;
    assert_eq!(
        listed.body,
        json!([{"id": id, "image": "desktop:1", "created": listed.body[0]["created"]}])
    );
    let one = hub
        .call(Method::GET, &format!("/applications/{id}"), &admin, None)
        .await;
    assert_eq!(one.body["image"], "desktop:1");
    for missing in ["/applications/999", "/applications/abc"] {
        assert_error(&hub.call(Method::GET, missing, &admin, None).await, 404);
    }

    // A user without the scopes can neither see nor change applications.
    assert_error(
        &hub.call(Method::GET, "/applications", &ada, None).await,
        403,
    );
    let r = hub
        .call(
            Method::POST,
            "/applications",
            &ada,
            Some(json!({"image": "mine:1", "verify": false})),
        )
        .await;
    assert_error(&r, 403);
    assert_error(
        &hub.call(Method::DELETE, &format!("/applications/{id}"), &ada, None)
            .await,
        403,
    );

    // A token with read:applications reads but does not write.
    let reader = hub.token("root", &["read:applications"]).await;
    assert_eq!(
        hub.call(Method::GET, "/applications", &reader, None)
            .await
            .status,
        200
    );
    assert_error(
        &hub.call(
            Method::DELETE,
            &format!("/applications/{id}"),
            &reader,
            None,
        )
        .await,
        403,
    );

    let r = hub
        .call(Method::DELETE, &format!("/applications/{id}"), &admin, None)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        hub.call(Method::GET, "/applications", &admin, None)
            .await
            .body,
        json!([])
    );
}

#[tokio::test]
async fn grants_give_users_and_groups_what_they_may_launch() {
    let hub = TestHub::new(&[]).await;
    hub.user("root", true).await;
    for name in ["ada", "bo", "cy"] {
        hub.user(name, false).await;
    }
    hub.store()
        .create_groups(&[("physics".into(), vec!["ada".into()])])
        .await
        .unwrap();
    let admin = hub.token("root", &["inherit"]).await;
    for image in ["desktop:1", "webapp:1"] {
        let r = hub
            .call(
                Method::POST,
                "/applications",
                &admin,
                Some(json!({"image": image, "verify": false})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let grant = |body: Value| {
        let hub = &hub;
        let admin = admin.clone();
        async move { hub.call(Method::POST, "/grants", &admin, Some(body)).await }
    };

    let r = grant(json!({
        "image": "desktop:1", "user": "Ada",
        "policy": {"allow_home": true, "volume_source": "/data", "volume_target": "/data", "volume_mode": "ro"}
    }))
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let own = r.body["mapping_id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["user"], "ada", "names are normalised");
    assert_eq!(r.body["policy"]["allow_home"], true);
    assert_eq!(r.body["policy"]["volume_mode"], "ro");
    assert_eq!(
        r.headers["location"].to_str().unwrap(),
        format!("/hub/api/grants/{own}")
    );
    let r = grant(json!({"image": "webapp:1", "group": "physics", "policy": {"allow_view": true}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let via_group = r.body["mapping_id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["group"], "physics");

    // The same holder and policy again is a conflict; mistakes are 400s; nothing changes.
    let r = grant(json!({"image": "webapp:1", "group": "physics", "policy": {"allow_view": true}}))
        .await;
    assert_error(&r, 409);
    for bad in [
        json!({"image": "webapp:1", "user": "nobody"}),
        json!({"image": "webapp:1", "group": "nogroup"}),
        json!({"image": "unregistered:1", "user": "ada"}),
        json!({"image": "webapp:1"}),
        json!({"image": "webapp:1", "user": "ada", "group": "physics"}),
        json!({"image": "webapp:1", "user": "ada", "policy": {"volume_source": "/x"}}),
        json!({"image": "webapp:1", "user": "ada", "policy": {"volume_source": "x", "volume_target": "/x"}}),
        json!({"image": "webapp:1", "user": "ada", "policy": {"allow_everything": true}}),
    ] {
        assert_error(&grant(bad).await, 400);
    }
    let all = hub.call(Method::GET, "/grants", &admin, None).await;
    assert_eq!(mapping_ids(&all.body), [own.as_str(), via_group.as_str()]);

    // Each user sees what they may launch: ada her own and her group's, bo nothing, until
    // bo joins the group (seen at once, no restart).
    let ada = hub.token("ada", &["inherit"]).await;
    let bo = hub.token("bo", &["inherit"]).await;
    let r = hub
        .call(Method::GET, "/users/ada/applications", &ada, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(mapping_ids(&r.body), [own.as_str(), via_group.as_str()]);
    let r = hub
        .call(Method::GET, "/users/bo/applications", &bo, None)
        .await;
    assert_eq!(r.body, json!([]));
    hub.store()
        .add_group_members("physics", &["bo".into()])
        .await
        .unwrap();
    let r = hub
        .call(Method::GET, "/users/bo/applications", &bo, None)
        .await;
    assert_eq!(mapping_ids(&r.body), [via_group.as_str()]);
    // Nobody reads another user's list without a scope for it.
    assert_error(
        &hub.call(Method::GET, "/users/ada/applications", &bo, None)
            .await,
        404,
    );
    assert_error(&hub.call(Method::GET, "/grants", &bo, None).await, 403);
    let narrow = hub
        .token("root", &["read:users:applications!user=cy"])
        .await;
    assert_eq!(
        hub.call(Method::GET, "/users/cy/applications", &narrow, None)
            .await
            .status,
        200
    );
    assert_error(
        &hub.call(Method::GET, "/users/ada/applications", &narrow, None)
            .await,
        404,
    );

    // Filters on the listing.
    let r = hub
        .call(Method::GET, "/grants?group=physics", &admin, None)
        .await;
    assert_eq!(mapping_ids(&r.body), [via_group.as_str()]);
    let r = hub
        .call(Method::GET, "/grants?user=Ada", &admin, None)
        .await;
    assert_eq!(mapping_ids(&r.body), [own.as_str()]);
    assert_error(
        &hub.call(Method::GET, "/grants?user=ada&group=physics", &admin, None)
            .await,
        400,
    );

    // Revoking is seen at the user's next request.
    let r = hub
        .call(
            Method::DELETE,
            &format!("/grants/{via_group}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_error(
        &hub.call(
            Method::DELETE,
            &format!("/grants/{via_group}"),
            &admin,
            None,
        )
        .await,
        404,
    );
    let r = hub
        .call(Method::GET, "/users/ada/applications", &ada, None)
        .await;
    assert_eq!(mapping_ids(&r.body), [own.as_str()]);
    let r = hub
        .call(Method::GET, &format!("/grants/{own}"), &admin, None)
        .await;
    assert_eq!(r.body["image"], "desktop:1");
}

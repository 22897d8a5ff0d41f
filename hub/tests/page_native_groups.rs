//! The native authenticator's `allowed_groups` and `admin_groups` through the real login
//! form: hub groups whose members admins manage through the REST API decide who may log in
//! and who is an admin; a database account outside the allow lists is refused with a page
//! that says so.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::TestHub;
use serde_json::json;
use tower::ServiceExt;

const PASSWORD: &str = "Corr3ct-horse!";

/// A hub with `students` allowed and `staff` admins (root is the configured admin).
async fn hub() -> TestHub {
    let hub = TestHub::native(&[
        ("Authenticator.admin_users", "[\"root\"]"),
        ("NativeAuthenticator.allowed_groups", "[\"students\"]"),
        ("NativeAuthenticator.admin_groups", "[\"staff\"]"),
    ])
    .await;
    for name in ["sam", "nina", "ada", "olga"] {
        hub.user(name, name == "olga").await;
        let hash = ferrohub::auth::passwords::hash(PASSWORD).await;
        hub.store()
            .set_credentials(name, Some(&hash), false)
            .await
            .unwrap();
    }
    // Membership as an admin manages it: through the API.
    let root = hub.token("root", &["inherit"]).await;
    for (group, members) in [("students", ["sam"]), ("staff", ["ada"])] {
        let reply = hub
            .call(
                Method::POST,
                &format!("/groups/{group}"),
                &root,
                Some(json!({ "users": members })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    hub
}

/// Log in through the form as a browser does: fetch it (and its XSRF cookie), post it back.
/// Returns the status, the `Location` header and the page.
async fn log_in(hub: &TestHub, name: &str, password: &str) -> (StatusCode, String, String) {
    let form = hub
        .app
        .clone()
        .oneshot(Request::get("/hub/login").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let cookie = form.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let xsrf = cookie.split_once('=').unwrap().1.to_owned();
    let body = format!("username={name}&password={password}&_xsrf={xsrf}");
    let req = Request::builder()
        .method(Method::POST)
        .uri("/hub/login")
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let resp = hub.app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let location = resp
        .headers()
        .get(header::LOCATION)
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        location,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

async fn is_admin(hub: &TestHub, name: &str) -> bool {
    hub.store().get_user(name).await.unwrap().unwrap().admin
}

#[tokio::test]
async fn a_member_of_allowed_groups_logs_in() {
    let hub = hub().await;
    let (status, location, body) = log_in(&hub, "sam", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(location, "/hub/home");
    assert!(!is_admin(&hub, "sam").await);
}

#[tokio::test]
async fn an_account_outside_the_allowed_groups_is_refused_with_a_clear_page() {
    let hub = hub().await;
    let (status, location, body) = log_in(&hub, "nina", PASSWORD).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(location.is_empty());
    assert!(
        body.contains("nina is not allowed to use this hub. Ask an administrator for access."),
        "{body}"
    );
    // A wrong password says only that, whoever the account is.
    let (status, _, body) = log_in(&hub, "nina", "Wr0ng-password!").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("Invalid username or password."), "{body}");

    // Once an admin adds her to the group through the API, she gets in.
    let root = hub.token("root", &["inherit"]).await;
    let reply = hub
        .call(
            Method::POST,
            "/groups/students/users",
            &root,
            Some(json!({ "users": ["nina"] })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let (status, _, body) = log_in(&hub, "nina", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
}

#[tokio::test]
async fn admin_groups_grant_admin_and_revoke_it() {
    let hub = hub().await;
    // ada is in staff only: an admin by it, and so allowed.
    assert!(!is_admin(&hub, "ada").await);
    let (status, _, body) = log_in(&hub, "ada", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert!(is_admin(&hub, "ada").await, "granted by admin_groups");

    // olga was made admin through the API but is in no admin group: admin_groups is
    // authoritative, so the login revokes it, and she is in no allowed group either.
    assert!(is_admin(&hub, "olga").await);
    let (status, _, body) = log_in(&hub, "olga", PASSWORD).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("olga is not allowed"), "{body}");

    // Taken out of staff, ada loses admin at her next login (and, in no allowed group,
    // access too).
    let root = hub.token("root", &["inherit"]).await;
    let reply = hub
        .call(
            Method::DELETE,
            "/groups/staff/users",
            &root,
            Some(json!({ "users": ["ada"] })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let (status, _, _) = log_in(&hub, "ada", PASSWORD).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn without_allow_lists_every_account_logs_in() {
    let hub = TestHub::native(&[]).await;
    hub.user("zoe", false).await;
    let hash = ferrohub::auth::passwords::hash(PASSWORD).await;
    hub.store()
        .set_credentials("zoe", Some(&hash), false)
        .await
        .unwrap();
    let (status, _, body) = log_in(&hub, "zoe", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
}

#[tokio::test]
async fn allowed_users_alone_refuses_other_accounts() {
    let hub = TestHub::native(&[("Authenticator.allowed_users", "[\"amy\"]")]).await;
    // Start-up creates the accounts of allowed_users; ben is made by an admin.
    hub.user("ben", false).await;
    let hash = ferrohub::auth::passwords::hash(PASSWORD).await;
    for name in ["amy", "ben"] {
        hub.store()
            .set_credentials(name, Some(&hash), false)
            .await
            .unwrap();
    }
    let (status, _, body) = log_in(&hub, "amy", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (status, _, body) = log_in(&hub, "ben", PASSWORD).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("ben is not allowed"), "{body}");
}

//! `/hub/set-password` refuses an expired invitation link with a page that says so, while
//! a fresh link for the same user opens the form.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestHub;
use tower::ServiceExt;

async fn get_page(hub: &TestHub, path: &str) -> (StatusCode, String) {
    let req = Request::builder().uri(path).body(Body::empty()).unwrap();
    let resp = hub.app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn an_expired_link_is_refused_with_a_clear_page() {
    let hub = TestHub::new(&[]).await;
    hub.user("ivy", false).await;
    let ivy = hub.store().get_user("ivy").await.unwrap().unwrap();
    // A lifetime of 0 hours: expired the moment it is made.
    let expired = ferrohub::auth::password_links::issue(hub.store(), &ivy, 0)
        .await
        .unwrap();
    let fresh = ferrohub::auth::password_links::issue(hub.store(), &ivy, 24)
        .await
        .unwrap();

    let (status, body) = get_page(
        &hub,
        &format!("/hub/set-password?token={}", expired.token.expose()),
    )
    .await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert!(
        body.contains("This link has expired. Ask an administrator for a new one."),
        "{body}"
    );
    assert!(
        !body.contains("name=\"pin\""),
        "no form for an expired link"
    );

    let (status, body) = get_page(
        &hub,
        &format!("/hub/set-password?token={}", fresh.token.expose()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("name=\"pin\""), "{body}");
}

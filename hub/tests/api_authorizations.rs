//! JupyterHub's deprecated `/authorizations` endpoints, through the router.

mod common;

use axum::http::Method;
use common::{assert_error, TestHub};

#[tokio::test]
async fn tokens_and_cookies_identify_their_owner() {
    let hub = TestHub::new(&[]).await;
    hub.user("alice", false).await;
    let service_view = hub.token("admin", &["inherit"]).await;
    let alice = hub.token("alice", &["read:users:name!user=alice"]).await;

    let r = hub
        .call(
            Method::GET,
            &format!("/authorizations/token/{alice}"),
            &service_view,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"], "alice");
    assert_eq!(r.body["kind"], "user");
    assert_error(
        &hub.call(
            Method::GET,
            "/authorizations/token/not-a-token",
            &service_view,
            None,
        )
        .await,
        404,
    );
    assert_error(
        &hub.call_raw(
            Method::GET,
            &format!("/authorizations/token/{alice}"),
            None,
            "",
            None,
        )
        .await,
        403,
    );
    assert_error(
        &hub.call(Method::POST, "/authorizations/token", &service_view, None)
            .await,
        404,
    );

    let set_cookie = ferrohub::auth::session::start(&hub.state, "alice")
        .await
        .unwrap()
        .remove(0);
    let value = set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let r = hub
        .call(
            Method::GET,
            &format!("/authorizations/cookie/jupyterhub-hub-login/{value}"),
            &service_view,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"], "alice");
    // The same cookie with its signature's last digit changed.
    let last = if value.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &value[..value.len() - 1]);
    assert_error(
        &hub.call(
            Method::GET,
            &format!("/authorizations/cookie/jupyterhub-hub-login/{forged}"),
            &service_view,
            None,
        )
        .await,
        404,
    );
    assert_error(
        &hub.call(
            Method::GET,
            "/authorizations/cookie/other/x",
            &service_view,
            None,
        )
        .await,
        404,
    );
}

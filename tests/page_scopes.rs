//! Pages decide by scopes, as the API does: a custom role that holds `servers` for one group
//! reaches that group's members' servers in the pages and in the REST API alike, and gets 404
//! for anyone else in both, as does a user whose scopes reach only their own servers. The
//! `admin` flag is only one way to hold the scopes.

use ferrohub_e2e::apps::log_in;
use ferrohub_e2e::{admin, TestHub};
use reqwest::Method;
use serde_json::json;

const ADMIN_TOKEN: &str = "page-scopes-admin-token-5b4a3c2d";

const CONFIG: &str = r#"
[JupyterHub]
authenticator_class = "dummy"
load_roles = [{name = "lab-operator", scopes = ["servers!group=lab", "read:users!group=lab"], users = ["op"]}]

[[JupyterHub.services]]
name = "setup"
api_token = "page-scopes-admin-token-5b4a3c2d"
admin = true
"#;

#[tokio::test]
async fn a_custom_role_reaches_the_same_servers_in_pages_and_in_the_api() {
    let hub = TestHub::start("page-scopes", CONFIG).await;
    for (path, body) in [
        ("/users", json!({"usernames": ["op", "ann", "zed", "pat"]})),
        ("/groups/lab", json!({"users": ["ann"]})),
    ] {
        let (status, reply) = hub.api(Method::POST, path, ADMIN_TOKEN, Some(body)).await;
        assert_eq!(status, 201, "{path}: {reply}");
    }
    let public = hub.public_url();
    for (who, target, want) in [
        ("op", "ann", 200),
        ("op", "zed", 404),
        ("op", "ghost", 404),
        ("pat", "ann", 404),
        ("pat", "pat", 200),
    ] {
        let browser = log_in(&hub, who).await;
        let page = browser
            .fetch(
                Method::GET,
                &format!("{public}/hub/spawn-pending/{target}"),
                None,
            )
            .await;
        let token = admin::token_of(&hub, ADMIN_TOKEN, who).await;
        let (api, body) = hub
            .api(Method::GET, &format!("/users/{target}"), &token, None)
            .await;
        assert_eq!(page.0, want, "{who} -> {target}'s page: {}", page.2);
        assert_eq!(api, want, "{who} -> {target} in the API: {body}");
    }
}

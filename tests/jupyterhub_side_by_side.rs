//! ferrohub beside a real JupyterHub (6.1.1 from the test venv), asked the same questions:
//! where the answers are a matter of JupyterHub's behaviour rather than a document, the two
//! must agree.

use ferrohub_e2e::jupyterhub::JupyterHub;
use ferrohub_e2e::{free_port, http, TestHub};
use serde_json::{json, Value};

const ADMIN_TOKEN: &str = "side-by-side-admin-token-8d7c6b5a";
const PROXY_TOKEN: &str = "side-by-side-proxy-token-1a2b3c4d";

/// A JupyterHub whose service `admin-bot` (token [`ADMIN_TOKEN`]) may manage users and groups.
async fn jupyterhub(label: &str, bind_path: &str) -> JupyterHub {
    JupyterHub::start_bound_under(label, free_port(), bind_path, PROXY_TOKEN, |_| {
        format!(
            "c.JupyterHub.authenticator_class = 'dummy'
c.JupyterHub.services = [{{'name': 'admin-bot', 'api_token': '{ADMIN_TOKEN}'}}]
c.JupyterHub.load_roles = [{{'name': 'bot', 'scopes': ['admin:users', 'admin:groups'], 'services': ['admin-bot']}}]
"
        )
    })
    .await
}

const FERROHUB_CONFIG: &str = r#"
[JupyterHub]
authenticator_class = "dummy"

[[JupyterHub.services]]
name = "admin-bot"
api_token = "side-by-side-admin-token-8d7c6b5a"
admin = true
"#;

/// `(status, body)` of a GET with the admin token, with or without the pagination envelope.
async fn get(api: &str, path: &str, envelope: bool) -> (u16, Value) {
    let mut req = http()
        .get(format!("{api}{path}"))
        .header("Authorization", format!("token {ADMIN_TOKEN}"));
    if envelope {
        req = req.header("Accept", "application/jupyterhub-pagination+json");
    }
    let resp = req.send().await.expect("the hub answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn post(api: &str, path: &str, body: Value) {
    let resp = http()
        .post(format!("{api}{path}"))
        .header("Authorization", format!("token {ADMIN_TOKEN}"))
        .json(&body)
        .send()
        .await
        .expect("the hub answers");
    assert_eq!(
        resp.status().as_u16(),
        201,
        "{path}: {:?}",
        resp.text().await
    );
}

/// What a hub answers to the paging questions on `/users` and `/groups`, after 230 of each
/// were created: page lengths, limits and statuses.
async fn page_answers(api: &str) -> Vec<(String, Value)> {
    let names = |p: &str| (0..230).map(|i| format!("{p}{i:03}")).collect::<Vec<_>>();
    post(api, "/users", json!({"usernames": names("pager")})).await;
    post(api, "/groups", json!({"groups": names("team")})).await;
    let mut answers = Vec::new();
    for list in ["/users", "/groups"] {
        for (query, envelope) in [
            ("", false),
            ("", true),
            ("?limit=1000", false),
            ("?limit=1000", true),
            ("?limit=0", true),
            ("?limit=-3", false),
            ("?offset=220&limit=5", true),
            ("?limit=abc", false),
            ("?offset=1.5", true),
        ] {
            let (status, body) = get(api, &format!("{list}{query}"), envelope).await;
            let answer = if status != 200 {
                json!({ "status": status })
            } else if envelope {
                json!({
                    "items": body["items"].as_array().map(Vec::len),
                    "offset": body["_pagination"]["offset"],
                    "limit": body["_pagination"]["limit"],
                    "next": body["_pagination"]["next"]["offset"],
                })
            } else {
                json!({ "items": body.as_array().map(Vec::len) })
            };
            answers.push((format!("{list}{query} envelope={envelope}"), answer));
        }
    }
    answers
}

#[tokio::test]
async fn list_page_sizes_match_jupyterhub() {
    let jh = jupyterhub("paging-jupyterhub", "/").await;
    let theirs = page_answers(&jh.url("/hub/api")).await;
    let hub = TestHub::start("paging-ferrohub", FERROHUB_CONFIG).await;
    let ours = page_answers(&hub.api_url()).await;
    assert_eq!(ours, theirs);
    // The figures themselves, so an agreement on something unexpected is noticed too.
    let answer = |q: &str| theirs.iter().find(|(k, _)| k == q).unwrap().1.clone();
    assert_eq!(answer("/users envelope=false"), json!({"items": 200}));
    assert_eq!(answer("/users envelope=true")["limit"], 50);
    assert_eq!(answer("/groups?limit=0 envelope=true")["items"], 1);
    assert_eq!(
        answer("/groups?limit=-3 envelope=false"),
        json!({"items": 3})
    );
    assert_eq!(
        answer("/users?limit=abc envelope=false"),
        json!({"status": 400})
    );
}

#[tokio::test]
async fn a_path_in_bind_url_is_the_base_url_as_in_jupyterhub() {
    let jh = jupyterhub("bind-path-jupyterhub", "/jh/").await;
    let hub = TestHub::start_bound_under("bind-path-ferrohub", FERROHUB_CONFIG, "/jh/").await;
    for (who, public) in [("JupyterHub", jh.url("")), ("ferrohub", hub.public_url())] {
        let (status, info) = get(&format!("{public}/jh/hub/api"), "/", false).await;
        assert_eq!(status, 200, "{who} serves its API under /jh/");
        assert!(info["version"].is_string(), "{who}: {info}");
        let (status, _) = get(&format!("{public}/jh/hub/api"), "/users", false).await;
        assert_eq!(status, 200, "{who} serves its users under /jh/");
        let (status, _) = get(&format!("{public}/hub/api"), "/users", false).await;
        assert_ne!(status, 200, "{who} serves nothing outside /jh/");
    }
}

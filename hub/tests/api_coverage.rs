//! Every endpoint of `/hub/api`, walked from one table: success, a caller without the scope
//! (403; for writes also a login cookie without the XSRF token), an unknown object (404), a
//! bad body or query (400) and a duplicate (409), each in JupyterHub's `{"status", "message"}`
//! form, and nothing written by a refused request.
//! `inventory_rows_cover_the_openapi_document_and_routes_rs` fails when a path or method of
//! JupyterHub's OpenAPI document or of `hub/src/routes.rs` has no row, and
//! `the_inventory_below_matches_the_table` when the table below drifts from [`ROWS`].
//!
//! "n/a" says why a case does not apply; "elsewhere" names the test that covers it with parts
//! a router test cannot have (a spawned server, a proxy, a browser). Columns: the scope
//! (any of), then what each case answers. Rows marked `*` are not in JupyterHub's document.
//!
//! <!-- inventory-start -->
//! | method | path | scope | 2xx | 403 | 404 | 400 | 409 |
//! |---|---|---|---|---|---|---|---|
//! | GET | / | none: public | 200 | n/a: public | n/a: no object | n/a: no input | n/a |
//! | GET | /info | read:hub | 200 | 403 | n/a: no object | n/a: no input | n/a |
//! | GET | /user | credentials only | 200 | 403 | n/a: the caller itself | n/a: no input | n/a |
//! | GET | /users | list:users | 200 | 403 | n/a: no object | 400 | n/a |
//! | POST | /users | admin:users | 201 | 403 | n/a: creates | 400 | 409 |
//! | GET | /users/{name} | read:users read:users:name read:servers read:users:groups read:users:activity read:roles:users | 200 | 403 | 404 | n/a: no input | n/a |
//! | POST | /users/{name} | admin:users | 201 | 403 | n/a: creates | 400 | 409 |
//! | PATCH | /users/{name} | admin:users | 200 | 403 | 404 | 400 | n/a |
//! | DELETE | /users/{name} | delete:users | 204 | 403 | 404 | n/a: no body | n/a |
//! | POST | /users/{name}/activity | users:activity | 200 | 403 | 404 | 400 | n/a |
//! | POST | /users/{name}/password-link * | admin:users | 201 | 403 | 404 | n/a: no body | n/a |
//! | POST | /users/{name}/server | start:servers | elsewhere: api_servers (spawns) | 403 | 404 | 400 | n/a |
//! | DELETE | /users/{name}/server | delete:servers | 204 | 403 | 404 | 400 | n/a |
//! | GET | /users/{name}/server/progress * | read:servers | elsewhere: api_servers (spawns) | 403 | 404 | n/a: no input | n/a |
//! | GET | /users/{name}/servers/{server_name} | read:servers | 200 | 403 | 404 | n/a: no input | n/a |
//! | PUT | /users/{name}/servers/{server_name} | start:servers | 201 | 403 | 404 | 400 | 409 |
//! | POST | /users/{name}/servers/{server_name} | start:servers | elsewhere: api_servers (spawns) | 403 | 404 | 400 | n/a |
//! | PATCH | /users/{name}/servers/{server_name} | start:servers | 200 | 403 | 404 | 400 | 409 |
//! | DELETE | /users/{name}/servers/{server_name} | delete:servers | 204 | 403 | 404 | 400 | n/a |
//! | GET | /users/{name}/servers/{server_name}/progress * | read:servers | elsewhere: api_servers (spawns) | 403 | 404 | n/a: no input | n/a |
//! | GET | /users/{name}/shared | read:users:shares | 200 | 403 | 404 | 400 | n/a |
//! | GET | /users/{name}/shared/{owner}/{server_name} | read:users:shares | 200 | 403 | 404 | n/a: no input | n/a |
//! | DELETE | /users/{name}/shared/{owner}/{server_name} | users:shares | 204 | 403 | 404 | n/a: no body | n/a |
//! | GET | /users/{name}/tokens | read:tokens | 200 | 403 | 404 | n/a: no input | n/a |
//! | POST | /users/{name}/tokens | tokens | 201 | 403 | 403 | 400 | n/a |
//! | GET | /users/{name}/tokens/{token_id} | read:tokens | 200 | 403 | 404 | n/a: no input | n/a |
//! | DELETE | /users/{name}/tokens/{token_id} | tokens | 204 | 403 | 404 | n/a: no body | n/a |
//! | GET | /groups | list:groups | 200 | 403 | n/a: no object | 400 | n/a |
//! | POST | /groups * | admin:groups | 201 | 403 | n/a: creates | 400 | 409 |
//! | GET | /groups/{name} | read:groups read:groups:name read:roles:groups | 200 | 403 | 404 | n/a: no input | n/a |
//! | POST | /groups/{name} | admin:groups | 201 | 403 | n/a: creates | 400 | 409 |
//! | DELETE | /groups/{name} | delete:groups | 204 | 403 | 404 | n/a: no body | n/a |
//! | GET | /groups/{name}/shared | read:groups:shares | 200 | 403 | 404 | 400 | n/a |
//! | GET | /groups/{name}/shared/{owner}/{server_name} | read:groups:shares | 200 | 403 | 404 | n/a: no input | n/a |
//! | DELETE | /groups/{name}/shared/{owner}/{server_name} | groups:shares | 204 | 403 | 404 | n/a: no body | n/a |
//! | POST | /groups/{name}/users | groups | 200 | 403 | 404 | 400 | n/a |
//! | DELETE | /groups/{name}/users | groups | 200 | 403 | 404 | 400 | n/a |
//! | PUT | /groups/{name}/properties | groups | 200 | 403 | 404 | 400 | n/a |
//! | GET | /shares/{owner} | read:shares | 200 | 403 | 404 | 400 | n/a |
//! | GET | /shares/{owner}/{server_name} | read:shares | 200 | 403 | 404 | 400 | n/a |
//! | POST | /shares/{owner}/{server_name} | shares | 200 | 403 | 404 | 400 | n/a |
//! | PATCH | /shares/{owner}/{server_name} | shares | 200 | 403 | 404 | 400 | n/a |
//! | DELETE | /shares/{owner}/{server_name} | shares | 204 | 403 | 404 | n/a: no body | n/a |
//! | GET | /share-codes/{owner} | read:shares | 200 | 403 | 404 | 400 | n/a |
//! | GET | /share-codes/{owner}/{server_name} | read:shares | 200 | 403 | 404 | 400 | n/a |
//! | POST | /share-codes/{owner}/{server_name} | shares | 200 | 403 | 404 | 400 | n/a |
//! | DELETE | /share-codes/{owner}/{server_name} | shares | 204 | 403 | 404 | n/a: no body | n/a |
//! | GET | /services | list:services | 200 | 403 | n/a: no object | n/a: no input | n/a |
//! | GET | /services/{name} | read:services read:services:name read:roles:services | 200 | 403 | 404 | n/a: no input | n/a |
//! | GET | /applications * | read:applications | 200 | 403 | n/a: no object | n/a: no input | n/a |
//! | POST | /applications * | admin:applications | 201 | 403 | n/a: creates | 400 | 409 |
//! | GET | /applications/{id} * | read:applications | 200 | 403 | 404 | n/a: no input | n/a |
//! | DELETE | /applications/{id} * | admin:applications | 204 | 403 | 404 | n/a: no body | n/a |
//! | GET | /grants * | read:applications | 200 | 403 | 404 | 400 | n/a |
//! | POST | /grants * | admin:applications | 201 | 403 | n/a: creates | 400 | 409 |
//! | GET | /grants/{mapping_id} * | read:applications | 200 | 403 | 404 | n/a: no input | n/a |
//! | DELETE | /grants/{mapping_id} * | admin:applications | 204 | 403 | 404 | n/a: no body | n/a |
//! | GET | /users/{name}/applications * | read:users:applications | 200 | 403 | 404 | n/a: no input | n/a |
//! | GET | /proxy | proxy | elsewhere: e2e hub_proxy_api (a proxy) | 403 | n/a: no object | 400 | n/a |
//! | POST | /proxy | proxy | elsewhere: e2e hub_proxy_api (a proxy) | 403 | n/a: no object | n/a: no body | n/a |
//! | PATCH | /proxy | proxy | elsewhere: e2e hub_proxy_api (a proxy) | 403 | n/a: no object | 400 | n/a |
//! | POST | /shutdown | shutdown | 202 | 403 | n/a: no object | 400 | n/a |
//! | POST | /authorizations/token | none: removed | n/a: removed, always 404 | n/a: removed | 404 | n/a: removed | n/a |
//! | GET | /authorizations/token/{token} | credentials only | 200 | 403 | 404 | n/a: no input | n/a |
//! | GET | /authorizations/cookie/{cookie_name}/{cookie_value} | credentials only | elsewhere: api_authorizations (a login) | 403 | 404 | n/a: no input | n/a |
//! | GET | /oauth2/authorize | none: browser, OAuth | elsewhere: e2e hub_oauth_login | n/a: OAuth errors | n/a: OAuth errors | n/a: OAuth errors | n/a |
//! | POST | /oauth2/authorize * | none: browser, OAuth | elsewhere: e2e hub_oauth_login | n/a: OAuth errors | n/a: OAuth errors | n/a: OAuth errors | n/a |
//! | POST | /oauth2/token | none: OAuth client | elsewhere: e2e hub_oauth_login | n/a: OAuth errors | n/a: OAuth errors | n/a: OAuth errors | n/a |
//! <!-- inventory-end -->
//!
//! JupyterHub answers some refusals differently from the pattern: `POST /users/{name}/tokens`
//! for an unknown user is a 403 ("not found or no permissions"), and a caller holding a scope
//! only for other objects gets 404 rather than 403 (checked by
//! `a_scope_for_other_objects_answers_404`). Making or changing an admin needs an admin even
//! with `admin:users` (api_users' `only_admins_grant_or_change_admin`).

mod common;
#[path = "coverage/rows.rs"]
mod rows;

use axum::http::Method;
use common::{assert_error, Reply, TestHub};
use ferrohub_shared::scopes::{parse_all, Owner, ScopeSet, SCOPE_TABLE};
use rows::{Case, Need, Row, ROWS};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const SERVICE_TOKEN: &str = "coverage-service-token-4f3e2d1c0b";

/// A hub with two users, stopped named servers `alice/lab` and `alice/spare`, `lab` shared
/// with `bob` and the group `staff` (alice's), a share code for it, one token of alice's, a
/// service `svc`, and the application `desk:1` (id 1) granted to alice.
struct Fixture {
    hub: TestHub,
    admin: String,
    token_id: String,
    token: String,
    code_id: String,
    /// The mapping id of the grant of `desk:1` to alice.
    grant_id: String,
}

impl Fixture {
    async fn new() -> Fixture {
        let services = format!("[{{name = \"svc\", api_token = \"{SERVICE_TOKEN}\"}}]");
        let hub = TestHub::new(&[
            ("JupyterHub.allow_named_servers", "true"),
            ("JupyterHub.services", &services),
        ])
        .await;
        hub.user("alice", false).await;
        hub.user("bob", false).await;
        let admin = hub.token("admin", &["inherit"]).await;
        let token = hub.token("alice", &["inherit"]).await;
        let mut f = Fixture {
            hub,
            admin,
            token_id: String::new(),
            token,
            code_id: String::new(),
            grant_id: String::new(),
        };
        for (method, path, body) in [
            (Method::PUT, "/users/alice/servers/lab", json!({})),
            (Method::PUT, "/users/alice/servers/spare", json!({})),
            (Method::POST, "/groups/staff", json!({"users": ["alice"]})),
            (Method::POST, "/shares/alice/lab", json!({"user": "bob"})),
            (Method::POST, "/shares/alice/lab", json!({"group": "staff"})),
            (
                Method::POST,
                "/applications",
                json!({"image": "desk:1", "verify": false}),
            ),
        ] {
            let r = f.admin_call(method, path, Some(body)).await;
            assert!(r.status.is_success(), "fixture {path}: {}", r.body);
        }
        let r = f
            .admin_call(Method::POST, "/share-codes/alice/lab", None)
            .await;
        f.code_id = r.body["id"].as_str().expect("a code id").to_owned();
        let r = f
            .admin_call(
                Method::POST,
                "/grants",
                Some(json!({"image": "desk:1", "user": "alice"})),
            )
            .await;
        f.grant_id = r.body["mapping_id"].as_str().expect("a grant").to_owned();
        let r = f.admin_call(Method::GET, "/users/alice/tokens", None).await;
        f.token_id = r.body["api_tokens"][0]["id"]
            .as_str()
            .expect("a token id")
            .to_owned();
        f
    }

    async fn admin_call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.hub.call(method, path, &self.admin, body).await
    }

    /// A row's path with the fixture's token id, token and share code id filled in.
    fn fill(&self, path: &str) -> String {
        path.replace("{token_id}", &self.token_id)
            .replace("{token}", &self.token)
            .replace("{code_id}", &self.code_id)
            .replace("{grant_id}", &self.grant_id)
    }

    async fn send(&self, row: &Row, path: &str, token: Option<&str>, body: &str) -> Reply {
        let method = Method::from_bytes(row.method.as_bytes()).unwrap();
        self.hub
            .call_raw(method, &self.fill(path), token, body, None)
            .await
    }

    /// A request authenticated by the admin's login cookie alone, without the XSRF token a
    /// page of the hub would send along.
    async fn send_with_cookie(&self, method: &str, path: &str, body: &str) -> Reply {
        use axum::body::Body;
        use axum::http::Request;
        use tower::ServiceExt;

        // The hub's login cookie comes first; the proxy session cookie is not needed here.
        let set_cookie = ferrohub::auth::session::start(&self.hub.state, "admin")
            .await
            .unwrap()
            .remove(0);
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        let req = Request::builder()
            .method(method)
            .uri(format!("/hub/api{}", self.fill(path)))
            .header("Cookie", cookie)
            .body(Body::from(body.to_owned()))
            .unwrap();
        let resp = self.hub.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Everything a refused request could have touched, as the admin sees it.
    async fn snapshot(&self) -> Value {
        let mut out = serde_json::Map::new();
        for path in [
            "/users?include_stopped_servers=1",
            "/groups",
            "/users/alice/tokens",
            "/users/bob/tokens",
            "/shares/alice",
            "/share-codes/alice",
            "/users/bob/shared",
            "/groups/staff/shared",
            "/services",
        ] {
            let r = self.admin_call(Method::GET, path, None).await;
            assert_eq!(r.status, 200, "{path}: {}", r.body);
            out.insert(path.into(), r.body);
        }
        Value::Object(out)
    }
}

/// Every scope the table defines except those that grant any of `needed`: a caller that
/// lacks exactly what the endpoint asks for.
fn scopes_without(needed: &[&str]) -> Vec<String> {
    let owner = Owner::User("admin".into());
    SCOPE_TABLE
        .iter()
        .map(|(base, _)| *base)
        .filter(|base| !matches!(*base, "(no_scope)" | "self" | "inherit"))
        .filter(|base| {
            let expanded = ScopeSet::expand(&parse_all(&[*base]).unwrap(), &owner);
            !needed.iter().any(|n| expanded.has(n))
        })
        .map(str::to_owned)
        .collect()
}

fn label(row: &Row, case: &str, path: &str, body: &str) -> String {
    format!("{} {} [{case}] {path} {body}", row.method, row.route)
}

/// Whether `reply` is an error `status` in JupyterHub's form: `{"status": N, "message": "..."}`.
fn jupyterhub_error(reply: &Reply, status: u16) -> Result<(), String> {
    let message = reply.body["message"].as_str().unwrap_or("");
    if reply.status.as_u16() == status && reply.body["status"] == status && !message.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "wanted {status}, got {}: {}",
            reply.status, reply.body
        ))
    }
}

/// Walks the rows; each failure is collected, so one run lists every discrepancy.
struct Walk {
    failures: Vec<String>,
}

impl Walk {
    /// A refused request answers `status` in JupyterHub's form and leaves the state as it was.
    #[allow(clippy::too_many_arguments)]
    async fn refusal(
        &mut self,
        f: &Fixture,
        row: &Row,
        case: &str,
        path: &str,
        token: Option<&str>,
        body: &str,
        status: u16,
    ) {
        let before = f.snapshot().await;
        let r = f.send(row, path, token, body).await;
        let what = label(row, case, path, body);
        if let Err(e) = jupyterhub_error(&r, status) {
            self.failures.push(format!("{what}: {e}"));
        } else if f.snapshot().await != before {
            self.failures
                .push(format!("{what}: changed the hub's state"));
        }
    }

    async fn row(&mut self, row: &Row) {
        let f = Fixture::new().await;
        // Refusals first, on the fixture as built; successes last, as they change it.
        for case in row.cases {
            match *case {
                Case::Forbidden { path, body } => {
                    self.refusal(&f, row, "no credentials", path, None, body, 403)
                        .await;
                    let unknown = "x".repeat(64);
                    self.refusal(&f, row, "unknown token", path, Some(&unknown), body, 403)
                        .await;
                    if row.method != "GET" {
                        // A forged cross-site request carries the cookie but not the XSRF token.
                        let before = f.snapshot().await;
                        let r = f.send_with_cookie(row.method, path, body).await;
                        if let Err(e) = jupyterhub_error(&r, 403) {
                            let what = label(row, "cookie without XSRF token", path, body);
                            self.failures.push(format!("{what}: {e}"));
                        } else if f.snapshot().await != before {
                            let what = label(row, "cookie without XSRF token", path, body);
                            self.failures
                                .push(format!("{what}: changed the hub's state"));
                        }
                    }
                    if let Need::Scopes(needed) = row.need {
                        let scopes = scopes_without(needed);
                        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
                        let token = f.hub.token("admin", &scopes).await;
                        self.refusal(&f, row, "without the scope", path, Some(&token), body, 403)
                            .await;
                    }
                }
                Case::Unknown { path, body, status } => {
                    self.refusal(&f, row, "unknown", path, Some(&f.admin), body, status)
                        .await;
                }
                Case::Bad { path, body } => {
                    self.refusal(&f, row, "bad input", path, Some(&f.admin), body, 400)
                        .await;
                }
                Case::Conflict { path, body } => {
                    self.refusal(&f, row, "conflict", path, Some(&f.admin), body, 409)
                        .await;
                }
                Case::Ok { .. } | Case::Na { .. } | Case::Elsewhere { .. } => {}
            }
        }
        for case in row.cases {
            if let Case::Ok { path, body, status } = *case {
                let r = f.send(row, path, Some(&f.admin), body).await;
                if r.status.as_u16() != status {
                    let what = label(row, "success", path, body);
                    self.failures.push(format!(
                        "{what}: wanted {status}, got {}: {}",
                        r.status, r.body
                    ));
                }
            }
        }
    }
}

#[tokio::test]
async fn every_endpoint_answers_success_and_refusals_as_jupyterhub() {
    let mut walk = Walk {
        failures: Vec::new(),
    };
    for row in ROWS {
        walk.row(row).await;
    }
    assert!(
        walk.failures.is_empty(),
        "{} discrepancies:\n{}",
        walk.failures.len(),
        walk.failures.join("\n")
    );
}

/// The login cookie the XSRF cases use does authenticate: reads need nothing more.
#[tokio::test]
async fn a_login_cookie_alone_reads() {
    let f = Fixture::new().await;
    let r = f.send_with_cookie("GET", "/users/alice", "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = f.send_with_cookie("POST", "/users/carol", "").await;
    assert_error(&r, 403);
}

/// JupyterHub: a caller whose scope reaches only other objects learns nothing about this one;
/// it gets the same 404 as for an object that does not exist.
#[tokio::test]
async fn a_scope_for_other_objects_answers_404() {
    let f = Fixture::new().await;
    let cases: &[(Method, &str, &str)] = &[
        (Method::GET, "/users/alice", "read:users!user=bob"),
        (Method::PATCH, "/users/alice", "admin:users!user=bob"),
        (Method::DELETE, "/users/alice", "delete:users!user=bob"),
        (Method::GET, "/users/alice/tokens", "read:tokens!user=bob"),
        (
            Method::GET,
            "/users/alice/servers/lab",
            "read:servers!user=bob",
        ),
        (
            Method::DELETE,
            "/users/alice/servers/lab",
            "delete:servers!user=bob",
        ),
        (Method::GET, "/groups/staff", "read:groups!group=other"),
        (Method::DELETE, "/groups/staff", "delete:groups!group=other"),
        (Method::GET, "/shares/alice/lab", "read:shares!user=bob"),
        (Method::GET, "/services/svc", "read:services!service=other"),
    ];
    for (method, path, scope) in cases {
        let token = f.hub.token("admin", &[scope]).await;
        let before = f.snapshot().await;
        let body = if *method == Method::PATCH {
            "{\"admin\": true}"
        } else {
            ""
        };
        let r = f
            .hub
            .call_raw(method.clone(), path, Some(&token), body, None)
            .await;
        assert_error(&r, 404);
        assert_eq!(f.snapshot().await, before, "{method} {path}");
    }
}

/// Endpoints JupyterHub guards with several scopes let in a caller holding any one of them,
/// and show it the fields that scope reaches.
#[tokio::test]
async fn any_one_of_several_accepted_scopes_lets_in() {
    let f = Fixture::new().await;
    let cases: &[(&str, &str, &str)] = &[
        ("/users/alice", "read:users:groups", "groups"),
        ("/users/alice", "read:users:activity", "last_activity"),
        ("/users/alice", "read:roles:users", "roles"),
        ("/users/alice", "read:servers", "servers"),
        ("/groups/staff", "read:roles:groups", "roles"),
        ("/services/svc", "read:roles:services", "roles"),
    ];
    for (path, scope, field) in cases {
        let token = f.hub.token("admin", &[scope]).await;
        let r = f.hub.call(Method::GET, path, &token, None).await;
        assert_eq!(r.status, 200, "{path} with {scope}: {}", r.body);
        assert!(
            r.body.get(field).is_some(),
            "{path} with {scope}: {}",
            r.body
        );
    }
}

/// Token strings of any length or encoding, in the header, the query or the login cookie, are
/// refused with a 403 (or, as the subject of `/authorizations/token/`, a 404), never a 500.
#[tokio::test]
async fn odd_token_strings_are_refused_not_errors() {
    use axum::body::Body;
    use axum::http::{HeaderValue, Request};
    use tower::ServiceExt;

    let f = Fixture::new().await;
    let long = "a".repeat(1 << 20);
    let empty_query = f
        .hub
        .call_raw(Method::GET, "/users?token=", None, "", None)
        .await;
    assert_error(&empty_query, 403);
    let headers: Vec<HeaderValue> = vec![
        HeaderValue::from_static("token"),
        HeaderValue::from_static("token "),
        HeaderValue::from_static("Bearer"),
        HeaderValue::from_static("bearer   "),
        HeaderValue::from_static("token a b c"),
        HeaderValue::from_static("Basic YWRtaW46YWRtaW4="),
        HeaderValue::from_str(&format!("token {long}")).unwrap(),
        HeaderValue::from_bytes(b"token \xff\xfe\x80abc").unwrap(),
        HeaderValue::from_bytes("token caf\u{e9}".as_bytes()).unwrap(),
    ];
    for value in headers {
        let req = Request::get("/hub/api/users")
            .header("Authorization", value.clone())
            .body(Body::empty())
            .unwrap();
        let r = f.hub.app.clone().oneshot(req).await.unwrap();
        assert_eq!(r.status(), 403, "Authorization: {value:?}");
    }
    // The login cookie is read the same way: any value is no login, never an error.
    let cookies: Vec<HeaderValue> = vec![
        HeaderValue::from_static("jupyterhub-hub-login="),
        HeaderValue::from_static("jupyterhub-hub-login=%FF%00"),
        HeaderValue::from_static("jupyterhub-hub-login=a|b|c; other=1"),
        HeaderValue::from_str(&format!("jupyterhub-hub-login={long}")).unwrap(),
        HeaderValue::from_bytes(b"jupyterhub-hub-login=\xff\xfe").unwrap(),
        HeaderValue::from_static("=;;=; jupyterhub-hub-login"),
    ];
    for value in cookies {
        let req = Request::get("/hub/api/users")
            .header("Cookie", value.clone())
            .body(Body::empty())
            .unwrap();
        let r = f.hub.app.clone().oneshot(req).await.unwrap();
        assert_eq!(r.status(), 403, "Cookie: {value:?}");
    }
    // A URI has at most 64 KiB, so the longest token in one is a little under that.
    let queries = [
        String::new(),
        "%FF%FE%00".into(),
        "%".into(),
        "%zz".into(),
        "caf%C3%A9".into(),
        "a".repeat(60_000),
        format!("{}%FF", "b".repeat(5000)),
    ];
    for q in &queries {
        let r = f
            .hub
            .call_raw(Method::GET, &format!("/users?token={q}"), None, "", None)
            .await;
        let shown = &q[..q.len().min(40)];
        assert_error(&r, 403);
        assert!(r.body["message"].is_string(), "?token={shown}");
        let r = f
            .hub
            .call_raw(
                Method::GET,
                &format!("/authorizations/token/{q}"),
                Some(&f.admin),
                "",
                None,
            )
            .await;
        // As a path segment the token is percent-decoded: bytes that are not UTF-8 are a
        // 400 in JupyterHub (tornado's "Invalid unicode"), anything else an unknown token.
        assert_error(&r, if percent_decodes_to_utf8(q) { 404 } else { 400 });
    }
}

/// What axum's own extractors refuse (a body over the size limit, a path that is not UTF-8,
/// a repeated query parameter) is answered in JupyterHub's form too, not as plain text.
#[tokio::test]
async fn extractor_refusals_answer_in_jupyterhubs_form() {
    let f = Fixture::new().await;
    let huge = format!(r#"{{"admin": false, "pad": "{}"}}"#, "a".repeat(3 << 20));
    let r = f
        .hub
        .call_raw(Method::POST, "/users/carol", Some(&f.admin), &huge, None)
        .await;
    assert_error(&r, 413);
    assert!(f.hub.store().get_user("carol").await.unwrap().is_none());
    for path in [
        "/users/%FF",
        "/users/%C3%28/tokens",
        "/users?state=active&state=ready",
    ] {
        let r = f
            .hub
            .call_raw(Method::GET, path, Some(&f.admin), "", None)
            .await;
        assert_error(&r, 400);
    }
}

fn percent_decodes_to_utf8(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).is_ok()
}

/// Each row has, for every case, a request or a reason it does not apply.
#[test]
fn every_row_says_something_about_every_case() {
    for row in ROWS {
        for kind in ["2xx", "403", "404", "400", "409"] {
            let n = row.cases.iter().filter(|c| c.kind() == kind).count();
            assert!(
                n > 0 || kind == "409",
                "{} {}: nothing for {kind}",
                row.method,
                row.route
            );
        }
    }
}

fn doc_paths() -> BTreeSet<(String, String)> {
    // Extracted from the pinned JupyterHub release by scripts/python-env.sh.
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../.venv/share/jupyterhub-rest-api.yml");
    let text = std::fs::read_to_string(&spec).unwrap_or_else(|e| {
        panic!(
            "JupyterHub's OpenAPI document at {}: {e}; run `bash scripts/python-env.sh`",
            spec.display()
        )
    });
    rows::openapi_operations(&text)
}

fn table_paths(in_doc_only: bool) -> BTreeSet<(String, String)> {
    ROWS.iter()
        .filter(|r| !in_doc_only || r.in_doc)
        .map(|r| (r.method.to_owned(), rows::shape(r.route)))
        .collect()
}

#[test]
fn inventory_rows_cover_the_openapi_document_and_routes_rs() {
    let doc = doc_paths();
    assert!(doc.len() > 50, "parsed only {} operations", doc.len());
    let rows_in_doc = table_paths(true);
    assert_eq!(
        doc.difference(&rows_in_doc).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "in JupyterHub's document, without a row marked in_doc"
    );
    assert_eq!(
        rows_in_doc.difference(&doc).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "rows marked in_doc that the document does not have"
    );
    let routes = rows::routes_rs_operations(include_str!("../src/routes.rs"));
    assert!(routes.len() > 50, "parsed only {} routes", routes.len());
    let all = table_paths(false);
    assert_eq!(
        routes.difference(&all).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "served by routes.rs without a row"
    );
    assert_eq!(
        all.difference(&routes).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "rows for routes routes.rs does not serve"
    );
}

#[test]
fn the_inventory_below_matches_the_table() {
    let source = include_str!("api_coverage.rs");
    let start_mark = "//! <!-- inventory-start -->\n";
    let start = source.find(start_mark).unwrap() + start_mark.len();
    let end = source.find("//! <!-- inventory-end -->").unwrap();
    let written = &source[start..end];
    let mut expected = String::from(
        "//! | method | path | scope | 2xx | 403 | 404 | 400 | 409 |\n//! |---|---|---|---|---|---|---|---|\n",
    );
    for row in ROWS {
        expected.push_str(&format!("//! {}\n", row.markdown()));
    }
    assert!(
        written == expected,
        "the inventory in the doc comment is stale; it should read:\n{expected}"
    );
}

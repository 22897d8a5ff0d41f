//! `authenticator_class = "oauth"` against a real OAuth 2.0 provider ferrohub did not write:
//! JupyterHub 6.1.1 from the test venv, where ferrohub is an external service with an OAuth
//! client (`service-ferrohub`, its api_token as the client secret). A scripted browser signs
//! in at JupyterHub's own login form on the way and comes back logged in to ferrohub;
//! JupyterHub's `groups` claim decides who is an admin, who may log in, and ferrohub's groups.
//!
//! The browser reaches JupyterHub as `localhost` and ferrohub as `127.0.0.1`: both hubs name
//! their login cookie `jupyterhub-hub-login` under `/hub/`, and cookies ignore ports.
//!
//! A variant serves JupyterHub over https with a certificate from a CA made for the test
//! (through a TLS front, as ferrohub-proxy does not terminate TLS yet): ferrohub trusting that
//! CA (`tls_ca_file`) logs users in; one without it shows a page saying the provider's
//! certificate is not trusted.

use ferrohub_e2e::browser::{Browser, Page};
use ferrohub_e2e::jupyterhub::JupyterHub;
use ferrohub_e2e::tls::{TestCa, TlsFront};
use ferrohub_e2e::{free_port, ScratchDir, TestHub};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Instant;

const ADMIN_TOKEN: &str = "oauth-e2e-admin-token-5d7f9b1c3e";
const PROXY_TOKEN: &str = "oauth-e2e-proxy-token-2a4c6e8f0b";
const JH_PASSWORD: &str = "jh-password";

/// The client secret of JupyterHub's service `name`: JupyterHub's secret for a service's
/// OAuth client is its api_token.
fn client_secret(name: &str) -> String {
    format!("oauth-e2e-client-secret-9e8d7c6b5a4f3e2d-{name}")
}

/// Where JupyterHub, the provider, is reached.
struct Provider {
    /// By browsers (as `localhost`, see above).
    browser: String,
    /// By ferrohub.
    hub: String,
}

impl Provider {
    fn http(jh_public: u16) -> Provider {
        Provider {
            browser: format!("http://localhost:{jh_public}"),
            hub: format!("http://127.0.0.1:{jh_public}"),
        }
    }
}

/// ferrohub as JupyterHub's service `service`, trusting the CAs in `tls_ca_file` (`""`: the
/// public ones only).
fn ferrohub_config(service: &str, provider: &Provider, tls_ca_file: &str) -> String {
    let api = format!("{}/hub/api", provider.hub);
    let authorize = format!("{}/hub/api/oauth2/authorize", provider.browser);
    let secret = client_secret(service);
    format!(
        r#"
[JupyterHub]
authenticator_class = "oauth"
# bob starts in a group JupyterHub does not list for him: managed groups drop it.
load_groups = {{ legacy = ["bob"] }}

[[JupyterHub.services]]
name = "setup"
api_token = "{ADMIN_TOKEN}"
admin = true

[GenericOAuthenticator]
client_id = "service-{service}"
client_secret = "{secret}"
authorize_url = "{authorize}"
token_url = "{api}/oauth2/token"
userdata_url = "{api}/user"
username_claim = "name"
claim_groups_key = "groups"
allowed_groups = ["staff"]
admin_groups = ["ops"]
manage_groups = true
login_service = "JupyterHub"
tls_ca_file = "{tls_ca_file}"
"#
    )
}

/// JupyterHub as the provider: any user with the shared password, `ada` in `ops`, `bob` in
/// `staff`, `carol` in no group; one service per `(name, ferrohub's public port)` in
/// `clients`, which every user may use and whose OAuth client skips the consent page.
async fn start_provider(jh_public: u16, clients: &[(&str, u16)]) -> JupyterHub {
    let services: String = clients
        .iter()
        .map(|(name, ferrohub_public)| {
            format!(
                "{{'name': '{name}', 'oauth_client_id': 'service-{name}', \
                 'api_token': '{}', \
                 'oauth_redirect_uri': 'http://127.0.0.1:{ferrohub_public}/hub/oauth_callback', \
                 'oauth_no_confirm': True}},\n",
                client_secret(name)
            )
        })
        .collect();
    let access: String = clients
        .iter()
        .map(|(name, _)| format!(", 'access:services!service={name}'"))
        .collect();
    JupyterHub::start("oauth-provider", jh_public, PROXY_TOKEN, |_| {
        format!(
            "c.JupyterHub.authenticator_class = 'dummy'
c.DummyAuthenticator.password = '{JH_PASSWORD}'
c.JupyterHub.load_groups = {{'ops': {{'users': ['ada']}}, 'staff': {{'users': ['bob']}}}}
c.Authenticator.allowed_users = {{'ada', 'bob', 'carol'}}
c.JupyterHub.load_roles = [{{'name': 'user', 'scopes': ['self'{access}]}}]
c.JupyterHub.services = [{services}]
"
        )
    })
    .await
}

/// From ferrohub's login page, through its "Sign in with JupyterHub" button, to JupyterHub's
/// login form, signing in there as `name`; returns where the browser ends up.
async fn sign_in(hub: &TestHub, provider: &Provider, browser: &Browser, name: &str) -> Page {
    let public = hub.public_url();
    let login = browser
        .get(&format!("{public}/hub/login?next=/hub/token"))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert!(
        login.body.contains("Sign in with JupyterHub"),
        "{}",
        login.body
    );
    assert!(
        !login.body.contains("password_input"),
        "no password form with OAuth"
    );
    // (minijinja escapes the slashes of attribute values.)
    let button = "oauth_login?next=%2Fhub%2Ftoken\">Sign in with JupyterHub</a>";
    assert!(login.body.contains(button), "{}", login.body);

    let form = browser
        .get(&format!("{public}/hub/oauth_login?next=%2Fhub%2Ftoken"))
        .await;
    let jh_login = format!("{}/hub/login?next=", provider.browser);
    assert!(form.url.starts_with(&jh_login), "{:?}", form.hops);
    assert!(
        form.hops[1].contains("/hub/api/oauth2/authorize?response_type=code"),
        "{:?}",
        form.hops
    );
    assert!(form.hops[1].contains("code_challenge_method=S256"));
    let xsrf = form.field("_xsrf").expect("JupyterHub's form has _xsrf");
    // The form posts back to the same URL, `next` (the authorize request) included.
    browser
        .post_form(
            &form.url,
            &[
                ("username", name),
                ("password", JH_PASSWORD),
                ("_xsrf", &xsrf),
            ],
        )
        .await
}

async fn user(hub: &TestHub, name: &str) -> Value {
    let (status, body) = hub
        .api(Method::GET, &format!("/users/{name}"), ADMIN_TOKEN, None)
        .await;
    assert_eq!(status, 200, "GET /users/{name}: {body}");
    body
}

#[tokio::test]
async fn users_log_in_through_jupyterhub_as_an_oauth_provider() {
    let started = Instant::now();
    let jh_public = free_port();
    let provider = Provider::http(jh_public);
    // With auth_state on, the provider's tokens and claims are kept for each user.
    let config = ferrohub_config("ferrohub", &provider, "")
        + "\n[Authenticator]\nenable_auth_state = true\n";
    let key = [(
        "JUPYTERHUB_CRYPT_KEY",
        "9c7e5a3b1d2f4e6a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a",
    )];
    let hub = TestHub::start_with_env("oauth-login", &config, "/", &key).await;
    let _jh = start_provider(jh_public, &[("ferrohub", hub.public)]).await;
    let public = hub.public_url();
    let callback = format!("{public}/hub/oauth_callback?code=");

    // ada is in `ops`: she lands where she was going, logged in, and an admin.
    let ada = Browser::new();
    let landed = sign_in(&hub, &provider, &ada, "ada").await;
    assert_eq!(landed.status, 200, "{:?}\n{}", landed.hops, landed.body);
    assert_eq!(
        landed.url,
        format!("{public}/hub/token"),
        "{:?}",
        landed.hops
    );
    assert!(
        landed.hops.iter().any(|h| h.starts_with(&callback)),
        "{:?}",
        landed.hops
    );
    let home = ada.get(&format!("{public}/hub/home")).await;
    assert_eq!(home.url, format!("{public}/hub/home"), "{:?}", home.hops);
    assert!(home.body.contains("ada"), "{}", home.body);
    let model = user(&hub, "ada").await;
    assert_eq!(model["admin"], true, "{model}");
    assert_eq!(model["groups"], json!(["ops"]), "{model}");
    // auth_state in OAuthenticator's shape; its access token is a real one at the provider.
    let auth_state = &model["auth_state"];
    assert_eq!(auth_state["oauth_user"]["name"], "ada", "{model}");
    assert!(
        auth_state["token_response"]["token_type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer")),
        "{model}"
    );
    let access_token = auth_state["access_token"].as_str().expect("a token");
    let whoami: Value = reqwest::Client::new()
        .get(format!("{}/hub/api/user", provider.hub))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(whoami["name"], "ada", "{whoami}");

    // Signed in at JupyterHub already: the next login goes straight through.
    let again = ada.get(&format!("{public}/hub/oauth_login")).await;
    assert_eq!(again.url, format!("{public}/hub/home"), "{:?}", again.hops);

    // bob is in `staff`: allowed. An admin flag given in ferrohub is revoked (not in `ops`),
    // and his groups become JupyterHub's.
    let body = json!({"admin": true});
    let (status, body) = hub
        .api(Method::PATCH, "/users/bob", ADMIN_TOKEN, Some(body))
        .await;
    assert_eq!(status, 200, "{body}");
    let bob = Browser::new();
    let landed = sign_in(&hub, &provider, &bob, "bob").await;
    assert_eq!(
        landed.url,
        format!("{public}/hub/token"),
        "{:?}",
        landed.hops
    );
    let model = user(&hub, "bob").await;
    assert_eq!(model["admin"], false, "{model}");
    assert_eq!(model["groups"], json!(["staff"]), "{model}");

    // carol is in no allowed group: a readable refusal, no session, no user.
    let carol = Browser::new();
    let refused = sign_in(&hub, &provider, &carol, "carol").await;
    assert_eq!(refused.status, 403, "{:?}\n{}", refused.hops, refused.body);
    assert!(refused.url.starts_with(&callback), "{:?}", refused.hops);
    assert!(
        refused
            .body
            .contains("carol is not allowed to use this hub"),
        "{}",
        refused.body
    );
    let home = carol.get(&format!("{public}/hub/home")).await;
    assert!(home.url.contains("/hub/login?next="), "{:?}", home.hops);
    let (status, _) = hub
        .api(Method::GET, "/users/carol", ADMIN_TOKEN, None)
        .await;
    assert_eq!(status, 404, "a refused user is not created");

    // A callback whose state is not the one this browser's login started with is refused,
    // before any code is exchanged.
    let eve = Browser::new();
    let at_provider = eve.get(&format!("{public}/hub/oauth_login")).await;
    assert!(
        at_provider.url.contains("/hub/login?next="),
        "{:?}",
        at_provider.hops
    );
    // With the right state but a code JupyterHub never issued, the token exchange fails:
    // JupyterHub's OAuth error is shown, not a 500.
    let authorize = url::Url::parse(&at_provider.hops[1]).unwrap();
    let (_, state) = authorize.query_pairs().find(|(k, _)| k == "state").unwrap();
    let bad_code = eve
        .get(&format!(
            "{public}/hub/oauth_callback?code=made-up&state={state}"
        ))
        .await;
    assert_eq!(bad_code.status, 403, "{}", bad_code.body);
    assert!(
        bad_code
            .body
            .contains("JupyterHub did not accept the login (invalid_grant"),
        "{}",
        bad_code.body
    );
    // The state cookie is spent; a new login gets a new one.
    let at_provider = eve.get(&format!("{public}/hub/oauth_login")).await;
    assert!(
        at_provider.url.contains("/hub/login?next="),
        "{:?}",
        at_provider.hops
    );
    let forged = eve
        .get(&format!(
            "{public}/hub/oauth_callback?code=stolen&state=forged"
        ))
        .await;
    assert_eq!(forged.status, 400, "{}", forged.body);
    assert!(
        forged.body.contains("state check failed"),
        "{}",
        forged.body
    );
    // ... and so is one from a browser that started no login at all.
    let stranger = Browser::new();
    let forged = stranger
        .get(&format!(
            "{public}/hub/oauth_callback?code=stolen&state=forged"
        ))
        .await;
    assert_eq!(forged.status, 400, "{}", forged.body);

    // A user who declines at the provider gets a page saying so, not a 500.
    let denied = stranger
        .get(&format!(
            "{public}/hub/oauth_callback?error=access_denied&state=x"
        ))
        .await;
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert!(
        denied.body.contains("You did not allow JupyterHub"),
        "{}",
        denied.body
    );

    // Passwords are not taken.
    let posted = stranger
        .post_form(
            &format!("{public}/hub/login"),
            &[("username", "ada"), ("password", JH_PASSWORD)],
        )
        .await;
    assert_eq!(posted.status, 400, "{}", posted.body);
    assert!(posted.body.contains("Sign in with JupyterHub"));

    let output = hub.process.output();
    assert!(
        output.contains("user logged in with JupyterHub"),
        "{output}"
    );
    eprintln!("OAuth login e2e took {:?}", started.elapsed());
}

#[tokio::test]
async fn an_https_provider_is_trusted_through_tls_ca_file_only() {
    let dir = ScratchDir::new("oauth-https-ca");
    let ca = TestCa::new(dir.path());
    let jh_public = free_port();
    let front = TlsFront::start(&ca, jh_public, dir.path()).await;
    let provider = Provider {
        browser: format!("https://localhost:{}", front.port),
        hub: format!("https://127.0.0.1:{}", front.port),
    };
    let ca_file = ca.ca_cert.display().to_string();
    let trusting = ferrohub_config("ferrohub", &provider, &ca_file);
    let hub = TestHub::start("oauth-https", &trusting).await;
    let untrusting = ferrohub_config("untrusting", &provider, "");
    let other = TestHub::start("oauth-https-untrusted", &untrusting).await;
    let clients = [("ferrohub", hub.public), ("untrusting", other.public)];
    let _jh = start_provider(jh_public, &clients).await;

    // With the CA: the code is exchanged and the claims read over https.
    let ada = Browser::trusting(&ca.ca_pem());
    let landed = sign_in(&hub, &provider, &ada, "ada").await;
    assert_eq!(landed.status, 200, "{:?}\n{}", landed.hops, landed.body);
    let public = hub.public_url();
    assert_eq!(
        landed.url,
        format!("{public}/hub/token"),
        "{:?}",
        landed.hops
    );
    let model = user(&hub, "ada").await;
    assert_eq!(model["admin"], true, "{model}");
    assert_eq!(model["groups"], json!(["ops"]), "{model}");

    // Without it (the browser trusts the CA, the hub does not): a page that says why.
    let bob = Browser::trusting(&ca.ca_pem());
    let refused = sign_in(&other, &provider, &bob, "bob").await;
    let callback = format!("{}/hub/oauth_callback?code=", other.public_url());
    assert!(refused.url.starts_with(&callback), "{:?}", refused.hops);
    assert_eq!(refused.status, 502, "{}", refused.body);
    for says in [
        "certificate is not trusted",
        "GenericOAuthenticator.tls_ca_file",
    ] {
        assert!(refused.body.contains(says), "{says}: {}", refused.body);
    }
    let home = bob.get(&format!("{}/hub/home", other.public_url())).await;
    assert!(
        home.url.contains("/hub/login?next="),
        "no session: {:?}",
        home.hops
    );
    let output = other.process.output();
    assert!(output.contains("invalid peer certificate"), "{output}");
    drop(front);
}

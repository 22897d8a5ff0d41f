//! `authenticator_class = "oauth"`: log in at an OAuth 2.0 / OpenID Connect provider with the
//! authorization code grant (and PKCE), as oauthenticator's `GenericOAuthenticator` does.
//!
//! The flow, driven by the pages in `pages::login`:
//! 1. `/hub/oauth_login` sends the browser to `authorize_url` with a random `state` that a
//!    signed cookie ([`super::oauth_state`]) binds to this browser, with `next` and the PKCE
//!    verifier.
//! 2. The provider sends it back to `/hub/oauth_callback?code&state`; after the state check,
//!    [`GenericOAuthenticator::complete`] exchanges the code at `token_url`, reads the claims
//!    at `userdata_url` with the access token, and turns them into an [`Authenticated`]
//!    (name, admin from `admin_groups`, allowed from `allowed_groups`, groups to sync), which
//!    [`super::authenticator::admit`] then judges like any other login.

use super::authenticator::{AuthError, Authenticated, Authenticator};
use super::http_client;
use crate::config::{GenericOAuthenticatorConfig, HubConfig};
use crate::store::Store;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, ExtraTokenFields, HttpClientError, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse,
    TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::Duration;

/// How long the hub waits for the provider's token and userdata endpoints.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(15);

/// What an OpenID Connect provider adds to the token response, kept for `auth_state`.
#[derive(Debug, Clone, Deserialize, Serialize)]
struct OidcFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}
impl ExtraTokenFields for OidcFields {}

type Tokens = StandardTokenResponse<OidcFields, BasicTokenType>;

type Client = oauth2::Client<
    BasicErrorResponse,
    Tokens,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The OAuth client of the hub, built once from `[GenericOAuthenticator]`.
pub struct GenericOAuthenticator {
    config: GenericOAuthenticatorConfig,
    client: Client,
    /// Follows no redirects ([`http_client::build`]): a token or userdata endpoint that
    /// redirects is an error, never a way to make the hub send the code or token elsewhere.
    http: reqwest::Client,
    callback_url: String,
}

/// Why an OAuth login failed after the provider sent the browser back. Every variant is the
/// provider's or the user's doing (or the configuration's), never the hub's: each is shown
/// as a readable page, with details in the log.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The provider refused the authorization code (e.g. used twice, expired, wrong client).
    #[error("{service} did not accept the login ({error}{description}). Start again from the login page.")]
    Rejected {
        service: String,
        error: String,
        description: String,
    },
    /// The provider could not be reached or answered something that is not OAuth.
    #[error("{service} could not be reached or gave an unexpected answer. Try again later; the hub's log has the details.")]
    Provider { service: String, detail: String },
    /// The provider's TLS certificate is not signed by a CA the hub trusts (or is expired,
    /// or names another host): a configuration matter, not a passing failure.
    #[error("{service}'s certificate is not trusted by this hub, so the login cannot be completed. An administrator must give the provider's CA in GenericOAuthenticator.tls_ca_file; the hub's log has the details.")]
    Untrusted { service: String, detail: String },
    /// The userdata lacks the claim that names the user.
    #[error("{service} did not send the `{claim}` claim that names the user here. An administrator must check GenericOAuthenticator.username_claim.")]
    MissingClaim { service: String, claim: String },
}

impl GenericOAuthenticator {
    /// The client for a validated configuration.
    pub fn new(config: &HubConfig) -> GenericOAuthenticator {
        let oauth = config.generic_oauthenticator.clone();
        let callback_url = if oauth.oauth_callback_url.is_empty() {
            let public = config.public_url();
            format!(
                "{}{}hub/oauth_callback",
                public.as_str().trim_end_matches('/'),
                config.hub.base_url
            )
        } else {
            oauth.oauth_callback_url.clone()
        };
        let url = |u: &str| u.to_owned();
        let mut client: Client = oauth2::Client::new(ClientId::new(oauth.client_id.clone()))
            .set_auth_uri(AuthUrl::new(url(&oauth.authorize_url)).expect("validated at load"))
            .set_token_uri(TokenUrl::new(url(&oauth.token_url)).expect("validated at load"))
            .set_redirect_uri(RedirectUrl::new(callback_url.clone()).expect("validated at load"))
            .set_auth_type(if oauth.basic_auth {
                AuthType::BasicAuth
            } else {
                AuthType::RequestBody
            });
        if !oauth.client_secret.is_empty() {
            let secret = ClientSecret::new(oauth.client_secret.expose().to_owned());
            client = client.set_client_secret(secret);
        }
        let http = http_client::build(&oauth.tls_ca_file, PROVIDER_TIMEOUT);
        GenericOAuthenticator {
            config: oauth,
            client,
            http,
            callback_url,
        }
    }

    /// The provider's name for the login button.
    pub fn login_service(&self) -> &str {
        &self.config.login_service
    }

    /// The redirect URI sent to the provider.
    pub fn callback_url(&self) -> &str {
        &self.callback_url
    }

    /// A fresh PKCE verifier when PKCE is on (to keep in the state cookie).
    pub fn new_pkce_verifier(&self) -> Option<String> {
        self.config.enable_pkce.then(|| {
            let (_, verifier) = PkceCodeChallenge::new_random_sha256();
            verifier.secret().clone()
        })
    }

    /// The provider URL a browser is sent to, carrying `state` and the challenge for
    /// `pkce_verifier`.
    pub fn authorize_url(&self, state: &str, pkce_verifier: Option<&str>) -> String {
        let state = state.to_owned();
        let mut request = self
            .client
            .authorize_url(move || CsrfToken::new(state))
            .add_scopes(self.config.scope.iter().cloned().map(Scope::new));
        if let Some(verifier) = pkce_verifier {
            let verifier = PkceCodeVerifier::new(verifier.to_owned());
            request =
                request.set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(&verifier));
        }
        request.url().0.into()
    }

    /// Exchange `code` for an access token, read the user's claims with it, and say who they
    /// are.
    pub async fn complete(
        &self,
        code: &str,
        pkce_verifier: Option<&str>,
    ) -> Result<Authenticated, OAuthError> {
        let mut exchange = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()));
        if let Some(verifier) = pkce_verifier {
            exchange = exchange.set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()));
        }
        let token = exchange
            .request_async(&self.http)
            .await
            .map_err(|e| self.token_error(e))?;
        let claims = self.userdata(token.access_token().secret()).await?;
        let mut who = authenticated_from_claims(&self.config, &claims)?;
        who.auth_state = Some(auth_state(&token, claims));
        Ok(who)
    }

    /// The error for a request to the provider that got no answer: its certificate is not
    /// trusted, or it could not be reached.
    fn unreachable(&self, request: &str, err: &(dyn std::error::Error + 'static)) -> OAuthError {
        let service = self.config.login_service.clone();
        let detail = format!("{request}: {}", http_client::describe(err));
        if http_client::is_untrusted_certificate(err) {
            OAuthError::Untrusted { service, detail }
        } else {
            OAuthError::Provider { service, detail }
        }
    }

    /// The claims at `userdata_url`, read with the access token as Bearer.
    async fn userdata(&self, access_token: &str) -> Result<Value, OAuthError> {
        let provider = |detail: String| OAuthError::Provider {
            service: self.config.login_service.clone(),
            detail,
        };
        let url = &self.config.userdata_url;
        let request = format!("GET {url}");
        let response = self
            .http
            .get(url)
            .bearer_auth(access_token)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| self.unreachable(&request, &e))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| self.unreachable(&format!("{request}: reading the body"), &e))?;
        if !status.is_success() {
            return Err(provider(format!(
                "GET {url} answered {status}: {body:.200}"
            )));
        }
        match serde_json::from_str::<Value>(&body) {
            Ok(claims) if claims.is_object() => Ok(claims),
            _ => Err(provider(format!(
                "GET {url} did not answer a JSON object: {body:.200}"
            ))),
        }
    }

    fn token_error(
        &self,
        err: RequestTokenError<HttpClientError<reqwest::Error>, BasicErrorResponse>,
    ) -> OAuthError {
        let service = self.config.login_service.clone();
        let url = &self.config.token_url;
        match err {
            RequestTokenError::ServerResponse(response) => OAuthError::Rejected {
                service,
                error: response.error().to_string(),
                description: response
                    .error_description()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default(),
            },
            RequestTokenError::Request(e) => self.unreachable(&format!("POST {url}"), &e),
            RequestTokenError::Parse(e, body) => OAuthError::Provider {
                service,
                detail: format!(
                    "POST {url}: not a token response ({e}): {:.200}",
                    String::from_utf8_lossy(&body)
                ),
            },
            RequestTokenError::Other(e) => OAuthError::Provider {
                service,
                detail: format!("POST {url}: {e}"),
            },
        }
    }
}

#[async_trait::async_trait]
impl Authenticator for GenericOAuthenticator {
    /// Passwords are never accepted: users log in at the provider.
    async fn authenticate(
        &self,
        _store: &dyn Store,
        _username: &str,
        _password: &str,
    ) -> Result<Option<Authenticated>, AuthError> {
        Ok(None)
    }

    fn creates_users(&self) -> bool {
        true
    }

    fn oauth(&self) -> Option<&GenericOAuthenticator> {
        Some(self)
    }
}

/// The claim `key` in `claims`: a top-level claim of that exact name, else a dotted path
/// into nested objects (`realm_access.roles`).
fn claim<'a>(claims: &'a Value, key: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(key) {
        return Some(value);
    }
    key.split('.')
        .try_fold(claims, |value, part| value.get(part))
}

/// The `auth_state` of an OAuth login, in the shape JupyterHub's OAuthenticator gives it, so
/// hooks and services written for it find the same keys: the tokens, the granted scopes, the
/// whole token response, and the user's claims under `oauth_user`.
fn auth_state(token: &Tokens, claims: Value) -> Value {
    let scope: Vec<&str> = token
        .scopes()
        .map(|s| s.iter().map(|s| s.as_str()).collect())
        .unwrap_or_default();
    json!({
        "access_token": token.access_token().secret(),
        "refresh_token": token.refresh_token().map(|t| t.secret()),
        "id_token": token.extra_fields().id_token,
        "scope": scope,
        "token_response": serde_json::to_value(token).unwrap_or(Value::Null),
        "oauth_user": claims,
    })
}

/// Who the claims say the user is, under the configuration's rules.
pub fn authenticated_from_claims(
    config: &GenericOAuthenticatorConfig,
    claims: &Value,
) -> Result<Authenticated, OAuthError> {
    let name = match claim(claims, &config.username_claim) {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        // Some providers name users by number (GitHub's `id`).
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(OAuthError::MissingClaim {
                service: config.login_service.clone(),
                claim: config.username_claim.clone(),
            })
        }
    };
    let groups: Vec<String> = match claim(claims, &config.claim_groups_key) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|g| g.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
    let member_of_any = |list: &[String]| groups.iter().any(|g| list.contains(g));
    Ok(Authenticated {
        name,
        admin: (!config.admin_groups.is_empty()).then(|| member_of_any(&config.admin_groups)),
        allowed: member_of_any(&config.allowed_groups),
        groups: config.manage_groups.then_some(groups.clone()),
        auth_state: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> GenericOAuthenticatorConfig {
        GenericOAuthenticatorConfig {
            username_claim: "name".into(),
            login_service: "Example".into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_username_claim_names_the_user() {
        let who = authenticated_from_claims(&config(), &json!({"name": "Ada", "groups": []}));
        assert_eq!(who.unwrap(), Authenticated::name("Ada"));
        let numeric = GenericOAuthenticatorConfig {
            username_claim: "id".into(),
            ..config()
        };
        let who = authenticated_from_claims(&numeric, &json!({"id": 1234})).unwrap();
        assert_eq!(who.name, "1234");
        let nested = GenericOAuthenticatorConfig {
            username_claim: "profile.login".into(),
            ..config()
        };
        let who = authenticated_from_claims(&nested, &json!({"profile": {"login": "bo"}}));
        assert_eq!(who.unwrap().name, "bo");
        // A claim literally named with a dot wins over the path.
        let claims = json!({"profile.login": "literal", "profile": {"login": "path"}});
        let who = authenticated_from_claims(&nested, &claims).unwrap();
        assert_eq!(who.name, "literal");
    }

    #[test]
    fn a_missing_or_empty_username_claim_is_named_in_the_error() {
        for claims in [
            json!({"preferred_username": "ada"}),
            json!({"name": ""}),
            json!({"name": null}),
            json!({"name": ["ada"]}),
        ] {
            let err = authenticated_from_claims(&config(), &claims).unwrap_err();
            assert!(matches!(err, OAuthError::MissingClaim { .. }), "{claims}");
            let text = err.to_string();
            assert!(
                text.contains("Example") && text.contains("`name`"),
                "{text}"
            );
        }
    }

    #[test]
    fn groups_decide_admin_allowed_and_membership() {
        let config = GenericOAuthenticatorConfig {
            claim_groups_key: "groups".into(),
            allowed_groups: vec!["staff".into(), "students".into()],
            admin_groups: vec!["ops".into()],
            manage_groups: true,
            ..config()
        };
        let who = |claims| authenticated_from_claims(&config, &claims).unwrap();

        let admin = who(json!({"name": "a", "groups": ["ops", "x", 7]}));
        assert_eq!(admin.admin, Some(true));
        assert!(
            !admin.allowed,
            "admins are let in by admit, not allowed_groups"
        );
        assert_eq!(admin.groups, Some(vec!["ops".to_owned(), "x".to_owned()]));

        let student = who(json!({"name": "s", "groups": ["students"]}));
        assert_eq!(student.admin, Some(false), "admin_groups also revoke");
        assert!(student.allowed);

        let outsider = who(json!({"name": "o"}));
        assert_eq!(outsider.admin, Some(false));
        assert!(!outsider.allowed);
        assert_eq!(outsider.groups, Some(vec![]), "no claim means no groups");

        let single = who(json!({"name": "s", "groups": "staff"}));
        assert!(single.allowed, "a single group as a string counts");
    }

    #[test]
    fn without_group_rules_groups_change_nothing() {
        let who = authenticated_from_claims(&config(), &json!({"name": "a", "groups": ["ops"]}));
        let who = who.unwrap();
        assert_eq!((who.admin, who.allowed, who.groups), (None, false, None));
    }

    fn hub_config(extra: &str) -> HubConfig {
        HubConfig::from_toml_str(&format!(
            "[JupyterHub]\nauthenticator_class = \"oauth\"\nbind_url = \"http://127.0.0.1:9000\"\n\
             base_url = \"/jh/\"\n[GenericOAuthenticator]\nclient_id = \"service-hub\"\n\
             client_secret = \"s3cret\"\nauthorize_url = \"https://idp.example/authorize\"\n\
             token_url = \"http://idp/token\"\nuserdata_url = \"http://idp/user\"\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn authorize_url_carries_client_state_scopes_and_pkce() {
        let oauth = GenericOAuthenticator::new(&hub_config("scope = [\"openid\", \"profile\"]"));
        assert_eq!(
            oauth.callback_url(),
            "http://127.0.0.1:9000/jh/hub/oauth_callback"
        );
        let verifier = oauth.new_pkce_verifier().expect("PKCE is on by default");
        let url = url::Url::parse(&oauth.authorize_url("st4te", Some(&verifier))).unwrap();
        assert_eq!(url.host_str(), Some("idp.example"));
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "service-hub");
        assert_eq!(q["state"], "st4te");
        assert_eq!(q["scope"], "openid profile");
        assert_eq!(
            q["redirect_uri"],
            "http://127.0.0.1:9000/jh/hub/oauth_callback"
        );
        assert_eq!(q["code_challenge_method"], "S256");
        let challenge =
            PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier));
        assert_eq!(&q["code_challenge"], challenge.as_str());
        assert!(
            !url.as_str().contains("s3cret"),
            "the secret never goes to browsers"
        );

        let plain = GenericOAuthenticator::new(&hub_config(
            "enable_pkce = false\noauth_callback_url = \"http://hub.example/cb\"",
        ));
        assert_eq!(plain.new_pkce_verifier(), None);
        let url = plain.authorize_url("s", None);
        assert!(
            !url.contains("code_challenge") && !url.contains("scope="),
            "{url}"
        );
        assert!(
            url.contains("redirect_uri=http%3A%2F%2Fhub.example%2Fcb"),
            "{url}"
        );
    }
}

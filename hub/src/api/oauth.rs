//! The OAuth2 provider single-user servers and services log users in with, as JupyterHub
//! implements it: `/hub/api/oauth2/authorize` (a logged-in browser, the client's redirect
//! URI checked exactly, access scopes required, a confirmation page unless it is the user's
//! own server, PKCE) and `/hub/api/oauth2/token` (a one-time, short-lived code for a token).

use crate::auth::roles;
use crate::auth::session::{self, LoggedIn};
use crate::auth::tokens::{self, TokenRequest};
use crate::error::PageError;
use crate::pages::{check_xsrf, login_redirect, parse_form, user_context};
use crate::store::{OAuthClient, OAuthCode, TokenOwner};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use base64::Engine;
use chrono::{Duration, Utc};
use ferrohub_shared::scopes::{Filter, Scope};
use ferrohub_shared::secret::{random_hex, sha256_hex};
use minijinja::context;
use serde::Deserialize;
use serde_json::json;
use sha2::Digest;

/// How long a code may wait before it is exchanged.
const CODE_LIFETIME_SECS: i64 = 300;

#[derive(Deserialize, Default)]
pub struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

fn bad(message: impl Into<String>) -> PageError {
    PageError::new(StatusCode::BAD_REQUEST, message)
}

/// Whether `me` holds every scope the client requires (e.g. `access:servers!server=a/`).
async fn may_access(
    state: &AppState,
    me: &LoggedIn,
    client: &OAuthClient,
) -> Result<bool, PageError> {
    let held = roles::user_scopes(state.store.as_ref(), &me.user.name, me.user.admin).await?;
    for raw in &client.access_scopes {
        let Ok(scope) = Scope::parse(raw) else {
            return Ok(false);
        };
        let owner_groups: Vec<String> = match &scope.filter {
            Some(Filter::Server(user, _)) | Some(Filter::User(user)) => state
                .store
                .get_user(user)
                .await?
                .map(|u| u.groups)
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let allowed = held.holds(&scope, &owner_groups);
        if !allowed {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Check the request against the client; the checked client and redirect URI.
async fn validate(
    state: &AppState,
    q: &AuthorizeQuery,
) -> Result<(OAuthClient, String), PageError> {
    let client_id = q
        .client_id
        .as_deref()
        .ok_or_else(|| bad("Missing client_id."))?;
    let client = state
        .store
        .get_oauth_client(client_id)
        .await?
        .ok_or_else(|| {
            bad(format!(
                "Unknown OAuth client {client_id:?}. Is its server still running?"
            ))
        })?;
    // The redirect URI must be exactly the registered one: anything else could hand the code
    // to another site. It is never redirected to before this check.
    let redirect_uri = q
        .redirect_uri
        .clone()
        .unwrap_or_else(|| client.redirect_uri.clone());
    if redirect_uri != client.redirect_uri {
        return Err(bad(format!(
            "The redirect_uri {redirect_uri:?} is not registered for {client_id}."
        )));
    }
    if q.response_type.as_deref() != Some("code") {
        return Err(bad("Only response_type=code is supported."));
    }
    match (
        q.code_challenge.as_deref(),
        q.code_challenge_method.as_deref(),
    ) {
        (None, _) | (Some(_), None | Some("S256") | Some("plain")) => {}
        (Some(_), Some(m)) => {
            return Err(bad(format!(
                "Unsupported code_challenge_method {m:?}; use S256."
            )))
        }
    }
    Ok((client, redirect_uri))
}

/// Store a code and send the browser back to the client with it.
async fn grant(
    state: &AppState,
    me: &LoggedIn,
    client: &OAuthClient,
    redirect_uri: &str,
    q: &AuthorizeQuery,
) -> Result<Response, PageError> {
    let code = random_hex(32);
    let mut scopes = vec![
        format!("read:users:name!user={}", me.user.name),
        format!("read:users:groups!user={}", me.user.name),
    ];
    scopes.extend(client.access_scopes.iter().cloned());
    state
        .store
        .create_oauth_code(&OAuthCode {
            hashed: sha256_hex(code.as_bytes()),
            client_id: client.identifier.clone(),
            user: me.user.name.clone(),
            session_id: Some(me.session.id.to_string()),
            redirect_uri: redirect_uri.to_owned(),
            scopes,
            code_challenge: q.code_challenge.clone(),
            code_challenge_method: q.code_challenge.as_ref().map(|_| {
                q.code_challenge_method
                    .clone()
                    .unwrap_or_else(|| "plain".into())
            }),
            expires_at: Utc::now() + Duration::seconds(CODE_LIFETIME_SECS),
        })
        .await?;
    let mut to = redirect_uri.to_owned();
    to.push(if to.contains('?') { '&' } else { '?' });
    to.push_str(&format!("code={code}"));
    if let Some(s) = &q.state {
        let s: String = url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
        to.push_str(&format!("&state={s}"));
    }
    tracing::info!(user = %me.user.name, client = %client.identifier, "OAuth code issued");
    Ok(Redirect::to(&to).into_response())
}

/// `GET /hub/api/oauth2/authorize`
pub async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<AuthorizeQuery>,
) -> Result<Response, PageError> {
    let Some(me) = session::current(&state, &headers).await? else {
        return Ok(login_redirect(
            &state,
            uri.path_and_query().map_or("", |p| p.as_str()),
        ));
    };
    let (client, redirect_uri) = validate(&state, &q).await?;
    if !may_access(&state, &me, &client).await? {
        tracing::warn!(user = %me.user.name, client = %client.identifier, "OAuth access refused");
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            format!(
                "You do not have permission to access {}.",
                client.description
            ),
        ));
    }
    if client.owner.as_deref() == Some(me.user.name.as_str()) {
        return grant(&state, &me, &client, &redirect_uri, &q).await;
    }
    // Someone else's server: ask first, as JupyterHub does.
    let page = state.templates.render(
        "oauth_consent.html",
        context! {
            user => user_context(&me),
            xsrf => me.xsrf,
            client => client.description,
            action => uri.to_string(),
        },
    )?;
    Ok(page.into_response())
}

/// `POST /hub/api/oauth2/authorize`: the confirmation page's answer.
pub async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuthorizeQuery>,
    body: Bytes,
) -> Result<Response, PageError> {
    let Some(me) = session::current(&state, &headers).await? else {
        return Err(PageError::new(StatusCode::FORBIDDEN, "Not logged in."));
    };
    check_xsrf(&me, &parse_form(&body))?;
    let (client, redirect_uri) = validate(&state, &q).await?;
    if !may_access(&state, &me, &client).await? {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            format!(
                "You do not have permission to access {}.",
                client.description
            ),
        ));
    }
    grant(&state, &me, &client, &redirect_uri, &q).await
}

/// An OAuth error response (RFC 6749 section 5.2), with JupyterHub's fields as well.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({
        "error": error,
        "error_description": description,
        "status": status.as_u16(),
        "message": description,
    });
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// Client credentials from the form or from HTTP Basic authentication.
fn client_credentials(
    headers: &HeaderMap,
    form: &std::collections::HashMap<String, String>,
) -> Option<(String, String)> {
    if let (Some(id), Some(secret)) = (form.get("client_id"), form.get("client_secret")) {
        return Some((id.clone(), secret.clone()));
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// `POST /hub/api/oauth2/token`: exchange a code (once) for an API token.
pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match exchange(&state, &headers, &body).await {
        Ok(r) | Err(r) => r,
    }
}

async fn exchange(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Response> {
    let form = parse_form(body);
    let store_error = |e: crate::store::StoreError| {
        tracing::error!("OAuth token exchange failed: {e}");
        oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "internal error",
        )
    };
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Only grant_type=authorization_code is supported.",
        ));
    }
    let invalid_client = || {
        oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Unknown client or wrong client secret.",
        )
    };
    let (client_id, secret) = client_credentials(headers, &form).ok_or_else(invalid_client)?;
    let client = state
        .store
        .get_oauth_client(&client_id)
        .await
        .map_err(store_error)?
        .ok_or_else(invalid_client)?;
    if tokens::hash_token(&secret) != client.secret_hash {
        tracing::warn!(client = %client_id, "OAuth token request with a wrong client secret");
        return Err(invalid_client());
    }
    let invalid_grant = |why: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", why);
    let raw_code = form.get("code").map(String::as_str).unwrap_or("");
    let code = state
        .store
        .take_oauth_code(&sha256_hex(raw_code.as_bytes()))
        .await
        .map_err(store_error)?
        .ok_or_else(|| invalid_grant("Unknown or already used code."))?;
    if code.client_id != client.identifier {
        return Err(invalid_grant("The code was issued to another client."));
    }
    if code.expires_at <= Utc::now() {
        return Err(invalid_grant("The code has expired; log in again."));
    }
    if form
        .get("redirect_uri")
        .is_some_and(|r| *r != code.redirect_uri)
    {
        return Err(invalid_grant(
            "redirect_uri does not match the authorization request.",
        ));
    }
    if let Some(challenge) = &code.code_challenge {
        let verifier = form.get("code_verifier").map(String::as_str).unwrap_or("");
        let computed = match code.code_challenge_method.as_deref() {
            Some("S256") => base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(verifier.as_bytes())),
            _ => verifier.to_owned(),
        };
        if verifier.is_empty() || computed != *challenge {
            return Err(invalid_grant(
                "The PKCE code_verifier does not match the code_challenge.",
            ));
        }
    }
    let (secret, _) = tokens::mint(
        state.store.as_ref(),
        TokenRequest {
            owner: TokenOwner::User(code.user.clone()),
            scopes: code.scopes.clone(),
            note: format!("OAuth login to {}", client.description),
            expires_in: None,
            session_id: code.session_id.clone(),
            oauth_client: Some(client.identifier.clone()),
        },
    )
    .await
    .map_err(store_error)?;
    tracing::info!(user = %code.user, client = %client.identifier, "OAuth token issued");
    let body = json!({
        "access_token": secret.expose(),
        "token_type": "Bearer",
        "scope": code.scopes.join(" "),
    });
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

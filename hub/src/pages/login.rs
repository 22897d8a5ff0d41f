//! `/hub/login` and `/hub/logout`: the login form, rate-limited password checks, the session
//! cookie, and ending the session everywhere it was valid. With an OAuth authenticator, the
//! login page is a button to `/hub/oauth_login`, which sends the browser to the provider, and
//! `/hub/oauth_callback` is where it comes back.

use super::{anon_xsrf, check_anon_xsrf, client_address, parse_form, safe_next};
use crate::auth::authenticator::{self, LoginError};
use crate::auth::generic_oauth::{GenericOAuthenticator, OAuthError};
use crate::auth::oauth_state::{self, PendingLogin};
use crate::auth::session;
use crate::error::PageError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
}

fn home(state: &AppState) -> String {
    format!("{}hub/home", state.config.hub.base_url)
}

/// The login page of an OAuth hub: a button to the provider, no password form.
fn render_oauth(
    state: &AppState,
    oauth: &GenericOAuthenticator,
    status: StatusCode,
    next: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    let mut oauth_url = format!("{}hub/oauth_login", state.config.hub.base_url);
    if !next.is_empty() {
        let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        oauth_url = format!("{oauth_url}?next={next}");
    }
    let page = state.templates.render(
        "login.html",
        context! { oauth_service => oauth.login_service(), oauth_url, error, user => () },
    )?;
    Ok((status, page).into_response())
}

fn render_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    username: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    let (xsrf, set_cookie) = anon_xsrf(state, headers);
    let page = state.templates.render(
        "login.html",
        context! { xsrf, next, username, error, user => () },
    )?;
    let mut response = (status, page).into_response();
    if let Some(cookie) = set_cookie {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookie.parse().expect("ASCII cookie"));
    }
    Ok(response)
}

/// `GET /hub/login`
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let next = q.next.unwrap_or_default();
    if let Some(logged_in) = session::current(&state, &headers).await? {
        let mut response = Redirect::to(&safe_next(&state, &next, &home(&state))).into_response();
        let cookie = session::proxy_cookie_for(&state, &logged_in);
        set_cookies(&mut response, vec![cookie]);
        return Ok(response);
    }
    if let Some(oauth) = state.authenticator.oauth() {
        return render_oauth(&state, oauth, StatusCode::OK, &next, None);
    }
    render_form(&state, &headers, StatusCode::OK, &next, "", None)
}

/// `POST /hub/login`
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = parse_form(&body);
    if let Some(oauth) = state.authenticator.oauth() {
        let error = format!(
            "This hub does not take passwords: sign in with {}.",
            oauth.login_service()
        );
        let next = form.get("next").map(String::as_str).unwrap_or("");
        return render_oauth(&state, oauth, StatusCode::BAD_REQUEST, next, Some(error));
    }
    check_anon_xsrf(&headers, &form)?;
    let username = form.get("username").map(String::as_str).unwrap_or("");
    let password = form.get("password").map(String::as_str).unwrap_or("");
    let next = form.get("next").map(String::as_str).unwrap_or("");
    let address = client_address(&headers);
    let throttle_key = state.names.normalize(username);
    if let Err(wait) = state.login_throttle.check(&throttle_key, &address) {
        tracing::warn!(user = %throttle_key, %address, "login refused: too many failed attempts");
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let error = format!("Too many failed login attempts. Try again in {minutes} minute(s).");
        return render_form(
            &state,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            next,
            username,
            Some(error),
        );
    }
    match authenticator::login(&state, username, password).await {
        Ok(user) => {
            state.login_throttle.succeeded(&throttle_key);
            tracing::info!(user = %user.name, %address, "user logged in");
            let cookies = session::start(&state, &user.name).await?;
            let target = safe_next(&state, next, &home(&state));
            let mut response = Redirect::to(&target).into_response();
            set_cookies(&mut response, cookies);
            Ok(response)
        }
        Err(LoginError::Store(e)) => Err(e.into()),
        // Not a wrong password: the rate limit does not count it.
        Err(ref unavailable @ LoginError::Unavailable { ref detail }) => {
            tracing::error!(user = %throttle_key, %address, "login service unavailable: {detail}");
            render_form(
                &state,
                &headers,
                StatusCode::SERVICE_UNAVAILABLE,
                next,
                username,
                Some(unavailable.to_string()),
            )
        }
        Err(refused) => {
            state.login_throttle.failed(&throttle_key, &address);
            tracing::warn!(user = %throttle_key, %address, "login failed: {refused}");
            render_form(
                &state,
                &headers,
                StatusCode::FORBIDDEN,
                next,
                username,
                Some(refused.to_string()),
            )
        }
    }
}

/// The OAuth client, or a 404 page on a hub that logs in another way.
fn oauth_client(state: &AppState) -> Result<&GenericOAuthenticator, PageError> {
    state.authenticator.oauth().ok_or_else(|| {
        PageError::new(
            StatusCode::NOT_FOUND,
            "This hub does not log in through an OAuth provider.",
        )
    })
}

/// `GET /hub/oauth_login?next=...`: remember the login in the state cookie and send the
/// browser to the provider.
pub async fn oauth_login(
    State(state): State<AppState>,
    Query(q): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let oauth = oauth_client(&state)?;
    let next = safe_next(&state, q.next.as_deref().unwrap_or(""), &home(&state));
    let pending = PendingLogin::new(&next, oauth.new_pkce_verifier(), chrono::Utc::now());
    let target = oauth.authorize_url(&pending.state, pending.pkce_verifier.as_deref());
    let cookie = state_cookie(&state, &pending.seal(&state.cookie_secret));
    let mut response = Redirect::to(&target).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookie.parse().expect("ASCII cookie"));
    Ok(response)
}

#[derive(Deserialize, Default)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /hub/oauth_callback?code&state` (or `?error=...`): check that this browser started
/// the login, finish it with the provider, apply the hub's rules and start the session.
pub async fn oauth_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, PageError> {
    let oauth = oauth_client(&state)?;
    let service = oauth.login_service();
    // Whatever happens, this login attempt is over: the state cookie goes.
    let clear = state_cookie(&state, "");
    let with_clear = |response: Response| {
        let mut response = response;
        response
            .headers_mut()
            .append(header::SET_COOKIE, clear.parse().expect("ASCII cookie"));
        response
    };
    let address = client_address(&headers);
    if let Some(error) = &q.error {
        let description = q.error_description.as_deref().unwrap_or("");
        tracing::warn!(%address, "OAuth login refused by the provider: {error} {description}");
        let page = if error == "access_denied" {
            PageError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "You did not allow {service} to tell this hub who you are, so you are not \
                     signed in. Go back to the login page to try again."
                ),
            )
        } else {
            let description = if description.is_empty() {
                String::new()
            } else {
                format!(": {description}")
            };
            PageError::new(
                StatusCode::BAD_REQUEST,
                format!("{service} refused the login ({error}{description})."),
            )
        };
        return Ok(with_clear(page.into_response()));
    }
    let returned_state = q.state.as_deref().unwrap_or("");
    let pending = match PendingLogin::open(
        &state.cookie_secret,
        &headers,
        returned_state,
        chrono::Utc::now(),
    ) {
        Ok(pending) => pending,
        Err(why) => {
            tracing::warn!(%address, "OAuth callback refused: {why}");
            let page = PageError::new(
                StatusCode::BAD_REQUEST,
                "This sign-in did not start in this browser or took too long (OAuth state \
                 check failed). Go back to the login page and sign in again.",
            );
            return Ok(with_clear(page.into_response()));
        }
    };
    let Some(code) = q.code.as_deref().filter(|c| !c.is_empty()) else {
        let page = PageError::new(
            StatusCode::BAD_REQUEST,
            format!("{service} sent the browser back without an authorization code."),
        );
        return Ok(with_clear(page.into_response()));
    };
    let who = match oauth.complete(code, pending.pkce_verifier.as_deref()).await {
        Ok(who) => who,
        Err(e) => {
            let status = match &e {
                OAuthError::Provider { detail, .. } | OAuthError::Untrusted { detail, .. } => {
                    tracing::error!(%address, "OAuth login failed at the provider: {detail}");
                    StatusCode::BAD_GATEWAY
                }
                other => {
                    tracing::warn!(%address, "OAuth login failed: {other}");
                    StatusCode::FORBIDDEN
                }
            };
            let page = PageError::new(status, e.to_string());
            return Ok(with_clear(page.into_response()));
        }
    };
    match authenticator::admit(&state, who).await {
        Ok(user) => {
            tracing::info!(user = %user.name, %address, "user logged in with {service}");
            let cookies = session::start(&state, &user.name).await?;
            let target = safe_next(&state, &pending.next, &home(&state));
            let mut response = with_clear(Redirect::to(&target).into_response());
            set_cookies(&mut response, cookies);
            Ok(response)
        }
        Err(LoginError::Store(e)) => Err(e.into()),
        Err(refused) => {
            tracing::warn!(%address, "OAuth login refused: {refused}");
            let page = PageError::new(StatusCode::FORBIDDEN, refused.to_string());
            Ok(with_clear(page.into_response()))
        }
    }
}

/// The `Set-Cookie` for the OAuth state cookie (`""` clears it).
fn state_cookie(state: &AppState, sealed: &str) -> String {
    let secure = state.config.public_url().scheme() == "https";
    oauth_state::set_cookie(&state.config.hub.base_url, secure, sealed)
}

/// `GET /hub/logout`: end the session (and the server logins made through it), optionally
/// stop the user's servers (`shutdown_on_logout`), and go back to the login page.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if let Some(logged_in) = session::current(&state, &headers).await? {
        tracing::info!(user = %logged_in.user.name, "user logged out");
        if state.config.hub.shutdown_on_logout {
            if let Err(e) = state.servers.stop_user(&logged_in.user).await {
                tracing::warn!(user = %logged_in.user.name, "could not stop servers at logout: {e}");
            }
        }
    }
    let cookies = session::end(&state, &headers).await?;
    let mut response =
        Redirect::to(&format!("{}hub/login", state.config.hub.base_url)).into_response();
    set_cookies(&mut response, cookies);
    Ok(response)
}

fn set_cookies(response: &mut Response, cookies: Vec<String>) {
    for cookie in cookies {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookie.parse().expect("ASCII cookie"));
    }
}

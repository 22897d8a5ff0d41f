//! `/hub/login` and `/hub/logout`: the login form, rate-limited password checks, the session
//! cookie, and ending the session everywhere it was valid.

use super::{anon_xsrf, check_anon_xsrf, client_address, parse_form, safe_next};
use crate::auth::authenticator::{self, LoginError};
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
    if session::current(&state, &headers).await?.is_some() {
        return Ok(Redirect::to(&safe_next(&state, &next, &home(&state))).into_response());
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
            let cookie = session::start(&state, &user.name).await?;
            let target = safe_next(&state, next, &home(&state));
            let mut response = Redirect::to(&target).into_response();
            response
                .headers_mut()
                .append(header::SET_COOKIE, cookie.parse().expect("ASCII cookie"));
            Ok(response)
        }
        Err(LoginError::Store(e)) => Err(e.into()),
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
    let cookie = session::end(&state, &headers).await?;
    let mut response =
        Redirect::to(&format!("{}hub/login", state.config.hub.base_url)).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookie.parse().expect("ASCII cookie"));
    Ok(response)
}

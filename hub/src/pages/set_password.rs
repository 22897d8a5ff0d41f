//! `/hub/set-password?token=...`: a user sets a password with a one-time link and its PIN.
//! Wrong PINs are counted (the link burns at `max_pin_attempts`), expired or used links are
//! refused with a page that says so, and nothing secret is stored in clear.

use super::{anon_xsrf, check_anon_xsrf, parse_form};
use crate::auth::password_links::pin_hash;
use crate::auth::passwords;
use crate::error::PageError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use ferrohub_shared::secret::sha256_hex;
use minijinja::context;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct LinkQuery {
    token: Option<String>,
}

fn policy_text(state: &AppState) -> String {
    let c = &state.config.native_authenticator;
    let mut text = format!("At least {} characters", c.minimum_password_length);
    if c.require_mixed_password {
        text.push_str(", with upper- and lower-case letters, a digit and a symbol");
    }
    text + "."
}

struct Form<'a> {
    token: &'a str,
    user_name: Option<String>,
    error: Option<String>,
    burnt: bool,
    done: bool,
}

impl Form<'_> {
    /// The page for a link that cannot be used: why, and no form.
    fn refused(error: &str) -> Form<'static> {
        Form {
            token: "",
            user_name: None,
            error: Some(error.to_owned()),
            burnt: true,
            done: false,
        }
    }
}

fn render(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    f: Form<'_>,
) -> Result<Response, PageError> {
    let (xsrf, set_cookie) = anon_xsrf(state, headers);
    let page = state.templates.render(
        "set_password.html",
        context! {
            user => (), xsrf, token => f.token, user_name => f.user_name, error => f.error,
            burnt => f.burnt, done => f.done, policy => policy_text(state),
        },
    )?;
    let mut response = (status, page).into_response();
    if let Some(cookie) = set_cookie {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookie.parse().expect("ASCII cookie"));
    }
    Ok(response)
}

/// Why a link cannot be used, if it cannot.
fn unusable(link: Option<&crate::store::PasswordLink>) -> Option<&'static str> {
    match link {
        None => Some("This link is not valid. Ask an administrator for a new one."),
        Some(l) if l.used => Some("This link has already been used or was disabled after wrong PINs. Ask an administrator for a new one."),
        Some(l) if l.expires_at <= Utc::now() => Some("This link has expired. Ask an administrator for a new one."),
        Some(_) => None,
    }
}

/// `GET /hub/set-password?token=...`
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LinkQuery>,
) -> Result<Response, PageError> {
    let token = q.token.unwrap_or_default();
    let link = state
        .store
        .find_password_link(&sha256_hex(token.as_bytes()))
        .await?;
    if let Some(problem) = unusable(link.as_ref()) {
        let f = Form::refused(problem);
        return render(&state, &headers, StatusCode::GONE, f);
    }
    let f = Form {
        token: &token,
        user_name: link.map(|l| l.user),
        error: None,
        burnt: false,
        done: false,
    };
    render(&state, &headers, StatusCode::OK, f)
}

/// `POST /hub/set-password`: token, pin, password, confirm.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = parse_form(&body);
    check_anon_xsrf(&headers, &form)?;
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let token = field("token");
    let link = state
        .store
        .find_password_link(&sha256_hex(token.as_bytes()))
        .await?;
    if let Some(problem) = unusable(link.as_ref()) {
        let f = Form::refused(problem);
        return render(&state, &headers, StatusCode::GONE, f);
    }
    let link = link.expect("usable links exist");
    let again = |error: String| Form {
        token,
        user_name: Some(link.user.clone()),
        error: Some(error),
        burnt: false,
        done: false,
    };
    if pin_hash(token, field("pin").trim()) != link.pin_hash {
        let limit = state.config.native_authenticator.max_pin_attempts;
        let attempts = state.store.fail_password_link(link.id, limit).await?;
        tracing::warn!(user = %link.user, attempts, "wrong PIN on a password link");
        if attempts >= limit {
            let error = "Too many wrong PINs: this link no longer works. Ask an administrator for a new one.";
            let f = Form::refused(error);
            return render(&state, &headers, StatusCode::FORBIDDEN, f);
        }
        let left = limit - attempts;
        return render(
            &state,
            &headers,
            StatusCode::FORBIDDEN,
            again(format!("Wrong PIN. {left} attempt(s) left.")),
        );
    }
    let password = field("password");
    if password != field("confirm") {
        return render(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            again("The two passwords differ.".into()),
        );
    }
    if let Err(problem) = passwords::check_policy(&state.config.native_authenticator, password) {
        return render(&state, &headers, StatusCode::BAD_REQUEST, again(problem));
    }
    let hash = passwords::hash(password).await;
    if !state.store.use_password_link(link.id, &hash).await? {
        let f = Form::refused("This link has already been used.");
        return render(&state, &headers, StatusCode::GONE, f);
    }
    tracing::info!(user = %link.user, "password set through a one-time link");
    let f = Form {
        token: "",
        user_name: Some(link.user.clone()),
        error: None,
        burnt: false,
        done: true,
    };
    render(&state, &headers, StatusCode::OK, f)
}

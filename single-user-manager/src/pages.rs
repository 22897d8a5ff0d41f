//! The manager's pages and API answers: the home page, status, the OAuth callback, logout,
//! and the one way errors look (a page for browsers, JupyterHub's JSON for scripts).

use crate::visitor::Visitor;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use ferrohub_shared::html::escape;
use serde::Deserialize;
use serde_json::json;

/// `GET {prefix}`: who is here and what this server is.
pub async fn home(State(state): State<AppState>, Visitor(who): Visitor) -> Response {
    let config = &state.config;
    let server = if config.server_name.is_empty() {
        format!("{}'s server", config.user)
    } else {
        format!("{}'s server {}", config.user, config.server_name)
    };
    let guest = if who.name == config.user {
        String::new()
    } else {
        format!(
            "<p class=\"note\">You are visiting as <strong>{}</strong>, with access {} shared.</p>",
            escape(&who.name),
            escape(&config.user)
        )
    };
    let body = format!(
        "<h1>{server}</h1>\n{guest}<p>Signed in as <strong>{who}</strong>.</p>\n\
         <p>No applications are available yet.</p>\n\
         <p><a href=\"{home}\">Hub home</a> · <a href=\"{prefix}logout\">Log out</a></p>",
        server = escape(&server),
        who = escape(&who.name),
        home = escape(&format!("{}{}hub/home", config.hub_host, config.base_url)),
        prefix = escape(&config.prefix),
    );
    page(StatusCode::OK, &server, &body)
}

/// `GET {prefix}api/status`: the server's state, for scripts and monitoring.
pub async fn status(State(state): State<AppState>, Visitor(_): Visitor) -> Response {
    let config = &state.config;
    Json(json!({
        "user": config.user,
        "server_name": config.server_name,
        "started": state.started,
        "last_activity": state.activity.last(),
        "version": ferrohub_shared::VERSION,
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET {callback}`: the browser is back from the hub's login.
pub async fn oauth_callback(
    State(state): State<AppState>,
    Query(callback): Query<Callback>,
    headers: HeaderMap,
) -> Response {
    let (Some(code), Some(returned)) = (callback.code, callback.state) else {
        let why = callback
            .error
            .unwrap_or_else(|| "the hub sent no login code".into());
        return error_page(
            StatusCode::BAD_REQUEST,
            &format!("Login did not complete: {why}. Open the server's address to try again."),
        );
    };
    let cookies = crate::visitor::all_cookies(&headers);
    match state.auth.finish_login(&code, &returned, &cookies).await {
        Ok((token, next)) => {
            let [session, drop_state] = state.auth.login_cookies(&token);
            let mut response = (StatusCode::FOUND, [(LOCATION, next)]).into_response();
            let headers = response.headers_mut();
            for cookie in [session, drop_state] {
                headers.append(SET_COOKIE, cookie.parse().expect("cookie text is ASCII"));
            }
            response
        }
        Err(e) => {
            tracing::warn!("login refused: {e}");
            error_page(StatusCode::FORBIDDEN, &e.to_string())
        }
    }
}

/// `GET {prefix}logout`: forget this server's session, then log out of the hub too.
pub async fn logout(State(state): State<AppState>) -> Response {
    (
        StatusCode::FOUND,
        [
            (LOCATION, state.config.hub_logout_url()),
            (SET_COOKIE, state.auth.logout_cookie()),
        ],
    )
        .into_response()
}

/// Anything else under the prefix.
pub async fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, "There is nothing at this address.")
}

/// JupyterHub's error body, for scripts.
pub fn api_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "status": status.as_u16(), "message": message })),
    )
        .into_response()
}

/// A readable error page, for browsers.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    page(
        status,
        &title,
        &format!("<h1>{}</h1>\n<p>{}</p>", escape(&title), escape(message)),
    )
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} - ferrohub</title><style>{STYLE}</style></head>\n<body><main>\n{body}\n</main></body></html>\n",
        escape(title)
    );
    (
        status,
        [(CONTENT_TYPE, "text/html; charset=utf-8")],
        Html(html),
    )
        .into_response()
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1c1e21}\
main{max-width:42rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:8px;\
box-shadow:0 1px 3px rgba(0,0,0,.12)}h1{font-size:1.4rem;margin-top:0}.note{color:#555}a{color:#1a5fb4}";

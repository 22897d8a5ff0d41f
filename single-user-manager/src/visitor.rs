//! The [`Visitor`] extractor: the identity behind a request, checked against this server's
//! access scopes before any handler runs. Browsers without a session are sent to the hub's
//! login; API clients without a valid token get JupyterHub's 403.

use crate::answers;
use crate::hub_auth::Identity;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

/// Someone allowed to use this server.
#[derive(Debug, Clone)]
pub struct Visitor(pub Identity);

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let browser = is_page_request(parts, &state.config.prefix);
        let header_token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (kind, token) = v.split_once(' ')?;
                matches!(kind.to_ascii_lowercase().as_str(), "token" | "bearer")
                    .then(|| token.trim().to_owned())
            });
        let cookies = all_cookies(&parts.headers);
        let (token, from_cookie) = match header_token {
            Some(token) => (token, false),
            None => match state.auth.token_from_cookies(&cookies) {
                Some(token) => (token, true),
                None if browser => return Err(to_login(state, parts)),
                None => return Err(answers::api_error(StatusCode::FORBIDDEN, "Authentication required: send a hub token (Authorization: token ...) or log in through the hub")),
            },
        };
        let identity = match state.auth.identify(&token).await {
            Ok(Some(identity)) => identity,
            // A session whose token the hub no longer knows (logged out, expired): log in again.
            Ok(None) if from_cookie && browser => return Err(to_login(state, parts)),
            Ok(None) => {
                return Err(answers::api_error(
                    StatusCode::FORBIDDEN,
                    "The token is not valid at the hub",
                ))
            }
            Err(e) => {
                tracing::error!("{e}");
                let message = "The hub is not answering, so nobody can be let in right now. \
                               Try again in a moment; if it lasts, tell your administrator.";
                return Err(if browser {
                    answers::error_page(StatusCode::SERVICE_UNAVAILABLE, message)
                } else {
                    answers::api_error(StatusCode::SERVICE_UNAVAILABLE, message)
                });
            }
        };
        if !state.auth.may_access(&identity) {
            tracing::warn!(visitor = %identity.name, "refused: no access scope for this server");
            let message = format!(
                "{} may not use {}'s server. Ask {} to share it with you.",
                identity.name, state.config.user, state.config.user
            );
            return Err(if browser {
                answers::error_page(StatusCode::FORBIDDEN, &message)
            } else {
                answers::api_error(StatusCode::FORBIDDEN, &message)
            });
        }
        state.activity.touch();
        Ok(Visitor(identity))
    }
}

/// Whether this is a browser asking for a page, which gets sent to log in and shown error
/// pages, rather than a script calling `{prefix}api/...`, which gets JupyterHub's JSON
/// errors (the split jupyter_server makes too).
fn is_page_request(parts: &Parts, prefix: &str) -> bool {
    let api = parts
        .uri
        .path()
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.starts_with("api/"));
    parts.method == Method::GET && !api
}

/// Every `Cookie` header of a request, joined into one.
pub(crate) fn all_cookies(headers: &HeaderMap) -> String {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Off to the hub's login, coming back to where the browser was going.
fn to_login(state: &AppState, parts: &Parts) -> Response {
    let next = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or(&state.config.prefix);
    let (location, cookie) = state.auth.start_login(next);
    (
        StatusCode::FOUND,
        [(LOCATION, location), (SET_COOKIE, cookie)],
    )
        .into_response()
}

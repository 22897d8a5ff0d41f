//! `/hub/token`: a user's API tokens: request a new one (shown once) and revoke old ones.

use super::{check_xsrf, parse_form, user_context, PageUser};
use crate::api::models::iso;
use crate::auth::session::LoggedIn;
use crate::auth::tokens::{self, TokenRequest};
use crate::error::PageError;
use crate::store::TokenOwner;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::context;

async fn render(
    state: &AppState,
    me: &LoggedIn,
    new_token: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let now = chrono::Utc::now();
    let tokens: Vec<minijinja::Value> = state
        .store
        .list_user_tokens(&me.user.name)
        .await?
        .into_iter()
        // Servers' own tokens and OAuth logins are managed by the hub, not here.
        .filter(|t| {
            !t.is_expired(now) && t.oauth_client.is_none() && !t.note.starts_with("Server at ")
        })
        .map(|t| {
            context! {
                id => t.id,
                note => t.note,
                created => iso(t.created),
                last_activity => t.last_activity.map(iso),
                expires_at => t.expires_at.map(iso),
            }
        })
        .collect();
    let page = state.templates.render(
        "token.html",
        context! { user => user_context(me), xsrf => me.xsrf, tokens, new_token, error },
    )?;
    Ok(page.into_response())
}

/// `GET /hub/token`
pub async fn page(
    State(state): State<AppState>,
    PageUser(me): PageUser,
) -> Result<Response, PageError> {
    render(&state, &me, None, None).await
}

/// `POST /hub/token`: `action=create` (note, expires_in) or `action=revoke` (id).
pub async fn action(
    State(state): State<AppState>,
    PageUser(me): PageUser,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = parse_form(&body);
    check_xsrf(&me, &form)?;
    match form.get("action").map(String::as_str) {
        Some("create") => {
            let expires_in = match form.get("expires_in").map(String::as_str).unwrap_or("") {
                "" => None,
                s => match s.parse::<u64>() {
                    Ok(n) if n > 0 => Some(n),
                    _ => {
                        return render(
                            &state,
                            &me,
                            None,
                            Some("Expiry must be a number of seconds.".into()),
                        )
                        .await
                    }
                },
            };
            let note: String = form
                .get("note")
                .map(|n| n.trim().chars().take(255).collect())
                .unwrap_or_default();
            let note = if note.is_empty() {
                "Requested via token page".to_owned()
            } else {
                note
            };
            let (secret, _) = tokens::mint(
                state.store.as_ref(),
                TokenRequest {
                    owner: TokenOwner::User(me.user.name.clone()),
                    scopes: vec!["inherit".into()],
                    note,
                    expires_in,
                    session_id: None,
                    oauth_client: None,
                },
            )
            .await?;
            render(&state, &me, Some(secret.expose().to_owned()), None).await
        }
        Some("revoke") => {
            let id = form
                .get("id")
                .and_then(|i| i.parse::<i64>().ok())
                .ok_or_else(|| PageError::new(StatusCode::BAD_REQUEST, "No token named."))?;
            state.store.delete_user_token(&me.user.name, id).await?;
            render(&state, &me, None, None).await
        }
        _ => Err(PageError::new(StatusCode::BAD_REQUEST, "Unknown action.")),
    }
}

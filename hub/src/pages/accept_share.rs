//! `/hub/accept-share?code=...`: a user turns a share code into access to someone's server
//! (confirmed with a form), then goes to it.

use super::{check_xsrf, parse_form, safe_next, user_context, PageUser};
use crate::error::PageError;
use crate::store::ShareCode;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use ferrohub_shared::secret::sha256_hex;
use minijinja::context;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct AcceptQuery {
    code: Option<String>,
    next: Option<String>,
}

/// The live code `raw` names, or a page saying why it cannot be used.
async fn live_code(state: &AppState, raw: &str, me: &str) -> Result<ShareCode, PageError> {
    let code = state
        .store
        .find_share_code(&sha256_hex(raw.as_bytes()))
        .await?
        .filter(|c| c.expires_at > Utc::now())
        .ok_or_else(|| {
            PageError::new(
                StatusCode::NOT_FOUND,
                "This sharing link is not valid: it may have expired or been revoked. Ask for a new one.",
            )
        })?;
    if code.owner == me {
        return Err(PageError::new(
            StatusCode::BAD_REQUEST,
            "This is a link to your own server; send it to the person you want to share it with.",
        ));
    }
    Ok(code)
}

/// `GET /hub/accept-share?code=...`
pub async fn page(
    State(state): State<AppState>,
    PageUser(me): PageUser,
    Query(q): Query<AcceptQuery>,
) -> Result<Response, PageError> {
    let raw = q.code.unwrap_or_default();
    let code = live_code(&state, &raw, &me.user.name).await?;
    let page = state.templates.render(
        "accept_share.html",
        context! {
            user => user_context(&me),
            xsrf => me.xsrf,
            owner => code.owner,
            server_name => code.server,
            scopes => code.scopes,
            code => raw,
            next => q.next.unwrap_or_default(),
        },
    )?;
    Ok(page.into_response())
}

/// `POST /hub/accept-share`: exchange the code and go to the server (or `next`).
pub async fn accept(
    State(state): State<AppState>,
    PageUser(me): PageUser,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = parse_form(&body);
    check_xsrf(&me, &form)?;
    let raw = form.get("code").map(String::as_str).unwrap_or("");
    let code = live_code(&state, raw, &me.user.name).await?;
    state
        .store
        .exchange_share_code(code.id, &me.user.name)
        .await?;
    tracing::info!(user = %me.user.name, "accepted a share of {}/{}", code.owner, code.server);
    let server_url = state.urls.server(&code.owner, &code.server);
    let next = form.get("next").map(String::as_str).unwrap_or("");
    Ok(Redirect::to(&safe_next(&state, next, &server_url)).into_response())
}

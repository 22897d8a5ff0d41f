//! Server-rendered pages: templates (auto-escaped, so user-controlled strings cannot become
//! markup), the logged-in-user extractors, XSRF checks on forms, safe `next` redirects, and
//! the security headers every page carries.
//!
//! One module per page family: [`login`], [`home`] (home, spawn, spawn-pending, servers that
//! are not running), [`tokens`], [`set_password`].

pub mod accept_share;
pub mod home;
pub mod login;
pub mod set_password;
pub mod tokens;

use crate::auth::session::{self, LoggedIn};
use crate::error::PageError;
use crate::AppState;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
pub use ferrohub_shared::html::escape;
use serde::Deserialize;
use std::collections::HashMap;

/// The page templates, compiled once. Templates ending in `.html` escape every value.
pub struct Templates(minijinja::Environment<'static>);

impl Templates {
    pub fn new(base_url: &str) -> Templates {
        let mut env = minijinja::Environment::new();
        for (name, source) in [
            ("base.html", include_str!("../../templates/base.html")),
            ("login.html", include_str!("../../templates/login.html")),
            ("home.html", include_str!("../../templates/home.html")),
            ("spawn.html", include_str!("../../templates/spawn.html")),
            (
                "spawn_pending.html",
                include_str!("../../templates/spawn_pending.html"),
            ),
            (
                "not_running.html",
                include_str!("../../templates/not_running.html"),
            ),
            ("token.html", include_str!("../../templates/token.html")),
            (
                "set_password.html",
                include_str!("../../templates/set_password.html"),
            ),
            (
                "oauth_consent.html",
                include_str!("../../templates/oauth_consent.html"),
            ),
            ("error.html", include_str!("../../templates/error.html")),
            (
                "accept_share.html",
                include_str!("../../templates/accept_share.html"),
            ),
        ] {
            env.add_template(name, source)
                .expect("the embedded templates are valid");
        }
        // The base URL is the admin's, not user input: no need to escape its slashes.
        env.add_global(
            "base_url",
            minijinja::Value::from_safe_string(base_url.to_owned()),
        );
        Templates(env)
    }

    /// Render `name` with `context`; a rendering failure is a 500 page (and a log line).
    pub fn render(&self, name: &str, context: minijinja::Value) -> Result<Html<String>, PageError> {
        self.0
            .get_template(name)
            .and_then(|t| t.render(context))
            .map(Html)
            .map_err(|e| {
                tracing::error!("rendering {name} failed: {e:#}");
                PageError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    message: "The page could not be rendered; the hub's log has the details."
                        .into(),
                }
            })
    }
}

/// The headers every page carries: no framing by other sites, no scripts but the hub's own.
pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; frame-ancestors 'self'; form-action 'self'; base-uri 'self'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// `GET /hub/static/{file}`: the stylesheet and the one script, embedded in the binary.
pub async fn static_file(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "style.css" => (
            include_str!("../../static/style.css"),
            "text/css; charset=utf-8",
        ),
        "progress.js" => (
            include_str!("../../static/progress.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// A logged-in browser, for pages that need one: anyone else is sent to the login page,
/// with `next` bringing them back.
pub struct PageUser(pub LoggedIn);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match session::current(state, &parts.headers).await {
            Ok(Some(logged_in)) => Ok(PageUser(logged_in)),
            Ok(None) => {
                // The full path: inside the nested `/hub` router, `parts.uri` lacks the prefix.
                let uri = parts
                    .extensions
                    .get::<axum::extract::OriginalUri>()
                    .map_or(&parts.uri, |o| &o.0);
                let next = uri.path_and_query().map_or("", |p| p.as_str());
                Err(login_redirect(state, next))
            }
            Err(e) => Err(PageError::from(e).into_response()),
        }
    }
}

/// The login page, coming back to `next` afterwards.
pub fn login_redirect(state: &AppState, next: &str) -> Response {
    let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    Redirect::to(&format!(
        "{}hub/login?next={next}",
        state.config.hub.base_url
    ))
    .into_response()
}

/// `next` if it is a path inside this hub's base URL, else `fallback`: redirects after login
/// never leave the site (no `//host`, no scheme, no backslashes browsers would normalise).
pub fn safe_next(state: &AppState, next: &str, fallback: &str) -> String {
    let base = &state.config.hub.base_url;
    let ok = next.starts_with(base.as_str())
        && next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ok {
        next.to_owned()
    } else {
        fallback.to_owned()
    }
}

/// A submitted form's fields (the first value of each).
pub fn parse_form(body: &[u8]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

/// 403 unless the form carries the session's XSRF token.
pub fn check_xsrf(logged_in: &LoggedIn, form: &HashMap<String, String>) -> Result<(), PageError> {
    match form.get("_xsrf") {
        Some(x) if *x == logged_in.xsrf => Ok(()),
        _ => Err(PageError {
            status: StatusCode::FORBIDDEN,
            message: "This form has expired or did not come from this hub (XSRF check failed). \
                      Go back, reload the page and try again."
                .into(),
        }),
    }
}

/// The cookie that protects forms sent before login (login, set-password): the form must
/// echo its value.
pub const ANON_XSRF_COOKIE: &str = "_xsrf";

/// The anonymous XSRF value for a form, and the `Set-Cookie` to send if it is new.
pub fn anon_xsrf(state: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
    if let Some(v) = session::cookie_value(headers, ANON_XSRF_COOKIE).filter(|v| v.len() == 32) {
        return (v.to_owned(), None);
    }
    let value = ferrohub_shared::secret::random_hex(16);
    let cookie = format!(
        "{ANON_XSRF_COOKIE}={value}; Path={}hub/; HttpOnly; SameSite=Lax",
        state.config.hub.base_url
    );
    (value, Some(cookie))
}

/// 403 unless the form echoes the anonymous XSRF cookie.
pub fn check_anon_xsrf(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(), PageError> {
    let cookie = session::cookie_value(headers, ANON_XSRF_COOKIE);
    match (cookie, form.get("_xsrf")) {
        (Some(c), Some(f)) if c == f && !c.is_empty() => Ok(()),
        _ => Err(PageError {
            status: StatusCode::FORBIDDEN,
            message: "This form has expired or did not come from this hub (XSRF check failed). \
                      Go back, reload the page and try again."
                .into(),
        }),
    }
}

/// The client's address as the proxy reports it (the last `X-Forwarded-For` entry is the
/// one the proxy added), for rate limits.
pub fn client_address(headers: &HeaderMap) -> String {
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

/// The user as templates see it.
pub fn user_context(logged_in: &LoggedIn) -> minijinja::Value {
    minijinja::context! { name => logged_in.user.name, admin => logged_in.user.admin }
}

/// A complete error page.
pub fn render_error_page(status: StatusCode, message: &str) -> String {
    let reason = status.canonical_reason().unwrap_or("Error");
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{code} {reason}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;color:#222}}\
         h1{{font-weight:500}}</style></head>\
         <body><h1>{code}: {reason}</h1><p>{message}</p></body></html>\n",
        code = status.as_u16(),
        reason = escape(reason),
        message = escape(message),
    )
}

/// `GET /hub/health`: 200 while the hub is up.
pub async fn health() -> StatusCode {
    StatusCode::OK
}

#[derive(Deserialize)]
pub struct ErrorQuery {
    url: Option<String>,
}

/// `GET /hub/error/{code}`: the page the proxy shows when it has no route (404) or the target
/// is down (503); the proxy's `--error-target` points here.
pub async fn proxy_error(
    Path(code): Path<String>,
    Query(q): Query<ErrorQuery>,
) -> impl IntoResponse {
    let status = code
        .parse::<u16>()
        .ok()
        .and_then(|c| StatusCode::from_u16(c).ok())
        .filter(|s| s.is_client_error() || s.is_server_error())
        .unwrap_or(StatusCode::BAD_GATEWAY);
    let url = q.url.unwrap_or_default();
    let message = match status.as_u16() {
        404 => format!("Nothing is served at {url}."),
        503 => format!(
            "The server behind {url} is not answering. If it is yours, it may still be starting \
             or may have stopped: go to your home page to start it again."
        ),
        _ => format!("The proxy could not complete the request for {url}."),
    };
    (status, Html(render_error_page(status, &message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_page_escapes_message() {
        let page = render_error_page(StatusCode::NOT_FOUND, "<b>x</b>");
        assert!(page.contains("404: Not Found"));
        assert!(page.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert!(!page.contains("<b>x</b>"));
    }
}

#[cfg(test)]
mod template_tests {
    use super::*;

    #[test]
    fn every_template_renders_and_escapes() {
        let templates = Templates::new("/base/");
        let page = templates
            .render(
                "error.html",
                minijinja::context! { code => 404, reason => "Not Found", message => "<b>x</b>", user => () },
            )
            .unwrap()
            .0;
        assert!(page.contains("/base/hub/static/style.css"));
        assert!(page.contains("&lt;b&gt;x") && !page.contains("<b>x</b>"));
        for name in [
            "login.html",
            "home.html",
            "spawn.html",
            "spawn_pending.html",
            "not_running.html",
            "token.html",
            "set_password.html",
            "oauth_consent.html",
            "accept_share.html",
        ] {
            let page = templates
                .render(name, minijinja::context! { user => () })
                .unwrap();
            assert!(page.0.contains("</html>"), "{name} renders a whole page");
        }
    }
}

//! Server-rendered pages. Every user-controlled string goes through [`escape`].

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use serde::Deserialize;

/// HTML-escape text for element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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
    fn escape_neutralises_markup() {
        assert_eq!(
            escape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
    }

    #[test]
    fn error_page_escapes_message() {
        let page = render_error_page(StatusCode::NOT_FOUND, "<b>x</b>");
        assert!(page.contains("404: Not Found"));
        assert!(page.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert!(!page.contains("<b>x</b>"));
    }
}

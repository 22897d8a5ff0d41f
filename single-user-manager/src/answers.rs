//! How the manager's answers look, the one way for every module: a readable page for
//! browsers, JupyterHub's JSON error body for scripts.

use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use ferrohub_shared::html::escape;
use serde_json::json;

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

/// A page of the manager with `title` and the HTML `body`.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
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
box-shadow:0 1px 3px rgba(0,0,0,.12)}h1{font-size:1.4rem;margin-top:0}.note{color:#555}a{color:#1a5fb4}\
ul.apps{list-style:none;padding:0}li.app{display:flex;gap:1rem;padding:1rem 0;border-top:1px solid #ddd}\
li.app h2{font-size:1.1rem;margin:0}.icon{width:64px;height:64px;font-size:48px;flex:none}\
li.app iframe{display:block;width:100%;height:24rem;margin-top:.5rem;border:1px solid #ccc}\
button,.button{font:inherit;padding:.3rem .8rem;margin:.2rem .2rem 0 0}.error{color:#a00}";

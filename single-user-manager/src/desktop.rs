//! What a browser gets at an app's address when the request reaches the manager rather than
//! the app: for a VNC desktop, the noVNC client (Debian's `novnc` files), which connects to
//! the proxy's websocket-to-VNC bridge at `.../websockify`; for a web app whose route the
//! proxy lost, the route again and a redirect to the same address. The noVNC files are
//! static and public; the desktop itself is behind the bridge's private route.

use crate::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};

/// `GET {prefix}containers/{url_id}` and `.../{url_id}/`: the desktop's page.
pub async fn entry(
    State(state): State<AppState>,
    Path(url_id): Path<String>,
    uri: Uri,
) -> Response {
    let apps = &state.apps;
    if apps.is_desktop(&url_id) {
        let ws_path = format!("{}containers/{url_id}/websockify", state.config.prefix);
        let target = format!(
            "{}containers/{url_id}/vnc.html?autoconnect=true&reconnect=true&resize=scale&path={}",
            state.config.prefix,
            url_encode(ws_path.trim_start_matches('/'))
        );
        return Redirect::to(&target).into_response();
    }
    if apps.reroute(&url_id).await {
        // The proxy lost the route (e.g. it restarted without a routes file): it is back.
        tracing::info!(url_id = %url_id, "routed a running app again after a request reached the manager");
        return Redirect::temporary(&uri.to_string()).into_response();
    }
    not_running(&url_id)
}

/// `GET {prefix}containers/{url_id}/{*file}`: noVNC's files for a running desktop.
pub async fn file(
    State(state): State<AppState>,
    Path((url_id, file)): Path<(String, String)>,
    uri: Uri,
) -> Response {
    if !state.apps.is_desktop(&url_id) {
        if state.apps.reroute(&url_id).await {
            return Redirect::temporary(&uri.to_string()).into_response();
        }
        return not_running(&url_id);
    }
    let safe = !file.is_empty()
        && file
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'));
    if !safe {
        return (StatusCode::NOT_FOUND, "no such file\n").into_response();
    }
    let path = state.apps.novnc_path().join(&file);
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, content_type(&file)),
                (header::CACHE_CONTROL, "max-age=3600"),
            ],
            Body::from(bytes),
        )
            .into_response(),
        Err(_) if file == "vnc.html" => crate::answers::error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!(
                "The desktop runs, but its viewer (noVNC) is not installed at {}: ask your \
                 administrator to install Debian's novnc package or set [Manager] novnc_path.",
                state.apps.novnc_path().display()
            ),
        ),
        Err(_) => (StatusCode::NOT_FOUND, "no such file\n").into_response(),
    }
}

fn not_running(url_id: &str) -> Response {
    crate::answers::error_page(
        StatusCode::NOT_FOUND,
        &format!(
            "No app runs at this address ({url_id}). It may have been stopped; start it again \
             from your server's page."
        ),
    )
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript",
        "css" => "text/css",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "oga" | "ogg" => "audio/ogg",
        "mp3" => "audio/mpeg",
        _ => "application/octet-stream",
    }
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

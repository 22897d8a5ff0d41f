//! The manager's pages: the home page (the user's apps), status, the OAuth callback and
//! logout. Errors look as [`crate::answers`] makes them.

use crate::answers::{error_page, page};
use crate::visitor::Visitor;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ferrohub_shared::html::escape;
use serde::Deserialize;
use serde_json::json;

/// `GET {prefix}`: who is here, and the owner's applications: each with its icon, name and
/// description, a Start button (and resolution where the image offers one), and for a
/// running one its page embedded, Open and Stop. A search box filters the list.
pub async fn home(State(state): State<AppState>, Visitor(who): Visitor) -> Response {
    let config = &state.config;
    let server = if config.server_name.is_empty() {
        format!("{}'s server", config.user)
    } else {
        format!("{}'s server {}", config.user, config.server_name)
    };
    let owner = who.name == config.user;
    let guest = if owner {
        String::new()
    } else {
        format!(
            "<p class=\"note\">You are visiting as <strong>{}</strong>, with access {} shared.</p>",
            escape(&who.name),
            escape(&config.user)
        )
    };
    let apps = if owner {
        match state.apps.catalog().await {
            Ok(list) if list.is_empty() => "<p>No applications are available to you yet: an \
                 administrator grants them (<code>ferrohub app grant</code>).</p>"
                .to_owned(),
            Ok(list) => app_list(&list),
            Err(e) => format!("<p class=\"error\">{}</p>", escape(&e.to_string())),
        }
    } else {
        String::new()
    };
    let body = format!(
        "<h1>{server}</h1>\n{guest}<p>Signed in as <strong>{who}</strong>.</p>\n{apps}\n\
         <p><a href=\"{home}\">Hub home</a> · <a href=\"{prefix}logout\">Log out</a></p>\n\
         <script>{APP_SCRIPT}</script>",
        server = escape(&server),
        who = escape(&who.name),
        home = escape(&format!("{}{}hub/home", config.hub_host, config.base_url)),
        prefix = escape(&config.prefix),
    );
    page(StatusCode::OK, &server, &body)
}

/// The owner's apps as cards; the script below drives Start and Stop through the API.
fn app_list(list: &[crate::apps::Launchable]) -> String {
    let mut out = String::from(
        "<label for=\"app-search\">Search applications</label> \
         <input id=\"app-search\" type=\"search\" placeholder=\"name or description\">\n\
         <p id=\"app-status\" role=\"status\" aria-live=\"polite\"></p>\n<ul class=\"apps\">\n",
    );
    for app in list {
        let image = &app.image.image;
        let id = escape(&app.mapping_id);
        let icon = if image.icon_128.is_empty() {
            "<span class=\"icon\" aria-hidden=\"true\">▣</span>".to_owned()
        } else {
            format!(
                "<img class=\"icon\" alt=\"\" src=\"data:image/png;base64,{}\">",
                escape(&image.icon_128)
            )
        };
        let resolution = if image.configurables.iter().any(|c| c == "resolution") {
            format!(
                "<label>Resolution <select class=\"resolution\" data-for=\"{id}\">\
                 <option>1024x768</option><option>1280x800</option><option>1280x1024</option>\
                 <option>1920x1080</option></select></label>"
            )
        } else {
            String::new()
        };
        let actions = match &app.container {
            Some(c) => format!(
                "<a class=\"button\" href=\"{url}\" target=\"_blank\">Open</a> \
                 <button class=\"stop\" data-url-id=\"{url_id}\">Stop</button>\
                 <iframe title=\"{name}\" src=\"{url}\"></iframe>",
                url = escape(&c.url),
                url_id = escape(&c.url_id),
                name = escape(&image.ui_name),
            ),
            None => format!(
                "{resolution} <button class=\"start\" data-mapping-id=\"{id}\">Start</button>"
            ),
        };
        out.push_str(&format!(
            "<li class=\"app\" data-search=\"{search}\">{icon}<div><h2>{name}</h2>\
             <p>{description}</p>{actions}</div></li>\n",
            search = escape(&format!("{} {}", image.ui_name, image.description).to_lowercase()),
            name = escape(&image.ui_name),
            description = escape(&image.description),
        ));
    }
    out.push_str("</ul>");
    out
}

/// Start and Stop through `api/v1/containers/` (JSON, so a cross-site form cannot do it),
/// and the search box.
const APP_SCRIPT: &str = r#"
const say = (text) => { const s = document.getElementById('app-status'); if (s) s.textContent = text; };
document.querySelectorAll('button.start').forEach((b) => b.addEventListener('click', async () => {
  const id = b.dataset.mappingId;
  const res = document.querySelector(`select.resolution[data-for="${id}"]`);
  const body = {mapping_id: id, configurables: res ? {resolution: {resolution: res.value}} : {}};
  b.disabled = true; say('Starting… the app is being created and waited for.');
  const r = await fetch('api/v1/containers/', {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
  if (r.status === 201) { say('Started.'); location.reload(); return; }
  const e = await r.json().catch(() => ({message: r.statusText}));
  say('Could not start: ' + e.message); b.disabled = false;
}));
document.querySelectorAll('button.stop').forEach((b) => b.addEventListener('click', async () => {
  if (!confirm('Stop this application? Unsaved work inside it is lost.')) return;
  b.disabled = true; say('Stopping…');
  const r = await fetch(`api/v1/containers/${b.dataset.urlId}/`, {method: 'DELETE', credentials: 'same-origin'});
  if (r.status === 204) { say('Stopped.'); location.reload(); return; }
  const e = await r.json().catch(() => ({message: r.statusText}));
  say('Could not stop: ' + e.message); b.disabled = false;
}));
const search = document.getElementById('app-search');
if (search) search.addEventListener('input', () => {
  const q = search.value.toLowerCase();
  document.querySelectorAll('li.app').forEach((li) => { li.hidden = !li.dataset.search.includes(q); });
});
"#;

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

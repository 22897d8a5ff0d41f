//! Every path the hub serves, in one table, under `base_url`.

use crate::api::{
    applications, authorizations, groups, info, oauth, proxy, servers, services, share_codes,
    shares, shutdown, tokens, users,
};
use crate::error::{ApiError, PageError};
use crate::pages::{accept_share, home, login, set_password, tokens as token_page};
use crate::{pages, AppState};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;

/// The JupyterHub version whose REST API ferrohub serves, sent as `X-JupyterHub-Version`
/// and in `GET /hub/api` so JupyterHub's clients accept the hub.
pub const JUPYTERHUB_API_VERSION: &str = "6.1.0";

/// The REST API, relative to `/hub/api`.
fn api() -> Router<AppState> {
    let mut api = Router::new()
        .route("/", get(info::root))
        .route("/info", get(info::info))
        .route("/user", get(users::me))
        .route("/users", get(users::list).post(users::create_many))
        .route(
            "/users/{name}",
            get(users::get)
                .post(users::create)
                .patch(users::update)
                .delete(users::delete),
        )
        .route("/users/{name}/activity", post(users::activity))
        .route("/users/{name}/password-link", post(users::password_link))
        .route(
            "/users/{name}/server",
            post(servers::start).delete(servers::stop),
        )
        .route("/users/{name}/server/progress", get(servers::progress))
        .route(
            "/users/{name}/servers/{server_name}",
            get(servers::get_named)
                .put(servers::create_named)
                .patch(servers::update_named)
                .post(servers::start_named)
                .delete(servers::stop_named),
        )
        .route(
            "/users/{name}/servers/{server_name}/progress",
            get(servers::progress_named),
        )
        .route(
            "/users/{name}/tokens",
            get(tokens::list).post(tokens::create),
        )
        .route(
            "/users/{name}/tokens/{token_id}",
            get(tokens::get).delete(tokens::delete),
        )
        .route("/groups", get(groups::list).post(groups::create_many))
        .route(
            "/groups/{name}",
            get(groups::get).post(groups::create).delete(groups::delete),
        )
        .route(
            "/groups/{name}/users",
            post(groups::add_users).delete(groups::remove_users),
        )
        .route("/groups/{name}/properties", put(groups::set_properties))
        .route(
            "/proxy",
            get(proxy::get).post(proxy::check).patch(proxy::update),
        )
        .route("/shutdown", post(shutdown::post))
        .route("/shares/{owner}", get(shares::list_owner))
        .route("/share-codes/{owner}", get(share_codes::list_owner))
        .route("/users/{name}/shared", get(shares::list_user))
        .route("/groups/{name}/shared", get(shares::list_group));
    // The default server's share paths end with a slash (`/shares/alice/`).
    for suffix in ["{server_name}", ""] {
        api = api
            .route(
                &format!("/shares/{{owner}}/{suffix}"),
                get(shares::list_server)
                    .post(shares::grant)
                    .patch(shares::revoke)
                    .delete(shares::revoke_all),
            )
            .route(
                &format!("/share-codes/{{owner}}/{suffix}"),
                get(share_codes::list_server)
                    .post(share_codes::issue)
                    .delete(share_codes::revoke),
            )
            .route(
                &format!("/users/{{name}}/shared/{{owner}}/{suffix}"),
                get(shares::get_user).delete(shares::leave_user),
            )
            .route(
                &format!("/groups/{{name}}/shared/{{owner}}/{suffix}"),
                get(shares::get_group).delete(shares::leave_group),
            );
    }
    api.route("/services", get(services::list))
        .route(
            "/applications",
            get(applications::list).post(applications::create),
        )
        .route(
            "/applications/{id}",
            get(applications::get).delete(applications::delete),
        )
        .route(
            "/grants",
            get(applications::list_grants).post(applications::create_grant),
        )
        .route(
            "/grants/{mapping_id}",
            get(applications::get_grant).delete(applications::delete_grant),
        )
        .route("/users/{name}/applications", get(applications::for_user))
        .route("/services/{name}", get(services::get))
        .route(
            "/oauth2/authorize",
            get(oauth::authorize).post(oauth::confirm),
        )
        .route("/oauth2/token", post(oauth::token))
        .route("/authorizations/token", post(authorizations::token_post))
        .route("/authorizations/token/{token}", get(authorizations::token))
        .route(
            "/authorizations/cookie/{name}/{value}",
            get(authorizations::cookie),
        )
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

pub fn app(state: AppState) -> Router {
    let base = state.config.hub.base_url.clone();
    let pages = Router::new()
        .route("/", get(home::root))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", get(login::logout))
        .route("/oauth_login", get(login::oauth_login))
        .route("/oauth_callback", get(login::oauth_callback))
        .route("/home", get(home::home).post(home::home_action))
        .route("/spawn", get(home::spawn_form).post(home::spawn_submit))
        .route(
            "/spawn/{user}",
            get(home::spawn_form).post(home::spawn_submit),
        )
        .route(
            "/spawn/{user}/{server}",
            get(home::spawn_form).post(home::spawn_submit),
        )
        .route("/spawn-pending/{user}", get(home::spawn_pending))
        .route("/spawn-pending/{user}/{server}", get(home::spawn_pending))
        .route("/user-redirect/{*path}", get(home::user_redirect))
        .route("/user/{name}", get(home::user_url))
        .route("/user/{name}/", get(home::user_url))
        .route("/user/{name}/{*rest}", get(home::user_url))
        .route("/token", get(token_page::page).post(token_page::action))
        .route(
            "/accept-share",
            get(accept_share::page).post(accept_share::accept),
        )
        .route(
            "/set-password",
            get(set_password::form).post(set_password::submit),
        )
        .route("/static/{file}", get(pages::static_file))
        .layer(axum::middleware::map_response(pages::security_headers));
    let hub = Router::new()
        .route("/health", get(pages::health))
        .route("/error/{code}", get(pages::proxy_error))
        .route("/api/", get(info::root))
        .nest("/api", api())
        .merge(pages)
        .with_state(state.clone());
    // Requests for a server that reach the hub (no route: not running) come to `/user/...`,
    // where the browser does not send the hub's cookie (scoped to `/hub/`): send them to the
    // same path under `/hub/user/...`, which answers with the user in hand, as JupyterHub's
    // `PrefixRedirectHandler` and `UserUrlHandler` split it.
    let user_urls = Router::new()
        .route(&format!("{base}user/{{name}}"), get(home::into_hub))
        .route(&format!("{base}user/{{name}}/"), get(home::into_hub))
        .route(
            &format!("{base}user/{{name}}/{{*rest}}"),
            get(home::into_hub),
        )
        .with_state(state.clone());
    let root = Router::new()
        .route(&base, get(home::root))
        .with_state(state);
    let api_prefix = format!("{base}hub/api");
    Router::new()
        .nest(&format!("{base}hub"), hub)
        .merge(user_urls)
        .merge(root)
        .fallback(move |uri: Uri| {
            let api_prefix = api_prefix.clone();
            async move {
                if uri.path().starts_with(&api_prefix) {
                    api_not_found().await.into_response()
                } else {
                    PageError {
                        status: StatusCode::NOT_FOUND,
                        message: format!("There is nothing at {}.", uri.path()),
                    }
                    .into_response()
                }
            }
        })
        .layer(axum::middleware::map_response(version_header))
        .layer(axum::middleware::from_fn(access_log))
}

/// One log line per request, as JupyterHub writes them: failures where an admin looks
/// (5xx as errors, 4xx as warnings), the rest at debug level.
async fn access_log(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match status {
        500.. => tracing::error!("{status} {method} {path} {ms:.1}ms"),
        400..=499 => tracing::warn!("{status} {method} {path} {ms:.1}ms"),
        _ => tracing::debug!("{status} {method} {path} {ms:.1}ms"),
    }
    response
}

async fn api_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "No such API endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed on this endpoint",
    )
}

async fn version_header(mut response: Response) -> Response {
    response.headers_mut().insert(
        "x-jupyterhub-version",
        HeaderValue::from_static(JUPYTERHUB_API_VERSION),
    );
    response
}

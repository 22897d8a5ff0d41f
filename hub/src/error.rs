//! The hub's one mapping from errors to HTTP responses: JSON `{"status", "message"}` under
//! `/hub/api`, a readable HTML page elsewhere. A 500 says little; the detail goes to the log.

use crate::applications::AppError;
use crate::pages::render_error_page;
use crate::servers::ServerError;
use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use ferrohub_shared::api_error::ApiErrorBody;

/// An error answered to a client of the REST API.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, what)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(what) => {
                ApiError::new(StatusCode::CONFLICT, format!("{what} already exists"))
            }
            StoreError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            other => {
                tracing::error!("storage failed: {other}");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; the hub's log has the details",
                )
            }
        }
    }
}

impl From<ServerError> for ApiError {
    fn from(err: ServerError) -> Self {
        let status = match &err {
            ServerError::Store(_) => {
                let ServerError::Store(e) = err else {
                    unreachable!()
                };
                return e.into();
            }
            ServerError::NoSuchServer(_) => StatusCode::NOT_FOUND,
            ServerError::AlreadyRunning(_)
            | ServerError::Pending { .. }
            | ServerError::NamedServersDisabled
            | ServerError::BadName(_)
            | ServerError::NamedServerLimit { .. } => StatusCode::BAD_REQUEST,
            ServerError::TooManySpawns | ServerError::ActiveServerLimit => {
                StatusCode::TOO_MANY_REQUESTS
            }
            // The reason a server failed to start is the user's to read (JupyterHub shows it
            // too); the hub's log has the same message.
            ServerError::SpawnFailed(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, err.to_string())
    }
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        let status = match &err {
            AppError::Store(_) => match err {
                AppError::Store(e) => return e.into(),
                _ => unreachable!("matched just above"),
            },
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::NothingToRevoke(_) => StatusCode::NOT_FOUND,
            // The engine is the hub's to reach, not the client's mistake.
            AppError::Engine(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::NotRegistered(_)
            | AppError::NoSuchImage(_)
            | AppError::NoSuchHolder(_)
            | AppError::Invalid(_) => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ApiErrorBody {
            status: self.status.as_u16(),
            message: self.message,
        };
        (self.status, axum::Json(body)).into_response()
    }
}

/// An error answered to a browser: the same information as a page.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        PageError {
            status,
            message: message.into(),
        }
    }
}

/// Pages map errors through the API's mapping, so both say the same thing.
impl From<ApiError> for PageError {
    fn from(api: ApiError) -> Self {
        PageError {
            status: api.status,
            message: api.message,
        }
    }
}

impl From<StoreError> for PageError {
    fn from(err: StoreError) -> Self {
        ApiError::from(err).into()
    }
}

impl From<ServerError> for PageError {
    fn from(err: ServerError) -> Self {
        ApiError::from(err).into()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        (
            self.status,
            Html(render_error_page(self.status, &self.message)),
        )
            .into_response()
    }
}

//! The API's own extractors for the path, the query and the body: axum's, with their
//! rejections (a path that does not decode to UTF-8, a repeated query parameter, a body over
//! the size limit) answered in JupyterHub's `{"status", "message"}` form instead of axum's
//! plain text.

use super::bad_request;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// Path parameters, as [`axum::extract::Path`].
pub struct Path<T>(pub T);

/// Query parameters, as [`axum::extract::Query`].
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(t)| Path(t))
            .map_err(|e| bad_request(e.body_text()))
    }
}

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(t)| Query(t))
            .map_err(|e| bad_request(e.body_text()))
    }
}

/// A request body, read whole and parsed by [`super::parse_body`] or
/// [`super::parse_optional_body`], so every malformed body gets the same kind of 400.
pub struct JsonBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(JsonBody)
            .map_err(|e| ApiError::new(e.status(), e.body_text()))
    }
}

//! JupyterHub's REST API under `/hub/api`, one module per resource. Request bodies are read
//! as bytes and parsed here, so every malformed body gets the same kind of 400.

pub mod applications;
pub mod authorizations;
pub mod extract;
pub mod groups;
pub mod info;
pub mod models;
pub mod oauth;
pub mod pagination;
pub mod proxy;
pub mod servers;
pub mod services;
pub mod share_codes;
pub mod shares;
pub mod shutdown;
pub mod tokens;
pub mod users;

use crate::error::ApiError;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

pub use extract::JsonBody;

pub fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, message)
}

/// Parse a JSON body; a missing, malformed or mistyped one is a 400 naming the field.
pub fn parse_body<T: DeserializeOwned>(body: &JsonBody) -> Result<T, ApiError> {
    parse_optional_body(body)?.ok_or_else(|| bad_request("A JSON request body is required"))
}

/// Parse a JSON body that may be absent (empty, or `null`).
pub fn parse_optional_body<T: DeserializeOwned>(body: &JsonBody) -> Result<Option<T>, ApiError> {
    let body = &body.0;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| bad_request(format!("Request body is not valid JSON: {e}")))?;
    if value.is_null() {
        return Ok(None);
    }
    serde_path_to_error::deserialize(value)
        .map(Some)
        .map_err(|e| {
            let path = e.path().to_string();
            if path == "." {
                bad_request(format!("Invalid request body: {}", e.inner()))
            } else {
                bad_request(format!("Invalid request body at `{path}`: {}", e.inner()))
            }
        })
}

//! JupyterHub's error body: `{"status": 404, "message": "No such user"}`.

use serde::{Deserialize, Serialize};

/// The JSON every ferrohub API answers an error with, as JupyterHub and
/// configurable-http-proxy do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub status: u16,
    pub message: String,
}

//! A client for the configurable-http-proxy REST API (`/api/routes`), which `ferrohub-proxy`
//! and configurable-http-proxy both serve. The hub and the manager use it to add and remove
//! routes; it works against either proxy.

use crate::routes::{RouteEntry, RouteSpec};
use crate::secret::Secret;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// What went wrong talking to the proxy.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("cannot reach the proxy API at {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the proxy API at {url} refused the request ({status}): {body}")]
    Refused {
        url: String,
        status: u16,
        body: String,
    },
    #[error("the proxy API at {url} answered something that is not a route table: {source}")]
    BadResponse {
        url: String,
        #[source]
        source: reqwest::Error,
    },
}

/// A handle to one proxy's REST API. Cloning is shallow (the connection pool is shared).
#[derive(Clone, Debug)]
pub struct ProxyClient {
    api_url: String,
    token: Secret,
    http: reqwest::Client,
}

impl ProxyClient {
    /// `api_url` is the proxy's API root, e.g. `http://127.0.0.1:8001`.
    pub fn new(api_url: &str, token: Secret) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("a plain HTTP client always builds");
        ProxyClient {
            api_url: api_url.trim_end_matches('/').to_owned(),
            token,
            http,
        }
    }

    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// The token this client authenticates with.
    pub fn token(&self) -> &Secret {
        &self.token
    }

    fn route_url(&self, spec: &RouteSpec) -> String {
        format!("{}/api/routes{}", self.api_url, spec.as_str())
    }

    /// Every route the proxy holds, keyed by spec as the proxy reports it.
    pub async fn get_routes(&self) -> Result<BTreeMap<String, RouteEntry>, ProxyError> {
        let url = format!("{}/api/routes", self.api_url);
        let resp = self.send(self.http.get(&url), &url).await?;
        resp.json()
            .await
            .map_err(|source| ProxyError::BadResponse { url, source })
    }

    /// Add or replace the route `spec` -> `target`, with extra `data` kept by the proxy.
    pub async fn add_route(
        &self,
        spec: &RouteSpec,
        target: &str,
        data: Map<String, Value>,
    ) -> Result<(), ProxyError> {
        let mut body = data;
        body.insert("target".into(), Value::String(target.to_owned()));
        let url = self.route_url(spec);
        self.send(self.http.post(&url).json(&body), &url).await?;
        Ok(())
    }

    /// Remove the route `spec`. Removing a route that does not exist is not an error.
    pub async fn delete_route(&self, spec: &RouteSpec) -> Result<(), ProxyError> {
        let url = self.route_url(spec);
        match self.send(self.http.delete(&url), &url).await {
            Err(ProxyError::Refused { status: 404, .. }) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Ask the proxy to refuse the proxy session `session_id` until `expires` (Unix seconds).
    /// Only `ferrohub-proxy` has this endpoint; configurable-http-proxy answers 404.
    pub async fn revoke_session(&self, session_id: &str, expires: i64) -> Result<(), ProxyError> {
        let url = format!("{}/api/revoked-sessions", self.api_url);
        let body = serde_json::json!({"session_id": session_id, "expires": expires});
        self.send(self.http.post(&url).json(&body), &url).await?;
        Ok(())
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<reqwest::Response, ProxyError> {
        let resp = req
            .header("Authorization", format!("token {}", self.token.expose()))
            .send()
            .await
            .map_err(|source| ProxyError::Unreachable {
                url: url.to_owned(),
                source,
            })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body = resp.text().await.unwrap_or_default();
        Err(ProxyError::Refused {
            url: url.to_owned(),
            status: status.as_u16(),
            body: body.chars().take(500).collect(),
        })
    }
}

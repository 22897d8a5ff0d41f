//! Tells the hub when the server was last used (`POST JUPYTERHUB_ACTIVITY_URL`, as
//! jupyterhub-singleuser does), so the idle culler and `/hub/admin` see real use even when
//! traffic bypasses the proxy's activity tracking.

use crate::config::ManagerConfig;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// The last time someone used this server. Cloning is shallow.
#[derive(Clone, Default)]
pub struct Activity {
    /// Unix milliseconds of the last use; 0 before any.
    last: Arc<AtomicI64>,
}

impl Activity {
    /// Record a use now.
    pub fn touch(&self) {
        self.last
            .store(Utc::now().timestamp_millis(), Ordering::Relaxed);
    }

    /// The last use, if any.
    pub fn last(&self) -> Option<DateTime<Utc>> {
        match self.last.load(Ordering::Relaxed) {
            0 => None,
            ms => DateTime::from_timestamp_millis(ms),
        }
    }

    /// Report new activity to the hub every `activity_interval` until the process ends. A
    /// failed report is logged and retried with the next one; it never stops the server.
    pub async fn report_forever(self, config: Arc<ManagerConfig>, http: reqwest::Client) {
        let Some(url) = config.activity_url.clone() else {
            return;
        };
        let mut reported = None;
        let mut ticks = tokio::time::interval(config.activity_interval);
        loop {
            ticks.tick().await;
            let Some(last) = self.last() else { continue };
            if reported == Some(last) {
                continue;
            }
            let stamp = last.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let body = json!({
                "servers": { &config.server_name: { "last_activity": stamp } },
                "last_activity": stamp,
            });
            let sent = http
                .post(&url)
                .header(
                    "Authorization",
                    format!("token {}", config.api_token.expose()),
                )
                .json(&body)
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => reported = Some(last),
                Ok(r) => {
                    tracing::warn!(%url, status = %r.status(), "the hub refused an activity report")
                }
                Err(e) => tracing::warn!(%url, "could not report activity to the hub: {e}"),
            }
        }
    }
}

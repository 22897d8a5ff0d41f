//! Delivery of proxy-session revocations. Every end of a hub session (logout, `ferrohub
//! lock`, deleting a user) queues the proxy session ids in the database in the transaction
//! that ends it; the hub then sends them to the proxy's `/api/revoked-sessions`: right away
//! where it ended them itself ([`deliver_now`]), and for the rest at start, on each proxy
//! check ([`run`]) and when an admin checks or replaces the proxy (`/hub/api/proxy`). Each one the proxy took is forgotten; a proxy
//! that is down keeps them queued until it answers again, so a revocation is never lost to
//! an unreachable proxy or a restart of either side.

use super::Proxy;
use crate::store::{Store, StoreError};
use chrono::Utc;
use ferrohub_shared::proxy_client::ProxyError;
use std::time::Duration;

/// What became of one queued revocation.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Taken by the proxy, or no longer needed: forget it.
    Done,
    /// Try again at the next delivery.
    Retry,
}

/// How a failed `POST /api/revoked-sessions` is treated.
fn outcome_of(result: &Result<(), ProxyError>) -> Outcome {
    match result {
        Ok(()) => Outcome::Done,
        // configurable-http-proxy has no such endpoint and never checks proxy sessions:
        // nothing to revoke there.
        Err(ProxyError::Refused { status: 404, .. }) => Outcome::Done,
        // The proxy refuses this request as such; sending it again would not change that.
        Err(ProxyError::Refused {
            status: 400 | 422, ..
        }) => Outcome::Done,
        // Unreachable, a wrong token (until `PATCH /hub/api/proxy` fixes it), a server error.
        Err(_) => Outcome::Retry,
    }
}

/// Send every queued revocation to the proxy; returns how many were delivered. Stops at the
/// first that must be retried (the proxy is likely down for the rest too).
pub async fn deliver(store: &dyn Store, proxy: &Proxy) -> Result<usize, StoreError> {
    let pending = store.pending_proxy_revocations().await?;
    if pending.is_empty() {
        return Ok(0);
    }
    let client = proxy.client();
    let now = Utc::now();
    let mut done = Vec::new();
    let mut delivered = 0;
    for revocation in &pending {
        if revocation.expires_at <= now {
            // The proxy refuses an expired session cookie anyway.
            done.push(revocation.id);
            continue;
        }
        let expires = revocation.expires_at.timestamp();
        let result = client.revoke_session(&revocation.sid, expires).await;
        match outcome_of(&result) {
            Outcome::Done => {
                match result {
                    Ok(()) => delivered += 1,
                    Err(ProxyError::Refused { status: 404, .. }) => tracing::debug!(
                        "the proxy does not take revoked sessions (not ferrohub-proxy?)"
                    ),
                    Err(e) => {
                        tracing::warn!("dropping a proxy session revocation the proxy refused: {e}")
                    }
                }
                done.push(revocation.id);
            }
            Outcome::Retry => {
                if let Err(e) = result {
                    tracing::warn!(
                        queued = pending.len() - done.len(),
                        "could not deliver proxy session revocations yet; will retry: {e}"
                    );
                }
                break;
            }
        }
    }
    store.forget_proxy_revocations(&done).await?;
    if delivered > 0 {
        tracing::debug!(
            delivered,
            "proxy session revocations delivered to the proxy"
        );
    }
    Ok(delivered)
}

/// [`deliver`] right after ending sessions, so that the proxy refuses them at once if it is
/// up. Best effort: whatever could not be delivered (or a store failure, logged) leaves the
/// revocations queued for [`run`], and the caller goes on.
pub async fn deliver_now(store: &dyn Store, proxy: &Proxy) {
    if let Err(e) = deliver(store, proxy).await {
        tracing::error!("cannot read or update queued proxy session revocations: {e}");
    }
}

/// Deliver at once, then every `check_running_interval` seconds until `stop` turns true.
pub async fn run(
    store: std::sync::Arc<dyn Store>,
    proxy: std::sync::Arc<Proxy>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let period = Duration::from_secs(proxy.config.proxy.check_running_interval);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        deliver_now(store.as_ref(), &proxy).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16) -> Result<(), ProxyError> {
        Err(ProxyError::Refused {
            url: "http://127.0.0.1:1/api/revoked-sessions".into(),
            status,
            body: String::new(),
        })
    }

    #[test]
    fn only_answers_that_can_change_are_retried() {
        assert_eq!(outcome_of(&Ok(())), Outcome::Done);
        assert_eq!(outcome_of(&refused(404)), Outcome::Done);
        assert_eq!(outcome_of(&refused(400)), Outcome::Done);
        for status in [401, 403, 500, 502, 503] {
            assert_eq!(outcome_of(&refused(status)), Outcome::Retry, "{status}");
        }
    }
}

//! `instant` (built only with the `test-util` feature): servers that are ready at once, all
//! answered by one small HTTP listener inside the hub. It measures the hub's own cost per
//! spawn (lifecycle, store, proxy route) in benchmarks, free of any real server's start-up.

use super::{Exited, SpawnError, SpawnRequest, Spawner, Started};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tokio::sync::OnceCell;

#[derive(Default)]
pub struct InstantSpawner {
    listener: OnceCell<SocketAddr>,
    next: AtomicU64,
    live: Mutex<HashSet<u64>>,
}

impl InstantSpawner {
    /// The shared listener's address, started on first use.
    async fn address(&self) -> Result<SocketAddr, SpawnError> {
        self.listener
            .get_or_try_init(|| async {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let addr = listener.local_addr()?;
                let app = axum::Router::new().fallback(|| async { "ok" });
                tokio::spawn(async move { axum::serve(listener, app).await });
                Ok::<_, std::io::Error>(addr)
            })
            .await
            .copied()
            .map_err(SpawnError::Io)
    }

    fn id(state: &Value) -> Result<u64, SpawnError> {
        state["instant"]
            .as_u64()
            .ok_or_else(|| SpawnError::BadState(format!("not an instant server: {state}")))
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashSet<u64>> {
        self.live
            .lock()
            .expect("never poisoned: no panics while held")
    }
}

#[async_trait::async_trait]
impl Spawner for InstantSpawner {
    async fn start(&self, _req: &SpawnRequest) -> Result<Started, SpawnError> {
        let addr = self.address().await?;
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.live().insert(id);
        Ok(Started {
            url: format!("http://{addr}"),
            state: json!({ "instant": id }),
        })
    }

    async fn poll(&self, state: &Value) -> Result<Option<Exited>, SpawnError> {
        let id = Self::id(state)?;
        Ok((!self.live().contains(&id)).then(|| Exited {
            code: None,
            reason: "is gone (instant servers end with the hub)".into(),
        }))
    }

    async fn stop(&self, state: &Value) -> Result<(), SpawnError> {
        let id = Self::id(state)?;
        self.live().remove(&id);
        Ok(())
    }
}

//! The proxy's routes: the table, request paths, targets and activity, and [`Routes`], the one
//! handle through which the API edits the table (and the routes file follows).

pub mod activity;
pub mod path;
pub mod table;
pub mod target;

use crate::persist::{PersistError, Persister, StoredRoute};
use ferrohub_shared::routes::RouteSpec;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use table::{Route, RouteTable};
pub use target::{Target, TargetError};

/// The live route table and, with `--routes-file`, its durable copy. Cloning is shallow.
///
/// Edits go table first, then file: a change is visible to traffic at once, and the API only
/// answers once the file holds it too.
#[derive(Clone)]
pub struct Routes {
    table: Arc<RwLock<RouteTable>>,
    persister: Option<Arc<Persister>>,
}

impl Routes {
    pub fn new(table: RouteTable, persister: Option<Persister>) -> Self {
        Routes {
            table: Arc::new(RwLock::new(table)),
            persister: persister.map(Arc::new),
        }
    }

    // A panic while holding the lock cannot leave the table half-edited (edits are single
    // map operations), so a poisoned lock is still safe to use.
    fn read(&self) -> RwLockReadGuard<'_, RouteTable> {
        self.table.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, RouteTable> {
        self.table.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn lookup<S: AsRef<str>>(&self, host: Option<&str>, segments: &[S]) -> Option<Arc<Route>> {
        self.read().lookup(host, segments)
    }

    pub fn get(&self, spec: &RouteSpec) -> Option<Arc<Route>> {
        self.read().get(spec).cloned()
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    pub fn host_routing(&self) -> bool {
        self.read().host_routing()
    }

    /// Every route, sorted by spec, as `GET /api/routes` and the routes file write them.
    pub fn snapshot(&self) -> BTreeMap<String, Value> {
        self.read()
            .iter()
            .map(|r| (r.spec.to_string(), r.to_json()))
            .collect()
    }

    /// Routes whose last activity is strictly before `millis` (CHP's `inactive_since`).
    pub fn inactive_since(&self, millis: i64) -> BTreeMap<String, Value> {
        self.read()
            .iter()
            .filter(|r| r.activity.millis() < millis)
            .map(|r| (r.spec.to_string(), r.to_json()))
            .collect()
    }

    /// Add or replace a route and wait until the routes file (if any) holds it.
    pub async fn add(
        &self,
        spec: RouteSpec,
        target: Target,
        data: Map<String, Value>,
    ) -> Result<(), PersistError> {
        self.write().insert(spec, target, data, None);
        self.persist().await
    }

    /// Remove a route; `false` when there was none. Waits for the routes file like [`add`].
    pub async fn remove(&self, spec: &RouteSpec) -> Result<bool, PersistError> {
        if self.write().remove(spec).is_none() {
            return Ok(false);
        }
        self.persist().await?;
        Ok(true)
    }

    async fn persist(&self) -> Result<(), PersistError> {
        let Some(p) = &self.persister else {
            return Ok(());
        };
        let generation = p.mark_changed();
        p.flush(generation, || self.snapshot()).await
    }

    /// Fill an empty table from stored routes (start-up).
    pub fn load(&self, stored: Vec<StoredRoute>) {
        let mut table = self.write();
        for s in stored {
            table.insert(s.spec, s.target, s.data, Some(s.last_activity));
        }
    }
}

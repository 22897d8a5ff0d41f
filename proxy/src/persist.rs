//! `--routes-file`: the route table kept on disk so a restarted proxy serves every route
//! without the hub's help. The file is what `GET /api/routes` answers, written atomically.

use crate::routes::activity::{now_millis, parse_iso};
use crate::routes::{Target, TargetError};
use ferrohub_shared::routes::{RouteSpec, RouteSpecError};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What can go wrong with the routes file.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("cannot read the routes file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the routes file {path} is not a JSON object of routes ({source}); fix or remove it")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("the routes file {path} has a bad route {spec:?}: {reason}; fix or remove it")]
    BadRoute {
        path: PathBuf,
        spec: String,
        reason: String,
    },
    #[error(
        "the revoked-sessions file {path} is not a JSON object of ids ({source}); fix or remove it"
    )]
    CorruptRevoked {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot write the routes file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A route as read back from the file.
#[derive(Debug)]
pub struct StoredRoute {
    pub spec: RouteSpec,
    pub target: Target,
    pub data: Map<String, Value>,
    pub last_activity: i64,
}

/// Read the routes file. A missing file is an empty table (first start); anything unreadable
/// is an error, because starting with fewer routes than were promised would silently 404.
pub fn load(path: &Path) -> Result<Vec<StoredRoute>, PersistError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(PersistError::Read {
                path: path.to_owned(),
                source,
            })
        }
    };
    let routes: BTreeMap<String, Map<String, Value>> =
        serde_json::from_slice(&bytes).map_err(|source| PersistError::Corrupt {
            path: path.to_owned(),
            source,
        })?;
    let bad = |spec: &str, reason: String| PersistError::BadRoute {
        path: path.to_owned(),
        spec: spec.to_owned(),
        reason,
    };
    let mut out = Vec::with_capacity(routes.len());
    for (key, mut data) in routes {
        let spec = RouteSpec::parse(&key).map_err(|e: RouteSpecError| bad(&key, e.to_string()))?;
        let target = match data.get("target") {
            Some(Value::String(t)) => {
                Target::parse(t).map_err(|e: TargetError| bad(&key, e.to_string()))?
            }
            _ => return Err(bad(&key, "no string `target`".into())),
        };
        let last_activity = match data.remove("last_activity") {
            Some(Value::String(s)) => parse_iso(&s).map(|t| t.timestamp_millis()),
            _ => None,
        }
        .unwrap_or_else(now_millis);
        out.push(StoredRoute {
            spec,
            target,
            data,
            last_activity,
        });
    }
    Ok(out)
}

/// Replace `path` with `bytes` so that a crash leaves either the old or the new file, never a
/// torn one: write a temporary file beside it, fsync it, rename it over, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Coalescing writer. Each edit takes a generation number; [`Persister::flush`] returns once
/// the file holds that generation or a later one. Concurrent edits queue on one lock and the
/// first writer's snapshot covers all of them, so a burst of N additions (a hub re-adding
/// every route at start-up) costs far fewer than N full rewrites.
#[derive(Debug)]
pub struct Persister {
    path: PathBuf,
    requested: AtomicU64,
    written: tokio::sync::Mutex<u64>,
}

impl Persister {
    pub fn new(path: PathBuf) -> Self {
        Persister {
            path,
            requested: AtomicU64::new(0),
            written: tokio::sync::Mutex::new(0),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Call after the table has changed; returns the generation to flush.
    pub fn mark_changed(&self) -> u64 {
        self.requested.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Make the file hold at least `generation`. `snapshot` is taken under the writer lock,
    /// after reading the latest generation, so it contains every edit numbered up to it.
    pub async fn flush(
        &self,
        generation: u64,
        snapshot: impl FnOnce() -> BTreeMap<String, Value>,
    ) -> Result<(), PersistError> {
        let mut written = self.written.lock().await;
        if *written >= generation {
            return Ok(());
        }
        let covers = self.requested.load(Ordering::SeqCst);
        let mut bytes = serde_json::to_vec_pretty(&snapshot()).expect("JSON values serialise");
        bytes.push(b'\n');
        let path = self.path.clone();
        let res = tokio::task::spawn_blocking(move || write_atomic(&path, &bytes))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        res.map_err(|source| PersistError::Write {
            path: self.path.clone(),
            source,
        })?;
        *written = covers;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::{RouteTable, Routes};

    fn tempdir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "ferrohub-proxy-persist-{}-{}",
            std::process::id(),
            ferrohub_shared::secret::random_hex(4)
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[tokio::test]
    async fn routes_round_trip_through_the_file() {
        let dir = tempdir();
        let file = dir.join("routes.json");
        let routes = Routes::new(RouteTable::new(false), Some(Persister::new(file.clone())));
        let mut data = Map::new();
        data.insert("target".into(), "http://127.0.0.1:9/x".into());
        data.insert("user".into(), "alice".into());
        data.insert("nested".into(), serde_json::json!({"a": [1, 2]}));
        let spec = RouteSpec::parse("/user/alice/").unwrap();
        routes
            .add(
                spec.clone(),
                Target::parse("http://127.0.0.1:9/x").unwrap(),
                data,
            )
            .await
            .unwrap();
        let before = routes.snapshot();

        let loaded = load(&file).unwrap();
        let again = Routes::new(RouteTable::new(false), None);
        again.load(loaded);
        assert_eq!(
            again.snapshot(),
            before,
            "data and last_activity survive verbatim"
        );

        assert!(routes.remove(&spec).await.unwrap());
        assert!(load(&file).unwrap().is_empty());
        let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_file_is_empty_and_a_corrupt_one_is_an_error() {
        let dir = tempdir();
        assert!(load(&dir.join("absent.json")).unwrap().is_empty());
        let f = dir.join("bad.json");
        std::fs::write(&f, b"{\"/a\": {\"target\": ").unwrap();
        assert!(matches!(load(&f), Err(PersistError::Corrupt { .. })));
        std::fs::write(&f, br#"{"/a": {"target": "gopher://x"}}"#).unwrap();
        let err = load(&f).unwrap_err();
        assert!(matches!(err, PersistError::BadRoute { .. }), "{err}");
        assert!(err.to_string().contains("fix or remove it"));
        std::fs::write(&f, br#"{"/a/../b": {"target": "http://x"}}"#).unwrap();
        assert!(matches!(load(&f), Err(PersistError::BadRoute { .. })));
        std::fs::remove_dir_all(dir).unwrap();
    }
}

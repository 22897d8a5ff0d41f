//! Revoked proxy sessions: the session ids the hub has ended (logout) before their expiry.
//! A private route refuses a session whose id is here, so a copied cookie stops working at
//! logout even though its signature is still good.
//!
//! Each id is kept until the session would have expired anyway (after that its cookie is
//! refused for being expired), so memory is bounded by the logins of one session lifetime;
//! [`MAX_IDS`] caps it outright. With `--routes-file PATH` the ids are kept beside it in
//! `PATH.revoked-sessions.json` (`{"id": expiry in Unix seconds}`, written atomically), so a
//! restarted proxy still refuses them; the routes file keeps configurable-http-proxy's form.

use crate::persist::{write_atomic, PersistError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// The most ids kept; past it the ones expiring soonest go first.
pub const MAX_IDS: usize = 100_000;

/// The revoked ids and, optionally, their file. Shared through the proxy's state.
#[derive(Debug, Default)]
pub struct Revoked {
    ids: RwLock<HashMap<String, i64>>,
    file: Option<PathBuf>,
    /// Serialises writers so the file always holds a whole, recent snapshot.
    writing: tokio::sync::Mutex<()>,
}

/// Where the ids of a proxy with `--routes-file routes_file` are kept.
pub fn file_beside(routes_file: &Path) -> PathBuf {
    let mut name = routes_file.file_name().unwrap_or_default().to_os_string();
    name.push(".revoked-sessions.json");
    routes_file.with_file_name(name)
}

impl Revoked {
    /// Load from `file` if given (a missing file is an empty set), dropping expired ids.
    pub fn load(file: Option<PathBuf>, now: i64) -> Result<Self, PersistError> {
        let mut ids = HashMap::new();
        if let Some(path) = &file {
            match std::fs::read(path) {
                Ok(bytes) => {
                    ids = serde_json::from_slice::<HashMap<String, i64>>(&bytes).map_err(
                        |source| PersistError::CorruptRevoked {
                            path: path.clone(),
                            source,
                        },
                    )?;
                    ids.retain(|_, exp| *exp > now);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(PersistError::Read {
                        path: path.clone(),
                        source,
                    })
                }
            }
        }
        Ok(Revoked {
            ids: RwLock::new(ids),
            file,
            writing: Default::default(),
        })
    }

    pub fn contains(&self, id: &str) -> bool {
        self.ids
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.ids.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Refuse `id` until `exp` (Unix seconds); returns once the file (if any) holds it.
    /// An id already expired at `now` needs nothing.
    pub async fn add(&self, id: String, exp: i64, now: i64) -> Result<(), PersistError> {
        if exp <= now {
            return Ok(());
        }
        let _writer = self.writing.lock().await;
        let snapshot = {
            let mut ids = self.ids.write().unwrap_or_else(|e| e.into_inner());
            ids.retain(|_, e| *e > now);
            ids.insert(id, exp);
            if ids.len() > MAX_IDS {
                let mut by_expiry: Vec<(i64, String)> =
                    ids.iter().map(|(k, e)| (*e, k.clone())).collect();
                by_expiry.sort();
                for (_, k) in by_expiry.into_iter().take(ids.len() - MAX_IDS) {
                    ids.remove(&k);
                }
            }
            self.file.as_ref().map(|_| ids.clone())
        };
        let (Some(path), Some(snapshot)) = (self.file.clone(), snapshot) else {
            return Ok(());
        };
        let mut bytes = serde_json::to_vec(&snapshot).expect("a map serialises");
        bytes.push(b'\n');
        let target = path.clone();
        tokio::task::spawn_blocking(move || write_atomic(&target, &bytes))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
            .map_err(|source| PersistError::Write { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ids_persist_until_they_expire() {
        let dir = std::env::temp_dir().join(format!(
            "ferrohub-revoked-{}",
            ferrohub_shared::secret::random_hex(4)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = file_beside(&dir.join("routes.json"));
        assert_eq!(file, dir.join("routes.json.revoked-sessions.json"));
        let r = Revoked::load(Some(file.clone()), 0).unwrap();
        r.add("a".into(), 100, 0).await.unwrap();
        r.add("b".into(), 200, 0).await.unwrap();
        r.add("old".into(), 5, 10).await.unwrap();
        assert!(r.contains("a") && !r.contains("old"));
        let again = Revoked::load(Some(file.clone()), 150).unwrap();
        assert!(
            again.contains("b") && !again.contains("a"),
            "expired ids are dropped"
        );
        std::fs::write(&file, b"[").unwrap();
        assert!(matches!(
            Revoked::load(Some(file), 0),
            Err(PersistError::CorruptRevoked { .. })
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}

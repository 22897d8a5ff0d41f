//! The key that signs the hub's cookies: from `JPY_COOKIE_SECRET`, else from
//! `cookie_secret_file`, created once with mode 0600 as JupyterHub does.

use ferrohub_shared::secret::random_hex;
use std::fmt;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The raw secret bytes. `Debug` never shows them.
#[derive(Clone)]
pub struct CookieSecret(Vec<u8>);

impl fmt::Debug for CookieSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CookieSecret({} bytes)", self.0.len())
    }
}

impl CookieSecret {
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    #[cfg(test)]
    pub fn for_tests(bytes: &[u8]) -> Self {
        CookieSecret(bytes.to_vec())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CookieSecretError {
    #[error("cannot read or create the cookie secret file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the cookie secret file {path} can be read by other users (mode {mode:o}); \
         run `chmod 600 {path}` and start again"
    )]
    InsecurePermissions { path: PathBuf, mode: u32 },
    #[error("{origin} does not hold a hex-encoded secret of at least 32 bytes")]
    Malformed { origin: String },
}

/// Load the secret. `from_env` is the value of `JPY_COOKIE_SECRET`, which wins when set.
pub fn load_or_create(
    path: &Path,
    from_env: Option<&str>,
) -> Result<CookieSecret, CookieSecretError> {
    if let Some(hex_value) = from_env.filter(|v| !v.trim().is_empty()) {
        return decode(hex_value, ferrohub_shared::env::JPY_COOKIE_SECRET);
    }
    let io = |source| CookieSecretError::Io {
        path: path.to_owned(),
        source,
    };
    match std::fs::metadata(path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(CookieSecretError::InsecurePermissions {
                    path: path.to_owned(),
                    mode,
                });
            }
            let text = std::fs::read_to_string(path).map_err(io)?;
            decode(&text, &path.display().to_string())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let value = random_hex(32);
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(io)?;
            file.write_all(format!("{value}\n").as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(io)?;
            tracing::info!(path = %path.display(), "wrote a new cookie secret");
            decode(&value, &path.display().to_string())
        }
        Err(e) => Err(io(e)),
    }
}

fn decode(value: &str, origin: &str) -> Result<CookieSecret, CookieSecretError> {
    match hex::decode(value.trim()) {
        Ok(bytes) if bytes.len() >= 32 => Ok(CookieSecret(bytes)),
        _ => Err(CookieSecretError::Malformed {
            origin: origin.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ferrohub-secret-{}", random_hex(6)));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn created_once_with_mode_0600_then_reused() {
        let dir = temp_dir();
        let path = dir.join("secret");
        let first = load_or_create(&path, None).unwrap();
        assert_eq!(first.bytes().len(), 32);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let second = load_or_create(&path, None).unwrap();
        assert_eq!(first.bytes(), second.bytes());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn readable_by_others_is_refused_with_the_fix() {
        let dir = temp_dir();
        let path = dir.join("secret");
        load_or_create(&path, None).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_or_create(&path, None).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn environment_wins_and_must_be_hex() {
        let dir = temp_dir();
        let path = dir.join("never-created");
        let hex_value = "ab".repeat(32);
        let s = load_or_create(&path, Some(&hex_value)).unwrap();
        assert_eq!(s.bytes(), &[0xab; 32][..]);
        assert!(!path.exists());
        assert!(load_or_create(&path, Some("not hex")).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}

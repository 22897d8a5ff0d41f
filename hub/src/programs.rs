//! Finding the programs the hub starts (the proxy, the manager).

use std::path::PathBuf;

/// The program to run for `name`: a bare name (no `/`) is looked up beside the running
/// `ferrohub` binary first, so an unpacked release works without touching `PATH`; otherwise
/// (or when nothing is there) the name is returned for `PATH` lookup.
pub fn resolve(name: &str) -> PathBuf {
    if !name.contains('/') {
        if let Some(beside) = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join(name)))
            .filter(|p| p.is_file())
        {
            return beside;
        }
    }
    PathBuf::from(name)
}

//! `ferrohub-manager`: the per-user application manager. Not built yet; see the project's issues.

fn main() {
    eprintln!(
        "ferrohub-manager {}: the per-user manager is not implemented yet",
        ferrohub_shared::VERSION
    );
    std::process::exit(2);
}

//! The end-to-end test harness: real PostgreSQL (a fresh database per test, cloned from a
//! migrated template), real Redis (a key namespace per test), the real API (in-process router or
//! the built binary) and, for email, a capturing SMTP server.

pub mod api;
pub mod db;
pub mod fixtures;
pub mod private_pg;
pub mod process;
pub mod redis_ns;
pub mod smtp;
pub mod sql_count;
pub mod worker_harness;

pub use api::{Gql, TestApi};
pub use db::TestDb;
pub use redis_ns::TestRedis;

/// The directory holding the built binaries (`target/debug`), found from the test binary's own
/// path (`target/debug/deps/e2e-…`) so it follows CARGO_TARGET_DIR.
pub fn bin_path(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --workspace` first",
        path.display()
    );
    path
}

/// A short random suffix for database names and Redis namespaces.
pub fn unique_suffix() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("{}_{n:016x}", std::process::id())
}

/// The repository root (for files like api/schema.graphql).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}

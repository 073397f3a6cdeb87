// `embed_migrations!` reads the migrations at compile time; without this, a migration added (or
// removed) without touching the crate's sources would not be embedded until something else
// changed, and the binaries would run a stale set.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}

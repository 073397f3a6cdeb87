//! A fresh PostgreSQL database per test, cloned from a template that is migrated once.
//!
//! The template's name carries a hash of the migrations, so changing a migration makes a new
//! template instead of reusing a stale one; an advisory lock lets parallel test processes share it.

use std::hash::{Hash, Hasher};

use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::unique_suffix;

/// The server the tests use; `TEST_DATABASE_URL` names its maintenance database.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn url_for(db: &str) -> String {
    let admin = admin_url();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    format!("{base}/{db}")
}

fn migrations_hash() -> u64 {
    let dir = crate::repo_root().join("migrations");
    let mut entries: Vec<_> = walk(&dir);
    entries.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for path in entries {
        path.strip_prefix(&dir).unwrap_or(&path).hash(&mut h);
        std::fs::read(&path).unwrap_or_default().hash(&mut h);
    }
    h.finish()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}

pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// A new database with every migration applied.
    pub async fn new() -> TestDb {
        let template = ensure_template().await;
        let name = format!("birgemiz_test_{}", unique_suffix());
        let mut admin = AsyncPgConnection::establish(&admin_url())
            .await
            .expect("connect to test PostgreSQL");
        admin
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await
            .expect("clone template database");
        TestDb {
            url: url_for(&name),
            name,
        }
    }

    /// A new database with nothing in it (for migration tests).
    pub async fn empty() -> TestDb {
        let name = format!("birgemiz_test_{}", unique_suffix());
        let mut admin = AsyncPgConnection::establish(&admin_url())
            .await
            .expect("connect to test PostgreSQL");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        TestDb {
            url: url_for(&name),
            name,
        }
    }

    pub async fn conn(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url)
            .await
            .expect("connect to test database")
    }

    /// Waits until the api processes have folded every committed vote into the counters (they
    /// fold within milliseconds of a vote, not inside it); how long that took.
    pub async fn folded(&self) -> std::time::Duration {
        let started = std::time::Instant::now();
        let mut conn = self.conn().await;
        loop {
            let left = birgemiz_schema::vote_counts::unfolded(&mut conn)
                .await
                .expect("count unfolded deltas");
            if left == 0 {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "{left} vote deltas still unfolded after 10 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    pub async fn pool(&self) -> birgemiz_schema::db::Pool {
        birgemiz_schema::db::connect(&self.url, 4)
            .await
            .expect("pool")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs outside async; a short thread with its own runtime does the cleanup.
        let name = self.name.clone();
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(mut admin) = AsyncPgConnection::establish(&admin_url()).await {
                    let result = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    if let Err(e) = result {
                        eprintln!("could not drop test database {name}: {e}");
                    }
                }
            });
        });
        if done.join().is_err() {
            eprintln!("cleanup of test database {} panicked", self.name);
        }
    }
}

async fn ensure_template() -> String {
    let template = format!("birgemiz_template_{:016x}", migrations_hash());
    let mut admin = AsyncPgConnection::establish(&admin_url()).await.expect(
        "connect to test PostgreSQL (is it running? `./dev test` starts it; TEST_DATABASE_URL overrides)",
    );
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(0x7465_6d70_6c61_7465_i64)
        .execute(&mut admin)
        .await
        .expect("template lock");
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let exists: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<diesel::sql_types::Text, _>(&template)
            .get_result(&mut admin)
            .await
            .expect("look up template");
    if !exists.exists {
        let building = format!("{template}_building");
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .await
            .expect("drop");
        admin
            .batch_execute(&format!("CREATE DATABASE {building}"))
            .await
            .expect("create template");
        birgemiz_schema::db::run_migrations(&url_for(&building))
            .await
            .expect("migrate template");
        // Renamed only when complete, so a crash midway never leaves a half-migrated template.
        admin
            .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {template}"))
            .await
            .expect("publish template");
    }
    diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(0x7465_6d70_6c61_7465_i64)
        .execute(&mut admin)
        .await
        .expect("template unlock");
    template
}

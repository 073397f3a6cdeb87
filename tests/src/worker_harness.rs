//! Minimal helpers for the worker tests until they move onto the shared harness: a throwaway
//! migrated database, a unique Redis namespace, and the real `birgemiz-worker` binary as a child
//! process (build it first: `cargo build -p birgemiz-worker`).

use std::path::PathBuf;
use std::process::Stdio;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tokio::process::{Child, Command};

pub const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
pub const APP_SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub const PUBLIC_URL: &str = "https://birgemiz.test";

fn nonce() -> String {
    format!("{:x}{:08x}", std::process::id(), rand_u32())
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish() as u32
}

pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn create() -> TestDb {
        let name = format!("bgz_email_{}", nonce());
        let mut admin = AsyncPgConnection::establish(ADMIN_URL)
            .await
            .expect("PostgreSQL at 127.0.0.1:5432");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create database");
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        birgemiz_schema::db::run_migrations(&url)
            .await
            .expect("migrations");
        TestDb { name, url }
    }

    pub async fn conn(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url)
            .await
            .expect("connect test database")
    }

    pub async fn drop_db(self) {
        let mut admin = AsyncPgConnection::establish(ADMIN_URL)
            .await
            .expect("admin connection");
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = diesel::sql_query(sql).execute(&mut admin).await {
            eprintln!("could not drop {}: {e}", self.name);
        }
    }
}

pub fn redis_namespace() -> String {
    format!("test-{}", nonce())
}

/// `target/debug/birgemiz-worker`, next to this test binary's `deps/` directory.
pub fn worker_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = dir.join("birgemiz-worker");
    assert!(
        bin.exists(),
        "{} missing: run `cargo build -p birgemiz-worker` first",
        bin.display()
    );
    bin
}

/// The environment a test worker runs with: small delays so retries and leases show in seconds.
#[derive(Clone)]
pub struct WorkerEnv {
    pub vars: Vec<(String, String)>,
}

impl WorkerEnv {
    pub fn new(db_url: &str, redis_url: &str, namespace: &str, smtp_url: &str) -> WorkerEnv {
        let vars = [
            ("DATABASE_URL", db_url),
            ("REDIS_URL", redis_url),
            ("REDIS_NAMESPACE", namespace),
            ("SMTP_URL", smtp_url),
            ("PUBLIC_URL", PUBLIC_URL),
            ("APP_SECRET", APP_SECRET),
            ("MAIL_FROM", "Birgemiz <noreply@birgemiz.test>"),
            ("WORKER_CONCURRENCY", "16"),
            ("OUTBOX_RETRY_BASE_MS", "200"),
            ("OUTBOX_LEASE_SECS", "3"),
            ("RELAY_INTERVAL_MS", "300"),
            ("RELAY_REPUSH_SECS", "2"),
            ("QUEUE_POLL_MS", "50"),
            ("DIGEST_SCHEDULE", "0 0 3 1 1 * 2099"),
            ("RUST_LOG", "warn,birgemiz_worker=info"),
            ("LOG_FORMAT", "pretty"),
        ];
        let env = WorkerEnv {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        // `TEST_WORKER_LOG=debug` shows the workers' own logs when a test needs explaining.
        match std::env::var("TEST_WORKER_LOG") {
            Ok(filter) => env.set("RUST_LOG", &filter),
            Err(_) => env,
        }
    }

    pub fn set(mut self, key: &str, value: &str) -> Self {
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.into(), value.into()));
        self
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(worker_binary());
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd.kill_on_drop(true).stdin(Stdio::null());
        cmd
    }

    pub fn spawn_worker(&self) -> Child {
        self.command(&["run"])
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn birgemiz-worker")
    }

    /// Runs `birgemiz-worker digest-now`; returns the run id it printed.
    pub async fn digest_now(&self) -> i64 {
        let out = self
            .command(&["digest-now"])
            .output()
            .await
            .expect("run digest-now");
        assert!(
            out.status.success(),
            "digest-now failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("digest-now prints the run id")
    }
}

/// A private `redis-server` for tests that flush or stop it, so they never touch the shared one.
pub struct PrivateRedis {
    pub url: String,
    child: Child,
}

impl PrivateRedis {
    pub async fn start() -> PrivateRedis {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().unwrap().port()
        };
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server on PATH");
        let url = format!("redis://127.0.0.1:{port}");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        PrivateRedis { url, child }
    }

    pub async fn flushall(&self) {
        let client = redis::Client::open(self.url.as_str()).expect("redis url");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("private redis");
        redis::cmd("FLUSHALL")
            .query_async::<()>(&mut conn)
            .await
            .expect("FLUSHALL");
    }

    pub async fn stop(mut self) {
        if let Err(e) = self.child.kill().await {
            eprintln!("stopping redis-server: {e}");
        }
    }
}

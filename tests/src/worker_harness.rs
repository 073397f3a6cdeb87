//! The real `birgemiz-worker` binary as a child process, configured for tests (short retry,
//! lease and relay intervals so failures and recoveries show within seconds).

use std::process::Stdio;

use tokio::process::{Child, Command};

pub const APP_SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub const PUBLIC_URL: &str = "https://birgemiz.test";

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
            ("RUST_LOG", "warn"),
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
        let mut cmd = Command::new(crate::bin_path("birgemiz-worker"));
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

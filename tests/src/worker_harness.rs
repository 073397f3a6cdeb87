//! The real `birgemiz-worker` binary as a child process, configured for tests (short retry,
//! lease and relay intervals so failures and recoveries show within seconds).

use std::process::Stdio;
use std::time::Duration;

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
            // Several workers run side by side: each takes a port of its own.
            ("WORKER_METRICS_BIND", "127.0.0.1:0"),
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

    /// Starts a worker serving /metrics on a free port; returns it and that port's base URL once
    /// its /readyz answers 200 (PostgreSQL and Redis reached, the consumer about to start).
    pub async fn spawn_worker_with_metrics(&self) -> (Child, String) {
        let port = crate::process::free_port();
        let mut child = self
            .clone()
            .set("WORKER_METRICS_BIND", &format!("127.0.0.1:{port}"))
            .spawn_worker();
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(r) = http.get(format!("{base}/readyz")).send().await
                && r.status().is_success()
            {
                return (child, base);
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("birgemiz-worker exited with {status} before it was ready");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("birgemiz-worker did not become ready on port {port}");
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

/// The Prometheus text of a worker's (or api's) `/metrics`.
pub async fn scrape(base: &str) -> String {
    let resp = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("GET /metrics");
    assert!(resp.status().is_success(), "/metrics: {}", resp.status());
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    resp.text().await.expect("metrics text")
}

/// The value of one series, named exactly as exposed (`name{label="value"}`), if present.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().expect("a number"))
}

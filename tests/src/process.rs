//! The real `birgemiz-api` binary as a child process, for what an in-process router can't show:
//! start-up failures, production mode, logs, several processes side by side.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::api::TEST_SECRET;
use crate::{TestDb, TestRedis, bin_path, unique_suffix};

pub struct ApiProcess {
    pub child: Child,
    pub base: String,
    /// stderr (the structured log) of the process.
    pub log: PathBuf,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl ApiProcess {
    /// Starts `birgemiz-api serve` on a free port and waits until it answers /healthz.
    pub async fn spawn(db: &TestDb, redis: &TestRedis, extra_env: &[(&str, &str)]) -> ApiProcess {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("birgemiz-api-{}.log", unique_suffix()));
        let mut cmd = Command::new(bin_path("birgemiz-api"));
        cmd.arg("serve")
            .arg("--no-migrate")
            .env("DATABASE_URL", &db.url)
            .env("REDIS_URL", &redis.url)
            .env("REDIS_NAMESPACE", &redis.namespace)
            .env("APP_SECRET", TEST_SECRET)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("LOG_FORMAT", "json")
            // As `api::test_config`: tests of live counts use a handful of votes.
            .env("LIVE_COUNTS_MIN_VOTES", "0")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"));
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn birgemiz-api");
        let mut process = ApiProcess {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        process.wait_ready().await;
        process
    }

    async fn wait_ready(&mut self) {
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = http.get(format!("{}/healthz", self.base)).send().await
                && r.status().is_success()
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("birgemiz-api exited with {status}: {}", self.log_text());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("birgemiz-api did not answer: {}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ApiProcess {
    fn drop(&mut self) {
        if let Err(e) = self.child.kill() {
            eprintln!("could not stop birgemiz-api: {e}");
        }
        if self.child.wait().is_err() {
            eprintln!("could not reap birgemiz-api");
        }
        if std::fs::remove_file(&self.log).is_err() {
            eprintln!("could not remove {}", self.log.display());
        }
    }
}

//! A Redis key namespace per test; its keys are deleted when the test ends.

use std::process::Stdio;

use tokio::process::{Child, Command};

use crate::unique_suffix;

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub struct TestRedis {
    pub url: String,
    pub namespace: String,
}

impl TestRedis {
    pub fn new() -> TestRedis {
        TestRedis {
            url: redis_url(),
            namespace: format!("birgemiz_test_{}", unique_suffix()),
        }
    }

    pub async fn conn(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url.as_str())
            .expect("redis url")
            .get_multiplexed_async_connection()
            .await
            .expect("connect to test Redis (is it running? `./dev test` starts it)")
    }
}

impl Default for TestRedis {
    fn default() -> Self {
        TestRedis::new()
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let (url, pattern) = (self.url.clone(), format!("{}*", self.namespace));
        let cleaned = std::thread::spawn(move || -> redis::RedisResult<()> {
            let mut conn = redis::Client::open(url)?.get_connection()?;
            let keys: Vec<String> = redis::cmd("KEYS").arg(&pattern).query(&mut conn)?;
            if !keys.is_empty() {
                redis::cmd("DEL").arg(keys).query::<()>(&mut conn)?;
            }
            Ok(())
        })
        .join();
        if !matches!(cleaned, Ok(Ok(()))) {
            eprintln!("could not clean Redis namespace {}", self.namespace);
        }
    }
}

/// A private `redis-server` for tests that flush or stop it, so they never touch the shared one.
pub struct PrivateRedis {
    pub url: String,
    child: Child,
    port: u16,
}

impl PrivateRedis {
    pub async fn start() -> PrivateRedis {
        let port = crate::process::free_port();
        let child = Self::spawn(port).await;
        PrivateRedis {
            url: format!("redis://127.0.0.1:{port}"),
            child,
            port,
        }
    }

    /// Kills the server (an outage); [`PrivateRedis::restart`] brings it back on the same port.
    pub async fn kill(&mut self) {
        if let Err(e) = self.child.kill().await {
            eprintln!("stopping redis-server: {e}");
        }
    }

    /// A new, empty server on the port of the killed one.
    pub async fn restart(&mut self) {
        self.child = Self::spawn(self.port).await;
    }

    async fn spawn(port: u16) -> Child {
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
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        child
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

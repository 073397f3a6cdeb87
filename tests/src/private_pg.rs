//! A private PostgreSQL cluster for the tests that stop and restart the database, so they never
//! touch the shared server: `initdb` into a temporary directory and `pg_ctl` on a free port, run
//! as the `postgres` user because PostgreSQL refuses to run as root (as `./dev` does).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{TestDb, unique_suffix};

pub struct PrivatePostgres {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    running: bool,
}

fn pg_bin() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL binaries under /usr/lib/postgresql")
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop()
        .expect("an initdb under /usr/lib/postgresql/*/bin")
}

/// Runs `cmd` as the `postgres` user when we are root (we are in CI), else as ourselves.
fn as_postgres(cmd: &str) -> std::process::ExitStatus {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let mut c = if is_root {
        let mut c = Command::new("su");
        c.args(["postgres", "-s", "/bin/sh", "-c", cmd]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", cmd]);
        c
    };
    c.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run a PostgreSQL command")
}

impl PrivatePostgres {
    /// A new cluster, started, with a migrated database; returns it and that database.
    pub async fn start() -> (PrivatePostgres, TestDb) {
        let bin = pg_bin();
        let dir = std::env::temp_dir().join(format!("birgemiz-pg-{}", unique_suffix()));
        std::fs::create_dir_all(&dir).expect("cluster directory");
        let chown = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status();
        if !matches!(chown, Ok(s) if s.success()) {
            eprintln!("could not chown {} to postgres", dir.display());
        }
        let initdb = as_postgres(&format!(
            "{}/initdb -D '{}/data' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync",
            bin.display(),
            dir.display()
        ));
        assert!(initdb.success(), "initdb into {}", dir.display());
        let mut pg = PrivatePostgres {
            port: crate::process::free_port(),
            dir,
            bin,
            running: false,
        };
        pg.resume().await;
        let name = format!("birgemiz_fault_{}", unique_suffix());
        let admin = pg.url("postgres");
        {
            use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
            let mut conn = AsyncPgConnection::establish(&admin)
                .await
                .expect("connect to the private cluster");
            conn.batch_execute(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create database");
        }
        let url = pg.url(&name);
        birgemiz_schema::db::run_migrations(&url)
            .await
            .expect("migrate the private database");
        (pg, TestDb { name, url })
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn pg_ctl(&self, args: &str) -> std::process::ExitStatus {
        as_postgres(&format!(
            "{}/pg_ctl -D '{}' {args}",
            self.bin.display(),
            self.data().display()
        ))
    }

    /// Stops the server at once (connections are cut, as in a crash or a failover).
    pub fn stop(&mut self) {
        let stopped = self.pg_ctl("-m immediate -w stop");
        assert!(stopped.success(), "pg_ctl stop");
        self.running = false;
    }

    /// Starts (again) on the same port; returns once it accepts connections.
    pub async fn resume(&mut self) {
        let log = self.dir.join("server.log");
        let started = self.pg_ctl(&format!(
            "-l '{}' -w -o \"-p {} -c listen_addresses=127.0.0.1 -k '{}' -c fsync=off -c max_connections=200\" start",
            log.display(),
            self.port,
            self.dir.display()
        ));
        assert!(
            started.success(),
            "pg_ctl start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        self.running = true;
        wait_for_port(self.port, Duration::from_secs(10)).await;
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

async fn wait_for_port(port: u16, within: Duration) {
    let started = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(started.elapsed() < within, "nothing listens on {port}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if self.running && !self.pg_ctl("-m immediate -w stop").success() {
            eprintln!(
                "could not stop the private PostgreSQL in {}",
                self.dir.display()
            );
        }
        if std::fs::remove_dir_all(&self.dir).is_err() {
            eprintln!("could not remove {}", self.dir.display());
        }
    }
}

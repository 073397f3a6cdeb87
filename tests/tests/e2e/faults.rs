//! Fault injection: private PostgreSQL and Redis servers stopped and restarted under the real
//! binaries, with the numbers docs/faults.md promises asserted.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use birgemiz_tests::TestRedis;
use birgemiz_tests::private_pg::PrivatePostgres;
use birgemiz_tests::smtp::SmtpServer;
use birgemiz_tests::worker_harness::WorkerEnv;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;

use crate::email_worker::seed_digest;

/// Recipients of the CI case; `FAULT_DIGEST_RECIPIENTS` raises it (bench/fault_digest.sh: 20,000).
fn digest_recipients() -> usize {
    std::env::var("FAULT_DIGEST_RECIPIENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

const PG_OUTAGE: Duration = Duration::from_secs(10);

#[derive(diesel::QueryableByName)]
struct StatusCount {
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A digest that loses PostgreSQL for 10 s a quarter of the way through still reaches every
/// subscriber exactly once: sends accepted while the database is away are recorded when it
/// returns instead of being sent again after their lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_through_a_postgres_outage_reaches_everyone_exactly_once() {
    let n = digest_recipients();
    let (mut pg, db) = PrivatePostgres::start().await;
    let redis = TestRedis::new();
    let smtp = SmtpServer::start().await;
    let env = WorkerEnv::new(&db.url, &redis.url, &redis.namespace, &smtp.url())
        .set("OUTBOX_LEASE_SECS", "5");
    seed_digest(&mut db.conn().await, n as i64).await;
    let mut worker = env.spawn_worker();
    let started = Instant::now();
    env.digest_now().await;
    assert!(
        smtp.wait_for(Duration::from_secs(120), |m| m.len() >= n / 4)
            .await,
        "only {} of {} delivered before the outage",
        smtp.count(),
        n / 4
    );
    pg.stop();
    let at_stop = smtp.count();
    tokio::time::sleep(PG_OUTAGE).await;
    let during = smtp.count() - at_stop;
    pg.resume().await;
    let back = Instant::now();
    eprintln!("PostgreSQL stopped after {at_stop} of {n}; {during} more sent while it was away");
    assert!(at_stop < n, "the outage must land before the last delivery");
    assert!(
        smtp.wait_for(Duration::from_secs(120), |m| m.len() >= n)
            .await,
        "only {} of {n} delivered after PostgreSQL returned",
        smtp.count()
    );
    eprintln!(
        "{n} digests delivered {:?} after digest-now, {:?} after PostgreSQL returned",
        started.elapsed(),
        back.elapsed()
    );
    // Anything sent twice would arrive within a lease or two of the last delivery.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut copies: HashMap<String, usize> = HashMap::new();
    for m in smtp.messages() {
        for r in m.rcpt_to {
            *copies.entry(r).or_default() += 1;
        }
    }
    let twice: Vec<_> = copies.iter().filter(|(_, c)| **c > 1).collect();
    assert!(
        twice.is_empty(),
        "{} sent more than once: {twice:?}",
        twice.len()
    );
    assert_eq!(copies.len(), n, "everyone received the digest");
    let statuses: Vec<StatusCount> =
        diesel::sql_query("SELECT status, count(*) AS n FROM outbox GROUP BY status")
            .load(&mut db.conn().await)
            .await
            .expect("outbox statuses");
    let statuses: HashMap<_, _> = statuses.into_iter().map(|s| (s.status, s.n)).collect();
    assert_eq!(statuses, HashMap::from([("SENT".to_owned(), n as i64)]));
    worker.kill().await.expect("stop the worker");
}

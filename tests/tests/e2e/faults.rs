//! Fault injection: private PostgreSQL and Redis servers stopped and restarted under the real
//! binaries, with the numbers docs/faults.md promises asserted.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::private_pg::PrivatePostgres;
use birgemiz_tests::redis_ns::PrivateRedis;
use birgemiz_tests::smtp::SmtpServer;
use birgemiz_tests::worker_harness::WorkerEnv;
use birgemiz_tests::{TestApi, TestDb, TestRedis};
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use serde_json::json;

use crate::awards_common::{CAST, admin_and_nominator, voting_award};
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

const SUBSCRIBE_EMAIL: &str =
    "mutation($input: SubscribeInput!) { subscribe(input: $input) { status } }";
const SIGN_UP: &str = "mutation($input: SignUpInput!) { signUp(input: $input) { token } }";
const SIGN_IN: &str =
    "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token } }";

/// Every error code in a GraphQL response body.
fn codes(body: &serde_json::Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Without Redis: votes and sign-in/sign-up count in the process (docs/faults.md), subscribing
/// is refused as retryable SERVICE_UNAVAILABLE; nothing answers INTERNAL, and /readyz stays 200
/// with Redis reported degraded while /readyz/full says unhealthy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_degrades_rate_limited_mutations_and_keeps_readiness() {
    let db = TestDb::new().await;
    let mut private = PrivateRedis::start().await;
    let redis = TestRedis {
        url: private.url.clone(),
        namespace: format!("birgemiz_test_{}", birgemiz_tests::unique_suffix()),
    };
    let api = TestApi::start(&db, &redis).await;
    let (admin, nominator) = admin_and_nominator(&db, &api.client()).await;
    let (_award, _category, noms) = voting_award(&admin, &nominator, 1, true).await;
    let voter = fixtures::user(&db, "voter@example.kz", Kind::Verified).await;
    private.kill().await;

    let http = reqwest::Client::new();
    let ready = http.get(api.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["postgres"], "ok");
    assert_eq!(body["redis"], "degraded");
    let full = http.get(api.url("/readyz/full")).send().await.unwrap();
    assert_eq!(full.status(), 503);
    let metrics = http.get(api.url("/metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(metrics.contains("\nbirgemiz_redis_up 0\n"), "{metrics}");

    let client = api.client();
    let started = Instant::now();
    let vote = client
        .with_token(&voter.token)
        .raw(CAST, json!({ "n": noms[0] }))
        .await;
    assert!(
        vote.get("errors").is_none(),
        "castVote without Redis: {vote:#}"
    );
    assert_eq!(
        vote["data"]["castVote"]["nomination"]["id"],
        noms[0].as_str()
    );

    let subscribe = client
        .raw(
            SUBSCRIBE_EMAIL,
            json!({ "input": { "email": "reader@example.kz" } }),
        )
        .await;
    assert_eq!(codes(&subscribe), ["SERVICE_UNAVAILABLE"], "{subscribe:#}");
    let retry = subscribe["errors"][0]["extensions"]["retryAfter"].as_u64();
    assert!(retry.is_some_and(|s| s >= 1), "{subscribe:#}");

    let signed_up = client
        .raw(
            SIGN_UP,
            json!({ "input": { "email": "new@example.kz", "password": "correct horse battery",
                               "displayName": "New" } }),
        )
        .await;
    assert!(signed_up.get("errors").is_none(), "{signed_up:#}");
    let creds = json!({ "e": "new@example.kz", "p": "correct horse battery" });
    let signed_in = client.raw(SIGN_IN, creds.clone()).await;
    assert!(signed_in.get("errors").is_none(), "{signed_in:#}");
    // Still a limit: the per-process budget (5 an hour per address) fails closed.
    let mut last = Vec::new();
    for _ in 0..5 {
        let body = client
            .raw(SIGN_IN, json!({ "e": "new@example.kz", "p": "wrong" }))
            .await;
        last = codes(&body);
        assert!(!last.contains(&"INTERNAL".to_owned()), "{body:#}");
    }
    assert_eq!(last, ["RATE_LIMITED"]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the mutations took {:?} without Redis",
        started.elapsed()
    );
    let metrics = http.get(api.url("/metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains("birgemiz_rate_limit_without_redis_total{decision=\"refused\"}"),
        "{metrics}"
    );

    private.restart().await;
    let mut back = false;
    for _ in 0..50 {
        let body: serde_json::Value = http
            .get(api.url("/readyz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if body["status"] == "ready" {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "Redis never reported ok again");
    private.kill().await;
}

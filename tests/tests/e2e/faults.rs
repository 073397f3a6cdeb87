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

use crate::awards_common::{ApiProcess, CAST, WsSubscription, admin_and_nominator, voting_award};
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

/// A GraphQL POST that reads statuses (`application/graphql-response+json`): status, the
/// Retry-After header, the body and how long it took.
async fn post_graphql(
    endpoint: &str,
    token: Option<&str>,
    query: &str,
    variables: serde_json::Value,
) -> (u16, Option<String>, serde_json::Value, Duration) {
    let started = Instant::now();
    let mut req = reqwest::Client::new()
        .post(endpoint)
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("POST /graphql");
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/graphql-response+json"),
        "{content_type}"
    );
    let body = resp.json().await.expect("a JSON body");
    (status, retry_after, body, started.elapsed())
}

fn assert_unavailable(
    what: &str,
    (status, retry_after, body, took): &(u16, Option<String>, serde_json::Value, Duration),
) {
    assert_eq!(codes(body), ["SERVICE_UNAVAILABLE"], "{what}: {body:#}");
    assert!(
        body["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .is_some_and(|s| s >= 1),
        "{what}: {body:#}"
    );
    assert_eq!(*status, 503, "{what}");
    assert!(retry_after.is_some(), "{what}: Retry-After header");
    assert!(*took < Duration::from_secs(2), "{what} took {took:?}");
}

/// With PostgreSQL stopped, every kind of request fails within 2 s in one format: a GraphQL
/// error SERVICE_UNAVAILABLE with retryAfter, HTTP 503 under graphql-response+json. Both
/// binaries started while it is still down come up by themselves once it returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_fails_fast_and_binaries_wait_for_it_at_start() {
    let (mut pg, db) = PrivatePostgres::start().await;
    let redis = TestRedis::new();
    let api = ApiProcess::spawn(&db, &redis, &[]).await;
    let user = fixtures::user(&db, "someone@example.kz", Kind::Verified).await;
    let endpoint = format!("{}/graphql", api.base);
    let (status, _, body, _) = post_graphql(
        &endpoint,
        None,
        "{ stats { organizationCount } }",
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body:#}");
    pg.stop();
    for round in 0..2 {
        let anonymous = post_graphql(
            &endpoint,
            None,
            "{ stats { organizationCount } }",
            json!({}),
        )
        .await;
        assert_unavailable(&format!("an anonymous query ({round})"), &anonymous);
        let signed_in =
            post_graphql(&endpoint, Some(&user.token), "{ viewer { id } }", json!({})).await;
        assert_unavailable(&format!("a signed-in query ({round})"), &signed_in);
        let sign_in = post_graphql(
            &endpoint,
            None,
            SIGN_IN,
            json!({ "e": "someone@example.kz", "p": "x" }),
        )
        .await;
        assert_unavailable(&format!("signIn ({round})"), &sign_in);
    }
    // application/json clients get the same body with 200.
    let body = api
        .client()
        .raw("{ stats { organizationCount } }", json!({}))
        .await;
    assert_eq!(codes(&body), ["SERVICE_UNAVAILABLE"], "{body:#}");
    let ready = reqwest::get(format!("{}/readyz", api.base)).await.unwrap();
    assert_eq!(ready.status(), 503);

    // Started while PostgreSQL is away: both keep trying and come up once it is back.
    let smtp = SmtpServer::start().await;
    let env = WorkerEnv::new(&db.url, &redis.url, &redis.namespace, &smtp.url());
    let resumed_at = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        pg.resume().await;
        Instant::now()
    };
    let (late_api, (mut worker, _), resumed_at) = tokio::join!(
        ApiProcess::spawn(&db, &redis, &[]),
        env.spawn_worker_with_metrics(),
        resumed_at
    );
    eprintln!(
        "both binaries ready {:?} after PostgreSQL returned",
        resumed_at.elapsed()
    );
    let (status, _, body, _) = post_graphql(
        &format!("{}/graphql", late_api.base),
        Some(&user.token),
        "{ viewer { id } }",
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body:#}");
    assert!(body["data"]["viewer"]["id"].is_string(), "{body:#}");
    // The first api's pool replaced its broken connections.
    let (status, _, body, _) = post_graphql(
        &endpoint,
        None,
        "{ stats { organizationCount } }",
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body:#}");
    worker.kill().await.expect("stop the worker");
}

/// SIGTERM while a castVote waits on a row lock: after SHUTDOWN_GRACE_SECS the request is
/// answered SERVICE_UNAVAILABLE and the process exits; a WebSocket subscriber gets `complete`
/// and a close frame rather than a cut connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_a_request_blocked_on_a_lock_exits_within_the_grace_period() {
    use diesel_async::SimpleAsyncConnection;
    const GRACE: Duration = Duration::from_secs(2);
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let mut api = ApiProcess::spawn(
        &db,
        &redis,
        &[
            ("SHUTDOWN_GRACE_SECS", "2"),
            ("DATABASE_STATEMENT_TIMEOUT_MS", "60000"),
            ("REQUEST_TIMEOUT_SECS", "60"),
        ],
    )
    .await;
    let (admin, nominator) = admin_and_nominator(&db, &api.client()).await;
    let (_award, category, noms) = voting_award(&admin, &nominator, 1, true).await;
    let voter = fixtures::user(&db, "voter@example.kz", Kind::Verified).await;
    let mut sub = WsSubscription::start(&api.ws_url(), LIVE_COUNTS, json!({ "c": category })).await;

    let mut locker = db.conn().await;
    locker
        .batch_execute("BEGIN; LOCK TABLE votes IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock votes");
    let endpoint = format!("{}/graphql", api.base);
    let token = voter.token.clone();
    let nomination = noms[0].clone();
    let vote = tokio::spawn(async move {
        post_graphql(&endpoint, Some(&token), CAST, json!({ "n": nomination })).await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!vote.is_finished(), "castVote should wait on the lock");
    let signalled = Instant::now();
    let exit = api.terminate().await;
    let took = signalled.elapsed();
    eprintln!("exited {took:?} after SIGTERM with {exit}");
    assert!(
        took < GRACE + Duration::from_millis(1500),
        "exit took {took:?} with a {GRACE:?} grace period"
    );
    assert!(
        took >= GRACE,
        "the blocked request had its grace period ({took:?})"
    );
    let (status, _, body, _) = vote.await.expect("the vote task");
    assert_eq!(codes(&body), ["SERVICE_UNAVAILABLE"], "{body:#}");
    assert_eq!(status, 503);
    let (messages, close) = sub.until_closed(Duration::from_secs(2)).await;
    assert!(
        messages
            .iter()
            .any(|m| m["type"] == "complete" && m["id"] == "1"),
        "{messages:?}"
    );
    let close = close.expect("a close frame with a code");
    assert_eq!(u16::from(close.code), 1001, "{close:?}");
    locker.batch_execute("ROLLBACK").await.expect("unlock");
}

const LIVE_COUNTS: &str = "subscription($c: ID!) {
    voteCounts(categoryId: $c) { nominationId categoryId voteCount categoryVoteCount } }";

/// Live counts lost while Redis was away are resent once the process subscribes again: a
/// subscriber sees the current count within 2 s of Redis returning.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_counts_resume_within_two_seconds_of_redis_returning() {
    let db = TestDb::new().await;
    let mut private = PrivateRedis::start().await;
    let redis = TestRedis {
        url: private.url.clone(),
        namespace: format!("birgemiz_test_{}", birgemiz_tests::unique_suffix()),
    };
    let api = TestApi::start(&db, &redis).await;
    let (admin, nominator) = admin_and_nominator(&db, &api.client()).await;
    let (_award, category, noms) = voting_award(&admin, &nominator, 1, true).await;
    let ws_url = format!("ws://{}/graphql/ws", api.addr);
    let mut sub = WsSubscription::start(&ws_url, LIVE_COUNTS, json!({ "c": category })).await;
    let mut voters = Vec::new();
    for i in 0..6 {
        voters.push(fixtures::user(&db, &format!("v{i}@example.kz"), Kind::Verified).await);
    }
    // The subscription registers asynchronously: vote until the first update arrives.
    let mut cast = 0;
    loop {
        assert!(cast < 4, "no live count reached the subscriber");
        api.client()
            .with_token(&voters[cast].token)
            .ok(CAST, json!({ "n": noms[0] }))
            .await;
        cast += 1;
        if sub.try_next(Duration::from_secs(2)).await.is_some() {
            break;
        }
    }
    while sub.try_next(Duration::from_millis(300)).await.is_some() {}

    private.kill().await;
    api.client()
        .with_token(&voters[cast].token)
        .ok(CAST, json!({ "n": noms[0] }))
        .await;
    cast += 1;
    db.folded().await;
    // Long enough for the subscriber's reconnect backoff to reach its cap.
    tokio::time::sleep(Duration::from_secs(3)).await;
    private.restart().await;
    let back = Instant::now();
    loop {
        let msg = sub
            .try_next(Duration::from_secs(3))
            .await
            .expect("current counts after Redis returned");
        let u = &msg["payload"]["data"]["voteCounts"];
        if u["voteCount"] == cast as i64 {
            assert_eq!(u["nominationId"], noms[0].as_str());
            break;
        }
    }
    let took = back.elapsed();
    eprintln!("live counts current {took:?} after Redis returned");
    assert!(took < Duration::from_secs(2), "{took:?}");
    private.kill().await;
}

/// A castVote stuck on a row lock is cut by the session's statement_timeout, or else by the
/// request deadline: either way a retryable SERVICE_UNAVAILABLE within the bound, not a hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_stuck_on_a_lock_is_cut_by_statement_timeout_or_request_deadline() {
    use diesel_async::SimpleAsyncConnection;
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let statement =
        ApiProcess::spawn(&db, &redis, &[("DATABASE_STATEMENT_TIMEOUT_MS", "500")]).await;
    let deadline = ApiProcess::spawn(
        &db,
        &redis,
        &[
            ("DATABASE_STATEMENT_TIMEOUT_MS", "60000"),
            ("REQUEST_TIMEOUT_SECS", "1"),
        ],
    )
    .await;
    let (admin, nominator) = admin_and_nominator(&db, &statement.client()).await;
    let (_award, _category, noms) = voting_award(&admin, &nominator, 1, false).await;
    let voter = fixtures::user(&db, "voter@example.kz", Kind::Verified).await;
    let mut locker = db.conn().await;
    locker
        .batch_execute("BEGIN; LOCK TABLE votes IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock votes");
    for (api, bound) in [
        (&statement, Duration::from_millis(500)),
        (&deadline, Duration::from_secs(1)),
    ] {
        let endpoint = format!("{}/graphql", api.base);
        let (status, _, body, took) =
            post_graphql(&endpoint, Some(&voter.token), CAST, json!({ "n": noms[0] })).await;
        assert_eq!(codes(&body), ["SERVICE_UNAVAILABLE"], "{body:#}");
        assert_eq!(status, 503);
        assert!(
            took >= bound && took < bound + Duration::from_millis(1500),
            "{took:?} for {bound:?}"
        );
    }
    locker.batch_execute("ROLLBACK").await.expect("unlock");
    let body = statement
        .client()
        .with_token(&voter.token)
        .raw(CAST, json!({ "n": noms[0] }))
        .await;
    assert!(body.get("errors").is_none(), "after the lock: {body:#}");
}

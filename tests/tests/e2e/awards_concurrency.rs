//! Votes under concurrency, through real api processes: the database constraint and the single
//! upsert statement keep one vote per voter and category, and the counters equal the recount.

use std::sync::Arc;

use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::{TestDb, TestRedis};
use diesel_async::RunQueryDsl;
use futures_util::StreamExt;
use serde_json::json;

use crate::awards_common::*;

const NO_LIMITS: [(&str, &str); 2] = [
    ("RATE_LIMIT_VOTE_USER", "1000000/60"),
    ("RATE_LIMIT_VOTE_IP", "1000000/60"),
];

#[tokio::test(flavor = "multi_thread")]
async fn one_voter_100_concurrent_casts_over_two_processes_leave_one_vote() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let (p1, p2) = (
        ApiProcess::spawn(&db, &redis, &NO_LIMITS).await,
        ApiProcess::spawn(&db, &redis, &NO_LIMITS).await,
    );
    let (admin, nominator) = admin_and_nominator(&db, &p1.client()).await;
    let (_award, category, noms) = voting_award(&admin, &nominator, 10, true).await;
    let voter = fixtures::user(&db, "voter@example.kz", Kind::Verified).await;
    let clients = [
        p1.client().with_token(&voter.token),
        p2.client().with_token(&voter.token),
    ];
    let results: Vec<serde_json::Value> = futures_util::future::join_all((0..100).map(|i| {
        let client = clients[i % 2].clone();
        let n = noms[i % noms.len()].clone();
        async move { client.raw(CAST, json!({ "n": n })).await }
    }))
    .await;
    let mut vote_ids: Vec<&str> = Vec::new();
    for r in &results {
        assert!(r.get("errors").is_none(), "castVote failed: {r}");
        vote_ids.push(r["data"]["castVote"]["id"].as_str().unwrap());
    }
    vote_ids.dedup();
    assert_eq!(vote_ids.len(), 1, "every call answered with the one vote");

    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let votes: N = diesel::sql_query("SELECT count(*) AS n FROM votes WHERE user_id = $1")
        .bind::<diesel::sql_types::BigInt, _>(voter.id)
        .get_result(&mut db.conn().await)
        .await
        .unwrap();
    assert_eq!(votes.n, 1);
    assert_eq!(assert_recount_matches(&db, &category).await, 1);
    let casts: N = diesel::sql_query(
        "SELECT count(*) AS n FROM vote_events WHERE user_id = $1 AND kind = 'CAST'",
    )
    .bind::<diesel::sql_types::BigInt, _>(voter.id)
    .get_result(&mut db.conn().await)
    .await
    .unwrap();
    assert_eq!(casts.n, 1, "one cast, the rest moves or no-ops");
}

/// Many voters at once, each casting, some moving and some retracting, spread over two
/// processes; afterwards every counter equals the recount from the event log.
#[tokio::test(flavor = "multi_thread")]
async fn many_voters_at_once_leave_counts_equal_to_the_recount() {
    const VOTERS: usize = 1000;
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let (p1, p2) = (
        ApiProcess::spawn(&db, &redis, &NO_LIMITS).await,
        ApiProcess::spawn(&db, &redis, &NO_LIMITS).await,
    );
    let (admin, nominator) = admin_and_nominator(&db, &p1.client()).await;
    let (_award, category, noms) = voting_award(&admin, &nominator, 5, true).await;
    let tokens = many_users(&db, VOTERS).await;
    let noms = Arc::new(noms);
    let clients = [p1.client(), p2.client()];
    let retract = "mutation($c: ID!) { retractVote(categoryId: $c) { id } }";
    let failures: Vec<String> = futures_util::stream::iter(tokens.into_iter().enumerate())
        .map(|(i, token)| {
            let client = clients[i % 2].with_token(&token);
            let other = clients[(i + 1) % 2].with_token(&token);
            let (noms, category) = (noms.clone(), category.clone());
            async move {
                let mut errors = Vec::new();
                let mut check = |r: serde_json::Value| {
                    if r.get("errors").is_some() {
                        errors.push(r.to_string());
                    }
                };
                check(client.raw(CAST, json!({ "n": noms[i % 5] })).await);
                // Moves in both directions at once: they lock two nomination rows each, which
                // deadlocked before the trigger locked them in id order.
                if i % 3 != 2 {
                    let step = if i % 3 == 0 { 1 } else { 4 };
                    check(other.raw(CAST, json!({ "n": noms[(i + step) % 5] })).await);
                }
                if i % 7 == 0 {
                    check(other.raw(retract, json!({ "c": category })).await);
                }
                errors
            }
        })
        .buffer_unordered(64)
        .flat_map(futures_util::stream::iter)
        .collect()
        .await;
    assert!(
        failures.is_empty(),
        "{} failed, e.g. {}",
        failures.len(),
        failures[0]
    );
    let expected = (0..VOTERS).filter(|i| i % 7 != 0).count() as i64;
    assert_eq!(assert_recount_matches(&db, &category).await, expected);
}

async fn many_users(db: &TestDb, n: usize) -> Vec<String> {
    let mut tokens = Vec::with_capacity(n);
    for i in 0..n {
        let u = fixtures::user(db, &format!("voter{i}@example.kz"), Kind::Verified).await;
        tokens.push(u.token);
    }
    tokens
}

//! Live counts over graphql-transport-ws: a vote cast on one api process reaches a subscriber
//! connected to another, through Redis pub/sub.

use std::time::Duration;

use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::{TestDb, TestRedis};
use serde_json::json;

use crate::awards_common::*;

const SUBSCRIBE: &str = "subscription($c: ID!) {
    voteCounts(categoryId: $c) { nominationId categoryId voteCount categoryVoteCount } }";

#[tokio::test(flavor = "multi_thread")]
async fn a_vote_on_one_process_reaches_a_subscriber_on_another() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let (p1, p2) = (
        ApiProcess::spawn(&db, &redis, &[]).await,
        ApiProcess::spawn(&db, &redis, &[]).await,
    );
    let (admin, nominator) = admin_and_nominator(&db, &p1.client()).await;
    let (_award, category, noms) = voting_award(&admin, &nominator, 2, true).await;
    let mut sub = WsSubscription::start(&p2.ws_url(), SUBSCRIBE, json!({ "c": category })).await;

    // The subscription is registered asynchronously: vote until the first update arrives.
    let mut voters = Vec::new();
    for i in 0..5 {
        voters.push(fixtures::user(&db, &format!("v{i}@example.kz"), Kind::Verified).await);
    }
    let mut update = None;
    for (i, v) in voters.iter().enumerate() {
        p1.client()
            .with_token(&v.token)
            .ok(CAST, json!({ "n": noms[0] }))
            .await;
        if let Some(msg) = sub.try_next(Duration::from_secs(2)).await {
            update = Some((i + 1, msg));
            break;
        }
    }
    let (cast, msg) = update.expect("an update reached the other process");
    assert_eq!(msg["type"], "next", "{msg}");
    let u = &msg["payload"]["data"]["voteCounts"];
    assert_eq!(u["nominationId"], noms[0].as_str());
    assert_eq!(u["categoryId"], category.as_str());
    assert_eq!(u["voteCount"], cast as i64);
    assert_eq!(u["categoryVoteCount"], cast as i64);

    // A move publishes both nominations.
    p1.client()
        .with_token(&voters[0].token)
        .ok(CAST, json!({ "n": noms[1] }))
        .await;
    let mut seen = std::collections::HashMap::new();
    while seen.len() < 2 {
        let msg = sub.next_json().await;
        let u = &msg["payload"]["data"]["voteCounts"];
        seen.insert(
            u["nominationId"].as_str().unwrap().to_owned(),
            (
                u["voteCount"].as_i64().unwrap(),
                u["categoryVoteCount"].as_i64().unwrap(),
            ),
        );
    }
    assert_eq!(seen[&noms[0]], (cast as i64 - 1, cast as i64));
    assert_eq!(seen[&noms[1]], (1, cast as i64));
}

#[tokio::test(flavor = "multi_thread")]
async fn subscribing_while_counts_are_hidden_is_forbidden() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let p = ApiProcess::spawn(&db, &redis, &[]).await;
    let admin = p.client().with_token(
        &fixtures::user(&db, "admin@example.kz", Kind::Admin)
            .await
            .token,
    );
    let (_award, category) = nominating_award(&admin, "Hidden counts", false).await;
    let mut sub = WsSubscription::start(&p.ws_url(), SUBSCRIBE, json!({ "c": category })).await;
    let msg = sub.next_json().await;
    // An execution error, so it arrives as `next` with errors (graphql-transport-ws keeps `error`
    // for requests that never ran), then `complete`.
    assert_eq!(msg["type"], "next", "{msg}");
    assert_eq!(msg["payload"]["data"], json!(null));
    assert_eq!(
        msg["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{msg}"
    );
    assert_eq!(sub.next_json().await["type"], "complete");
}

const CAST_ID: &str = "mutation($n: ID!) { castVote(nominationId: $n) { id } }";
const CATEGORY_COUNT: &str =
    "query($c: ID!) { node(id: $c) { ... on AwardCategory { voteCount } } }";

/// Votes are folded into the counters by the process's fold loop, after the answer; a query on
/// the same process still sees every vote that process acknowledged. The long fold interval
/// leaves the votes unfolded when the query arrives, so only the query's wait can make it pass.
#[tokio::test(flavor = "multi_thread")]
async fn a_vote_shows_in_the_counts_at_once_on_the_process_that_took_it() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let p = ApiProcess::spawn(&db, &redis, &[("VOTE_FOLD_INTERVAL_MS", "300")]).await;
    let (admin, nominator) = admin_and_nominator(&db, &p.client()).await;
    let (_award, category, noms) = voting_award(&admin, &nominator, 2, true).await;
    for i in 0..4 {
        let voter = fixtures::user(&db, &format!("v{i}@example.kz"), Kind::Verified).await;
        let voter = p.client().with_token(&voter.token);
        voter.ok(CAST_ID, json!({ "n": noms[0] })).await;
        let d = voter.ok(CATEGORY_COUNT, json!({ "c": category })).await;
        assert_eq!(d["node"]["voteCount"], i + 1, "after vote {}", i + 1);
    }
    // An answer that shows counts waits for its own vote's fold.
    let voter = fixtures::user(&db, "last@example.kz", Kind::Verified).await;
    let d = p
        .client()
        .with_token(&voter.token)
        .ok(
            "mutation($n: ID!) { castVote(nominationId: $n) {
                nomination { voteCount } category { voteCount } } }",
            json!({ "n": noms[1] }),
        )
        .await;
    assert_eq!(d["castVote"]["nomination"]["voteCount"], 1);
    assert_eq!(d["castVote"]["category"]["voteCount"], 5);
    assert_eq!(assert_recount_matches(&db, &category).await, 5);
}

/// A process that stops with votes not yet folded folds them on SIGTERM; one killed outright
/// leaves them in the table, and the next process folds them when it starts.
#[tokio::test(flavor = "multi_thread")]
async fn unfolded_votes_are_folded_at_shutdown_or_by_the_next_process() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    // Folds at start, then not for an hour: every vote below stays unfolded until the process
    // stops or another one starts.
    let slow = [("VOTE_FOLD_INTERVAL_MS", "3600000")];
    let mut p1 = ApiProcess::spawn(&db, &redis, &slow).await;
    let admin = fixtures::user(&db, "admin@example.kz", Kind::Admin)
        .await
        .token;
    let nominator = fixtures::user(&db, "n@example.kz", Kind::Verified)
        .await
        .token;
    let (_award, category, noms) = voting_award(
        &p1.client().with_token(&admin),
        &p1.client().with_token(&nominator),
        2,
        true,
    )
    .await;
    let mut voters = Vec::new();
    for i in 0..4 {
        voters.push(
            fixtures::user(&db, &format!("v{i}@example.kz"), Kind::Verified)
                .await
                .token,
        );
    }
    let unfolded = || async {
        birgemiz_schema::vote_counts::unfolded(&mut db.conn().await)
            .await
            .unwrap()
    };
    for v in &voters[..2] {
        p1.client()
            .with_token(v)
            .ok(CAST_ID, json!({ "n": noms[0] }))
            .await;
    }
    assert_eq!(unfolded().await, 2, "votes wait for the next fold");
    assert!(p1.terminate().await.success());
    assert_eq!(unfolded().await, 0, "folded at shutdown");
    assert_eq!(assert_recount_matches(&db, &category).await, 2);

    let p2 = ApiProcess::spawn(&db, &redis, &slow).await;
    for v in &voters[2..] {
        p2.client()
            .with_token(v)
            .ok(CAST_ID, json!({ "n": noms[1] }))
            .await;
    }
    assert_eq!(unfolded().await, 2);
    drop(p2); // SIGKILL
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(unfolded().await, 2, "a killed process folds nothing");
    let _p3 = ApiProcess::spawn(&db, &redis, &[]).await;
    assert_eq!(assert_recount_matches(&db, &category).await, 4);
}

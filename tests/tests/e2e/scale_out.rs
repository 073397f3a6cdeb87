//! Scaling out: two api processes and two workers on one database and one Redis namespace behave
//! as one deployment. Live counts reach subscribers of both apis whichever api took the vote, a
//! per-user rate limit counts requests to both, and the digest schedule and the reminders take
//! effect once with both workers running.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::smtp::{Captured, SmtpServer};
use birgemiz_tests::worker_harness::{WorkerEnv, sample, scrape};
use birgemiz_tests::{TestDb, TestRedis};
use chrono::{Datelike, Timelike, Utc};
use diesel::sql_types::{BigInt, Text};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use serde_json::json;

use crate::awards_common::*;

const SUBSCRIBE: &str = "subscription($c: ID!) {
    voteCounts(categoryId: $c) { nominationId voteCount categoryVoteCount } }";
/// castVote per user and window, counted in Redis across every api process.
const VOTE_LIMIT: usize = 3;

/// Reads updates until each of `expected` (nomination, count) has shown with the category's
/// `total`, in any order; earlier, superseded counts are skipped, a missing one fails after 10 s.
async fn await_counts(sub: &mut WsSubscription, expected: &[(&str, i64)], total: i64) {
    let mut missing: Vec<(&str, i64)> = expected.to_vec();
    while !missing.is_empty() {
        let msg = sub.next_json().await;
        assert_eq!(msg["type"], "next", "{msg}");
        let u = &msg["payload"]["data"]["voteCounts"];
        missing.retain(|(nomination, count)| {
            !(u["nominationId"] == *nomination
                && u["voteCount"] == *count
                && u["categoryVoteCount"] == total)
        });
    }
}

/// Votes are cast alternately through both apis; subscribers of both see every count.
async fn live_counts_and_rate_limit_across_apis(db: &TestDb, apis: [&ApiProcess; 2]) {
    let admin = apis[0].client().with_token(
        &fixtures::user(db, "admin@example.kz", Kind::Admin)
            .await
            .token,
    );
    let nominator = apis[1].client().with_token(
        &fixtures::user(db, "nominator@example.kz", Kind::Verified)
            .await
            .token,
    );
    let (_award, category, noms) = voting_award(&admin, &nominator, 2, true).await;
    let mut subs = [
        WsSubscription::start(&apis[0].ws_url(), SUBSCRIBE, json!({ "c": category })).await,
        WsSubscription::start(&apis[1].ws_url(), SUBSCRIBE, json!({ "c": category })).await,
    ];

    // Subscriptions register asynchronously: fresh voters vote until both have heard something.
    let mut first_votes = 0i64;
    let mut heard = [false, false];
    for i in 0..10 {
        let voter = fixtures::user(db, &format!("early{i}@example.kz"), Kind::Verified).await;
        apis[i % 2]
            .client()
            .with_token(&voter.token)
            .ok(CAST, json!({ "n": noms[0] }))
            .await;
        first_votes += 1;
        for (sub, heard) in subs.iter_mut().zip(heard.iter_mut()) {
            *heard = *heard || sub.try_next(Duration::from_secs(1)).await.is_some();
        }
        if heard == [true, true] {
            break;
        }
    }
    assert_eq!(heard, [true, true], "both apis' subscribers got updates");
    // Both are registered now, so each vote reaches both, whichever api takes it.
    for api in apis {
        let voter =
            fixtures::user(db, &format!("late{first_votes}@example.kz"), Kind::Verified).await;
        api.client()
            .with_token(&voter.token)
            .ok(CAST, json!({ "n": noms[0] }))
            .await;
        first_votes += 1;
        for sub in &mut subs {
            await_counts(sub, &[(&noms[0], first_votes)], first_votes).await;
        }
    }

    // One voter alternates apis, moving the vote each time: the first VOTE_LIMIT requests pass
    // and every subscriber sees each move; the next one is refused although no single api has
    // seen more than VOTE_LIMIT - 1 of them.
    let voter = fixtures::user(db, "mover@example.kz", Kind::Verified).await;
    let total = first_votes + 1;
    for i in 0..VOTE_LIMIT {
        let (to, from) = if i % 2 == 0 { (1, 0) } else { (0, 1) };
        apis[i % 2]
            .client()
            .with_token(&voter.token)
            .ok(CAST, json!({ "n": noms[to] }))
            .await;
        let (to_count, from_count) = match to {
            1 => (1, first_votes),
            _ => (first_votes + 1, 0),
        };
        // A first vote changes one nomination, a move two.
        let changed = [
            (noms[to].as_str(), to_count),
            (noms[from].as_str(), from_count),
        ];
        for sub in &mut subs {
            await_counts(sub, &changed[..if i == 0 { 1 } else { 2 }], total).await;
        }
    }
    let over = apis[VOTE_LIMIT % 2]
        .client()
        .with_token(&voter.token)
        .error_code(CAST, json!({ "n": noms[0] }))
        .await;
    assert_eq!(over, "RATE_LIMITED");
    #[derive(diesel::QueryableByName)]
    struct Vote {
        #[diesel(sql_type = BigInt)]
        nomination_id: i64,
    }
    let vote: Vote = diesel::sql_query("SELECT nomination_id FROM votes WHERE user_id = $1")
        .bind::<BigInt, _>(voter.id)
        .get_result(&mut db.conn().await)
        .await
        .unwrap();
    assert_eq!(
        vote.nomination_id,
        raw_id(&noms[1]),
        "the refused move did nothing"
    );
    assert_eq!(assert_recount_matches(db, &category).await, total);
}

#[derive(diesel::QueryableByName, Debug)]
struct OutboxRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    recipient: String,
    #[diesel(sql_type = Text)]
    status: String,
}

async fn outbox_rows(db: &TestDb) -> Vec<OutboxRow> {
    diesel::sql_query("SELECT id, kind, recipient, status FROM outbox ORDER BY id")
        .load(&mut db.conn().await)
        .await
        .expect("outbox")
}

/// The outbox id in a message's `Message-ID: <outbox.{id}@domain>`.
fn outbox_id(message: &Captured) -> i64 {
    let raw = String::from_utf8_lossy(&message.raw);
    let start = raw.find("<outbox.").expect("a Message-ID from the outbox") + 8;
    let end = start + raw[start..].find('@').expect("Message-ID domain");
    raw[start..end].parse().expect("numeric outbox id")
}

/// A cron expression (with seconds and year) that fires once, at `at`, in UTC.
fn once_at(at: chrono::DateTime<Utc>) -> String {
    format!(
        "{} {} {} {} {} * {}",
        at.second(),
        at.minute(),
        at.hour(),
        at.day(),
        at.month(),
        at.year()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn two_apis_and_two_workers_act_as_one_deployment() {
    let started = Instant::now();
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let limit = format!("{VOTE_LIMIT}/60");
    let env = [("RATE_LIMIT_VOTE_USER", limit.as_str())];
    let (p1, p2) = tokio::join!(
        ApiProcess::spawn(&db, &redis, &env),
        ApiProcess::spawn(&db, &redis, &env)
    );
    live_counts_and_rate_limit_across_apis(&db, [&p1, &p2]).await;

    // Weekly-digest readers, and a fan of award news who gets the "voting closes" reminder along
    // with every verified user who has not voted (the admin and the nominator).
    db.conn()
        .await
        .batch_execute(
            "INSERT INTO email_subscriptions (email, locale, topics, status, confirmed_at)
             SELECT 'reader' || i || '@example.kz', 'en', '{WEEKLY_DIGEST}', 'ACTIVE', now() - interval '2 days'
             FROM generate_series(1, 3) i;
             INSERT INTO email_subscriptions (email, locale, topics, status, confirmed_at)
             VALUES ('fan@example.kz', 'ru', '{AWARD_UPDATES}', 'ACTIVE', now() - interval '2 days');",
        )
        .await
        .expect("subscribers");
    let smtp = SmtpServer::start().await;
    // Both workers wait for the same fire time and race to start its digest run.
    let fire = Utc::now() + chrono::Duration::seconds(6);
    let workers = WorkerEnv::new(&db.url, &redis.url, &redis.namespace, &smtp.url())
        .set("DIGEST_SCHEDULE", &once_at(fire))
        .set("TIMEZONE", "UTC")
        .set("REMINDER_INTERVAL_SECS", "1");
    let ((mut w1, m1), (mut w2, m2)) = tokio::join!(
        workers.spawn_worker_with_metrics(),
        workers.spawn_worker_with_metrics()
    );
    assert!(
        Utc::now() < fire - chrono::Duration::seconds(1),
        "the workers were not up before the digest fired"
    );

    // Done when every row is final and every sent row reached the server.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = outbox_rows(&db).await;
        let digests = rows.iter().filter(|r| r.kind == "DIGEST").count();
        if digests == 3 && rows.iter().all(|r| r.status != "PENDING") && smtp.count() >= rows.len()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not delivered: {rows:?}, {} messages",
            smtp.count()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Several more reminder and relay ticks in both workers: nothing more may go out.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let rows = outbox_rows(&db).await;
    let messages = smtp.messages();
    let mut copies: BTreeMap<i64, usize> = BTreeMap::new();
    for m in &messages {
        *copies.entry(outbox_id(m)).or_default() += 1;
    }
    assert!(
        copies.values().all(|n| *n == 1),
        "one copy of each email: {copies:?}"
    );
    let sent: BTreeSet<i64> = rows
        .iter()
        .filter(|r| r.status == "SENT")
        .map(|r| r.id)
        .collect();
    assert_eq!(sent.len(), rows.len(), "every row sent: {rows:?}");
    assert_eq!(copies.keys().copied().collect::<BTreeSet<_>>(), sent);
    let recipients = |kind: &str| -> Vec<&str> {
        rows.iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.recipient.as_str())
            .collect()
    };
    assert_eq!(
        recipients("DIGEST"),
        [
            "reader1@example.kz",
            "reader2@example.kz",
            "reader3@example.kz"
        ]
    );
    let mut reminded = recipients("VOTING_CLOSES_REMINDER");
    reminded.sort();
    assert_eq!(
        reminded,
        ["admin@example.kz", "fan@example.kz", "nominator@example.kz"]
    );
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let runs: Count = diesel::sql_query("SELECT count(*) AS n FROM digest_runs")
        .get_result(&mut db.conn().await)
        .await
        .unwrap();
    assert_eq!(runs.n, 1, "the schedule fired once across both workers");

    // The workers' own counts add up to what the server received.
    let (t1, t2) = (scrape(&m1).await, scrape(&m2).await);
    let sent_by = |text: &str| sample(text, "birgemiz_worker_emails_sent_total").unwrap();
    assert_eq!(sent_by(&t1) + sent_by(&t2), messages.len() as f64);
    for text in [&t1, &t2] {
        assert_eq!(sample(text, "birgemiz_worker_outbox_backlog"), Some(0.0));
    }
    w1.kill().await.unwrap();
    w2.kill().await.unwrap();
    eprintln!("scale-out test took {:?}", started.elapsed());
}

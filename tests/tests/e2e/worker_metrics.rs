//! The worker's /metrics, /healthz and /readyz over HTTP from the real binary: delivery outcomes
//! counted as they happen (one sent, one 451 then sent, one 550), and the outbox backlog read from
//! PostgreSQL at scrape time.

use std::time::{Duration, Instant};

use birgemiz_schema::i18n::Locale;
use birgemiz_schema::outbox::{self, Email, NewEmail};
use birgemiz_tests::TestDb;
use birgemiz_tests::redis_ns::PrivateRedis;
use birgemiz_tests::smtp::SmtpServer;
use birgemiz_tests::worker_harness::{WorkerEnv, sample, scrape};
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;

use crate::email_worker::queue_sign_in_link;

fn value(text: &str, series: &str) -> f64 {
    sample(text, series).unwrap_or_else(|| panic!("{series} missing from:\n{text}"))
}

#[derive(diesel::QueryableByName)]
struct Status {
    #[diesel(sql_type = Text)]
    status: String,
}

async fn status_of(db: &TestDb, recipient: &str) -> String {
    let row: Status = diesel::sql_query("SELECT status FROM outbox WHERE recipient = $1")
        .bind::<Text, _>(recipient)
        .get_result(&mut db.conn().await)
        .await
        .expect("outbox row");
    row.status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_outcomes_and_report_the_backlog_and_readiness() {
    let db = TestDb::new().await;
    let redis = PrivateRedis::start().await;
    let smtp = SmtpServer::start().await;
    smtp.set_rule(|addr, prior| match addr {
        "later@example.kz" if prior == 0 => Some("451 4.7.1 greylisted, try later".into()),
        "gone@example.kz" => Some("550 5.1.1 no such user".into()),
        _ => None,
    });
    let ns = format!("birgemiz_test_{}", birgemiz_tests::unique_suffix());
    let env = WorkerEnv::new(&db.url, &redis.url, &ns, &smtp.url());
    let mut conn = db.conn().await;

    // A row written two minutes ago and not due for an hour: it stays in the backlog throughout
    // and is its oldest row.
    let waiting = outbox::enqueue(
        &mut conn,
        NewEmail {
            email: Email::SignInLink {
                token: Some("waiting".into()),
            },
            recipient: "waiting@example.kz".into(),
            locale: Locale::En,
            dedupe_key: "sign-in:waiting".into(),
        },
    )
    .await
    .unwrap()
    .expect("new row");
    diesel::sql_query(
        "UPDATE outbox SET created_at = now() - interval '120 seconds',
                           next_attempt_at = now() + interval '1 hour' WHERE id = $1",
    )
    .bind::<BigInt, _>(waiting)
    .execute(&mut conn)
    .await
    .unwrap();

    let (mut worker, base) = env.spawn_worker_with_metrics().await;
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let before = scrape(&base).await;
    assert_eq!(value(&before, "birgemiz_worker_outbox_backlog"), 1.0);
    let age = value(&before, "birgemiz_worker_outbox_oldest_unsent_age_seconds");
    assert!((120.0..180.0).contains(&age), "oldest row's age: {age}");
    assert_eq!(value(&before, "birgemiz_worker_emails_sent_total"), 0.0);

    for (who, token) in [
        ("ok@example.kz", "t-ok"),
        ("later@example.kz", "t-later"),
        ("gone@example.kz", "t-gone"),
    ] {
        queue_sign_in_link(&mut conn, &redis.url, &ns, who, Locale::En, token).await;
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let states = [
            status_of(&db, "ok@example.kz").await,
            status_of(&db, "later@example.kz").await,
            status_of(&db, "gone@example.kz").await,
        ];
        if states == ["SENT", "SENT", "FAILED"] {
            break;
        }
        assert!(Instant::now() < deadline, "not delivered: {states:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(smtp.count(), 2, "ok@ and later@ (on its second try)");

    let after = scrape(&base).await;
    for (series, want) in [
        ("birgemiz_worker_emails_sent_total", 2.0),
        ("birgemiz_worker_emails_failed_total", 1.0),
        ("birgemiz_worker_emails_retried_total", 1.0),
        ("birgemiz_worker_jobs_total{outcome=\"sent\"}", 2.0),
        ("birgemiz_worker_jobs_total{outcome=\"retry\"}", 1.0),
        ("birgemiz_worker_jobs_total{outcome=\"failed\"}", 1.0),
        ("birgemiz_worker_jobs_total{outcome=\"suppressed\"}", 0.0),
        ("birgemiz_worker_jobs_total{outcome=\"error\"}", 0.0),
        ("birgemiz_worker_outbox_backlog", 1.0),
    ] {
        assert_eq!(value(&after, series), want, "{series} in:\n{after}");
    }
    assert!(value(&after, "birgemiz_worker_outbox_oldest_unsent_age_seconds") >= age);
    assert!(sample(&after, "birgemiz_db_pool_connections{state=\"idle\"}").is_some());

    // Without Redis nothing can be queued: not ready, while /metrics still answers.
    redis.stop().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
        if ready.status() == 503 {
            let body = ready.text().await.unwrap();
            assert!(body.contains("redis: unavailable"), "{body}");
            assert!(body.contains("postgres: ok"), "{body}");
            break;
        }
        assert!(Instant::now() < deadline, "still ready without Redis");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let down = scrape(&base).await;
    assert_eq!(value(&down, "birgemiz_worker_emails_sent_total"), 2.0);
    worker.kill().await.unwrap();
}

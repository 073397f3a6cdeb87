//! The email worker against real PostgreSQL, Redis and an in-process SMTP server, run as the real
//! `birgemiz-worker` binary (build it first: `cargo build -p birgemiz-worker`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use birgemiz_schema::i18n::Locale;
use birgemiz_schema::outbox::{self, Email, NewEmail};
use birgemiz_tests::redis_ns::PrivateRedis;
use birgemiz_tests::smtp::{Captured, SmtpServer};
use birgemiz_tests::worker_harness::WorkerEnv;
use birgemiz_tests::{TestDb, TestRedis};
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(diesel::QueryableByName, Debug)]
struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    attempts: i32,
    #[diesel(sql_type = Text)]
    recipient: String,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    payload: serde_json::Value,
}

async fn rows(conn: &mut AsyncPgConnection) -> Vec<Row> {
    diesel::sql_query("SELECT id, status, attempts, recipient, payload FROM outbox ORDER BY id")
        .load(conn)
        .await
        .expect("outbox rows")
}

/// Writes a sign-in link email with `token` and pushes it after commit, as the api does.
pub(crate) async fn queue_sign_in_link(
    conn: &mut AsyncPgConnection,
    redis_url: &str,
    ns: &str,
    recipient: &str,
    locale: Locale,
    token: &str,
) -> i64 {
    let id = outbox::enqueue(
        conn,
        NewEmail {
            email: Email::SignInLink {
                token: Some(token.into()),
            },
            recipient: recipient.into(),
            locale,
            dedupe_key: format!("sign-in:{token}"),
        },
    )
    .await
    .unwrap()
    .expect("new row");
    outbox::push_after_commit(redis_manager(redis_url).await, ns, &[id])
        .await
        .unwrap();
    id
}

pub(crate) async fn redis_manager(url: &str) -> redis::aio::ConnectionManager {
    birgemiz_schema::redis_conn::connect(url, Duration::from_secs(5))
        .await
        .expect("redis")
}

fn header<'a>(m: &'a mailparse::ParsedMail<'a>, name: &str) -> Vec<String> {
    m.headers
        .iter()
        .filter(|h| h.get_key().eq_ignore_ascii_case(name))
        .map(|h| h.get_value())
        .collect()
}

/// Valid MIME: multipart/alternative with a text and an HTML part and exactly one Message-ID.
fn assert_well_formed(raw: &[u8]) -> String {
    let m = mailparse::parse_mail(raw).expect("message parses as MIME");
    assert_eq!(
        m.ctype.mimetype,
        "multipart/alternative",
        "{}",
        String::from_utf8_lossy(raw)
    );
    let types: Vec<&str> = m
        .subparts
        .iter()
        .map(|p| p.ctype.mimetype.as_str())
        .collect();
    assert_eq!(types, ["text/plain", "text/html"]);
    for p in &m.subparts {
        assert!(!p.get_body().expect("part body").trim().is_empty());
    }
    let ids = header(&m, "Message-ID");
    assert_eq!(ids.len(), 1, "one Message-ID");
    assert_eq!(header(&m, "Date").len(), 1);
    ids[0].clone()
}

fn message_id(c: &Captured) -> String {
    let m = mailparse::parse_mail(&c.raw).expect("parse");
    header(&m, "Message-ID").remove(0)
}

/// Active WEEKLY_DIGEST subscribers `sub{i}@example.kz` and one project published after their last
/// digest, so every one of them has something to read.
pub(crate) async fn seed_digest(conn: &mut AsyncPgConnection, subscribers: i64) {
    for sql in [
        "INSERT INTO organizations (slug, name, kind, country) VALUES ('org', '{\"kk\":\"Ұйым\",\"en\":\"Org\"}', 'NGO', 'KZ')",
        "INSERT INTO projects (slug, organization_id, title, direction, status, country, published_at)
         SELECT 'tree-planting', id, '{\"kk\":\"Ағаш отырғызу\",\"ru\":\"Посадка деревьев\",\"en\":\"Tree <planting>\"}',
                'ENVIRONMENT', 'PUBLISHED', 'KZ', now() - interval '1 hour' FROM organizations",
    ] {
        diesel::sql_query(sql).execute(conn).await.expect("seed");
    }
    diesel::sql_query(
        "INSERT INTO email_subscriptions (email, locale, topics, status, confirmed_at, last_digest_at)
         SELECT 'sub' || i || '@example.kz', (ARRAY['kk','ru','en'])[1 + i % 3], '{WEEKLY_DIGEST}', 'ACTIVE',
                now() - interval '2 days', now() - interval '1 day'
         FROM generate_series(1, $1) i",
    )
    .bind::<BigInt, _>(subscribers)
    .execute(conn)
    .await
    .expect("seed subscribers");
}

fn by_recipient(messages: &[Captured]) -> HashMap<String, Vec<&Captured>> {
    let mut map: HashMap<String, Vec<&Captured>> = HashMap::new();
    for m in messages {
        for r in &m.rcpt_to {
            map.entry(r.clone()).or_default().push(m);
        }
    }
    map
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_row_is_delivered_within_two_seconds_as_valid_mime() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    let shared = TestRedis::new();
    let ns = shared.namespace.clone();
    let env =
        WorkerEnv::new(&db.url, &shared.url, &ns, &smtp.url()).set("RELAY_INTERVAL_MS", "60000");
    let mut worker = env.spawn_worker();
    let mut conn = db.conn().await;
    // A first email proves the worker is up and consuming, so what is measured below is the
    // idle system's latency, not the worker's start-up on a busy test machine.
    queue_sign_in_link(
        &mut conn,
        &shared.url,
        &ns,
        "warm-up@example.kz",
        Locale::En,
        "warm-up",
    )
    .await;
    assert!(
        smtp.wait_for(Duration::from_secs(30), |m| !m.is_empty())
            .await,
        "the worker never started"
    );
    smtp.clear();

    let committed = Instant::now();
    let id = queue_sign_in_link(
        &mut conn,
        &shared.url,
        &ns,
        "Ann@Example.kz",
        Locale::Ru,
        "tok-123",
    )
    .await;
    assert!(
        smtp.wait_for(Duration::from_secs(2), |m| !m.is_empty())
            .await,
        "not delivered within 2 s"
    );
    let elapsed = committed.elapsed();

    let msg = &smtp.messages()[0];
    assert_eq!(msg.rcpt_to, ["ann@example.kz"]);
    let mid = assert_well_formed(&msg.raw);
    assert!(mid.contains(&format!("outbox.{id}@")), "{mid}");
    let parsed = mailparse::parse_mail(&msg.raw).unwrap();
    assert!(
        parsed.subparts[0]
            .get_body()
            .unwrap()
            .contains("https://birgemiz.test/auth/link?token=tok-123")
    );
    assert!(
        header(&parsed, "List-Unsubscribe").is_empty(),
        "transactional mail has no List-Unsubscribe"
    );

    // Marked SENT with the server's answer, and the raw token is gone from the row.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let row = &rows(&mut conn).await[0];
    assert_eq!(row.status, "SENT");
    assert!(
        row.payload.get("token").is_none(),
        "token cleared: {}",
        row.payload
    );
    // A second enqueue with the same dedupe key is a no-op.
    let again = outbox::enqueue(
        &mut conn,
        NewEmail {
            email: Email::SignInLink {
                token: Some("x".into()),
            },
            recipient: "ann@example.kz".into(),
            locale: Locale::Ru,
            dedupe_key: "sign-in:tok-123".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(again, None);
    eprintln!("delivered {elapsed:?} after commit");
    worker.kill().await.unwrap();
}

/// Russian text goes as it is (8bit, declared with BODY=8BITMIME) to a server that offers
/// 8BITMIME, and as base64 to one that does not (which refuses 8-bit bytes); both read the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_goes_8bit_where_the_server_offers_it_and_base64_where_not() {
    let db = TestDb::new().await;
    let shared = TestRedis::new();
    let mut conn = db.conn().await;
    for (n, smtp) in [
        SmtpServer::start().await,
        SmtpServer::start_seven_bit().await,
    ]
    .into_iter()
    .enumerate()
    {
        let ns = format!("{}_{n}", shared.namespace);
        let mut worker = WorkerEnv::new(&db.url, &shared.url, &ns, &smtp.url()).spawn_worker();
        let token = format!("tok-8bit-{n}");
        queue_sign_in_link(
            &mut conn,
            &shared.url,
            &ns,
            "ann@example.kz",
            Locale::Ru,
            &token,
        )
        .await;
        assert!(
            smtp.wait_for(Duration::from_secs(20), |m| !m.is_empty())
                .await,
            "not delivered (8BITMIME offered: {})",
            smtp.offers_eight_bit()
        );
        let msg = &smtp.messages()[0];
        assert_well_formed(&msg.raw);
        let raw = String::from_utf8_lossy(&msg.raw);
        let parsed = mailparse::parse_mail(&msg.raw).unwrap();
        for part in &parsed.subparts {
            let body = part.get_body().unwrap();
            assert!(body.contains("Birgemiz") && body.contains(&token), "{body}");
            assert!(!body.is_ascii(), "the Russian text decodes: {body}");
            let encoding = header(part, "Content-Transfer-Encoding");
            if smtp.offers_eight_bit() {
                assert_eq!(encoding, ["8bit"], "{raw}");
            } else {
                assert_eq!(encoding, ["base64"], "{raw}");
            }
        }
        if smtp.offers_eight_bit() {
            assert!(!msg.raw.is_ascii());
            assert_eq!(msg.mail_params, "BODY=8BITMIME");
        } else {
            assert!(msg.raw.is_ascii(), "{raw}");
            assert_eq!(msg.mail_params, "");
        }
        worker.kill().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_failures_retry_with_growing_gaps_and_permanent_ones_suppress() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    // A fifth of recipients get 451 on their first three tries; two get 550 forever.
    smtp.set_rule(|addr, prior| {
        if addr.starts_with("temp") && prior < 3 {
            Some("451 4.7.1 greylisted, try later".into())
        } else if addr.starts_with("perm") {
            Some("550 5.1.1 no such user".into())
        } else {
            None
        }
    });
    let shared = TestRedis::new();
    let ns = shared.namespace.clone();
    // A gap is the backoff (±25 %, counted from the refusal) plus up to one relay tick plus
    // whatever delay the other tests' load adds; the assertions below allow for the latter.
    let env = WorkerEnv::new(&db.url, &shared.url, &ns, &smtp.url())
        .set("OUTBOX_RETRY_BASE_MS", &RETRY_BASE.as_millis().to_string())
        .set("RELAY_INTERVAL_MS", "100");
    let mut conn = db.conn().await;
    let mut emails = Vec::new();
    for i in 0..20 {
        let who = match i {
            0..4 => format!("temp{i}@example.kz"),
            4..6 => format!("perm{i}@example.kz"),
            _ => format!("ok{i}@example.kz"),
        };
        emails.push(NewEmail {
            email: Email::SubscriptionConfirmation {
                token: Some(format!("t{i}")),
            },
            recipient: who,
            locale: Locale::En,
            dedupe_key: format!("confirm:{i}"),
        });
    }
    let ids = outbox::enqueue_many(&mut conn, &emails).await.unwrap();
    assert_eq!(ids.len(), 20);
    let mut worker = env.spawn_worker();
    outbox::push_after_commit(redis_manager(&shared.url).await, &ns, &ids)
        .await
        .unwrap();

    assert!(
        smtp.wait_for(Duration::from_secs(20), |m| m.len() >= 18)
            .await,
        "only {} delivered",
        smtp.count()
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let messages = smtp.messages();
    let delivered = by_recipient(&messages);
    assert_eq!(smtp.count(), 18, "one copy each");
    for (i, email) in emails.iter().enumerate() {
        let n = delivered.get(&email.recipient).map_or(0, Vec::len);
        assert_eq!(
            n,
            if (4..6).contains(&i) { 0 } else { 1 },
            "{}",
            email.recipient
        );
    }
    for i in 0..4 {
        let times = smtp.rcpt_times(&format!("temp{i}@example.kz"));
        assert_eq!(times.len(), 4, "three refusals then success");
        let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
        // Load only ever lengthens a gap (a late attempt schedules the next from its own
        // failure), so each gap is held to its backoff's floor, 0.75 × base × 2^n, which doubles
        // every time, and the last gap must exceed the first. Comparing neighbours directly
        // failed under full-suite load when one attempt ran 0.7 s late.
        for (n, gap) in gaps.iter().enumerate() {
            let floor = RETRY_BASE.mul_f64(0.75 * f64::from(1u32 << n));
            assert!(*gap >= floor, "retry gap {n} below its backoff: {gaps:?}");
        }
        assert!(gaps[2] > gaps[0], "retry gaps grow: {gaps:?}");
    }
    let all = rows(&mut conn).await;
    for r in &all {
        if r.recipient.starts_with("perm") {
            assert_eq!((r.status.as_str(), r.attempts), ("FAILED", 1), "{r:?}");
        } else {
            assert_eq!(r.status, "SENT", "{r:?}");
        }
    }
    #[derive(diesel::QueryableByName)]
    struct Email_ {
        #[diesel(sql_type = Text)]
        email: String,
    }
    let suppressed: Vec<Email_> =
        diesel::sql_query("SELECT email FROM suppressions ORDER BY email")
            .load(&mut conn)
            .await
            .unwrap();
    let suppressed: Vec<String> = suppressed.into_iter().map(|e| e.email).collect();
    assert_eq!(suppressed, ["perm4@example.kz", "perm5@example.kz"]);

    // Suppressed addresses get no bulk mail: a digest row for one of them ends SUPPRESSED.
    let bulk = outbox::enqueue(
        &mut conn,
        NewEmail {
            email: Email::Digest {
                since: chrono::Utc::now() - chrono::Duration::days(1),
                until: chrono::Utc::now(),
            },
            recipient: "perm4@example.kz".into(),
            locale: Locale::En,
            dedupe_key: "digest:x:perm4".into(),
        },
    )
    .await
    .unwrap()
    .unwrap();
    outbox::push_after_commit(redis_manager(&shared.url).await, &ns, &[bulk])
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        let row = rows(&mut conn)
            .await
            .into_iter()
            .find(|r| r.id == bulk)
            .unwrap();
        if row.status != "PENDING" || Instant::now() > deadline {
            break row.status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, "SUPPRESSED");
    worker.kill().await.unwrap();
}

/// The retry test's backoff base.
const RETRY_BASE: Duration = Duration::from_millis(1000);

/// Subscribers of the fault tests: enough that the faults land while thousands are still queued.
const FAULT_SUBSCRIBERS: usize = 10_000;
/// Parallel sends per worker in the fault tests.
const FAULT_CONCURRENCY: usize = 16;
/// Messages a worker may have handed to SMTP without having recorded them yet: the bound on
/// duplicates per SIGKILL (the worker's `UNRECORDED_PER_SLOT` sends per slot).
const FAULT_IN_FLIGHT: usize = 3 * FAULT_CONCURRENCY;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_survives_redis_flushall_midway() {
    const N: usize = FAULT_SUBSCRIBERS;
    let db = TestDb::new().await;
    let redis = PrivateRedis::start().await;
    let smtp = SmtpServer::start().await;
    let shared = TestRedis::new();
    let ns = shared.namespace.clone();
    let env = WorkerEnv::new(&db.url, &redis.url, &ns, &smtp.url())
        .set("WORKER_CONCURRENCY", &FAULT_CONCURRENCY.to_string());
    let mut conn = db.conn().await;
    seed_digest(&mut conn, N as i64).await;
    let mut worker = env.spawn_worker();
    let started = Instant::now();
    env.digest_now().await;
    for target in [N / 4, N / 2] {
        assert!(
            smtp.wait_for(Duration::from_secs(120), |m| m.len() >= target)
                .await,
            "only {} of {target} delivered",
            smtp.count()
        );
        redis.flushall().await;
        let at_flush = smtp.count();
        eprintln!("FLUSHALL after {at_flush} of {N} delivered");
        assert!(at_flush < N, "the flush must land before the last delivery");
    }
    assert!(
        smtp.wait_for(Duration::from_secs(120), |m| m.len() >= N)
            .await,
        "only {} of {N}",
        smtp.count()
    );
    eprintln!(
        "{N} digests delivered {:?} after digest-now",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let messages = smtp.messages();
    let got = by_recipient(&messages);
    assert_eq!(got.len(), N);
    assert!(got.values().all(|v| v.len() == 1), "exactly once each");
    assert_eq!(smtp.count(), N);
    let m = &messages[0];
    assert_well_formed(&m.raw);
    let parsed = mailparse::parse_mail(&m.raw).unwrap();
    let lu = header(&parsed, "List-Unsubscribe");
    assert_eq!(lu.len(), 1);
    assert!(
        lu[0].starts_with("<https://birgemiz.test/unsubscribe?token="),
        "{lu:?}"
    );
    // The link names the subscription by an opaque token (its id and a MAC keyed with the
    // worker's secret), never by its address: the id part is what the api decodes.
    let token = lu[0]
        .trim_start_matches("<https://birgemiz.test/unsubscribe?token=")
        .trim_end_matches('>');
    let ours = birgemiz_tests::fixtures::unsubscribe_token(&db, &m.rcpt_to[0]).await;
    assert_eq!(
        (token.len(), &token[..12]),
        (ours.len(), &ours[..12]),
        "{token}"
    );
    assert_eq!(
        header(&parsed, "List-Unsubscribe-Post"),
        ["List-Unsubscribe=One-Click"]
    );
    worker.kill().await.unwrap();
    redis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_survives_sigkill_and_restart_with_identical_duplicates() {
    const N: usize = FAULT_SUBSCRIBERS;
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    let shared = TestRedis::new();
    let ns = shared.namespace.clone();
    let env = WorkerEnv::new(&db.url, &shared.url, &ns, &smtp.url())
        .set("WORKER_CONCURRENCY", &FAULT_CONCURRENCY.to_string());
    let mut conn = db.conn().await;
    seed_digest(&mut conn, N as i64).await;
    let mut worker = env.spawn_worker();
    let started = Instant::now();
    env.digest_now().await;
    for target in [N / 5, N / 2, 3 * N / 4] {
        assert!(
            smtp.wait_for(Duration::from_secs(120), |m| m.len() >= target)
                .await,
            "only {} of {target} delivered",
            smtp.count()
        );
        worker.start_kill().unwrap(); // SIGKILL
        worker.wait().await.unwrap();
        let at_kill = smtp.recipient_count();
        eprintln!("SIGKILL after {at_kill} of {N} recipients served");
        assert!(at_kill < N, "the kill must land before the last delivery");
        worker = env.spawn_worker();
    }
    assert!(
        smtp.wait_for_recipients(Duration::from_secs(120), N).await,
        "only {} recipients",
        smtp.recipient_count()
    );
    eprintln!(
        "{N} digests delivered {:?} after digest-now",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let messages = smtp.messages();
    let got = by_recipient(&messages);
    assert_eq!(got.len(), N, "everyone received the digest");
    let mut duplicates = 0;
    for copies in got.values() {
        for c in &copies[1..] {
            duplicates += 1;
            assert_eq!(c.raw, copies[0].raw, "a duplicate is a byte-identical copy");
            assert_eq!(message_id(c), message_id(copies[0]));
        }
    }
    eprintln!("{duplicates} duplicates after 3 kills");
    assert!(
        duplicates <= 3 * FAULT_IN_FLIGHT,
        "at most the messages in flight at the kills"
    );
    worker.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_and_a_double_trigger_make_one_digest_run() {
    const N: usize = 200;
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    let shared = TestRedis::new();
    let ns = shared.namespace.clone();
    let env = WorkerEnv::new(&db.url, &shared.url, &ns, &smtp.url());
    let mut conn = db.conn().await;
    seed_digest(&mut conn, N as i64).await;
    let (mut w1, mut w2) = (env.spawn_worker(), env.spawn_worker());
    let (a, b) = tokio::join!(env.digest_now(), env.digest_now());
    assert_eq!(a, b, "both triggers name the same run");
    assert!(
        smtp.wait_for(Duration::from_secs(30), |m| m.len() >= N)
            .await
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let runs: Count = diesel::sql_query("SELECT count(*) AS n FROM digest_runs")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(runs.n, 1);
    assert_eq!(smtp.count(), N, "one digest each");
    assert!(
        by_recipient(&smtp.messages())
            .values()
            .all(|v| v.len() == 1)
    );
    w1.kill().await.unwrap();
    w2.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nominee_name_with_crlf_and_bcc_injects_no_header() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    let shared = TestRedis::new();
    let ns = shared.namespace.clone();
    let env = WorkerEnv::new(&db.url, &shared.url, &ns, &smtp.url());
    let mut conn = db.conn().await;
    let evil = "Evil\r\nBcc: victim@attacker.kz\r\n\r\n<script>x</script>";
    for sql in [
        "INSERT INTO users (email, display_name, email_verified_at) VALUES ('nominator@example.kz', 'N', now())",
        "INSERT INTO awards (slug, title, year, countries, nomination_opens_at, nomination_closes_at, voting_opens_at, voting_closes_at)
         VALUES ('award', '{\"en\":\"Award\"}', 2026, '{KZ}', now() - interval '1 day', now() + interval '10 days',
                 now() + interval '11 days', now() + interval '20 days')",
        "INSERT INTO award_categories (award_id, title) SELECT id, '{\"en\":\"Category\"}' FROM awards",
    ] {
        diesel::sql_query(sql).execute(&mut conn).await.unwrap();
    }
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let nomination: Id = diesel::sql_query(
        "INSERT INTO nominations (category_id, nominee_name, nominee_key, nominee_kind, statement, country, submitted_by)
         SELECT c.id, $1, 'evil', 'PERSON', 'because', 'KZ', u.id FROM award_categories c, users u RETURNING id",
    )
    .bind::<Text, _>(evil)
    .get_result(&mut conn)
    .await
    .unwrap();
    let id = outbox::enqueue(
        &mut conn,
        NewEmail {
            email: Email::NominationReceipt {
                nomination_id: nomination.id,
            },
            recipient: "nominator@example.kz".into(),
            locale: Locale::En,
            dedupe_key: "nomination-receipt:1".into(),
        },
    )
    .await
    .unwrap()
    .unwrap();
    // The MIME boundary derives from the (sequential) outbox id: a name holding it must not
    // split the 8-bit body into parts of its own.
    diesel::sql_query("UPDATE nominations SET nominee_name = $1")
        .bind::<Text, _>(format!(
            "{evil}\r\n--=_birgemiz_alt_{id}\r\nContent-Type: text/html\r\n\r\nforged\r\n--=_birgemiz_alt_{id}--\r\n"
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut worker = env.spawn_worker();
    outbox::push_after_commit(redis_manager(&shared.url).await, &ns, &[id])
        .await
        .unwrap();
    assert!(
        smtp.wait_for(Duration::from_secs(5), |m| !m.is_empty())
            .await
    );
    let msg = &smtp.messages()[0];
    assert_eq!(
        msg.rcpt_to,
        ["nominator@example.kz"],
        "no extra envelope recipient"
    );
    assert_well_formed(&msg.raw);
    let parsed = mailparse::parse_mail(&msg.raw).unwrap();
    assert!(header(&parsed, "Bcc").is_empty());
    let subject = header(&parsed, "Subject");
    assert_eq!(subject.len(), 1);
    assert!(
        !subject[0].contains('\n') && !subject[0].contains('\r'),
        "{subject:?}"
    );
    let html = parsed.subparts[1].get_body().unwrap();
    assert!(
        !html.contains("<script>") && html.contains("&lt;script&gt;"),
        "HTML escapes user text"
    );
    worker.kill().await.unwrap();
}

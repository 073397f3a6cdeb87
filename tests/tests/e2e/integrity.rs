//! Vote integrity, end to end through HTTP: a simulated campaign (60 honest voters over many
//! networks, 40 accounts from one /24 voting for one nominee within two minutes, each voter's
//! address in `X-Forwarded-For` from a trusted proxy), the report, quarantine and release and
//! what they do to the public counts, the freeze recording the exclusion, what is stored of an
//! address, and the worker forgetting the hashes after the results.

use std::time::{Duration, Instant};

use birgemiz_schema::config::IpRange;
use birgemiz_schema::integrity::Forensics;
use birgemiz_tests::api::{TEST_SECRET, test_config};
use birgemiz_tests::fixtures::{self, Kind, TestUser};
use birgemiz_tests::smtp::SmtpServer;
use birgemiz_tests::worker_harness::WorkerEnv;
use birgemiz_tests::{Gql, TestApi, TestDb, TestRedis};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::awards_common::{CAST, admin_and_nominator, close_voting, raw_id, voting_award};
use crate::public_support::{code, count};

const REPORT: &str = "query($id: ID!) { node(id: $id) { ... on Award { integrityReport {
    generatedAt votesTotal votesQuarantined
    signals { id kind category { id } nomination { id } votes strength firstAt lastAt
              description quarantined quarantineReason } } } } }";
const QUARANTINE: &str =
    "mutation($s: ID!, $r: String!) { quarantineVotes(signalId: $s, reason: $r) {
    id kind votes quarantined quarantineReason } }";
const RELEASE: &str =
    "mutation($s: ID!) { releaseVotes(signalId: $s) { id quarantined quarantineReason } }";
const COUNTS: &str = "query($id: ID!) { node(id: $id) { ... on AwardCategory { voteCount
    viewerVote { nomination { id } } nominations(first: 10) { nodes { id voteCount } } } } }";
const FREEZE: &str =
    "mutation($a: ID!) { freezeResults(awardId: $a) { url votesCounted votesExcluded } }";

const STUFFER_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) StuffBot/1.0";

/// A client whose requests come through the trusted proxy as if from `ip`, with `user_agent`.
fn voter(api: &TestApi, token: &str, ip: &str, user_agent: &str) -> Gql {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", ip.parse().unwrap());
    let http = reqwest::Client::builder()
        .user_agent(user_agent)
        .default_headers(headers)
        .build()
        .unwrap();
    Gql {
        http,
        ..api.client().with_token(token)
    }
}

fn honest_ip(i: usize) -> String {
    // Every honest voter on a network of their own.
    format!("198.{}.{}.{}", 18 + i / 200, i % 200, 10 + i % 7)
}

fn stuffer_ip(i: usize) -> String {
    format!("203.0.113.{}", i + 1)
}

struct Campaign {
    _redis: TestRedis,
    api: TestApi,
    admin: Gql,
    award: String,
    category: String,
    nominations: Vec<String>,
    stuffers: Vec<TestUser>,
}

async fn campaign(db: &TestDb) -> Campaign {
    let redis = TestRedis::new();
    let mut config = test_config(db, &redis);
    config.trusted_proxies = vec![IpRange::parse("127.0.0.0/8").unwrap()];
    let api = TestApi::start_with(config).await;
    let (admin, nominator) = admin_and_nominator(db, &api.client()).await;
    let (award, category, nominations) = voting_award(&admin, &nominator, 5, true).await;
    // 60 honest voters, a dozen for each nominee, from as many networks and a few browsers.
    for i in 0..60 {
        let u = fixtures::user(db, &format!("honest{i}@example.kz"), Kind::Verified).await;
        let ua = format!("Mozilla/5.0 (Windows NT 10.0) Firefox/{}", 120 + i % 4);
        voter(&api, &u.token, &honest_ip(i), &ua)
            .ok(CAST, json!({ "n": nominations[i % 5] }))
            .await;
    }
    // 40 accounts from one office network, for nominee 0, within two minutes.
    let mut stuffers = Vec::new();
    for i in 0..40 {
        let u = fixtures::user(db, &format!("office{i}@example.kz"), Kind::Verified).await;
        voter(&api, &u.token, &stuffer_ip(i), STUFFER_UA)
            .ok(CAST, json!({ "n": nominations[0] }))
            .await;
        stuffers.push(u);
    }
    Campaign {
        _redis: redis,
        api,
        admin,
        award,
        category,
        nominations,
        stuffers,
    }
}

fn signals(report: &Value) -> Vec<Value> {
    report["node"]["integrityReport"]["signals"]
        .as_array()
        .expect("signals")
        .clone()
}

fn of_kind<'a>(signals: &'a [Value], kind: &str) -> Vec<&'a Value> {
    signals.iter().filter(|s| s["kind"] == kind).collect()
}

/// The category's counts as `gql` sees them, once the folds have caught up with `expected`
/// (the counters lag by at most a fold).
async fn counts_until(gql: &Gql, category: &str, expected: &[i64]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let d = gql.ok(COUNTS, json!({ "id": category })).await;
        let got: Vec<i64> = d["node"]["nominations"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["voteCount"].as_i64().unwrap_or(-1))
            .collect();
        if got == expected || Instant::now() > deadline {
            assert_eq!(got, expected, "vote counts");
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stuffing_campaign_is_seen_quarantined_released_and_frozen_out() {
    let db = TestDb::new().await;
    let c = campaign(&db).await;
    let admin = &c.admin;
    let noms = &c.nominations;

    let report = admin
        .with_locale("en")
        .ok(REPORT, json!({ "id": c.award }))
        .await;
    let r = &report["node"]["integrityReport"];
    assert_eq!(r["votesTotal"], 100);
    assert_eq!(r["votesQuarantined"], 0);
    let all = signals(&report);
    let shared = of_kind(&all, "SHARED_NETWORK");
    assert_eq!(shared.len(), 1, "{all:#?}");
    let shared = shared[0].clone();
    assert_eq!(shared["nomination"]["id"], json!(noms[0]));
    assert_eq!(shared["category"]["id"], json!(c.category));
    assert_eq!(shared["votes"], 40);
    assert!(shared["strength"].as_f64().unwrap() >= 5.0, "{shared}");
    assert_eq!(shared["quarantined"], false);
    let burst = of_kind(&all, "BURST");
    assert_eq!(burst.len(), 1, "{all:#?}");
    assert_eq!(burst[0]["nomination"]["id"], json!(noms[0]));
    assert!(burst[0]["votes"].as_i64().unwrap() >= 40);
    let same_client = of_kind(&all, "SAME_CLIENT");
    assert_eq!(same_client.len(), 1, "{all:#?}");
    assert_eq!(same_client[0]["votes"], 40);
    // Every account is new here, honest ones too: no nomination stands out for that.
    assert!(of_kind(&all, "NEW_ACCOUNTS").is_empty(), "{all:#?}");
    // Nothing above the threshold points at an honest nominee.
    for s in &all {
        assert_eq!(s["nomination"]["id"], json!(noms[0]), "{s}");
    }
    assert!(
        shared["description"]
            .as_str()
            .unwrap()
            .starts_with("40 votes for this nomination came from one network"),
        "{shared}"
    );
    // In the request's language, with the same numbers.
    for (locale, word) in [("ru", "голосов"), ("kk", "дауыс")] {
        let r = admin
            .with_locale(locale)
            .ok(REPORT, json!({ "id": c.award }))
            .await;
        let s = of_kind(&signals(&r), "SHARED_NETWORK")[0].clone();
        let d = s["description"].as_str().unwrap();
        assert!(d.contains("40") && d.contains(word), "{locale}: {d}");
    }
    // The same group has the same id in every report, and node(id:) finds it.
    let again = admin.ok(REPORT, json!({ "id": c.award })).await;
    assert_eq!(
        of_kind(&signals(&again), "SHARED_NETWORK")[0]["id"],
        shared["id"]
    );
    let node = admin
        .ok(
            "query($id: ID!) { node(id: $id) { __typename ... on IntegritySignal { kind votes } } }",
            json!({ "id": shared["id"] }),
        )
        .await;
    assert_eq!(
        node["node"],
        json!({ "__typename": "IntegritySignal", "kind": "SHARED_NETWORK", "votes": 40 })
    );

    // Before: 12 honest votes for each nominee, and the office's 40 for nominee 0.
    let honest_viewer = c.api.client();
    counts_until(&honest_viewer, &c.category, &[52, 12, 12, 12, 12]).await;

    let q = admin
        .ok(
            QUARANTINE,
            json!({ "s": shared["id"], "r": "one office, one network" }),
        )
        .await;
    assert_eq!(q["quarantineVotes"]["quarantined"], true);
    assert_eq!(
        q["quarantineVotes"]["quarantineReason"],
        "one office, one network"
    );
    // Exactly the signal's votes leave the public counts.
    let seen = counts_until(&honest_viewer, &c.category, &[12, 12, 12, 12, 12]).await;
    assert_eq!(seen["node"]["voteCount"], 60);
    let report = admin.ok(REPORT, json!({ "id": c.award })).await;
    assert_eq!(report["node"]["integrityReport"]["votesQuarantined"], 40);
    let after = signals(&report);
    let s = after.iter().find(|s| s["id"] == shared["id"]).unwrap();
    assert_eq!(s["quarantined"], true);
    assert_eq!(s["quarantineReason"], "one office, one network");
    // A quarantined voter still sees their own vote; nobody else learns of the quarantine.
    let office = voter(&c.api, &c.stuffers[0].token, &stuffer_ip(0), STUFFER_UA);
    let mine = office.ok(COUNTS, json!({ "id": c.category })).await;
    assert_eq!(
        mine["node"]["viewerVote"]["nomination"]["id"],
        json!(noms[0])
    );
    let body = office.raw(REPORT, json!({ "id": c.award })).await;
    assert_eq!(
        body["data"]["node"]["integrityReport"],
        Value::Null,
        "{body}"
    );
    // Quarantining again changes nothing.
    admin
        .ok(QUARANTINE, json!({ "s": shared["id"], "r": "again" }))
        .await;
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM vote_quarantines").await,
        40
    );

    // Release restores them.
    let rel = admin.ok(RELEASE, json!({ "s": shared["id"] })).await;
    assert_eq!(rel["releaseVotes"]["quarantined"], false);
    counts_until(&honest_viewer, &c.category, &[52, 12, 12, 12, 12]).await;
    let report = admin.ok(REPORT, json!({ "id": c.award })).await;
    assert_eq!(report["node"]["integrityReport"]["votesQuarantined"], 0);

    // Who did what, when and why, in the append-only log.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM vote_quarantine_log WHERE action = 'QUARANTINE' AND votes = 40 AND reason = 'one office, one network'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM vote_quarantine_log WHERE action = 'RELEASE'"
        )
        .await,
        1
    );
    let tamper = diesel::sql_query("DELETE FROM vote_quarantine_log")
        .execute(&mut db.conn().await)
        .await;
    assert!(tamper.is_err(), "the log refuses deletes");

    // Quarantined again, then frozen: the snapshot says what was excluded and why.
    admin
        .ok(
            QUARANTINE,
            json!({ "s": shared["id"], "r": "one office, one network" }),
        )
        .await;
    close_voting(&db, &c.award, 5).await;
    let frozen = admin.ok(FREEZE, json!({ "a": c.award })).await["freezeResults"].clone();
    assert_eq!(frozen["votesCounted"], 60);
    assert_eq!(frozen["votesExcluded"], 40);
    let url = frozen["url"].as_str().unwrap();
    let path = &url[url.find("/results/").unwrap()..];
    let doc: Value = reqwest::get(c.api.url(path))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stuffed = doc["categories"][0]["nominations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == raw_id(&noms[0]))
        .unwrap()
        .clone();
    assert_eq!(stuffed["votes"], 12);
    assert_eq!(stuffed["votesExcluded"], 40);
    assert_eq!(
        stuffed["exclusions"],
        json!([{ "signal": "SHARED_NETWORK", "reason": "one office, one network", "votes": 40 }])
    );
    let text = doc.to_string();
    assert!(!text.contains("203.0.113"), "no address in the document");
    // Frozen: neither can change any more.
    for (query, vars) in [
        (RELEASE, json!({ "s": shared["id"] })),
        (QUARANTINE, json!({ "s": burst[0]["id"], "r": "late" })),
    ] {
        assert_eq!(code(&admin.raw(query, vars).await), "PHASE_CLOSED");
    }
}

#[derive(QueryableByName, Debug)]
struct Hashes {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    user_id: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    net_hash: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    addr_hash: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    ua_hash: Option<i64>,
}

async fn hashes(db: &TestDb) -> Vec<Hashes> {
    diesel::sql_query("SELECT user_id, net_hash, addr_hash, ua_hash FROM vote_events ORDER BY id")
        .load(&mut db.conn().await)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn addresses_are_kept_only_as_keyed_hashes_and_forgotten_after_the_results() {
    let db = TestDb::new().await;
    let c = campaign(&db).await;
    // Nothing in any vote event spells an address.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM vote_events e WHERE row_to_json(e)::text ~ '(198|203)\\.[0-9]+\\.[0-9]+'"
        )
        .await,
        0
    );
    let stored = hashes(&db).await;
    assert_eq!(stored.len(), 100);
    let first = stored
        .iter()
        .find(|h| h.user_id == c.stuffers[0].id)
        .unwrap();
    let expected = Forensics::of(TEST_SECRET, Some(&stuffer_ip(0)), Some(STUFFER_UA));
    assert_eq!(
        (first.net_hash, first.addr_hash, first.ua_hash),
        (expected.net, expected.addr, expected.user_agent)
    );
    // Under another APP_SECRET the same voter hashes to something else.
    let other = Forensics::of(
        "another secret of at least thirty-two characters!",
        Some(&stuffer_ip(0)),
        Some(STUFFER_UA),
    );
    assert_ne!(first.net_hash, other.net);
    assert_ne!(first.addr_hash, other.addr);
    assert_ne!(first.ua_hash, other.user_agent);
    // One office network: 40 addresses, one network hash.
    let office: std::collections::HashSet<Option<i64>> = stored
        .iter()
        .filter(|h| c.stuffers.iter().any(|s| s.id == h.user_id))
        .map(|h| h.net_hash)
        .collect();
    assert_eq!(office.len(), 1);

    // Results out; with a retention of 0 days the worker forgets every hash, and nothing else.
    close_voting(&db, &c.award, 5).await;
    c.admin
        .ok(
            "mutation($a: ID!) { publishResults(awardId: $a) { id } }",
            json!({ "a": c.award }),
        )
        .await;
    let smtp = SmtpServer::start().await;
    let redis = TestRedis::new();
    let mut worker = WorkerEnv::new(&db.url, &redis.url, &redis.namespace, &smtp.url())
        .set("VOTE_FORENSICS_RETENTION_DAYS", "0")
        .set("FORENSICS_PURGE_INTERVAL_SECS", "1")
        .spawn_worker();
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(
        &db,
        "SELECT count(*) AS n FROM vote_events WHERE net_hash IS NOT NULL OR addr_hash IS NOT NULL OR ua_hash IS NOT NULL",
    )
    .await
        > 0
    {
        assert!(Instant::now() < deadline, "the worker forgot the hashes");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    worker.kill().await.ok();
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM vote_events").await,
        100,
        "the votes stay"
    );
    // The log stays append-only for everything but forgetting.
    let tamper = diesel::sql_query("UPDATE vote_events SET to_nomination_id = from_nomination_id")
        .execute(&mut db.conn().await)
        .await;
    assert!(tamper.is_err());
}

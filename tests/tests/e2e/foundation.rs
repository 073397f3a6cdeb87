//! The ground everything stands on: migrations, the schema snapshot, health, the demo seed.

use std::process::Command;

use birgemiz_tests::redis_ns::PrivateRedis;
use birgemiz_tests::{TestApi, TestDb, TestRedis, bin_path, repo_root};
use diesel_async::RunQueryDsl;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn migrations_run_up_down_and_up_again() {
    let db = TestDb::empty().await;
    let ran = birgemiz_schema::db::run_migrations(&db.url)
        .await
        .expect("up");
    assert!(
        ran >= 2,
        "expected the initial migrations to run, ran {ran}"
    );
    assert_eq!(
        table_count(&db).await,
        39,
        "tables after up (38 + diesel's bookkeeping)"
    );
    let reverted = birgemiz_schema::db::revert_all_migrations(&db.url)
        .await
        .expect("down");
    assert_eq!(reverted, ran);
    assert_eq!(
        table_count(&db).await,
        1,
        "only diesel's bookkeeping table remains after down"
    );
    assert_eq!(
        birgemiz_schema::db::run_migrations(&db.url)
            .await
            .expect("up again"),
        ran
    );
    assert_eq!(
        birgemiz_schema::db::run_migrations(&db.url)
            .await
            .expect("no-op"),
        0
    );
}

async fn table_count(db: &TestDb) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let n: N = diesel::sql_query(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .get_result(&mut db.conn().await)
    .await
    .expect("count tables");
    n.n
}

#[tokio::test(flavor = "multi_thread")]
async fn schema_rs_matches_the_migrations() {
    let db = TestDb::new().await;
    let out = Command::new("diesel")
        .args(["print-schema", "--database-url", &db.url])
        .current_dir(repo_root())
        .output()
        .expect("the diesel CLI is needed (./dev test installs it)");
    assert!(
        out.status.success(),
        "diesel print-schema failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed =
        std::fs::read_to_string(repo_root().join("schema/src/tables.rs")).expect("tables.rs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        committed,
        "schema/src/tables.rs is stale: run `diesel print-schema` (see README)"
    );
}

#[test]
fn served_sdl_matches_the_snapshot() {
    let served = birgemiz_api::graphql::sdl();
    let path = repo_root().join("api/schema.graphql");
    if std::env::var("UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &served).expect("write snapshot");
    }
    let snapshot = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        snapshot == served,
        "api/schema.graphql differs from the served SDL: review the change, then run `UPDATE_SCHEMA=1 ./dev test`"
    );
    let printed = Command::new(bin_path("birgemiz-api"))
        .arg("print-schema")
        .output()
        .expect("print-schema");
    assert!(printed.status.success());
    assert_eq!(
        String::from_utf8_lossy(&printed.stdout),
        served,
        "the binary prints the served SDL"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn healthz_and_readyz_answer() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let http = reqwest::Client::new();
    let health = http.get(api.url("/healthz")).send().await.expect("healthz");
    assert_eq!(health.status(), 200);
    let ready = http.get(api.url("/readyz")).send().await.expect("readyz");
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(
        body,
        json!({ "status": "ready", "postgres": "ok", "redis": "ok" })
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_stays_200_with_redis_degraded_and_full_check_is_503_when_redis_is_down() {
    let db = TestDb::new().await;
    let server = PrivateRedis::start().await;
    let mut redis = TestRedis::new();
    redis.url = server.url.clone();
    let api = TestApi::start(&db, &redis).await;
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(api.url("/readyz"))
            .send()
            .await
            .expect("readyz")
            .status(),
        200
    );
    server.stop().await;
    // Without Redis the process still serves (docs/faults.md): ready, reported degraded.
    let resp = http.get(api.url("/readyz")).send().await.expect("readyz");
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(
        body,
        json!({ "status": "degraded", "postgres": "ok", "redis": "degraded" })
    );
    let resp = http
        .get(api.url("/readyz/full"))
        .send()
        .await
        .expect("readyz/full");
    assert_eq!(resp.status(), 503);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["redis"], "unavailable");
    assert_eq!(body["postgres"], "ok");
    assert_eq!(
        http.get(api.url("/healthz"))
            .send()
            .await
            .expect("healthz")
            .status(),
        200
    );
    // The namespace's keys died with that server; nothing to clean on the shared one.
    redis.url = birgemiz_tests::redis_ns::redis_url();
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_demo_twice_gives_the_same_rows() {
    let db = TestDb::new().await;
    let seed = || {
        let out = Command::new(bin_path("birgemiz-api"))
            .arg("seed-demo")
            .env("DATABASE_URL", &db.url)
            .output()
            .expect("seed-demo");
        assert!(
            out.status.success(),
            "seed-demo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    seed();
    let first = dump(&db).await;
    seed();
    let second = dump(&db).await;
    let changed: Vec<&str> = second
        .lines()
        .filter(|l| !first.lines().any(|f| f == *l))
        .collect();
    assert!(
        changed.is_empty(),
        "a second seed-demo changed rows: {:?}",
        &changed[..changed.len().min(3)]
    );
    assert_eq!(first.lines().count(), second.lines().count());
    assert!(
        first.contains("Ұлттық волонтерлік желі"),
        "the network from the article is seeded"
    );
    assert!(first.contains("Volunteer of the Year 2020"));
}

/// Every row of the seeded tables as text, in a stable order.
async fn dump(db: &TestDb) -> String {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let mut conn = db.conn().await;
    let mut out = String::new();
    for table in [
        "organizations",
        "network_memberships",
        "projects",
        "posts",
        "awards",
        "award_categories",
        "nominations",
    ] {
        let rows: Vec<Row> = diesel::sql_query(format!(
            "SELECT t::text AS row FROM {table} t ORDER BY t::text"
        ))
        .load(&mut conn)
        .await
        .expect("dump");
        out.extend(rows.into_iter().map(|r| r.row + "\n"));
    }
    out
}

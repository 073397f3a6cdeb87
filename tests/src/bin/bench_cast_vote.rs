//! Sustained `castVote` throughput over HTTP against the real `birgemiz-api` binary, with
//! PostgreSQL and Redis on the same machine. Run it through `bench/cast_vote.sh` (release build).
//!
//! It makes a fresh database (as the tests do), starts the api next to this binary, creates an
//! award in VOTING with live counts and 10 nominations, and N verified voters with sessions; then
//! C clients cast votes for D seconds, each request a real write (a first vote or a move), and
//! reports votes/s and latency percentiles. Finally the counters are checked against the recount.
//!
//! Options (env): BENCH_CLIENTS (16), BENCH_SECONDS (20), BENCH_VOTERS (4000),
//! BENCH_LIVE_COUNTS (1), plus TEST_DATABASE_URL / TEST_REDIS_URL as for the tests.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use birgemiz_schema::tables::{sessions, users};
use birgemiz_schema::tokens;
use birgemiz_tests::{Gql, TestDb, TestRedis, api::TEST_SECRET};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn at(secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let clients: usize = env_or("BENCH_CLIENTS", 16);
    let seconds: u64 = env_or("BENCH_SECONDS", 20);
    let voters: usize = env_or("BENCH_VOTERS", 4000);
    let live_counts = env_or("BENCH_LIVE_COUNTS", 1) != 0;

    let db = TestDb::new().await;
    let redis = TestRedis::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let api_bin = std::env::current_exe()?
        .parent()
        .context("bench binary directory")?
        .join("birgemiz-api");
    if !api_bin.exists() {
        bail!(
            "{} is missing: build it with the same profile",
            api_bin.display()
        );
    }
    let mut api = tokio::process::Command::new(&api_bin)
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("REDIS_URL", &redis.url)
        .env("REDIS_NAMESPACE", &redis.namespace)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("APP_SECRET", TEST_SECRET)
        .env("RUST_LOG", "warn")
        .env("RATE_LIMIT_VOTE_USER", "1000000/60")
        .env("RATE_LIMIT_VOTE_IP", "100000000/60")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("start birgemiz-api")?;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients * 2)
        .build()?;
    let mut healthy = false;
    for _ in 0..200 {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !healthy {
        bail!("birgemiz-api did not become healthy");
    }
    let gql = Gql {
        endpoint: format!("{base}/graphql"),
        http: http.clone(),
        token: None,
        locale: None,
    };

    // Voters and their sessions, in bulk (the fixture makes one at a time).
    let mut conn = db.conn().await;
    let admin_token = insert_users(&mut conn, "admin", 1, "ADMIN")
        .await?
        .remove(0);
    let voter_tokens = insert_users(&mut conn, "voter", voters, "MEMBER").await?;
    let admin = gql.with_token(&admin_token);

    let a = admin
        .ok(
            "mutation($i: CreateAwardInput!) { createAward(input: $i) { id } }",
            json!({ "i": {
                "title": { "en": "Benchmark award" }, "year": 2026, "countries": ["KZ"],
                "nominationOpensAt": at(-3600), "nominationClosesAt": at(3600),
                "votingOpensAt": at(3601), "votingClosesAt": at(7200), "liveCounts": live_counts } }),
        )
        .await;
    let award = a["createAward"]["id"]
        .as_str()
        .context("award id")?
        .to_owned();
    let c = admin
        .ok(
            "mutation($i: CreateAwardCategoryInput!) { createAwardCategory(input: $i) { id } }",
            json!({ "i": { "awardId": award, "title": { "en": "Category" } } }),
        )
        .await;
    let category = c["createAwardCategory"]["id"]
        .as_str()
        .context("category id")?
        .to_owned();
    let mut noms = Vec::new();
    for i in 0..10 {
        let n = admin
            .ok(
                "mutation($i: SubmitNominationInput!) { submitNomination(input: $i) { id } }",
                json!({ "i": { "categoryId": category, "nomineeName": format!("Nominee {i}"),
                               "nomineeKind": "PERSON", "statement": "s", "country": "KZ" } }),
            )
            .await;
        let id = n["submitNomination"]["id"]
            .as_str()
            .context("nomination id")?
            .to_owned();
        admin
            .ok(
                "mutation($id: ID!) { moderateNomination(id: $id, decision: APPROVE) { id } }",
                json!({ "id": id }),
            )
            .await;
        noms.push(id);
    }
    admin
        .ok(
            "mutation($id: ID!, $i: UpdateAwardInput!) { updateAward(id: $id, input: $i) { id } }",
            json!({ "id": award, "i": {
                "nominationOpensAt": at(-7200), "nominationClosesAt": at(-2),
                "votingOpensAt": at(-1), "votingClosesAt": at(3600) } }),
        )
        .await;

    println!(
        "castVote benchmark: {clients} clients, {seconds} s, {voters} voters, 10 nominations, liveCounts={live_counts}"
    );
    let noms = Arc::new(noms);
    let tokens = Arc::new(voter_tokens);
    // Warm-up: connections, prepared statements, caches.
    run(&gql, &tokens, &noms, clients, Duration::from_secs(2), 1).await;
    let started = Instant::now();
    let outcome = run(
        &gql,
        &tokens,
        &noms,
        clients,
        Duration::from_secs(seconds),
        7,
    )
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    let mut lat = outcome.latencies;
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "votes: {}  errors: {}  elapsed: {elapsed:.1} s",
        lat.len(),
        outcome.errors
    );
    println!("throughput: {:.0} votes/s", lat.len() as f64 / elapsed);
    println!(
        "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0)
    );

    // Once the last votes are folded, the counters must equal the recount from the event log.
    let lag = db.folded().await;
    println!(
        "counters caught up {:.1} ms after the last answer",
        lag.as_secs_f64() * 1e3
    );
    let category_id = decode_id(&category)?;
    let rows = birgemiz_schema::awards::recount(&mut conn, category_id).await?;
    let consistent = rows
        .iter()
        .all(|r| r.from_log == i64::from(r.stored) && r.from_votes == i64::from(r.stored));
    println!(
        "recount: {} (total {} votes)",
        if consistent { "matches" } else { "MISMATCH" },
        rows.iter().map(|r| i64::from(r.stored)).sum::<i64>()
    );
    api.start_kill().ok();
    if !consistent || outcome.errors > 0 {
        bail!("benchmark run was not clean");
    }
    Ok(())
}

struct Outcome {
    latencies: Vec<Duration>,
    errors: usize,
}

/// `clients` loops, each over its own slice of voters, each request a vote for a nomination
/// that differs from the voter's previous one (so every request writes).
async fn run(
    gql: &Gql,
    tokens: &Arc<Vec<String>>,
    noms: &Arc<Vec<String>>,
    clients: usize,
    duration: Duration,
    seed: usize,
) -> Outcome {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (gql, tokens, noms, stop) = (gql.clone(), tokens.clone(), noms.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mine: Vec<&String> = tokens.iter().skip(c).step_by(clients).collect();
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut i = 0usize;
            while !AtomicBool::load(&stop, Ordering::Relaxed) {
                let token = mine[i % mine.len()];
                // Round r sends voter v to nomination (v + r * seed) mod 10: never the same twice.
                let round = i / mine.len();
                let nom = &noms[(i + c + (round + 1) * seed) % noms.len()];
                let t = Instant::now();
                let body: Value = gql
                    .with_token(token)
                    .raw(
                        "mutation($n: ID!) { castVote(nominationId: $n) { id } }",
                        json!({ "n": nom }),
                    )
                    .await;
                if body.get("errors").is_some() {
                    errors += 1;
                    if errors <= 3 {
                        eprintln!("error: {body}");
                    }
                } else {
                    latencies.push(t.elapsed());
                }
                i += 1;
            }
            (latencies, errors)
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut out = Outcome {
        latencies: Vec::new(),
        errors: 0,
    };
    for t in tasks {
        if let Ok((l, e)) = t.await {
            out.latencies.extend(l);
            out.errors += e;
        }
    }
    out
}

async fn insert_users(
    conn: &mut diesel_async::AsyncPgConnection,
    prefix: &str,
    n: usize,
    role: &str,
) -> anyhow::Result<Vec<String>> {
    let mut tokens = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|i| {
                (
                    users::email.eq(format!("{prefix}{i}@bench.kz")),
                    users::display_name.eq(format!("{prefix} {i}")),
                    users::email_verified_at.eq(Some(chrono::Utc::now())),
                    users::role.eq(role),
                )
            })
            .collect();
        let ids: Vec<i64> = diesel::insert_into(users::table)
            .values(rows)
            .returning(users::id)
            .get_results(conn)
            .await?;
        let mut sess = Vec::with_capacity(ids.len());
        for id in ids {
            let token = tokens::random_token();
            sess.push((
                sessions::user_id.eq(id),
                sessions::token_hash.eq(tokens::hash_token(&token)),
                sessions::via_link.eq(false),
                sessions::expires_at.eq(chrono::Utc::now() + chrono::Duration::days(1)),
            ));
            tokens.push(token);
        }
        diesel::insert_into(sessions::table)
            .values(sess)
            .execute(conn)
            .await?;
    }
    Ok(tokens)
}

fn decode_id(global: &str) -> anyhow::Result<i64> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(global)?;
    let raw = String::from_utf8(raw)?;
    Ok(raw.split_once(':').context("global id")?.1.parse()?)
}

//! What the award tests share: awards in a chosen phase, real api processes, a WebSocket client.

use std::process::Stdio;
use std::time::Duration;

use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::{Gql, TestDb, TestRedis, api::TEST_SECRET, bin_path};
use chrono::{DateTime, Utc};
use diesel_async::RunQueryDsl;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub fn at(secs: i64) -> String {
    (Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339()
}

pub const CREATE_AWARD: &str = "mutation($input: CreateAwardInput!) {
    createAward(input: $input) { id slug phase liveCounts } }";
pub const CREATE_CATEGORY: &str = "mutation($input: CreateAwardCategoryInput!) {
    createAwardCategory(input: $input) { id } }";
pub const SUBMIT: &str = "mutation($input: SubmitNominationInput!) {
    submitNomination(input: $input) { id status nomineeName } }";
pub const MODERATE: &str = "mutation($id: ID!, $d: ModerationDecision!, $note: String) {
    moderateNomination(id: $id, decision: $d, note: $note) { id status moderationNote } }";
pub const CAST: &str =
    "mutation($n: ID!) { castVote(nominationId: $n) { id nomination { id } category { id } } }";
pub const UPDATE_AWARD: &str = "mutation($id: ID!, $input: UpdateAwardInput!) {
    updateAward(id: $id, input: $input) { id phase } }";

/// Dates as offsets in seconds from now: nomination opens, closes, voting opens, closes.
pub fn award_input(title: &str, offsets: [i64; 4], live_counts: bool) -> Value {
    json!({
        "title": { "en": title, "ru": format!("{title} (ru)"), "kk": format!("{title} (kk)") },
        "description": { "en": "For the best volunteer projects of Kazakhstan and Russia" },
        "year": 2026,
        "countries": ["KZ", "RU"],
        "nominationOpensAt": at(offsets[0]),
        "nominationClosesAt": at(offsets[1]),
        "votingOpensAt": at(offsets[2]),
        "votingClosesAt": at(offsets[3]),
        "liveCounts": live_counts,
    })
}

/// An award in the NOMINATION phase with one category; returns (award id, category id).
pub async fn nominating_award(admin: &Gql, title: &str, live_counts: bool) -> (String, String) {
    let a = admin
        .ok(
            CREATE_AWARD,
            json!({ "input": award_input(title, [-3600, 3600, 7200, 10800], live_counts) }),
        )
        .await;
    let award_id = a["createAward"]["id"].as_str().unwrap().to_owned();
    let c = admin
        .ok(
            CREATE_CATEGORY,
            json!({ "input": { "awardId": award_id, "title": { "en": "Project of the year" } } }),
        )
        .await;
    (
        award_id,
        c["createAwardCategory"]["id"].as_str().unwrap().to_owned(),
    )
}

pub async fn submit(user: &Gql, category: &str, name: &str) -> String {
    let d = user
        .ok(
            SUBMIT,
            json!({ "input": {
                "categoryId": category, "nomineeName": name, "nomineeKind": "PERSON",
                "statement": "Organised winter help for elderly people", "country": "KZ" } }),
        )
        .await;
    d["submitNomination"]["id"].as_str().unwrap().to_owned()
}

/// Moves an award's dates so that voting is open now (allowed: voting has not opened yet).
pub async fn open_voting(admin: &Gql, award_id: &str, closes_in: i64) {
    let d = admin
        .ok(
            UPDATE_AWARD,
            json!({ "id": award_id, "input": {
                "nominationOpensAt": at(-7200), "nominationClosesAt": at(-2),
                "votingOpensAt": at(-1), "votingClosesAt": at(closes_in) } }),
        )
        .await;
    assert_eq!(d["updateAward"]["phase"], "VOTING");
}

/// The two people an award's setup needs, signed in through `client`'s api: an admin and a
/// verified nominator.
pub async fn admin_and_nominator(db: &TestDb, client: &Gql) -> (Gql, Gql) {
    let admin = fixtures::user(db, "admin@example.kz", Kind::Admin).await;
    let nominator = fixtures::user(db, "n@example.kz", Kind::Verified).await;
    (
        client.with_token(&admin.token),
        client.with_token(&nominator.token),
    )
}

/// An award in VOTING with `n` approved nominations in one category.
pub async fn voting_award(
    admin: &Gql,
    nominator: &Gql,
    n: usize,
    live_counts: bool,
) -> (String, String, Vec<String>) {
    let (award, category) = nominating_award(admin, "Volunteer of the Year", live_counts).await;
    let mut noms = Vec::new();
    for i in 0..n {
        let id = submit(nominator, &category, &format!("Nominee {i}")).await;
        admin
            .ok(MODERATE, json!({ "id": id, "d": "APPROVE" }))
            .await;
        noms.push(id);
    }
    open_voting(admin, &award, 3600).await;
    (award, category, noms)
}

/// The numeric id inside a global ID.
pub fn raw_id(global: &str) -> i64 {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(global)
        .expect("base64 id");
    let raw = String::from_utf8(raw).expect("utf8 id");
    raw.split_once(':').unwrap().1.parse().unwrap()
}

/// For every nomination of the category: the count from the event log, from the votes table,
/// and the stored counter, which must all agree; returns the category total.
pub async fn assert_recount_matches(db: &TestDb, category_global: &str) -> i64 {
    let category = raw_id(category_global);
    db.folded().await;
    let mut conn = db.conn().await;
    let rows = birgemiz_schema::awards::recount(&mut conn, category)
        .await
        .expect("recount");
    for r in &rows {
        assert_eq!(
            r.from_log,
            i64::from(r.stored),
            "log vs stored for nomination {}: {rows:?}",
            r.nomination_id
        );
        assert_eq!(
            r.from_votes,
            i64::from(r.stored),
            "votes vs stored: {rows:?}"
        );
    }
    let total: i64 = rows.iter().map(|r| i64::from(r.stored)).sum();
    let from_log = birgemiz_schema::awards::category_total_from_log(&mut conn, category)
        .await
        .expect("log total");
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        n: i32,
    }
    let stored: N = diesel::sql_query("SELECT vote_count AS n FROM award_categories WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(category)
        .get_result(&mut conn)
        .await
        .expect("category count");
    assert_eq!(
        i64::from(stored.n),
        total,
        "category counter vs nominations"
    );
    assert_eq!(from_log, total, "category total from the log");
    total
}

/// Sets an award's dates directly (for what the API refuses once voting opened: closing it).
pub async fn set_dates(db: &TestDb, award_global: &str, dates: [DateTime<Utc>; 4]) {
    diesel::sql_query(
        "UPDATE awards SET nomination_opens_at = $2, nomination_closes_at = $3,
                           voting_opens_at = $4, voting_closes_at = $5 WHERE id = $1",
    )
    .bind::<diesel::sql_types::BigInt, _>(raw_id(award_global))
    .bind::<diesel::sql_types::Timestamptz, _>(dates[0])
    .bind::<diesel::sql_types::Timestamptz, _>(dates[1])
    .bind::<diesel::sql_types::Timestamptz, _>(dates[2])
    .bind::<diesel::sql_types::Timestamptz, _>(dates[3])
    .execute(&mut db.conn().await)
    .await
    .expect("set dates");
}

/// Closes voting a second ago: nominations opened `hours` ago, and each later phase began an
/// hour after the one before (what the API refuses once voting opened).
pub async fn close_voting(db: &TestDb, award_global: &str, hours: i64) {
    let now = Utc::now();
    let h = chrono::Duration::hours;
    set_dates(
        db,
        award_global,
        [
            now - h(hours),
            now - h(hours - 1),
            now - h(hours - 2),
            now - chrono::Duration::seconds(1),
        ],
    )
    .await;
}

/// A real `birgemiz-api` process on a free port; killed when dropped.
pub struct ApiProcess {
    pub base: String,
    child: tokio::process::Child,
}

impl ApiProcess {
    pub async fn spawn(db: &TestDb, redis: &TestRedis, env: &[(&str, &str)]) -> ApiProcess {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().unwrap().port()
        };
        let mut cmd = tokio::process::Command::new(bin_path("birgemiz-api"));
        cmd.arg("serve")
            .env("DATABASE_URL", &db.url)
            .env("REDIS_URL", &redis.url)
            .env("REDIS_NAMESPACE", &redis.namespace)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("APP_SECRET", TEST_SECRET)
            .env("RUST_LOG", "warn")
            // As tests/src/api.rs: live-count tests use a handful of votes.
            .env("LIVE_COUNTS_MIN_VOTES", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn birgemiz-api");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = http.get(format!("{base}/healthz")).send().await
                && r.status().is_success()
            {
                return ApiProcess { base, child };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("birgemiz-api did not become healthy on port {port}");
    }

    pub fn client(&self) -> Gql {
        Gql {
            endpoint: format!("{}/graphql", self.base),
            http: reqwest::Client::new(),
            token: None,
            locale: None,
        }
    }

    pub fn ws_url(&self) -> String {
        format!("{}/graphql/ws", self.base.replacen("http", "ws", 1))
    }

    /// SIGTERM, as an orchestrator stops it; returns once it exited, with how.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("still running");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {pid}");
        tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("birgemiz-api exits within 10 s of SIGTERM")
            .expect("wait for birgemiz-api")
    }
}

impl Drop for ApiProcess {
    fn drop(&mut self) {
        // kill_on_drop also does it; this makes it immediate.
        self.child.start_kill().ok();
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A graphql-transport-ws client with one subscription.
pub struct WsSubscription {
    ws: Ws,
}

impl WsSubscription {
    pub async fn start(url: &str, query: &str, variables: Value) -> WsSubscription {
        let mut req = url.into_client_request().expect("ws request");
        req.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("ws connect");
        ws.send(Message::text(
            json!({ "type": "connection_init" }).to_string(),
        ))
        .await
        .expect("init");
        let mut sub = WsSubscription { ws };
        let ack = sub.next_json().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        sub.ws
            .send(Message::text(
                json!({ "id": "1", "type": "subscribe",
                        "payload": { "query": query, "variables": variables } })
                .to_string(),
            ))
            .await
            .expect("subscribe");
        sub
    }

    /// The next protocol message (pings are answered and skipped).
    pub async fn next_json(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("a WebSocket message within 10 s")
                .expect("stream open")
                .expect("ws message");
            match msg {
                Message::Text(t) => {
                    let v: Value = serde_json::from_str(&t).expect("json");
                    if v["type"] == "ping" {
                        self.ws
                            .send(Message::text(json!({ "type": "pong" }).to_string()))
                            .await
                            .ok();
                        continue;
                    }
                    return v;
                }
                Message::Ping(p) => {
                    self.ws.send(Message::Pong(p)).await.ok();
                }
                Message::Close(c) => panic!("socket closed: {c:?}"),
                _ => {}
            }
        }
    }

    /// Every protocol message until the server closes the socket, and its close frame; panics
    /// if that takes longer than `within`.
    pub async fn until_closed(
        &mut self,
        within: Duration,
    ) -> (
        Vec<Value>,
        Option<tokio_tungstenite::tungstenite::protocol::CloseFrame>,
    ) {
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .expect("the server closes the WebSocket in time");
            match msg {
                Some(Ok(Message::Text(t))) => seen.push(serde_json::from_str(&t).expect("json")),
                Some(Ok(Message::Close(frame))) => return (seen, frame),
                Some(Ok(_)) => {}
                Some(Err(e)) => panic!("WebSocket cut without a close frame: {e}"),
                None => panic!("WebSocket ended without a close frame"),
            }
        }
    }

    /// The next message, or None if nothing arrives in `wait`.
    pub async fn try_next(&mut self, wait: Duration) -> Option<Value> {
        tokio::time::timeout(wait, self.next_json()).await.ok()
    }
}

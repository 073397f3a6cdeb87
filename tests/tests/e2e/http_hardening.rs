//! GraphQL over HTTP as the spec wants it, request limits, production mode, metrics, CORS.

use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::process::ApiProcess;
use birgemiz_tests::{TestApi, TestDb, TestRedis, bin_path};
use serde_json::{Value, json};

const GQL_RESPONSE: &str = "application/graphql-response+json";

async fn setup() -> (TestDb, TestRedis, TestApi) {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    (db, redis, api)
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_in_the_media_type_asked_for() {
    let (_db, _redis, api) = setup().await;
    let http = reqwest::Client::new();
    let post = |accept: &'static str, query: &'static str| {
        http.post(api.url("/graphql"))
            .header("accept", accept)
            .json(&json!({ "query": query }))
            .send()
    };
    let ok = post(GQL_RESPONSE, "{ stats { organizationCount } }")
        .await
        .expect("post");
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["content-type"], GQL_RESPONSE);

    let parse_error = post(GQL_RESPONSE, "{ stats { ").await.expect("post");
    assert_eq!(parse_error.status(), 400);
    let body: Value = parse_error.json().await.expect("json");
    assert!(
        body.get("data").is_none(),
        "no data for a request that never executed: {body}"
    );
    assert!(body["errors"][0]["message"].is_string());

    let invalid = post(GQL_RESPONSE, "{ noSuchField }").await.expect("post");
    assert_eq!(invalid.status(), 400, "validation errors are 400 too");

    let legacy = post("application/json", "{ stats { ").await.expect("post");
    assert_eq!(
        legacy.status(),
        200,
        "application/json clients always get 200"
    );
    assert_eq!(legacy.headers()["content-type"], "application/json");
}

#[tokio::test(flavor = "multi_thread")]
async fn get_serves_queries_and_refuses_mutations() {
    let (db, _redis, api) = setup().await;
    let user = fixtures::user(&db, "get@example.kz", Kind::Verified).await;
    let http = reqwest::Client::new();
    let query = http
        .get(api.url("/graphql"))
        .query(&[("query", "{ stats { projectCount } }")])
        .send()
        .await
        .expect("get");
    assert_eq!(query.status(), 200);
    let mutation = http
        .get(api.url("/graphql"))
        .bearer_auth(&user.token)
        .query(&[("query", "mutation { signOut }")])
        .send()
        .await
        .expect("get");
    assert_eq!(mutation.status(), 405);
    assert_eq!(mutation.headers()["allow"], "POST");
    let viewer = api
        .client()
        .with_token(&user.token)
        .ok("{ viewer { displayName } }", json!({}))
        .await;
    assert_eq!(
        viewer["viewer"]["displayName"], "get",
        "the GET changed nothing: the session lives"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_bodies_that_are_not_json() {
    let (db, _redis, api) = setup().await;
    let user = fixtures::user(&db, "forms@example.kz", Kind::Verified).await;
    let http = reqwest::Client::new();
    let body = json!({ "query": "mutation { signOut }" }).to_string();
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let resp = http
            .post(api.url("/graphql"))
            .bearer_auth(&user.token)
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 415, "{content_type} must be refused");
    }
    let viewer = api
        .client()
        .with_token(&user.token)
        .ok("{ viewer { displayName } }", json!({}))
        .await;
    assert_eq!(
        viewer["viewer"]["displayName"], "forms",
        "the refused requests signed nobody out"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn limits_reject_abusive_shapes_before_execution() {
    let (_db, _redis, api) = setup().await;
    let http = reqwest::Client::new();
    let send = |body: String| {
        http.post(api.url("/graphql"))
            .header("content-type", "application/json")
            .header("accept", GQL_RESPONSE)
            .body(body)
            .send()
    };
    let huge =
        json!({ "query": format!("{{ stats {{ projectCount }} }} #{}", "x".repeat(1024 * 1024)) });
    assert_eq!(
        send(huge.to_string()).await.expect("post").status(),
        413,
        "over 1 MiB"
    );

    let long =
        json!({ "query": format!("{{ stats {{ projectCount }} }} #{}", "x".repeat(40 * 1024)) });
    assert_eq!(
        send(long.to_string()).await.expect("post").status(),
        400,
        "query over 32 KiB"
    );

    let aliases: Vec<String> = (0..31)
        .map(|i| format!("a{i}: stats {{ projectCount }}"))
        .collect();
    let aliased = json!({ "query": format!("{{ {} }}", aliases.join(" ")) });
    let resp = send(aliased.to_string()).await.expect("post");
    assert_eq!(resp.status(), 400, "31 aliases");
    let body: Value = resp.json().await.expect("json");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("aliases")
    );

    let batch = json!([{ "query": "{ stats { projectCount } }" }, { "query": "{ stats { projectCount } }" }]);
    assert_eq!(
        send(batch.to_string()).await.expect("post").status(),
        400,
        "batches are refused"
    );

    // Introspection is where deep queries usually hide; it is limited like any other field.
    let nested = format!(
        "{{ __schema {{ types {{ {}name{} }} }} }}",
        "fields { type { ".repeat(6),
        " } }".repeat(6)
    );
    let resp = send(json!({ "query": nested }).to_string())
        .await
        .expect("post");
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.expect("json");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("deeper"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_requests_and_errors() {
    let (_db, _redis, api) = setup().await;
    let client = api.client();
    client
        .ok("query FrontPage { stats { projectCount } }", json!({}))
        .await;
    client.raw("query Broken { nope }", json!({})).await;
    let text = reqwest::get(api.url("/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains("birgemiz_graphql_requests_total{operation=\"FrontPage\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("birgemiz_graphql_request_duration_seconds_count{operation=\"FrontPage\"} 1")
    );
    assert!(
        text.contains("birgemiz_graphql_errors_total{code=\"GRAPHQL_VALIDATION_FAILED\"} 1"),
        "{text}"
    );
    assert!(text.contains("birgemiz_db_pool_connections{state=\"in_use\"}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_allows_only_listed_origins_and_pages_carry_security_headers() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let mut config = birgemiz_tests::api::test_config(&db, &redis);
    config.cors_allowed_origins = vec!["https://birgemiz.kz".into()];
    let api = TestApi::start_with(config).await;
    let http = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, api.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, authorization",
            )
            .send()
    };
    let allowed = preflight("https://birgemiz.kz").await.expect("preflight");
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://birgemiz.kz"
    );
    let denied = preflight("https://evil.example").await.expect("preflight");
    assert!(
        denied
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let page = http
        .get(api.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("graphiql");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(
        page.text().await.expect("html").contains("graphiql"),
        "GraphiQL in development"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn production_requires_a_secret() {
    let out = std::process::Command::new(bin_path("birgemiz-api"))
        .arg("migrate")
        .env("APP_ENV", "production")
        .env_remove("APP_SECRET")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("APP_SECRET is required"), "{stderr}");
    assert!(
        !stderr.contains("panicked"),
        "a one-line reason, not a panic: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn production_hides_graphiql_introspection_suggestions_and_internals() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = ApiProcess::spawn(&db, &redis, &[("APP_ENV", "production")]).await;
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{}/graphql", api.base))
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    assert_ne!(page.status(), 200, "no GraphiQL in production");

    let gql = |query: &'static str| {
        http.post(format!("{}/graphql", api.base))
            .json(&json!({ "query": query }))
            .send()
    };
    let intro: Value = gql("{ __schema { types { name } } }")
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert!(
        intro["data"]["__schema"].is_null(),
        "introspection is off: {intro}"
    );
    let typo: Value = gql("{ stat { projectCount } }")
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let message = typo["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        !message.contains("Did you mean"),
        "no suggestions: {message}"
    );

    // Break the database under the running server: the next query fails inside PostgreSQL.
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut db.conn().await,
        // What `stats` reads (the front page's trigger-kept counters).
        "DROP TABLE platform_counts CASCADE",
    )
    .await
    .expect("drop");
    let failed: Value = gql("{ stats { applicationCount } }")
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let error = &failed["errors"][0];
    assert_eq!(error["extensions"]["code"], "INTERNAL");
    let request_id = error["extensions"]["requestId"]
        .as_str()
        .expect("a request id")
        .to_owned();
    let text = failed.to_string();
    assert!(
        !text.contains("platform_counts") && !text.contains("relation"),
        "no SQL details: {text}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let log = api.log_text();
    let line = log
        .lines()
        .find(|l| l.contains(&request_id) && l.contains("internal error"));
    assert!(
        line.is_some_and(|l| l.contains("platform_counts")),
        "the log has the cause next to the id: {log}"
    );
}

/// Connections the server closed while they sat in the pool (a restart, a terminated backend)
/// are replaced when drawn: no request fails for them.
#[tokio::test(flavor = "multi_thread")]
async fn pooled_connections_closed_by_the_server_fail_no_request() {
    use diesel_async::SimpleAsyncConnection;
    let (db, _redis, api) = setup().await;
    let q = "{ stats { organizationCount } organizations(first: 3) { nodes { id } } }";
    let burst = || async {
        let calls = (0..12).map(|_| async { api.client().raw(q, json!({})).await });
        futures_util::future::join_all(calls).await
    };
    for body in burst().await {
        assert_eq!(body["data"]["stats"]["organizationCount"], 0, "{body}");
    }
    db.conn()
        .await
        .batch_execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await
        .expect("terminate the api's connections");
    // Long enough for the client side of each connection to read the server's goodbye.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    for body in burst().await {
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(body["data"]["stats"]["organizationCount"], 0, "{body}");
    }
}

/// Requests beyond `GRAPHQL_CONCURRENCY` wait for a turn instead of failing, and are served
/// once one frees: here the test holds the only turn itself.
#[tokio::test]
async fn requests_beyond_the_concurrency_limit_wait_their_turn() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let mut config = birgemiz_tests::api::test_config(&db, &redis);
    config.graphql_concurrency = 1;
    let api = TestApi::start_with(config).await;
    let gql = api.client();
    let query = "{ stats { organizationCount } }";
    assert_eq!(
        gql.ok(query, json!({})).await,
        json!({ "stats": { "organizationCount": 0 } })
    );

    let turn = api.state.executing.acquire().await.expect("a turn");
    let waiting = tokio::spawn({
        let gql = gql.clone();
        async move { gql.ok(query, json!({})).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "a request ran without a turn");
    drop(turn);
    let answer = tokio::time::timeout(std::time::Duration::from_secs(10), waiting)
        .await
        .expect("the waiting request is served once a turn frees")
        .expect("request task");
    assert_eq!(answer, json!({ "stats": { "organizationCount": 0 } }));

    // Many at once through one turn: all served, none refused.
    let answers = futures_util::future::join_all((0..16).map(|_| gql.ok(query, json!({})))).await;
    assert!(answers.iter().all(|a| a["stats"]["organizationCount"] == 0));
}

/// A kept document that the strict schema accepted without variables skips the validation rules
/// afterwards (they could only come out the same). With variables it is validated in full again,
/// their values included, and a document that failed is refused every time.
#[tokio::test(flavor = "multi_thread")]
async fn documents_are_validated_in_full_until_accepted_and_whenever_they_bring_variables() {
    let (_db, _redis, api) = setup().await;
    let gql = api.client();
    // Unique texts: the kept documents are process-wide, shared with the other tests.
    const Q: &str = "query validatedOnce($n: Int) { organizations(first: $n) { totalCount } }";
    for _ in 0..3 {
        let d = gql.ok(Q, json!({})).await;
        assert_eq!(d["organizations"]["totalCount"], 0);
    }
    let bad = gql.raw(Q, json!({ "n": "ten" })).await;
    let message = bad["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("Invalid value for argument"),
        "a variable's value is validated: {bad}"
    );
    assert!(bad["data"].is_null(), "{bad}");
    let d = gql.ok(Q, json!({ "n": 2 })).await;
    assert_eq!(d["organizations"]["totalCount"], 0);

    const INVALID: &str = "query neverValid { organizations(first: 1) { totalCount nope } }";
    for _ in 0..3 {
        let r = gql.raw(INVALID, json!({})).await;
        let message = r["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("Unknown field \"nope\""), "{r}");
        assert!(r["data"].is_null(), "{r}");
    }
}

//! GraphQL semantics clients rely on, over HTTP against the demo data: field errors as the
//! spec handles them (null propagation, every selected key present, one error per nulled
//! position, selection order), over POST and GET, with and without variables.
//!
//! Where the spec leaves room, graphql-js 16.15 (`graphql` on npm, `execute` with async
//! resolvers) decided: its answers for the same documents on a tiny schema of the same shape
//! (Query.stats: Stats!, projects(first): ProjectConnection!, organization(slug): Organization,
//! node(id): Node, ProjectConnection.nodes: [Project!]!, resolvers rejecting `first` > 100)
//! were, recorded once:
//! - `{ s: stats {…} p: projects(first: 1000) {…} }` → `data: null`, one error at `["p"]`;
//! - two non-null errors under one nullable parent (`o { p1: projects(first: 1000) p2: … }`)
//!   → `{"o": null}` and only the first error (`["o","p1"]`): completion stops at the first
//!   null that nulls the parent, so later siblings are never completed;
//! - a non-null error in each of two list items → the list's nearest nullable ancestor null,
//!   one error (the first item's);
//! - two nullable parents each nulled → both errors, in response order;
//! - `node(id: "bad")` rejecting → `{"x": null}` with its siblings kept;
//! - `node` resolving to an object none of whose fragments applies → `{"x": {}}`.

use birgemiz_tests::{TestApi, TestDb, TestRedis};
use serde_json::{Value, json};

pub async fn demo_api() -> (TestDb, TestRedis, TestApi) {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    birgemiz_api::seed_demo::run(&api.state.pool)
        .await
        .expect("demo data");
    (db, redis, api)
}

/// The response body as bytes (as text) of a POST.
pub async fn post(api: &TestApi, query: &str, variables: Option<Value>) -> String {
    let mut body = json!({ "query": query });
    if let Some(v) = variables {
        body["variables"] = v;
    }
    let resp = reqwest::Client::new()
        .post(api.url("/graphql"))
        // The expected bodies hold the domain's English messages, and NAME sorts in English.
        .header("accept-language", "en")
        .json(&body)
        .send()
        .await
        .expect("POST /graphql");
    resp.text().await.expect("body")
}

/// The response body of a GET.
pub async fn get(api: &TestApi, query: &str, variables: Option<Value>) -> String {
    let mut params = vec![("query", query.to_owned())];
    if let Some(v) = variables {
        params.push(("variables", v.to_string()));
    }
    let resp = reqwest::Client::new()
        .get(api.url("/graphql"))
        .header("accept-language", "en")
        .query(&params)
        .send()
        .await
        .expect("GET /graphql");
    resp.text().await.expect("body")
}

/// (query, variables, the exact response body). `first: 1000` is refused by the resolver.
pub fn cases() -> Vec<(&'static str, Option<Value>, &'static str)> {
    vec![
        // A non-null root field's error nulls `data`.
        (
            r#"{ s: stats { projectCount } p: projects(first: 1000) { totalCount } }"#,
            None,
            r#"{"data":null,"errors":[{"message":"must be at most 100","locations":[{"line":1,"column":29}],"path":["p"],"extensions":{"code":"BAD_USER_INPUT","field":"first"}}]}"#,
        ),
        // A non-null field's error nulls its nearest nullable ancestor.
        (
            r#"{ o: organization(slug: "volunteer-league") { name projects(first: 1000) { totalCount } } }"#,
            None,
            r#"{"data":{"o":null},"errors":[{"message":"must be at most 100","locations":[{"line":1,"column":52}],"path":["o","projects"],"extensions":{"code":"BAD_USER_INPUT","field":"first"}}]}"#,
        ),
        // A nullable field's error is null in its place.
        (
            r#"{ x: node(id: "bad") { id } }"#,
            None,
            r#"{"data":{"x":null},"errors":[{"message":"is not a valid ID","locations":[{"line":1,"column":3}],"path":["x"],"extensions":{"code":"BAD_USER_INPUT","field":"id"}}]}"#,
        ),
        // ... and keeps its siblings, in selection order.
        (
            r#"{ x: node(id: "bad") { id } s: stats { organizationCount } }"#,
            None,
            r#"{"data":{"x":null,"s":{"organizationCount":10}},"errors":[{"message":"is not a valid ID","locations":[{"line":1,"column":3}],"path":["x"],"extensions":{"code":"BAD_USER_INPUT","field":"id"}}]}"#,
        ),
        // A list item of a non-null type nulls the list, up to `data` here; one error.
        (
            r#"{ organizations(first: 2, orderBy: NAME) { nodes { slug projects(first: 1000) { totalCount } } } }"#,
            None,
            r#"{"data":null,"errors":[{"message":"must be at most 100","locations":[{"line":1,"column":57}],"path":["organizations","nodes",0,"projects"],"extensions":{"code":"BAD_USER_INPUT","field":"first"}}]}"#,
        ),
        // The same when every field of the items fails (the fast path's `{}` before).
        (
            r#"{ s: stats { projectCount } organizations(first: 2, orderBy: NAME) { nodes { projects(first: 1000) { totalCount } } } }"#,
            None,
            r#"{"data":null,"errors":[{"message":"must be at most 100","locations":[{"line":1,"column":78}],"path":["organizations","nodes",0,"projects"],"extensions":{"code":"BAD_USER_INPUT","field":"first"}}]}"#,
        ),
        // Two nullable parents nulled: two errors, in response order.
        (
            r#"{ b: organization(slug: "28-ilmek") { projects(first: 1000) { totalCount } } a: organization(slug: "volunteer-league") { projects(first: 1000) { totalCount } } }"#,
            None,
            r#"{"data":{"b":null,"a":null},"errors":[{"message":"must be at most 100","locations":[{"line":1,"column":39}],"path":["b","projects"],"extensions":{"code":"BAD_USER_INPUT","field":"first"}},{"message":"must be at most 100","locations":[{"line":1,"column":122}],"path":["a","projects"],"extensions":{"code":"BAD_USER_INPUT","field":"first"}}]}"#,
        ),
        // Two errors under one nullable parent: one error, the first in selection order.
        (
            r#"{ o: organization(slug: "volunteer-league") { p1: projects(first: 1000) { totalCount } p2: projects(first: 1000) { totalCount } } }"#,
            None,
            r#"{"data":{"o":null},"errors":[{"message":"must be at most 100","locations":[{"line":1,"column":47}],"path":["o","p1"],"extensions":{"code":"BAD_USER_INPUT","field":"first"}}]}"#,
        ),
        // In a named fragment.
        (
            r#"{ o: organization(slug: "volunteer-league") { ...F } } fragment F on Organization { slug projects(first: 1000) { totalCount } }"#,
            None,
            r#"{"data":{"o":null},"errors":[{"message":"must be at most 100","locations":[{"line":1,"column":90}],"path":["o","projects"],"extensions":{"code":"BAD_USER_INPUT","field":"first"}}]}"#,
        ),
        // In an inline fragment, siblings outside the nulled parent kept.
        (
            r#"{ o: organization(slug: "volunteer-league") { ... on Organization { slug projects(first: 1000) { totalCount } } } s: stats { organizationCount } }"#,
            None,
            r#"{"data":{"o":null,"s":{"organizationCount":10}},"errors":[{"message":"must be at most 100","locations":[{"line":1,"column":74}],"path":["o","projects"],"extensions":{"code":"BAD_USER_INPUT","field":"first"}}]}"#,
        ),
        // With variables: the same.
        (
            r#"query($n: Int) { o: organization(slug: "volunteer-league") { slug projects(first: $n) { totalCount } } }"#,
            Some(json!({ "n": 1000 })),
            r#"{"data":{"o":null},"errors":[{"message":"must be at most 100","locations":[{"line":1,"column":67}],"path":["o","projects"],"extensions":{"code":"BAD_USER_INPUT","field":"first"}}]}"#,
        ),
        // Keys in selection order, aliases and the same key selected twice merged in place.
        (
            r#"{ o: organization(slug: "volunteer-league") { slug n: slug verified ... on Organization { slug kind } } }"#,
            None,
            r#"{"data":{"o":{"slug":"volunteer-league","n":"volunteer-league","verified":true,"kind":"NGO"}}}"#,
        ),
        // A skipped field is not executed: no error.
        (
            r#"{ o: organization(slug: "volunteer-league") { slug projects(first: 1000) @skip(if: true) { totalCount } } }"#,
            None,
            r#"{"data":{"o":{"slug":"volunteer-league"}}}"#,
        ),
        // @include from a variable, in a list.
        (
            r#"query($yes: Boolean!) { organizations(first: 2, orderBy: NAME) { nodes { slug projects(first: 1000) @include(if: $yes) { totalCount } } } }"#,
            Some(json!({ "yes": false })),
            r#"{"data":{"organizations":{"nodes":[{"slug":"28-ilmek"},{"slug":"association-of-volunteer-centres"}]}}}"#,
        ),
        // A fragment that does not apply to the runtime type selects nothing.
        (
            r#"{ x: organization(slug: "28-ilmek") { slug ... on Organization @skip(if: true) { name } } }"#,
            None,
            r#"{"data":{"x":{"slug":"28-ilmek"}}}"#,
        ),
        // An object none of whose fragments applies is `{}` (it exists); a missing one null.
        // "T3JnYW5pemF0aW9uOjU" is Organization 5 of the demo, "…OjU1NTU" one that never was.
        (
            r#"{ x: node(id: "T3JnYW5pemF0aW9uOjU") { ... on Post { title } } y: node(id: "T3JnYW5pemF0aW9uOjU1NTU") { ... on Post { title } } z: node(id: "T3JnYW5pemF0aW9uOjU") { ... on Organization { slug } } }"#,
            None,
            r#"{"data":{"x":{},"y":null,"z":{"slug":"28-ilmek"}}}"#,
        ),
        // A non-null field's own error nulls it (and up) even when what it selects below is
        // all nullable: not an object of nulls.
        (
            r#"{ o: organization(slug: "28-ilmek") { projects(first: 1000) { pageInfo { endCursor } } } }"#,
            None,
            r#"{"data":{"o":null},"errors":[{"message":"must be at most 100","locations":[{"line":1,"column":39}],"path":["o","projects"],"extensions":{"code":"BAD_USER_INPUT","field":"first"}}]}"#,
        ),
        // Nested list without errors: every key, in order, in every item.
        (
            r#"{ organizations(first: 2, orderBy: NAME) { nodes { slug memberOf { slug } projects(first: 1) { totalCount } kind } } }"#,
            None,
            r#"{"data":{"organizations":{"nodes":[{"slug":"28-ilmek","memberOf":[{"slug":"national-volunteer-network"}],"projects":{"totalCount":1},"kind":"CLUB"},{"slug":"association-of-volunteer-centres","memberOf":[],"projects":{"totalCount":1},"kind":"NETWORK"}]}}}"#,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn field_errors_follow_the_spec_on_every_path() {
    let (_db, _redis, api) = demo_api().await;
    let mut failures = Vec::new();
    for (query, variables, expected) in cases() {
        // POST and GET, and each twice: the second one runs a kept, validated document.
        for round in 0..2 {
            let answers = [
                ("POST", post(&api, query, variables.clone()).await),
                ("GET", get(&api, query, variables.clone()).await),
            ];
            for (method, answer) in answers {
                if answer != expected {
                    failures.push(format!(
                        "{method} #{round} {query}\n  expected {expected}\n  got      {answer}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A raw request: (status, headers, body as JSON).
async fn send(
    req: reqwest::RequestBuilder,
) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
    let resp = req.send().await.expect("request");
    let (status, headers) = (resp.status(), resp.headers().clone());
    let body = resp.json().await.expect("JSON body");
    (status, headers, body)
}

fn code_of(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_request_error_has_a_code() {
    let (db, _redis, api) = demo_api().await;
    let http = reqwest::Client::new();
    let url = api.url("/graphql");
    const GR: &str = "application/graphql-response+json";
    let deep = format!(
        "{{ {}stats {{ projectCount }}{} }}",
        "organization(slug: \"x\") { memberOf { ".repeat(6),
        " } }".repeat(6)
    );
    let aliases = format!(
        "{{ {} }}",
        (0..31)
            .map(|i| format!("a{i}: stats {{ projectCount }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let long = format!("{{ stats {{ projectCount }} }} #{}", "x".repeat(33 * 1024));
    let cases: Vec<(String, &str)> = vec![
        ("{ stats { ".into(), "GRAPHQL_PARSE_FAILED"),
        ("{ noSuchField }".into(), "GRAPHQL_VALIDATION_FAILED"),
        (
            "query($n: Int) { projects(first: $n) { totalCount } }".into(),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (deep, "QUERY_TOO_DEEP"),
        (aliases, "TOO_MANY_ALIASES"),
        (long, "QUERY_TOO_LARGE"),
    ];
    for (query, code) in &cases {
        let variables = if query.starts_with("query($n") {
            json!({ "n": "x" })
        } else {
            json!({})
        };
        for accept in ["application/json", GR] {
            let (status, _, body) = send(
                http.post(&url)
                    .header("accept", accept)
                    .json(&json!({ "query": query, "variables": variables })),
            )
            .await;
            assert_eq!(code_of(&body), *code, "{accept} {query:.80}: {body}");
            assert!(body.get("data").is_none(), "{body}");
            let expected = if accept == GR || !code.starts_with("GRAPHQL_") {
                400
            } else {
                200
            };
            assert_eq!(status.as_u16(), expected, "{accept} {query:.80}: {body}");
        }
        let (_, _, body) = send(http.get(&url).query(&[("query", query.as_str())])).await;
        if !query.starts_with("query($n") {
            assert_eq!(code_of(&body), *code, "GET {query:.80}: {body}");
        }
    }

    // A batch is refused as one, whatever it holds.
    let (status, _, body) = send(
        http.post(&url)
            .json(&json!([{ "query": "{ stats { projectCount } }" }, { "query": "{ stats { projectCount } }" }])),
    )
    .await;
    assert_eq!(
        (status.as_u16(), code_of(&body)),
        (400, "BATCH_NOT_SUPPORTED"),
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("batched requests are not supported")
    );

    // A body over the limit.
    let huge = format!(
        "{{\"query\": \"{{ stats {{ projectCount }} }}\", \"x\": \"{}\"}}",
        "x".repeat(1024 * 1024)
    );
    let (status, _, body) = send(
        http.post(&url)
            .header("content-type", "application/json")
            .body(huge),
    )
    .await;
    assert_eq!(
        (status.as_u16(), code_of(&body)),
        (413, "QUERY_TOO_LARGE"),
        "{body}"
    );

    // Tokens that name no live session: unknown, malformed, revoked, expired.
    let user = birgemiz_tests::fixtures::user(
        &db,
        "token@example.kz",
        birgemiz_tests::fixtures::Kind::Verified,
    )
    .await;
    let expired = birgemiz_tests::fixtures::user(
        &db,
        "expired@example.kz",
        birgemiz_tests::fixtures::Kind::Verified,
    )
    .await;
    crate::public_support::exec(
        &db,
        &format!(
            "UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE user_id = {}",
            expired.id
        ),
    )
    .await;
    let gql = api.client().with_token(&user.token);
    assert_eq!(
        gql.ok("{ viewer { email } }", json!({})).await["viewer"]["email"],
        "token@example.kz"
    );
    gql.ok("mutation { signOut }", json!({})).await;
    let query = json!({ "query": "{ viewer { email } }" });
    for auth in [
        format!("Bearer {}", user.token),
        format!("Bearer {}", expired.token),
        "Bearer not-a-token".to_owned(),
        "Basic dXNlcjpwYXNz".to_owned(),
        "Bearer".to_owned(),
    ] {
        let (status, headers, body) = send(
            http.post(&url)
                .header("authorization", &auth)
                .header("accept", GR)
                .json(&query),
        )
        .await;
        assert_eq!(
            (status.as_u16(), code_of(&body)),
            (401, "UNAUTHENTICATED"),
            "{auth}: {body}"
        );
        assert_eq!(headers["www-authenticate"], "Bearer");
        assert!(body.get("data").is_none(), "{body}");
        let (status, _, body) = send(
            http.get(&url)
                .header("authorization", &auth)
                .query(&[("query", "{ viewer { email } }")]),
        )
        .await;
        assert_eq!(
            (status.as_u16(), code_of(&body)),
            (200, "UNAUTHENTICATED"),
            "{auth}: {body}"
        );
    }
    // Without a token the same request is an anonymous one.
    let (status, _, body) = send(http.post(&url).header("accept", GR).json(&query)).await;
    assert_eq!(
        (status.as_u16(), &body),
        (200, &json!({ "data": { "viewer": null } }))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn queries_are_priced_before_they_run() {
    let (_db, _redis, api) = demo_api().await;
    let http = reqwest::Client::new();
    let url = api.url("/graphql");
    let refused = |name: &'static str, query: String, variables: Value, cost: u64| {
        (name, query, variables, Some(cost))
    };
    let passes =
        |name: &'static str, query: String, variables: Value| (name, query, variables, None);
    let aliases = (0..30)
        .map(|i| format!("a{i}: projects(first: 100) {{ nodes {{ id title }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let spreads = "...P ".repeat(20);
    let org_id = post(
        &api,
        r#"{ organization(slug: "volunteer-league") { id } }"#,
        None,
    )
    .await;
    let org_id: Value = serde_json::from_str(&org_id).unwrap();
    let org_id = org_id["data"]["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cases = [
        refused(
            "100 × 100",
            "{ organizations(first: 100) { nodes { projects(first: 100) { nodes { id } } } } }".into(),
            json!({}),
            // 1 + nodes (1 + 100 × (projects 1 + nodes (1 + 100 × id)))
            1 + 1 + 100 * (1 + 1 + 100),
        ),
        refused(
            "100 × 100 × 100",
            "{ organizations(first: 100) { nodes { projects(first: 100) { nodes { id organization { projects(first: 100) { nodes { id } } } } } } } }".into(),
            json!({}),
            1 + 1 + 100 * (1 + 1 + 100 * (1 + 1 + (1 + 1 + 100))),
        ),
        refused("30 aliases × first: 100", format!("{{ {aliases} }}"), json!({}), 30 * (1 + 1 + 100 * 2)),
        refused(
            "a fragment spread 20 times",
            format!("{{ {spreads} }} fragment P on Query {{ projects(first: 100) {{ nodes {{ id title slug }} }} }}"),
            json!({}),
            20 * (1 + 1 + 100 * 3),
        ),
        refused(
            "a list nested through node(id:)",
            "query($id: ID!) { node(id: $id) { ... on Organization { projects(first: 100) { nodes { organization { projects(first: 100) { nodes { id } } } } } } } }".into(),
            json!({ "id": org_id }),
            1 + (1 + 1 + 100 * (1 + (1 + 1 + 100))),
        ),
        refused(
            "nodes(ids:) times what each costs",
            "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Organization { projects(first: 100) { nodes { id slug } } } } }".into(),
            json!({ "ids": vec![org_id.clone(); 30] }),
            1 + 30 * (1 + 1 + 100 * 2),
        ),
        refused(
            "pages from variables",
            "query($n: Int) { organizations(first: $n) { nodes { projects(first: $n) { nodes { id } } } } }".into(),
            json!({ "n": 100 }),
            1 + 1 + 100 * (1 + 1 + 100),
        ),
        passes(
            "small pages from variables",
            "query($n: Int) { organizations(first: $n) { nodes { projects(first: $n) { nodes { id } } } } }".into(),
            json!({ "n": 10 }),
        ),
        passes(
            "the defaults (20 × 20)",
            "{ organizations { nodes { slug projects { nodes { id slug } } } } }".into(),
            json!({}),
        ),
        passes("the benchmark's front page", crate::graphql_paths::BENCH_FRONT_PAGE.into(), json!({})),
    ];
    for (name, query, variables, cost) in cases {
        for accept in ["application/json", "application/graphql-response+json"] {
            let (status, _, body) = send(
                http.post(&url)
                    .header("accept", accept)
                    .json(&json!({ "query": query, "variables": variables })),
            )
            .await;
            match cost {
                Some(cost) => {
                    assert_eq!(
                        (status.as_u16(), code_of(&body)),
                        (400, "QUERY_TOO_COMPLEX"),
                        "{name}: {body}"
                    );
                    let ext = &body["errors"][0]["extensions"];
                    assert_eq!(
                        (ext["cost"].as_u64(), ext["maxCost"].as_u64()),
                        (Some(cost), Some(5000)),
                        "{name}"
                    );
                    assert!(body.get("data").is_none());
                }
                None => {
                    assert_eq!(status.as_u16(), 200, "{name}: {body}");
                    assert!(body.get("errors").is_none(), "{name}: {body}");
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn get_answers_say_how_they_may_be_cached() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let user = birgemiz_tests::fixtures::user(
        &db,
        "cache@example.kz",
        birgemiz_tests::fixtures::Kind::Verified,
    )
    .await;
    let default = TestApi::start(&db, &redis).await;
    let mut config = birgemiz_tests::api::test_config(&db, &redis);
    config.graphql_get_max_age = 60;
    let shared = TestApi::start_with(config).await;
    let http = reqwest::Client::new();
    let get = |api: &TestApi, query: &str, token: Option<&str>| {
        let mut req = http.get(api.url("/graphql")).query(&[("query", query)]);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req
    };
    let q = "{ stats { organizationCount } }";
    for (name, req, cache) in [
        ("anonymous, default", get(&default, q, None), "no-store"),
        (
            "anonymous, max age 60",
            get(&shared, q, None),
            "public, max-age=60",
        ),
        (
            "signed in",
            get(&shared, q, Some(&user.token)),
            "private, no-store",
        ),
        (
            "bad token",
            get(&shared, q, Some("nope")),
            "private, no-store",
        ),
        (
            "field error",
            get(&shared, r#"{ node(id: "bad") { id } }"#, None),
            "no-store",
        ),
        (
            "validation error",
            get(&shared, "{ nope }", None),
            "no-store",
        ),
    ] {
        let resp = req.send().await.unwrap();
        let h = resp.headers();
        assert_eq!(h["cache-control"], cache, "{name}");
        assert_eq!(h["vary"], "Accept-Language, Authorization", "{name}");
    }
}

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
//! - `node(id: "bad")` rejecting → `{"x": null}` with its siblings kept.

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
        .query(&params)
        .send()
        .await
        .expect("GET /graphql");
    resp.text().await.expect("body")
}

/// (query, variables, the exact response body). `first: 1000` is refused by the resolver.
fn cases() -> Vec<(&'static str, Option<Value>, &'static str)> {
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
            r#"{"data":{"organizations":{"nodes":[{"slug":"rina-kz"},{"slug":"28-ilmek"}]}}}"#,
        ),
        // A fragment that does not apply to the runtime type selects nothing.
        (
            r#"{ x: organization(slug: "28-ilmek") { slug ... on Organization @skip(if: true) { name } } }"#,
            None,
            r#"{"data":{"x":{"slug":"28-ilmek"}}}"#,
        ),
        // Nested list without errors: every key, in order, in every item.
        (
            r#"{ organizations(first: 2, orderBy: NAME) { nodes { slug memberOf { slug } projects(first: 1) { totalCount } kind } } }"#,
            None,
            r#"{"data":{"organizations":{"nodes":[{"slug":"rina-kz","memberOf":[{"slug":"national-volunteer-network"}],"projects":{"totalCount":1},"kind":"INITIATIVE_GROUP"},{"slug":"28-ilmek","memberOf":[{"slug":"national-volunteer-network"}],"projects":{"totalCount":1},"kind":"CLUB"}]}}}"#,
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

//! One behaviour whichever execution path runs: the fast paths (GRAPHQL_FAST_PATHS=on) and
//! async-graphql's own executor, validation and serializer (off) answer every document with the
//! same bytes, every time.

/// The front page as `bench/run.sh` asks for it.
pub const BENCH_FRONT_PAGE: &str = r#"query FrontPage { stats { organizationCount projectCount volunteerCount applicationCount }
  organizations(first: 20, orderBy: NAME) { nodes { id slug name kind city verified
    projects(first: 5) { nodes { id slug title direction startsAt volunteerCount } } } }
  award(slug: "bench-award") { title phase categories { id title voteCount
    nominations(first: 10, orderBy: MOST_VOTES) { nodes { id nomineeName voteCount } } } } }"#;

use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::{TestApi, TestDb, TestRedis};
use serde_json::{Value, json};

use crate::public_support::exec;

/// A POST's body, exactly.
async fn bytes(api: &TestApi, token: Option<&str>, query: &str, variables: &Value) -> String {
    let mut req = reqwest::Client::new()
        .post(api.url("/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("POST").text().await.expect("body")
}

async fn data(api: &TestApi, query: &str, variables: Value) -> Value {
    let body: Value = serde_json::from_str(&bytes(api, None, query, &variables).await).unwrap();
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body["data"].clone()
}

const INTROSPECTION: &str =
    "{ __schema { queryType { name } types { name kind possibleTypes { name } fields {
    name args { name type { kind ofType { kind } } defaultValue }
    type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";

/// The schema's object types and their fields, as introspection tells them: name → [(field,
/// named type, kind of the named type, whether it takes a required argument)].
struct Types(std::collections::BTreeMap<String, Vec<(String, String, String, bool)>>);

impl Types {
    async fn of(api: &TestApi) -> Types {
        let schema = data(api, INTROSPECTION, json!({})).await;
        let mut types = std::collections::BTreeMap::new();
        for t in schema["__schema"]["types"].as_array().unwrap() {
            let Some(fields) = t["fields"].as_array() else {
                continue;
            };
            let name = t["name"].as_str().unwrap();
            if name.starts_with("__") {
                continue;
            }
            let fields = fields
                .iter()
                .map(|f| {
                    let mut ty = &f["type"];
                    while ty["name"].is_null() {
                        ty = &ty["ofType"];
                    }
                    let required =
                        f["args"].as_array().unwrap().iter().any(|a| {
                            a["type"]["kind"] == "NON_NULL" && a["defaultValue"].is_null()
                        });
                    (
                        f["name"].as_str().unwrap().to_owned(),
                        ty["name"].as_str().unwrap().to_owned(),
                        ty["kind"].as_str().unwrap().to_owned(),
                        required,
                    )
                })
                .collect();
            types.insert(name.to_owned(), fields);
        }
        Types(types)
    }

    /// Every field of `ty` that takes no required argument: leaves as they are, objects with
    /// their leaves, connections as two nodes' ids; `depth` bounds the nesting.
    fn every_field(&self, ty: &str, depth: usize) -> String {
        let mut out = Vec::new();
        for (name, field_ty, kind, required) in self.0.get(ty).into_iter().flatten() {
            // The integrity report is computed when asked: its time differs between any two
            // requests by design, not between the two execution paths.
            if *required || (ty == "VoteIntegrityReport" && name == "generatedAt") {
                continue;
            }
            match kind.as_str() {
                "SCALAR" | "ENUM" => out.push(name.clone()),
                _ if field_ty.ends_with("Connection") => out.push(format!(
                    "{name}(first: 2) {{ totalCount nodes {{ __typename ... on Node {{ id }} }} }}"
                )),
                "OBJECT" if depth > 0 => out.push(format!(
                    "{name} {{ {} }}",
                    self.every_field(field_ty, depth - 1)
                )),
                "INTERFACE" | "UNION" if depth > 0 => {
                    out.push(format!("{name} {{ __typename ... on Node {{ id }} }}"))
                }
                _ => {}
            }
        }
        out.join(" ")
    }

    /// The root lists (connections) and the named type of their nodes.
    fn root_lists(&self) -> Vec<(String, String)> {
        self.0["Query"]
            .iter()
            .filter(|(_, ty, _, _)| ty.ends_with("Connection"))
            .map(|(name, ty, _, _)| {
                let node = self.0[ty.as_str()]
                    .iter()
                    .find(|(f, ..)| f == "nodes")
                    .map(|(_, t, ..)| t.clone())
                    .unwrap();
                (name.clone(), node)
            })
            .collect()
    }
}

/// Arguments a root list needs to answer rows.
fn list_args(name: &str) -> &'static str {
    match name {
        "search" => r#"query: "волонтер", "#,
        _ => "",
    }
}

async fn two_servers() -> (
    TestDb,
    TestRedis,
    TestApi,
    TestApi,
    Vec<(&'static str, Option<String>)>,
) {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let mut fast = birgemiz_tests::api::test_config(&db, &redis);
    fast.graphql_fast_paths = true;
    let mut plain = birgemiz_tests::api::test_config(&db, &redis);
    plain.graphql_fast_paths = false;
    let fast = TestApi::start_with(fast).await;
    let plain = TestApi::start_with(plain).await;
    birgemiz_api::seed_demo::run(&fast.state.pool)
        .await
        .expect("demo data");
    let user = fixtures::user(&db, "volunteer@example.kz", Kind::Verified).await;
    let manager = fixtures::user(&db, "manager@example.kz", Kind::Verified).await;
    let admin = fixtures::user(&db, "admin@example.kz", Kind::Admin).await;
    exec(
        &db,
        &format!(
            "INSERT INTO organization_managers (organization_id, user_id, role)
               SELECT id, {m}, 'OWNER' FROM organizations WHERE slug = 'volunteer-league';
             INSERT INTO applications (project_id, volunteer_id)
               SELECT id, {u} FROM projects WHERE status = 'PUBLISHED' ORDER BY id LIMIT 3;",
            m = manager.id,
            u = user.id
        ),
    )
    .await;
    let roles = vec![
        ("anonymous", None),
        ("volunteer", Some(user.token)),
        ("manager", Some(manager.token)),
        ("admin", Some(admin.token)),
    ];
    (db, redis, fast, plain, roles)
}

#[tokio::test(flavor = "multi_thread")]
async fn fast_paths_on_and_off_answer_the_same_bytes() {
    let (_db, _redis, fast, plain, roles) = two_servers().await;
    let types = Types::of(&plain).await;
    let mut documents: Vec<(String, Value)> = vec![
        (BENCH_FRONT_PAGE.into(), json!({})),
        (crate::public_front_page::FRONT_PAGE.into(), json!({ "n": 20 })),
        (crate::public_front_page::FRONT_PAGE.into(), json!({ "n": 3 })),
        // The issue's report: memberOf came before or after projects from one request to the next.
        (
            "{ organizations(first: 20) { edges { node { slug verified memberOf { name } projects(first: 5) { nodes { id } } } } } }".into(),
            json!({}),
        ),
        (INTROSPECTION.into(), json!({})),
        ("{ viewer { id email displayName } }".into(), json!({})),
    ];
    for (query, variables, _) in crate::graphql_spec::cases() {
        documents.push((query.into(), variables.unwrap_or(json!({}))));
    }
    // Every root list with every field of its nodes, as nodes and as edges, and through fragments.
    for (list, node) in types.root_lists() {
        let fields = types.every_field(&node, 1);
        let args = list_args(&list);
        let on = if types.0.contains_key(&node) && !fields.is_empty() {
            format!("... on {node} {{ {fields} }}")
        } else {
            String::new()
        };
        let selection = if fields.is_empty() {
            // A union: every member's fields.
            types
                .0
                .keys()
                .filter(|t| ["Organization", "Project", "Post"].contains(&t.as_str()))
                .map(|t| format!("... on {t} {{ {} }}", types.every_field(t, 1)))
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            fields.clone()
        };
        documents.push((
            format!("{{ {list}({args}first: 10) {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ {selection} }} }} }}"),
            json!({}),
        ));
        documents.push((
            format!(
                "{{ {list}({args}first: 10) {{ edges {{ cursor node {{ {selection} }} }} }} }}"
            ),
            json!({}),
        ));
        if !on.is_empty() {
            documents.push((
                format!("query($n: Int) {{ {list}({args}first: $n) {{ nodes {{ ...F }} }} }} fragment F on {node} {{ {fields} }}"),
                json!({ "n": 4 }),
            ));
        }
    }
    // Single objects with every field, by slug.
    for (root, ty) in [
        ("organization", "Organization"),
        ("project", "Project"),
        ("post", "Post"),
        ("award", "Award"),
    ] {
        let list = format!("{root}s");
        let slugs = data(
            &plain,
            &format!("{{ {list}(first: 3) {{ nodes {{ slug }} }} }}"),
            json!({}),
        )
        .await;
        for n in slugs[&list]["nodes"].as_array().unwrap() {
            documents.push((
                format!(
                    "query($s: String!) {{ x: {root}(slug: $s) {{ {} }} }}",
                    types.every_field(ty, 2)
                ),
                json!({ "s": n["slug"] }),
            ));
        }
    }
    let mut compared = 0;
    let mut with_data = 0;
    let mut failures = Vec::new();
    for (query, variables) in &documents {
        for (role, token) in &roles {
            let mut answers = Vec::new();
            for _ in 0..3 {
                answers.push(("on", bytes(&fast, token.as_deref(), query, variables).await));
                answers.push((
                    "off",
                    bytes(&plain, token.as_deref(), query, variables).await,
                ));
            }
            let first = &answers[0].1;
            if !first.contains("\"errors\"") {
                with_data += 1;
            }
            for (path, answer) in &answers[1..] {
                if answer != first {
                    failures.push(format!(
                        "{role} {query:.300} {variables}\n  on:   {first:.600}\n  {path}: {answer:.600}"
                    ));
                    break;
                }
            }
            compared += answers.len();
        }
    }
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        documents.len() > 40 && compared > 1000,
        "{} documents",
        documents.len()
    );
    // Most of them answer data, not only errors (the error cases are a few).
    assert!(
        with_data * 10 > compared / 6 * 7,
        "{with_data} of {} answers without errors",
        compared / 6
    );
}

/// The fast list path reads only the columns its `Shape` asks for; a node field that reads
/// another column must answer in a list what it answers alone (`node(id:)` reads whole rows).
/// Every field, for every root list's node type, comes from introspection, so a new field is
/// checked without being named here.
#[tokio::test(flavor = "multi_thread")]
async fn every_list_field_reads_what_the_node_reads() {
    let (_db, _redis, fast, _plain, roles) = two_servers().await;
    let types = Types::of(&fast).await;
    let admin = roles[3].1.as_deref();
    let mut checked = 0;
    for (list, node) in types.root_lists() {
        let Some(fields) = types.0.get(&node) else {
            continue;
        };
        if !fields.iter().any(|(f, ..)| f == "id") {
            continue;
        }
        let args = list_args(&list);
        for (field, field_ty, kind, required) in fields {
            if *required || field_ty.ends_with("Connection") {
                continue;
            }
            let sub = match kind.as_str() {
                "SCALAR" | "ENUM" => String::new(),
                "OBJECT" => format!("{{ {} }}", types.every_field(field_ty, 0)),
                _ => "{ __typename }".into(),
            };
            if sub == "{  }" {
                continue;
            }
            let q = format!("{{ {list}({args}first: 10) {{ nodes {{ id {field} {sub} }} }} }}");
            let body: Value =
                serde_json::from_str(&bytes(&fast, admin, &q, &json!({})).await).unwrap();
            let nodes = body["data"][&list]["nodes"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let ids: Vec<Value> = nodes.iter().map(|n| n["id"].clone()).collect();
            let q = format!(
                "query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on {node} {{ id {field} {sub} }} }} }}"
            );
            let alone: Value =
                serde_json::from_str(&bytes(&fast, admin, &q, &json!({ "ids": ids })).await)
                    .unwrap();
            assert_eq!(
                json!(nodes),
                alone["data"]["nodes"],
                "{list} {{ nodes {{ {field} }} }} differs from node(id:) {{ {field} }}"
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked} fields checked");
}

//! Helpers of the public-API tests: outbox rows, raw SQL, fixtures made through the API.

use birgemiz_tests::{Gql, TestDb};
use diesel::QueryableByName;
use diesel::sql_types::{Jsonb, Text};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use serde_json::{Value, json};

#[derive(QueryableByName, Debug, Clone)]
pub struct OutboxRow {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub recipient: String,
    #[diesel(sql_type = Jsonb)]
    pub payload: Value,
}

pub async fn outbox(db: &TestDb) -> Vec<OutboxRow> {
    diesel::sql_query("SELECT kind, recipient, payload FROM outbox ORDER BY id")
        .load(&mut db.conn().await)
        .await
        .expect("outbox")
}

/// The token in the newest outbox row of `kind` to `recipient`.
pub async fn token_of(db: &TestDb, kind: &str, recipient: &str) -> String {
    outbox(db)
        .await
        .into_iter()
        .rev()
        .find(|r| r.kind == kind && r.recipient == recipient)
        .and_then(|r| r.payload["token"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no {kind} email to {recipient}"))
}

pub async fn exec(db: &TestDb, sql: &str) {
    db.conn().await.batch_execute(sql).await.expect("sql");
}

pub async fn count(db: &TestDb, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(sql)
        .get_result::<N>(&mut db.conn().await)
        .await
        .expect("count")
        .n
}

pub const CREATE_ORG: &str = "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { id slug name kind country } }";
pub const CREATE_PROJECT: &str =
    "mutation($i: CreateProjectInput!) { createProject(input: $i) { id slug status } }";

pub async fn org(gql: &Gql, name: &str, kind: &str) -> Value {
    gql.ok(
        CREATE_ORG,
        json!({ "i": { "name": { "en": name, "ru": format!("{name} ru") }, "kind": kind, "country": "KZ" } }),
    )
    .await["createOrganization"]
        .clone()
}

/// A published project of the organization.
pub async fn published_project(gql: &Gql, org_id: &Value, title: &str) -> Value {
    let p = gql
        .ok(
            CREATE_PROJECT,
            json!({ "i": { "organizationId": org_id, "title": { "en": title }, "direction": "SOCIAL" } }),
        )
        .await["createProject"]
        .clone();
    gql.ok(
        "mutation($id: ID!) { publishProject(id: $id) { status } }",
        json!({ "id": p["id"] }),
    )
    .await;
    p
}

pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

pub fn field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or("")
}

/// The nodes of a connection's `edges`, in order.
pub fn nodes_of(edges: &Value) -> Vec<Value> {
    edges
        .as_array()
        .expect("edges is a list")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

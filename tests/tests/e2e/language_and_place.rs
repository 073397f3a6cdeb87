//! Language and place (issue 18, items 10–13): names sorted by the request's language, places
//! localized and filterable by code, typo-tolerant search, the saved locale and localized errors.

use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::{Gql, TestApi, TestDb, TestRedis};
use serde_json::{Value, json};

use crate::public_support::CREATE_ORG;

const ORGS_BY_NAME: &str = "query($after: String, $first: Int) { organizations(orderBy: NAME, first: $first, after: $after) { edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }";

async fn names_by_name(gql: &Gql, first: i64) -> Vec<String> {
    let mut names = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = gql
            .ok(ORGS_BY_NAME, json!({ "first": first, "after": after }))
            .await["organizations"]
            .clone();
        for e in page["edges"].as_array().unwrap() {
            names.push(e["node"]["name"].as_str().unwrap().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            return names;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn names_sort_by_the_request_language_and_its_collation() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let owner = fixtures::user(&db, "owner@example.kz", Kind::Verified).await;
    let gql = api.client().with_token(&owner.token);
    // Byte order would put Ә after В in Kazakh, Ё before А in Russian and capitals first in
    // English; each language's own rules put them where a reader looks for them.
    for name in [
        json!({ "kk": "Әлем", "ru": "Ёлка", "en": "cherry" }),
        json!({ "kk": "Алма", "ru": "Жук", "en": "Banana" }),
        json!({ "kk": "Бала", "ru": "Арбуз", "en": "apple" }),
        json!({ "ru": "Вода", "en": "Water" }),
    ] {
        gql.ok(
            CREATE_ORG,
            json!({ "i": { "name": name, "kind": "NGO", "country": "KZ" } }),
        )
        .await;
    }
    let expected = [
        ("kk", ["Алма", "Әлем", "Бала", "Вода"]),
        ("ru", ["Арбуз", "Вода", "Ёлка", "Жук"]),
        ("en", ["apple", "Banana", "cherry", "Water"]),
    ];
    for (lang, want) in expected {
        let client = api.client().with_locale(lang);
        assert_eq!(names_by_name(&client, 10).await, want, "{lang}, one page");
        assert_eq!(
            names_by_name(&client, 1).await,
            want,
            "{lang}, page by page through cursors"
        );
    }
    // A cursor belongs to its language's order.
    let ru = api
        .client()
        .with_locale("ru")
        .ok(ORGS_BY_NAME, json!({ "first": 1 }))
        .await;
    let cursor = ru["organizations"]["pageInfo"]["endCursor"].clone();
    let body = api
        .client()
        .with_locale("en")
        .raw(ORGS_BY_NAME, json!({ "first": 1, "after": cursor }))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
}

//! Subscriptions over GraphQL: double opt-in, the preferences link, digest runs for admins.

use birgemiz_schema::tables::outbox;
use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::{TestApi, TestDb, TestRedis};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::json;

const SUBSCRIBE: &str = "mutation($input: SubscribeInput!) { subscribe(input: $input) { status } }";

async fn confirmation_tokens(db: &TestDb, email: &str) -> Vec<String> {
    let payloads: Vec<serde_json::Value> = outbox::table
        .filter(outbox::recipient.eq(email))
        .filter(outbox::kind.eq("SUBSCRIPTION_CONFIRMATION"))
        .order(outbox::id)
        .select(outbox::payload)
        .load(&mut db.conn().await)
        .await
        .expect("outbox");
    payloads
        .iter()
        .filter_map(|p| p["token"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn double_opt_in_preferences_and_unsubscribe() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client().with_locale("ru");
    let input =
        json!({ "input": { "email": "Aruzhan@Example.KZ", "topics": ["WEEKLY_DIGEST", "NEWS"] } });
    let first = gql.ok(SUBSCRIBE, input.clone()).await;
    assert_eq!(first["subscribe"]["status"], "PENDING_CONFIRMATION");
    let unknown = gql
        .ok(
            SUBSCRIBE,
            json!({ "input": { "email": "nobody@example.kz" } }),
        )
        .await;
    assert_eq!(unknown, first, "the same answer for any address");
    let bad = gql
        .raw(SUBSCRIBE, json!({ "input": { "email": "not-an-email" } }))
        .await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(bad["errors"][0]["extensions"]["field"], "email");

    let tokens = confirmation_tokens(&db, "aruzhan@example.kz").await;
    assert_eq!(tokens.len(), 1, "one confirmation email in the outbox");
    let confirmed = gql
        .ok(
            "mutation($t: String!) { confirmSubscription(token: $t) { email locale topics status } }",
            json!({ "t": tokens[0] }),
        )
        .await;
    assert_eq!(
        confirmed["confirmSubscription"],
        json!({ "email": "aruzhan@example.kz", "locale": "RU", "topics": ["WEEKLY_DIGEST", "NEWS"], "status": "ACTIVE" })
    );
    // A link that did confirm stays a confirmation, not an error (a double click).
    let reused = gql
        .ok(
            "mutation($t: String!) { confirmSubscription(token: $t) { status } }",
            json!({ "t": tokens[0] }),
        )
        .await;
    assert_eq!(reused["confirmSubscription"]["status"], "ACTIVE");

    let again = gql.ok(SUBSCRIBE, input.clone()).await;
    assert_eq!(again["subscribe"]["status"], "PENDING_CONFIRMATION");
    assert_eq!(
        confirmation_tokens(&db, "aruzhan@example.kz").await.len(),
        1,
        "an active address gets no email"
    );

    let link = birgemiz_tests::fixtures::unsubscribe_token(&db, "aruzhan@example.kz").await;
    let read = gql
        .ok(
            "query($t: String!) { emailSubscription(token: $t) { status topics } }",
            json!({ "t": link }),
        )
        .await;
    assert_eq!(
        read["emailSubscription"]["status"], "ACTIVE",
        "reading the link changes nothing"
    );
    let forged = gql
        .ok(
            "query($t: String!) { emailSubscription(token: $t) { status } }",
            json!({ "t": "x.y" }),
        )
        .await;
    assert!(forged["emailSubscription"].is_null());

    let updated = gql
        .ok(
            "mutation($t: String!) { updateSubscription(token: $t, topics: [AWARD_UPDATES], locale: EN) { topics locale } }",
            json!({ "t": link }),
        )
        .await;
    assert_eq!(
        updated["updateSubscription"],
        json!({ "topics": ["AWARD_UPDATES"], "locale": "EN" })
    );
    let partial = gql
        .ok(
            "mutation($t: String!) { unsubscribe(token: $t, topics: [NEWS]) { status topics } }",
            json!({ "t": link }),
        )
        .await;
    assert_eq!(
        partial["unsubscribe"]["status"], "ACTIVE",
        "dropping a topic it lacks keeps it subscribed"
    );
    let all = gql
        .ok(
            "mutation($t: String!) { unsubscribe(token: $t) { status } }",
            json!({ "t": link }),
        )
        .await;
    assert_eq!(all["unsubscribe"]["status"], "UNSUBSCRIBED");
    let reused_link = gql
        .ok(
            "mutation($t: String!) { unsubscribe(token: $t) { status } }",
            json!({ "t": link }),
        )
        .await;
    assert_eq!(
        reused_link["unsubscribe"]["status"], "UNSUBSCRIBED",
        "the link stays valid (RFC 8058)"
    );

    gql.ok(SUBSCRIBE, input).await;
    assert_eq!(
        confirmation_tokens(&db, "aruzhan@example.kz").await.len(),
        2,
        "re-subscribing an unsubscribed address sends a new confirmation"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn digest_runs_are_for_admins() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let admin = fixtures::user(&db, "admin@example.kz", Kind::Admin).await;
    let member = fixtures::user(&db, "member@example.kz", Kind::Verified).await;
    let run = "mutation { runDigestNow { id sentCount failedCount recipientCount } }";
    assert_eq!(
        api.client().error_code(run, json!({})).await,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        api.client()
            .with_token(&member.token)
            .error_code(run, json!({}))
            .await,
        "FORBIDDEN"
    );
    let started = api
        .client()
        .with_token(&admin.token)
        .ok(run, json!({}))
        .await;
    let id = started["runDigestNow"]["id"].clone();
    let twice = api
        .client()
        .with_token(&admin.token)
        .ok(run, json!({}))
        .await;
    assert_eq!(
        twice["runDigestNow"]["id"], id,
        "a double trigger joins the run"
    );

    let list = "{ digestRuns(first: 5) { totalCount nodes { id sentCount periodStart } pageInfo { hasNextPage } } }";
    let hidden = api
        .client()
        .with_token(&member.token)
        .ok(list, json!({}))
        .await;
    assert!(hidden["digestRuns"].is_null(), "null for non-admins");
    let runs = api
        .client()
        .with_token(&admin.token)
        .ok(list, json!({}))
        .await;
    assert_eq!(runs["digestRuns"]["totalCount"], 1);
    assert_eq!(runs["digestRuns"]["nodes"][0]["id"], id);
    assert_eq!(runs["digestRuns"]["pageInfo"]["hasNextPage"], false);
}

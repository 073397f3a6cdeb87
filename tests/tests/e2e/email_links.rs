//! The pages behind subscription emails: GET and HEAD change nothing, POST acts.

use birgemiz_schema::i18n::Locale;
use birgemiz_schema::subscriptions::{self, Topic};
use birgemiz_schema::tables::{email_subscriptions, outbox};
use birgemiz_tests::{TestApi, TestDb, TestRedis, fixtures};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

async fn status(db: &TestDb, email: &str) -> String {
    email_subscriptions::table
        .filter(email_subscriptions::email.eq(email))
        .select(email_subscriptions::status)
        .first(&mut db.conn().await)
        .await
        .expect("subscription")
}

#[tokio::test(flavor = "multi_thread")]
async fn confirm_and_unsubscribe_links_act_only_on_post() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let email = "dana@example.kz";
    subscriptions::subscribe(
        &mut db.conn().await,
        email,
        Locale::Ru,
        &[Topic::WeeklyDigest, Topic::AwardUpdates],
    )
    .await
    .expect("subscribe");
    let payload: serde_json::Value = outbox::table
        .filter(outbox::recipient.eq(email))
        .select(outbox::payload)
        .first(&mut db.conn().await)
        .await
        .expect("confirmation email queued");
    let token = payload["token"]
        .as_str()
        .expect("token in the payload")
        .to_owned();
    let http = reqwest::Client::new();
    let confirm_url = api.url(&format!("/subscriptions/confirm?token={token}"));

    let page = http.get(&confirm_url).send().await.expect("get");
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap_or("")
            .contains("form-action 'self'")
    );
    let html = page.text().await.expect("html");
    assert!(
        html.contains("Подтвердить"),
        "the button speaks the subscriber's language: {html}"
    );
    assert!(html.contains("method=\"post\""));
    assert_eq!(
        http.head(&confirm_url).send().await.expect("head").status(),
        200
    );
    assert_eq!(
        status(&db, email).await,
        "PENDING_CONFIRMATION",
        "GET and HEAD confirm nothing"
    );

    let confirmed = http.post(&confirm_url).send().await.expect("post");
    assert_eq!(confirmed.status(), 200);
    assert_eq!(status(&db, email).await, "ACTIVE");
    // Used once; a second POST says so instead of "invalid" (see rules_emails).
    assert_eq!(
        http.post(&confirm_url)
            .send()
            .await
            .expect("again")
            .status(),
        200,
        "already confirmed"
    );

    let unsubscribe_url = api.url(&format!(
        "/unsubscribe?token={}",
        fixtures::unsubscribe_token(&db, email).await
    ));
    assert_eq!(
        http.get(&unsubscribe_url)
            .send()
            .await
            .expect("get")
            .status(),
        200
    );
    assert_eq!(
        http.head(&unsubscribe_url)
            .send()
            .await
            .expect("head")
            .status(),
        200
    );
    assert_eq!(
        status(&db, email).await,
        "ACTIVE",
        "GET and HEAD unsubscribe nobody"
    );
    let one_click = http
        .post(&unsubscribe_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("one-click");
    assert_eq!(one_click.status(), 200);
    assert_eq!(status(&db, email).await, "UNSUBSCRIBED");
    assert_eq!(
        http.post(&unsubscribe_url)
            .send()
            .await
            .expect("again")
            .status(),
        200,
        "idempotent"
    );

    let forged = http
        .get(api.url("/unsubscribe?token=bogus.token"))
        .send()
        .await
        .expect("get");
    assert_eq!(forged.status(), 400);
    let bad_confirm = http
        .post(api.url("/subscriptions/confirm?token=nope"))
        .send()
        .await
        .expect("post");
    assert_eq!(bad_confirm.status(), 400);
}

/// Reminders reach verified users who never subscribed, with an unsubscribe link: it shows its
/// page, and its POST records an opt-out that a later subscription replaces.
#[tokio::test(flavor = "multi_thread")]
async fn the_unsubscribe_link_of_an_address_that_never_subscribed_works() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let email = "voter@example.kz";
    fixtures::user(&db, email, fixtures::Kind::Verified).await;
    let url = api.url(&format!(
        "/unsubscribe?token={}",
        fixtures::unsubscribe_token(&db, email).await
    ));
    let http = reqwest::Client::new();
    let page = http.get(&url).send().await.expect("get");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("method=\"post\""));
    let rows = || async {
        email_subscriptions::table
            .filter(email_subscriptions::email.eq(email))
            .count()
            .get_result::<i64>(&mut db.conn().await)
            .await
            .expect("count")
    };
    assert_eq!(rows().await, 0, "GET records nothing");
    for _ in 0..2 {
        let posted = http.post(&url).send().await.expect("post");
        assert_eq!(posted.status(), 200, "idempotent");
    }
    assert_eq!(rows().await, 1);
    assert_eq!(status(&db, email).await, "UNSUBSCRIBED");
    subscriptions::subscribe(
        &mut db.conn().await,
        email,
        Locale::En,
        &[Topic::AwardUpdates],
    )
    .await
    .expect("subscribe again");
    assert_eq!(status(&db, email).await, "PENDING_CONFIRMATION");
}

/// The footer promises settings: the unsubscribe page shows the topics and the language, and its
/// form changes them (as `updateSubscription` does); GET changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn the_unsubscribe_page_shows_and_changes_topics_and_language() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client();
    let email = "aigerim@example.kz";
    gql.ok(
        "mutation { subscribe(input: { email: \"aigerim@example.kz\", locale: RU, topics: [WEEKLY_DIGEST, AWARD_UPDATES] }) { status } }",
        serde_json::json!({}),
    )
    .await;
    let token = crate::public_support::token_of(&db, "SUBSCRIPTION_CONFIRMATION", email).await;
    let http = reqwest::Client::new();
    let confirmed = http
        .post(api.url(&format!("/subscriptions/confirm?token={token}")))
        .send()
        .await
        .expect("confirm");
    assert_eq!(confirmed.status(), 200);
    let link = fixtures::unsubscribe_token(&db, email).await;
    let url = api.url(&format!("/unsubscribe?token={link}"));
    let read = || async {
        gql.ok(
            "query($t: String!) { emailSubscription(token: $t) { locale topics status } }",
            serde_json::json!({ "t": link }),
        )
        .await["emailSubscription"]
            .clone()
    };

    let html = http
        .get(&url)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("html");
    assert!(html.contains("Настройки подписки"), "{html}");
    assert!(html.contains("name=\"WEEKLY_DIGEST\" value=\"on\" checked> Еженедельный дайджест"));
    assert!(html.contains("name=\"AWARD_UPDATES\" value=\"on\" checked> Новости премий"));
    assert!(
        html.contains("name=\"NEWS\" value=\"on\"> Новости</label>"),
        "{html}"
    );
    assert!(html.contains("<option value=\"ru\" selected>Русский</option>"));
    assert!(html.contains("action=\"/unsubscribe/preferences?token="));
    assert!(
        html.contains(">Отписаться</button>"),
        "unsubscribing from all stays"
    );
    assert_eq!(
        read().await["topics"],
        serde_json::json!(["WEEKLY_DIGEST", "AWARD_UPDATES"])
    );

    let prefs = api.url(&format!("/unsubscribe/preferences?token={link}"));
    let saved = http
        .post(&prefs)
        .form(&[("NEWS", "on"), ("locale", "kk")])
        .send()
        .await
        .expect("save");
    assert_eq!(saved.status(), 200);
    let html = saved.text().await.expect("html");
    assert!(html.contains("Баптаулар сақталды"), "now in Kazakh: {html}");
    assert!(html.contains("name=\"NEWS\" value=\"on\" checked> Жаңалықтар"));
    assert!(html.contains("<option value=\"kk\" selected>Қазақша</option>"));
    let now = read().await;
    assert_eq!(now["topics"], serde_json::json!(["NEWS"]));
    assert_eq!(now["locale"], "KK");
    assert_eq!(now["status"], "ACTIVE");

    let none = http
        .post(&prefs)
        .form(&[("locale", "en")])
        .send()
        .await
        .expect("save none");
    assert_eq!(none.status(), 200);
    let html = none.text().await.expect("html");
    assert!(html.contains("Your settings are saved"), "{html}");
    assert!(!html.contains("checked"), "no topic left: {html}");
    assert_eq!(status(&db, email).await, "UNSUBSCRIBED");

    let back = http
        .post(&prefs)
        .form(&[("AWARD_UPDATES", "on")])
        .send()
        .await
        .expect("back");
    assert_eq!(back.status(), 200);
    assert_eq!(
        status(&db, email).await,
        "ACTIVE",
        "the owner's link resubscribes"
    );
    assert_eq!(read().await["locale"], "EN", "no language chosen keeps it");

    let forged = http
        .post(api.url("/unsubscribe/preferences?token=bogus.token"))
        .form(&[("NEWS", "on")])
        .send()
        .await
        .expect("forged");
    assert_eq!(forged.status(), 400);
}

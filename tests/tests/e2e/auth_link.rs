//! `/auth/link`: the page behind sign-in and verification emails. GET and HEAD use nothing up;
//! the POST signs in (handing over the session) or verifies, once.

use birgemiz_tests::{TestApi, TestDb, TestRedis};
use serde_json::json;

use crate::public_support::{count, token_of};

const VIEWER: &str = "{ viewer { email emailVerified locale } }";

/// The session token a sign-in page hands over.
fn session_of(html: &str) -> String {
    let start = html
        .find("<code id=\"code\">")
        .expect("a <code> with the session")
        + 16;
    let end = start + html[start..].find("</code>").expect("closing </code>");
    html[start..end].to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_link_page_shows_then_post_signs_in_once() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client();
    gql.ok(
        "mutation { requestSignInLink(email: \"newcomer@example.kz\") }",
        json!({}),
    )
    .await;
    let token = token_of(&db, "SIGN_IN_LINK", "newcomer@example.kz").await;
    let url = api.url(&format!("/auth/link?token={token}"));
    let http = reqwest::Client::new();

    let page = http
        .get(&url)
        .header("accept-language", "ru-RU,ru;q=0.9")
        .send()
        .await
        .expect("get");
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.expect("html");
    assert!(html.contains("Войти"), "a Russian button: {html}");
    assert!(html.contains("method=\"post\""));
    assert!(!html.contains("<code"), "no session before the POST");
    let head = http
        .head(&url)
        .header("accept-language", "kk")
        .send()
        .await
        .expect("head");
    assert_eq!(head.status(), 200);
    let kk = http
        .get(&url)
        .header("accept-language", "kk")
        .send()
        .await
        .expect("get kk")
        .text()
        .await
        .expect("html");
    assert!(kk.contains("Кіру"), "a Kazakh button: {kk}");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM one_time_tokens WHERE used_at IS NOT NULL"
        )
        .await,
        0,
        "GET and HEAD use nothing up"
    );
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM users").await,
        0,
        "GET and HEAD create no account"
    );
    assert_eq!(count(&db, "SELECT count(*) AS n FROM sessions").await, 0);

    let done = http
        .post(&url)
        .header("accept-language", "en")
        .send()
        .await
        .expect("post");
    assert_eq!(done.status(), 200);
    let html = done.text().await.expect("html");
    assert!(html.contains("You are signed in"), "{html}");
    let session = session_of(&html);
    let me = gql.with_token(&session).ok(VIEWER, json!({})).await;
    assert_eq!(me["viewer"]["email"], "newcomer@example.kz");
    assert_eq!(
        me["viewer"]["emailVerified"], true,
        "the link proves the address"
    );
    assert_eq!(
        me["viewer"]["locale"], "EN",
        "a new account takes the page's language"
    );

    let again = http.post(&url).send().await.expect("post again");
    assert_eq!(again.status(), 400, "single use");
    assert!(!again.text().await.expect("html").contains("<code"));
    assert_eq!(count(&db, "SELECT count(*) AS n FROM sessions").await, 1);
    assert_eq!(
        http.get(&url).send().await.expect("get used").status(),
        400,
        "a used link shows the invalid-link page"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn verification_link_page_shows_then_post_verifies_once() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client();
    let d = gql
        .ok(
            "mutation { signUp(input: { email: \"asel@example.kz\", password: \"correct horse battery\", displayName: \"Asel\" }) { token } }",
            json!({}),
        )
        .await;
    let me = gql.with_token(d["signUp"]["token"].as_str().unwrap());
    let token = token_of(&db, "VERIFY_EMAIL", "asel@example.kz").await;
    let url = api.url(&format!("/auth/link?token={token}"));
    let http = reqwest::Client::new();

    let html = http
        .get(&url)
        .header("accept-language", "en-GB")
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("html");
    assert!(html.contains("Verify your email address"), "{html}");
    assert!(html.contains(">Verify</button>"));
    assert_eq!(http.head(&url).send().await.expect("head").status(), 200);
    assert_eq!(
        me.ok(VIEWER, json!({})).await["viewer"]["emailVerified"],
        false,
        "GET and HEAD verify nothing"
    );
    let sessions = count(&db, "SELECT count(*) AS n FROM sessions").await;

    let done = http
        .post(&url)
        .header("accept-language", "kk")
        .send()
        .await
        .expect("post");
    assert_eq!(done.status(), 200);
    let html = done.text().await.expect("html");
    assert!(html.contains("расталды"), "{html}");
    assert!(!html.contains("<code"), "verifying opens no session");
    assert_eq!(
        me.ok(VIEWER, json!({})).await["viewer"]["emailVerified"],
        true
    );
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM sessions").await,
        sessions
    );
    for (lang, said) in [
        ("kk", "Бұл мекенжай бұрын расталған"),
        ("ru", "Этот адрес уже подтверждён"),
        ("en", "This address is already verified"),
    ] {
        let again = http
            .post(&url)
            .header("accept-language", lang)
            .send()
            .await
            .expect("again");
        assert_eq!(again.status(), 200, "a second press is not an error");
        let html = again.text().await.expect("html");
        assert!(html.contains(said), "{lang}: {html}");
        assert!(!html.contains("method=\"post\""), "nothing left to press");
        let shown = http
            .get(&url)
            .header("accept-language", lang)
            .send()
            .await
            .expect("get used");
        assert_eq!(shown.status(), 200);
        assert!(shown.text().await.expect("html").contains(said));
    }
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM sessions").await,
        sessions,
        "a second press opens no session either"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_link_token_is_a_400_page() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let http = reqwest::Client::new();
    for url in ["/auth/link?token=nonsense", "/auth/link"] {
        let get = http
            .get(api.url(url))
            .header("accept-language", "ru")
            .send()
            .await
            .expect("get");
        assert_eq!(get.status(), 400);
        assert!(get.text().await.expect("html").contains("недействительна"));
        assert_eq!(
            http.post(api.url(url)).send().await.expect("post").status(),
            400
        );
    }
}

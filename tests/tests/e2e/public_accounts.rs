//! Accounts over HTTP: sign-up, sign-in, links, verification, profile, password, sign-out.

use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::{TestApi, TestDb, TestRedis};
use serde_json::json;

use crate::public_support::{code, count, field, outbox, token_of};

const SIGN_UP: &str = "mutation($i: SignUpInput!) { signUp(input: $i) { token user { id email emailVerified displayName locale role } } }";
const SIGN_IN: &str = "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token user { email } } }";
const VIEWER: &str = "{ viewer { email emailVerified displayName locale } }";

#[tokio::test(flavor = "multi_thread")]
async fn sign_up_sign_in_verify_and_sign_out() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client();

    let data = gql
        .ok(SIGN_UP, json!({ "i": { "email": " Aigerim@Example.KZ ", "password": "correct horse battery", "displayName": "Айгерім", "locale": "KK" } }))
        .await;
    let user = &data["signUp"]["user"];
    assert_eq!(user["email"], "aigerim@example.kz");
    assert_eq!(user["emailVerified"], false);
    assert_eq!(user["role"], "MEMBER");
    let token = data["signUp"]["token"].as_str().unwrap().to_owned();
    let me = gql.with_token(&token);
    assert_eq!(
        me.ok(VIEWER, json!({})).await["viewer"]["displayName"],
        "Айгерім"
    );

    // The verification email was written with the account.
    let rows = outbox(&db).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, "VERIFY_EMAIL");
    assert_eq!(rows[0].recipient, "aigerim@example.kz");
    let verify = token_of(&db, "VERIFY_EMAIL", "aigerim@example.kz").await;
    let verified = gql
        .ok(
            "mutation($t: String!) { verifyEmail(token: $t) { emailVerified } }",
            json!({ "t": verify }),
        )
        .await;
    assert_eq!(verified["verifyEmail"]["emailVerified"], true);
    // Single use.
    let again = gql
        .raw(
            "mutation($t: String!) { verifyEmail(token: $t) { emailVerified } }",
            json!({ "t": verify }),
        )
        .await;
    assert_eq!(code(&again), "BAD_USER_INPUT");
    // Verified: resending queues nothing more.
    me.ok("mutation { resendVerification }", json!({})).await;
    assert_eq!(outbox(&db).await.len(), 1);

    // The same address again.
    let dup = gql
        .raw(SIGN_UP, json!({ "i": { "email": "aigerim@example.kz", "password": "another password", "displayName": "X" } }))
        .await;
    assert_eq!((code(&dup), field(&dup)), ("BAD_USER_INPUT", "email"));

    let signed = gql
        .ok(
            SIGN_IN,
            json!({ "e": "AIGERIM@example.kz", "p": "correct horse battery" }),
        )
        .await;
    let second = signed["signIn"]["token"].as_str().unwrap().to_owned();
    for (e, p) in [
        ("aigerim@example.kz", "wrong password!"),
        ("nobody@example.kz", "correct horse battery"),
    ] {
        let body = gql.raw(SIGN_IN, json!({ "e": e, "p": p })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT");
        // In the request's language: none asked for, so kk.
        assert_eq!(body["errors"][0]["message"], "email немесе құпиясөз қате");
    }

    assert_eq!(
        gql.with_token(&second)
            .ok("mutation { signOut }", json!({}))
            .await["signOut"],
        true
    );
    // A revoked token is refused, not served as anonymous.
    assert_eq!(
        gql.with_token(&second).error_code(VIEWER, json!({})).await,
        "UNAUTHENTICATED"
    );
    assert!(
        !me.ok(VIEWER, json!({})).await["viewer"].is_null(),
        "other sessions live on"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_up_validation_leaves_nothing_behind() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client();
    let cases = [
        (
            json!({ "email": "not-an-email", "password": "long enough pw", "displayName": "A" }),
            "email",
        ),
        (
            json!({ "email": "a@b.kz", "password": "short", "displayName": "A" }),
            "password",
        ),
        (
            json!({ "email": "a@b.kz", "password": "long enough pw", "displayName": "  " }),
            "displayName",
        ),
        (
            json!({ "email": "a@b.kz", "password": "long enough pw", "displayName": "x".repeat(101) }),
            "displayName",
        ),
    ];
    for (input, f) in cases {
        let body = gql.raw(SIGN_UP, json!({ "i": input })).await;
        assert_eq!((code(&body), field(&body)), ("BAD_USER_INPUT", f), "{body}");
    }
    // An unknown enum value is refused before anything runs.
    let body = gql
        .raw(SIGN_UP, json!({ "i": { "email": "a@b.kz", "password": "long enough pw", "displayName": "A", "locale": "DE" } }))
        .await;
    assert!(body["errors"].is_array());
    assert_eq!(count(&db, "SELECT count(*) AS n FROM users").await, 0);
    assert_eq!(count(&db, "SELECT count(*) AS n FROM outbox").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_links_answer_alike_and_create_accounts_on_first_use() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client();
    fixtures::user(&db, "known@example.kz", Kind::Unverified).await;
    let req = "mutation($e: String!) { requestSignInLink(email: $e) }";
    let known = gql.raw(req, json!({ "e": "known@example.kz" })).await;
    let unknown = gql.raw(req, json!({ "e": "New@Example.kz" })).await;
    assert_eq!(known, unknown, "identical answers");
    assert_eq!(known, json!({ "data": { "requestSignInLink": true } }));
    let kinds: Vec<_> = outbox(&db)
        .await
        .into_iter()
        .map(|r| (r.kind, r.recipient))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("SIGN_IN_LINK".to_owned(), "known@example.kz".to_owned()),
            ("SIGN_IN_LINK".to_owned(), "new@example.kz".to_owned())
        ]
    );

    let link = "mutation($t: String!) { signInWithLink(token: $t) { token user { email emailVerified } } }";
    let t = token_of(&db, "SIGN_IN_LINK", "new@example.kz").await;
    let data = gql.ok(link, json!({ "t": t })).await;
    assert_eq!(data["signInWithLink"]["user"]["email"], "new@example.kz");
    assert_eq!(data["signInWithLink"]["user"]["emailVerified"], true);
    assert_eq!(
        code(&gql.raw(link, json!({ "t": t })).await),
        "BAD_USER_INPUT",
        "single use"
    );
    // The link's session may set a password without a current one (the reset path).
    let session = data["signInWithLink"]["token"].as_str().unwrap().to_owned();
    gql.with_token(&session)
        .ok(
            "mutation { changePassword(newPassword: \"a brand new password\") }",
            json!({}),
        )
        .await;
    gql.ok(
        SIGN_IN,
        json!({ "e": "new@example.kz", "p": "a brand new password" }),
    )
    .await;

    // The known account is verified by using its link.
    let t = token_of(&db, "SIGN_IN_LINK", "known@example.kz").await;
    let data = gql.ok(link, json!({ "t": t })).await;
    assert_eq!(data["signInWithLink"]["user"]["emailVerified"], true);
    assert_eq!(count(&db, "SELECT count(*) AS n FROM users").await, 2);

    let body = gql.raw(req, json!({ "e": "broken" })).await;
    assert_eq!((code(&body), field(&body)), ("BAD_USER_INPUT", "email"));
}

#[tokio::test(flavor = "multi_thread")]
async fn profile_password_and_resend() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client();
    assert_eq!(
        code(&gql.raw("mutation { resendVerification }", json!({})).await),
        "UNAUTHENTICATED"
    );
    let data = gql
        .ok(SIGN_UP, json!({ "i": { "email": "p@example.kz", "password": "first password", "displayName": "P" } }))
        .await;
    let token = data["signUp"]["token"].as_str().unwrap().to_owned();
    let me = gql.with_token(&token);
    me.ok("mutation { resendVerification }", json!({})).await;
    let kinds: Vec<_> = outbox(&db).await.into_iter().map(|r| r.kind).collect();
    assert_eq!(kinds, vec!["VERIFY_EMAIL", "VERIFY_EMAIL"]);

    let p = me
        .ok(
            "mutation { updateProfile(displayName: \"Pavel\", locale: RU) { displayName locale } }",
            json!({}),
        )
        .await;
    assert_eq!(
        p["updateProfile"],
        json!({ "displayName": "Pavel", "locale": "RU" })
    );

    let other = gql
        .ok(
            SIGN_IN,
            json!({ "e": "p@example.kz", "p": "first password" }),
        )
        .await["signIn"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let change = "mutation($c: String, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";
    let body = me.raw(change, json!({ "n": "second password" })).await;
    assert_eq!(
        (code(&body), field(&body)),
        ("BAD_USER_INPUT", "currentPassword")
    );
    let body = me
        .raw(
            change,
            json!({ "c": "wrong password", "n": "second password" }),
        )
        .await;
    assert_eq!(
        (code(&body), field(&body)),
        ("BAD_USER_INPUT", "currentPassword")
    );
    let body = me
        .raw(change, json!({ "c": "first password", "n": "short" }))
        .await;
    assert_eq!(
        (code(&body), field(&body)),
        ("BAD_USER_INPUT", "newPassword")
    );
    me.ok(
        change,
        json!({ "c": "first password", "n": "second password" }),
    )
    .await;
    assert_eq!(
        gql.with_token(&other).error_code(VIEWER, json!({})).await,
        "UNAUTHENTICATED",
        "other sessions revoked"
    );
    assert!(!me.ok(VIEWER, json!({})).await["viewer"].is_null());
    gql.ok(
        SIGN_IN,
        json!({ "e": "p@example.kz", "p": "second password" }),
    )
    .await;
}

//! Rate limits of the anonymous account actions: per email address named and per client
//! address, RATE_LIMITED with `extensions.retryAfter` when over.

use birgemiz_schema::config::{IpRange, RateLimit, RateLimits};
use birgemiz_tests::api::test_config;
use birgemiz_tests::{TestApi, TestDb, TestRedis};
use serde_json::{Value, json};

use crate::public_support::count;

const PER_EMAIL: u32 = 2;
const PER_IP: u32 = 4;

/// With `set` lowering one action's limits: two tries per email and four per address pass,
/// the next is refused, and a refused try does nothing.
async fn limited(
    set: fn(&mut RateLimits, RateLimit, RateLimit),
    query: &str,
    vars: fn(&str) -> Value,
    side_effects: &str,
) {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let mut config = test_config(&db, &redis);
    set(
        &mut config.rate_limits,
        RateLimit {
            max: PER_EMAIL,
            window_secs: 3600,
        },
        RateLimit {
            max: PER_IP,
            window_secs: 600,
        },
    );
    let api = TestApi::start_with(config).await;
    let gql = api.client();
    let code = |body: &Value| body["errors"][0]["extensions"]["code"].clone();

    for email in ["Dana@example.kz", " dana@EXAMPLE.kz"] {
        let body = gql.raw(query, vars(email)).await;
        assert_ne!(code(&body), "RATE_LIMITED", "{body}");
    }
    let effects = count(&db, side_effects).await;
    let over = gql.raw(query, vars("dana@example.kz")).await;
    assert_eq!(
        code(&over),
        "RATE_LIMITED",
        "the same address, however spelled: {over}"
    );
    let retry = over["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap_or_else(|| panic!("retryAfter: {over}"));
    assert!(
        (1..=3600).contains(&retry),
        "retry within the window: {retry}"
    );
    assert_eq!(
        count(&db, side_effects).await,
        effects,
        "a refused request does nothing"
    );

    // The fourth request from this address names another email and passes; the fifth does not,
    // whatever email it names, and waits for the shorter per-address window.
    let body = gql.raw(query, vars("erlan@example.kz")).await;
    assert_ne!(code(&body), "RATE_LIMITED", "{body}");
    let over = gql.raw(query, vars("zhanar@example.kz")).await;
    assert_eq!(code(&over), "RATE_LIMITED", "per client address: {over}");
    let retry = over["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!((1..=600).contains(&retry), "{retry}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_is_limited_per_email_and_address() {
    limited(
        |l, e, ip| {
            l.sign_in_per_email = e;
            l.sign_in_per_ip = ip;
        },
        "mutation($e: String!) { signIn(email: $e, password: \"not the password\") { token } }",
        |e| json!({ "e": e }),
        "SELECT count(*) AS n FROM sessions",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_up_is_limited_per_email_and_address() {
    limited(
        |l, e, ip| {
            l.sign_up_per_email = e;
            l.sign_up_per_ip = ip;
        },
        "mutation($e: String!) { signUp(input: { email: $e, password: \"correct horse battery\", displayName: \"D\" }) { token } }",
        |e| json!({ "e": e }),
        "SELECT count(*) AS n FROM users",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_link_requests_are_limited_per_email_and_address() {
    limited(
        |l, e, ip| {
            l.sign_in_link_per_email = e;
            l.sign_in_link_per_ip = ip;
        },
        "mutation($e: String!) { requestSignInLink(email: $e) }",
        |e| json!({ "e": e }),
        "SELECT count(*) AS n FROM outbox",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn subscribe_is_limited_per_email_and_address() {
    limited(
        |l, e, ip| {
            l.subscribe_per_email = e;
            l.subscribe_per_ip = ip;
        },
        "mutation($e: String!) { subscribe(input: { email: $e }) { status } }",
        |e| json!({ "e": e }),
        "SELECT count(*) AS n FROM outbox",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn default_limits_allow_a_few_sign_ins() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client();
    gql.ok(
        "mutation { signUp(input: { email: \"ayan@example.kz\", password: \"correct horse battery\", displayName: \"Ayan\" }) { token } }",
        json!({}),
    )
    .await;
    let sign_in = "mutation { signIn(email: \"ayan@example.kz\", password: \"correct horse battery\") { token } }";
    for _ in 0..5 {
        gql.ok(sign_in, json!({})).await;
    }
    assert_eq!(
        gql.raw(sign_in, json!({})).await["errors"][0]["extensions"]["code"],
        "RATE_LIMITED",
        "the sixth sign-in to one account within the hour waits"
    );
}

/// Behind a load balancer the per-address limits key on the client's address from
/// `X-Forwarded-For`, but only when the balancer is in `TRUSTED_PROXIES`: otherwise the header is
/// anyone's to forge, and a client changing it on every request must not get a fresh budget.
#[tokio::test(flavor = "multi_thread")]
async fn per_address_limits_follow_forwarded_for_from_trusted_proxies_only() {
    const SUBSCRIBE: &str = "mutation($e: String!) { subscribe(input: { email: $e }) { status } }";
    for trusted in [false, true] {
        let (db, redis) = (TestDb::new().await, TestRedis::new());
        let mut config = test_config(&db, &redis);
        config.rate_limits.subscribe_per_ip = RateLimit {
            max: 2,
            window_secs: 600,
        };
        if trusted {
            config.trusted_proxies = vec![IpRange::parse("127.0.0.0/8").unwrap()];
        }
        let api = TestApi::start_with(config).await;
        let gql = api.client();
        let mut n = 0;
        let mut subscribe = async |forwarded_for: &str| -> Value {
            n += 1;
            let body: Value = gql
                .http
                .post(&gql.endpoint)
                .header("x-forwarded-for", forwarded_for)
                .json(&json!({ "query": SUBSCRIBE, "variables": { "e": format!("reader{n}@example.kz") } }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["errors"][0]["extensions"]["code"].clone()
        };
        if !trusted {
            assert_eq!(subscribe("203.0.113.1").await, Value::Null);
            assert_eq!(subscribe("203.0.113.2").await, Value::Null);
            assert_eq!(
                subscribe("203.0.113.3").await,
                "RATE_LIMITED",
                "a forged X-Forwarded-For buys no fresh budget"
            );
            continue;
        }
        assert_eq!(subscribe("203.0.113.1").await, Value::Null);
        assert_eq!(subscribe("203.0.113.1").await, Value::Null);
        assert_eq!(subscribe("203.0.113.1").await, "RATE_LIMITED");
        assert_eq!(
            subscribe("203.0.113.2").await,
            Value::Null,
            "another client behind the same balancer has its own budget"
        );
        // The client put 203.0.113.9 in front itself; the balancer appended what it saw.
        assert_eq!(subscribe("203.0.113.9, 203.0.113.2").await, Value::Null);
        assert_eq!(
            subscribe("203.0.113.9, 203.0.113.2").await,
            "RATE_LIMITED",
            "the address the balancer saw counts, not the one the client wrote"
        );
    }
}

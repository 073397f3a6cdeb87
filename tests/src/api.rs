//! The API under test, in-process on a free port, and a small GraphQL-over-HTTP client.

use std::net::SocketAddr;

use birgemiz_api::state::AppState;
use birgemiz_schema::config::Config;
use serde_json::{Value, json};

use crate::{TestDb, TestRedis};

pub const TEST_SECRET: &str = "birgemiz-test-secret-0123456789abcdef";

/// Configuration for a test: defaults, pointed at this test's database and Redis namespace.
pub fn test_config(db: &TestDb, redis: &TestRedis) -> Config {
    // SAFETY-free: from_env only reads; tests never set process environment.
    let mut config = Config::from_env().expect("default configuration");
    config.database_url = db.url.clone();
    config.redis_url = redis.url.clone();
    config.redis_namespace = redis.namespace.clone();
    config.app_secret = TEST_SECRET.into();
    config.bind = "127.0.0.1:0".into();
    // Emails and pages as without a frontend unless a test sets one.
    config.frontend_url = None;
    // Tests of live counts use a handful of votes; the abuse tests set the production minimum.
    config.live_counts_min_votes = 0;
    config
}

pub struct TestApi {
    pub addr: SocketAddr,
    pub base: String,
    pub state: AppState,
    task: tokio::task::JoinHandle<()>,
}

impl TestApi {
    pub async fn start(db: &TestDb, redis: &TestRedis) -> TestApi {
        Self::start_with(test_config(db, redis)).await
    }

    pub async fn start_with(config: Config) -> TestApi {
        let state = AppState::connect(config).await.expect("api state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let serving = state.clone();
        let task = tokio::spawn(async move {
            if let Err(e) = birgemiz_api::http::serve_on(listener, serving).await {
                eprintln!("test api stopped: {e:#}");
            }
        });
        TestApi {
            addr,
            base: format!("http://{addr}"),
            state,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn client(&self) -> Gql {
        Gql {
            endpoint: self.url("/graphql"),
            http: reqwest::Client::new(),
            token: None,
            locale: None,
        }
    }
}

impl Drop for TestApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A GraphQL client with an optional bearer token and Accept-Language.
#[derive(Clone)]
pub struct Gql {
    pub endpoint: String,
    pub http: reqwest::Client,
    pub token: Option<String>,
    pub locale: Option<String>,
}

impl Gql {
    pub fn with_token(&self, token: &str) -> Gql {
        Gql {
            token: Some(token.into()),
            ..self.clone()
        }
    }

    pub fn with_locale(&self, locale: &str) -> Gql {
        Gql {
            locale: Some(locale.into()),
            ..self.clone()
        }
    }

    /// The HTTP status and the body exactly as served.
    pub async fn served(&self, query: &str, variables: Value) -> (reqwest::StatusCode, String) {
        let mut req = self
            .http
            .post(&self.endpoint)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(l) = &self.locale {
            req = req.header("accept-language", l);
        }
        let resp = req.send().await.expect("POST /graphql");
        let status = resp.status();
        (status, resp.text().await.expect("response body"))
    }

    /// The whole response body (`data` and `errors`).
    pub async fn raw(&self, query: &str, variables: Value) -> Value {
        let (_, body) = self.served(query, variables).await;
        serde_json::from_str(&body).expect("JSON response")
    }

    /// `data`, failing the test on any error.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        let body = self.raw(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// The first error's `extensions.code`, failing the test if there is none.
    pub async fn error_code(&self, query: &str, variables: Value) -> String {
        let body = self.raw(query, variables).await;
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an error with a code: {body:#}"))
            .to_owned()
    }
}

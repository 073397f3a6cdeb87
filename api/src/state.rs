//! What every request handler shares: configuration, the PostgreSQL pool, Redis, the schema.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use birgemiz_schema::config::Config;
use birgemiz_schema::vote_counts::VoteCounts;
use birgemiz_schema::{db, redis_conn, startup};
use redis::aio::ConnectionManager;

use crate::graphql;
use crate::graphql::live_counts::LiveCounts;
use crate::http::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: db::Pool,
    pub redis: ConnectionManager,
    pub schema: graphql::Schemas,
    pub metrics: Arc<Metrics>,
    pub vote_counts: Arc<VoteCounts>,
    pub live_counts: Arc<LiveCounts>,
    /// Turns to execute a GraphQL request (`Config::graphql_concurrency`); the semaphore is fair,
    /// so requests beyond it wait in arrival order. Rather than share the cores and the pool with
    /// all the others, each request then runs with less contention and the slowest wait little
    /// longer than the typical one (docs/benchmarks.md has the measurements).
    pub executing: Arc<tokio::sync::Semaphore>,
    /// Set once the shutdown grace period is over: in-flight requests answer at once.
    pub grace_over: Arc<tokio::sync::watch::Sender<bool>>,
    /// Open WebSocket connections, so shutdown can wait for their close frames.
    pub websockets: Arc<std::sync::atomic::AtomicUsize>,
}

impl AppState {
    pub async fn connect(config: Config) -> anyhow::Result<AppState> {
        // An executing GraphQL request holds one connection for its reads (`graphql::reads`), so
        // the pool covers every request's turn plus a few for health checks and email links.
        let needed = config.graphql_concurrency + 4;
        let pool_size = std::env::var("DATABASE_POOL_SIZE")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(needed.max(16) as u32);
        if (pool_size as usize) < needed {
            tracing::warn!(
                pool_size,
                graphql_concurrency = config.graphql_concurrency,
                "DATABASE_POOL_SIZE is below GRAPHQL_CONCURRENCY + 4: executing requests will wait for connections"
            );
        }
        // Hashed now rather than on the first sign-in with an unknown email, which would then
        // take twice as long as any other.
        birgemiz_schema::accounts::prepare_dummy_hash().await?;
        let pool = startup::retry("postgres", config.startup_timeout, || {
            db::connect_with(&config.database_url, pool_size, config.pool)
        })
        .await?;
        birgemiz_schema::places::load(&mut *pool.get().await.context("database")?)
            .await
            .context("reading the places (are the migrations run?)")?;
        let redis = startup::retry("redis", config.startup_timeout, || {
            redis_conn::connect(&config.redis_url, Duration::from_secs(5))
        })
        .await
        .context("redis")?;
        let config = Arc::new(config);
        let vote_counts = Arc::new(VoteCounts::new());
        let live_counts =
            LiveCounts::start(&config.redis_url, &config.redis_namespace, pool.clone());
        let schema = graphql::build_schema(
            config.clone(),
            pool.clone(),
            redis.clone(),
            vote_counts.clone(),
            live_counts.clone(),
        );
        let executing = Arc::new(tokio::sync::Semaphore::new(config.graphql_concurrency));
        Ok(AppState {
            config,
            pool,
            redis,
            schema,
            metrics: Arc::default(),
            vote_counts,
            live_counts,
            executing,
            grace_over: Arc::new(tokio::sync::watch::channel(false).0),
            websockets: Arc::default(),
        })
    }

    /// Resolves once the shutdown grace period is over (never, while serving normally).
    pub fn grace_over(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        let mut rx = self.grace_over.subscribe();
        async move {
            if rx.wait_for(|over| *over).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// At shutdown: folds (and announces) the votes acknowledged since the last fold, rather
    /// than leave them to the next process that folds.
    pub async fn fold_votes(&self) {
        if self.vote_counts.has_pending() {
            graphql::vote_folds::fold_once(
                &self.vote_counts,
                &self.pool,
                &self.redis,
                &self.live_counts,
            )
            .await;
        }
    }
}

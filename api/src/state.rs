//! What every request handler shares: configuration, the PostgreSQL pool, Redis, the schema.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use birgemiz_schema::config::Config;
use birgemiz_schema::{db, redis_conn};
use redis::aio::ConnectionManager;

use crate::graphql::{self, BirgemizSchema};
use crate::http::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: db::Pool,
    pub redis: ConnectionManager,
    pub schema: BirgemizSchema,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub async fn connect(config: Config) -> anyhow::Result<AppState> {
        // Sized to the cores: more connections than PostgreSQL can run at once only queue inside it.
        let pool_size = std::env::var("DATABASE_POOL_SIZE")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(16);
        let pool = db::connect(&config.database_url, pool_size).await?;
        let redis = redis_conn::connect(&config.redis_url, Duration::from_secs(5))
            .await
            .context("redis")?;
        let config = Arc::new(config);
        let schema = graphql::build_schema(config.clone(), pool.clone(), redis.clone());
        Ok(AppState {
            config,
            pool,
            redis,
            schema,
            metrics: Arc::default(),
        })
    }
}

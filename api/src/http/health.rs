//! `/healthz` (the process answers), `/readyz` (it can serve: PostgreSQL answers) and
//! `/readyz/full` (every dependency answers).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::state::AppState;

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether PostgreSQL and Redis answer, each within [`CHECK_TIMEOUT`].
async fn check(state: &AppState) -> (Result<(), String>, Result<(), String>) {
    let postgres = birgemiz_schema::db::ping(&state.pool, CHECK_TIMEOUT);
    let redis = birgemiz_schema::redis_conn::ping(&state.redis, CHECK_TIMEOUT);
    let (postgres, redis) = tokio::join!(postgres, redis);
    for (what, r) in [("postgres", &postgres), ("redis", &redis)] {
        if let Err(e) = r {
            tracing::warn!(dependency = what, "readiness check failed: {e}");
        }
    }
    (postgres, redis)
}

/// Whether this process can serve: PostgreSQL answers. Without Redis it still serves (rate
/// limits fall back, live counts and job pushes wait), so Redis shows as `degraded` in the body
/// and in `birgemiz_redis_up`, but readiness holds: a Redis outage must not take every api out
/// of rotation at once.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (postgres, redis) = check(&state).await;
    let status = match (&postgres, &redis) {
        (Err(_), _) => "unavailable",
        (Ok(()), Err(_)) => "degraded",
        (Ok(()), Ok(())) => "ready",
    };
    let code = if postgres.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(json!({
            "status": status,
            "postgres": if postgres.is_ok() { "ok" } else { "unavailable" },
            "redis": if redis.is_ok() { "ok" } else { "degraded" },
        })),
    )
}

/// Fully healthy: PostgreSQL and Redis both answer (for alerting, not for load balancing).
pub async fn readyz_full(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (postgres, redis) = check(&state).await;
    let healthy = postgres.is_ok() && redis.is_ok();
    let verdict = |r: &Result<(), String>| if r.is_ok() { "ok" } else { "unavailable" };
    (
        if healthy {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        Json(json!({
            "status": if healthy { "healthy" } else { "unhealthy" },
            "postgres": verdict(&postgres),
            "redis": verdict(&redis),
        })),
    )
}

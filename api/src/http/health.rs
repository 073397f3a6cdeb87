//! `/healthz` (the process answers) and `/readyz` (its dependencies answer).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::state::AppState;

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let postgres = tokio::time::timeout(CHECK_TIMEOUT, async {
        let mut conn = state.pool.get().await.map_err(|e| e.to_string())?;
        diesel::sql_query("SELECT 1")
            .execute(&mut *conn)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|_| Err("timed out".into()));
    let redis = birgemiz_schema::redis_conn::ping(&state.redis, CHECK_TIMEOUT).await;
    let verdict = |r: &Result<_, String>| match r {
        Ok(_) => json!("ok"),
        Err(e) => {
            tracing::warn!("readiness check failed: {e}");
            json!("unavailable")
        }
    };
    let ready = postgres.is_ok() && redis.is_ok();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if ready { "ready" } else { "unavailable" },
            "postgres": verdict(&postgres),
            "redis": verdict(&redis),
        })),
    )
}

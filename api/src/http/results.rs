//! The frozen results documents: `GET /results/{sha256}.json` serves the exact bytes whose hash
//! names them, so the answer never changes and may be cached forever.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use birgemiz_schema::juries::freeze;

use crate::state::AppState;

pub async fn document(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(sha) = file.strip_suffix(".json").filter(|s| {
        s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }) else {
        return (StatusCode::NOT_FOUND, "no such results document").into_response();
    };
    let found = match state.pool.get().await {
        Ok(mut conn) => freeze::document_by_hash(&mut conn, sha).await,
        Err(e) => Err(e.into()),
    };
    match found {
        Ok(Some(text)) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            ],
            text,
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no such results document").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "results document");
            (StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable").into_response()
        }
    }
}

//! HTTP transport: the router, health endpoints and the GraphQL-over-HTTP handler.

mod auth_link;
mod client_addr;
mod email_links;
mod graphiql;
mod graphql_http;
mod health;
pub mod limits;
pub mod metrics;
mod pages;
mod results;
mod ws;

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let cors = cors(&state.config);
    Router::new()
        .route("/graphql", get(graphql_http::get).post(graphql_http::post))
        .route("/graphql/assets/{version}/{name}", get(graphiql::asset))
        .route("/graphql/ws", get(ws::handler))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/readyz/full", get(health::readyz_full))
        .route("/metrics", get(metrics_text))
        .route(
            "/subscriptions/confirm",
            get(email_links::confirm_page).post(email_links::confirm_post),
        )
        .route(
            "/unsubscribe",
            get(email_links::unsubscribe_page).post(email_links::unsubscribe_post),
        )
        .route(
            "/unsubscribe/preferences",
            post(email_links::preferences_post),
        )
        .route("/unsubscribe/resume", post(email_links::resume_post))
        .route("/results/{file}", get(results::document))
        .route(
            "/auth/link",
            get(auth_link::link_page).post(auth_link::link_post),
        )
        .layer(DefaultBodyLimit::max(limits::MAX_BODY_BYTES))
        .layer(cors)
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::REFERRER_POLICY, "no-referrer"))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// Which browser origins may call the API: those of `CORS_ALLOWED_ORIGINS`; with none listed,
/// in development any `http://localhost:PORT` or `http://127.0.0.1:PORT` (a frontend's dev
/// server), in production none. Bearer tokens travel in a header, never cookies, so
/// credentials mode stays off.
fn cors(config: &birgemiz_schema::config::Config) -> CorsLayer {
    let origins = &config.cors_allowed_origins;
    let allow = if origins.is_empty() && !config.is_production() {
        AllowOrigin::predicate(|origin, _| is_local_dev_origin(origin))
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    let request_id = HeaderName::from_static("x-request-id");
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            request_id.clone(),
        ])
        .expose_headers([request_id])
        .max_age(std::time::Duration::from_secs(600))
}

/// `http://localhost[:port]` or `http://127.0.0.1[:port]`, exactly (no path, no other host
/// that merely starts with those names).
fn is_local_dev_origin(origin: &HeaderValue) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let Some(rest) = origin
        .strip_prefix("http://localhost")
        .or_else(|| origin.strip_prefix("http://127.0.0.1"))
    else {
        return false;
    };
    match rest.strip_prefix(':') {
        None => rest.is_empty(),
        Some(port) => {
            !port.is_empty()
                && port.len() <= 5
                && port.bytes().all(|b| b.is_ascii_digit())
                && port.parse::<u16>().is_ok_and(|p| p > 0)
        }
    }
}

async fn metrics_text(State(state): State<AppState>) -> ([(HeaderName, &'static str); 1], String) {
    use std::sync::atomic::Ordering;

    use crate::graphql::rate_limit;
    let pool = state.pool.state();
    let mut text = state
        .metrics
        .render(pool.connections, pool.idle_connections);
    let redis_up = birgemiz_schema::redis_conn::ping(&state.redis, rate_limit::REDIS_WAIT)
        .await
        .is_ok();
    text.push_str(&format!(
        "# HELP birgemiz_redis_up Whether Redis answered a PING (0: degraded, rate limits fall back).\n\
         # TYPE birgemiz_redis_up gauge\n\
         birgemiz_redis_up {}\n\
         # HELP birgemiz_rate_limit_without_redis_total Rate-limit checks decided without Redis.\n\
         # TYPE birgemiz_rate_limit_without_redis_total counter\n\
         birgemiz_rate_limit_without_redis_total{{decision=\"local\"}} {}\n\
         birgemiz_rate_limit_without_redis_total{{decision=\"refused\"}} {}\n",
        u8::from(redis_up),
        rate_limit::LOCAL_CHECKS.load(Ordering::Relaxed),
        rate_limit::REFUSED_CHECKS.load(Ordering::Relaxed),
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

/// Serves until SIGTERM or SIGINT, then lets in-flight requests finish.
pub async fn serve(state: AppState) -> anyhow::Result<()> {
    let bind = state.config.bind.clone();
    let listener = TcpListener::bind(&bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    serve_on(listener, state).await
}

pub async fn serve_on(listener: TcpListener, state: AppState) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let graphiql = if state.config.is_production() {
        ""
    } else {
        " (GraphiQL in a browser)"
    };
    tracing::info!("listening on http://{addr}/graphql{graphiql}");
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let server = axum::serve(
        listener,
        router(state.clone()).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        stop_tx.send_replace(true);
    })
    .into_future();
    let (live, grace_over, grace) = (
        state.live_counts.clone(),
        state.grace_over.clone(),
        state.config.shutdown_grace,
    );
    // In-flight requests may finish within the grace period; then they are answered
    // SERVICE_UNAVAILABLE and the process exits, whatever still holds them (a lock, a slow
    // statement), before an orchestrator's own deadline kills it mid-response.
    let deadline = async move {
        if stop_rx.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
        live.stop();
        tokio::time::sleep(grace).await;
        tracing::warn!(
            grace_secs = grace.as_secs(),
            "shutdown grace period over; answering in-flight requests SERVICE_UNAVAILABLE"
        );
        grace_over.send_replace(true);
        tokio::time::sleep(ANSWER_AFTER_GRACE).await;
    };
    tokio::select! {
        served = server => served.context("http server")?,
        () = deadline => tracing::warn!("connections still open after the grace period; exiting"),
    }
    // WebSockets are not connections the server waits for: give their close frames a moment.
    let started = std::time::Instant::now();
    while state.websockets.load(std::sync::atomic::Ordering::SeqCst) > 0
        && started.elapsed() < ANSWER_AFTER_GRACE
    {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    state.fold_votes().await;
    Ok(())
}

/// After the grace period, how long answered requests get to leave before the process exits.
const ANSWER_AFTER_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for SIGINT: {e}");
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_dev_origins_are_localhost_and_loopback_with_any_port() {
        for ok in [
            "http://localhost:3000",
            "http://127.0.0.1:5173",
            "http://localhost",
        ] {
            assert!(is_local_dev_origin(&HeaderValue::from_static(ok)), "{ok}");
        }
        for bad in [
            "https://localhost:3000",
            "http://localhost.evil.kz",
            "http://localhost:3000.evil.kz",
            "http://127.0.0.10:80",
            "http://localhost:0",
            "http://localhost:99999",
            "http://localhost:",
            "http://evil.kz",
        ] {
            assert!(
                !is_local_dev_origin(&HeaderValue::from_static(bad)),
                "{bad}"
            );
        }
    }
}

//! HTTP transport: the router, health endpoints and the GraphQL-over-HTTP handler.

mod auth_link;
mod client_addr;
mod email_links;
mod graphql_http;
mod health;
pub mod limits;
pub mod metrics;
mod pages;
mod ws;

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let cors = cors(&state.config.cors_allowed_origins);
    Router::new()
        .route("/graphql", get(graphql_http::get).post(graphql_http::post))
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

/// Only listed origins may call from a browser; bearer tokens travel in a header, never cookies,
/// so credentials mode stays off.
fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
        ])
        .max_age(std::time::Duration::from_secs(600))
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

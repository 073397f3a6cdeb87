//! `/graphql/ws`: GraphQL subscriptions over WebSocket (graphql-transport-ws and the older
//! graphql-ws). Served here rather than by async-graphql-axum's service so that shutdown ends
//! each connection properly: every subscription completes (`complete`), then a close frame
//! (1001, going away) follows, instead of the socket being cut when the process exits.

use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocket, WebSocketProtocols, WsMessage};
use axum::extract::ws::{CloseFrame, Message, WebSocket as Socket};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt, future};

use crate::state::AppState;

/// After shutdown began, how long the connection stays open for the `complete` messages of
/// its subscriptions to leave before the close frame.
const COMPLETE_FLUSH: Duration = Duration::from_millis(200);
/// "Going away" (RFC 6455): the server is shutting down.
const GOING_AWAY: u16 = 1001;

pub async fn handler(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|protocols| {
            protocols
                .split(',')
                .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
        });
    let Some(protocol) = protocol else {
        return (
            StatusCode::BAD_REQUEST,
            "unknown or missing WebSocket subprotocol",
        )
            .into_response();
    };
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(socket, state, protocol))
}

/// Counts an open socket for as long as it lives.
struct Open(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve(socket: Socket, state: AppState, protocol: WebSocketProtocols) {
    state.websockets.fetch_add(1, Ordering::SeqCst);
    let _open = Open(state.websockets.clone());
    let (mut sink, stream) = socket.split();
    let stopped = state.live_counts.stopped();
    let input = stream
        .take_while(|r| future::ready(r.is_ok()))
        .filter_map(|r| {
            future::ready(match r {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => Some(m.into_data()),
                _ => None,
            })
        })
        .take_until(async move {
            stopped.await;
            tokio::time::sleep(COMPLETE_FLUSH).await;
        });
    let messages = WebSocket::new(state.schema.strict.clone(), input, protocol).map(|m| match m {
        WsMessage::Text(text) => Message::Text(text.into()),
        WsMessage::Close(code, reason) => Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })),
    });
    futures_util::pin_mut!(messages);
    while let Some(m) = messages.next().await {
        if sink.send(m).await.is_err() {
            return;
        }
    }
    if state.live_counts.is_stopping() {
        let close = Message::Close(Some(CloseFrame {
            code: GOING_AWAY,
            reason: "server shutting down".into(),
        }));
        if sink.send(close).await.is_err() {
            tracing::debug!("WebSocket gone before its close frame");
        }
    }
}

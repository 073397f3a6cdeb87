//! Per-request data: who is asking, in which language, from where.

use async_graphql::Context;
use birgemiz_schema::accounts::Viewer;
use birgemiz_schema::config::Config;
use birgemiz_schema::db;
use birgemiz_schema::i18n::Locale;
use std::sync::Arc;

use super::errors::{ApiError, ApiResult};
use super::reads::{ReadConn, ReadSource};
use birgemiz_schema::Error;

#[derive(Clone, Debug, Default)]
pub struct RequestContext {
    pub viewer: Option<Viewer>,
    pub locale: Locale,
    /// The client's address as seen by the server (or the proxy's X-Forwarded-For when trusted).
    pub client_ip: Option<String>,
    pub request_id: String,
    /// The `User-Agent` header: with the address, tells anonymous readers apart (post views).
    pub user_agent: Option<String>,
    /// The user a mutation of this request just signed in or up: the payload's `user` is
    /// theirs to see (email, memberships) before their token is ever sent back.
    pub signed_in: std::sync::OnceLock<i64>,
}

/// What a response did other than asked without failing (e.g. an order that would reveal hidden
/// counts), reported in the response's `extensions.warnings`: `{code, message, path}` each.
#[derive(Default, Debug)]
pub struct Warnings(std::sync::Mutex<Vec<serde_json::Value>>);

impl Warnings {
    pub fn take(&self) -> Vec<serde_json::Value> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Short accessors used by every resolver.
pub trait ContextExt: Sync {
    fn req(&self) -> &RequestContext;
    fn mark_signed_in(&self, user_id: i64);
    fn pool(&self) -> &db::Pool;
    fn config(&self) -> &Arc<Config>;
    fn locale(&self) -> Locale {
        self.req().locale
    }
    fn viewer(&self) -> Option<&Viewer> {
        self.req().viewer.as_ref()
    }
    /// The signed-in viewer, or UNAUTHENTICATED.
    fn require_viewer(&self) -> ApiResult<&Viewer> {
        self.viewer()
            .ok_or_else(|| ApiError::from(Error::Unauthenticated))
    }
    /// The viewer's user id, or the user this request has just signed in.
    fn acting_user_id(&self) -> Option<i64> {
        self.viewer()
            .map(|v| v.user_id)
            .or_else(|| self.req().signed_in.get().copied())
    }
    fn is_admin(&self) -> bool {
        self.viewer().is_some_and(|v| v.is_admin())
    }
    /// A connection of its own, for writes and transactions.
    fn conn(&self) -> impl Future<Output = ApiResult<db::Conn<'_>>> + Send {
        let pool = self.pool();
        async move { Ok(pool.get().await.map_err(Error::from)?) }
    }
    /// The request's shared connection, for reads (see `reads`).
    fn read(&self) -> impl Future<Output = ApiResult<ReadConn<'_>>> + Send;
    /// Adds a warning for the field being resolved (see [`Warnings`]).
    fn warn(&self, code: &str, message: &str);
}

static ANONYMOUS: RequestContext = RequestContext {
    viewer: None,
    locale: Locale::Kk,
    client_ip: None,
    request_id: String::new(),
    user_agent: None,
    signed_in: std::sync::OnceLock::new(),
};

impl ContextExt for Context<'_> {
    fn req(&self) -> &RequestContext {
        self.data_opt::<RequestContext>().unwrap_or(&ANONYMOUS)
    }
    fn mark_signed_in(&self, user_id: i64) {
        // Never on the shared ANONYMOUS value.
        if let Some(r) = self.data_opt::<RequestContext>() {
            // A second sign-in in the same request keeps the first: either way it is theirs.
            r.signed_in.set(user_id).ok();
        }
    }
    fn pool(&self) -> &db::Pool {
        self.data_unchecked::<db::Pool>()
    }
    fn read(&self) -> impl Future<Output = ApiResult<ReadConn<'_>>> + Send {
        let reads = self.data_unchecked::<ReadSource>();
        async move { Ok(reads.conn().await?) }
    }
    fn config(&self) -> &Arc<Config> {
        self.data_unchecked::<Arc<Config>>()
    }
    fn warn(&self, code: &str, message: &str) {
        // Requests over WebSocket carry no Warnings: there is no response envelope to put it in.
        if let Some(w) = self.data_opt::<Arc<Warnings>>() {
            let path = self
                .path_node
                .map(|p| p.to_string_vec())
                .unwrap_or_default();
            w.0.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(serde_json::json!({ "code": code, "message": message, "path": path }));
        }
    }
}

//! Where a request's reads go. Over HTTP every resolver and loader of one request reads through
//! one pooled connection, shared: statements issued at the same level of the response (the
//! stats, the organizations and the award of a front page) leave together and come back
//! together (diesel-async pipelines concurrent statements on a shared connection), one backend
//! serves the whole page, and the pool is visited once. No transaction goes through it (a
//! statement that commits alone may: the session lookup's sliding expiry); a transaction takes a
//! connection of its own (`ContextExt::conn`), so no other statement can land inside it.

use std::ops::Deref;
use std::sync::Arc;

use birgemiz_schema::db;
use diesel_async::AsyncPgConnection;
use tokio::sync::OnceCell;

#[derive(Clone)]
pub enum ReadSource {
    /// One connection for the request, checked out at its first read and returned to the pool
    /// when the request's data (its loaders, its context) is dropped.
    Request(Arc<RequestReads>),
    /// A connection per read: for the schema-wide loaders that outlive any request (WebSocket).
    Pool(db::Pool),
}

pub struct RequestReads {
    pool: db::Pool,
    conn: OnceCell<db::OwnedConn>,
}

impl ReadSource {
    pub fn for_request(pool: db::Pool) -> ReadSource {
        ReadSource::Request(Arc::new(RequestReads {
            pool,
            conn: OnceCell::new(),
        }))
    }

    pub async fn conn(&self) -> birgemiz_schema::Result<ReadConn<'_>> {
        Ok(match self {
            ReadSource::Request(r) => ReadConn::Shared(
                r.conn
                    .get_or_try_init(|| db::checkout_owned(&r.pool))
                    .await?,
            ),
            ReadSource::Pool(pool) => ReadConn::Own(Box::new(db::checkout_owned(pool).await?)),
        })
    }
}

/// A connection to read through: shared by reference (statements may run concurrently on it),
/// never borrowed mutably, so it cannot open a transaction.
pub enum ReadConn<'a> {
    Shared(&'a db::OwnedConn),
    // Boxed: the connection is held inline and large; this is the WebSocket path only.
    Own(Box<db::OwnedConn>),
}

impl Deref for ReadConn<'_> {
    type Target = AsyncPgConnection;
    fn deref(&self) -> &AsyncPgConnection {
        match self {
            ReadConn::Shared(c) => c,
            ReadConn::Own(c) => c,
        }
    }
}

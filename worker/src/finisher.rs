//! Marks sent rows SENT in groups: every send that completes while the previous group's UPDATE
//! runs joins the next one. At full speed that is one statement and one WAL flush for a dozen
//! rows instead of one each; when idle a row is committed alone, without waiting for company.
//! A sender holds an in-flight permit until its row's commit, so the messages accepted by the
//! SMTP server but not yet recorded never exceed the permits (what a SIGKILL can duplicate:
//! `UNRECORDED_PER_SLOT` × `WORKER_CONCURRENCY`).

use birgemiz_schema::db::Pool;
use birgemiz_schema::sql::{Bind, Sql};
use birgemiz_schema::{Error, Result};
use chrono::{DateTime, Utc};
use diesel_async::RunQueryDsl;
use tokio::sync::{mpsc, oneshot};

/// Rows per statement at most.
const GROUP: usize = 256;

struct Sent {
    id: i64,
    answer: String,
    at: DateTime<Utc>,
    done: oneshot::Sender<std::result::Result<(), String>>,
}

#[derive(Clone)]
pub struct Finisher {
    tx: mpsc::Sender<Sent>,
}

impl Finisher {
    pub fn start(pool: Pool) -> Finisher {
        let (tx, rx) = mpsc::channel(GROUP * 4);
        tokio::spawn(run(pool, rx));
        Finisher { tx }
    }

    /// Records the SMTP answer of row `id` (and clears its link token); returns once committed.
    pub async fn sent(&self, id: i64, answer: String) -> Result<()> {
        let (done, committed) = oneshot::channel();
        let gone = || Error::Internal("the finisher stopped".into());
        self.tx
            .send(Sent {
                id,
                answer,
                at: Utc::now(),
                done,
            })
            .await
            .map_err(|_| gone())?;
        committed
            .await
            .map_err(|_| gone())?
            .map_err(Error::Internal)
    }
}

async fn run(pool: Pool, mut rx: mpsc::Receiver<Sent>) {
    let mut group = Vec::with_capacity(GROUP);
    while rx.recv_many(&mut group, GROUP).await > 0 {
        let result = mark_sent(&pool, &group).await.map_err(|e| e.to_string());
        for sent in group.drain(..) {
            // A sender that gave up waiting (its task was dropped) needs no answer.
            if sent.done.send(result.clone()).is_err() {
                tracing::debug!(outbox_id = sent.id, "nobody waits for this commit");
            }
        }
    }
}

async fn mark_sent(pool: &Pool, group: &[Sent]) -> Result<()> {
    let mut conn = pool.get().await?;
    // Prepared once per connection: parsing and planning it for every group was a large share
    // of the group's time, and this loop is what a digest's sending rate waits on.
    let mut update = Sql::new(
        "UPDATE outbox o
         SET status = 'SENT', smtp_response = s.answer, last_error = NULL, sent_at = s.at,
             lease_until = NULL, payload = o.payload - 'token'
         FROM unnest(",
    );
    update
        .bind(Bind::I64s(group.iter().map(|s| s.id).collect()))
        .push("::bigint[], ")
        .bind(Bind::Texts(
            group.iter().map(|s| s.answer.clone()).collect(),
        ))
        .push("::text[], ")
        .bind(Bind::Times(group.iter().map(|s| s.at).collect()))
        .push("::timestamptz[]) AS s(id, answer, at) WHERE o.id = s.id");
    update.execute(&mut conn).await?;
    Ok(())
}

//! `seed-demo`: the organizations, projects, news and awards of the seed article, in kk/ru/en.
//! Plain SQL keyed by natural keys (slugs, positions), so a second run changes no row.

use birgemiz_schema::db::Pool;
use diesel_async::SimpleAsyncConnection;

const SEED_SQL: &str = include_str!("seed_demo.sql");

pub async fn run(pool: &Pool) -> anyhow::Result<()> {
    let mut conn = pool.get().await?;
    // One simple-protocol batch runs as one implicit transaction: all of it or none.
    conn.batch_execute(SEED_SQL).await?;
    Ok(())
}

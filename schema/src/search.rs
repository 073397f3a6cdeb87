//! Search over published organizations, projects and posts in all three languages.
//!
//! The stock Kazakh and Russian configurations stem poorly (and PostgreSQL has no Kazakh one), so
//! the `simple` configuration with prefix queries does the stemming's job: "волонтер" is the
//! prefix of "волонтерлер" and "волонтеров". Trigram word similarity adds typo tolerance. Ranked
//! by ts_rank plus similarity; ties by type and id, so pages are stable.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::{Error, Result};
use crate::page::{Cursor, PageArgs};
use crate::sql::{Bind, Sql};

pub const MAX_QUERY_CHARS: usize = 200;
const MAX_WORDS: usize = 8;
/// `totalCount` counts at most this many hits (a common word matches a good part of the
/// platform; counting them all on every search would cost in proportion to its size).
pub const MAX_COUNTED: i64 = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HitKind {
    Organization,
    Project,
    Post,
}

#[derive(QueryableByName, Clone, Debug)]
struct Row {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    rank_text: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(Clone, Debug)]
pub struct Hit {
    pub kind: HitKind,
    pub id: i64,
    pub cursor: Cursor,
}

/// Prefix tsquery text of the query's words (letters and digits only, so it can't be malformed).
fn tsquery(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("{w}:*"))
        .collect::<Vec<_>>()
        .join(" & ")
}

fn words(query: &str) -> Vec<String> {
    query
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_WORDS)
        .map(str::to_owned)
        .collect()
}

fn hits_sql(sql: &mut Sql, q: &str, ts: &str) {
    sql.push("WITH q AS (SELECT ")
        .bind(Bind::Text(q.to_owned()))
        .push("::text AS q, to_tsquery('simple', ")
        .bind(Bind::Text(ts.to_owned()))
        .push(") AS ts), hits AS (");
    let parts = [
        ("Organization", "organizations", "true"),
        ("Project", "projects", "t.status = 'PUBLISHED'"),
        ("Post", "posts", "t.published_at IS NOT NULL"),
    ];
    for (i, (kind, table, visible)) in parts.iter().enumerate() {
        if i > 0 {
            sql.push(" UNION ALL ");
        }
        sql.push(&format!(
            "SELECT '{kind}'::text AS kind, t.id, \
             (ts_rank(to_tsvector('simple', t.search_text), q.ts) + word_similarity(q.q, t.search_text))::float8 AS rank \
             FROM {table} t, q WHERE {visible} \
             AND (to_tsvector('simple', t.search_text) @@ q.ts OR q.q <% t.search_text)"
        ));
    }
    sql.push(")");
}

pub async fn search(
    conn: &AsyncPgConnection,
    query: &str,
    args: &PageArgs,
) -> Result<(Vec<Hit>, i64)> {
    let query = query.trim();
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(Error::bad_input(
            "query",
            format!("must be at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let words = words(query);
    if words.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let q = words.join(" ");
    let ts = tsquery(&words);
    let mut total = 0;
    if args.with_total {
        let mut count = Sql::default();
        hits_sql(&mut count, &q, &ts);
        count.push(&format!(
            " SELECT count(*) AS n FROM (SELECT 1 FROM hits LIMIT {MAX_COUNTED}) c"
        ));
        total = count.get_result::<Count>(&mut &*conn).await?.n;
        if total == 0 {
            return Ok((Vec::new(), 0));
        }
    }
    let mut page = Sql::default();
    hits_sql(&mut page, &q, &ts);
    page.push(" SELECT kind, id, rank::text AS rank_text FROM hits WHERE true");
    if let Some(c) = &args.after {
        let (rank, kind) =
            c.v.as_deref()
                .and_then(|v| v.split_once('|'))
                .filter(|_| c.o == "RANK")
                .ok_or_else(|| Error::bad_input("after", "is not a cursor of this list"))?;
        if rank.parse::<f64>().is_err() {
            return Err(Error::bad_input("after", "is not a cursor of this list"));
        }
        page.push(" AND (rank < ")
            .bind(Bind::Text(rank.to_owned()))
            .push("::float8 OR (rank = ")
            .bind(Bind::Text(rank.to_owned()))
            .push("::float8 AND (kind, id) > (")
            .bind(Bind::Text(kind.to_owned()))
            .push(", ")
            .bind(Bind::I64(c.id))
            .push(")))");
    }
    page.push(" ORDER BY rank DESC, kind, id LIMIT ")
        .bind(Bind::I64(args.first + 1));
    let rows = page.load::<Row>(&mut &*conn).await?;
    let hits = rows
        .into_iter()
        .filter_map(|r| {
            let kind = match r.kind.as_str() {
                "Organization" => HitKind::Organization,
                "Project" => HitKind::Project,
                "Post" => HitKind::Post,
                _ => return None,
            };
            Some(Hit {
                kind,
                id: r.id,
                cursor: Cursor {
                    o: "RANK".into(),
                    v: Some(format!("{}|{}", r.rank_text, r.kind)),
                    id: r.id,
                },
            })
        })
        .collect();
    Ok((hits, total))
}

#[cfg(test)]
mod tests {
    #[test]
    fn queries_become_prefix_tsqueries() {
        let w = super::words("Волонтер, & жаз!");
        assert_eq!(super::tsquery(&w), "волонтер:* & жаз:*");
        assert!(super::words(" ,;! ").is_empty());
    }
}

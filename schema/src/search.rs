//! Search over published organizations, projects and posts in all three languages.
//!
//! The stock Kazakh and Russian configurations stem poorly (and PostgreSQL has no Kazakh one), so
//! the `simple` configuration with prefix queries does the stemming's job: "волонтер" is the
//! prefix of "волонтерлер" and "волонтеров". Trigram word similarity adds typo tolerance, and a
//! word that starts no indexed word at all is also read as its nearest words by edit distance
//! (`corrections`); texts and queries are folded alike (`search_fold`). Ranked
//! by ts_rank plus similarity; ties by type and id, so pages are stable.
//!
//! Only a bounded candidate set is ranked, so that a word that matches a good part of the
//! platform ("жоба" matches every project) costs what a rare one does: of each kind, the
//! `CANDIDATES` texts nearest to the query by trigram word similarity, read in that order from a
//! GiST index (migration `2026-12-04-200001_search_candidates`), among those at least
//! `CANDIDATE_SIMILARITY` similar (which lets the index skip the rest). A hit is a candidate that
//! matches the full-text query or is `MATCH_SIMILARITY` similar. What this misses is in
//! docs/scale.md.

use diesel::QueryableByName;
use std::collections::HashMap;

use diesel::sql_types::{Array, BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::{Error, Result};
use crate::page::{Cursor, PageArgs};
use crate::sql::{Bind, Sql};

pub const MAX_QUERY_CHARS: usize = 200;
const MAX_WORDS: usize = 8;
/// Candidates of each kind: the hits of a search are among them, so `totalCount` is at most
/// three times this, and a search reads this many rows of each table however common its words.
pub const CANDIDATES: i64 = 100;
/// Trigram word similarity a candidate needs. Below what a hit needs, so that texts a misspelt
/// word's corrections match ("кумек" for "көмек" is 0.33 similar) are among the candidates.
const CANDIDATE_SIMILARITY: f64 = 0.3;
/// Trigram word similarity that makes a candidate a hit without a full-text match (pg_trgm's
/// default threshold, which the `<%` operator used here applied).
const MATCH_SIMILARITY: f64 = 0.6;

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
    #[diesel(sql_type = BigInt)]
    total: i64,
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

/// Prefix tsquery text of the query's words (letters and digits only, so it can't be malformed),
/// each with the words it may be a misspelling of as alternatives.
fn tsquery(words: &[String], corrections: &HashMap<String, Vec<String>>) -> String {
    words
        .iter()
        .map(|w| match corrections.get(w) {
            Some(c) if !c.is_empty() => {
                let alternatives = std::iter::once(w)
                    .chain(c)
                    .map(|a| format!("{a}:*"))
                    .collect::<Vec<_>>()
                    .join(" | ");
                format!("({alternatives})")
            }
            _ => format!("{w}:*"),
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

#[derive(QueryableByName)]
struct Correction {
    #[diesel(sql_type = Text)]
    word: String,
    #[diesel(sql_type = Array<Text>)]
    nearest: Vec<String>,
}

/// For each query word of four letters or more that starts no word of any searchable text, the
/// (at most three) nearest words that start with what it might have meant: within one edit for
/// four or five letters, two from six, comparing the word with the start of each candidate
/// (so "валонтер" meets "волонтерлер"). Folded first, so Kazakh letters typed as Russian ones
/// are no edit at all. Only a word that finds nothing pays for the scan of `search_words`.
async fn corrections(
    conn: &AsyncPgConnection,
    words: &[String],
) -> Result<HashMap<String, Vec<String>>> {
    let rows = diesel::sql_query(
        "SELECT q.raw AS word, array(
             SELECT c.word FROM (
                 SELECT s.word, least(
                     levenshtein_less_equal(q.w, left(s.word, length(q.w)), q.k),
                     levenshtein_less_equal(q.w, left(s.word, length(q.w) - 1), q.k),
                     levenshtein_less_equal(q.w, left(s.word, length(q.w) + 1), q.k)) AS d
                 FROM search_words s WHERE length(s.word) >= length(q.w) - q.k
             ) c WHERE c.d <= q.k ORDER BY c.d, length(c.word), c.word LIMIT 3
         ) AS nearest
         FROM (SELECT raw, search_fold(raw) AS w,
                      CASE WHEN length(raw) >= 6 THEN 2 WHEN length(raw) >= 4 THEN 1 ELSE 0 END AS k
               FROM unnest($1::text[]) AS raw) q
         WHERE q.k > 0 AND NOT EXISTS (SELECT 1 FROM search_words s WHERE s.word LIKE q.w || '%')",
    )
    .bind::<Array<Text>, _>(words)
    .load::<Correction>(&mut &*conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.word, r.nearest)).collect())
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
    // Folded as `search_text` is (`search_fold`: ё as е, Kazakh letters as Russian ones).
    sql.push("WITH q AS (SELECT search_fold(")
        .bind(Bind::Text(q.to_owned()))
        .push("::text) AS q, to_tsquery('simple', search_fold(")
        .bind(Bind::Text(ts.to_owned()))
        .push("::text)) AS ts), hits AS (");
    let parts = [
        ("Organization", "organizations", "true"),
        ("Project", "projects", "t.status = 'PUBLISHED'"),
        ("Post", "posts", "t.published_at IS NOT NULL"),
    ];
    for (i, (kind, table, visible)) in parts.iter().enumerate() {
        if i > 0 {
            sql.push(" UNION ALL ");
        }
        // The candidates in the GiST index's order (`<->>` is one minus the word similarity;
        // `%>` holds the threshold the session sets, see `search`), the query written in each
        // comparison rather than taken from `q`, so that the index can use it.
        sql.push(&format!(
            "SELECT '{kind}'::text AS kind, c.id, \
             (ts_rank(to_tsvector('simple', c.search_text), q.ts) + c.sim)::float8 AS rank \
             FROM q, (SELECT t.id, t.search_text, word_similarity(search_fold("
        ))
        .bind(Bind::Text(q.to_owned()))
        .push(&format!(
            "::text), t.search_text) AS sim FROM {table} t WHERE {visible} AND t.search_text %> search_fold("
        ))
        .bind(Bind::Text(q.to_owned()))
        .push("::text) ORDER BY t.search_text <->> search_fold(")
        .bind(Bind::Text(q.to_owned()))
        .push(&format!(
            "::text) LIMIT {CANDIDATES}) c \
             WHERE to_tsvector('simple', c.search_text) @@ q.ts OR c.sim >= {MATCH_SIMILARITY}"
        ));
    }
    sql.push(")");
}

/// Run on every connection (`db`): `%>`, which the candidates' index scan applies, takes its
/// threshold from the session.
pub fn session_setup() -> String {
    format!("SET pg_trgm.word_similarity_threshold = {CANDIDATE_SIMILARITY}")
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
    let ts = tsquery(&words, &corrections(conn, &words).await?);
    // Counted with the page, over the (bounded) hits, before the cursor skips any.
    let mut page = Sql::default();
    hits_sql(&mut page, &q, &ts);
    page.push(
        " SELECT kind, id, rank_text, total FROM (SELECT kind, id, rank, rank::text AS rank_text, \
         count(*) OVER () AS total FROM hits) h WHERE true",
    );
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
    let total = match <[Row]>::first(&rows) {
        Some(r) => r.total,
        // Past the last hit: the page says nothing of how many there were.
        None if args.with_total && args.after.is_some() => {
            let mut count = Sql::default();
            hits_sql(&mut count, &q, &ts);
            count.push(" SELECT count(*) AS n FROM hits");
            count.get_result::<Count>(&mut &*conn).await?.n
        }
        None => 0,
    };
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
        let mut corrections = std::collections::HashMap::new();
        assert_eq!(super::tsquery(&w, &corrections), "волонтер:* & жаз:*");
        corrections.insert("жаз".to_owned(), vec!["жас".to_owned()]);
        assert_eq!(
            super::tsquery(&w, &corrections),
            "волонтер:* & (жаз:* | жас:*)"
        );
        assert!(super::words(" ,;! ").is_empty());
    }
}

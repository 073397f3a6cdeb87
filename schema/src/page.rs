//! Keyset pagination over hand-written SQL: top-level lists and lists per parent row, the latter
//! batched for every parent at once (one statement for the rows, one for the totals).
//!
//! A row's cursor is its sort value as PostgreSQL prints it (`expr::text`) plus its id, so the
//! comparison on the next page is exact whatever the type (text collation, timestamps, floats),
//! and the cursor of a row deleted meanwhile still marks a valid position.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use diesel::deserialize::{FromSql, FromSqlRow};
use diesel::dsl::SqlTypeOf;
use diesel::pg::{Pg, PgQueryBuilder, PgValue};
use diesel::query_builder::{QueryBuilder, QueryFragment};
use diesel::row::{Field, Row};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{QueryableByName, Selectable};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::sql::{Bind, Sql};

/// The position after which a page starts; `o` names the order it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cursor {
    pub o: String,
    pub v: Option<String>,
    pub id: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PageArgs {
    pub first: i64,
    pub after: Option<Cursor>,
    /// Whether the client asked for `totalCount`; counting is skipped otherwise.
    pub with_total: bool,
    /// Whether the client asked for a cursor (an edge's or the page's); rows carry no sort value
    /// otherwise, since printing it is a good part of a nested list's cost in PostgreSQL.
    pub with_cursors: bool,
    /// Whether the client reads a long text of the rows (see `LONG_TEXT`); those columns read as
    /// NULL (`OrDefault`) otherwise.
    pub with_long_text: bool,
    /// Whether the client reads a detail of the rows (see `DETAILS`); those columns read as NULL
    /// otherwise.
    pub with_details: bool,
    /// Whether the client asked whether a next page exists: only then is the row after the page
    /// read (otherwise every nested list of a page reads one row more than it shows).
    pub with_next_page: bool,
}

impl PageArgs {
    /// How many rows a page reads: `first`, and the next one when asked for.
    pub fn fetch(&self) -> i64 {
        self.first + i64::from(self.with_next_page)
    }
}

/// The long texts a list leaves out unless asked for: the localized ones are `jsonb`, and
/// writing `jsonb` out is PostgreSQL's main cost per row; a nomination's statement and
/// moderation note are free text of any length. The front page's lists show none of them.
/// Each with its type, for the NULL read in its place.
pub const LONG_TEXT: [(&str, &str); 5] = [
    ("description", "jsonb"),
    ("summary", "jsonb"),
    ("body", "jsonb"),
    ("statement", "text"),
    ("moderation_note", "text"),
];

/// The columns of a listed row that only its details show, by table, with their types. The front
/// page's projects and nominations show none of them; read anyway, they were most of the column
/// values PostgreSQL wrote and the api decoded for those lists, and the nested statements ran
/// measurably faster without them. One switch for all of them rather than one per
/// column keeps the statement texts, each prepared on every connection, to four per table.
pub const DETAILS: [(&str, &str, &str); 21] = [
    ("organizations", "country", "text"),
    ("organizations", "region", "text"),
    ("organizations", "city", "text"),
    ("organizations", "region_code", "text"),
    ("organizations", "city_code", "text"),
    ("organizations", "website", "text"),
    ("organizations", "created_at", "timestamptz"),
    ("projects", "country", "text"),
    ("projects", "region", "text"),
    ("projects", "city", "text"),
    ("projects", "region_code", "text"),
    ("projects", "city_code", "text"),
    ("projects", "ends_at", "timestamptz"),
    ("projects", "volunteers_needed", "int4"),
    ("projects", "created_at", "timestamptz"),
    ("projects", "published_at", "timestamptz"),
    ("nominations", "nominee_key", "text"),
    ("nominations", "nominee_kind", "text"),
    ("nominations", "country", "text"),
    ("nominations", "region", "text"),
    ("nominations", "created_at", "timestamptz"),
];

/// A column a list may leave out (`LONG_TEXT`, `DETAILS`) that is never NULL in its table: left
/// out, it reads as NULL and then as `T`'s default (an empty text, the epoch). A NULL costs
/// PostgreSQL nothing to write and the api nothing to decode, where an empty `jsonb` constant
/// was written out and parsed on every row.
/// The models name it with `#[diesel(deserialize_as = OrDefault<T>)]`.
#[derive(Debug, FromSqlRow)]
pub struct OrDefault<T>(pub T);

impl<ST, T> FromSql<ST, Pg> for OrDefault<T>
where
    T: FromSql<ST, Pg> + Default,
{
    fn from_sql(value: PgValue<'_>) -> diesel::deserialize::Result<Self> {
        T::from_sql(value).map(OrDefault)
    }

    fn from_nullable_sql(value: Option<PgValue<'_>>) -> diesel::deserialize::Result<Self> {
        match value {
            Some(value) => Self::from_sql(value),
            None => Ok(OrDefault(T::default())),
        }
    }
}

/// `deserialize_as` converts with `Into`; the orphan rule wants one impl per field type.
macro_rules! or_default_into {
    ($($t:ty),*) => {$(
        impl From<OrDefault<$t>> for $t {
            fn from(value: OrDefault<$t>) -> $t {
                value.0
            }
        }
    )*};
}
or_default_into!(
    String,
    chrono::DateTime<chrono::Utc>,
    crate::i18n::LocalizedText
);

/// Up to `first + 1` rows (the extra one, read only when asked for, tells that a next page
/// exists) and the total (0 unless `PageArgs::with_total`).
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub rows: Vec<Listed<T>>,
    pub total: i64,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Page {
            rows: Vec::new(),
            total: 0,
        }
    }
}

/// A row with its sort value (`sort_key`) and, in lists per parent, its parent (`parent_id`).
#[derive(Clone, Debug)]
pub struct Listed<T> {
    pub row: T,
    pub sort_key: Option<String>,
    pub parent_id: Option<i64>,
}

/// Decoded by position, not by name: every list statement puts `sort_key` and `parent_id` first
/// and then `T`'s columns in `Selectable` order (`columns`). diesel looks a name up by comparing
/// it with every column's, which showed high in the api's profile of a front page.
impl<T> QueryableByName<Pg> for Listed<T>
where
    T: Selectable<Pg> + FromSqlRow<SqlTypeOf<T::SelectExpression>, Pg>,
{
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, Pg>) -> diesel::deserialize::Result<Self> {
        let (Some(sort_key), Some(parent_id)) = (Row::get(row, 0usize), Row::get(row, 1usize))
        else {
            return Err("a list row lacks its sort_key and parent_id".into());
        };
        let sort_key =
            <Option<String> as FromSql<Nullable<Text>, Pg>>::from_nullable_sql(sort_key.value())?;
        let parent_id =
            <Option<i64> as FromSql<Nullable<BigInt>, Pg>>::from_nullable_sql(parent_id.value())?;
        let rest = Row::partial_row(row, 2..Row::field_count(row));
        Ok(Listed {
            row: T::build_from_row(&rest)?,
            sort_key,
            parent_id,
        })
    }
}

/// The select list of every statement read as `Listed<T>`, in the order its decoding expects:
/// the sort value, the parent, then `T`'s columns.
pub(crate) fn listed_columns<T>(sort_key: &str, parent: &str, reads: Reads) -> String
where
    T: Selectable<Pg> + 'static,
    T::SelectExpression: QueryFragment<Pg>,
{
    format!(
        "{sort_key} AS sort_key, {parent} AS parent_id, {}",
        columns::<T>(reads)
    )
}

/// Which of the optional columns a statement reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Reads {
    pub long_text: bool,
    pub details: bool,
}

impl Reads {
    /// Every column, for rows that are not a client's list.
    pub(crate) const ALL: Reads = Reads {
        long_text: true,
        details: true,
    };

    fn of(args: &PageArgs) -> Reads {
        Reads {
            long_text: args.with_long_text,
            details: args.with_details,
        }
    }
}

/// Room for a whole page as read (`PageArgs::fetch`).
fn page_capacity(args: &PageArgs) -> usize {
    usize::try_from(args.fetch()).unwrap_or(0)
}

/// The sort value a cursor needs as text, when a cursor was asked for.
fn sort_key(order: &Order, args: &PageArgs) -> String {
    if args.with_cursors {
        format!("({})::text", order.expr)
    } else {
        "NULL::text".to_owned()
    }
}

impl<T> Listed<T> {
    pub fn cursor(&self, order: &Order, id: i64) -> Cursor {
        Cursor {
            o: order.name.to_owned(),
            v: self.sort_key.clone(),
            id,
        }
    }
}

/// One sort order: an SQL expression over the row alias `t`, then `t.id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Order {
    pub name: &'static str,
    pub expr: &'static str,
    /// The type the cursor's text is cast back to.
    pub cast: &'static str,
    pub desc: bool,
    /// The direction of `t.id` among equal values; it matches the index serving the order.
    pub id_desc: bool,
    /// Nulls sort last (only meaningful for ascending orders).
    pub nullable: bool,
}

impl Order {
    fn order_by(&self) -> String {
        let dir = if self.desc { "DESC" } else { "ASC" };
        let id_dir = if self.id_desc { "DESC" } else { "ASC" };
        let nulls = if self.nullable { " NULLS LAST" } else { "" };
        format!("({}) {dir}{nulls}, t.id {id_dir}", self.expr)
    }

    fn push_after(&self, sql: &mut Sql, cursor: &Option<Cursor>) -> Result<()> {
        let Some(c) = cursor else { return Ok(()) };
        if c.o != self.name {
            return Err(Error::bad_input("after", "is a cursor of another order"));
        }
        let cmp = if self.desc { "<" } else { ">" };
        let id_cmp = if self.id_desc { "<" } else { ">" };
        match &c.v {
            None if self.nullable => {
                sql.push(&format!(" AND ({}) IS NULL AND t.id {id_cmp} ", self.expr));
                sql.bind(Bind::I64(c.id));
            }
            None => return Err(Error::bad_input("after", "is not a cursor of this list")),
            Some(v) => {
                sql.push(&format!(" AND (({}) {cmp} (", self.expr));
                sql.bind(Bind::Text(v.clone()));
                sql.push(&format!(")::{} OR (({}) = (", self.cast, self.expr));
                sql.bind(Bind::Text(v.clone()));
                sql.push(&format!(")::{} AND t.id {id_cmp} ", self.cast));
                sql.bind(Bind::I64(c.id));
                sql.push(")");
                if self.nullable {
                    sql.push(&format!(" OR ({}) IS NULL", self.expr));
                }
                sql.push(")");
            }
        }
        Ok(())
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct ParentCount {
    #[diesel(sql_type = BigInt)]
    parent_id: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// `T`'s columns as its `Selectable` names them, qualified with `t.`, the `LONG_TEXT` and
/// `DETAILS` ones as NULL unless `reads` asks for them. The statements are
/// prepared once per connection, and one with `t.*` fails ("cached plan must not change result
/// type") as soon as a migration adds a column while the api runs.
fn columns<T>(reads: Reads) -> &'static str
where
    T: Selectable<Pg> + 'static,
    T::SelectExpression: QueryFragment<Pg>,
{
    static RENDERED: LazyLock<Mutex<HashMap<(TypeId, Reads), &'static str>>> =
        LazyLock::new(Default::default);
    let mut rendered = RENDERED.lock().unwrap_or_else(|e| e.into_inner());
    rendered
        .entry((TypeId::of::<T>(), reads))
        .or_insert_with(|| {
            let mut qb = PgQueryBuilder::default();
            T::construct_selection()
                .to_sql(&mut qb, &Pg)
                .expect("a model's columns render as SQL");
            let list = qb
                .finish()
                .split(", ")
                .map(|c| {
                    let name = c.rsplit('.').next().unwrap_or(c);
                    let bare = name.trim_matches('"');
                    let table = c.split('.').next().unwrap_or("").trim_matches('"');
                    let long_text = LONG_TEXT
                        .iter()
                        .find(|(column, _)| *column == bare)
                        .filter(|_| !reads.long_text)
                        .map(|(_, ty)| ty);
                    let detail = DETAILS
                        .iter()
                        .find(|(t, column, _)| *t == table && *column == bare)
                        .filter(|_| !reads.details)
                        .map(|(_, _, ty)| ty);
                    match long_text.or(detail) {
                        Some(ty) => format!("NULL::{ty} AS {name}"),
                        None => format!("t.{name}"),
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            Box::leak(list.into_boxed_str())
        })
}

/// A top-level list. `from` names the table as `t` (joins allowed); `filter` appends
/// ` AND …` conditions and is called once per statement.
pub async fn list<T>(
    conn: &AsyncPgConnection,
    from: &str,
    filter: &(dyn Fn(&mut Sql) + Sync),
    order: &Order,
    args: &PageArgs,
) -> Result<Page<T>>
where
    T: Selectable<Pg> + FromSqlRow<SqlTypeOf<T::SelectExpression>, Pg> + Send + 'static,
    T::SelectExpression: QueryFragment<Pg>,
{
    list_counted(conn, from, filter, order, args, None).await
}

/// `list` with its total read by `counter` (a statement giving one row with `n`, e.g. from a
/// trigger-kept counter) instead of counting the filtered rows, when given.
pub async fn list_counted<T>(
    conn: &AsyncPgConnection,
    from: &str,
    filter: &(dyn Fn(&mut Sql) + Sync),
    order: &Order,
    args: &PageArgs,
    counter: Option<Sql>,
) -> Result<Page<T>>
where
    T: Selectable<Pg> + FromSqlRow<SqlTypeOf<T::SelectExpression>, Pg> + Send + 'static,
    T::SelectExpression: QueryFragment<Pg>,
{
    let mut total = 0;
    if args.with_total {
        let count = counter.unwrap_or_else(|| {
            let mut count = Sql::new(&format!("SELECT count(*) AS n FROM {from} WHERE true"));
            filter(&mut count);
            count
        });
        total = count.get_result::<Count>(&mut &*conn).await?.n;
        if total == 0 {
            return Ok(Page::default());
        }
    }
    let mut q = Sql::new(&format!(
        "SELECT {} FROM {from} WHERE true",
        listed_columns::<T>(&sort_key(order, args), "NULL::int8", Reads::of(args)),
    ));
    filter(&mut q);
    order.push_after(&mut q, &args.after)?;
    q.push(&format!(" ORDER BY {} LIMIT ", order.order_by()));
    q.bind(Bind::I64(args.fetch()));
    let mut rows = Vec::with_capacity(page_capacity(args));
    let mut stream = q.load_stream::<Listed<T>>(&mut &*conn).await?;
    while let Some(row) = stream.try_next().await? {
        rows.push(row);
    }
    Ok(Page { rows, total })
}

/// The same page of a list for each of `parents` (e.g. the first 5 projects of each of 20
/// organizations): two statements whatever the number of parents.
pub async fn list_per_parent<T>(
    conn: &AsyncPgConnection,
    from: &str,
    parent_expr: &str,
    parents: &[i64],
    filter: &(dyn Fn(&mut Sql) + Sync),
    order: &Order,
    args: &PageArgs,
) -> Result<HashMap<i64, Page<T>>>
where
    T: Selectable<Pg> + FromSqlRow<SqlTypeOf<T::SelectExpression>, Pg> + Send + 'static,
    T::SelectExpression: QueryFragment<Pg>,
{
    list_per_parent_counted(conn, from, parent_expr, parents, filter, order, args, None).await
}

/// Where `list_per_parent_counted` reads each parent's total from: `head`, a statement over the
/// parents' ids (`= ANY(` is followed by them) giving rows of `parent_id` and `n`, e.g. from a
/// trigger-kept counter, then `filter`'s conditions. A parent without a row has no rows.
pub struct ParentCounter<'a> {
    pub head: &'static str,
    pub filter: &'a (dyn Fn(&mut Sql) + Sync),
}

/// `list_per_parent` with the totals read by `counter` instead of counting each parent's
/// filtered rows, when given.
#[allow(clippy::too_many_arguments)]
pub async fn list_per_parent_counted<T>(
    conn: &AsyncPgConnection,
    from: &str,
    parent_expr: &str,
    parents: &[i64],
    filter: &(dyn Fn(&mut Sql) + Sync),
    order: &Order,
    args: &PageArgs,
    counter: Option<ParentCounter<'_>>,
) -> Result<HashMap<i64, Page<T>>>
where
    T: Selectable<Pg> + FromSqlRow<SqlTypeOf<T::SelectExpression>, Pg> + Send + 'static,
    T::SelectExpression: QueryFragment<Pg>,
{
    let mut out: HashMap<i64, Page<T>> = HashMap::new();
    if parents.is_empty() {
        return Ok(out);
    }
    let mut with_rows = parents.to_vec();
    if args.with_total {
        let count = match counter {
            Some(counter) => {
                let mut count = Sql::new(counter.head);
                count.bind(Bind::I64s(parents.to_vec())).push(")");
                (counter.filter)(&mut count);
                count
            }
            None => {
                let mut count = Sql::new(&format!(
                    "SELECT {parent_expr} AS parent_id, count(*) AS n FROM {from} WHERE {parent_expr} = ANY("
                ));
                count.bind(Bind::I64s(parents.to_vec())).push(")");
                filter(&mut count);
                count.push(" GROUP BY 1");
                count
            }
        };
        let totals = count.load::<ParentCount>(&mut &*conn).await?;
        with_rows = totals
            .iter()
            .filter(|t| t.n > 0)
            .map(|t| t.parent_id)
            .collect();
        for t in totals {
            out.entry(t.parent_id).or_default().total = t.n;
        }
        if with_rows.is_empty() {
            return Ok(out);
        }
    }
    // One index-ordered LIMIT per parent (a LATERAL join) rather than numbering every child row
    // of every parent: a category's top 10 of 200 nominations reads 11 index entries, not 200.
    // A LATERAL subquery with a LIMIT runs once per parent, so each parent's rows arrive
    // together and in the subquery's order; grouping them here saves numbering and sorting them
    // again in PostgreSQL.
    let mut q = Sql::new("SELECT s.* FROM unnest(");
    q.bind(Bind::I64s(with_rows));
    q.push(&format!(
        "::bigint[]) AS parent__(id) CROSS JOIN LATERAL (SELECT {} \
         FROM {from} WHERE {parent_expr} = parent__.id",
        listed_columns::<T>(&sort_key(order, args), parent_expr, Reads::of(args)),
    ));
    filter(&mut q);
    order.push_after(&mut q, &args.after)?;
    // The limit is written into the text, not bound: with `LIMIT $n` the generic plan is costed
    // for an unknown limit, so PostgreSQL kept planning a category's nominations afresh on every
    // execution. `first` is a checked integer of at most 100, so the texts stay few.
    q.push(&format!(
        " ORDER BY {} LIMIT {}) s",
        order.order_by(),
        args.fetch()
    ));
    // Streamed straight into each parent's page, sized for a full page: collecting the rows
    // first and moving them again, each vector grown by doubling, copied every row three times.
    let mut stream = q.load_stream::<Listed<T>>(&mut &*conn).await?;
    while let Some(r) = stream.try_next().await? {
        if let Some(p) = r.parent_id {
            let page = out.entry(p).or_default();
            if page.rows.capacity() == 0 {
                page.rows.reserve_exact(page_capacity(args));
            }
            page.rows.push(r);
        }
    }
    Ok(out)
}

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
use diesel::pg::{Pg, PgValue};
use diesel::row::{Field, Row};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{Column, QueryableByName, Selectable};
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
    /// Which of the rows' optional columns (`Listable::OPTIONAL`) the client reads; the others
    /// read as NULL (`OrDefault`).
    pub reads: Reads,
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

/// The two groups of columns a list leaves out unless a selected node field reads one, each
/// with one switch (`PageArgs::with_long_text`, `with_details`) rather than one per column, so a
/// table has at most four statement texts, each prepared on every connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Group {
    /// The long texts: the localized ones are `jsonb`, and writing `jsonb` out is PostgreSQL's
    /// main cost per row; a nomination's statement and moderation note are free text of any
    /// length. The front page's lists show none of them.
    LongText,
    /// What only a row's details show: places, dates, a website, … The front page's projects
    /// and nominations show none of them; read anyway, they were most of the column values
    /// PostgreSQL wrote and the api decoded for those lists, and the nested statements ran
    /// measurably faster without them.
    Details,
}

/// A column a list may leave out, with the node fields (as the GraphQL schema names them) whose
/// resolvers read it: a selected field of the list names the groups its rows read, and every
/// other column of the group is read as NULL.
#[derive(Clone, Copy, Debug)]
pub struct Optional {
    pub column: &'static str,
    pub group: Group,
    pub fields: &'static [&'static str],
}

/// A row a client lists: its one descriptor of what a list may leave out, from which the api
/// tells what a selection reads (`reads`) and `columns` which columns a statement reads.
pub trait Listable {
    /// The columns a list may leave out, each with the fields that read it. A column that is
    /// never NULL in its table is read as `OrDefault` in the model, so it decodes left out.
    const OPTIONAL: &'static [Optional];

    fn id(&self) -> i64;

    /// The groups of columns the node field `field` reads.
    fn reads(field: &str) -> Reads {
        let mut reads = Reads::NONE;
        for o in Self::OPTIONAL.iter().filter(|o| o.fields.contains(&field)) {
            match o.group {
                Group::LongText => reads.long_text = true,
                Group::Details => reads.details = true,
            }
        }
        reads
    }
}

/// A column a list may leave out (`Listable::OPTIONAL`) that is never NULL in its table: left
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
/// exists), the total (0 unless `PageArgs::with_total`) and the name of the order the rows were
/// read in, which their cursors carry: the list function that chose the order is the only place
/// that names it.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub rows: Vec<Listed<T>>,
    pub total: i64,
    pub order: &'static str,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Page {
            rows: Vec::new(),
            total: 0,
            order: "",
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

impl<T: Listable> Listed<T> {
    /// The row's cursor in the order `order` (`Page::order`) it was read in; its sort value is
    /// `None` unless `PageArgs::with_cursors`.
    pub fn cursor(&self, order: &str) -> Cursor {
        Cursor {
            o: order.to_owned(),
            v: self.sort_key.clone(),
            id: self.row.id(),
        }
    }
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
    T: Listable + Selectable<Pg> + 'static,
    T::SelectExpression: ColumnList,
{
    format!(
        "{sort_key} AS sort_key, {parent} AS parent_id, {}",
        columns::<T>(reads)
    )
}

/// Which groups of optional columns (`Group`) a statement reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Reads {
    pub long_text: bool,
    pub details: bool,
}

impl Reads {
    /// Every column, for rows that are not a client's list.
    pub const ALL: Reads = Reads {
        long_text: true,
        details: true,
    };
    pub const NONE: Reads = Reads {
        long_text: false,
        details: false,
    };

    /// Both groups' columns read by either.
    pub fn or(self, other: Reads) -> Reads {
        Reads {
            long_text: self.long_text || other.long_text,
            details: self.details || other.details,
        }
    }

    fn group(&self, group: Group) -> bool {
        match group {
            Group::LongText => self.long_text,
            Group::Details => self.details,
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

/// The columns of a model's `Selectable`, in its order, each with its name and the type of its
/// NULL when a list leaves it out; implemented for the tuples of diesel columns the derive
/// makes.
pub trait ColumnList {
    fn columns() -> Vec<(&'static str, &'static str)>;
}

/// The PostgreSQL name of a column type, for the typed NULL read in a left-out column's place.
pub trait PgTypeName {
    const NAME: &'static str;
}

macro_rules! pg_type_names {
    ($($t:ty => $name:literal),* $(,)?) => {$(
        impl PgTypeName for $t {
            const NAME: &'static str = $name;
        }
    )*};
}
pg_type_names!(
    diesel::sql_types::BigInt => "int8",
    diesel::sql_types::Integer => "int4",
    diesel::sql_types::Bool => "bool",
    diesel::sql_types::Text => "text",
    diesel::sql_types::Jsonb => "jsonb",
    diesel::sql_types::Timestamptz => "timestamptz",
    diesel::sql_types::Array<Nullable<Text>> => "text[]",
);

impl<T: PgTypeName + diesel::sql_types::SqlType> PgTypeName for Nullable<T> {
    const NAME: &'static str = T::NAME;
}

macro_rules! column_lists {
    ($first:ident $(, $rest:ident)*) => {
        impl<$first: Column, $($rest: Column),*> ColumnList for ($first, $($rest,)*)
        where
            $first::SqlType: PgTypeName,
            $($rest::SqlType: PgTypeName,)*
        {
            fn columns() -> Vec<(&'static str, &'static str)> {
                vec![
                    ($first::NAME, <$first::SqlType as PgTypeName>::NAME),
                    $(($rest::NAME, <$rest::SqlType as PgTypeName>::NAME),)*
                ]
            }
        }
        column_lists!($($rest),*);
    };
    () => {};
}
column_lists!(
    C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, C16, C17, C18, C19, C20, C21,
    C22, C23, C24
);

/// `T`'s columns as its `Selectable` lists them, qualified with `t.`, the optional ones
/// (`Listable::OPTIONAL`) as NULL unless `reads` asks for their group. The statements are
/// prepared once per connection, and one with `t.*` fails ("cached plan must not change result
/// type") as soon as a migration adds a column while the api runs.
fn columns<T>(reads: Reads) -> &'static str
where
    T: Listable + Selectable<Pg> + 'static,
    T::SelectExpression: ColumnList,
{
    static RENDERED: LazyLock<Mutex<HashMap<(TypeId, Reads), &'static str>>> =
        LazyLock::new(Default::default);
    let mut rendered = RENDERED.lock().unwrap_or_else(|e| e.into_inner());
    rendered
        .entry((TypeId::of::<T>(), reads))
        .or_insert_with(|| Box::leak(render_columns::<T>(reads).into_boxed_str()))
}

pub(crate) fn render_columns<T>(reads: Reads) -> String
where
    T: Listable + Selectable<Pg>,
    T::SelectExpression: ColumnList,
{
    let columns = T::SelectExpression::columns();
    for o in T::OPTIONAL {
        assert!(
            columns.iter().any(|(name, _)| *name == o.column),
            "{} is not a column of {}",
            o.column,
            std::any::type_name::<T>()
        );
    }
    columns
        .iter()
        .map(|(name, ty)| {
            let left_out = T::OPTIONAL
                .iter()
                .any(|o| o.column == *name && !reads.group(o.group));
            if left_out {
                format!("NULL::{ty} AS \"{name}\"")
            } else {
                format!("t.\"{name}\"")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
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
    T: Listable + Selectable<Pg> + FromSqlRow<SqlTypeOf<T::SelectExpression>, Pg> + Send + 'static,
    T::SelectExpression: ColumnList,
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
    T: Listable + Selectable<Pg> + FromSqlRow<SqlTypeOf<T::SelectExpression>, Pg> + Send + 'static,
    T::SelectExpression: ColumnList,
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
        listed_columns::<T>(&sort_key(order, args), "NULL::int8", args.reads),
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
    Ok(Page {
        rows,
        total,
        order: order.name,
    })
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
    T: Listable + Selectable<Pg> + FromSqlRow<SqlTypeOf<T::SelectExpression>, Pg> + Send + 'static,
    T::SelectExpression: ColumnList,
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
    T: Listable + Selectable<Pg> + FromSqlRow<SqlTypeOf<T::SelectExpression>, Pg> + Send + 'static,
    T::SelectExpression: ColumnList,
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
        listed_columns::<T>(&sort_key(order, args), parent_expr, args.reads),
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
            page.order = order.name;
            if page.rows.capacity() == 0 {
                page.rows.reserve_exact(page_capacity(args));
            }
            page.rows.push(r);
        }
    }
    Ok(out)
}

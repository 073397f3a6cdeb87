//! Hand-written SQL with numbered binds, for the lists whose filters, orders, keyset cursors and
//! window functions the query DSL can't express without contortions.
//!
//! Unlike diesel's `sql_query`, these statements are prepared once per connection and reused:
//! their text is built from code only (every value is a bind), so a handful of shapes exist, and
//! parsing and planning each one on every request was a large share of the front page's time
//! in PostgreSQL.

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bool, Double, Integer, Text, Timestamptz, Untyped};

#[derive(Clone, Debug)]
pub enum Bind {
    I64(i64),
    I32(i32),
    F64(f64),
    Text(String),
    Time(DateTime<Utc>),
    Bool(bool),
    I64s(Vec<i64>),
    Texts(Vec<String>),
    Times(Vec<DateTime<Utc>>),
}

#[derive(Default, Debug, Clone)]
pub struct Sql {
    text: String,
    binds: Vec<Bind>,
    /// Where each bind's placeholder sits in `text`: (start, end).
    placeholders: Vec<(usize, usize)>,
}

impl Sql {
    pub fn new(sql: &str) -> Sql {
        Sql {
            text: sql.to_owned(),
            binds: Vec::new(),
            placeholders: Vec::new(),
        }
    }

    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    /// Appends the placeholder of a new bind.
    pub fn bind(&mut self, b: Bind) -> &mut Self {
        self.binds.push(b);
        let start = self.text.len();
        self.text.push_str(&format!("${}", self.binds.len()));
        self.placeholders.push((start, self.text.len()));
        self
    }
}

impl QueryId for Sql {
    // No type-level id: the prepared-statement cache keys these by their text.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Sql {
    type SqlType = Untyped;
}

impl QueryFragment<Pg> for Sql {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // diesel numbers the placeholders itself, in the order binds are pushed, which is the
        // order `bind` wrote them.
        let mut from = 0;
        for (bind, &(start, end)) in self.binds.iter().zip(&self.placeholders) {
            out.push_sql(&self.text[from..start]);
            match bind {
                Bind::I64(v) => out.push_bind_param::<BigInt, _>(v)?,
                Bind::I32(v) => out.push_bind_param::<Integer, _>(v)?,
                Bind::F64(v) => out.push_bind_param::<Double, _>(v)?,
                Bind::Text(v) => out.push_bind_param::<Text, _>(v)?,
                Bind::Time(v) => out.push_bind_param::<Timestamptz, _>(v)?,
                Bind::Bool(v) => out.push_bind_param::<Bool, _>(v)?,
                Bind::I64s(v) => out.push_bind_param::<Array<BigInt>, _>(v)?,
                Bind::Texts(v) => out.push_bind_param::<Array<Text>, _>(v)?,
                Bind::Times(v) => out.push_bind_param::<Array<Timestamptz>, _>(v)?,
            }
            from = end;
        }
        out.push_sql(&self.text[from..]);
        Ok(())
    }
}

impl<Conn> diesel::query_dsl::RunQueryDsl<Conn> for Sql {}

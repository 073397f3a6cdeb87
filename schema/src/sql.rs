//! Hand-written SQL with numbered binds, for the lists whose filters, orders, keyset cursors and
//! window functions the query DSL can't express without contortions.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Array, BigInt, Bool, Double, Integer, Text, Timestamptz};

#[derive(Clone, Debug)]
pub enum Bind {
    I64(i64),
    I32(i32),
    F64(f64),
    Text(String),
    Time(DateTime<Utc>),
    Bool(bool),
    I64s(Vec<i64>),
}

#[derive(Default, Debug, Clone)]
pub struct Sql {
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    pub fn new(sql: &str) -> Sql {
        Sql {
            text: sql.to_owned(),
            binds: Vec::new(),
        }
    }

    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    /// Appends the placeholder of a new bind.
    pub fn bind(&mut self, b: Bind) -> &mut Self {
        self.binds.push(b);
        self.text.push_str(&format!("${}", self.binds.len()));
        self
    }

    pub fn into_query(self) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
        let mut q = diesel::sql_query(self.text).into_boxed::<Pg>();
        for b in self.binds {
            q = match b {
                Bind::I64(v) => q.bind::<BigInt, _>(v),
                Bind::I32(v) => q.bind::<Integer, _>(v),
                Bind::F64(v) => q.bind::<Double, _>(v),
                Bind::Text(v) => q.bind::<Text, _>(v),
                Bind::Time(v) => q.bind::<Timestamptz, _>(v),
                Bind::Bool(v) => q.bind::<Bool, _>(v),
                Bind::I64s(v) => q.bind::<Array<BigInt>, _>(v),
            };
        }
        q
    }
}

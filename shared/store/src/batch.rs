//! What every batch insert reports, and the one way batches are inserted.
//!
//! A batch is inserted by one final statement, `INSERT … SELECT … ORDER BY <natural key> ON CONFLICT DO NOTHING`: a
//! record whose natural key is already stored, or repeated earlier in the same batch, is skipped, so concurrent
//! identical uploads can never duplicate rows, and `rows_affected` is the number of new rows. Rows are inserted in
//! key order, so concurrent batches that overlap in any order wait for each other's keys in the same order and
//! cannot deadlock.
//!
//! Where the statement reads the batch from depends on its size ([`COPY_MIN_ROWS`]):
//! - **large batches** are streamed with binary `COPY` ([`crate::copy`]) into a staging table and inserted from
//!   there. The staging table is a session temporary table per target table, created on first use and emptied
//!   before each batch, so it works on a pooled connection in autocommit mode as well as inside the caller's
//!   transaction (the record writer's, which also holds the dirty-day marks), on that same connection. A
//!   reused connection (a warm Lambda's pool) keeps the table; a rolled-back transaction that created it takes it
//!   away and the next batch creates it again.
//! - **small batches** (a phone's single reading) bind one array per column and read them with `UNNEST`: one round
//!   trip, where staging costs four (prepare the table, start and finish `COPY`, insert).
//!
//! Both paths send the same columns, built once per record kind by its module's row function, and the same final
//! `INSERT`, so counts, key order and conflicts cannot differ between them. `numeric` columns travel as `float8`
//! and are cast by the `INSERT` (PostgreSQL converts with 15 significant digits, so values in tenths stay exact).

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{Acquire, Executor, PgConnection, Postgres};
use uuid::Uuid;

use crate::copy::{CopyRows, Value};

/// How many records of a batch were new and how many were already stored. Duplicates inside one batch count once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InsertCounts {
    pub inserted: u64,
    pub already_present: u64,
}

impl InsertCounts {
    /// Counts for a batch of `distinct_keys` distinct records of which `inserted` were new.
    pub(crate) fn of(distinct_keys: usize, inserted: u64) -> Self {
        Self {
            inserted,
            already_present: (distinct_keys as u64).saturating_sub(inserted),
        }
    }
}

impl std::ops::Add for InsertCounts {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            inserted: self.inserted + other.inserted,
            already_present: self.already_present + other.already_present,
        }
    }
}

/// Number of distinct keys. Device data usually arrives in strictly increasing key order, which is checked in one
/// pass without allocating; only otherwise are the keys collected and sorted.
pub(crate) fn distinct_count<K: Ord>(keys: impl Iterator<Item = K> + Clone) -> usize {
    let mut previous: Option<K> = None;
    let mut count = 0;
    for key in keys.clone() {
        if previous.as_ref().is_some_and(|p| *p >= key) {
            let mut all: Vec<K> = keys.collect();
            all.sort_unstable();
            all.dedup();
            return all.len();
        }
        previous = Some(key);
        count += 1;
    }
    count
}

/// Batches of at least this many records are staged with `COPY`, smaller ones sent as `UNNEST` arrays. Staging
/// costs about 0.6 ms more per batch on a local connection (three more round trips, the table's `TRUNCATE`); the
/// two paths cost the same between about 300 and 1,000 rows, and round trips to a remote database push the
/// crossover up (BENCHMARKS.md, "Batch inserts through COPY"). `GLUCOLENS_COPY_MIN_ROWS` overrides it for the whole
/// process, so a benchmark can run the same build on either path.
pub const COPY_MIN_ROWS: usize = 1_000;

fn copy_min_rows() -> usize {
    static MIN_ROWS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *MIN_ROWS.get_or_init(|| {
        std::env::var("GLUCOLENS_COPY_MIN_ROWS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(COPY_MIN_ROWS)
    })
}

/// A record kind's table: the columns its row function fills, in that order, and its natural key after `user_id`.
pub(crate) struct Table<const N: usize> {
    pub(crate) name: &'static str,
    pub(crate) columns: [&'static str; N],
    pub(crate) key: &'static str,
}

impl<const N: usize> Table<N> {
    /// The one final statement of both paths; `source` yields the batch's rows as `b`, `$1` is the user.
    fn insert_from(&self, source: &str) -> String {
        format!(
            "INSERT INTO {} (user_id, {}) SELECT $1, b.* FROM {source} ORDER BY {key} \
             ON CONFLICT (user_id, {key}) DO NOTHING",
            self.name,
            self.columns.join(", "),
            key = self.key,
        )
    }
}

/// Inserts `records` for `user_id` into `table`, each record's fields given by `row`, skipping records whose
/// natural key is stored or repeated earlier in the batch. Returns the number of rows inserted. Runs on a pool or
/// on the caller's connection (`&mut *transaction`).
///
/// The future is declared `Send`: otherwise the compiler cannot prove a caller's future `Send` through `Acquire`'s
/// lifetime, and spawning one (an axum handler, a `JoinSet`) fails with "implementation of `Acquire` is not general
/// enough". For the same reason the staging statement runs through `Executor::execute`, not `sqlx::raw_sql`.
#[allow(clippy::manual_async_fn)] // an `async fn` cannot declare its future `Send`
pub(crate) fn insert<'a, R: Sync, const N: usize>(
    db: impl Acquire<'a, Database = Postgres> + Send + 'a,
    table: &'static Table<N>,
    user_id: Uuid,
    records: &'a [R],
    row: fn(&R) -> [Value<'_>; N],
) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'a {
    async move {
        let Some(first) = records.first() else {
            return Ok(0);
        };
        let types = row(first).map(|value| value.sql_type());
        let rows = records.iter().map(|record| finite(row(record)));
        let batch = if records.len() >= copy_min_rows() {
            Prepared::copy(table, types, rows)?
        } else {
            Prepared::unnest(table, types, rows)?
        };
        let mut conn = db.acquire().await?;
        batch.insert(&mut conn, user_id).await
    }
}

/// The row, unless a float is NaN or infinite: validation refuses those before records are built, and a NaN would
/// pass the `numeric` columns' CHECK constraints (NaN sorts above every number), so it is stopped here too.
fn finite<const N: usize>(row: [Value<'_>; N]) -> Result<[Value<'_>; N], sqlx::Error> {
    match row
        .iter()
        .find(|v| matches!(v, Value::Float8(Some(x)) if !x.is_finite()))
    {
        Some(value) => Err(sqlx::Error::Encode(format!("not a finite number: {value:?}").into())),
        None => Ok(row),
    }
}

/// A batch encoded for one path, ready to send; built before any statement, so a bad value sends nothing.
enum Prepared<'r> {
    /// Staged with binary `COPY` in the session's staging table, then inserted from it.
    Copy {
        /// Creates the staging table if this session has none (no `IF NOT EXISTS`, whose notice would be logged
        /// on every batch), else empties it of the previous batch, which a statement that failed in autocommit
        /// mode may have left behind.
        prepare: String,
        copy: String,
        payload: Vec<u8>,
        insert: String,
    },
    /// One array per column, inserted from their `UNNEST`.
    Unnest { insert: String, arrays: Vec<Array<'r>> },
}

impl<'r> Prepared<'r> {
    fn copy<const N: usize>(
        table: &Table<N>,
        types: [&str; N],
        rows: impl ExactSizeIterator<Item = Result<[Value<'r>; N], sqlx::Error>>,
    ) -> Result<Self, sqlx::Error> {
        let mut payload = CopyRows::<N>::with_capacity(rows.len(), 48);
        for row in rows {
            payload.push(&row?);
        }
        let staging = format!("glucolens_stage_{}", table.name);
        let definition = table
            .columns
            .iter()
            .zip(types)
            .map(|(column, sql_type)| format!("{column} {sql_type}"))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(Prepared::Copy {
            prepare: format!(
                "DO $$ BEGIN
                     IF to_regclass('pg_temp.{staging}') IS NULL THEN CREATE TEMP TABLE {staging} ({definition});
                     ELSE TRUNCATE pg_temp.{staging};
                     END IF;
                 END $$"
            ),
            copy: format!("COPY pg_temp.{staging} FROM STDIN (FORMAT binary)"),
            payload: payload.finish(),
            insert: table.insert_from(&format!("pg_temp.{staging} AS b")),
        })
    }

    fn unnest<const N: usize>(
        table: &Table<N>,
        types: [&str; N],
        rows: impl ExactSizeIterator<Item = Result<[Value<'r>; N], sqlx::Error>>,
    ) -> Result<Self, sqlx::Error> {
        let count = rows.len();
        let mut arrays: Vec<Array<'r>> = Vec::with_capacity(N);
        for row in rows {
            let row = row?;
            if arrays.is_empty() {
                arrays.extend(row.iter().map(|value| Array::of(value, count)));
            }
            for (array, value) in arrays.iter_mut().zip(row) {
                array.push(value)?;
            }
        }
        let arguments = types
            .iter()
            .enumerate()
            .map(|(i, sql_type)| format!("${}::{sql_type}[]", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(Prepared::Unnest {
            insert: table.insert_from(&format!("UNNEST({arguments}) AS b({})", table.columns.join(", "))),
            arrays,
        })
    }

    async fn insert(self, conn: &mut PgConnection, user_id: Uuid) -> Result<u64, sqlx::Error> {
        let inserted = match self {
            Prepared::Copy {
                prepare,
                copy,
                payload,
                insert,
            } => {
                // A plain string runs as a simple query (nothing bound, nothing prepared).
                conn.execute(prepare.as_str()).await?;
                let mut copy = conn.copy_in_raw(&copy).await?;
                copy.send(payload).await?;
                copy.finish().await?;
                sqlx::query(&insert).bind(user_id).execute(&mut *conn).await?
            }
            Prepared::Unnest { insert, arrays } => {
                let mut query = sqlx::query(&insert).bind(user_id);
                for array in arrays {
                    query = array.bind(query);
                }
                query.execute(&mut *conn).await?
            }
        };
        Ok(inserted.rows_affected())
    }
}

/// One column of a batch as the array `UNNEST` reads.
enum Array<'a> {
    Bool(Vec<Option<bool>>),
    Int2(Vec<Option<i16>>),
    Int4(Vec<Option<i32>>),
    Float8(Vec<Option<f64>>),
    Text(Vec<Option<&'a str>>),
    Timestamptz(Vec<Option<DateTime<Utc>>>),
}

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

impl<'a> Array<'a> {
    /// An empty array of `value`'s type.
    fn of(value: &Value<'_>, capacity: usize) -> Self {
        match value {
            Value::Bool(_) => Array::Bool(Vec::with_capacity(capacity)),
            Value::Int2(_) => Array::Int2(Vec::with_capacity(capacity)),
            Value::Int4(_) => Array::Int4(Vec::with_capacity(capacity)),
            Value::Float8(_) => Array::Float8(Vec::with_capacity(capacity)),
            Value::Text(_) => Array::Text(Vec::with_capacity(capacity)),
            Value::Timestamptz(_) => Array::Timestamptz(Vec::with_capacity(capacity)),
        }
    }

    fn push(&mut self, value: Value<'a>) -> Result<(), sqlx::Error> {
        match (self, value) {
            (Array::Bool(a), Value::Bool(v)) => a.push(v),
            (Array::Int2(a), Value::Int2(v)) => a.push(v),
            (Array::Int4(a), Value::Int4(v)) => a.push(v),
            (Array::Float8(a), Value::Float8(v)) => a.push(v),
            (Array::Text(a), Value::Text(v)) => a.push(v),
            (Array::Timestamptz(a), Value::Timestamptz(v)) => a.push(v),
            (_, value) => {
                return Err(sqlx::Error::Encode(
                    format!("a row function gave {value:?} where its first row had another type").into(),
                ))
            }
        }
        Ok(())
    }

    fn bind<'q>(self, query: PgQuery<'q>) -> PgQuery<'q>
    where
        'a: 'q,
    {
        match self {
            Array::Bool(a) => query.bind(a),
            Array::Int2(a) => query.bind(a),
            Array::Int4(a) => query.bind(a),
            Array::Float8(a) => query.bind(a),
            Array::Text(a) => query.bind(a),
            Array::Timestamptz(a) => query.bind(a),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_count_handles_sorted_unsorted_and_repeated_keys() {
        assert_eq!(distinct_count([1, 2, 3].iter()), 3);
        assert_eq!(distinct_count([3, 1, 2].iter()), 3);
        assert_eq!(distinct_count([1, 2, 2, 3, 1].iter()), 3);
        assert_eq!(distinct_count(std::iter::empty::<u8>()), 0);
    }

    #[test]
    fn counts_add_and_never_underflow() {
        assert_eq!(
            InsertCounts::of(3, 1) + InsertCounts::of(2, 2),
            InsertCounts {
                inserted: 3,
                already_present: 2
            }
        );
        assert_eq!(InsertCounts::of(0, 0).already_present, 0);
    }
}

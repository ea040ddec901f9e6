//! PostgreSQL's binary `COPY` format (`COPY … FROM STDIN (FORMAT binary)`), which the batch inserts use to fill
//! their staging tables (see [`crate::batch`]). Binary rather than text or CSV: the server copies the values as
//! they are instead of parsing every timestamp and number.
//!
//! Layout (PostgreSQL docs, "COPY", "Binary Format"): a header (signature, flags, header-extension length), then per
//! row an `i16` field count and per field an `i32` byte length (`-1` for NULL) followed by the value in the type's
//! binary wire form, and finally an `i16` of `-1`. All integers are big-endian.

use chrono::{DateTime, Utc};

/// The signature, then flags 0 (no OIDs) and a header extension of length 0.
const HEADER: &[u8; 19] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// PostgreSQL's epoch: `timestamptz` is microseconds since 2000-01-01 00:00:00 UTC.
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// One field of a staged row, with the staging column's type. `numeric` columns are staged as `float8` and cast by
/// the `INSERT … SELECT` that reads the staging table (numeric's binary form is base-10000 digit groups).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value<'a> {
    Bool(Option<bool>),
    Int2(Option<i16>),
    Int4(Option<i32>),
    Float8(Option<f64>),
    Text(Option<&'a str>),
    Timestamptz(Option<DateTime<Utc>>),
}

impl Value<'_> {
    /// The staging column's SQL type.
    pub(crate) fn sql_type(&self) -> &'static str {
        match self {
            Value::Bool(_) => "bool",
            Value::Int2(_) => "int2",
            Value::Int4(_) => "int4",
            Value::Float8(_) => "float8",
            Value::Text(_) => "text",
            Value::Timestamptz(_) => "timestamptz",
        }
    }

    /// Appends the field: its length (or -1 for NULL) and its big-endian bytes.
    fn encode(&self, out: &mut Vec<u8>) {
        fn field(out: &mut Vec<u8>, bytes: &[u8]) {
            let length = i32::try_from(bytes.len()).expect("a field is at most a few kB (the columns' CHECK limits)");
            out.extend_from_slice(&length.to_be_bytes());
            out.extend_from_slice(bytes);
        }
        match *self {
            Value::Bool(Some(v)) => field(out, &[u8::from(v)]),
            Value::Int2(Some(v)) => field(out, &v.to_be_bytes()),
            Value::Int4(Some(v)) => field(out, &v.to_be_bytes()),
            Value::Float8(Some(v)) => field(out, &v.to_be_bytes()),
            Value::Text(Some(v)) => field(out, v.as_bytes()),
            Value::Timestamptz(Some(v)) => field(out, &(v.timestamp_micros() - POSTGRES_EPOCH_MICROS).to_be_bytes()),
            Value::Bool(None)
            | Value::Int2(None)
            | Value::Int4(None)
            | Value::Float8(None)
            | Value::Text(None)
            | Value::Timestamptz(None) => out.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
}

/// `From` for each field type and its `Option`, so rows read `[r.time.into(), r.trend.as_deref().into(), …]`.
macro_rules! values {
    ($($variant:ident($type:ty)),* $(,)?) => {$(
        impl<'a> From<$type> for Value<'a> {
            fn from(value: $type) -> Self {
                Value::$variant(Some(value))
            }
        }
        impl<'a> From<Option<$type>> for Value<'a> {
            fn from(value: Option<$type>) -> Self {
                Value::$variant(value)
            }
        }
    )*};
}

values! {
    Bool(bool),
    Int2(i16),
    Int4(i32),
    Float8(f64),
    Text(&'a str),
    Timestamptz(DateTime<Utc>),
}

/// A binary `COPY` payload of rows of `N` fields, built in memory and sent with one `PgCopyIn::send`.
pub(crate) struct CopyRows<const N: usize> {
    bytes: Vec<u8>,
}

impl<const N: usize> CopyRows<N> {
    /// An empty payload with room for about `rows` rows of `row_bytes` bytes.
    pub(crate) fn with_capacity(rows: usize, row_bytes: usize) -> Self {
        let mut bytes = Vec::with_capacity(HEADER.len() + rows * (2 + N * 4 + row_bytes) + 2);
        bytes.extend_from_slice(HEADER);
        Self { bytes }
    }

    pub(crate) fn push(&mut self, row: &[Value<'_>; N]) {
        let fields = i16::try_from(N).expect("a table has fewer than 32,768 columns");
        self.bytes.extend_from_slice(&fields.to_be_bytes());
        for value in row {
            value.encode(&mut self.bytes);
        }
    }

    /// The payload with its trailer.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.bytes.extend_from_slice(&(-1i16).to_be_bytes());
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use sqlx::Row;

    fn at(seconds_since_2000: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(seconds_since_2000)
    }

    #[test]
    fn encodes_header_fields_nulls_and_trailer_byte_for_byte() {
        let mut rows = CopyRows::<4>::with_capacity(1, 16);
        rows.push(&[
            at(1).into(),
            Value::Text(Some("é")),
            Value::Int2(None),
            Value::Bool(Some(true)),
        ]);
        let bytes = rows.finish();
        let mut expected = b"PGCOPY\n\xff\r\n\0".to_vec();
        expected.extend([0, 0, 0, 0, 0, 0, 0, 0]); // flags, header extension length
        expected.extend([0, 4]); // four fields
        expected.extend([0, 0, 0, 8, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x40]); // 1,000,000 µs after 2000-01-01
        expected.extend([0, 0, 0, 2, 0xc3, 0xa9]); // "é" in UTF-8
        expected.extend([0xff, 0xff, 0xff, 0xff]); // NULL
        expected.extend([0, 0, 0, 1, 1]); // true
        expected.extend([0xff, 0xff]); // trailer
        assert_eq!(bytes, expected);
    }

    #[test]
    fn numbers_are_big_endian() {
        let mut out = Vec::new();
        Value::Float8(Some(1.5)).encode(&mut out);
        Value::Int4(Some(-2)).encode(&mut out);
        Value::Int2(Some(258)).encode(&mut out);
        assert_eq!(
            out,
            [
                0, 0, 0, 8, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, // 1.5
                0, 0, 0, 4, 0xff, 0xff, 0xff, 0xfe, // -2
                0, 0, 0, 2, 1, 2, // 258
            ]
        );
        assert_eq!(Value::from(Some(2i16)).sql_type(), "int2");
        assert_eq!(Value::from(None::<&str>), Value::Text(None));
    }

    /// Every type, NULLs, the earliest accepted instant, a present one with microseconds and non-ASCII text, copied
    /// into a real table and read back.
    #[sqlx::test]
    async fn rows_round_trip_through_postgres(db: sqlx::PgPool) {
        let mut conn = db.acquire().await.unwrap();
        sqlx::raw_sql(
            "CREATE TEMP TABLE copied (n int2, t timestamptz, s text, v float8, c bool, i int4, nullable text)",
        )
        .execute(&mut *conn)
        .await
        .unwrap();
        let earliest = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
        let now = DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap();
        let before_epoch = Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59).unwrap();
        let text = "Grüße, 血糖 🩸 \"quoted\"\t\\";
        let rows: [[Value; 7]; 3] = [
            [
                1i16.into(),
                earliest.into(),
                text.into(),
                0.1f64.into(),
                true.into(),
                i32::MIN.into(),
                None::<&str>.into(),
            ],
            [
                2i16.into(),
                now.into(),
                "".into(),
                f64::MAX.into(),
                false.into(),
                i32::MAX.into(),
                "x".into(),
            ],
            [
                3i16.into(),
                before_epoch.into(),
                None::<&str>.into(),
                None::<f64>.into(),
                None::<bool>.into(),
                None::<i32>.into(),
                None::<&str>.into(),
            ],
        ];
        let mut payload = CopyRows::with_capacity(rows.len(), 64);
        for row in &rows {
            payload.push(row);
        }
        let mut copy = conn
            .copy_in_raw("COPY copied FROM STDIN (FORMAT binary)")
            .await
            .unwrap();
        copy.send(payload.finish()).await.unwrap();
        assert_eq!(copy.finish().await.unwrap(), 3);

        let read = sqlx::query("SELECT t, s, v, c, i, nullable FROM copied ORDER BY n")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        let get = |row: usize| {
            let r = &read[row];
            (
                r.get::<Option<DateTime<Utc>>, _>(0),
                r.get::<Option<String>, _>(1),
                r.get::<Option<f64>, _>(2),
                r.get::<Option<bool>, _>(3),
                r.get::<Option<i32>, _>(4),
                r.get::<Option<String>, _>(5),
            )
        };
        assert_eq!(
            get(0),
            (
                Some(earliest),
                Some(text.into()),
                Some(0.1),
                Some(true),
                Some(i32::MIN),
                None
            )
        );
        assert_eq!(
            get(1),
            (
                Some(now),
                Some(String::new()),
                Some(f64::MAX),
                Some(false),
                Some(i32::MAX),
                Some("x".into())
            )
        );
        assert_eq!(get(2), (Some(before_epoch), None, None, None, None, None));
        // The server reads the same instant the text form names.
        let earliest_text: String = sqlx::query_scalar("SELECT t::text FROM copied WHERE n = 1")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(earliest_text, "2000-01-01 00:00:00+00");
    }
}

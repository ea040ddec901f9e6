//! Reading a user's glucose history back, one keyset page at a time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use glucolens_domain::FieldError;

/// Position after the last reading of a page: readings are ordered by their key `(time, source)`, so the next page
/// starts strictly after it. Opaque to clients (URL-safe base64), so its layout may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadingCursor {
    pub time: DateTime<Utc>,
    pub source: String,
}

impl ReadingCursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.time.timestamp_micros(), self.source))
    }

    pub fn decode(raw: &str) -> Result<Self, FieldError> {
        let invalid = || FieldError::new("cursor", "invalid_cursor", "the cursor is not one this API returned");
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        // The time comes first and has no `|`, so the source may contain any character.
        let (micros, source) = text.split_once('|').ok_or_else(invalid)?;
        let time = micros
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_micros)
            .ok_or_else(invalid)?;
        if source.is_empty() {
            return Err(invalid());
        }
        Ok(Self {
            time,
            source: source.to_owned(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReadingRow {
    pub time: DateTime<Utc>,
    pub source: String,
    pub value_mg_dl: f64,
    pub trend: Option<String>,
    pub device: Option<String>,
}

/// Up to `limit` readings of `user_id` in `[start, end)` after `after` (from the start when `None`), in key order.
/// One index range scan on the primary key `(user_id, time, source)` however deep the page.
pub async fn readings_page(
    db: &PgPool,
    user_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    after: Option<&ReadingCursor>,
    limit: i64,
) -> Result<Vec<ReadingRow>, sqlx::Error> {
    // Without a cursor, `(time, source) > (start, '')` admits every reading at `start` (sources are never empty),
    // so one statement serves the first page and the following ones.
    let (after_time, after_source) = after.map_or((start, ""), |c| (c.time, c.source.as_str()));
    sqlx::query_as(
        "SELECT time, source, value_mg_dl::float8 AS value_mg_dl, trend, device
         FROM glucose_readings
         WHERE user_id = $1 AND time >= $2 AND time < $3 AND (time, source) > ($4, $5)
         ORDER BY time, source
         LIMIT $6",
    )
    .bind(user_id)
    .bind(start)
    .bind(end)
    .bind(after_time)
    .bind(after_source)
    .bind(limit)
    .fetch_all(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = ReadingCursor {
            time: DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap(),
            source: "dexcom|g7 ü".into(),
        };
        assert_eq!(ReadingCursor::decode(&cursor.encode()).unwrap(), cursor);
        for bad in [
            "",
            "not base64!",
            &URL_SAFE_NO_PAD.encode("12|"),
            &URL_SAFE_NO_PAD.encode("x|dexcom"),
        ] {
            assert_eq!(ReadingCursor::decode(bad).unwrap_err().code, "invalid_cursor", "{bad}");
        }
    }
}

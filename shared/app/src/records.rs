//! Stored records after they are written: correcting one (`PATCH`), deleting one or a glucose range (`DELETE`),
//! and the change feed a phone syncs from. Every change marks the local days it touches dirty (the record
//! writer's rule, [`Batch::touched`]), in the same transaction, so aggregates, correlations and patterns follow.
//!
//! A correction is a JSON merge patch (RFC 7396) on the record as the API shows it under the design's names: the
//! stored record's fields, overlaid with the patch, are validated exactly as a new record of that kind is
//! ([`glucolens_domain::ingest`]), so a corrected record obeys every rule a written one does.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use glucolens_domain::ingest::{
    validate_one, ActivityInput, Context, GlucoseReadingInput, MealInput, SleepInput, Validate,
};
use glucolens_domain::{FieldError, UserTimeZone};
use glucolens_store::records::{self, ActivityRow, Change, GlucoseRow, MealRow, PagePosition, RecordTable, SleepRow};
use glucolens_store::{dirty_days, users};

use crate::record_writer::Record;

/// Why a correction or deletion did not happen.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The caller has no record with this id (another user's id included).
    #[error("no such record")]
    NotFound,
    /// The patch, or the record it would make, breaks a rule; every problem is listed.
    #[error("invalid correction")]
    Invalid(Vec<FieldError>),
    /// The corrected record would have the natural key of another stored record.
    #[error("another record already has this {0}")]
    KeyTaken(&'static str),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A kind of record the API lets clients correct: its row, the input it is validated as, and the row's fields
/// clients cannot set.
pub trait Correctable: RecordTable<Record: Record> {
    type Input: Validate<Record = Self::Record> + DeserializeOwned;
    /// The input field that carries the natural key's instant (where a key collision is reported).
    const KEY_FIELD: &'static str;
    /// Row fields that are derived or set by the server: a patch naming them is refused.
    const READ_ONLY: &'static [&'static str];

    /// The stored record as the input it could have been written with.
    fn as_input(&self) -> Map<String, Value> {
        base_input(self, Self::READ_ONLY)
    }
}

impl Correctable for GlucoseRow {
    type Input = GlucoseReadingInput;
    const KEY_FIELD: &'static str = "timestamp";
    const READ_ONLY: &'static [&'static str] = &["clipped"];

    fn as_input(&self) -> Map<String, Value> {
        let mut fields = base_input(self, Self::READ_ONLY);
        fields.insert("unit".into(), "mg/dL".into());
        fields
    }
}

impl Correctable for SleepRow {
    type Input = SleepInput;
    const KEY_FIELD: &'static str = "sleep_start";
    // Minutes asleep follow from the session and its awake minutes; a patch may still send `duration_minutes`,
    // which is then validated as on a new session.
    const READ_ONLY: &'static [&'static str] = &[];

    fn as_input(&self) -> Map<String, Value> {
        base_input(self, &["duration_minutes"])
    }
}

impl Correctable for ActivityRow {
    type Input = ActivityInput;
    const KEY_FIELD: &'static str = "timestamp";
    const READ_ONLY: &'static [&'static str] = &[];
}

impl Correctable for MealRow {
    type Input = MealInput;
    const KEY_FIELD: &'static str = "timestamp";
    const READ_ONLY: &'static [&'static str] = &[];
}

/// Fields every row has and no client sets.
const SERVER_FIELDS: [&str; 3] = ["id", "created_at", "updated_at"];

/// The row's fields minus the server's and `also_removed`.
fn base_input<T: RecordTable>(row: &T, also_removed: &[&str]) -> Map<String, Value> {
    let Ok(Value::Object(mut fields)) = serde_json::to_value(row) else {
        unreachable!("rows serialize as JSON objects")
    };
    for field in SERVER_FIELDS.iter().chain(also_removed) {
        fields.remove(*field);
    }
    fields
}

/// Applies `patch` (a JSON merge patch: a field set to `null` is removed) to the caller's record `id` and returns
/// the record as now stored. Nothing changes unless the whole corrected record is valid.
pub async fn correct<T: Correctable>(
    db: &PgPool,
    user_id: Uuid,
    id: i64,
    patch: Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<T, EditError> {
    let mut errors: Vec<FieldError> = patch
        .keys()
        .filter(|field| SERVER_FIELDS.contains(&field.as_str()) || T::READ_ONLY.contains(&field.as_str()))
        .map(|field| FieldError::new(field.clone(), "read_only", format!("`{field}` is set by the server")))
        .collect();
    // A glucose value's unit only means something next to the value it qualifies.
    if patch.contains_key("unit") && !patch.contains_key("value") {
        errors.push(FieldError::new(
            "value",
            "required",
            "send `value` together with `unit`",
        ));
    }
    if !errors.is_empty() {
        return Err(EditError::Invalid(errors));
    }
    let mut tx = db.begin().await?;
    let Some(stored) = records::get::<T>(&mut *tx, user_id, id, true).await? else {
        return Err(EditError::NotFound);
    };
    let zone = users::time_zone(&mut *tx, user_id).await?;
    let mut fields = stored.as_input();
    for (field, value) in patch {
        match value {
            Value::Null => fields.remove(&field),
            value => fields.insert(field, value),
        };
    }
    let input: T::Input = serde_json::from_value(Value::Object(fields))
        .map_err(|e| EditError::Invalid(vec![FieldError::new("body", "invalid_json", e.to_string())]))?;
    let context = Context {
        now,
        default_source: "api",
        time_zone: Some(zone),
    };
    let record = validate_one(input, context).map_err(EditError::Invalid)?;
    let updated = match T::update(&mut tx, user_id, id, &record).await {
        Ok(row) => row.ok_or(EditError::NotFound)?,
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23505") => {
            return Err(EditError::KeyTaken(T::KEY_FIELD))
        }
        Err(e) => return Err(e.into()),
    };
    mark_touched(&mut tx, user_id, zone, &[stored.record(), record]).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Deletes the caller's record `id` (leaving a tombstone for the change feed).
pub async fn delete<T: Correctable>(db: &PgPool, user_id: Uuid, id: i64) -> Result<(), EditError> {
    let mut tx = db.begin().await?;
    let deleted = records::delete::<T>(&mut tx, user_id, id)
        .await?
        .ok_or(EditError::NotFound)?;
    let zone = users::time_zone(&mut *tx, user_id).await?;
    mark_touched(&mut tx, user_id, zone, &[deleted.record()]).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes the caller's glucose readings in `[start, end)`, of `source` only when given (a bad sensor session);
/// returns how many were deleted.
pub async fn delete_glucose_range(
    db: &PgPool,
    user_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    source: Option<&str>,
) -> Result<u64, EditError> {
    let mut tx = db.begin().await?;
    let times = records::delete_glucose_range(&mut tx, user_id, start, end, source).await?;
    if !times.is_empty() {
        let zone = users::time_zone(&mut *tx, user_id).await?;
        dirty_days::mark(&mut *tx, user_id, zone, &times).await?;
    }
    tx.commit().await?;
    Ok(times.len() as u64)
}

/// Marks the local days `records` touch, by the record writer's rule.
async fn mark_touched<R: Record>(
    db: &mut PgConnection,
    user_id: Uuid,
    zone: UserTimeZone,
    records: &[R],
) -> Result<(), sqlx::Error> {
    let mut instants = Vec::new();
    R::batch(records).touched(&mut instants);
    dirty_days::mark(db, user_id, zone, &instants).await?;
    Ok(())
}

/// Where a change feed continues: the anchor the finished sync will hand out and the last change delivered.
/// Opaque to clients (URL-safe base64), so its layout may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedCursor {
    pub horizon: DateTime<Utc>,
    pub after: PagePosition,
}

impl FeedCursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "f|{}|{}|{}",
            self.horizon.timestamp_micros(),
            self.after.time.timestamp_micros(),
            self.after.id
        ))
    }

    pub fn decode(raw: &str) -> Result<Self, FieldError> {
        let [horizon, time, id] = decode_cursor(raw, "f")?;
        Ok(Self {
            horizon: instant(horizon)?,
            after: PagePosition {
                time: instant(time)?,
                id,
            },
        })
    }
}

/// Where a range listing continues: after the last record delivered, in `(time, id)` order.
pub fn encode_page_cursor(position: PagePosition) -> String {
    URL_SAFE_NO_PAD.encode(format!("p|{}|{}", position.time.timestamp_micros(), position.id))
}

/// The position an [`encode_page_cursor`] cursor names.
pub fn decode_page_cursor(raw: &str) -> Result<PagePosition, FieldError> {
    let [time, id] = decode_cursor(raw, "p")?;
    Ok(PagePosition {
        time: instant(time)?,
        id,
    })
}

fn invalid_cursor() -> FieldError {
    FieldError::new("cursor", "invalid_cursor", "the cursor is not one this API returned")
}

/// The `N` numbers of a cursor tagged `tag` (`tag|n1|n2...`, base64).
fn decode_cursor<const N: usize>(raw: &str, tag: &str) -> Result<[i64; N], FieldError> {
    let text = URL_SAFE_NO_PAD
        .decode(raw.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(invalid_cursor)?;
    let mut parts = text.split('|');
    if parts.next() != Some(tag) {
        return Err(invalid_cursor());
    }
    let numbers: Vec<i64> = parts
        .map(|p| p.parse().map_err(|_| invalid_cursor()))
        .collect::<Result<_, _>>()?;
    numbers.try_into().map_err(|_| invalid_cursor())
}

fn instant(micros: i64) -> Result<DateTime<Utc>, FieldError> {
    DateTime::from_timestamp_micros(micros).ok_or_else(invalid_cursor)
}

/// One page of a change feed.
#[derive(Debug)]
pub struct FeedPage<T> {
    pub changes: Vec<Change<T>>,
    /// Set when more changes follow: pass it back for the next page.
    pub next_cursor: Option<FeedCursor>,
    /// Set on the last page: the anchor to sync from next time (`updated_since`).
    pub next_updated_since: Option<DateTime<Utc>>,
}

/// Up to `limit` changes of the caller's records of kind `T` since `since` (first page) or after `cursor`.
pub async fn feed<T: RecordTable>(
    db: &PgPool,
    user_id: Uuid,
    since: DateTime<Utc>,
    cursor: Option<FeedCursor>,
    limit: i64,
) -> Result<FeedPage<T>, sqlx::Error> {
    let mut conn = db.acquire().await?;
    // The horizon is taken before the first page is read (module comment of `store::records`) and carried in the
    // cursor, so a sync that spans several pages resumes from where its first page stood.
    let horizon = match cursor {
        Some(cursor) => cursor.horizon,
        None => records::sync_horizon(&mut *conn).await?,
    };
    let mut changes = records::changes::<T>(&mut conn, user_id, since, cursor.map(|c| c.after), limit + 1).await?;
    let has_more = changes.len() as i64 > limit;
    changes.truncate(limit as usize);
    let next_cursor = has_more.then(|| changes.last()).flatten().map(|last| FeedCursor {
        horizon,
        after: last.position(),
    });
    Ok(FeedPage {
        next_updated_since: next_cursor.is_none().then_some(horizon),
        changes,
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_each_others_and_garbage() {
        let at = |micros| DateTime::from_timestamp_micros(micros).unwrap();
        let feed = FeedCursor {
            horizon: at(1_764_000_000_123_456),
            after: PagePosition {
                time: at(1_763_000_000_000_001),
                id: 42,
            },
        };
        assert_eq!(FeedCursor::decode(&feed.encode()).unwrap(), feed);
        let page = feed.after;
        assert_eq!(decode_page_cursor(&encode_page_cursor(page)).unwrap(), page);
        assert!(FeedCursor::decode(&encode_page_cursor(page)).is_err());
        assert!(decode_page_cursor(&feed.encode()).is_err());
        for bad in [
            "",
            "not base64!",
            &URL_SAFE_NO_PAD.encode("p|12"),
            &URL_SAFE_NO_PAD.encode("p|x|1"),
        ] {
            assert_eq!(decode_page_cursor(bad).unwrap_err().code, "invalid_cursor", "{bad}");
            assert_eq!(FeedCursor::decode(bad).unwrap_err().code, "invalid_cursor", "{bad}");
        }
    }
}

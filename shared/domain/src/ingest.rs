//! API ingestion payloads and their validation into [`super::records`].
//!
//! Every item of a batch is checked and *every* problem is reported (`readings[3].value`, `out_of_range`, ...);
//! a batch with any invalid item yields no records, so nothing is written. Fields the API requires are `Option`s
//! here so that a missing one is reported as a `required` field error alongside the others instead of stopping
//! the JSON parser at the first. Inputs are consumed, so their strings move into the records without copying.
//!
//! The shared rules ([`super::rules`]) apply to every item: instants between 2000-01-01 and now + 5 minutes
//! (`too_early`, `in_future`), no leap seconds (`leap_second`), no text PostgreSQL cannot store (a NUL:
//! `invalid_text`), quoted values shortened. At most [`MAX_BATCH_ITEMS`] items per request, on every route that
//! takes a batch (the Nightscout upload included): more is `batch_too_large` (422).
//!
//! Field names are the design's (`sleep_start`, `carbs_grams`, `calories_burned`, ...); the earlier names are
//! accepted as serde aliases (`start_time`, `carbs_g`, `calories`, ...), and errors name the design's field.
//!
//! **Duplicate natural keys within one batch** (glucose `(timestamp, source)`, sleep `(sleep_start, source)`,
//! activity `(timestamp, activity_type, source)`, meal `(timestamp, source)`; instants compared as stored, to the
//! microsecond): an item identical to an earlier one is collapsed into it (as if it had been re-sent); an item
//! with the same key but other values is refused with `duplicate_key` on its key field (e.g.
//! `readings[7].timestamp`, reason naming index 3), since either choice would silently lose data.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Deserializer};

use super::records::{ActivityRecord, GlucoseRecord, Intensity, MealRecord, MealType, SleepQuality, SleepRecord};
use super::{local_day, parse_timestamp, rules, FieldError, GlucoseUnit, MgDl, UserTimeZone};

/// Most items one request may carry (90 days of 5-minute readings is 25,920; 1-minute data for a month fits).
pub const MAX_BATCH_ITEMS: usize = 50_000;

/// Clocks drift: timestamps up to this far ahead of the server's clock are accepted (the shared rule).
pub use rules::FUTURE_TOLERANCE;

/// What validation needs besides the input: the server's clock, the source recorded when an item names none
/// (e.g. `api`, or `apple_health` for the Apple Health sync) and, when an item asks for it
/// ([`Validate::needs_time_zone`]), the account's time zone.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub now: DateTime<Utc>,
    pub default_source: &'static str,
    /// The account's zone, for a sleep item's `date`; `None` checks that `date` against UTC dates only.
    pub time_zone: Option<UserTimeZone>,
}

/// A field parsed while the JSON is read, straight from the body's bytes (no intermediate `String` per item); a
/// value that does not parse keeps its text, so validation reports it alongside every other problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T>(Result<T, String>);

/// A field type [`Parsed`] can read from a JSON string.
pub trait ParseField: Sized {
    fn parse_field(raw: &str) -> Option<Self>;
}

/// RFC 3339 with an offset or `Z` (the rule of [`parse_timestamp`]).
impl ParseField for DateTime<Utc> {
    fn parse_field(raw: &str) -> Option<Self> {
        parse_timestamp("", raw).ok()
    }
}

/// A calendar date, `YYYY-MM-DD`.
impl ParseField for NaiveDate {
    fn parse_field(raw: &str) -> Option<Self> {
        NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok()
    }
}

impl ParseField for GlucoseUnit {
    fn parse_field(raw: &str) -> Option<Self> {
        GlucoseUnit::parse("", raw).ok()
    }
}

impl<T: ParseField> Parsed<T> {
    pub fn read(raw: &str) -> Self {
        Parsed(T::parse_field(raw).ok_or_else(|| raw.to_owned()))
    }
}

impl<'de, T: ParseField> Deserialize<'de> for Parsed<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<T>(std::marker::PhantomData<T>);
        impl<T: ParseField> serde::de::Visitor<'_> for Visitor<T> {
            type Value = Parsed<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E>(self, raw: &str) -> Result<Parsed<T>, E> {
                Ok(Parsed::read(raw))
            }
        }
        deserializer.deserialize_str(Visitor(std::marker::PhantomData))
    }
}

/// One glucose reading as clients send it (the design's `glucose_readings` fields).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"timestamp": "2025-01-15T08:00:00Z", "value": 95.0, "source": "dexcom_g7",
    "device_id": "G7"}))]
pub struct GlucoseReadingInput {
    /// RFC 3339 with an offset or `Z`; from 2000-01-01 to at most 5 minutes in the future; not a leap second.
    #[schema(required = true, value_type = String, format = DateTime)]
    pub timestamp: Option<Parsed<DateTime<Utc>>>,
    /// In `unit`; 20–600 mg/dL (1.11–33.3 mmol/L) after conversion and rounding to 0.1 mg/dL (1.1 mmol/L is
    /// 19.8 mg/dL and refused). Stored in mg/dL rounded to 0.1.
    #[schema(required = true)]
    pub value: Option<f64>,
    /// `mg/dL` (default) or `mmol/L` (converted with 18.0156 mg/dL per mmol/L).
    #[schema(value_type = Option<GlucoseUnit>)]
    pub unit: Option<Parsed<GlucoseUnit>>,
    /// 1–64 characters; default `api` (`apple_health` in the Apple Health sync). Part of the natural key
    /// `(timestamp, source)`.
    pub source: Option<String>,
    /// Trend arrow, at most 32 characters (e.g. `flat`, `singleUp`).
    pub trend: Option<String>,
    /// The device's model or serial, at most 128 characters. Also accepted under its alias `device`.
    #[serde(alias = "device")]
    pub device_id: Option<String>,
}

/// One sleep session (the design's `sleep_data` fields). Natural key `(sleep_start, source)`.
///
/// Aliases (the earlier names, still accepted): `start_time` for `sleep_start`, `end_time` for `sleep_end`,
/// `deep_minutes`, `light_minutes` and `rem_minutes` for the `*_sleep_minutes` fields, `quality` for
/// `quality_score`. Send a field under one name only (both is a malformed body).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"date": "2025-01-14", "sleep_start": "2025-01-14T23:00:00Z",
    "sleep_end": "2025-01-15T07:00:00Z", "duration_minutes": 480, "deep_sleep_minutes": 120, "quality_score": 8.5,
    "source": "apple_watch"}))]
pub struct SleepInput {
    /// The date the night belongs to, `YYYY-MM-DD`; optional and not stored (the night's day is computed from
    /// `sleep_start` and the account's time zone). When given it must be the calendar date, in UTC or in the
    /// account's zone, of `sleep_start` or `sleep_end`, or the local date of the evening the night began
    /// (sleep before 06:00 counts for the previous evening); otherwise 422 `date_mismatch`.
    #[schema(value_type = Option<String>, format = Date)]
    pub date: Option<Parsed<NaiveDate>>,
    /// When sleep began (RFC 3339 with an offset or `Z`). Alias: `start_time`.
    #[serde(alias = "start_time")]
    #[schema(required = true, value_type = String, format = DateTime)]
    pub sleep_start: Option<Parsed<DateTime<Utc>>>,
    /// When sleep ended: after `sleep_start`, at most 24 hours later. Alias: `end_time`.
    #[serde(alias = "end_time")]
    #[schema(required = true, value_type = String, format = DateTime)]
    pub sleep_end: Option<Parsed<DateTime<Utc>>>,
    /// Total minutes asleep, 0–1440 and at most the session's length (one minute of slack). Not stored as such:
    /// minutes asleep are the session's length minus its awake minutes, so the session's time not asleep is
    /// stored as awake (`awake_minutes` when that is more, e.g. time to fall asleep a device did not stage).
    /// With `awake_minutes`, the two together may not exceed the session (422 `inconsistent_duration`).
    pub duration_minutes: Option<i64>,
    /// Stage minutes: each 0–1440; the stages and `awake_minutes` together at most the session's length.
    /// Alias: `deep_minutes`.
    #[serde(alias = "deep_minutes")]
    pub deep_sleep_minutes: Option<i64>,
    /// Alias: `rem_minutes`.
    #[serde(alias = "rem_minutes")]
    pub rem_sleep_minutes: Option<i64>,
    /// Alias: `light_minutes`.
    #[serde(alias = "light_minutes")]
    pub light_sleep_minutes: Option<i64>,
    /// Minutes awake during the session, 0–1440.
    pub awake_minutes: Option<i64>,
    /// 0–10, stored with one decimal (8.5 stays 8.5; 8.55 is stored as 8.6). Alias: `quality`.
    #[serde(alias = "quality")]
    pub quality_score: Option<f64>,
    /// 1–64 characters, e.g. `apple_watch`, `oura`; default `api` (`apple_health` in the Apple Health sync).
    pub source: Option<String>,
}

/// One exercise session (the design's `activities` fields). Natural key `(timestamp, activity_type, source)`.
///
/// Aliases (the earlier names, still accepted): `start_time` for `timestamp`, `calories` for `calories_burned`,
/// `avg_heart_rate` for `heart_rate_avg`. Send a field under one name only (both is a malformed body).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"timestamp": "2025-01-15T18:00:00Z", "activity_type": "running",
    "duration_minutes": 45, "intensity": "vigorous", "calories_burned": 420, "heart_rate_avg": 148,
    "source": "apple_watch"}))]
pub struct ActivityInput {
    /// When it started (RFC 3339 with an offset or `Z`). Alias: `start_time`.
    #[serde(alias = "start_time")]
    #[schema(required = true, value_type = String, format = DateTime)]
    pub timestamp: Option<Parsed<DateTime<Utc>>>,
    /// 1–64 characters, e.g. `running`, `walking`, `cycling`, `strength`.
    #[schema(required = true)]
    pub activity_type: Option<String>,
    /// 0–1440.
    #[schema(required = true)]
    pub duration_minutes: Option<i64>,
    /// `light`, `moderate` or `vigorous`; `low` and `high` are accepted as synonyms of `light` and `vigorous`
    /// (stored as `low`, `moderate`, `high`).
    pub intensity: Option<String>,
    /// 0–20000 kcal. Alias: `calories`.
    #[serde(alias = "calories")]
    pub calories_burned: Option<f64>,
    /// 0–200000.
    pub steps: Option<i64>,
    /// Average heart rate, 20–250 bpm. Alias: `avg_heart_rate`.
    #[serde(alias = "avg_heart_rate")]
    pub heart_rate_avg: Option<i64>,
    /// 1–64 characters; default `api` (`apple_health` in the Apple Health sync).
    pub source: Option<String>,
}

/// One meal (the design's `meals` fields). Natural key `(timestamp, source)`.
///
/// Aliases (the earlier names, still accepted): `carbs_g`, `protein_g`, `fat_g` and `fiber_g` for the `*_grams`
/// fields. Send a field under one name only (both is a malformed body).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"timestamp": "2025-01-15T12:30:00Z", "meal_type": "lunch", "carbs_grams": 65.0,
    "protein_grams": 30.0, "fat_grams": 20.0, "calories": 560, "glycemic_load": 22.0,
    "description": "pasta with salad", "source": "manual"}))]
pub struct MealInput {
    /// When it was eaten (RFC 3339 with an offset or `Z`).
    #[schema(required = true, value_type = String, format = DateTime)]
    pub timestamp: Option<Parsed<DateTime<Utc>>>,
    /// `breakfast`, `lunch`, `dinner`, `snack` or `other`.
    pub meal_type: Option<String>,
    /// 0–2000 g. Alias: `carbs_g`.
    #[serde(alias = "carbs_g")]
    #[schema(required = true)]
    pub carbs_grams: Option<f64>,
    /// 0–2000 g. Alias: `protein_g`.
    #[serde(alias = "protein_g")]
    pub protein_grams: Option<f64>,
    /// 0–2000 g. Alias: `fat_g`.
    #[serde(alias = "fat_g")]
    pub fat_grams: Option<f64>,
    /// 0–2000 g. Alias: `fiber_g`.
    #[serde(alias = "fiber_g")]
    pub fiber_grams: Option<f64>,
    /// 0–20000 kcal.
    pub calories: Option<f64>,
    /// 0–1000.
    pub glycemic_load: Option<f64>,
    /// At most 500 characters.
    pub description: Option<String>,
    /// An `https://` address of a photo of the meal the client hosts, at most 500 characters (422 `invalid_url`
    /// otherwise). Stored and returned as given; GlucoLens never fetches it. Not part of the natural key.
    pub photo_url: Option<String>,
    /// 1–64 characters; default `api` (`apple_health` in the Apple Health sync).
    pub source: Option<String>,
}

/// An input that validates into a record, reporting problems under plain field names (`value`, `sleep_end`).
pub trait Validate {
    type Record;
    /// The record, or `None` after pushing at least one error to `errors`.
    fn validate(self, context: Context, errors: &mut Vec<FieldError>) -> Option<Self::Record>;

    /// Whether validating this item uses [`Context::time_zone`] (a sleep session naming its `date`), so a caller
    /// looks the account's zone up only when some item needs it.
    fn needs_time_zone(&self) -> bool {
        false
    }
}

/// Validates one item; its errors name fields plainly (`value`).
pub fn validate_one<I: Validate>(input: I, context: Context) -> Result<I::Record, Vec<FieldError>> {
    let mut errors = Vec::new();
    input.validate(context, &mut errors).ok_or(errors)
}

/// A record's natural key (see [`super::records`]), for duplicates within one batch.
pub trait NaturalKey: PartialEq {
    /// The input field that carries the key's instant, where a `duplicate_key` error is located.
    const KEY_FIELD: &'static str;
    /// `(instant in microseconds as stored, source, activity type or "")`.
    fn natural_key(&self) -> (i64, &str, &str);
}

impl NaturalKey for GlucoseRecord {
    const KEY_FIELD: &'static str = "timestamp";
    fn natural_key(&self) -> (i64, &str, &str) {
        (self.time.timestamp_micros(), &self.source, "")
    }
}

impl NaturalKey for SleepRecord {
    const KEY_FIELD: &'static str = "sleep_start";
    fn natural_key(&self) -> (i64, &str, &str) {
        (self.start_time.timestamp_micros(), &self.source, "")
    }
}

impl NaturalKey for ActivityRecord {
    const KEY_FIELD: &'static str = "timestamp";
    fn natural_key(&self) -> (i64, &str, &str) {
        (self.start_time.timestamp_micros(), &self.source, &self.activity_type)
    }
}

impl NaturalKey for MealRecord {
    const KEY_FIELD: &'static str = "timestamp";
    fn natural_key(&self) -> (i64, &str, &str) {
        (self.eaten_at.timestamp_micros(), &self.source, "")
    }
}

/// The error for item `later` of `batch` repeating item `first`'s natural key with other values.
pub fn duplicate_key_error(batch: &str, key_field: &str, first: usize, later: usize) -> FieldError {
    FieldError::new(
        key_field,
        "duplicate_key",
        format!(
            "item {later} has the same natural key as item {first} ({batch}[{first}]) but other values; \
             send one of them"
        ),
    )
    .in_item(batch, later)
}

/// Collapses items identical to an earlier one; an item whose key an earlier item holds with other values is a
/// `duplicate_key` error (naming both indices) and the whole batch yields no records.
pub fn dedup_batch<R: NaturalKey>(batch: &str, records: Vec<R>, errors: &mut Vec<FieldError>) -> Vec<R> {
    let mut first_of: HashMap<(i64, &str, &str), usize> = HashMap::with_capacity(records.len());
    let mut repeats = Vec::new();
    for (index, record) in records.iter().enumerate() {
        match first_of.get(&record.natural_key()) {
            Some(&first) if records[first] == *record => repeats.push(index),
            Some(&first) => errors.push(duplicate_key_error(batch, R::KEY_FIELD, first, index)),
            None => {
                first_of.insert(record.natural_key(), index);
            }
        }
    }
    if !errors.is_empty() {
        return Vec::new();
    }
    if repeats.is_empty() {
        return records;
    }
    let mut repeats = repeats.into_iter().peekable();
    records
        .into_iter()
        .enumerate()
        .filter(|(index, _)| repeats.next_if_eq(index).is_none())
        .map(|(_, record)| record)
        .collect()
}

/// Validates the batch field `batch` item by item, collecting every item's errors located as `batch[i].field`,
/// then handles repeated natural keys ([`dedup_batch`]). Any error means no records at all.
pub fn validate_batch<I: Validate>(
    batch: &str,
    items: Vec<I>,
    context: Context,
    errors: &mut Vec<FieldError>,
) -> Vec<I::Record>
where
    I::Record: NaturalKey,
{
    let mut records = Vec::with_capacity(if errors.is_empty() { items.len() } else { 0 });
    for (index, item) in items.into_iter().enumerate() {
        let first_new = errors.len();
        let record = item.validate(context, errors);
        if errors.len() > first_new {
            let located: Vec<_> = errors.drain(first_new..).map(|e| e.in_item(batch, index)).collect();
            errors.extend(located);
        }
        if let (Some(record), true) = (record, errors.is_empty()) {
            records.push(record);
        }
    }
    if !errors.is_empty() {
        return Vec::new();
    }
    dedup_batch(batch, records, errors)
}

/// The error for a request carrying more than [`MAX_BATCH_ITEMS`] items in total.
pub fn check_batch_size(field: &str, items: usize) -> Result<(), FieldError> {
    if items <= MAX_BATCH_ITEMS {
        return Ok(());
    }
    Err(FieldError::new(
        field,
        "batch_too_large",
        format!("{items} items in one request; at most {MAX_BATCH_ITEMS} are accepted, split the upload"),
    ))
}

/// Per-item checks that record each problem and keep going, so one call reports everything wrong with an item.
struct Checker<'e> {
    context: Context,
    errors: &'e mut Vec<FieldError>,
}

impl Checker<'_> {
    fn fail<T>(&mut self, field: &str, code: &'static str, reason: impl Into<String>) -> Option<T> {
        self.errors.push(FieldError::new(field, code, reason));
        None
    }

    fn required<T>(&mut self, field: &str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.fail::<()>(field, "required", format!("`{field}` is required"));
        }
        value
    }

    /// A required instant in the accepted range ([`rules::check_time`]): 2000-01-01 to a few minutes from now.
    fn timestamp(&mut self, field: &str, parsed: Option<Parsed<DateTime<Utc>>>) -> Option<DateTime<Utc>> {
        let time = match self.required(field, parsed)?.0 {
            Ok(time) => time,
            Err(raw) => {
                self.errors.extend(parse_timestamp(field, &raw).err());
                return None;
            }
        };
        match rules::check_time(time, self.context.now) {
            Ok(time) => Some(time),
            Err(problem @ rules::TimeProblem::TooEarly) => {
                self.fail(field, problem.code(), "timestamps before 2000-01-01 are not accepted")
            }
            Err(problem @ rules::TimeProblem::InFuture) => self.fail(
                field,
                problem.code(),
                format!("{time} is in the future (more than 5 minutes after the server's clock)"),
            ),
            Err(problem) => self.fail(field, problem.code(), problem.reason()),
        }
    }

    /// Optional text of at most `max_chars` characters, not blank, storable ([`rules::check_text`]). Every text
    /// field of the API passes here.
    fn text(&mut self, field: &str, raw: Option<String>, max_chars: usize) -> Result<Option<String>, ()> {
        let Some(text) = raw else { return Ok(None) };
        if rules::check_text(&text).is_err() {
            self.errors.push(FieldError::unstorable_text(field));
            return Err(());
        }
        if text.trim().is_empty() {
            self.fail::<()>(field, "empty", format!("`{field}` must not be blank"));
            return Err(());
        }
        // Byte length bounds the character count from above: count only when it could exceed the limit.
        if text.len() > max_chars && text.chars().count() > max_chars {
            self.fail::<()>(
                field,
                "too_long",
                format!("`{field}` has more than {max_chars} characters"),
            );
            return Err(());
        }
        Ok(Some(text))
    }

    /// An optional calendar date (`YYYY-MM-DD`): `Some(None)` when absent, `None` after recording an error.
    fn date(&mut self, field: &str, parsed: Option<Parsed<NaiveDate>>) -> Option<Option<NaiveDate>> {
        match parsed.map(|p| p.0) {
            None => Some(None),
            Some(Ok(date)) => Some(Some(date)),
            Some(Err(raw)) => self.fail(
                field,
                "invalid_date",
                format!("`{}` is not a date like 2025-01-14", super::echo(&raw)),
            ),
        }
    }

    /// Optional text that is an `https://` address with a host, at most `max_chars` characters.
    fn https_url(&mut self, field: &str, raw: Option<String>, max_chars: usize) -> Result<Option<String>, ()> {
        let Some(url) = self.text(field, raw, max_chars)? else {
            return Ok(None);
        };
        let rest = url
            .get(..8)
            .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
            .map(|_| &url[8..]);
        let host = rest.and_then(|rest| rest.split(['/', '?', '#']).next()).unwrap_or("");
        if host.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            self.fail::<()>(
                field,
                "invalid_url",
                format!("`{field}` must be an https:// address, not `{}`", super::echo(&url)),
            );
            return Err(());
        }
        Ok(Some(url))
    }

    fn source(&mut self, raw: Option<String>) -> Option<String> {
        match self.text("source", raw, 64) {
            Ok(source) => Some(source.unwrap_or_else(|| self.context.default_source.to_owned())),
            Err(()) => None,
        }
    }

    /// An optional number within `min..=max`.
    fn number<T: PartialOrd + Copy + std::fmt::Display>(
        &mut self,
        field: &str,
        value: Option<T>,
        min: T,
        max: T,
    ) -> Result<Option<T>, ()> {
        match value {
            Some(v) if !(min..=max).contains(&v) => {
                self.fail::<()>(
                    field,
                    "out_of_range",
                    format!("`{field}` must be between {min} and {max}"),
                );
                Err(())
            }
            other => Ok(other),
        }
    }

    /// An optional choice among `choices` (matched by their stored spelling).
    fn choice<T: Copy>(
        &mut self,
        field: &str,
        raw: Option<String>,
        choices: &[T],
        name: fn(T) -> &'static str,
    ) -> Result<Option<T>, ()> {
        let Some(raw) = raw else { return Ok(None) };
        match choices.iter().copied().find(|c| name(*c) == raw) {
            Some(choice) => Ok(Some(choice)),
            None => {
                let allowed: Vec<_> = choices.iter().map(|c| name(*c)).collect();
                self.fail::<()>(
                    field,
                    "invalid_choice",
                    format!(
                        "`{field}` must be one of {}, not `{}`",
                        allowed.join(", "),
                        super::echo(&raw)
                    ),
                );
                Err(())
            }
        }
    }
}

/// Turns a `Result` of a check whose error is already recorded into an `Option`.
fn checked<T>(result: Result<T, ()>) -> Option<T> {
    result.ok()
}

impl Validate for GlucoseReadingInput {
    type Record = GlucoseRecord;

    fn validate(self, context: Context, errors: &mut Vec<FieldError>) -> Option<GlucoseRecord> {
        let mut check = Checker { context, errors };
        let time = check.timestamp("timestamp", self.timestamp);
        let unit = match self.unit.map(|u| u.0) {
            None => Some(GlucoseUnit::default()),
            Some(Ok(unit)) => Some(unit),
            Some(Err(raw)) => {
                check.errors.extend(GlucoseUnit::parse("unit", &raw).err());
                None
            }
        };
        let value = match (check.required("value", self.value), unit) {
            (Some(value), Some(unit)) => MgDl::parse("value", value, unit).map_err(|e| check.errors.push(e)).ok(),
            _ => None,
        };
        let source = check.source(self.source);
        let trend = checked(check.text("trend", self.trend, 32));
        let device = checked(check.text("device_id", self.device_id, 128));
        Some(GlucoseRecord {
            time: time?,
            source: source?,
            value: value?,
            trend: trend?,
            device: device?,
            clipped: false,
        })
    }
}

/// The dates a client may name as a sleep session's `date`: the UTC and local calendar dates of its start and
/// end, and the local date of the evening the night began ([`local_day::night_of`]). Local means the account's
/// zone; without one, UTC.
fn sleep_dates(start: DateTime<Utc>, end: DateTime<Utc>, zone: Option<UserTimeZone>) -> [NaiveDate; 5] {
    let tz = zone.unwrap_or_default().tz();
    [
        start.date_naive(),
        end.date_naive(),
        local_day::local_date(tz, start),
        local_day::local_date(tz, end),
        local_day::night_of(tz, start),
    ]
}

impl Validate for SleepInput {
    type Record = SleepRecord;

    fn validate(self, context: Context, errors: &mut Vec<FieldError>) -> Option<SleepRecord> {
        let mut check = Checker { context, errors };
        let date = check.date("date", self.date);
        let start = check.timestamp("sleep_start", self.sleep_start);
        let end = check.timestamp("sleep_end", self.sleep_end);
        let minutes = |check: &mut Checker, field, value| {
            checked(check.number(field, value, 0, rules::MAX_MINUTES)).map(|m| m.map(|m| m as i32))
        };
        let duration = minutes(&mut check, "duration_minutes", self.duration_minutes);
        let deep = minutes(&mut check, "deep_sleep_minutes", self.deep_sleep_minutes);
        let light = minutes(&mut check, "light_sleep_minutes", self.light_sleep_minutes);
        let rem = minutes(&mut check, "rem_sleep_minutes", self.rem_sleep_minutes);
        let awake = minutes(&mut check, "awake_minutes", self.awake_minutes);
        let quality = match self.quality_score {
            None => Some(None),
            Some(score) => match SleepQuality::parse(score) {
                Some(quality) => Some(Some(quality)),
                None => check.fail(
                    "quality_score",
                    "out_of_range",
                    "`quality_score` must be between 0 and 10",
                ),
            },
        };
        let source = check.source(self.source);
        let (start, end) = (start?, end?);
        if end <= start {
            return check.fail(
                "sleep_end",
                "end_before_start",
                "`sleep_end` must be after `sleep_start`",
            );
        }
        let length = end - start;
        if length > Duration::hours(24) {
            return check.fail("sleep_end", "too_long", "a sleep session lasts at most 24 hours");
        }
        let length = length.num_minutes();
        if let Some(date) = date? {
            if !sleep_dates(start, end, context.time_zone).contains(&date) {
                return check.fail(
                    "date",
                    "date_mismatch",
                    format!(
                        "`date` {date} is neither the date `sleep_start` or `sleep_end` falls on nor the night's \
                         date (in UTC or the account's time zone)"
                    ),
                );
            }
        }
        let (duration, deep, light, rem, awake) = (duration?, deep?, light?, rem?, awake?);
        // One minute of slack, here and below, for totals that devices round up.
        if let Some(asleep) = duration.map(i64::from) {
            if asleep > length + 1 {
                return check.fail(
                    "duration_minutes",
                    "duration_exceeds_session",
                    format!("`duration_minutes` is {asleep}, more than the session's {length} minutes"),
                );
            }
            if let Some(awake) = awake.map(i64::from) {
                if asleep + awake > length + 1 {
                    return check.fail(
                        "duration_minutes",
                        "inconsistent_duration",
                        format!(
                            "`duration_minutes` ({asleep}) and `awake_minutes` ({awake}) add up to more than the \
                             session's {length} minutes"
                        ),
                    );
                }
            }
        }
        // Minutes asleep are counted as the session's length minus its awake minutes (`local_day`), so the total
        // sleep a client names is kept as the awake minutes it implies (at least those it sent).
        let implied_awake = duration.map(|asleep| (length - i64::from(asleep)).max(0) as i32);
        let awake = match (awake, implied_awake) {
            (Some(sent), Some(implied)) => Some(sent.max(implied)),
            (sent, implied) => sent.or(implied),
        };
        let staged: i64 = [deep, light, rem, awake].iter().flatten().map(|m| i64::from(*m)).sum();
        if staged > length + 1 {
            return check.fail(
                "deep_sleep_minutes",
                "stages_exceed_duration",
                format!("the stage minutes add up to {staged}, more than the session's {length} minutes"),
            );
        }
        Some(SleepRecord {
            start_time: start,
            end_time: end,
            source: source?,
            deep_minutes: deep,
            light_minutes: light,
            rem_minutes: rem,
            awake_minutes: awake,
            quality: quality?,
        })
    }

    fn needs_time_zone(&self) -> bool {
        self.date.is_some()
    }
}

impl Validate for ActivityInput {
    type Record = ActivityRecord;

    fn validate(self, context: Context, errors: &mut Vec<FieldError>) -> Option<ActivityRecord> {
        let mut check = Checker { context, errors };
        let start = check.timestamp("timestamp", self.timestamp);
        let activity_type = match check.required("activity_type", self.activity_type) {
            Some(raw) => checked(check.text("activity_type", Some(raw), 64)).flatten(),
            None => None,
        };
        let duration = check.required("duration_minutes", self.duration_minutes);
        let duration = checked(check.number("duration_minutes", duration, 0, rules::MAX_MINUTES)).flatten();
        let intensity = match self.intensity {
            None => Some(None),
            Some(raw) => match Intensity::parse(&raw) {
                Some(intensity) => Some(Some(intensity)),
                None => check.fail(
                    "intensity",
                    "invalid_choice",
                    format!(
                        "`intensity` must be one of light, moderate, vigorous (or low, high), not `{}`",
                        super::echo(&raw)
                    ),
                ),
            },
        };
        let calories = checked(check.number("calories_burned", self.calories_burned, 0.0, 20_000.0));
        let steps = checked(check.number("steps", self.steps, 0, 200_000));
        let heart_rate = checked(check.number("heart_rate_avg", self.heart_rate_avg, 20, 250));
        let source = check.source(self.source);
        Some(ActivityRecord {
            start_time: start?,
            activity_type: activity_type?,
            source: source?,
            duration_minutes: duration? as i32,
            intensity: intensity?,
            calories: calories?,
            steps: steps?.map(|s| s as i32),
            avg_heart_rate: heart_rate?.map(|h| h as i16),
        })
    }
}

impl Validate for MealInput {
    type Record = MealRecord;

    fn validate(self, context: Context, errors: &mut Vec<FieldError>) -> Option<MealRecord> {
        let mut check = Checker { context, errors };
        let eaten_at = check.timestamp("timestamp", self.timestamp);
        let meal_type = checked(check.choice("meal_type", self.meal_type, &MealType::ALL, MealType::as_str));
        let carbs = check.required("carbs_grams", self.carbs_grams);
        let carbs = checked(check.number("carbs_grams", carbs, 0.0, rules::MAX_MEAL_GRAMS)).flatten();
        let mut grams = |field, value| checked(check.number(field, value, 0.0, rules::MAX_MEAL_GRAMS));
        let (protein, fat, fiber) = (
            grams("protein_grams", self.protein_grams),
            grams("fat_grams", self.fat_grams),
            grams("fiber_grams", self.fiber_grams),
        );
        let calories = checked(check.number("calories", self.calories, 0.0, 20_000.0));
        let glycemic_load = checked(check.number("glycemic_load", self.glycemic_load, 0.0, 1000.0));
        let description = checked(check.text("description", self.description, 500));
        let photo_url = checked(check.https_url("photo_url", self.photo_url, 500));
        let source = check.source(self.source);
        Some(MealRecord {
            eaten_at: eaten_at?,
            source: source?,
            meal_type: meal_type?,
            carbs_g: carbs?,
            protein_g: protein?,
            fat_g: fat?,
            fiber_g: fiber?,
            calories: calories?,
            glycemic_load: glycemic_load?,
            description: description?,
            photo_url: photo_url?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn context() -> Context {
        Context {
            now: Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap(),
            default_source: "api",
            time_zone: None,
        }
    }

    fn reading(timestamp: &str, value: f64) -> GlucoseReadingInput {
        GlucoseReadingInput {
            timestamp: Some(Parsed::read(timestamp)),
            value: Some(value),
            unit: None,
            source: None,
            trend: None,
            device_id: None,
        }
    }

    fn sleep(start: &str, end: &str) -> SleepInput {
        SleepInput {
            date: None,
            sleep_start: Some(Parsed::read(start)),
            sleep_end: Some(Parsed::read(end)),
            duration_minutes: None,
            deep_sleep_minutes: None,
            rem_sleep_minutes: None,
            light_sleep_minutes: None,
            awake_minutes: None,
            quality_score: None,
            source: None,
        }
    }

    fn activity(intensity: &str) -> ActivityInput {
        ActivityInput {
            timestamp: Some(Parsed::read("2025-06-01T08:00:00Z")),
            activity_type: Some("running".into()),
            duration_minutes: Some(30),
            intensity: Some(intensity.into()),
            calories_burned: None,
            steps: None,
            heart_rate_avg: None,
            source: None,
        }
    }

    fn meal(timestamp: &str, carbs: f64) -> MealInput {
        MealInput {
            timestamp: Some(Parsed::read(timestamp)),
            meal_type: None,
            carbs_grams: Some(carbs),
            protein_grams: None,
            fat_grams: None,
            fiber_grams: None,
            calories: None,
            glycemic_load: None,
            description: None,
            photo_url: None,
            source: None,
        }
    }

    /// The `(field, code)` pairs of an item's errors.
    fn problems<I: Validate>(input: I, context: Context) -> Vec<(String, &'static str)> {
        validate_one(input, context)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn a_clean_batch_becomes_records_with_defaults() {
        let mut errors = Vec::new();
        let records = validate_batch(
            "readings",
            vec![
                reading("2025-06-01T08:00:00+02:00", 120.0),
                reading("2025-06-01T06:05:00Z", 99.94),
            ],
            context(),
            &mut errors,
        );
        assert!(errors.is_empty());
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].time, Utc.with_ymd_and_hms(2025, 6, 1, 6, 0, 0).unwrap());
        assert_eq!((records[1].value.get(), records[1].source.as_str()), (99.9, "api"));
    }

    #[test]
    fn every_bad_item_is_located_and_no_record_survives() {
        let mut errors = Vec::new();
        let records = validate_batch(
            "readings",
            vec![
                reading("2025-06-01T08:00:00Z", 120.0),
                reading("2025-06-01T08:05:00", 700.0),
                reading("2025-06-01T08:10:00Z", 130.0),
                GlucoseReadingInput {
                    value: None,
                    ..reading("2025-06-01T08:15:00Z", 0.0)
                },
            ],
            context(),
            &mut errors,
        );
        assert!(records.is_empty());
        let located: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.index, e.code)).collect();
        assert_eq!(
            located,
            [
                ("readings[1].timestamp", Some(1), "invalid_timestamp"),
                ("readings[1].value", Some(1), "out_of_range"),
                ("readings[3].value", Some(3), "required"),
            ]
        );
    }

    #[test]
    fn the_future_is_tolerated_only_for_clock_drift() {
        let drifted = validate_one(reading("2025-06-01T12:04:00Z", 100.0), context());
        assert!(drifted.is_ok());
        let ahead = validate_one(reading("2025-06-01T12:06:00Z", 100.0), context()).unwrap_err();
        assert_eq!(ahead[0].code, "in_future");
    }

    #[test]
    fn nul_in_any_text_field_is_invalid_text() {
        let with = |source: Option<&str>, trend: Option<&str>, device: Option<&str>| GlucoseReadingInput {
            source: source.map(str::to_owned),
            trend: trend.map(str::to_owned),
            device_id: device.map(str::to_owned),
            ..reading("2025-06-01T08:00:00Z", 100.0)
        };
        for (input, field) in [
            (with(Some("a\0"), None, None), "source"),
            (with(None, Some("\0"), None), "trend"),
            (with(None, None, Some("G7\0")), "device_id"),
        ] {
            let errors = validate_one(input, context()).unwrap_err();
            assert_eq!((errors[0].field.as_str(), errors[0].code), (field, "invalid_text"));
        }
        let meal = MealInput {
            description: Some("pasta\0".into()),
            ..meal("2025-06-01T08:00:00Z", 10.0)
        };
        let mut errors = Vec::new();
        assert!(validate_batch("meals", vec![meal], context(), &mut errors).is_empty());
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code),
            ("meals[0].description", "invalid_text")
        );
    }

    #[test]
    fn identical_repeats_collapse_and_conflicting_ones_name_both_indices() {
        let mut errors = Vec::new();
        let records = validate_batch(
            "readings",
            vec![
                reading("2025-06-01T08:00:00Z", 120.0),
                reading("2025-06-01T08:05:00Z", 121.0),
                reading("2025-06-01T09:00:00+01:00", 120.0),
            ],
            context(),
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(records.len(), 2);
        let records = validate_batch(
            "readings",
            vec![
                reading("2025-06-01T08:00:00Z", 120.0),
                reading("2025-06-01T08:05:00Z", 121.0),
                reading("2025-06-01T08:10:00Z", 122.0),
                reading("2025-06-01T09:00:00+01:00", 130.0),
            ],
            context(),
            &mut errors,
        );
        assert!(records.is_empty());
        assert_eq!(
            (errors[0].field.as_str(), errors[0].index, errors[0].code),
            ("readings[3].timestamp", Some(3), "duplicate_key")
        );
        assert!(errors[0].reason.contains("item 0"), "{}", errors[0].reason);
        // Another source is another key.
        let mut errors = Vec::new();
        let other_source = GlucoseReadingInput {
            source: Some("libre".into()),
            ..reading("2025-06-01T08:00:00Z", 130.0)
        };
        let records = validate_batch(
            "readings",
            vec![reading("2025-06-01T08:00:00Z", 120.0), other_source],
            context(),
            &mut errors,
        );
        assert_eq!((records.len(), errors.len()), (2, 0));
    }

    #[test]
    fn leap_seconds_and_out_of_range_instants_are_refused() {
        let codes = |t: &str| {
            validate_one(reading(t, 100.0), context())
                .unwrap_err()
                .iter()
                .map(|e| e.code)
                .collect::<Vec<_>>()
        };
        assert_eq!(codes("2016-12-31T23:59:60Z"), ["leap_second"]);
        assert_eq!(codes("1999-12-31T23:59:59Z"), ["too_early"]);
        assert_eq!(codes("0001-01-01T00:00:00Z"), ["too_early"]);
        assert_eq!(codes("9999-12-31T23:59:59Z"), ["in_future"]);
        assert!(validate_one(reading("2000-01-01T00:00:00Z", 100.0), context()).is_ok());
    }

    #[test]
    fn batch_size_is_bounded() {
        assert!(check_batch_size("readings", MAX_BATCH_ITEMS).is_ok());
        assert_eq!(
            check_batch_size("readings", MAX_BATCH_ITEMS + 1).unwrap_err().code,
            "batch_too_large"
        );
    }

    #[test]
    fn sleep_stage_totals_may_exceed_the_session_by_one_minute_only() {
        let night = |awake| SleepInput {
            deep_sleep_minutes: Some(30),
            light_sleep_minutes: Some(30),
            awake_minutes: Some(awake),
            ..sleep("2025-06-01T00:00:00Z", "2025-06-01T01:00:00Z")
        };
        assert!(validate_one(night(1), context()).is_ok());
        assert_eq!(
            validate_one(night(2), context()).unwrap_err()[0].code,
            "stages_exceed_duration"
        );
    }

    #[test]
    fn the_design_names_and_the_earlier_aliases_read_the_same_session() {
        let design: SleepInput = serde_json::from_value(serde_json::json!({
            "date": "2025-01-14", "sleep_start": "2025-01-14T23:00:00Z", "sleep_end": "2025-01-15T07:00:00Z",
            "duration_minutes": 480, "deep_sleep_minutes": 120, "quality_score": 8.5, "source": "apple_watch"
        }))
        .unwrap();
        let record = validate_one(design, context()).unwrap();
        assert_eq!(
            (
                record.deep_minutes,
                record.awake_minutes,
                record.quality.map(SleepQuality::get)
            ),
            (Some(120), Some(0), Some(8.5))
        );
        let aliases: SleepInput = serde_json::from_value(serde_json::json!({
            "start_time": "2025-01-14T23:00:00Z", "end_time": "2025-01-15T07:00:00Z", "deep_minutes": 120,
            "light_minutes": 200, "rem_minutes": 100, "awake_minutes": 0, "quality": 8.5, "source": "apple_watch"
        }))
        .unwrap();
        let aliased = validate_one(aliases, context()).unwrap();
        assert_eq!(
            (aliased.start_time, aliased.quality),
            (record.start_time, record.quality)
        );
        assert_eq!((aliased.light_minutes, aliased.rem_minutes), (Some(200), Some(100)));
        // One field under both names is ambiguous: the body is refused.
        let both = serde_json::from_value::<SleepInput>(serde_json::json!({
            "sleep_start": "2025-01-14T23:00:00Z", "start_time": "2025-01-14T22:00:00Z"
        }));
        assert!(both.is_err());
        let meal: MealInput = serde_json::from_value(serde_json::json!({
            "timestamp": "2025-06-01T08:00:00Z", "carbs_g": 40, "protein_grams": 12, "fat_g": 3, "fiber_grams": 2
        }))
        .unwrap();
        let meal = validate_one(meal, context()).unwrap();
        assert_eq!(
            (meal.carbs_g, meal.protein_g, meal.fat_g, meal.fiber_g),
            (40.0, Some(12.0), Some(3.0), Some(2.0))
        );
        let activity: ActivityInput = serde_json::from_value(serde_json::json!({
            "start_time": "2025-06-01T08:00:00Z", "activity_type": "walking", "duration_minutes": 20,
            "calories": 90, "heart_rate_avg": 100
        }))
        .unwrap();
        let activity = validate_one(activity, context()).unwrap();
        assert_eq!((activity.calories, activity.avg_heart_rate), (Some(90.0), Some(100)));
        let reading: GlucoseReadingInput = serde_json::from_value(serde_json::json!({
            "timestamp": "2025-06-01T08:00:00Z", "value": 100, "device": "G7"
        }))
        .unwrap();
        assert_eq!(validate_one(reading, context()).unwrap().device.as_deref(), Some("G7"));
    }

    #[test]
    fn errors_name_the_design_fields() {
        let night = SleepInput {
            quality_score: Some(11.0),
            deep_sleep_minutes: Some(-1),
            ..sleep("2025-06-01T07:00:00Z", "2025-06-01T06:00:00Z")
        };
        assert_eq!(
            problems(night, context()),
            [
                ("deep_sleep_minutes".to_owned(), "out_of_range"),
                ("quality_score".to_owned(), "out_of_range"),
                ("sleep_end".to_owned(), "end_before_start"),
            ]
        );
        let missing = SleepInput {
            sleep_start: None,
            ..sleep("2025-06-01T07:00:00Z", "2025-06-01T06:00:00Z")
        };
        let errors = validate_one(missing, context()).unwrap_err();
        assert_eq!((errors[0].field.as_str(), errors[0].code), ("sleep_start", "required"));
        assert_eq!(errors[0].reason, "`sleep_start` is required");
        let meal = MealInput {
            carbs_grams: None,
            fat_grams: Some(-2.0),
            ..meal("2025-06-01T08:00:00Z", 0.0)
        };
        assert_eq!(
            problems(meal, context()),
            [
                ("carbs_grams".to_owned(), "required"),
                ("fat_grams".to_owned(), "out_of_range")
            ]
        );
        let activity = ActivityInput {
            timestamp: None,
            calories_burned: Some(-1.0),
            heart_rate_avg: Some(300),
            ..activity("moderate")
        };
        assert_eq!(
            problems(activity, context()),
            [
                ("timestamp".to_owned(), "required"),
                ("calories_burned".to_owned(), "out_of_range"),
                ("heart_rate_avg".to_owned(), "out_of_range"),
            ]
        );
        let mut errors = Vec::new();
        let nights = vec![
            sleep("2025-06-01T00:00:00Z", "2025-06-01T06:00:00Z"),
            SleepInput {
                awake_minutes: Some(5),
                ..sleep("2025-06-01T00:00:00Z", "2025-06-01T06:00:00Z")
            },
        ];
        assert!(validate_batch("sleep_sessions", nights, context(), &mut errors).is_empty());
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code),
            ("sleep_sessions[1].sleep_start", "duplicate_key")
        );
    }

    #[test]
    fn a_sleep_date_must_be_a_date_the_night_falls_on() {
        let dated = |date: &str, start: &str, end: &str| SleepInput {
            date: Some(Parsed::read(date)),
            ..sleep(start, end)
        };
        let (start, end) = ("2025-01-14T23:00:00Z", "2025-01-15T07:00:00Z");
        // The UTC dates of its start and end.
        for date in ["2025-01-14", "2025-01-15"] {
            assert!(validate_one(dated(date, start, end), context()).is_ok(), "{date}");
        }
        for date in ["2025-01-13", "2025-01-16"] {
            assert_eq!(
                problems(dated(date, start, end), context()),
                [("date".to_owned(), "date_mismatch")],
                "{date}"
            );
        }
        assert_eq!(
            problems(dated("2025-02-30", start, end), context()),
            [("date".to_owned(), "invalid_date")]
        );
        assert!(dated("2025-01-14", start, end).needs_time_zone());
        assert!(!sleep(start, end).needs_time_zone());
        // 23:00 to 07:00 in Los Angeles is 07:00Z to 15:00Z on the 15th: the evening's local date, the 14th, is
        // accepted once the account's zone is known.
        let (start, end) = ("2025-01-15T07:00:00Z", "2025-01-15T15:00:00Z");
        let los_angeles = Context {
            time_zone: Some(UserTimeZone::parse("America/Los_Angeles").unwrap()),
            ..context()
        };
        assert_eq!(
            problems(dated("2025-01-14", start, end), context()),
            [("date".to_owned(), "date_mismatch")]
        );
        assert!(validate_one(dated("2025-01-14", start, end), los_angeles).is_ok());
        assert!(validate_one(dated("2025-01-15", start, end), los_angeles).is_ok());
        // A night begun after local midnight belongs to the evening before (the night's day).
        let paris = Context {
            time_zone: Some(UserTimeZone::parse("Europe/Paris").unwrap()),
            ..context()
        };
        let (start, end) = ("2025-01-15T00:30:00+01:00", "2025-01-15T08:00:00+01:00");
        assert!(validate_one(dated("2025-01-14", start, end), paris).is_ok());
        assert!(validate_one(dated("2025-01-15", start, end), paris).is_ok());
        assert_eq!(
            problems(dated("2025-01-13", start, end), paris),
            [("date".to_owned(), "date_mismatch")]
        );
    }

    #[test]
    fn duration_minutes_is_total_sleep_and_sets_the_awake_minutes() {
        let night = |duration: i64, awake: Option<i64>| SleepInput {
            duration_minutes: Some(duration),
            awake_minutes: awake,
            ..sleep("2025-06-01T00:00:00Z", "2025-06-01T08:00:00Z")
        };
        let awake = |input: SleepInput| validate_one(input, context()).unwrap().awake_minutes;
        assert_eq!(awake(night(480, None)), Some(0));
        assert_eq!(awake(night(450, None)), Some(30));
        assert_eq!(awake(night(481, None)), Some(0), "one minute of slack");
        assert_eq!(awake(night(450, Some(30))), Some(30));
        assert_eq!(awake(night(450, Some(31))), Some(31), "one minute of slack");
        assert_eq!(awake(sleep("2025-06-01T00:00:00Z", "2025-06-01T08:00:00Z")), None);
        assert_eq!(
            problems(night(482, None), context()),
            [("duration_minutes".to_owned(), "duration_exceeds_session")]
        );
        assert_eq!(
            problems(night(1441, None), context()),
            [("duration_minutes".to_owned(), "out_of_range")]
        );
        assert_eq!(
            problems(night(-1, None), context()),
            [("duration_minutes".to_owned(), "out_of_range")]
        );
        // Time neither asleep nor reported awake (falling asleep) counts as awake, so 450 minutes asleep stay 450.
        assert_eq!(awake(night(450, Some(10))), Some(30));
        assert_eq!(
            problems(night(450, Some(32)), context()),
            [("duration_minutes".to_owned(), "inconsistent_duration")]
        );
        // Stages cannot hold more sleep than the total: 300 asleep leaves 180 awake, and 400 staged minutes
        // more do not fit the 480-minute session.
        let overfull = SleepInput {
            deep_sleep_minutes: Some(200),
            light_sleep_minutes: Some(200),
            ..night(300, None)
        };
        assert_eq!(
            problems(overfull, context()),
            [("deep_sleep_minutes".to_owned(), "stages_exceed_duration")]
        );
    }

    #[test]
    fn quality_score_keeps_one_decimal_within_zero_to_ten() {
        let scored = |score| SleepInput {
            quality_score: Some(score),
            ..sleep("2025-06-01T00:00:00Z", "2025-06-01T08:00:00Z")
        };
        let quality = |score| validate_one(scored(score), context()).unwrap().quality.unwrap();
        assert_eq!((quality(8.5).get(), quality(8.5).tenths()), (8.5, 85));
        assert_eq!(quality(7.25).tenths(), 73, "rounded to 0.1");
        assert_eq!((quality(0.0).get(), quality(10.0).get()), (0.0, 10.0));
        for score in [10.01, -0.01, 11.0] {
            assert_eq!(
                problems(scored(score), context()),
                [("quality_score".to_owned(), "out_of_range")],
                "{score}"
            );
        }
    }

    #[test]
    fn intensity_takes_the_design_spelling_and_the_stored_one() {
        let intensity = |raw| validate_one(activity(raw), context()).unwrap().intensity;
        assert_eq!(intensity("light"), Some(Intensity::Low));
        assert_eq!(intensity("low"), Some(Intensity::Low));
        assert_eq!(intensity("moderate"), Some(Intensity::Moderate));
        assert_eq!(intensity("vigorous"), Some(Intensity::High));
        assert_eq!(intensity("high"), Some(Intensity::High));
        for raw in ["extreme", "Light", ""] {
            assert_eq!(
                problems(activity(raw), context()),
                [("intensity".to_owned(), "invalid_choice")],
                "{raw}"
            );
        }
    }

    #[test]
    fn a_photo_url_is_checked_and_kept() {
        let with_photo = |url: &str| MealInput {
            photo_url: Some(url.into()),
            ..meal("2025-06-01T08:00:00Z", 30.0)
        };
        let stored = validate_one(with_photo("https://example.com/meals/1.jpg"), context()).unwrap();
        assert_eq!(stored.photo_url.as_deref(), Some("https://example.com/meals/1.jpg"));
        assert!(validate_one(with_photo("HTTPS://example.com"), context()).is_ok());
        for bad in [
            "http://example.com/a.jpg",
            "https://",
            "https:///a.jpg",
            "https://a b.com/",
            "photo.jpg",
        ] {
            assert_eq!(
                problems(with_photo(bad), context()),
                [("photo_url".to_owned(), "invalid_url")],
                "{bad}"
            );
        }
        let long = format!("https://example.com/{}", "a".repeat(481));
        assert_eq!(
            problems(with_photo(&long), context()),
            [("photo_url".to_owned(), "too_long")]
        );
        let longest = format!("https://example.com/{}", "a".repeat(480));
        assert!(validate_one(with_photo(&longest), context()).is_ok());
    }
}

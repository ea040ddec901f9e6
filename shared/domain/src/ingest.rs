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
//! **Duplicate natural keys within one batch** (glucose `(timestamp, source)`, sleep `(start_time, source)`,
//! activity `(start_time, activity_type, source)`, meal `(timestamp, source)`; instants compared as stored, to the
//! microsecond): an item identical to an earlier one is collapsed into it (as if it had been re-sent); an item
//! with the same key but other values is refused with `duplicate_key` on its key field (e.g.
//! `readings[7].timestamp`, reason naming index 3), since either choice would silently lose data.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Deserializer};

use super::records::{ActivityRecord, GlucoseRecord, Intensity, MealRecord, MealType, SleepRecord};
use super::{parse_timestamp, rules, FieldError, GlucoseUnit, MgDl};

/// Most items one request may carry (90 days of 5-minute readings is 25,920; 1-minute data for a month fits).
pub const MAX_BATCH_ITEMS: usize = 50_000;

/// Clocks drift: timestamps up to this far ahead of the server's clock are accepted (the shared rule).
pub use rules::FUTURE_TOLERANCE;

/// What validation needs besides the input: the server's clock and the source recorded when an item names none
/// (e.g. `api`, or `apple_health` for the Apple Health sync).
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub now: DateTime<Utc>,
    pub default_source: &'static str,
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

/// One glucose reading as clients send it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"timestamp": "2025-01-01T07:30:00+01:00", "value": 142, "unit": "mg/dL",
    "source": "dexcom", "trend": "flat", "device": "G7"}))]
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
    /// At most 128 characters.
    pub device: Option<String>,
}

/// One sleep session. Natural key `(start_time, source)`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"start_time": "2025-01-01T23:10:00+01:00", "end_time": "2025-01-02T07:05:00+01:00",
    "deep_minutes": 85, "light_minutes": 250, "rem_minutes": 100, "awake_minutes": 40, "quality": 7,
    "source": "oura"}))]
pub struct SleepInput {
    #[schema(required = true, value_type = String, format = DateTime)]
    pub start_time: Option<Parsed<DateTime<Utc>>>,
    /// After `start_time`, at most 24 hours later.
    #[schema(required = true, value_type = String, format = DateTime)]
    pub end_time: Option<Parsed<DateTime<Utc>>>,
    /// Stage minutes: each 0–1440; together at most the session's length.
    pub deep_minutes: Option<i64>,
    pub light_minutes: Option<i64>,
    pub rem_minutes: Option<i64>,
    pub awake_minutes: Option<i64>,
    /// 0–10.
    pub quality: Option<i64>,
    pub source: Option<String>,
}

/// One exercise session. Natural key `(start_time, activity_type, source)`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"start_time": "2025-01-01T18:00:00+01:00", "activity_type": "running",
    "duration_minutes": 45, "intensity": "moderate", "calories": 420, "steps": 6100, "avg_heart_rate": 148,
    "source": "garmin"}))]
pub struct ActivityInput {
    #[schema(required = true, value_type = String, format = DateTime)]
    pub start_time: Option<Parsed<DateTime<Utc>>>,
    /// 1–64 characters, e.g. `running`, `walking`, `cycling`.
    #[schema(required = true)]
    pub activity_type: Option<String>,
    /// 0–1440.
    #[schema(required = true)]
    pub duration_minutes: Option<i64>,
    /// `low`, `moderate` or `high`.
    pub intensity: Option<String>,
    /// 0–20000 kcal.
    pub calories: Option<f64>,
    /// 0–200000.
    pub steps: Option<i64>,
    /// 20–250 bpm.
    pub avg_heart_rate: Option<i64>,
    pub source: Option<String>,
}

/// One meal. Natural key `(timestamp, source)`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"timestamp": "2025-01-01T12:30:00+01:00", "meal_type": "lunch", "carbs_g": 65,
    "protein_g": 30, "fat_g": 20, "fiber_g": 8, "calories": 560, "glycemic_load": 22,
    "description": "pasta with salad", "source": "myfitnesspal"}))]
pub struct MealInput {
    #[schema(required = true, value_type = String, format = DateTime)]
    pub timestamp: Option<Parsed<DateTime<Utc>>>,
    /// `breakfast`, `lunch`, `dinner`, `snack` or `other`.
    pub meal_type: Option<String>,
    /// 0–2000 g.
    #[schema(required = true)]
    pub carbs_g: Option<f64>,
    /// 0–2000 g each.
    pub protein_g: Option<f64>,
    pub fat_g: Option<f64>,
    pub fiber_g: Option<f64>,
    /// 0–20000 kcal.
    pub calories: Option<f64>,
    /// 0–1000.
    pub glycemic_load: Option<f64>,
    /// At most 500 characters.
    pub description: Option<String>,
    pub source: Option<String>,
}

/// An input that validates into a record, reporting problems under plain field names (`value`, `end_time`).
pub trait Validate {
    type Record;
    /// The record, or `None` after pushing at least one error to `errors`.
    fn validate(self, context: Context, errors: &mut Vec<FieldError>) -> Option<Self::Record>;
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
    const KEY_FIELD: &'static str = "start_time";
    fn natural_key(&self) -> (i64, &str, &str) {
        (self.start_time.timestamp_micros(), &self.source, "")
    }
}

impl NaturalKey for ActivityRecord {
    const KEY_FIELD: &'static str = "start_time";
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
        let device = checked(check.text("device", self.device, 128));
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

impl Validate for SleepInput {
    type Record = SleepRecord;

    fn validate(self, context: Context, errors: &mut Vec<FieldError>) -> Option<SleepRecord> {
        let mut check = Checker { context, errors };
        let start = check.timestamp("start_time", self.start_time);
        let end = check.timestamp("end_time", self.end_time);
        let minutes = |check: &mut Checker, field, value| {
            checked(check.number(field, value, 0, 1440)).map(|m| m.map(|m| m as i32))
        };
        let deep = minutes(&mut check, "deep_minutes", self.deep_minutes);
        let light = minutes(&mut check, "light_minutes", self.light_minutes);
        let rem = minutes(&mut check, "rem_minutes", self.rem_minutes);
        let awake = minutes(&mut check, "awake_minutes", self.awake_minutes);
        let quality = checked(check.number("quality", self.quality, 0, 10)).map(|q| q.map(|q| q as i16));
        let source = check.source(self.source);
        let (start, end) = (start?, end?);
        if end <= start {
            return check.fail("end_time", "end_before_start", "`end_time` must be after `start_time`");
        }
        let length = end - start;
        if length > Duration::hours(24) {
            return check.fail("end_time", "too_long", "a sleep session lasts at most 24 hours");
        }
        let (deep, light, rem, awake) = (deep?, light?, rem?, awake?);
        let staged: i64 = [deep, light, rem, awake].iter().flatten().map(|m| i64::from(*m)).sum();
        // One minute of slack for stage totals that devices round up.
        if staged > length.num_minutes() + 1 {
            return check.fail(
                "deep_minutes",
                "stages_exceed_duration",
                format!(
                    "the stage minutes add up to {staged}, more than the session's {} minutes",
                    length.num_minutes()
                ),
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
}

impl Validate for ActivityInput {
    type Record = ActivityRecord;

    fn validate(self, context: Context, errors: &mut Vec<FieldError>) -> Option<ActivityRecord> {
        let mut check = Checker { context, errors };
        let start = check.timestamp("start_time", self.start_time);
        let activity_type = match check.required("activity_type", self.activity_type) {
            Some(raw) => checked(check.text("activity_type", Some(raw), 64)).flatten(),
            None => None,
        };
        let duration = check.required("duration_minutes", self.duration_minutes);
        let duration = checked(check.number("duration_minutes", duration, 0, 1440)).flatten();
        let intensity = checked(check.choice("intensity", self.intensity, &Intensity::ALL, Intensity::as_str));
        let calories = checked(check.number("calories", self.calories, 0.0, 20_000.0));
        let steps = checked(check.number("steps", self.steps, 0, 200_000));
        let heart_rate = checked(check.number("avg_heart_rate", self.avg_heart_rate, 20, 250));
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
        let carbs = check.required("carbs_g", self.carbs_g);
        let carbs = checked(check.number("carbs_g", carbs, 0.0, 2000.0)).flatten();
        let mut grams = |field, value| checked(check.number(field, value, 0.0, 2000.0));
        let (protein, fat, fiber) = (
            grams("protein_g", self.protein_g),
            grams("fat_g", self.fat_g),
            grams("fiber_g", self.fiber_g),
        );
        let calories = checked(check.number("calories", self.calories, 0.0, 20_000.0));
        let glycemic_load = checked(check.number("glycemic_load", self.glycemic_load, 0.0, 1000.0));
        let description = checked(check.text("description", self.description, 500));
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
        }
    }

    fn reading(timestamp: &str, value: f64) -> GlucoseReadingInput {
        GlucoseReadingInput {
            timestamp: Some(Parsed::read(timestamp)),
            value: Some(value),
            unit: None,
            source: None,
            trend: None,
            device: None,
        }
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
            device: device.map(str::to_owned),
            ..reading("2025-06-01T08:00:00Z", 100.0)
        };
        for (input, field) in [
            (with(Some("a\0"), None, None), "source"),
            (with(None, Some("\0"), None), "trend"),
            (with(None, None, Some("G7\0")), "device"),
        ] {
            let errors = validate_one(input, context()).unwrap_err();
            assert_eq!((errors[0].field.as_str(), errors[0].code), (field, "invalid_text"));
        }
        let meal = MealInput {
            timestamp: Some(Parsed::read("2025-06-01T08:00:00Z")),
            meal_type: None,
            carbs_g: Some(10.0),
            protein_g: None,
            fat_g: None,
            fiber_g: None,
            calories: None,
            glycemic_load: None,
            description: Some("pasta\0".into()),
            source: None,
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
            start_time: Some(Parsed::read("2025-06-01T00:00:00Z")),
            end_time: Some(Parsed::read("2025-06-01T01:00:00Z")),
            deep_minutes: Some(30),
            light_minutes: Some(30),
            rem_minutes: None,
            awake_minutes: Some(awake),
            quality: None,
            source: None,
        };
        assert!(validate_one(night(1), context()).is_ok());
        assert_eq!(
            validate_one(night(2), context()).unwrap_err()[0].code,
            "stages_exceed_duration"
        );
    }
}

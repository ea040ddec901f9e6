//! Parsers for the exports people already have: Dexcom Clarity CSV, FreeStyle LibreView CSV, Nightscout entries
//! JSON and Apple Health `export.xml`.
//!
//! They emit the domain's records ([`glucolens_domain::records`], wrapped in [`Record`]), built as they are stored:
//! glucose as a range-checked [`MgDl`], grams and calories rounded to 0.1; the caller stores them as they are.
//!
//! Pure: a parser reads from the `BufRead` it is given and hands each record to a callback as soon as it is known,
//! so memory stays bounded whatever the file size (LibreView, whose date order can only be inferred from the whole
//! file, buffers its rows; its files are small). What it could not import, and what it had to adjust (`High` mapped
//! to 400 mg/dL, DST-ambiguous local times), is tallied in [`Findings`] with line numbers. A file that is cut off or
//! malformed is a [`ParseError`]: the caller must then discard everything the parser emitted.
//!
//! Hostile or impossible content, one rule each (the rules themselves are in [`rules`], shared with the API):
//! - a row dated outside the accepted range (2000-01-01 to now + 5 minutes) or at a leap second (`…:60`) is
//!   **skipped and counted** under the range's reason;
//! - a row whose natural key (glucose `(time, source)`, sleep `(start, source)`, activity
//!   `(start, activity_type, source)`, meal `(eaten_at, source)`) an earlier row of the same file already took with
//!   different values is **skipped and counted** under [`DUPLICATE_IN_FILE`]: the first row wins. An identical
//!   repeat is emitted and stored once (like a re-import);
//! - text PostgreSQL cannot store (a NUL character) in a field the parser reads **fails the whole file** with
//!   [`ParseError::UnstorableText`] naming the line (record number in JSON) and the field: such a file is corrupt,
//!   and nothing of it is written. Values quoted in skip reasons and errors are shortened with [`rules::echo`].

pub mod apple_health;
pub mod dexcom;
mod findings;
pub mod libreview;
mod local_time;
pub mod nightscout;
mod table;

// The rules are the domain's (one home for the API, the importers and the aggregation).
use glucolens_domain::rules;

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use chrono::{DateTime, Utc};
use glucolens_domain::records::{ActivityRecord, GlucoseRecord, MealRecord, SleepRecord};
use glucolens_domain::{GlucoseUnit, MgDl};
use serde::{Deserialize, Serialize};

pub use findings::{Findings, Tally};
pub use local_time::{LocalClock, AMBIGUOUS as AMBIGUOUS_LOCAL_TIME, NONEXISTENT as NONEXISTENT_LOCAL_TIME};

/// The file formats an import accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    DexcomClarity,
    Libreview,
    NightscoutEntries,
    AppleHealth,
}

impl Format {
    pub const ALL: [Format; 4] = [
        Format::DexcomClarity,
        Format::Libreview,
        Format::NightscoutEntries,
        Format::AppleHealth,
    ];

    /// The spelling used in URLs, the CLI and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::DexcomClarity => "dexcom_clarity",
            Format::Libreview => "libreview",
            Format::NightscoutEntries => "nightscout_entries",
            Format::AppleHealth => "apple_health",
        }
    }

    pub fn parse(raw: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == raw)
    }

    /// Guesses the format from a file's first bytes (after any BOM): XML is Apple Health, JSON is Nightscout,
    /// CSV mentioning `Record Type` is LibreView, other CSV mentioning `Event Type` (or a localised Dexcom header)
    /// is Dexcom Clarity.
    pub fn sniff(head: &[u8]) -> Option<Format> {
        let text = String::from_utf8_lossy(head);
        let text = text.trim_start_matches(['\u{feff}', ' ', '\n', '\r', '\t']);
        if text.starts_with('<') {
            Some(Format::AppleHealth)
        } else if text.starts_with('[') || text.starts_with('{') {
            Some(Format::NightscoutEntries)
        } else if text.contains("Record Type") {
            Some(Format::Libreview)
        } else if text.contains("Event Type") || text.contains("Glucose Value") || text.contains("Marca temporal") {
            Some(Format::DexcomClarity)
        } else {
            None
        }
    }
}

/// Anything a parser emits: the domain's records, built as they are stored (glucose in [`MgDl`], grams and calories
/// rounded to 0.1 by [`rules::round_tenth`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Glucose(GlucoseRecord),
    Sleep(SleepRecord),
    Activity(ActivityRecord),
    Meal(MealRecord),
}

/// A file that cannot be imported. Whatever the parser emitted before must be discarded.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("this is not a {format} export: {reason}")]
    Unrecognised { format: &'static str, reason: String },
    #[error("line {line}: {reason}; the file looks truncated or corrupted, nothing was imported")]
    Corrupt { line: u64, reason: String },
    #[error("reading the file: {0}")]
    Io(#[from] std::io::Error),
    /// A field holds text PostgreSQL cannot store (a NUL character).
    #[error("line {line}: `{field}` {}; nothing was imported", rules::UNSTORABLE_TEXT)]
    UnstorableText { line: u64, field: String },
    /// The consumer of the records stopped (e.g. its database write failed).
    #[error("the import was stopped")]
    Stopped,
}

/// Where records go. Returning [`ParseError::Stopped`] ends the parse.
pub type Emit<'a> = dyn FnMut(Record) -> Result<(), ParseError> + 'a;

/// Everything a parser needs besides the bytes: the zone that local timestamps without an offset are in, and the
/// server's clock (the end of the accepted time range, see [`rules`]).
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub time_zone: chrono_tz::Tz,
    pub now: DateTime<Utc>,
}

/// The reason later rows that repeat an earlier row's natural key with different values are counted under.
pub const DUPLICATE_IN_FILE: &str =
    "duplicate_in_file: an earlier row has the same time (and type) with other values; the first was kept";

impl Record {
    /// The instants the accepted time range applies to: a sleep session's start and end, the others' start.
    pub fn instants(&self) -> Vec<DateTime<Utc>> {
        match self {
            Record::Glucose(g) => vec![g.time],
            Record::Sleep(s) => vec![s.start_time, s.end_time],
            Record::Activity(a) => vec![a.start_time],
            Record::Meal(m) => vec![m.eaten_at],
        }
    }

    /// A digest of the natural key (kind, instant to the microsecond as stored, source, activity type).
    pub fn natural_key(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        match self {
            Record::Glucose(g) => (0u8, g.time.timestamp_micros(), &g.source).hash(&mut hasher),
            Record::Sleep(s) => (1u8, s.start_time.timestamp_micros(), &s.source).hash(&mut hasher),
            Record::Activity(a) => {
                (2u8, a.start_time.timestamp_micros(), &a.source, &a.activity_type).hash(&mut hasher)
            }
            Record::Meal(m) => (3u8, m.eaten_at.timestamp_micros(), &m.source).hash(&mut hasher),
        }
        hasher.finish()
    }

    /// A digest of every value, to tell an identical repeat from a conflicting one.
    pub fn fingerprint(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        let float = |v: Option<f64>| v.map(f64::to_bits);
        match self {
            Record::Glucose(g) => (
                g.time.timestamp_micros(),
                &g.source,
                g.value.get().to_bits(),
                &g.trend,
                &g.device,
                g.clipped,
            )
                .hash(&mut hasher),
            Record::Sleep(s) => (
                s.start_time.timestamp_micros(),
                s.end_time.timestamp_micros(),
                &s.source,
                (s.deep_minutes, s.light_minutes, s.rem_minutes, s.awake_minutes),
                s.quality,
            )
                .hash(&mut hasher),
            Record::Activity(a) => (
                a.start_time.timestamp_micros(),
                &a.activity_type,
                &a.source,
                a.duration_minutes,
                a.intensity.map(|i| i.as_str()),
                float(a.calories),
                (a.steps, a.avg_heart_rate),
            )
                .hash(&mut hasher),
            Record::Meal(m) => (
                m.eaten_at.timestamp_micros(),
                &m.source,
                m.meal_type.map(|t| t.as_str()),
                m.carbs_g.to_bits(),
                (float(m.protein_g), float(m.fat_g), float(m.fiber_g)),
                (float(m.calories), float(m.glycemic_load)),
                &m.description,
            )
                .hash(&mut hasher),
        }
        hasher.finish()
    }
}

/// Where every parser's records pass on their way out: rows outside the accepted time range and rows that conflict
/// with an earlier row's natural key are counted as skipped instead of emitted. Holds two 8-byte digests per
/// distinct key seen, so memory grows with the file's record count (about 40 bytes per record).
pub(crate) struct Gate {
    now: DateTime<Utc>,
    seen: HashMap<u64, u64>,
}

impl Gate {
    pub(crate) fn new(context: Context) -> Self {
        Self::at(context.now)
    }

    pub(crate) fn at(now: DateTime<Utc>) -> Self {
        Gate {
            now,
            seen: HashMap::new(),
        }
    }

    /// Emits `record` (from `line`) unless it is out of range or conflicts with an earlier row; then it is
    /// counted in `skipped`.
    pub(crate) fn pass(
        &mut self,
        record: Record,
        line: u64,
        skipped: &mut Tally,
        emit: &mut Emit<'_>,
    ) -> Result<(), ParseError> {
        if let Some(problem) = record
            .instants()
            .into_iter()
            .find_map(|t| rules::check_time(t, self.now).err())
        {
            skipped.add(problem.reason(), line);
            return Ok(());
        }
        let fingerprint = record.fingerprint();
        match self.seen.entry(record.natural_key()) {
            std::collections::hash_map::Entry::Occupied(first) if *first.get() != fingerprint => {
                skipped.add(DUPLICATE_IN_FILE, line);
                Ok(())
            }
            std::collections::hash_map::Entry::Occupied(_) => emit(record),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(fingerprint);
                emit(record)
            }
        }
    }
}

/// Parses `reader` as `format`, handing each record to `emit`.
pub fn parse(
    format: Format,
    reader: impl std::io::BufRead,
    context: Context,
    emit: &mut Emit<'_>,
) -> Result<Findings, ParseError> {
    match format {
        Format::DexcomClarity => dexcom::parse(reader, context, emit),
        Format::Libreview => libreview::parse(reader, context, emit),
        Format::NightscoutEntries => nightscout::parse_entries(reader, context, emit),
        Format::AppleHealth => apple_health::parse(reader, context, emit),
    }
}

/// A glucose value (in mmol/L when `mmol`, else mg/dL) as stored, or `None` when outside the storable range: the
/// domain's [`MgDl::parse`] (converted, rounded to 0.1 mg/dL, range-checked).
pub(crate) fn glucose_mg_dl(value: f64, mmol: bool) -> Option<MgDl> {
    let unit = if mmol { GlucoseUnit::MmolL } else { GlucoseUnit::MgDl };
    MgDl::parse("value", value, unit).ok()
}

/// A device's out-of-range marker (`High`, `LO`, ...) mapped to `limit` mg/dL, a constant within the storable range.
pub(crate) fn marker_mg_dl(limit: f64) -> MgDl {
    glucose_mg_dl(limit, false).expect("a sensor's reporting limit is within the storable range")
}

/// A glucose reading as stored.
pub(crate) fn glucose(
    time: DateTime<Utc>,
    source: &str,
    value: MgDl,
    trend: Option<String>,
    device: Option<String>,
    clipped: bool,
) -> Record {
    Record::Glucose(GlucoseRecord {
        time,
        source: source.to_owned(),
        value,
        trend,
        device,
        clipped,
    })
}

/// A sleep session as stored (exports carry no quality score).
pub(crate) fn sleep(
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    source: &str,
    deep_minutes: Option<i32>,
    light_minutes: Option<i32>,
    rem_minutes: Option<i32>,
    awake_minutes: Option<i32>,
) -> Record {
    Record::Sleep(SleepRecord {
        start_time,
        end_time,
        source: source.to_owned(),
        deep_minutes,
        light_minutes,
        rem_minutes,
        awake_minutes,
        quality: None,
    })
}

/// An exercise session as stored: calories rounded to 0.1 (the one place the importers round them).
pub(crate) fn activity(
    start_time: DateTime<Utc>,
    activity_type: String,
    source: &str,
    duration_minutes: i32,
    calories: Option<f64>,
) -> Record {
    Record::Activity(ActivityRecord {
        start_time,
        activity_type,
        source: source.to_owned(),
        duration_minutes,
        intensity: None,
        calories: calories.map(rules::round_tenth),
        steps: None,
        avg_heart_rate: None,
    })
}

/// A meal as stored: grams and calories rounded to 0.1 (the one place the importers round them).
pub(crate) fn meal(
    eaten_at: DateTime<Utc>,
    source: &str,
    carbs_g: f64,
    protein_g: Option<f64>,
    fat_g: Option<f64>,
    calories: Option<f64>,
) -> Record {
    Record::Meal(MealRecord {
        eaten_at,
        source: source.to_owned(),
        meal_type: None,
        carbs_g: rules::round_tenth(carbs_g),
        protein_g: protein_g.map(rules::round_tenth),
        fat_g: fat_g.map(rules::round_tenth),
        fiber_g: None,
        calories: calories.map(rules::round_tenth),
        glycemic_load: None,
        description: None,
        photo_url: None,
    })
}

/// A number as exports write it: `6.3`, or `6,3` in locales with a decimal comma.
pub(crate) fn parse_number(raw: &str) -> Option<f64> {
    let raw = raw.trim();
    raw.parse::<f64>()
        .or_else(|_| raw.replace(',', ".").parse::<f64>())
        .ok()
        .filter(|v| v.is_finite())
}

/// Keeps at most `max` characters (the store's column limits).
pub(crate) fn truncate(raw: &str, max: usize) -> Option<String> {
    let trimmed = raw.trim();
    (!trimmed.is_empty()).then(|| trimmed.chars().take(max).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip_and_sniff() {
        for format in Format::ALL {
            assert_eq!(Format::parse(format.as_str()), Some(format));
        }
        assert_eq!(Format::sniff(b"\xef\xbb\xbf<?xml version"), Some(Format::AppleHealth));
        assert_eq!(Format::sniff(b"[\n {\"sgv\": 1}"), Some(Format::NightscoutEntries));
        assert_eq!(
            Format::sniff(b"Device,Serial Number,Device Timestamp,Record Type"),
            Some(Format::Libreview)
        );
        assert_eq!(
            Format::sniff(b"Index,Timestamp,Event Type"),
            Some(Format::DexcomClarity)
        );
        assert_eq!(Format::sniff(b"hello"), None);
    }

    #[test]
    fn glucose_is_converted_rounded_and_range_checked() {
        assert_eq!(glucose_mg_dl(6.3, true).map(MgDl::get), Some(113.5));
        assert_eq!(glucose_mg_dl(142.0, false).map(MgDl::get), Some(142.0));
        assert_eq!(glucose_mg_dl(19.0, false), None);
        assert_eq!(glucose_mg_dl(601.0, false), None);
        assert_eq!(marker_mg_dl(400.0).get(), 400.0);
        assert_eq!(parse_number("6,3"), Some(6.3));
        assert_eq!(parse_number("NaN"), None);
    }

    #[test]
    fn grams_and_calories_are_rounded_as_stored() {
        let at = DateTime::from_timestamp(1_709_280_000, 0).unwrap();
        let Record::Meal(m) = meal(at, "test", 45.06, Some(12.34), None, Some(520.46)) else {
            unreachable!()
        };
        assert_eq!(
            (m.carbs_g, m.protein_g, m.fat_g, m.calories, m.source.as_str()),
            (45.1, Some(12.3), None, Some(520.5), "test")
        );
        let Record::Activity(a) = activity(at, "running".into(), "test", 30, Some(48.745)) else {
            unreachable!()
        };
        assert_eq!((a.calories, a.intensity, a.steps), (Some(48.7), None, None));
    }
}

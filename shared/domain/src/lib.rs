//! GlucoLens domain: types and rules, no I/O. Belongs here: validated records and their parsers (each newtype can
//! only be built through a parser that checks it, so code that holds one never re-checks it — "parse, don't
//! validate"), units and limits, the one definition of a day ([`local_day`]), the daily aggregate, findings,
//! patterns, tasks and the variables catalogue. Does not belong here: SQL, HTTP, AWS, statistics (those are in
//! `glucolens-analytics`).
//!
//! The rules shared by every way data gets in — the accepted time range (2000-01-01 to now + 5 minutes, no leap
//! seconds), text PostgreSQL can store (no NUL), and how much of a client's value an error may quote — are in
//! [`rules`]; the file importers (`glucolens-importers`) use the same.

pub mod aggregate;
pub mod finding;
pub mod glucose;
pub mod ingest;
pub mod local_day;
pub mod pattern;
pub mod records;
pub mod rules;
pub mod task;
pub mod user;
pub mod variables;

pub use glucose::{GlucoseUnit, MgDl, MG_DL_PER_MMOL_L};
pub use rules::echo;
pub use user::{Email, Password, TargetRange, UserTimeZone};

use serde::Serialize;

/// One reason an input was rejected: which field (a path such as `readings[3].value`), a stable machine-readable
/// code, and a human explanation.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Path of the offending field, e.g. `readings[3].value`.
    pub field: String,
    /// Index of the offending item within a batch, when the field belongs to one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// Stable code, e.g. `out_of_range`, `missing_offset`, `invalid_time_zone`.
    pub code: &'static str,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            index: None,
            code,
            reason: reason.into(),
        }
    }

    /// The same error, located at item `index` of the batch field `batch` (e.g. `readings[3].value`).
    pub fn in_item(mut self, batch: &str, index: usize) -> Self {
        self.field = format!("{batch}[{index}].{}", self.field);
        self.index = Some(index);
        self
    }
}

impl FieldError {
    /// The error for text that cannot be stored (a NUL character), code `invalid_text`.
    pub fn unstorable_text(field: impl Into<String>) -> Self {
        let field = field.into();
        let reason = format!("`{}` {}", echo(&field), rules::UNSTORABLE_TEXT);
        Self::new(field, rules::INVALID_TEXT, reason)
    }
}

/// Parses an RFC 3339 timestamp that carries an explicit offset or `Z`; local times without an offset are ambiguous
/// across time zones and rejected. A leap second (`…23:59:60Z`) is refused (`leap_second`): no CGM emits one, and
/// read as the next second it would collide with a real reading. The quoted value is shortened ([`echo`]).
pub fn parse_timestamp(field: &str, raw: &str) -> Result<chrono::DateTime<chrono::Utc>, FieldError> {
    let time = chrono::DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| {
            FieldError::new(
                field,
                "invalid_timestamp",
                format!(
                    "`{}` is not an RFC 3339 timestamp with an offset or Z (e.g. 2025-01-01T07:30:00+01:00)",
                    echo(raw)
                ),
            )
        })?;
    if rules::is_leap_second(&time) {
        return Err(FieldError::new(
            field,
            rules::TimeProblem::LeapSecond.code(),
            format!("`{}`: {}", echo(raw), rules::TimeProblem::LeapSecond.reason()),
        ));
    }
    Ok(time)
}

/// Longest time range one read of records or episodes may ask for (a quarter): bounds the rows and the work of
/// one request.
pub const MAX_QUERY_DAYS: i64 = 92;

/// A time range `[start, end)` from query parameters: both required (`required_hint` ends the `required` reason,
/// e.g. with what may be sent instead), each a [`parse_timestamp`], `end` after `start` (`invalid_range`) and at
/// most `max_days` later (`range_too_long`). Every problem is pushed to `errors`; the range only when both parse.
pub fn parse_time_range(
    start: Option<&str>,
    end: Option<&str>,
    max_days: i64,
    required_hint: &str,
    errors: &mut Vec<FieldError>,
) -> Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> {
    let mut timestamp = |field: &str, raw: Option<&str>| match raw {
        None => {
            errors.push(FieldError::new(
                field,
                "required",
                format!("`{field}` is required{required_hint}"),
            ));
            None
        }
        Some(raw) => parse_timestamp(field, raw).map_err(|e| errors.push(e)).ok(),
    };
    // Both are parsed before either is required, so a request missing both hears of both.
    let (start, end) = (timestamp("start", start), timestamp("end", end));
    let (start, end) = (start?, end?);
    if end <= start {
        errors.push(FieldError::new("end", "invalid_range", "`end` must be after `start`"));
    } else if end - start > chrono::TimeDelta::days(max_days) {
        errors.push(FieldError::new(
            "end",
            "range_too_long",
            format!("a range spans at most {max_days} days; send longer spans range by range"),
        ));
    }
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_need_an_offset() {
        assert!(parse_timestamp("t", "2025-01-01T07:30:00+01:00").is_ok());
        assert!(parse_timestamp("t", "2025-01-01T07:30:00Z").is_ok());
        let error = parse_timestamp("t", "2025-01-01T07:30:00").unwrap_err();
        assert_eq!(error.code, "invalid_timestamp");
        let located = error.in_item("readings", 3);
        assert_eq!((located.field.as_str(), located.index), ("readings[3].t", Some(3)));
    }

    #[test]
    fn leap_seconds_are_refused_explicitly() {
        assert_eq!(
            parse_timestamp("t", "2016-12-31T23:59:60Z").unwrap_err().code,
            "leap_second"
        );
        assert_eq!(
            parse_timestamp("t", "2017-01-01T00:59:60+01:00").unwrap_err().code,
            "leap_second"
        );
        assert!(parse_timestamp("t", "2016-12-31T23:59:59.999Z").is_ok());
    }

    #[test]
    fn quoted_values_are_shortened() {
        let huge = "9".repeat(100_000);
        let error = parse_timestamp("t", &huge).unwrap_err();
        assert!(error.reason.len() < 200, "{}", error.reason.len());
        assert!(error
            .reason
            .contains(&format!("`{}…`", "9".repeat(rules::ECHO_MAX_CHARS))));
    }
}

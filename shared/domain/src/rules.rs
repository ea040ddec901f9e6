//! The rules every way data gets in shares — the JSON API, the file importers (`glucolens-importers`), the
//! Nightscout API and, as a second line of defence, the aggregation job:
//!
//! - **Accepted time range**: from [`earliest`] (2000-01-01T00:00:00Z) to the server's clock plus
//!   [`FUTURE_TOLERANCE`] (5 minutes of clock drift), both inclusive. Leap seconds (`…23:59:60`) are refused: no
//!   CGM emits them and read as the next second they would collide with a real reading.
//! - **Storable text**: PostgreSQL cannot store the NUL character (U+0000) in `text` or `jsonb`; every other
//!   character a Rust `String` can hold (UTF-8, no lone surrogates) is storable. [`check_text`] is the one check.
//! - **Echoed values**: an error message quotes at most [`ECHO_MAX_CHARS`] characters of a client's value
//!   ([`echo`]), so a 100k-character timestamp is never sent (or stored in an import report) whole.
//! - **Glucose units and limits**: mmol/L converts with [`MG_DL_PER_MMOL_L`]; a value is stored in mg/dL rounded to
//!   0.1 ([`round_mg_dl`]) and accepted from [`GLUCOSE_MIN_MG_DL`] to [`GLUCOSE_MAX_MG_DL`] after rounding
//!   ([`is_storable_mg_dl`]), which in mmol/L with two decimals is [`GLUCOSE_MIN_MMOL_L`] to [`GLUCOSE_MAX_MMOL_L`].
//!   The importers' skip reasons quoting the limits ([`GLUCOSE_UNREADABLE_OR_OUT_OF_RANGE`], [`SGV_OUT_OF_RANGE`])
//!   are defined here too.
//! - **Stored precision of grams and calories**: 0.1 ([`round_tenth`]).
//!
//! They live in the domain, the innermost crate, so the API, the importers and the aggregation cannot disagree.

use chrono::{DateTime, Duration, Timelike, Utc};

/// mg/dL per mmol/L, from the molar mass of glucose (180.156 g/mol). Apple Health writes the same factor
/// (`mmol<180.1558800000541>/L`). Used for every conversion; values are rounded only for storage (0.1 mg/dL) and
/// display.
pub const MG_DL_PER_MMOL_L: f64 = 18.0156;

/// The smallest glucose value meters and CGMs report, in mg/dL (after rounding to 0.1); storage rejects less.
pub const GLUCOSE_MIN_MG_DL: f64 = 20.0;
/// The largest glucose value meters and CGMs report, in mg/dL (after rounding to 0.1); storage rejects more.
pub const GLUCOSE_MAX_MG_DL: f64 = 600.0;
/// The smallest mmol/L value with two decimals that is accepted: 1.11 mmol/L is 19.997 → 20.0 mg/dL, while 1.1 mmol/L
/// is 19.8 mg/dL and refused.
pub const GLUCOSE_MIN_MMOL_L: f64 = 1.11;
/// The largest mmol/L value with two decimals that is accepted (33.3 mmol/L is 599.9 mg/dL).
pub const GLUCOSE_MAX_MMOL_L: f64 = 33.3;

/// Most grams of one nutrient (carbohydrate, protein, fat, fibre) one meal record may hold, from any input.
pub const MAX_MEAL_GRAMS: f64 = 2000.0;
/// Most minutes a sleep stage, an activity or a night's total sleep may last: one day.
pub const MAX_MINUTES: i64 = 1440;

/// A glucose value in mg/dL as it is stored: rounded to 0.1.
pub fn round_mg_dl(mg_dl: f64) -> f64 {
    (mg_dl * 10.0).round() / 10.0
}

/// Grams and calories as they are stored (`numeric(_,1)`): rounded to 0.1.
pub fn round_tenth(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Whether a rounded mg/dL value is within [`GLUCOSE_MIN_MG_DL`]..=[`GLUCOSE_MAX_MG_DL`].
pub fn is_storable_mg_dl(rounded_mg_dl: f64) -> bool {
    (GLUCOSE_MIN_MG_DL..=GLUCOSE_MAX_MG_DL).contains(&rounded_mg_dl)
}

/// The reason an importer skips a glucose row whose value is unreadable or outside
/// [`GLUCOSE_MIN_MG_DL`]..=[`GLUCOSE_MAX_MG_DL`] (import reports and clients match this text).
pub const GLUCOSE_UNREADABLE_OR_OUT_OF_RANGE: &str = "glucose value unreadable or outside 20–600 mg/dL";
/// The reason a Nightscout `sgv` entry outside [`GLUCOSE_MIN_MG_DL`]..=[`GLUCOSE_MAX_MG_DL`] is skipped.
pub const SGV_OUT_OF_RANGE: &str = "sgv outside 20–600 mg/dL";

/// Clocks drift: instants up to this far ahead of the server's clock are accepted.
pub const FUTURE_TOLERANCE: Duration = Duration::minutes(5);

/// The earliest accepted instant, 2000-01-01T00:00:00Z (before any CGM; also the epoch of PostgreSQL's
/// `date_bin` slots).
pub fn earliest() -> DateTime<Utc> {
    DateTime::from_timestamp(946_684_800, 0).expect("2000-01-01 is representable")
}

/// The latest accepted instant when the server's clock reads `now`.
pub fn latest(now: DateTime<Utc>) -> DateTime<Utc> {
    now + FUTURE_TOLERANCE
}

/// Why an instant is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeProblem {
    /// `…:60`, a leap second.
    LeapSecond,
    /// Before [`earliest`].
    TooEarly,
    /// After [`latest`].
    InFuture,
}

impl TimeProblem {
    /// The stable code API errors carry.
    pub fn code(self) -> &'static str {
        match self {
            TimeProblem::LeapSecond => "leap_second",
            TimeProblem::TooEarly => "too_early",
            TimeProblem::InFuture => "in_future",
        }
    }

    /// A human explanation, also the reason rows are counted under in import reports.
    pub fn reason(self) -> &'static str {
        match self {
            TimeProblem::LeapSecond => "leap second (`:60`) timestamps are not accepted",
            TimeProblem::TooEarly => "timestamp before 2000-01-01 is not accepted",
            TimeProblem::InFuture => "timestamp more than 5 minutes after the server's clock is not accepted",
        }
    }
}

/// Whether `time` is a leap second as chrono represents it (`…:59:60`, a nanosecond count of a second or more).
pub fn is_leap_second(time: &impl Timelike) -> bool {
    time.nanosecond() >= 1_000_000_000
}

/// `time` if it is accepted when the server's clock reads `now`.
pub fn check_time(time: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, TimeProblem> {
    if is_leap_second(&time) {
        Err(TimeProblem::LeapSecond)
    } else if time < earliest() {
        Err(TimeProblem::TooEarly)
    } else if time > latest(now) {
        Err(TimeProblem::InFuture)
    } else {
        Ok(time)
    }
}

/// The stable code of text that cannot be stored.
pub const INVALID_TEXT: &str = "invalid_text";

/// Why text cannot be stored.
pub const UNSTORABLE_TEXT: &str = "contains a NUL character (U+0000), which cannot be stored";

/// `Err(UNSTORABLE_TEXT)` when `text` holds a character PostgreSQL cannot store.
pub fn check_text(text: &str) -> Result<(), &'static str> {
    if text.contains('\0') {
        Err(UNSTORABLE_TEXT)
    } else {
        Ok(())
    }
}

/// How many characters of a client's value an error message quotes.
pub const ECHO_MAX_CHARS: usize = 40;

/// `raw` as an error message may quote it: at most [`ECHO_MAX_CHARS`] characters (then `…`), control characters
/// (NUL included, which could not be stored in an import report) replaced by `�`.
pub fn echo(raw: &str) -> String {
    shorten(raw, ECHO_MAX_CHARS)
}

/// [`echo`] with another limit, for messages that embed a value inside a longer explanation (a JSON parser's).
pub fn shorten(raw: &str, max_chars: usize) -> String {
    let mut out: String = raw
        .chars()
        .take(max_chars)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    if raw.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_is_2000_to_five_minutes_ahead() {
        let now = DateTime::parse_from_rfc3339("2025-06-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(check_time(earliest(), now), Ok(earliest()));
        assert_eq!(
            check_time(earliest() - Duration::seconds(1), now),
            Err(TimeProblem::TooEarly)
        );
        assert!(check_time(now + FUTURE_TOLERANCE, now).is_ok());
        assert_eq!(
            check_time(now + FUTURE_TOLERANCE + Duration::seconds(1), now),
            Err(TimeProblem::InFuture)
        );
        let leap = DateTime::parse_from_rfc3339("2016-12-31T23:59:60Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(check_time(leap, now), Err(TimeProblem::LeapSecond));
    }

    #[test]
    fn glucose_limits_hold_after_rounding_in_both_units() {
        assert_eq!(round_mg_dl(6.3 * MG_DL_PER_MMOL_L), 113.5);
        assert_eq!(round_mg_dl(140.26), 140.3);
        assert!(is_storable_mg_dl(GLUCOSE_MIN_MG_DL) && is_storable_mg_dl(GLUCOSE_MAX_MG_DL));
        assert!(!is_storable_mg_dl(19.9) && !is_storable_mg_dl(600.1));
        let mmol = |v: f64| is_storable_mg_dl(round_mg_dl(v * MG_DL_PER_MMOL_L));
        assert!(mmol(GLUCOSE_MIN_MMOL_L) && mmol(GLUCOSE_MAX_MMOL_L));
        assert!(!mmol(GLUCOSE_MIN_MMOL_L - 0.01) && !mmol(GLUCOSE_MAX_MMOL_L + 0.01));
    }

    #[test]
    fn grams_and_calories_round_to_a_tenth() {
        assert_eq!(round_tenth(48.745), 48.7);
        assert_eq!(round_tenth(12.35), 12.4);
        assert_eq!(round_tenth(2000.0), 2000.0);
        assert_eq!(round_tenth(0.04), 0.0);
    }

    #[test]
    fn glucose_skip_reasons_quote_the_limits() {
        let range = format!("{GLUCOSE_MIN_MG_DL}–{GLUCOSE_MAX_MG_DL} mg/dL");
        for reason in [GLUCOSE_UNREADABLE_OR_OUT_OF_RANGE, SGV_OUT_OF_RANGE] {
            assert!(reason.ends_with(&format!("outside {range}")), "{reason}");
        }
    }

    #[test]
    fn text_with_nul_is_unstorable_and_echoes_are_short_and_clean() {
        assert!(check_text("G7 ✓ émoji 🩸").is_ok());
        assert_eq!(check_text("a\0b"), Err(UNSTORABLE_TEXT));
        assert_eq!(echo("short"), "short");
        let long = "x".repeat(100_000);
        assert_eq!(echo(&long), format!("{}…", "x".repeat(ECHO_MAX_CHARS)));
        assert_eq!(echo(&"é".repeat(ECHO_MAX_CHARS)), "é".repeat(ECHO_MAX_CHARS));
        assert_eq!(echo("a\0b"), "a\u{fffd}b");
    }
}

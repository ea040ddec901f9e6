//! Local calendar days in the user's IANA zone, as UTC instants. A local day is 23 or 25 hours long on DST days.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// A half-open interval `[start, end)` covering whole local days `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalDays {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl LocalDays {
    /// The `count` local days ending with `last` (inclusive).
    pub fn ending(tz: Tz, last: NaiveDate, count: u64) -> Self {
        let first = last - Days::new(count.saturating_sub(1));
        Self {
            first,
            last,
            start: day_start(tz, first),
            end: day_start(tz, last + Days::new(1)),
        }
    }

    pub fn day(tz: Tz, date: NaiveDate) -> Self {
        Self::ending(tz, date, 1)
    }

    /// The period of the same number of days just before this one.
    pub fn previous(&self, tz: Tz) -> Self {
        let count = (self.last - self.first).num_days() as u64 + 1;
        Self::ending(tz, self.first - Days::new(1), count)
    }

    pub fn day_count(&self) -> u64 {
        (self.last - self.first).num_days() as u64 + 1
    }

    pub fn hours(&self) -> f64 {
        (self.end - self.start).num_seconds() as f64 / 3600.0
    }
}

/// The local date of `now` in `tz`.
pub fn today(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// The instant local `date` begins. Where a DST jump skips midnight itself (e.g. America/Santiago, Asia/Beirut),
/// the day begins at the first local time that exists; where midnight happens twice, at the first one.
fn day_start(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    // Real DST gaps last at most two hours; probe forward a quarter hour at a time.
    (0..=8)
        .find_map(|quarter| {
            tz.from_local_datetime(&(midnight + TimeDelta::minutes(15 * quarter)))
                .earliest()
        })
        .map_or_else(|| Utc.from_utc_datetime(&midnight), |start| start.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(raw: &str) -> NaiveDate {
        raw.parse().unwrap()
    }

    #[test]
    fn new_york_dst_days_last_23_and_25_hours() {
        let tz: Tz = "America/New_York".parse().unwrap();
        assert_eq!(LocalDays::day(tz, date("2025-03-09")).hours(), 23.0);
        assert_eq!(LocalDays::day(tz, date("2025-11-02")).hours(), 25.0);
        let ordinary = LocalDays::day(tz, date("2025-07-01"));
        assert_eq!(ordinary.hours(), 24.0);
        assert_eq!(ordinary.start.to_rfc3339(), "2025-07-01T04:00:00+00:00");
    }

    #[test]
    fn kolkata_days_start_at_half_past_six_utc() {
        let tz: Tz = "Asia/Kolkata".parse().unwrap();
        let day = LocalDays::day(tz, date("2025-01-15"));
        assert_eq!(day.start.to_rfc3339(), "2025-01-14T18:30:00+00:00");
        assert_eq!(day.end.to_rfc3339(), "2025-01-15T18:30:00+00:00");
    }

    #[test]
    fn skipped_midnight_starts_the_day_at_one() {
        // Chile moved clocks from 00:00 to 01:00 on 2024-09-08.
        let tz: Tz = "America/Santiago".parse().unwrap();
        let day = LocalDays::day(tz, date("2024-09-08"));
        assert_eq!(day.start.to_rfc3339(), "2024-09-08T04:00:00+00:00");
        assert_eq!(day.hours(), 23.0);
    }

    #[test]
    fn periods_and_their_predecessors_are_contiguous() {
        let tz: Tz = "Europe/Paris".parse().unwrap();
        let week = LocalDays::ending(tz, date("2025-03-31"), 7);
        assert_eq!(week.first, date("2025-03-25"));
        assert_eq!(week.day_count(), 7);
        assert_eq!(week.hours(), 7.0 * 24.0 - 1.0);
        let before = week.previous(tz);
        assert_eq!((before.first, before.last), (date("2025-03-18"), date("2025-03-24")));
        assert_eq!(before.end, week.start);
        assert_eq!(today(tz, "2025-03-30T22:30:00Z".parse().unwrap()), date("2025-03-31"));
    }
}

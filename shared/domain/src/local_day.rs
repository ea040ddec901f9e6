//! How a day is counted — the one definition the daily aggregates, the daily summary, the dashboard and the
//! analyses share (README, "How a day is counted"):
//!
//! - **A day** is the user's local calendar day (`users.timezone`, IANA): from local midnight to the next local
//!   midnight, so DST days last 23 or 25 hours. A midnight that does not exist (a DST jump at 00:00) starts the
//!   day at the first local time that exists; a repeated midnight at the first one.
//! - **Readings** are counted once per 5-minute slot (slots aligned to 2000-01-01T00:00Z; every zone's offset is a
//!   multiple of 5 minutes, so slots never straddle a local midnight). When several sources land in one slot, a
//!   device's or CGM app's reading wins over a hub's re-published copy ([`HUB_SOURCES`]), then the lexically first
//!   source, then the earlier reading. So a second sensor or an Apple Health copy never counts twice.
//! - **Coverage** is the share of the day's 5-minute slots holding a reading ([`expected_slots`]: 288, or 276 / 300
//!   on DST days; for a period that includes now, only its elapsed part).
//! - **A night** belongs to the day of the evening it began: a sleep session starting between 06:00 local on day D
//!   and 06:00 on D+1 counts for D ([`night_of`]), so "sleep on D" → "glucose on D+1" is a lag of one day.
//!   Overlapping sessions (a watch and a phone recording the same night) count once: the device's wins over a
//!   hub's copy, then the longer one ([`distinct_sessions`]); separate sessions (a nap) add up. Minutes asleep are
//!   a session's length minus its awake minutes.
//! - **Activities and meals** belong to the local day they started / were eaten.

use chrono::{DateTime, Days, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Sources that re-publish other devices' data; their copy loses to the original.
pub const HUB_SOURCES: &[&str] = &["apple_health", "health_connect", "google_fit", "nightscout"];

/// Length of a reading slot, the unit of coverage.
pub const SLOT_MINUTES: i64 = 5;

/// Sleep starting before this local hour belongs to the previous day's night.
pub const NIGHT_BOUNDARY_HOURS: i64 = 6;

/// The instant local `date` begins (see the module documentation for DST gaps).
pub fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    // Real DST gaps last at most two hours (Antarctica/Troll); probe forward a quarter hour at a time.
    (0..=8)
        .find_map(|quarter_hours| {
            tz.from_local_datetime(&(midnight + Duration::minutes(15 * quarter_hours)))
                .earliest()
        })
        .map_or_else(|| Utc.from_utc_datetime(&midnight), |start| start.with_timezone(&Utc))
}

/// The UTC bounds `[start, end)` of a local day.
pub fn local_day_bounds(tz: Tz, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    (local_midnight(tz, date), local_midnight(tz, date + Days::new(1)))
}

/// The local date of the instant `at`.
pub fn local_date(tz: Tz, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// The local date of `now` in `tz`.
pub fn today(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    local_date(tz, now)
}

/// The night (local date of its evening) a sleep session starting at `sleep_start` belongs to.
pub fn night_of(tz: Tz, sleep_start: DateTime<Utc>) -> NaiveDate {
    (sleep_start.with_timezone(&tz).naive_local() - Duration::hours(NIGHT_BOUNDARY_HOURS)).date()
}

/// Reading slots in `[start, end)`; a partial slot counts. A whole local day has 12 per hour of its length.
pub fn expected_slots(start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
    let seconds = (end - start).num_seconds().max(0);
    let slot_seconds = SLOT_MINUTES * 60;
    (seconds + slot_seconds - 1) / slot_seconds
}

/// Readings a complete local day holds: 288, or 276 / 300 on DST days.
pub fn expected_readings(tz: Tz, date: NaiveDate) -> i32 {
    let (start, end) = local_day_bounds(tz, date);
    expected_slots(start, end) as i32
}

/// What [`distinct_sessions`] needs to know of a sleep session.
pub trait SleepSession {
    fn start(&self) -> DateTime<Utc>;
    fn end(&self) -> DateTime<Utc>;
    fn source(&self) -> &str;
}

/// The sessions of one night that count: where sessions overlap, the device's wins over a hub's copy, then the
/// longer, then the lexically first source; sessions that overlap no kept one (a nap) are kept too.
pub fn distinct_sessions<S: SleepSession>(sessions: &[S]) -> Vec<&S> {
    let mut by_preference: Vec<&S> = sessions.iter().collect();
    by_preference.sort_by(|a, b| {
        let hub = |s: &S| HUB_SOURCES.contains(&s.source());
        hub(a)
            .cmp(&hub(b))
            .then_with(|| (b.end() - b.start()).cmp(&(a.end() - a.start())))
            .then_with(|| a.source().cmp(b.source()))
            .then_with(|| a.start().cmp(&b.start()))
    });
    let mut kept: Vec<&S> = Vec::new();
    for session in by_preference {
        if kept
            .iter()
            .all(|k| session.end() <= k.start() || session.start() >= k.end())
        {
            kept.push(session);
        }
    }
    kept.sort_by_key(|s| s.start());
    kept
}

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
            start: local_midnight(tz, first),
            end: local_midnight(tz, last + Days::new(1)),
        }
    }

    pub fn day(tz: Tz, date: NaiveDate) -> Self {
        Self::ending(tz, date, 1)
    }

    /// The period of the same number of days just before this one.
    pub fn previous(&self, tz: Tz) -> Self {
        Self::ending(tz, self.first - Days::new(1), self.day_count())
    }

    pub fn day_count(&self) -> u64 {
        (self.last - self.first).num_days() as u64 + 1
    }

    pub fn dates(&self) -> impl Iterator<Item = NaiveDate> {
        self.first.iter_days().take(self.day_count() as usize)
    }

    pub fn hours(&self) -> f64 {
        (self.end - self.start).num_seconds() as f64 / 3600.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(raw: &str) -> NaiveDate {
        raw.parse().unwrap()
    }

    #[test]
    fn dst_days_expect_23_and_25_hours_of_readings() {
        let ny: Tz = "America/New_York".parse().unwrap();
        assert_eq!(expected_readings(ny, date("2026-03-08")), 23 * 12);
        assert_eq!(expected_readings(ny, date("2026-11-01")), 25 * 12);
        assert_eq!(expected_readings(ny, date("2026-11-02")), 288);
        assert_eq!(LocalDays::day(ny, date("2025-03-09")).hours(), 23.0);
        assert_eq!(LocalDays::day(ny, date("2025-11-02")).hours(), 25.0);
        let ordinary = LocalDays::day(ny, date("2025-07-01"));
        assert_eq!(ordinary.hours(), 24.0);
        assert_eq!(ordinary.start.to_rfc3339(), "2025-07-01T04:00:00+00:00");
    }

    #[test]
    fn expected_slots_follow_the_period_length() {
        let start: DateTime<Utc> = "2025-03-09T05:00:00Z".parse().unwrap();
        assert_eq!(expected_slots(start, start + Duration::hours(23)), 276);
        assert_eq!(expected_slots(start, start + Duration::minutes(7)), 2);
        assert_eq!(expected_slots(start, start), 0);
    }

    #[test]
    fn kolkata_days_start_at_half_past_six_utc() {
        let tz: Tz = "Asia/Kolkata".parse().unwrap();
        let day = LocalDays::day(tz, date("2025-01-15"));
        assert_eq!(day.start.to_rfc3339(), "2025-01-14T18:30:00+00:00");
        assert_eq!(day.end.to_rfc3339(), "2025-01-15T18:30:00+00:00");
    }

    #[test]
    fn a_midnight_skipped_by_dst_starts_the_day_at_the_first_valid_instant() {
        // Chile moved clocks from 00:00 to 01:00 on 2024-09-08 and 2026-09-06.
        let santiago: Tz = "America/Santiago".parse().unwrap();
        let day = LocalDays::day(santiago, date("2024-09-08"));
        assert_eq!(day.start.to_rfc3339(), "2024-09-08T04:00:00+00:00");
        assert_eq!(day.hours(), 23.0);
        let start = local_midnight(santiago, date("2026-09-06")).with_timezone(&santiago);
        assert_eq!(start.date_naive(), date("2026-09-06"));
        assert_eq!(expected_readings(santiago, date("2026-09-06")), 23 * 12);
    }

    #[test]
    fn periods_and_their_predecessors_are_contiguous() {
        let tz: Tz = "Europe/Paris".parse().unwrap();
        let week = LocalDays::ending(tz, date("2025-03-31"), 7);
        assert_eq!(week.first, date("2025-03-25"));
        assert_eq!(week.day_count(), 7);
        assert_eq!(week.dates().count(), 7);
        assert_eq!(week.hours(), 7.0 * 24.0 - 1.0);
        let before = week.previous(tz);
        assert_eq!((before.first, before.last), (date("2025-03-18"), date("2025-03-24")));
        assert_eq!(before.end, week.start);
        assert_eq!(today(tz, "2025-03-30T22:30:00Z".parse().unwrap()), date("2025-03-31"));
    }

    #[test]
    fn sleep_belongs_to_the_evening_it_began() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        let local = |s: &str| {
            paris
                .from_local_datetime(&chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
                .unwrap()
                .with_timezone(&Utc)
        };
        let d = date("2026-05-04");
        assert_eq!(night_of(paris, local("2026-05-04 23:10")), d);
        assert_eq!(night_of(paris, local("2026-05-05 01:30")), d);
        assert_eq!(night_of(paris, local("2026-05-05 06:30")), d + Duration::days(1));
    }

    struct Session(&'static str, &'static str, &'static str);

    impl SleepSession for Session {
        fn start(&self) -> DateTime<Utc> {
            self.0.parse().unwrap()
        }
        fn end(&self) -> DateTime<Utc> {
            self.1.parse().unwrap()
        }
        fn source(&self) -> &str {
            self.2
        }
    }

    #[test]
    fn overlapping_sessions_count_once_and_naps_add_up() {
        let sessions = [
            Session("2025-01-14T22:00:00Z", "2025-01-15T06:00:00Z", "apple_health"),
            Session("2025-01-14T23:00:00Z", "2025-01-15T05:00:00Z", "oura"),
            Session("2025-01-14T22:30:00Z", "2025-01-15T06:30:00Z", "watch"),
            Session("2025-01-15T13:00:00Z", "2025-01-15T13:40:00Z", "watch"),
        ];
        let kept: Vec<&str> = distinct_sessions(&sessions).iter().map(|s| s.0).collect();
        // The hub's copy loses to the devices; of the two devices the longer night wins; the nap is separate.
        assert_eq!(kept, ["2025-01-14T22:30:00Z", "2025-01-15T13:00:00Z"]);
    }
}

//! Local wall-clock times without an offset (Dexcom Clarity, LibreView) read in the user's zone. A fall-back hour
//! happens twice and a spring-forward hour never happens; both are resolved and reported.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};

use crate::Tally;

pub const AMBIGUOUS: &str = "local time in the repeated DST hour (resolved from the neighbouring rows' order)";
pub const NONEXISTENT: &str = "local time in the skipped DST hour (read with the offset in force before the change)";

/// Resolves a sequence of local times. Exports list readings in time order, so in a repeated hour the first pass
/// takes the earlier offset and, once the wall clock goes back, the later one: the earliest candidate after the
/// previous row's instant wins.
#[derive(Debug, Clone)]
pub struct LocalClock {
    zone: chrono_tz::Tz,
    previous: Option<DateTime<Utc>>,
}

impl LocalClock {
    pub fn new(zone: chrono_tz::Tz) -> Self {
        Self { zone, previous: None }
    }

    /// Forgets the previous row: the next rows are a new sequence (e.g. another LibreView record type).
    pub fn restart(&mut self) {
        self.previous = None;
    }

    /// The instant of `local`, recording DST adjustments in `adjusted` under `line`.
    pub fn resolve(&mut self, local: NaiveDateTime, adjusted: &mut Tally, line: u64) -> DateTime<Utc> {
        let instant = match self.zone.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(earlier, later) => {
                adjusted.add(AMBIGUOUS, line);
                let (earlier, later) = (earlier.with_timezone(&Utc), later.with_timezone(&Utc));
                match self.previous {
                    Some(previous) if earlier <= previous => later,
                    _ => earlier,
                }
            }
            LocalResult::None => {
                adjusted.add(NONEXISTENT, line);
                // The device clock had not changed yet: the time an hour earlier exists (gaps are at most an
                // hour) and has the offset in force before the change.
                let before = local - Duration::hours(1);
                self.zone
                    .from_local_datetime(&before)
                    .earliest()
                    .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
                    + Duration::hours(1)
            }
        };
        self.previous = Some(instant);
        instant
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn local(day: u32, month: u32, hour: u32, minute: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2025, month, day)
            .unwrap()
            .and_hms_opt(hour, minute, 0)
            .unwrap()
    }

    #[test]
    fn the_repeated_hour_takes_the_earlier_offset_then_the_later_one() {
        let mut clock = LocalClock::new(chrono_tz::Europe::Paris);
        let mut adjusted = Tally::default();
        // 26 Oct 2025: 03:00 CEST becomes 02:00 CET.
        let times: Vec<_> = [(1, 55), (2, 0), (2, 55), (2, 0), (2, 55), (3, 0)]
            .iter()
            .enumerate()
            .map(|(i, &(h, m))| clock.resolve(local(26, 10, h, m), &mut adjusted, i as u64))
            .collect();
        let utc: Vec<String> = times.iter().map(|t| t.format("%H:%M").to_string()).collect();
        assert_eq!(utc, ["23:55", "00:00", "00:55", "01:00", "01:55", "02:00"]);
        assert_eq!(adjusted.count(AMBIGUOUS), 4);
    }

    #[test]
    fn the_skipped_hour_reads_with_the_old_offset() {
        let mut clock = LocalClock::new(chrono_tz::Europe::Paris);
        let mut adjusted = Tally::default();
        // 30 Mar 2025: 02:00 CET becomes 03:00 CEST; 02:30 does not exist and is 01:30 UTC on a CET clock.
        let t = clock.resolve(local(30, 3, 2, 30), &mut adjusted, 7);
        assert_eq!(t.format("%H:%M").to_string(), "01:30");
        assert_eq!(adjusted.count(NONEXISTENT), 1);
        let ordinary = clock.resolve(local(30, 3, 12, 0), &mut adjusted, 8);
        assert_eq!(ordinary.format("%H:%M").to_string(), "10:00");
    }
}

//! FreeStyle LibreView CSV: mg/dL or mmol/L, EU (`DD-MM-YYYY HH:MM`) or US (`MM-DD-YYYY hh:mm AM`) dates, one to
//! three preamble lines before the header (found by its column names). Rows are grouped by record type, not by
//! time, and the date order can only be told from the whole file, so this parser reads all rows first (LibreView
//! files are a few MB at most) and then resolves their times.

use std::io::BufRead;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use crate::local_time::LocalClock;
use crate::table::{Header, Table};
use crate::{
    glucose_mg_dl, marker_mg_dl, meal, parse_number, rules, truncate, Context, Emit, Findings, Gate, ParseError, Record,
};
use glucolens_domain::MgDl;

/// Historic (automatic, every 5 or 15 minutes) readings.
pub const SOURCE: &str = "libre";
/// Scans overlap the historic readings in time; a source of their own keeps them out of the CGM series' natural key.
pub const SCAN_SOURCE: &str = "libre_scan";
const FORMAT: &str = "LibreView";

/// Libre sensors read 40–500 mg/dL; outside that the export says `LO` or `HI`.
const LO_MG_DL: f64 = 40.0;
const HI_MG_DL: f64 = 500.0;

pub const DATE_ORDER_ASSUMED: &str = "no day above 12 in the file: day-month-year order assumed for mmol/L, \
                                      month-day-year for mg/dL";

struct Columns {
    device: usize,
    timestamp: usize,
    record_type: usize,
    historic: Option<usize>,
    scan: Option<usize>,
    carbs: Option<usize>,
    glucose_in_mmol: bool,
}

impl Columns {
    fn of(header: &Header) -> Option<Self> {
        let historic = header.find(|c| c.starts_with("Historic Glucose"));
        let scan = header.find(|c| c.starts_with("Scan Glucose"));
        let unit_column = historic.or(scan)?;
        Some(Columns {
            device: header.find(|c| c == "Device")?,
            timestamp: header.find(|c| c == "Device Timestamp")?,
            record_type: header.find(|c| c == "Record Type")?,
            historic,
            scan,
            carbs: header.find(|c| c == "Carbohydrates (grams)"),
            glucose_in_mmol: header.name(unit_column).to_ascii_lowercase().contains("mmol"),
        })
    }
}

/// A `Device Timestamp` split into its parts before the date order is known.
#[derive(Debug, Clone, Copy, PartialEq)]
struct RawStamp {
    /// `(first, second, year)` of `first-second-year`, or `(month, day, year)` when the year came first.
    first: u32,
    second: u32,
    year: i32,
    year_first: bool,
    time: NaiveTime,
    twelve_hour: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum DateOrder {
    DayFirst,
    MonthFirst,
}

struct Row {
    line: u64,
    record_type: String,
    stamp: RawStamp,
    cells: csv::StringRecord,
}

pub fn parse(reader: impl BufRead, context: Context, emit: &mut Emit<'_>) -> Result<Findings, ParseError> {
    let (mut table, header) = Table::open(reader, FORMAT, |h| Columns::of(h).is_some())?;
    let columns = Columns::of(&header).expect("the header was accepted because its columns were found");
    let mut findings = Findings::default();
    let mut rows = Vec::new();
    while let Some((line, cells)) = table.next_row()? {
        findings.rows += 1;
        match parse_stamp(&cells[columns.timestamp]) {
            Some(stamp) => rows.push(Row {
                line,
                record_type: cells[columns.record_type].trim().to_owned(),
                stamp,
                cells,
            }),
            None => findings.skipped.add("unreadable Device Timestamp", line),
        }
    }
    let order = date_order(&rows, columns.glucose_in_mmol, &mut findings)?;
    let mut clock = LocalClock::new(context.time_zone);
    let mut gate = Gate::new(context);
    let mut previous_type = None;
    for row in &rows {
        if previous_type != Some(&row.record_type) {
            clock.restart();
            previous_type = Some(&row.record_type);
        }
        let Some(local) = row.stamp.resolve(order) else {
            findings
                .skipped
                .add("Device Timestamp is not a calendar date", row.line);
            continue;
        };
        let cell = |column: Option<usize>| column.map_or("", |c| row.cells[c].trim());
        let line = row.line;
        let record = match row.record_type.as_str() {
            "0" | "1" => {
                let (column, source) = if row.record_type == "0" {
                    (columns.historic, SOURCE)
                } else {
                    (columns.scan, SCAN_SOURCE)
                };
                glucose(cell(column), columns.glucose_in_mmol, &mut findings, line).map(|(value, clipped)| {
                    crate::glucose(
                        clock.resolve(local, &mut findings.adjusted, line),
                        source,
                        value,
                        None,
                        truncate(cell(Some(columns.device)), 128),
                        clipped,
                    )
                })
            }
            "5" => match parse_number(cell(columns.carbs)).filter(|g| (0.0..=rules::MAX_MEAL_GRAMS).contains(g)) {
                Some(carbs_g) => Some(meal(
                    clock.resolve(local, &mut findings.adjusted, line),
                    SOURCE,
                    carbs_g,
                    None,
                    None,
                    None,
                )),
                None => {
                    findings.skipped.add("food entry without carbohydrate grams", line);
                    None
                }
            },
            "2" => skip(&mut findings, "strip (fingerstick) glucose is not stored", line),
            "3" => skip(&mut findings, "ketone readings are not stored", line),
            "4" => skip(&mut findings, "insulin is not stored", line),
            "6" => skip(&mut findings, "notes (record type 6) are not stored", line),
            other => skip(
                &mut findings,
                &format!("unknown record type `{}`", rules::echo(other)),
                line,
            ),
        };
        if let Some(record) = record {
            gate.pass(record, line, &mut findings.skipped, emit)?;
        }
    }
    Ok(findings)
}

fn skip(findings: &mut Findings, reason: &str, line: u64) -> Option<Record> {
    findings.skipped.add(reason, line);
    None
}

/// A glucose cell as stored mg/dL and whether it was `HI`/`LO`; `None` (recorded as skipped) otherwise.
fn glucose(raw: &str, mmol: bool, findings: &mut Findings, line: u64) -> Option<(MgDl, bool)> {
    match raw {
        "HI" | "High" => {
            findings
                .adjusted
                .add("`HI` mapped to 500 mg/dL (flagged clipped)", line);
            Some((marker_mg_dl(HI_MG_DL), true))
        }
        "LO" | "Low" => {
            findings.adjusted.add("`LO` mapped to 40 mg/dL (flagged clipped)", line);
            Some((marker_mg_dl(LO_MG_DL), true))
        }
        "" => {
            findings.skipped.add("glucose row without a value", line);
            None
        }
        value => {
            let stored = parse_number(value).and_then(|v| glucose_mg_dl(v, mmol));
            if stored.is_none() {
                findings.skipped.add(rules::GLUCOSE_UNREADABLE_OR_OUT_OF_RANGE, line);
            }
            stored.map(|v| (v, false))
        }
    }
}

/// The file's date order: 12-hour times mean a US export; a first part above 12 means day first, a second part
/// above 12 month first; with neither, the unit decides (mmol/L exports are European).
fn date_order(rows: &[Row], mmol: bool, findings: &mut Findings) -> Result<DateOrder, ParseError> {
    let dated = rows.iter().filter(|r| !r.stamp.year_first);
    let day_first = dated.clone().find(|r| r.stamp.first > 12);
    let month_first = dated.clone().find(|r| r.stamp.second > 12 || r.stamp.twelve_hour);
    match (day_first, month_first) {
        (Some(a), Some(b)) => Err(ParseError::Corrupt {
            line: a.line.max(b.line),
            reason: format!(
                "dates in both day-month (line {}) and month-day (line {}) order",
                a.line, b.line
            ),
        }),
        (Some(_), None) => Ok(DateOrder::DayFirst),
        (None, Some(_)) => Ok(DateOrder::MonthFirst),
        (None, None) => {
            if let Some(first) = dated.clone().next() {
                findings.adjusted.add(DATE_ORDER_ASSUMED, first.line);
            }
            Ok(if mmol {
                DateOrder::DayFirst
            } else {
                DateOrder::MonthFirst
            })
        }
    }
}

/// `05-12-2019 16:25`, `03-20-2021 05:38 PM`, `2021/03/20 17:38:00` (separators `-`, `/` or `.`).
fn parse_stamp(raw: &str) -> Option<RawStamp> {
    let mut words = raw.split_whitespace();
    let (date, clock) = (words.next()?, words.next()?);
    let meridiem = words.next().map(str::to_ascii_uppercase);
    let parts: Vec<&str> = date.split(['-', '/', '.']).collect();
    let [a, b, c] = parts[..] else { return None };
    let year_first = a.len() == 4;
    let (first, second, year) = if year_first {
        (b.parse().ok()?, c.parse().ok()?, a.parse().ok()?)
    } else {
        (a.parse().ok()?, b.parse().ok()?, c.parse().ok()?)
    };
    let time = match meridiem.as_deref() {
        None => NaiveTime::parse_from_str(clock, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(clock, "%H:%M:%S"))
            .ok()?,
        Some(m @ ("AM" | "PM")) => {
            let with_meridiem = format!("{clock} {m}");
            NaiveTime::parse_from_str(&with_meridiem, "%I:%M %p")
                .or_else(|_| NaiveTime::parse_from_str(&with_meridiem, "%I:%M:%S %p"))
                .ok()?
        }
        Some(_) => return None,
    };
    Some(RawStamp {
        first,
        second,
        year,
        year_first,
        time,
        twelve_hour: meridiem.is_some(),
    })
}

impl RawStamp {
    fn resolve(self, order: DateOrder) -> Option<NaiveDateTime> {
        let (month, day) = if self.year_first || order == DateOrder::MonthFirst {
            (self.first, self.second)
        } else {
            (self.second, self.first)
        };
        Some(NaiveDate::from_ymd_opt(self.year, month, day)?.and_time(self.time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_in_eu_us_and_iso_order() {
        let eu = parse_stamp("05-12-2019 16:25").unwrap();
        assert_eq!(
            eu.resolve(DateOrder::DayFirst).unwrap().to_string(),
            "2019-12-05 16:25:00"
        );
        let us = parse_stamp("03-20-2021 05:38 PM").unwrap();
        assert!(us.twelve_hour);
        assert_eq!(
            us.resolve(DateOrder::MonthFirst).unwrap().to_string(),
            "2021-03-20 17:38:00"
        );
        let iso = parse_stamp("2021/03/20 17:38:00").unwrap();
        assert_eq!(
            iso.resolve(DateOrder::DayFirst).unwrap().to_string(),
            "2021-03-20 17:38:00"
        );
        assert!(parse_stamp("yesterday").is_none());
        assert!(parse_stamp("03-20-2021 05:38 XM").is_none());
    }
}

//! Dexcom Clarity CSV: the 12- and 14-column layouts (the latter adds transmitter time and id), mg/dL or mmol/L,
//! English or Spanish headers. Metadata rows (patient, device, alert settings) have an empty timestamp. Timestamps
//! are local wall-clock times (`2016-10-24T11:24:17`, or `2025-05-01 0:01:47` after a spreadsheet re-save).

use std::io::BufRead;

use chrono::NaiveDateTime;

use crate::local_time::LocalClock;
use crate::table::{Header, Table};
use crate::{
    activity, glucose_mg_dl, marker_mg_dl, meal, parse_number, rules, truncate, Context, Emit, Findings, Gate,
    ParseError,
};
use glucolens_domain::MgDl;

pub const SOURCE: &str = "dexcom";
const FORMAT: &str = "Dexcom Clarity";

/// Dexcom's sensors read 40–400 mg/dL; outside that the export says `Low` or `High`.
pub const LOW_MG_DL: f64 = 40.0;
pub const HIGH_MG_DL: f64 = 400.0;

pub const HIGH_MAPPED: &str = "`High` mapped to 400 mg/dL (flagged clipped)";
pub const LOW_MAPPED: &str = "`Low` mapped to 40 mg/dL (flagged clipped)";
pub const METADATA: &str = "metadata row (patient, device or alert settings)";

/// Where each field is in this file's layout.
struct Columns {
    timestamp: usize,
    event_type: usize,
    event_subtype: Option<usize>,
    device: Option<usize>,
    glucose: usize,
    glucose_in_mmol: bool,
    carbs: Option<usize>,
    duration: Option<usize>,
}

impl Columns {
    fn of(header: &Header) -> Option<Self> {
        let glucose = header.find(|c| c.starts_with("Glucose Value") || c.starts_with("Nivel de glucosa"))?;
        Some(Columns {
            timestamp: header.find(|c| c.starts_with("Timestamp") || c.starts_with("Marca temporal"))?,
            event_type: header.find(|c| c == "Event Type" || c == "Tipo de evento")?,
            event_subtype: header.find(|c| c == "Event Subtype" || c == "Subtipo de evento"),
            device: header.find(|c| c == "Source Device ID" || c == "ID del dispositivo de origen"),
            glucose,
            glucose_in_mmol: header.name(glucose).to_ascii_lowercase().contains("mmol"),
            carbs: header.find(|c| c.starts_with("Carb Value") || c.starts_with("Valor de carbohidratos")),
            duration: header.find(|c| c.starts_with("Duration") || c.starts_with("Duración")),
        })
    }
}

pub fn parse(reader: impl BufRead, context: Context, emit: &mut Emit<'_>) -> Result<Findings, ParseError> {
    let (mut table, header) = Table::open(reader, FORMAT, |h| Columns::of(h).is_some())?;
    let columns = Columns::of(&header).expect("the header was accepted because its columns were found");
    let mut findings = Findings::default();
    let mut clock = LocalClock::new(context.time_zone);
    let mut gate = Gate::new(context);
    while let Some((line, row)) = table.next_row()? {
        findings.rows += 1;
        let cell = |column: Option<usize>| column.map_or("", |c| row[c].trim());
        let raw_time = cell(Some(columns.timestamp));
        if raw_time.is_empty() {
            findings.skipped.add(METADATA, line);
            continue;
        }
        let Some(local) = parse_local_time(raw_time) else {
            findings.skipped.add("unreadable timestamp", line);
            continue;
        };
        let event = cell(Some(columns.event_type));
        let record = match event {
            "EGV" => glucose(
                cell(Some(columns.glucose)),
                columns.glucose_in_mmol,
                &mut findings,
                line,
            )
            .map(|(value, clipped)| {
                crate::glucose(
                    clock.resolve(local, &mut findings.adjusted, line),
                    SOURCE,
                    value,
                    None,
                    truncate(cell(columns.device), 128),
                    clipped,
                )
            }),
            "Carbs" => match parse_number(cell(columns.carbs)).filter(|g| (0.0..=rules::MAX_MEAL_GRAMS).contains(g)) {
                Some(carbs_g) => Some(meal(
                    clock.resolve(local, &mut findings.adjusted, line),
                    SOURCE,
                    carbs_g,
                    None,
                    None,
                    None,
                )),
                None => {
                    findings
                        .skipped
                        .add("carbs row without a carbohydrate amount of 0–2000 g", line);
                    None
                }
            },
            "Exercise" => match parse_duration_minutes(cell(columns.duration)) {
                Some(duration_minutes) => Some(activity(
                    clock.resolve(local, &mut findings.adjusted, line),
                    truncate(&cell(columns.event_subtype).to_lowercase(), 64).unwrap_or_else(|| "exercise".into()),
                    SOURCE,
                    duration_minutes,
                    None,
                )),
                None => {
                    findings
                        .skipped
                        .add("exercise row without a duration of at most 24 h", line);
                    None
                }
            },
            "Insulin" => {
                findings.skipped.add("insulin is not stored", line);
                None
            }
            "Calibration" => {
                findings
                    .skipped
                    .add("calibration (fingerstick) values are not stored", line);
                None
            }
            other => {
                findings
                    .skipped
                    .add(format!("`{}` events are not imported", rules::echo(other)), line);
                None
            }
        };
        if let Some(record) = record {
            gate.pass(record, line, &mut findings.skipped, emit)?;
        }
    }
    Ok(findings)
}

/// An EGV cell as stored mg/dL and whether it was an out-of-range marker; `None` (recorded as skipped) otherwise.
fn glucose(raw: &str, mmol: bool, findings: &mut Findings, line: u64) -> Option<(MgDl, bool)> {
    match raw {
        "High" | "Alto" => {
            findings.adjusted.add(HIGH_MAPPED, line);
            Some((marker_mg_dl(HIGH_MG_DL), true))
        }
        "Low" | "Bajo" => {
            findings.adjusted.add(LOW_MAPPED, line);
            Some((marker_mg_dl(LOW_MG_DL), true))
        }
        "" => {
            findings.skipped.add("EGV row without a glucose value", line);
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

/// `2016-10-24T11:24:17`, `2016-10-24 11:24:17` or `2025-05-01 0:01:47`.
fn parse_local_time(raw: &str) -> Option<NaiveDateTime> {
    let normalised = raw.replacen(' ', "T", 1);
    NaiveDateTime::parse_from_str(&normalised, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(&normalised, "%Y-%m-%dT%H:%M"))
        .ok()
}

/// `h:mm:ss` (Dexcom's duration column) in whole minutes, at most a day.
fn parse_duration_minutes(raw: &str) -> Option<i32> {
    let mut parts = raw.split(':').map(|p| p.trim().parse::<u32>().ok());
    let (hours, minutes, seconds) = (parts.next()??, parts.next()??, parts.next().unwrap_or(Some(0))?);
    let total = (hours * 3600 + minutes * 60 + seconds + 30) / 60;
    (i64::from(total) <= rules::MAX_MINUTES).then_some(total as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_with_t_space_and_single_digit_hours() {
        for raw in ["2025-05-01T00:01:47", "2025-05-01 0:01:47", "2025-05-01 00:01:47"] {
            assert_eq!(
                parse_local_time(raw).unwrap().to_string(),
                "2025-05-01 00:01:47",
                "{raw}"
            );
        }
        assert!(parse_local_time("01/05/2025").is_none());
    }

    #[test]
    fn durations_round_to_minutes() {
        assert_eq!(parse_duration_minutes("0:20:00"), Some(20));
        assert_eq!(parse_duration_minutes("1:00:40"), Some(61));
        assert_eq!(parse_duration_minutes("25:00:00"), None);
        assert_eq!(parse_duration_minutes(""), None);
    }
}

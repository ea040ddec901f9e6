//! Nightscout documents: `entries` (sgv readings) and `treatments` (carbs, exercise), as uploaders POST them and as
//! `GET /api/v1/entries.json` exports them. Used by the file import and by the Nightscout-compatible API.

use std::io::BufRead;

use chrono::{DateTime, Utc};
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::{
    activity, glucose, glucose_mg_dl, meal, rules, truncate, Context, Emit, Findings, Gate, ParseError, Record,
};

pub const SOURCE: &str = "nightscout";

/// One `entries` document. Only what GlucoLens stores is read; unknown fields are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Entry {
    /// `sgv`, `mbg`, `cal`; missing in some old exports that still carry `sgv`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// mg/dL, always.
    pub sgv: Option<f64>,
    /// Epoch milliseconds.
    pub date: Option<f64>,
    #[serde(rename = "dateString")]
    pub date_string: Option<String>,
    pub direction: Option<String>,
    pub device: Option<String>,
}

/// One `treatments` document.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Treatment {
    #[serde(rename = "eventType")]
    pub event_type: Option<String>,
    pub created_at: Option<String>,
    /// Epoch milliseconds, used by some uploaders instead of `created_at`.
    pub date: Option<f64>,
    pub carbs: Option<f64>,
    pub protein: Option<f64>,
    pub fat: Option<f64>,
    /// Minutes.
    pub duration: Option<f64>,
}

/// Values below this are Dexcom status codes sent in `sgv` (e.g. 5 = sensor error), not readings.
const STATUS_CODE_BELOW: f64 = 20.0;

/// The first of `fields` (name, value) whose text cannot be stored ([`rules::check_text`]).
fn unstorable(fields: &[(&'static str, &Option<String>)]) -> Option<&'static str> {
    fields
        .iter()
        .find(|(_, value)| value.as_deref().is_some_and(|v| rules::check_text(v).is_err()))
        .map(|(name, _)| *name)
}

impl Entry {
    /// The first text field (its Nightscout name) holding text that cannot be stored: such a document is refused,
    /// not skipped.
    pub fn unstorable_field(&self) -> Option<&'static str> {
        unstorable(&[
            ("type", &self.kind),
            ("dateString", &self.date_string),
            ("direction", &self.direction),
            ("device", &self.device),
        ])
    }

    /// The reading this entry holds, or why it is skipped.
    pub fn to_record(&self) -> Result<Record, &'static str> {
        match self.kind.as_deref() {
            Some("sgv") | None => {}
            Some("mbg") => return Err("meter (mbg) entries are not stored"),
            Some("cal") => return Err("calibration (cal) entries are not stored"),
            Some(_) => return Err("entry type not imported"),
        }
        let sgv = self.sgv.ok_or("sgv entry without an sgv value")?;
        if sgv < STATUS_CODE_BELOW {
            return Err("sgv below 20 is a sensor status code, not a reading");
        }
        let value = glucose_mg_dl(sgv, false).ok_or(rules::SGV_OUT_OF_RANGE)?;
        let time = instant(self.date, self.date_string.as_deref()).ok_or("entry without a readable date")?;
        Ok(glucose(
            time,
            SOURCE,
            value,
            self.direction.as_deref().and_then(|d| truncate(d, 32)),
            self.device.as_deref().and_then(|d| truncate(d, 128)),
            false,
        ))
    }
}

impl Treatment {
    /// The first text field (its Nightscout name) holding text that cannot be stored.
    pub fn unstorable_field(&self) -> Option<&'static str> {
        unstorable(&[("eventType", &self.event_type), ("created_at", &self.created_at)])
    }

    /// The meal or activity this treatment holds, or why it is skipped. Carbs of any event type (`Meal Bolus`,
    /// `Carb Correction`, ...) are a meal; `Exercise` with a duration is an activity.
    pub fn to_record(&self) -> Result<Record, &'static str> {
        let time = instant(self.date, self.created_at.as_deref()).ok_or("treatment without a readable created_at")?;
        if let Some(carbs_g) = self.carbs.filter(|c| *c > 0.0) {
            if carbs_g > rules::MAX_MEAL_GRAMS {
                return Err("carbs above 2000 g");
            }
            return Ok(meal(
                time,
                SOURCE,
                carbs_g,
                self.protein.filter(|g| *g >= 0.0),
                self.fat.filter(|g| *g >= 0.0),
                None,
            ));
        }
        if self.event_type.as_deref() == Some("Exercise") {
            let minutes = self
                .duration
                .filter(|d| (0.0..=rules::MAX_MINUTES as f64).contains(d))
                .ok_or("exercise without a duration of 0–1440 minutes")?;
            return Ok(activity(time, "exercise".into(), SOURCE, minutes.round() as i32, None));
        }
        Err("treatment type not stored (only carbs and exercise are)")
    }
}

/// `date` in epoch milliseconds (seconds if it is too small to be milliseconds), else an ISO-8601 string with an
/// offset (`2024-01-01T00:00:00.000Z`, `2018-06-02T00:25:00-0700`).
pub fn instant(epoch: Option<f64>, iso: Option<&str>) -> Option<DateTime<Utc>> {
    if let Some(epoch) = epoch.filter(|e| e.is_finite() && *e > 0.0) {
        let millis = if epoch < 1e11 { epoch * 1000.0 } else { epoch };
        return DateTime::from_timestamp_millis(millis as i64);
    }
    let iso = iso?.trim();
    DateTime::parse_from_rfc3339(iso)
        .or_else(|_| DateTime::parse_from_str(iso, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A Nightscout entries export: a JSON array of entries, streamed element by element. Positions in the findings
/// are record numbers (1-based).
pub fn parse_entries(reader: impl BufRead, context: Context, emit: &mut Emit<'_>) -> Result<Findings, ParseError> {
    let mut stream = EntryStream {
        emit,
        gate: Gate::new(context),
        findings: Findings::default(),
        failed: None,
    };
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let outcome = (&mut stream)
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    match outcome {
        Ok(()) => Ok(stream.findings),
        Err(_) if stream.failed.is_some() => Err(stream.failed.expect("checked")),
        Err(error) if error.is_io() => Err(ParseError::Io(error.into())),
        Err(error) => Err(ParseError::Corrupt {
            line: error.line() as u64,
            // serde_json quotes offending strings whole; the reason is shown and stored, so it is shortened.
            reason: format!(
                "invalid Nightscout entries JSON ({})",
                rules::shorten(&error.to_string(), 200)
            ),
        }),
    }
}

struct EntryStream<'e, 'a> {
    emit: &'e mut Emit<'a>,
    gate: Gate,
    findings: Findings,
    /// Why the stream was ended from inside (the consumer stopped, or unstorable text).
    failed: Option<ParseError>,
}

impl<'de> DeserializeSeed<'de> for &mut EntryStream<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for &mut EntryStream<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of Nightscout entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(entry) = seq.next_element::<Entry>()? {
            self.findings.rows += 1;
            let position = self.findings.rows;
            if let Some(field) = entry.unstorable_field() {
                self.failed = Some(ParseError::UnstorableText {
                    line: position,
                    field: field.into(),
                });
                return Err(serde::de::Error::custom("unstorable text"));
            }
            match entry.to_record() {
                Ok(record) => {
                    if let Err(error) = self.gate.pass(record, position, &mut self.findings.skipped, self.emit) {
                        self.failed = Some(error);
                        return Err(serde::de::Error::custom("stopped"));
                    }
                }
                Err(reason) => self.findings.skipped.add(reason, position),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glucolens_domain::records::{ActivityRecord, MealRecord};

    #[test]
    fn instants_from_epoch_ms_seconds_and_strings_with_offsets() {
        let expected = "2018-06-02T07:25:00Z";
        let of = |e: Option<f64>, s: Option<&str>| {
            instant(e, s)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        };
        assert_eq!(of(Some(1527924300000.0), None), expected);
        assert_eq!(of(Some(1527924300.0), None), expected);
        assert_eq!(of(None, Some("2018-06-02T00:25:00-0700")), expected);
        assert_eq!(of(None, Some("2018-06-02T07:25:00.000Z")), expected);
        assert!(instant(None, Some("2018-06-02 00:25")).is_none());
    }

    #[test]
    fn treatments_become_meals_and_activities() {
        let carbs: Treatment = serde_json::from_str(
            r#"{"eventType":"Carb Correction","carbs":25,"created_at":"2026-04-05T16:56:00.000Z","insulin":null}"#,
        )
        .unwrap();
        assert!(matches!(carbs.to_record(), Ok(Record::Meal(MealRecord { carbs_g, .. })) if carbs_g == 25.0));
        let exercise: Treatment =
            serde_json::from_str(r#"{"eventType":"Exercise","duration":45,"created_at":"2026-04-05T16:56:00Z"}"#)
                .unwrap();
        assert!(matches!(
            exercise.to_record(),
            Ok(Record::Activity(ActivityRecord {
                duration_minutes: 45,
                ..
            }))
        ));
        let bolus: Treatment =
            serde_json::from_str(r#"{"eventType":"SMB","insulin":0.3,"created_at":"2026-04-05T16:56:00Z"}"#).unwrap();
        assert!(bolus.to_record().is_err());
    }
}

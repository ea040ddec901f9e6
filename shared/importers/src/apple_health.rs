//! Apple Health `export.xml`, streamed: a quick-xml reader pulls one element at a time from the `BufRead`, so a
//! multi-gigabyte export is parsed in bounded memory. Read: blood glucose (mg/dL or `mmol<180.1558800000541>/L`),
//! sleep analysis segments (merged into sessions), workouts, dietary carbohydrates and energy (merged into meals by
//! timestamp; held until the end, a few per day). Everything else is passed over without being counted.

use std::collections::BTreeMap;
use std::io::BufRead;

use chrono::{DateTime, Duration, Utc};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::{glucose, glucose_mg_dl, meal, parse_number, rules, sleep, Context, Emit, Findings, Gate, ParseError};

pub const SOURCE: &str = "apple_health";
const FORMAT: &str = "Apple Health export.xml";

const BLOOD_GLUCOSE: &str = "HKQuantityTypeIdentifierBloodGlucose";
const SLEEP_ANALYSIS: &str = "HKCategoryTypeIdentifierSleepAnalysis";
const DIETARY_CARBS: &str = "HKQuantityTypeIdentifierDietaryCarbohydrates";
const DIETARY_ENERGY: &str = "HKQuantityTypeIdentifierDietaryEnergyConsumed";
const ACTIVE_ENERGY: &str = "HKQuantityTypeIdentifierActiveEnergyBurned";

/// Sleep segments less than this apart belong to the same night.
const SLEEP_GAP: Duration = Duration::hours(2);
/// The store's longest sleep session.
const LONGEST_SLEEP: Duration = Duration::hours(24);

pub fn parse(reader: impl BufRead, context: Context, emit: &mut Emit<'_>) -> Result<Findings, ParseError> {
    let mut reader = Reader::from_reader(LineCounter { inner: reader, line: 1 });
    reader.config_mut().trim_text(true);
    let mut state = State {
        findings: Findings::default(),
        gate: Gate::new(context),
        sleep: None,
        workout: None,
        diet: BTreeMap::new(),
    };
    let mut buffer = Vec::new();
    let mut depth = 0usize;
    let mut saw_root = false;
    loop {
        let event = reader.read_event_into(&mut buffer).map_err(|error| match error {
            quick_xml::Error::Io(io) => ParseError::Io(std::io::Error::new(io.kind(), io.to_string())),
            other => ParseError::Corrupt {
                line: reader.get_ref().line,
                reason: format!("malformed XML ({other})"),
            },
        })?;
        let line = reader.get_ref().line;
        match event {
            Event::Start(element) => {
                depth += 1;
                saw_root |= element.name().as_ref() == b"HealthData";
                state.element(&element, false, line, emit)?;
            }
            Event::Empty(element) => state.element(&element, true, line, emit)?,
            Event::End(element) => {
                depth = depth.saturating_sub(1);
                if element.name().as_ref() == b"Workout" {
                    state.finish_workout(emit)?;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    if !saw_root {
        return Err(ParseError::Unrecognised {
            format: FORMAT,
            reason: "no <HealthData> element".into(),
        });
    }
    if depth > 0 {
        return Err(ParseError::Corrupt {
            line: reader.get_ref().line,
            reason: format!("the file ends inside {depth} unclosed element(s)"),
        });
    }
    state.finish(emit)
}

/// What is carried between elements: the open sleep session, the open workout and the dietary entries.
struct State {
    findings: Findings,
    gate: Gate,
    sleep: Option<SleepSession>,
    workout: Option<(u64, Workout)>,
    /// Carbohydrate grams and kilocalories logged at each instant (summed over entries at the same instant).
    diet: BTreeMap<DateTime<Utc>, Diet>,
}

/// A workout whose `WorkoutStatistics` may still add its energy.
struct Workout {
    start: DateTime<Utc>,
    activity_type: String,
    duration_minutes: i32,
    /// Kilocalories, unrounded.
    calories: Option<f64>,
}

#[derive(Default)]
struct Diet {
    line: u64,
    carbs_g: Option<f64>,
    kcal: Option<f64>,
}

struct SleepSession {
    /// The line of its first segment.
    line: u64,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    deep: Duration,
    light: Duration,
    rem: Duration,
    awake: Duration,
}

impl State {
    fn element(&mut self, element: &BytesStart, empty: bool, line: u64, emit: &mut Emit<'_>) -> Result<(), ParseError> {
        match element.name().as_ref() {
            b"Record" => self.record(&Attributes::of(element), line, emit),
            b"Workout" => {
                self.findings.rows += 1;
                let attributes = Attributes::of(element);
                attributes.check_text(line)?;
                match workout(&attributes) {
                    Ok(workout) => {
                        self.workout = Some((line, workout));
                        if empty {
                            self.finish_workout(emit)?;
                        }
                    }
                    Err(reason) => self.findings.skipped.add(reason, line),
                }
                Ok(())
            }
            b"WorkoutStatistics" => {
                let attributes = Attributes::of(element);
                if let Some((_, workout)) = self.workout.as_mut().filter(|(_, w)| w.calories.is_none()) {
                    if attributes.get("type") == Some(ACTIVE_ENERGY) {
                        workout.calories = energy_kcal(attributes.get("sum"), attributes.get("unit"));
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn record(&mut self, attributes: &Attributes, line: u64, emit: &mut Emit<'_>) -> Result<(), ParseError> {
        let kind = attributes.get("type").unwrap_or_default();
        if ![BLOOD_GLUCOSE, SLEEP_ANALYSIS, DIETARY_CARBS, DIETARY_ENERGY].contains(&kind) {
            return Ok(());
        }
        self.findings.rows += 1;
        attributes.check_text(line)?;
        let (Some(start), Some(end)) = (
            attributes.get("startDate").and_then(parse_date),
            attributes.get("endDate").and_then(parse_date),
        ) else {
            self.findings
                .skipped
                .add("record without readable startDate/endDate", line);
            return Ok(());
        };
        let value = attributes.get("value").unwrap_or_default();
        match kind {
            BLOOD_GLUCOSE => {
                let mmol = attributes.get("unit").is_some_and(|u| u.starts_with("mmol"));
                match parse_number(value).and_then(|v| glucose_mg_dl(v, mmol)) {
                    Some(value) => {
                        let reading = glucose(start, SOURCE, value, None, None, false);
                        self.gate.pass(reading, line, &mut self.findings.skipped, emit)?
                    }
                    None => self
                        .findings
                        .skipped
                        .add(rules::GLUCOSE_UNREADABLE_OR_OUT_OF_RANGE, line),
                }
            }
            SLEEP_ANALYSIS => self.sleep_segment(value, start, end, line, emit)?,
            DIETARY_CARBS | DIETARY_ENERGY => {
                let Some(amount) = parse_number(value).filter(|v| *v >= 0.0) else {
                    self.findings.skipped.add("dietary value unreadable", line);
                    return Ok(());
                };
                let diet = self.diet.entry(start).or_insert_with(|| Diet {
                    line,
                    ..Diet::default()
                });
                if kind == DIETARY_CARBS {
                    *diet.carbs_g.get_or_insert(0.0) += amount;
                } else {
                    let kcal = energy_kcal(Some(value), attributes.get("unit")).unwrap_or(amount);
                    *diet.kcal.get_or_insert(0.0) += kcal;
                }
            }
            _ => unreachable!("filtered above"),
        }
        Ok(())
    }

    /// Adds a segment to the open night, or closes the night and opens a new one when the segment starts more than
    /// [`SLEEP_GAP`] after it ends or would make it longer than a day.
    fn sleep_segment(
        &mut self,
        value: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        line: u64,
        emit: &mut Emit<'_>,
    ) -> Result<(), ParseError> {
        if end <= start {
            self.findings
                .skipped
                .add("sleep segment that ends before it starts", line);
            return Ok(());
        }
        let continues = self
            .sleep
            .as_ref()
            .is_some_and(|s| start <= s.end + SLEEP_GAP && start >= s.start && end - s.start <= LONGEST_SLEEP);
        if !continues {
            self.flush_sleep(emit)?;
            self.sleep = Some(SleepSession {
                line,
                start,
                end,
                deep: Duration::zero(),
                light: Duration::zero(),
                rem: Duration::zero(),
                awake: Duration::zero(),
            });
        }
        let session = self.sleep.as_mut().expect("opened above");
        session.end = session.end.max(end);
        let length = end - start;
        match value.strip_prefix("HKCategoryValueSleepAnalysis").unwrap_or(value) {
            "AsleepDeep" => session.deep += length,
            "AsleepCore" => session.light += length,
            "AsleepREM" => session.rem += length,
            "Awake" => session.awake += length,
            // In bed, or asleep without a stage (older watches, phones, third-party apps): counts to the session.
            _ => {}
        }
        Ok(())
    }

    fn flush_sleep(&mut self, emit: &mut Emit<'_>) -> Result<(), ParseError> {
        let Some(session) = self.sleep.take() else {
            return Ok(());
        };
        let minutes = |d: Duration| (d > Duration::zero()).then(|| d.num_minutes() as i32);
        let night = sleep(
            session.start,
            session.end,
            SOURCE,
            minutes(session.deep),
            minutes(session.light),
            minutes(session.rem),
            minutes(session.awake),
        );
        self.gate.pass(night, session.line, &mut self.findings.skipped, emit)
    }

    fn finish_workout(&mut self, emit: &mut Emit<'_>) -> Result<(), ParseError> {
        match self.workout.take() {
            Some((line, workout)) => {
                let activity = crate::activity(
                    workout.start,
                    workout.activity_type,
                    SOURCE,
                    workout.duration_minutes,
                    workout.calories,
                );
                self.gate.pass(activity, line, &mut self.findings.skipped, emit)
            }
            None => Ok(()),
        }
    }

    /// Emits what was held back: the last sleep session and the meals.
    fn finish(mut self, emit: &mut Emit<'_>) -> Result<Findings, ParseError> {
        self.flush_sleep(emit)?;
        for (eaten_at, diet) in std::mem::take(&mut self.diet) {
            match diet.carbs_g {
                Some(carbs_g) if carbs_g <= rules::MAX_MEAL_GRAMS => {
                    let meal = meal(eaten_at, SOURCE, carbs_g, None, None, diet.kcal);
                    self.gate.pass(meal, diet.line, &mut self.findings.skipped, emit)?
                }
                Some(_) => self
                    .findings
                    .skipped
                    .add("more than 2000 g of carbohydrates at once", diet.line),
                None => self.findings.skipped.add(
                    "dietary energy without a carbohydrate entry at the same time",
                    diet.line,
                ),
            }
        }
        Ok(self.findings)
    }
}

/// A workout's type, start, duration (`min`, `s` or `hr`) and energy (`kcal` or `kJ`).
fn workout(attributes: &Attributes) -> Result<Workout, &'static str> {
    let start = attributes
        .get("startDate")
        .and_then(parse_date)
        .ok_or("workout without a readable startDate")?;
    let duration = attributes
        .get("duration")
        .and_then(parse_number)
        .ok_or("workout without a duration")?;
    let minutes = match attributes.get("durationUnit").unwrap_or("min") {
        "s" | "sec" => duration / 60.0,
        "hr" | "h" => duration * 60.0,
        _ => duration,
    };
    if !(0.0..=rules::MAX_MINUTES as f64).contains(&minutes) {
        return Err("workout longer than a day");
    }
    let kind = attributes
        .get("workoutActivityType")
        .unwrap_or("HKWorkoutActivityTypeOther");
    Ok(Workout {
        start,
        activity_type: snake_case(kind.strip_prefix("HKWorkoutActivityType").unwrap_or(kind)),
        duration_minutes: minutes.round() as i32,
        calories: energy_kcal(
            attributes.get("totalEnergyBurned"),
            attributes.get("totalEnergyBurnedUnit"),
        ),
    })
}

fn energy_kcal(value: Option<&str>, unit: Option<&str>) -> Option<f64> {
    let value = parse_number(value?).filter(|v| *v >= 0.0)?;
    Some(match unit {
        Some("kJ") => value / 4.184,
        _ => value,
    })
}

/// `TraditionalStrengthTraining` → `traditional_strength_training` (at most 64 characters).
fn snake_case(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    if out.is_empty() {
        out.push_str("other");
    }
    out.chars().take(64).collect()
}

/// `2019-03-09 18:40:12 +0100`, Apple's date format.
fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S %z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// An element's attributes, unescaped. Small (a record has about ten).
struct Attributes(Vec<(String, String)>);

impl Attributes {
    fn of(element: &BytesStart) -> Self {
        Attributes(
            element
                .attributes()
                .flatten()
                .filter_map(|a| {
                    let key = String::from_utf8(a.key.as_ref().to_vec()).ok()?;
                    Some((key, a.unescape_value().ok()?.into_owned()))
                })
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Fails on the first attribute whose value cannot be stored ([`rules::check_text`]), naming it.
    fn check_text(&self, line: u64) -> Result<(), ParseError> {
        match self.0.iter().find(|(_, v)| rules::check_text(v).is_err()) {
            Some((key, _)) => Err(ParseError::UnstorableText {
                line,
                field: rules::echo(key),
            }),
            None => Ok(()),
        }
    }
}

/// Counts the lines the XML reader has consumed, for line numbers in findings and errors.
struct LineCounter<R> {
    inner: R,
    line: u64,
}

impl<R: BufRead> std::io::Read for LineCounter<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        self.line += out[..n].iter().filter(|b| **b == b'\n').count() as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if let Ok(buffer) = self.inner.fill_buf() {
            self.line += buffer[..amount.min(buffer.len())]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
        }
        self.inner.consume(amount);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_dates_and_energy() {
        assert_eq!(
            snake_case("TraditionalStrengthTraining"),
            "traditional_strength_training"
        );
        assert_eq!(snake_case("Running"), "running");
        assert_eq!(
            parse_date("2019-03-09 18:40:12 +0100").unwrap().to_rfc3339(),
            "2019-03-09T17:40:12+00:00"
        );
        assert!((energy_kcal(Some("418.4"), Some("kJ")).unwrap() - 100.0).abs() < 1e-9);
    }
}

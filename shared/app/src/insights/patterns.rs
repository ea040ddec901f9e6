//! From raw glucose and daily aggregates to stored patterns: recurring shapes (matrix profile motifs), unusual days
//! (discords) and association rules over binarised daily features.
//!
//! # Glucose grid
//! The last [`GRID_DAYS`] days of readings on the 5-minute grid (readings of one slot from several sources are
//! averaged), as analytics' [`RegularGrid`] ([`glucose_grid`]). Gaps of up to [`MAX_FILLED_GAP_SLOTS`] slots
//! (15 min: a missed transmission or two) are filled by linear interpolation (analytics' `fill_short_gaps`); longer
//! gaps stay missing, and any window touching one is left out of the matrix profile (stumpy's semantics), so a sensor
//! change never becomes a "pattern".
//!
//! # Motifs and discords
//! Motifs at m = 288 (24 h) and m = 36 (3 h) with stumpy's defaults except up to [`MAX_MOTIFS`] motifs of up to
//! [`MAX_MATCHES`] matches each. Discords ("unusual days") at m = 288 with an exclusion zone of a whole window, so
//! the [`MAX_DISCORDS`] discords are different days. Example dates are local dates (the user's zone) of match starts.
//!
//! # Association rules
//! Over the sufficient-data days that have sleep, carbs, exercise and time-in-target recorded, each day becomes
//! items with thresholds from the user's own data: `good_glucose` (time in the user's target range > 70 %, the
//! consensus goal), `glucose_below_goal` (its complement), `short_sleep` (< 6 h), `high_carb` (carbs above the user's
//! median over those days) and `exercise` (≥ 30 min). Rules (mlxtend's apriori + association_rules, support ≥
//! [`RULE_MIN_SUPPORT`], confidence ≥ [`RULE_MIN_CONFIDENCE`]) are kept when behaviours lead to one glucose item with
//! lift > [`RULE_MIN_LIFT`]; the thresholds are stored with each rule.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use glucolens_analytics::cgm::CgmPoint;
use glucolens_analytics::matrix_profile::{self, MotifParams, RegularGrid};
use glucolens_analytics::metrics::stats::median;
use glucolens_analytics::rules::{run_rules, RuleMetric, RulesParams};
use glucolens_analytics::AnalyticsError;
use ndarray::Array2;
use serde_json::json;

use glucolens_domain::pattern::{NewPattern, PatternKind, RuleDay};

pub const GRID_DAYS: i64 = 90;
pub const SLOT_MINUTES: i64 = 5;
pub const MAX_FILLED_GAP_SLOTS: usize = 3;
pub const DAY_WINDOW: usize = 288;
pub const SHORT_WINDOW: usize = 36;
pub const MAX_MOTIFS: usize = 3;
pub const MAX_MATCHES: usize = 10;
pub const MAX_DISCORDS: usize = 3;
const EXAMPLE_DATES: usize = 5;

/// Days of glucose on the grid the shape patterns need at least: a 24-hour shape can only recur in two days.
pub const MIN_SHAPE_DAYS: f64 = 2.0;
pub const MIN_RULE_DAYS: usize = 14;
pub const RULE_MIN_SUPPORT: f64 = 0.1;
pub const RULE_MIN_CONFIDENCE: f64 = 0.6;
pub const RULE_MIN_LIFT: f64 = 1.1;
const MAX_RULES: usize = 5;
const GOOD_GLUCOSE_PERCENT: f64 = 70.0;
const SHORT_SLEEP_MINUTES: f64 = 360.0;
const EXERCISE_MINUTES: f64 = 30.0;

/// The glucose grid of the store's 5-minute slot averages (slot start, mg/dL; sorted, on the 5-minute grid): analytics'
/// [`RegularGrid`] (slot `k` starts at `start + 5·k` min, NaN where missing) with gaps of up to
/// [`MAX_FILLED_GAP_SLOTS`] slots filled. `None` without any slot.
pub fn glucose_grid(slots: &[(DateTime<Utc>, f64)]) -> Result<Option<RegularGrid>, AnalyticsError> {
    if slots.is_empty() {
        return Ok(None);
    }
    let points: Vec<CgmPoint> = slots
        .iter()
        .map(|&(at, mg_dl)| CgmPoint {
            time: at.fixed_offset(),
            mg_dl,
        })
        .collect();
    let mut grid = matrix_profile::regular_grid(&points, Duration::minutes(SLOT_MINUTES))?;
    grid.fill_short_gaps(MAX_FILLED_GAP_SLOTS);
    Ok(Some(grid))
}

/// Days of glucose on the grid: slots with a value (after filling short gaps) over the slots of a day.
pub fn glucose_days(grid: Option<&RegularGrid>) -> f64 {
    grid.map_or(0.0, |grid| {
        grid.values.iter().filter(|v| !v.is_nan()).count() as f64 / DAY_WINDOW as f64
    })
}

/// Motifs and discords of the grid. Windows that never fit (too short a series, gaps everywhere) yield none.
pub fn shape_patterns(grid: &RegularGrid, tz: Tz) -> Result<Vec<NewPattern>, AnalyticsError> {
    let mut patterns = Vec::new();
    for (kind, window) in [
        (PatternKind::DailyMotif, DAY_WINDOW),
        (PatternKind::ShortMotif, SHORT_WINDOW),
    ] {
        let Some(profile) = profile_or_none(&grid.values, window)? else {
            continue;
        };
        let params = MotifParams {
            max_motifs: MAX_MOTIFS,
            max_matches: Some(MAX_MATCHES),
            ..MotifParams::default()
        };
        for (rank, motif) in matrix_profile::motifs(&grid.values, &profile.profile, &params)?
            .iter()
            .enumerate()
        {
            let starts: Vec<DateTime<Utc>> = motif
                .indices
                .iter()
                .map(|&k| grid.slot_start(k as usize).to_utc())
                .collect();
            patterns.push(motif_pattern(kind, window, rank + 1, &starts, &motif.distances, tz));
        }
        if kind == PatternKind::DailyMotif {
            for (rank, discord) in matrix_profile::discords(&profile.profile, window, MAX_DISCORDS)
                .iter()
                .enumerate()
            {
                patterns.push(discord_pattern(
                    rank + 1,
                    grid.slot_start(discord.index).to_utc(),
                    discord.distance,
                    tz,
                ));
            }
        }
    }
    Ok(patterns)
}

fn profile_or_none(values: &[f64], window: usize) -> Result<Option<matrix_profile::MatrixProfile>, AnalyticsError> {
    // A motif needs at least two non-overlapping windows.
    if values.len() < 2 * window {
        return Ok(None);
    }
    match matrix_profile::stump(values, window) {
        Ok(profile) => Ok(Some(profile)),
        Err(AnalyticsError::InsufficientData { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

fn hours_label(window: usize) -> String {
    format!("{}-hour", window as i64 * SLOT_MINUTES / 60)
}

fn motif_pattern(
    kind: PatternKind,
    window: usize,
    rank: usize,
    starts: &[DateTime<Utc>],
    distances: &[f64],
    tz: Tz,
) -> NewPattern {
    let local: Vec<_> = starts.iter().map(|at| at.with_timezone(&tz)).collect();
    let mut example_dates: Vec<NaiveDate> = local.iter().map(|at| at.date_naive()).collect();
    example_dates.dedup();
    example_dates.truncate(EXAMPLE_DATES);
    let first = local[0];
    let description = format!(
        "A recurring {} glucose shape, seen {} times; the clearest example starts at {} on {}.",
        hours_label(window),
        starts.len(),
        first.format("%H:%M"),
        first.date_naive()
    );
    let neighbours = &distances[1.min(distances.len())..];
    let score = (!neighbours.is_empty()).then(|| neighbours.iter().sum::<f64>() / neighbours.len() as f64);
    NewPattern {
        kind,
        description,
        score,
        example_dates,
        metadata: json!({
            "rank": rank,
            "window_samples": window,
            "window_minutes": window as i64 * SLOT_MINUTES,
            "score": "mean z-normalised distance of the matches to the motif (lower = more alike)",
            "matches": local.iter().zip(distances).map(|(at, d)| json!({"start": at.to_rfc3339(), "distance": d}))
                .collect::<Vec<_>>(),
            "max_filled_gap_minutes": MAX_FILLED_GAP_SLOTS as i64 * SLOT_MINUTES,
        }),
        confidence: None,
        support: None,
        occurrences: u32::try_from(starts.len()).ok(),
    }
}

fn discord_pattern(rank: usize, start: DateTime<Utc>, distance: f64, tz: Tz) -> NewPattern {
    let local = start.with_timezone(&tz);
    NewPattern {
        kind: PatternKind::Discord,
        description: format!(
            "An unusual 24 hours starting at {} on {}: no other day in your data looks much like it.",
            local.format("%H:%M"),
            local.date_naive()
        ),
        score: Some(distance),
        example_dates: vec![local.date_naive()],
        metadata: json!({
            "rank": rank,
            "window_samples": DAY_WINDOW,
            "start": local.to_rfc3339(),
            "score": "z-normalised distance to the most similar other 24 hours (higher = more unusual)",
        }),
        confidence: None,
        support: None,
        occurrences: None,
    }
}

const GLUCOSE_ITEMS: [&str; 2] = ["good_glucose", "glucose_below_goal"];

/// Association rules from behaviours to a glucose item (module docs).
pub fn rule_patterns(days: &[RuleDay], target: (f64, f64)) -> Result<Vec<NewPattern>, AnalyticsError> {
    if days.len() < MIN_RULE_DAYS {
        return Ok(Vec::new());
    }
    let carbs_median = median(&days.iter().map(|d| d.carbs_g).collect::<Vec<_>>());
    let items = [
        "good_glucose",
        "glucose_below_goal",
        "short_sleep",
        "high_carb",
        "exercise",
    ];
    let present = Array2::from_shape_fn((days.len(), items.len()), |(row, item)| {
        let day = &days[row];
        match item {
            0 => day.pct_in_user_target > GOOD_GLUCOSE_PERCENT,
            1 => day.pct_in_user_target <= GOOD_GLUCOSE_PERCENT,
            2 => day.sleep_minutes < SHORT_SLEEP_MINUTES,
            3 => day.carbs_g > carbs_median,
            _ => day.exercise_minutes >= EXERCISE_MINUTES,
        }
    });
    let names: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    let params = RulesParams {
        min_support: RULE_MIN_SUPPORT,
        max_len: Some(3),
        metric: RuleMetric::Confidence,
        min_threshold: RULE_MIN_CONFIDENCE,
    };
    let mut rules: Vec<_> = run_rules(present.view(), &names, &params)?
        .rules
        .into_iter()
        .filter(|rule| {
            rule.lift > RULE_MIN_LIFT
                && rule.consequents.len() == 1
                && GLUCOSE_ITEMS.contains(&rule.consequents[0].as_str())
                && rule.antecedents.iter().all(|a| !GLUCOSE_ITEMS.contains(&a.as_str()))
        })
        .collect();
    rules.sort_by(|a, b| b.lift.total_cmp(&a.lift).then(b.support.total_cmp(&a.support)));
    rules.truncate(MAX_RULES);

    let column = |name: &str| items.iter().position(|item| *item == name).unwrap_or(0);
    let thresholds = json!({
        "good_glucose": format!("time in your target range ({}–{} mg/dL) above {GOOD_GLUCOSE_PERCENT} %", target.0, target.1),
        "short_sleep": format!("under {} h of sleep", SHORT_SLEEP_MINUTES / 60.0),
        "high_carb": format!("more than {carbs_median:.0} g of carbohydrates (your median)"),
        "exercise": format!("at least {EXERCISE_MINUTES} min of exercise"),
    });
    Ok(rules
        .iter()
        .enumerate()
        .map(|(rank, rule)| {
            let matching: Vec<NaiveDate> = (0..days.len())
                .rev()
                .filter(|&row| rule.antecedents.iter().chain(&rule.consequents).all(|item| present[[row, column(item)]]))
                .map(|row| days[row].date)
                .take(EXAMPLE_DATES)
                .collect();
            let antecedent_days = (rule.antecedent_support * days.len() as f64).round();
            let both_days = (rule.support * days.len() as f64).round();
            NewPattern {
                kind: PatternKind::AssociationRule,
                description: format!(
                    "On days with {}, {} on {:.0} % of them ({both_days} of {antecedent_days} days), against {:.0} % of \
                     all {} days.",
                    rule.antecedents.iter().map(|a| item_phrase(a, carbs_median)).collect::<Vec<_>>().join(" and "),
                    item_phrase(&rule.consequents[0], carbs_median),
                    rule.confidence * 100.0,
                    rule.consequent_support * 100.0,
                    days.len()
                ),
                score: Some(rule.lift),
                example_dates: matching,
                metadata: json!({
                    "rank": rank + 1,
                    "antecedents": rule.antecedents,
                    "consequents": rule.consequents,
                    "support": rule.support,
                    "confidence": rule.confidence,
                    "lift": rule.lift,
                    "days": days.len(),
                    "thresholds": thresholds,
                    "score": "lift (how much more often the outcome follows these days than days in general)",
                }),
                confidence: Some(rule.confidence),
                support: Some(rule.support),
                occurrences: None,
            }
        })
        .collect())
}

fn item_phrase(item: &str, carbs_median: f64) -> String {
    match item {
        "good_glucose" => "your glucose was in your target range more than 70 % of the time".into(),
        "glucose_below_goal" => "your glucose was in your target range 70 % of the time or less".into(),
        "short_sleep" => "under 6 h of sleep".into(),
        "high_carb" => format!("more than {carbs_median:.0} g of carbohydrates"),
        "exercise" => "30 min or more of exercise".into(),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_places_slots_and_marks_missing_ones() {
        let t0 = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().to_utc();
        let slots = [
            (t0, 100.0),
            (t0 + Duration::minutes(10), 120.0),
            (t0 + Duration::minutes(60), 90.0),
        ];
        let grid = glucose_grid(&slots).unwrap().unwrap();
        assert_eq!(grid.values.len(), 13);
        assert_eq!(grid.values[1], 110.0);
        assert!(grid.values[5].is_nan());
        assert_eq!(grid.slot_start(12), t0 + Duration::minutes(60));
        assert!(glucose_grid(&[]).unwrap().is_none());
    }

    fn grid(start: DateTime<Utc>, values: Vec<f64>) -> RegularGrid {
        RegularGrid {
            start: start.fixed_offset(),
            interval: Duration::minutes(SLOT_MINUTES),
            values,
        }
    }

    /// 10 days of a repeating daily curve: motifs at both windows, discords at 24 h, example dates in the user's zone.
    #[test]
    fn a_repeating_day_yields_motifs_and_discords() {
        let t0 = DateTime::parse_from_rfc3339("2026-01-01T05:00:00Z").unwrap().to_utc();
        let values: Vec<f64> = (0..DAY_WINDOW * 10)
            .map(|k| {
                let phase = (k % DAY_WINDOW) as f64 / DAY_WINDOW as f64 * std::f64::consts::TAU;
                let day = (k / DAY_WINDOW) as f64;
                130.0 + 40.0 * phase.sin() + 15.0 * (3.0 * phase).cos() + ((k * 7919) % 13) as f64 + day
            })
            .collect();
        let grid = grid(t0, values);
        let patterns = shape_patterns(&grid, chrono_tz::America::New_York).unwrap();
        let count = |kind| patterns.iter().filter(|p| p.kind == kind).count();
        assert!(count(PatternKind::DailyMotif) >= 1);
        assert!(count(PatternKind::ShortMotif) >= 1);
        assert_eq!(count(PatternKind::Discord), MAX_DISCORDS);
        let daily = patterns.iter().find(|p| p.kind == PatternKind::DailyMotif).unwrap();
        assert!(daily.description.starts_with("A recurring 24-hour glucose shape"));
        // 05:00 UTC is midnight in New York: local dates start on 2026-01-01.
        assert!(daily
            .example_dates
            .iter()
            .all(|d| *d >= NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()));
        assert_eq!(daily.metadata["window_samples"], 288);
        assert_eq!(
            daily.occurrences,
            Some(daily.metadata["matches"].as_array().unwrap().len() as u32)
        );
        assert!(patterns
            .iter()
            .filter(|p| p.kind == PatternKind::Discord)
            .all(|p| p.confidence.is_none() && p.support.is_none() && p.occurrences.is_none()));
    }

    #[test]
    fn too_short_a_series_has_no_shapes() {
        let grid = grid(Utc::now(), vec![100.0; 50]);
        assert!(shape_patterns(&grid, chrono_tz::UTC).unwrap().is_empty());
    }

    #[test]
    fn exercise_days_in_target_become_a_rule_with_its_thresholds() {
        let days: Vec<RuleDay> = (0..30)
            .map(|i| {
                let exercised = i % 2 == 0;
                RuleDay {
                    date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(i),
                    pct_in_user_target: if exercised { 80.0 } else { 55.0 },
                    sleep_minutes: 420.0 + (i % 5) as f64 * 10.0,
                    carbs_g: 150.0 + (i % 7) as f64 * 10.0,
                    exercise_minutes: if exercised { 45.0 } else { 5.0 },
                }
            })
            .collect();
        let rules = rule_patterns(&days, (70.0, 180.0)).unwrap();
        let exercise = rules
            .iter()
            .find(|r| {
                r.metadata["antecedents"] == json!(["exercise"]) && r.metadata["consequents"] == json!(["good_glucose"])
            })
            .expect("exercise → good_glucose");
        assert_eq!(exercise.metadata["confidence"], 1.0);
        assert_eq!(
            (exercise.confidence, exercise.support, exercise.occurrences),
            (Some(1.0), exercise.metadata["support"].as_f64(), None)
        );
        assert_eq!(exercise.support, Some(0.5));
        assert_eq!(exercise.score, Some(2.0));
        assert_eq!(exercise.example_dates.len(), EXAMPLE_DATES);
        assert!(exercise
            .description
            .starts_with("On days with 30 min or more of exercise, your glucose was in your target"));
        assert!(exercise.metadata["thresholds"]["high_carb"]
            .as_str()
            .unwrap()
            .contains("your median"));
        assert!(rule_patterns(&days[..10], (70.0, 180.0)).unwrap().is_empty());
    }
}

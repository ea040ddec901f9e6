//! Meal responses of a period ([`list`]): what each meal did to glucose, summarised per meal type and per repeated
//! meal, with the person's rise per 10 g of carbohydrate.
//!
//! - Meals are those eaten in `[start, end)`; readings are read from 30 minutes before `start` to 2 hours after
//!   `end`, one per 5-minute slot as the daily aggregation reads them ([`super::episodes::readings`]), and each
//!   meal's response is `glucolens_analytics::meals::meal_response` (baseline, ΔG, time to peak, iAUC, time back to
//!   baseline, coverage rule: documented there).
//! - A meal is `overlapping` when another meal was eaten within its two-hour window (at the same instant or up to
//!   2 hours later). Its response is listed but left out of every summary and of the carbohydrate slope: part of its
//!   rise belongs to the other meal.
//! - Per meal type and per repeated meal (the description lowercased, trimmed, inner whitespace collapsed, so
//!   "Pasta  Lunch " and "pasta lunch" are one meal): n, mean and sample SD of ΔG and iAUC. A repeated meal has at
//!   least 2 responses; `best_meal` and `worst_meal` are the repeated meals with the lowest and highest mean ΔG,
//!   shown when at least 2 repeated meals exist.
//! - The rise per 10 g of carbohydrate and its 95 % confidence interval come from the non-overlapping meals with
//!   carbohydrate logged (> 0 g): `glucolens_analytics::meals::rise_per_10g_carbs`.
//!
//! Glucose quantities are in the user's display unit, mg/dL to 0.1 and mmol/L to 0.01 (iAUC in unit·min); minutes
//! to 0.1.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use glucolens_analytics::meals::{self as analysis, MealResponse, ResponseSummary, BASELINE_MINUTES, WINDOW_MINUTES};
use glucolens_domain::{rules, GlucoseUnit, MgDl};
use glucolens_store::records::MealRow;
use glucolens_store::users::StoredSettings;
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::InsightsError;

/// What one meal did to glucose, in the display unit.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ShownResponse {
    /// Mean glucose in the 30 minutes before the meal.
    pub baseline: f64,
    /// Highest glucose in the 2 hours after the meal minus the baseline (ΔG).
    pub peak_rise: f64,
    pub minutes_to_peak: f64,
    /// Incremental area above the baseline over the 2 hours (unit·min).
    pub incremental_auc: f64,
    /// First moment after the peak at or below the baseline; `null` when still above after 2 hours.
    pub minutes_to_baseline: Option<f64>,
}

/// One meal and its response.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MealWithResponse {
    pub id: i64,
    pub eaten_at: DateTime<Utc>,
    pub meal_type: Option<String>,
    pub description: Option<String>,
    pub carbs_grams: f64,
    /// Another meal was eaten within this meal's 2 hours: left out of the summaries.
    pub overlapping: bool,
    /// `null` when fewer than 70 % of the 5-minute slots of the 30 minutes before or the 2 hours after hold a reading.
    pub response: Option<ShownResponse>,
}

/// The mean response of a group of meals, in the display unit.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GroupResponse {
    /// The meal type, or the normalised description of a repeated meal.
    pub name: String,
    pub n: usize,
    pub mean_peak_rise: f64,
    /// Sample SD; `null` for a single meal.
    pub sd_peak_rise: Option<f64>,
    pub mean_incremental_auc: f64,
    pub sd_incremental_auc: Option<f64>,
}

/// The rise per 10 g of carbohydrate (OLS with intercept) and its 95 % confidence interval, in the display unit.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CarbSensitivity {
    /// Meals in the regression.
    pub n: usize,
    pub rise_per_10g: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// The caller's meal responses in a range.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MealResponses {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The unit of every glucose quantity.
    pub unit: GlucoseUnit,
    /// By time.
    pub meals: Vec<MealWithResponse>,
    /// By meal type name.
    pub by_meal_type: Vec<GroupResponse>,
    /// Meals with at least 2 responses, lowest mean rise first.
    pub repeated_meals: Vec<GroupResponse>,
    /// The repeated meal with the lowest mean rise (with at least 2 repeated meals).
    pub best_meal: Option<GroupResponse>,
    /// The repeated meal with the highest mean rise (with at least 2 repeated meals).
    pub worst_meal: Option<GroupResponse>,
    /// `null` with fewer than 3 meals with carbohydrate logged or a single amount.
    pub carb_sensitivity: Option<CarbSensitivity>,
}

/// A description as one repeated meal: lowercase, trimmed, inner whitespace collapsed; `None` when empty.
pub fn normalise_description(description: &str) -> Option<String> {
    let words: Vec<&str> = description.split_whitespace().collect();
    (!words.is_empty()).then(|| words.join(" ").to_lowercase())
}

/// A meal as the pure part needs it.
#[derive(Debug, Clone)]
pub struct Meal {
    pub eaten_at: DateTime<Utc>,
    pub meal_type: Option<String>,
    pub description: Option<String>,
    pub carbs_grams: f64,
}

/// A meal's response in mg/dL and whether it overlaps another meal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Computed {
    pub overlapping: bool,
    pub response: Option<MealResponse>,
}

/// The response of each of `meals` (sorted by time) from `readings` (UTC instants and mg/dL, sorted by time).
pub fn responses(meals: &[Meal], readings: &[(DateTime<Utc>, f64)]) -> Vec<Computed> {
    let window = Duration::minutes(WINDOW_MINUTES as i64);
    let before = Duration::minutes(BASELINE_MINUTES as i64);
    meals
        .iter()
        .enumerate()
        .map(|(i, meal)| {
            let at = meal.eaten_at;
            let overlapping = meals
                .iter()
                .enumerate()
                .any(|(j, other)| j != i && other.eaten_at >= at && other.eaten_at <= at + window);
            let from = readings.partition_point(|&(t, _)| t < at - before);
            let relative: Vec<(f64, f64)> = readings[from..]
                .iter()
                .take_while(|&&(t, _)| t <= at + window)
                .map(|&(t, g)| ((t - at).num_seconds() as f64 / 60.0, g))
                .collect();
            Computed {
                overlapping,
                response: analysis::meal_response(&relative),
            }
        })
        .collect()
}

/// A mg/dL quantity in `unit`, rounded once: mg/dL to 0.1 (as stored values), mmol/L to 0.01 (as displayed values).
fn shown(unit: GlucoseUnit, mg_dl: f64) -> f64 {
    match unit {
        GlucoseUnit::MgDl => rules::round_mg_dl(mg_dl),
        GlucoseUnit::MmolL => unit.display(MgDl::from_stored(mg_dl)),
    }
}

fn group(name: String, summary: ResponseSummary, unit: GlucoseUnit) -> GroupResponse {
    GroupResponse {
        name,
        n: summary.n,
        mean_peak_rise: shown(unit, summary.mean_peak_rise),
        sd_peak_rise: summary.sd_peak_rise.map(|sd| shown(unit, sd)),
        mean_incremental_auc: shown(unit, summary.mean_incremental_auc),
        sd_incremental_auc: summary.sd_incremental_auc.map(|sd| shown(unit, sd)),
    }
}

/// Summaries of the non-overlapping responses grouped by `key`, keeping groups of at least `min_n`, by name.
fn groups<'a>(
    meals: &'a [Meal],
    computed: &'a [Computed],
    key: impl Fn(&Meal) -> Option<String>,
    min_n: usize,
) -> Vec<(String, ResponseSummary)> {
    let mut by_key: BTreeMap<String, Vec<&MealResponse>> = BTreeMap::new();
    for (meal, c) in meals.iter().zip(computed) {
        if let (Some(response), false, Some(name)) = (&c.response, c.overlapping, key(meal)) {
            by_key.entry(name).or_default().push(response);
        }
    }
    by_key
        .into_iter()
        .filter(|(_, responses)| responses.len() >= min_n)
        .filter_map(|(name, responses)| Some((name, analysis::summarize(responses)?)))
        .collect()
}

/// The summaries of [`MealResponses`] from computed responses (pure).
pub fn summarise(
    meals: &[Meal],
    computed: &[Computed],
    unit: GlucoseUnit,
) -> (Vec<GroupResponse>, Vec<GroupResponse>, Option<CarbSensitivity>) {
    let by_meal_type = groups(meals, computed, |m| m.meal_type.clone(), 1)
        .into_iter()
        .map(|(name, s)| group(name, s, unit))
        .collect();
    let mut repeated = groups(
        meals,
        computed,
        |m| m.description.as_deref().and_then(normalise_description),
        2,
    );
    repeated.sort_by(|a, b| a.1.mean_peak_rise.total_cmp(&b.1.mean_peak_rise));
    let repeated = repeated.into_iter().map(|(name, s)| group(name, s, unit)).collect();
    let carbs: Vec<(f64, f64)> = meals
        .iter()
        .zip(computed)
        .filter(|(m, c)| m.carbs_grams > 0.0 && !c.overlapping)
        .filter_map(|(m, c)| Some((m.carbs_grams, c.response?.peak_rise)))
        .collect();
    let sensitivity = analysis::rise_per_10g_carbs(&carbs).map(|s| CarbSensitivity {
        n: s.n,
        rise_per_10g: shown(unit, s.rise_per_10g),
        ci_low: shown(unit, s.ci_low),
        ci_high: shown(unit, s.ci_high),
    });
    (by_meal_type, repeated, sensitivity)
}

/// The readings the meal responses of meals eaten in `[start, end)` need: from the first baseline to the end of the
/// last window.
pub fn reading_range((start, end): (DateTime<Utc>, DateTime<Utc>)) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        start - Duration::minutes(BASELINE_MINUTES as i64),
        end + Duration::minutes(WINDOW_MINUTES as i64) + Duration::seconds(1),
    )
}

/// The user's meal responses in `[start, end)`, in the display unit of their `settings` (the caller audits the read).
pub async fn list(
    db: &PgPool,
    user_id: Uuid,
    settings: &StoredSettings,
    range: (DateTime<Utc>, DateTime<Utc>),
) -> Result<MealResponses, InsightsError> {
    let readings = super::episodes::readings(db, user_id, reading_range(range)).await?;
    list_with_readings(db, user_id, settings, range, &readings).await
}

/// [`list`] with the readings already read (at least those of [`reading_range`]; others are not looked at).
pub async fn list_with_readings(
    db: &PgPool,
    user_id: Uuid,
    settings: &StoredSettings,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    readings: &[(DateTime<Utc>, f64)],
) -> Result<MealResponses, InsightsError> {
    let unit = settings
        .display_unit()
        .map_err(|_| InsightsError::BadData("the stored display unit is invalid".into()))?;
    let rows = super::episodes::rows_in::<MealRow>(db, user_id, (start, end)).await?;
    let meals: Vec<Meal> = rows
        .iter()
        .map(|row| Meal {
            eaten_at: row.timestamp,
            meal_type: row.meal_type.clone(),
            description: row.description.clone(),
            carbs_grams: row.carbs_grams,
        })
        .collect();
    let computed = responses(&meals, readings);
    let (by_meal_type, repeated_meals, carb_sensitivity) = summarise(&meals, &computed, unit);
    let (best_meal, worst_meal) = match repeated_meals.as_slice() {
        [first, .., last] => (Some(first.clone()), Some(last.clone())),
        _ => (None, None),
    };
    let minutes = rules::round_tenth;
    let meals = rows
        .into_iter()
        .zip(&computed)
        .map(|(row, c)| MealWithResponse {
            id: row.id,
            eaten_at: row.timestamp,
            meal_type: row.meal_type,
            description: row.description,
            carbs_grams: row.carbs_grams,
            overlapping: c.overlapping,
            response: c.response.map(|r| ShownResponse {
                baseline: shown(unit, r.baseline),
                peak_rise: shown(unit, r.peak_rise),
                minutes_to_peak: minutes(r.minutes_to_peak),
                incremental_auc: shown(unit, r.incremental_auc),
                minutes_to_baseline: r.minutes_to_baseline.map(minutes),
            }),
        })
        .collect();
    Ok(MealResponses {
        start,
        end,
        unit,
        meals,
        by_meal_type,
        repeated_meals,
        best_meal,
        worst_meal,
        carb_sensitivity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap()
    }

    fn meal(eaten_at: &str, description: &str, carbs: f64) -> Meal {
        Meal {
            eaten_at: at(eaten_at),
            meal_type: Some("lunch".into()),
            description: Some(description.into()),
            carbs_grams: carbs,
        }
    }

    /// Readings every 5 minutes from `from` for `hours`: 100 mg/dL, plus a trapezoid of height `rise` after each
    /// `meals` instant (up for 50 minutes, flat for 20, down for 50).
    fn trace(from: &str, hours: i64, meals: &[(&str, f64)]) -> Vec<(DateTime<Utc>, f64)> {
        let from = at(from);
        (0..hours * 12)
            .map(|k| {
                let t = from + Duration::minutes(5 * k);
                let extra: f64 = meals
                    .iter()
                    .map(|&(m, rise)| {
                        let minutes = (t - at(m)).num_minutes() as f64;
                        rise * (minutes.min(120.0 - minutes) / 50.0).clamp(0.0, 1.0)
                    })
                    .sum();
                (t, 100.0 + extra)
            })
            .collect()
    }

    #[test]
    fn descriptions_normalise_to_one_repeated_meal() {
        assert_eq!(normalise_description("  Pasta \t LUNCH "), Some("pasta lunch".into()));
        assert_eq!(normalise_description("   "), None);
    }

    #[test]
    fn responses_flag_overlaps_and_summaries_leave_them_out() {
        let meals = [
            meal("2025-03-01T08:00:00Z", "Oats", 40.0),
            meal("2025-03-02T08:00:00Z", "oats ", 40.0),
            meal("2025-03-03T08:00:00Z", "toast", 80.0),
            meal("2025-03-03T09:30:00Z", "toast", 20.0),
        ];
        let readings = [
            trace("2025-03-01T07:00:00Z", 4, &[("2025-03-01T08:00:00Z", 40.0)]),
            trace("2025-03-02T07:00:00Z", 4, &[("2025-03-02T08:00:00Z", 60.0)]),
            trace("2025-03-03T07:00:00Z", 3, &[("2025-03-03T08:00:00Z", 80.0)]),
        ]
        .concat();
        let computed = responses(&meals, &readings);
        let flags: Vec<(bool, bool)> = computed.iter().map(|c| (c.overlapping, c.response.is_some())).collect();
        // The 08:00 toast has a 09:30 meal in its window; the 09:30 one has no readings after 09:00.
        assert_eq!(flags, [(false, true), (false, true), (true, true), (false, false)]);
        assert_eq!(computed[1].response.unwrap().peak_rise, 60.0);

        let (types, repeated, slope) = summarise(&meals, &computed, GlucoseUnit::MgDl);
        assert_eq!(types.len(), 1);
        assert_eq!(
            (types[0].name.as_str(), types[0].n, types[0].mean_peak_rise),
            ("lunch", 2, 50.0)
        );
        assert_eq!(repeated.len(), 1, "toast has one usable response");
        assert_eq!((repeated[0].name.as_str(), repeated[0].n), ("oats", 2));
        assert_eq!(repeated[0].sd_peak_rise, Some(14.1), "sd(40, 60) = 14.14");
        assert_eq!(slope, None, "two meals of one carbohydrate amount");

        let (_, repeated_mmol, _) = summarise(&meals, &computed, GlucoseUnit::MmolL);
        assert_eq!(repeated_mmol[0].mean_peak_rise, 2.78, "50 / 18.0156 = 2.775");
    }
}

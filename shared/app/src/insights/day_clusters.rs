//! Similar days (the design's "cluster similar days — your best days share this pattern"), natively: the person's
//! complete days grouped by their 24-hour glucose profile, each group described by what sets its days apart, and
//! the group their best days fall in. Stored as patterns of kind `cluster`, one per group.
//!
//! - **A day's profile** is its 24 local hourly means (the user's zone, `glucolens_domain::local_day`) on the
//!   pattern grid (`super::patterns::glucose_grid`: one value per 5-minute slot, gaps up to 15 min filled). A day
//!   is **complete** when its daily aggregate has sufficient data (the one coverage rule, ≥ 70 % of slots) and
//!   every local hour holds at least [`MIN_SLOTS_PER_HOUR`] slots; a 23-hour DST day lacks an hour and is left out.
//! - **Clustering**: k-means (analytics' `clustering`, k-means++ seeding from a fixed seed, best of 10 runs) on the
//!   profiles in mg/dL, not normalised: a day that runs 40 mg/dL higher all day is a different day, not the same
//!   shape. k from 2 to [`MAX_K`] (at most one cluster per [`MIN_DAYS_PER_CLUSTER`] days) with the highest mean
//!   silhouette. Needs [`MIN_CLUSTER_DAYS`] complete days.
//! - **Description**: per cluster, the mean of time in the user's target range and mean glucose (the outcomes) and
//!   of the previous night's sleep, the day's exercise and carbohydrate (the behaviours, where recorded), against
//!   the other days', and the difference in SDs of all clustered days; features with |difference| ≥
//!   [`DISTINGUISHING_SD`] are named, largest first. Clusters are ranked by mean time in target (1 = best).
//! - **Best days**: the top quarter of clustered days by time in target (ties kept); the cluster holding most of
//!   them has `holds_best_days`.
//! - Each cluster lists all its `dates` (a client can colour a calendar by them) and its centre profile.

use std::collections::BTreeMap;

use chrono::{NaiveDate, Timelike};
use chrono_tz::Tz;
use glucolens_analytics::clustering::{kmeans_best_k, silhouettes, squared_distance, Clustering, KMeansParams};
use glucolens_analytics::matrix_profile::RegularGrid;
use glucolens_analytics::metrics::stats::{mean, sd};
use glucolens_analytics::AnalyticsError;
use glucolens_domain::pattern::{ClusterDay, NewPattern, PatternKind};
use glucolens_domain::rules::round_tenth;
use glucolens_domain::GlucoseUnit;
use serde_json::json;

pub const MIN_CLUSTER_DAYS: usize = 14;
pub const MAX_K: usize = 6;
pub const MIN_DAYS_PER_CLUSTER: usize = 5;
pub const MIN_SLOTS_PER_HOUR: usize = 6;
pub const DISTINGUISHING_SD: f64 = 0.5;
const BEST_DAY_SHARE: f64 = 0.25;
const EXAMPLE_DATES: usize = 5;

/// One complete day's local hourly means (mg/dL).
#[derive(Debug, Clone, PartialEq)]
pub struct DayProfile {
    pub date: NaiveDate,
    pub hourly: Vec<f64>,
}

/// The complete days of the grid (module docs), by date.
pub fn day_profiles(grid: &RegularGrid, tz: Tz) -> Vec<DayProfile> {
    let mut hours: BTreeMap<NaiveDate, [(f64, usize); 24]> = BTreeMap::new();
    for (k, &value) in grid.values.iter().enumerate() {
        if value.is_nan() {
            continue;
        }
        let local = grid.slot_start(k).with_timezone(&tz);
        let hour = &mut hours.entry(local.date_naive()).or_insert([(0.0, 0); 24])[local.hour() as usize];
        hour.0 += value;
        hour.1 += 1;
    }
    hours
        .into_iter()
        .filter(|(_, hours)| hours.iter().all(|&(_, n)| n >= MIN_SLOTS_PER_HOUR))
        .map(|(date, hours)| DayProfile {
            date,
            hourly: hours.iter().map(|&(sum, n)| sum / n as f64).collect(),
        })
        .collect()
}

/// The clustered days: dates, their features and their grouping.
#[derive(Debug, Clone, PartialEq)]
pub struct DayClusters {
    pub days: Vec<ClusterDay>,
    pub profiles: Vec<Vec<f64>>,
    pub clustering: Clustering,
    /// Mean silhouette of all days for the chosen k.
    pub silhouette: f64,
    /// Each day's own silhouette.
    pub day_silhouettes: Vec<f64>,
}

/// Clusters the complete days: the profiles joined with the days' aggregates (days without a sufficient aggregate
/// are left out). `None` with fewer than [`MIN_CLUSTER_DAYS`] such days.
pub fn cluster_days(profiles: &[DayProfile], days: &[ClusterDay]) -> Result<Option<DayClusters>, AnalyticsError> {
    let by_date: BTreeMap<NaiveDate, &ClusterDay> = days.iter().map(|day| (day.date, day)).collect();
    let (days, profiles): (Vec<ClusterDay>, Vec<Vec<f64>>) = profiles
        .iter()
        .filter_map(|profile| Some(((*by_date.get(&profile.date)?).clone(), profile.hourly.clone())))
        .unzip();
    if days.len() < MIN_CLUSTER_DAYS {
        return Ok(None);
    }
    let max_k = MAX_K.min(days.len() / MIN_DAYS_PER_CLUSTER);
    let (clustering, silhouette) = kmeans_best_k(&profiles, 2..=max_k, &KMeansParams::default())?;
    let day_silhouettes = silhouettes(&profiles, &clustering.labels)?;
    Ok(Some(DayClusters {
        days,
        profiles,
        clustering,
        silhouette,
        day_silhouettes,
    }))
}

/// A feature of a day, as the description names it.
struct Feature {
    key: &'static str,
    label: &'static str,
    unit: &'static str,
    /// Behaviours are what a person does; outcomes are their glucose.
    behaviour: bool,
    more: &'static str,
    less: &'static str,
    value: fn(&ClusterDay) -> Option<f64>,
}

const FEATURES: [Feature; 5] = [
    Feature {
        key: "pct_in_target",
        label: "time in your target range",
        unit: "%",
        behaviour: false,
        more: "more time in your target range",
        less: "less time in your target range",
        value: |d| Some(d.pct_in_target),
    },
    Feature {
        key: "mean_glucose_mg_dl",
        label: "mean glucose",
        unit: "mg/dL",
        behaviour: false,
        more: "higher mean glucose",
        less: "lower mean glucose",
        value: |d| Some(d.mean_glucose_mg_dl),
    },
    Feature {
        key: "sleep_minutes",
        label: "sleep the night before",
        unit: "min",
        behaviour: true,
        more: "more sleep the night before",
        less: "less sleep the night before",
        value: |d| d.sleep_before_minutes,
    },
    Feature {
        key: "exercise_minutes",
        label: "exercise",
        unit: "min",
        behaviour: true,
        more: "more exercise",
        less: "less exercise",
        value: |d| d.exercise_minutes,
    },
    Feature {
        key: "carbs_g",
        label: "carbohydrate",
        unit: "g",
        behaviour: true,
        more: "more carbohydrate",
        less: "less carbohydrate",
        value: |d| d.carbs_g,
    },
];

/// "7.5 h", "48 min", "82 %", "118 mg/dL" or "6.6 mmol/L" (the user's unit), "180 g".
fn amount(feature: &Feature, value: f64, unit: GlucoseUnit) -> String {
    match (feature.unit, unit) {
        ("min", _) if feature.key == "sleep_minutes" => format!("{:.1} h", value / 60.0),
        ("%", _) => format!("{value:.0} %"),
        ("mg/dL", GlucoseUnit::MmolL) => format!("{:.1} mmol/L", unit.from_mg_dl(value)),
        (label, _) => format!("{value:.0} {label}"),
    }
}

/// The cluster patterns (module docs), best cluster first; the description in the user's glucose unit.
pub fn cluster_patterns(clusters: &DayClusters, unit: GlucoseUnit) -> Vec<NewPattern> {
    let DayClusters {
        days,
        profiles,
        clustering,
        silhouette,
        day_silhouettes,
    } = clusters;
    let k = clustering.k();
    let members: Vec<Vec<usize>> = (0..k)
        .map(|c| (0..days.len()).filter(|&i| clustering.labels[i] == c).collect())
        .collect();
    let best = best_days(days);
    let best_counts: Vec<usize> = members
        .iter()
        .map(|rows| rows.iter().filter(|&&i| best[i]).count())
        .collect();
    let holder = (0..k)
        .max_by_key(|&c| (best_counts[c], std::cmp::Reverse(c)))
        .unwrap_or(0);
    let tir = |rows: &[usize]| mean(&rows.iter().map(|&i| days[i].pct_in_target).collect::<Vec<_>>());
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| tir(&members[b]).total_cmp(&tir(&members[a])));

    order
        .iter()
        .enumerate()
        .map(|(rank, &c)| {
            let rows = &members[c];
            let others: Vec<usize> = (0..days.len()).filter(|i| !rows.contains(i)).collect();
            let features: Vec<_> = FEATURES
                .iter()
                .filter_map(|feature| compare(feature, days, rows, &others))
                .collect();
            let mut distinguishing: Vec<&(&Feature, f64, f64, f64)> =
                features.iter().filter(|f| f.3.abs() >= DISTINGUISHING_SD).collect();
            distinguishing.sort_by(|a, b| b.3.abs().total_cmp(&a.3.abs()));
            let centre = &clustering.centres[c];
            let mut closest = rows.clone();
            closest.sort_by(|&a, &b| {
                squared_distance(&profiles[a], centre).total_cmp(&squared_distance(&profiles[b], centre))
            });
            let mut example_dates: Vec<NaiveDate> = closest.iter().take(EXAMPLE_DATES).map(|&i| days[i].date).collect();
            example_dates.sort();
            let cluster_silhouette = mean(&rows.iter().map(|&i| day_silhouettes[i]).collect::<Vec<_>>());
            NewPattern {
                kind: PatternKind::Cluster,
                description: describe(
                    rows.len(),
                    days.len(),
                    &distinguishing,
                    c == holder,
                    best_counts[c],
                    &best,
                    unit,
                ),
                score: Some(cluster_silhouette),
                example_dates,
                metadata: json!({
                    "rank": rank + 1,
                    "k": k,
                    "silhouette": silhouette,
                    "days_clustered": days.len(),
                    "cluster_days": rows.len(),
                    "best_days": best_counts[c],
                    "best_days_total": best.iter().filter(|&&b| b).count(),
                    "holds_best_days": c == holder,
                    "dates": rows.iter().map(|&i| days[i].date).collect::<Vec<_>>(),
                    "profile_mg_dl": centre.iter().copied().map(round_tenth).collect::<Vec<_>>(),
                    "features": features.iter().map(|(feature, cluster, other, sd)| json!({
                        "feature": feature.key,
                        "label": feature.label,
                        "unit": feature.unit,
                        "behaviour": feature.behaviour,
                        "cluster": round_tenth(*cluster),
                        "other_days": round_tenth(*other),
                        "difference_sd": (sd * 100.0).round() / 100.0,
                    })).collect::<Vec<_>>(),
                    "distinguishing": distinguishing.iter().map(|f| f.0.key).collect::<Vec<_>>(),
                    "score": "mean silhouette of the cluster's days (−1 to 1; higher = more clearly its own group)",
                    "method": "k-means on 24 local hourly means (mg/dL), k chosen by silhouette",
                }),
                confidence: None,
                support: None,
                occurrences: u32::try_from(rows.len()).ok(),
            }
        })
        .collect()
}

/// The top [`BEST_DAY_SHARE`] of days by time in target, ties at the threshold included.
fn best_days(days: &[ClusterDay]) -> Vec<bool> {
    let mut tir: Vec<f64> = days.iter().map(|d| d.pct_in_target).collect();
    tir.sort_by(|a, b| b.total_cmp(a));
    let count = ((days.len() as f64 * BEST_DAY_SHARE).ceil() as usize).max(1);
    let threshold = tir[count - 1];
    days.iter().map(|d| d.pct_in_target >= threshold).collect()
}

/// (feature, cluster mean, other days' mean, difference in SDs of all days) where both sides have values.
fn compare<'f>(
    feature: &'f Feature,
    days: &[ClusterDay],
    rows: &[usize],
    others: &[usize],
) -> Option<(&'f Feature, f64, f64, f64)> {
    let values = |rows: &[usize]| -> Vec<f64> { rows.iter().filter_map(|&i| (feature.value)(&days[i])).collect() };
    let (inside, outside) = (values(rows), values(others));
    let all: Vec<f64> = days.iter().filter_map(feature.value).collect();
    if inside.is_empty() || outside.is_empty() || all.len() < 2 {
        return None;
    }
    let (cluster, other) = (mean(&inside), mean(&outside));
    let spread = sd(&all);
    let difference = if spread > 0.0 { (cluster - other) / spread } else { 0.0 };
    Some((feature, cluster, other, difference))
}

fn describe(
    size: usize,
    total: usize,
    distinguishing: &[&(&Feature, f64, f64, f64)],
    holds_best: bool,
    best_here: usize,
    best: &[bool],
    unit: GlucoseUnit,
) -> String {
    let traits: Vec<String> = distinguishing
        .iter()
        .take(3)
        .map(|(feature, cluster, other, sd)| {
            format!(
                "{} ({} against {})",
                if *sd > 0.0 { feature.more } else { feature.less },
                amount(feature, *cluster, unit),
                amount(feature, *other, unit)
            )
        })
        .collect();
    let mut sentence = format!("{size} of your {total} complete days look alike");
    if traits.is_empty() {
        sentence.push_str(", with no clear difference from your other days.");
    } else {
        sentence.push_str(&format!(": {}.", traits.join(", ")));
    }
    if holds_best {
        let total_best = best.iter().filter(|&&b| b).count();
        sentence.push_str(&format!(
            " Your best days share this pattern: {best_here} of your {total_best} days with the most time in range are here."
        ));
    }
    sentence
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration};

    fn grid(start: &str, values: Vec<f64>) -> RegularGrid {
        RegularGrid {
            start: DateTime::parse_from_rfc3339(start).unwrap(),
            interval: Duration::minutes(5),
            values,
        }
    }

    #[test]
    fn profiles_are_local_hourly_means_of_complete_days() {
        // Two New York days from local midnight (05:00 UTC in January); the second misses 06:00–07:00.
        let mut values: Vec<f64> = (0..2 * 288).map(|k| 100.0 + (k % 288 / 12) as f64).collect();
        for v in &mut values[288 + 6 * 12..288 + 7 * 12] {
            *v = f64::NAN;
        }
        let profiles = day_profiles(&grid("2026-01-05T05:00:00Z", values), chrono_tz::America::New_York);
        assert_eq!(profiles.len(), 1);
        assert_eq!(profiles[0].date, NaiveDate::from_ymd_opt(2026, 1, 5).unwrap());
        assert_eq!(profiles[0].hourly[0], 100.0);
        assert_eq!(profiles[0].hourly[23], 123.0);
        // A 23-hour DST day (8 March 2026 in New York) lacks its 02:00 hour and is left out.
        let dst = day_profiles(
            &grid("2026-03-08T05:00:00Z", vec![110.0; 276]),
            chrono_tz::America::New_York,
        );
        assert!(dst.is_empty());
    }

    fn day(i: u64, high_evening: bool) -> (DayProfile, ClusterDay) {
        let date = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(i);
        let wobble = (i % 5) as f64;
        let hourly = (0..24)
            .map(|h| 110.0 + wobble + if high_evening && h >= 21 { 120.0 } else { 0.0 })
            .collect();
        let features = ClusterDay {
            date,
            pct_in_target: if high_evening { 70.0 + wobble } else { 90.0 + wobble },
            mean_glucose_mg_dl: if high_evening { 125.0 } else { 112.0 },
            sleep_before_minutes: Some(420.0 + wobble),
            exercise_minutes: Some(30.0),
            carbs_g: Some(if high_evening { 260.0 } else { 180.0 } + wobble),
        };
        (DayProfile { date, hourly }, features)
    }

    #[test]
    fn two_day_types_become_two_described_clusters() {
        let (profiles, days): (Vec<_>, Vec<_>) = (0..30).map(|i| day(i, i % 3 == 0)).unzip();
        assert!(cluster_days(&profiles[..13], &days).unwrap().is_none());
        let clusters = cluster_days(&profiles, &days).unwrap().unwrap();
        assert_eq!(clusters.clustering.k(), 2);
        let patterns = cluster_patterns(&clusters, GlucoseUnit::MgDl);
        let (best, late) = (&patterns[0], &patterns[1]);
        assert_eq!((best.occurrences, late.occurrences), (Some(20), Some(10)));
        assert_eq!(best.metadata["holds_best_days"], true);
        assert_eq!(late.metadata["holds_best_days"], false);
        assert_eq!(best.metadata["best_days"], 8);
        assert!(
            best.description.starts_with("20 of your 30 complete days look alike: ")
                && best.description.contains("less carbohydrate (182 g against 262 g)")
                && best
                    .description
                    .contains("Your best days share this pattern: 8 of your 8 days"),
            "{}",
            best.description
        );
        assert!(late
            .description
            .contains("higher mean glucose (125 mg/dL against 112 mg/dL)"));
        // Sleep and exercise do not differ between the types, so they are not named.
        assert_eq!(late.metadata["distinguishing"].as_array().unwrap().len(), 3);
        assert_eq!(late.metadata["dates"].as_array().unwrap().len(), 10);
        let mmol = cluster_patterns(&clusters, GlucoseUnit::MmolL);
        assert!(
            mmol[1].description.contains("(6.9 mmol/L against 6.2 mmol/L)"),
            "{}",
            mmol[1].description
        );
    }
}

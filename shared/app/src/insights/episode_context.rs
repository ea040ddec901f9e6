//! What preceded each hypo- and hyperglycaemic episode, and how often the same thing preceded the period's episodes
//! (explained episodes). Pure: the episodes service ([`super::episodes::list`]) reads the records of
//! [`RecordSpans::of`] and calls [`explain`] and [`explanations`].
//!
//! # An episode's context
//! - **Last meal**: the latest meal eaten in the [`CONTEXT_LOOKBACK`] before the episode's start (a meal at the
//!   start itself did not precede it), with its carbohydrate, meal type, description and the minutes since.
//! - **Exercise**: every activity of which some part lies in the [`CONTEXT_LOOKBACK`] before the start (begun
//!   before the start, ended at most that long before it), by start, with the minutes from its end to the episode's
//!   start (0 when the episode began during it). A record without duration (a day's step count) is no exercise, as
//!   it adds nothing to a day's exercise minutes.
//! - **During sleep**: `true` when the start lies in a recorded sleep session; `false` when it does not but sleep
//!   was recorded for the episode's night; `null` (unknown) when no sleep was recorded for that night. The night
//!   is the person's recorded one, not a fixed 00:00–06:00: an episode belongs to the night nearest it, from local
//!   noon of the evening's date to noon the next day ([`EPISODE_NIGHT_BOUNDARY_HOURS`]; a low at 09:00 belongs to
//!   the night just ended, one at 22:00 to the night ahead), and a session to the night of the evening it began
//!   (`glucolens_domain::local_day::night_of`, the daily aggregates' rule).
//!
//! # The period's explanations
//! Over the level-1 episodes (each excursion once: a level-2 episode lies inside a level-1 one), per type, counts
//! and a plain sentence, no advice: lows that began within [`HYPO_EXERCISE_WINDOW_MINUTES`] after exercise (its
//! end) or during it, within [`HYPO_MEAL_WINDOW_MINUTES`] after a meal, and during sleep; highs that began within
//! [`HYPER_MEAL_WINDOW_MINUTES`] after a meal, and during sleep. A type without episodes has no sentences.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use glucolens_domain::local_day;
use glucolens_domain::records::{ActivityRecord, Intensity, MealRecord, MealType, SleepRecord};
use glucolens_domain::rules;
use serde::Serialize;
use utoipa::ToSchema;

/// Below (hypo) or above (hyper) the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EpisodeType {
    Hypo,
    Hyper,
}

/// One episode, in the caller's display unit.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GlucoseEpisode {
    #[serde(rename = "type")]
    pub kind: EpisodeType,
    /// 1: below 70 or above 180 mg/dL (3.9 / 10.0 mmol/L); 2: below 54 or above 250 mg/dL (3.0 / 13.9 mmol/L).
    #[schema(minimum = 1, maximum = 2)]
    pub level: u8,
    /// First 5-minute grid point beyond the threshold (UTC).
    pub start: DateTime<Utc>,
    /// The grid point after the episode's last: the first of the 15 minutes back, or 5 minutes after the last point
    /// before a gap or the end of the data (UTC).
    pub end: DateTime<Utc>,
    /// `end − start`, a multiple of 5.
    pub duration_minutes: i64,
    /// Hypo only: the lowest value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nadir: Option<f64>,
    /// Hyper only: the highest value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak: Option<f64>,
    /// Level-1 hypo only: more than 120 consecutive minutes below 70 mg/dL (extended hypoglycaemia).
    pub extended: bool,
    /// Level 1 only: a level-2 episode, listed separately, lies inside this one.
    pub contains_level_2: bool,
}

/// How far back from an episode's start its context looks for meals and exercise.
pub const CONTEXT_LOOKBACK: Duration = Duration::hours(6);

/// A low counts as following exercise when the exercise ended at most this many minutes before it began (or was
/// under way): exercise raises insulin sensitivity for hours, so delayed post-exercise lows come up to several
/// hours later. The whole [`CONTEXT_LOOKBACK`].
pub const HYPO_EXERCISE_WINDOW_MINUTES: i64 = 360;

/// A low counts as following a meal when the meal was eaten at most this many minutes before it began: the
/// window in which meal-time insulin acts and a reactive low after a fast rise falls.
pub const HYPO_MEAL_WINDOW_MINUTES: i64 = 240;

/// A high counts as following a meal when the meal was eaten at most this many minutes before it began: a meal's
/// rise peaks within 1–2 hours and is mostly over by 3.
pub const HYPER_MEAL_WINDOW_MINUTES: i64 = 180;

/// An episode belongs to the night of the local date this many hours earlier: the night nearest it, from noon to
/// noon.
pub const EPISODE_NIGHT_BOUNDARY_HOURS: i64 = 12;

/// The records an episode's context is taken from, in any order; records outside the episodes' windows are
/// ignored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoggedRecords {
    pub meals: Vec<MealRecord>,
    pub activities: Vec<ActivityRecord>,
    pub sleep: Vec<SleepRecord>,
}

/// Where the records [`explain`] needs for episodes starting in a range lie, as half-open ranges of the records'
/// instants (a meal's time, an activity's and a sleep session's start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordSpans {
    pub meals: (DateTime<Utc>, DateTime<Utc>),
    pub activities: (DateTime<Utc>, DateTime<Utc>),
    pub sleep: (DateTime<Utc>, DateTime<Utc>),
}

impl RecordSpans {
    /// The spans for episodes starting in `[start, end)`.
    pub fn of((start, end): (DateTime<Utc>, DateTime<Utc>)) -> Self {
        // Activities and sleep sessions last at most a day (the ingest rule).
        let longest = Duration::minutes(rules::MAX_MINUTES);
        // A session of an episode's night starts between 06:00 of the evening's date and 06:00 the next day, the
        // episode between noon and noon: at most 30 hours before it or 18 after, plus an hour across a DST change.
        let nights = Duration::hours(31);
        Self {
            meals: (start - CONTEXT_LOOKBACK, end),
            activities: (start - CONTEXT_LOOKBACK - longest, end),
            sleep: (start - longest.max(nights), end + nights),
        }
    }
}

/// The last meal before an episode.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PrecedingMeal {
    /// When it was eaten (UTC).
    pub timestamp: DateTime<Utc>,
    /// Minutes from the meal to the episode's start.
    pub minutes_since: i64,
    pub carbs_grams: f64,
    pub meal_type: Option<MealType>,
    pub description: Option<String>,
}

/// Exercise before an episode.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PrecedingExercise {
    /// When it began (UTC).
    pub timestamp: DateTime<Utc>,
    pub activity_type: String,
    pub duration_minutes: i32,
    pub intensity: Option<Intensity>,
    /// Minutes from its end to the episode's start; 0 when the episode began during it.
    pub minutes_since_end: i64,
}

/// What preceded an episode.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct EpisodeContext {
    /// The latest meal eaten in the 6 hours before the start; `null` when none was logged.
    pub last_meal: Option<PrecedingMeal>,
    /// Exercise in the 6 hours before the start (or under way at it), by start.
    pub exercise: Vec<PrecedingExercise>,
    /// Whether the start lies in a recorded sleep session; `null` when no sleep was recorded for the episode's
    /// night (noon to noon local time).
    pub during_sleep: Option<bool>,
}

/// An episode with what preceded it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ExplainedEpisode {
    #[serde(flatten)]
    pub episode: GlucoseEpisode,
    pub context: EpisodeContext,
}

/// What an explanation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContextFactor {
    Exercise,
    Meal,
    Sleep,
}

/// How many of the period's episodes of one type a factor preceded, in numbers and words.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EpisodeExplanation {
    #[serde(rename = "type")]
    pub kind: EpisodeType,
    pub factor: ContextFactor,
    /// Exercise and meal: how long before the start the factor counts, in minutes; `null` for sleep.
    pub window_minutes: Option<i64>,
    /// Level-1 episodes of this type the factor preceded (sleep: that began during sleep).
    pub count: usize,
    /// Level-1 episodes of this type in the period.
    pub total: usize,
    /// Sleep only: episodes on nights with no sleep recorded, counted neither way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<usize>,
    /// The finding in words, e.g. "7 of 9 lows began within 6 h after exercise".
    pub text: String,
}

/// Each episode with what preceded it in `records`; `tz` is the person's zone (for their nights).
pub fn explain(episodes: Vec<GlucoseEpisode>, records: &LoggedRecords, tz: Tz) -> Vec<ExplainedEpisode> {
    episodes
        .into_iter()
        .map(|episode| ExplainedEpisode {
            context: context_of(episode.start, records, tz),
            episode,
        })
        .collect()
}

fn context_of(start: DateTime<Utc>, records: &LoggedRecords, tz: Tz) -> EpisodeContext {
    let since = start - CONTEXT_LOOKBACK;
    let last_meal = records
        .meals
        .iter()
        .filter(|meal| meal.eaten_at >= since && meal.eaten_at < start)
        .max_by_key(|meal| meal.eaten_at)
        .map(|meal| PrecedingMeal {
            timestamp: meal.eaten_at,
            minutes_since: (start - meal.eaten_at).num_minutes(),
            carbs_grams: meal.carbs_g,
            meal_type: meal.meal_type,
            description: meal.description.clone(),
        });
    let mut exercise: Vec<PrecedingExercise> = records
        .activities
        .iter()
        .filter_map(|activity| {
            let end = activity.start_time + Duration::minutes(activity.duration_minutes.into());
            let exercised = activity.duration_minutes > 0;
            (exercised && activity.start_time < start && end >= since).then(|| PrecedingExercise {
                timestamp: activity.start_time,
                activity_type: activity.activity_type.clone(),
                duration_minutes: activity.duration_minutes,
                intensity: activity.intensity,
                minutes_since_end: (start - end).num_minutes().max(0),
            })
        })
        .collect();
    exercise.sort_by_key(|e| e.timestamp);
    EpisodeContext {
        last_meal,
        exercise,
        during_sleep: during_sleep(start, &records.sleep, tz),
    }
}

fn during_sleep(start: DateTime<Utc>, sleep: &[SleepRecord], tz: Tz) -> Option<bool> {
    if sleep.iter().any(|s| s.start_time <= start && start < s.end_time) {
        return Some(true);
    }
    let night = episode_night(tz, start);
    sleep
        .iter()
        .any(|s| local_day::night_of(tz, s.start_time) == night)
        .then_some(false)
}

/// The night (local date of its evening) an episode starting at `start` belongs to.
fn episode_night(tz: Tz, start: DateTime<Utc>) -> NaiveDate {
    (start.with_timezone(&tz).naive_local() - Duration::hours(EPISODE_NIGHT_BOUNDARY_HOURS)).date()
}

/// The period's explanations (see the module documentation), lows first.
pub fn explanations(episodes: &[ExplainedEpisode]) -> Vec<EpisodeExplanation> {
    let mut found = Vec::new();
    for kind in [EpisodeType::Hypo, EpisodeType::Hyper] {
        let contexts: Vec<&EpisodeContext> = episodes
            .iter()
            .filter(|e| e.episode.kind == kind && e.episode.level == 1)
            .map(|e| &e.context)
            .collect();
        if contexts.is_empty() {
            continue;
        }
        let total = contexts.len();
        let noun = match (kind, total) {
            (EpisodeType::Hypo, 1) => "low",
            (EpisodeType::Hypo, _) => "lows",
            (EpisodeType::Hyper, 1) => "high",
            (EpisodeType::Hyper, _) => "highs",
        };
        let count = |holds: &dyn Fn(&EpisodeContext) -> bool| contexts.iter().filter(|c| holds(c)).count();
        let windowed = |factor: ContextFactor, window: i64, count: usize, after: &str| EpisodeExplanation {
            kind,
            factor,
            window_minutes: Some(window),
            count,
            total,
            unknown: None,
            text: format!("{count} of {total} {noun} began within {} after {after}", span(window)),
        };
        if kind == EpisodeType::Hypo {
            let window = HYPO_EXERCISE_WINDOW_MINUTES;
            let after_exercise = count(&|c| c.exercise.iter().any(|e| e.minutes_since_end <= window));
            found.push(windowed(ContextFactor::Exercise, window, after_exercise, "exercise"));
        }
        let window = match kind {
            EpisodeType::Hypo => HYPO_MEAL_WINDOW_MINUTES,
            EpisodeType::Hyper => HYPER_MEAL_WINDOW_MINUTES,
        };
        let after_meal = count(&|c| c.last_meal.as_ref().is_some_and(|m| m.minutes_since <= window));
        found.push(windowed(ContextFactor::Meal, window, after_meal, "a meal"));
        let asleep = count(&|c| c.during_sleep == Some(true));
        let unknown = count(&|c| c.during_sleep.is_none());
        let mut text = format!("{asleep} of {total} {noun} began during sleep");
        if unknown > 0 {
            text.push_str(&format!(" ({unknown} on nights with no sleep recorded)"));
        }
        found.push(EpisodeExplanation {
            kind,
            factor: ContextFactor::Sleep,
            window_minutes: None,
            count: asleep,
            total,
            unknown: Some(unknown),
            text,
        });
    }
    found
}

/// A window in words: "6 h", or "90 min" when not whole hours.
fn span(minutes: i64) -> String {
    if minutes % 60 == 0 {
        format!("{} h", minutes / 60)
    } else {
        format!("{minutes} min")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap()
    }

    fn episode(kind: EpisodeType, level: u8, start: &str) -> GlucoseEpisode {
        let start = at(start);
        GlucoseEpisode {
            kind,
            level,
            start,
            end: start + Duration::minutes(30),
            duration_minutes: 30,
            nadir: (kind == EpisodeType::Hypo).then_some(60.0),
            peak: (kind == EpisodeType::Hyper).then_some(200.0),
            extended: false,
            contains_level_2: false,
        }
    }

    fn low(start: &str) -> GlucoseEpisode {
        episode(EpisodeType::Hypo, 1, start)
    }

    fn high(start: &str) -> GlucoseEpisode {
        episode(EpisodeType::Hyper, 1, start)
    }

    fn run(start: &str, minutes: i32) -> ActivityRecord {
        ActivityRecord {
            start_time: at(start),
            activity_type: "running".into(),
            source: "garmin".into(),
            duration_minutes: minutes,
            intensity: Some(Intensity::High),
            calories: None,
            steps: None,
            avg_heart_rate: None,
        }
    }

    fn meal(eaten_at: &str, carbs_g: f64, description: &str) -> MealRecord {
        MealRecord {
            eaten_at: at(eaten_at),
            source: "app".into(),
            meal_type: Some(MealType::Lunch),
            carbs_g,
            protein_g: None,
            fat_g: None,
            fiber_g: None,
            calories: None,
            glycemic_load: None,
            description: Some(description.into()),
            photo_url: None,
        }
    }

    fn sleep(start: &str, end: &str) -> SleepRecord {
        SleepRecord {
            start_time: at(start),
            end_time: at(end),
            source: "oura".into(),
            deep_minutes: None,
            light_minutes: None,
            rem_minutes: None,
            awake_minutes: None,
            quality: None,
        }
    }

    fn context(start: &str, records: &LoggedRecords, tz: Tz) -> EpisodeContext {
        explain(vec![low(start)], records, tz).remove(0).context
    }

    #[test]
    fn exercise_three_hours_before_a_low_explains_it_and_seven_hours_before_does_not() {
        // A 60-minute run ending at 12:00; lows at 15:00 (3 h after its end) and 19:00 (7 h after).
        let records = LoggedRecords {
            activities: vec![run("2025-03-01T11:00:00Z", 60)],
            ..Default::default()
        };
        let explained = explain(
            vec![low("2025-03-01T15:00:00Z"), low("2025-03-01T19:00:00Z")],
            &records,
            chrono_tz::UTC,
        );
        assert_eq!(
            explained[0].context.exercise,
            [PrecedingExercise {
                timestamp: at("2025-03-01T11:00:00Z"),
                activity_type: "running".into(),
                duration_minutes: 60,
                intensity: Some(Intensity::High),
                minutes_since_end: 180,
            }]
        );
        assert!(explained[1].context.exercise.is_empty());
        let summary = explanations(&explained);
        assert_eq!(
            (
                summary[0].factor,
                summary[0].count,
                summary[0].total,
                summary[0].window_minutes
            ),
            (ContextFactor::Exercise, 1, 2, Some(360))
        );
        assert_eq!(summary[0].text, "1 of 2 lows began within 6 h after exercise");

        // Exercise still under way at the start counts with 0 minutes since its end; exercise after it does not.
        let records = LoggedRecords {
            activities: vec![run("2025-03-01T14:30:00Z", 60), run("2025-03-01T15:00:00Z", 30)],
            ..Default::default()
        };
        let under_way = context("2025-03-01T15:00:00Z", &records, chrono_tz::UTC).exercise;
        assert_eq!(under_way.len(), 1);
        assert_eq!(under_way[0].minutes_since_end, 0);

        // A long hike that began 8 h before but ended 5 h before lies partly in the lookback; a day's step count
        // (no duration) an hour before is no exercise.
        let records = LoggedRecords {
            activities: vec![run("2025-03-01T07:00:00Z", 180), run("2025-03-01T14:00:00Z", 0)],
            ..Default::default()
        };
        let hike = context("2025-03-01T15:00:00Z", &records, chrono_tz::UTC).exercise;
        assert_eq!(hike.len(), 1);
        assert_eq!(hike[0].minutes_since_end, 300);
    }

    #[test]
    fn the_last_meal_inside_the_window_is_the_one_shown() {
        let records = LoggedRecords {
            meals: vec![
                meal("2025-03-01T08:00:00Z", 40.0, "porridge"),
                meal("2025-03-01T12:30:00Z", 90.0, "pasta"),
                meal("2025-03-01T14:00:00Z", 10.0, "apple"),
            ],
            ..Default::default()
        };
        let explained = explain(
            vec![
                high("2025-03-01T13:30:00Z"),
                high("2025-03-01T14:00:00Z"),
                high("2025-03-01T21:00:00Z"),
            ],
            &records,
            chrono_tz::UTC,
        );
        assert_eq!(
            explained[0].context.last_meal,
            Some(PrecedingMeal {
                timestamp: at("2025-03-01T12:30:00Z"),
                minutes_since: 60,
                carbs_grams: 90.0,
                meal_type: Some(MealType::Lunch),
                description: Some("pasta".into()),
            })
        );
        // The apple eaten at the episode's start did not precede it.
        assert_eq!(
            explained[1].context.last_meal.as_ref().map(|m| m.minutes_since),
            Some(90)
        );
        // 7 hours after the apple: outside the lookback.
        assert_eq!(explained[2].context.last_meal, None);
        let summary = explanations(&explained);
        assert_eq!(summary.len(), 2, "highs: meal and sleep");
        assert_eq!(summary[0].text, "2 of 3 highs began within 3 h after a meal");

        // 4 h after a meal explains a low (window 4 h), but 4 h is too long for a high (window 3 h).
        let records = LoggedRecords {
            meals: vec![meal("2025-03-02T08:00:00Z", 50.0, "toast")],
            ..Default::default()
        };
        let summary = explanations(&explain(
            vec![low("2025-03-02T12:00:00Z"), high("2025-03-02T12:00:00Z")],
            &records,
            chrono_tz::UTC,
        ));
        let meal_counts: Vec<(EpisodeType, usize)> = summary
            .iter()
            .filter(|s| s.factor == ContextFactor::Meal)
            .map(|s| (s.kind, s.count))
            .collect();
        assert_eq!(meal_counts, [(EpisodeType::Hypo, 1), (EpisodeType::Hyper, 0)]);
        assert_eq!(summary[1].text, "1 of 1 low began within 4 h after a meal");
    }

    #[test]
    fn sleep_is_the_recorded_night_in_local_time() {
        let tz: Tz = "America/New_York".parse().unwrap();
        // Asleep 23:30 local on 1 March to 07:00 on 2 March (UTC−5), and 00:45 to 06:30 on 3 March (a late night).
        let records = LoggedRecords {
            sleep: vec![
                sleep("2025-03-02T04:30:00Z", "2025-03-02T12:00:00Z"),
                sleep("2025-03-03T05:45:00Z", "2025-03-03T11:30:00Z"),
            ],
            ..Default::default()
        };
        let during = |start: &str| context(start, &records, tz).during_sleep;
        // 03:00 local, asleep.
        assert_eq!(during("2025-03-02T08:00:00Z"), Some(true));
        // 09:00 local, after waking: that night's sleep is recorded.
        assert_eq!(during("2025-03-02T14:00:00Z"), Some(false));
        // 23:00 local on 2 March, still awake before the late night's sleep.
        assert_eq!(during("2025-03-03T04:00:00Z"), Some(false));
        // 03:00 local on 4 March: no sleep recorded for the night of 3 March, although 03:00 is night time.
        assert_eq!(during("2025-03-04T08:00:00Z"), None);
        // 01:00 local on 1 March, the night before the first recorded one.
        assert_eq!(during("2025-03-01T06:00:00Z"), None);
    }

    #[test]
    fn explanations_count_level_1_episodes_and_name_unknown_nights() {
        let records = LoggedRecords {
            activities: vec![run("2025-03-01T20:00:00Z", 45)],
            sleep: vec![sleep("2025-03-01T23:00:00Z", "2025-03-02T07:00:00Z")],
            ..Default::default()
        };
        let mut episodes = vec![
            low("2025-03-02T02:00:00Z"),
            // The level-2 episode inside the first low: context of its own, not counted again.
            episode(EpisodeType::Hypo, 2, "2025-03-02T02:10:00Z"),
            low("2025-03-02T10:00:00Z"),
            low("2025-03-05T03:00:00Z"),
        ];
        episodes.sort_by_key(|e| e.start);
        let explained = explain(episodes, &records, chrono_tz::UTC);
        assert_eq!(explained[1].context.during_sleep, Some(true));
        assert_eq!(explained[1].context.exercise.len(), 1);
        let summary = explanations(&explained);
        let texts: Vec<&str> = summary.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "1 of 3 lows began within 6 h after exercise",
                "0 of 3 lows began within 4 h after a meal",
                "1 of 3 lows began during sleep (1 on nights with no sleep recorded)",
            ]
        );
        assert_eq!(summary[2].unknown, Some(1));
        assert!(explanations(&[]).is_empty());
    }

    #[test]
    fn the_record_spans_cover_the_lookback_and_the_nights() {
        let spans = RecordSpans::of((at("2025-03-10T00:00:00Z"), at("2025-03-11T00:00:00Z")));
        assert_eq!(spans.meals, (at("2025-03-09T18:00:00Z"), at("2025-03-11T00:00:00Z")));
        assert_eq!(spans.activities.0, at("2025-03-08T18:00:00Z"));
        assert_eq!(spans.sleep, (at("2025-03-08T17:00:00Z"), at("2025-03-12T07:00:00Z")));
    }
}

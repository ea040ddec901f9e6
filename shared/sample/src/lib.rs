//! Seeded, realistic sample data (`glucolens sample-data`) with planted effects of documented size and lag, so the
//! analysis can be checked against a known truth.
//!
//! Generation is pure: [`generate_user`] turns (seed, user index, days) into records with a seeded RNG, the same
//! input always giving the same records. [`write_user`] stores one user in one transaction through the one record
//! writer ([`glucolens_app::record_writer`]), which marks the user's days dirty as an upload would.
//!
//! # The model (all times local to the user's zone)
//!
//! Glucose every 5 minutes = personal baseline (100–135 mg/dL) + that day's offset + dawn rise + meal responses
//! − exercise dips + slowly wandering physiological noise (AR(1)) + sensor noise (SD 4 mg/dL), clamped to 40–400.
//!
//! Planted effects (on the *daily mean* glucose that `daily_aggregates.avg_glucose` holds):
//!
//! | cause (insights factor name)     | effect on mean glucose                               | lag |
//! |----------------------------------|------------------------------------------------------|-----|
//! | `sleep_minutes` under 7 h        | **+[`SLEEP_DEFICIT_MG_DL_PER_HOUR`] mg/dL per hour short** (whole next day) | 1 day |
//! | `carbs_g`                        | **+[`CARBS_MG_DL_PER_10G`] mg/dL per 10 g** (meal responses, GI 55 on average) | 0 |
//! | `exercise_minutes`               | **−[`EXERCISE_MG_DL_PER_10_MIN`] mg/dL per 10 min** (dip during and after)  | 0 |
//!
//! Pure noise, no effect on glucose: `steps` (a daily step count independent of workouts), `protein_g` and `fat_g`
//! (drawn independently of carbs), and `sleep_quality`.
//!
//! Shapes: a meal of `c` g carbohydrate with glycaemic index `gi` adds `1.2 · c · gi/55 · (t/τ)·e^(1−t/τ)` mg/dL
//! `t` minutes after eating (τ = 50 min: peak at 50 min, back near baseline after 3–4 h); its area is
//! `1.2 · c · gi/55 · τ · e` mg·min/dL, i.e. `1.2 · 50 · e / 1440 = 0.113` mg/dL of daily mean per gram. Exercise of
//! `d` minutes pulls glucose down linearly to a depth `D` at its end, then recovers exponentially (τ = 120 min);
//! `D` is chosen so the area is `0.1 · d · 1440`, i.e. 0.1 mg/dL of daily mean per minute. Dawn rise: +15 mg/dL
//! at 07:00 (Gaussian, SD 1 h). Meals late in the evening spill a few percent of their area past midnight.
//!
//! # Planted events (for validity tests of meal responses, explained episodes and day clusters)
//!
//! A second seeded stream (so the draws above stay as they were) decides each day's kind;
//! [`generate_user_with_plants`] returns what it planted ([`Planted`]):
//! - **Named lunches** (on about 30 % of days, never on days chosen for a post-exercise low): the lunch is one of
//!   [`NAMED_MEALS`] in turn, eaten at 12:45 ± 15 min, with carbohydrate (at the average glycaemic index) chosen so
//!   its own response peaks at the meal's documented rise 50 minutes after eating: pasta lunch +80, rice bowl +50,
//!   green salad +30 mg/dL. The smallest is +30, not +20: with this model's sensor noise and wander a measured peak
//!   overstates a rise by 2–6 mg/dL, up to 30 % of 20, so a +20 meal could not be checked to ±15 %. To keep the two
//!   hours after it free of other causes, breakfast that day is at 07:00 ± 15 min (≥ 5 h before: its tail adds
//!   < 4 mg/dL), there is no snack, and a workout, if any, is in the evening.
//! - **Post-exercise lows** (on about 16 % of days: 55 % of days are chosen, and those with a morning workout get
//!   one; workouts themselves are left as drawn): a late-onset low ([`LATE_LOW_AFTER_EXERCISE_MINUTES`] after the
//!   workout ends): a Gaussian dip (SD [`LATE_LOW_SD_MINUTES`] min) deep enough that the expected glucose (everything
//!   but noise) reaches [`LATE_LOW_NADIR_MG_DL`] mg/dL, so glucose stays below 70 mg/dL for about an hour, 2–4 h
//!   after the workout ends.
//! - **Late dinners** (on about a quarter of days: half of the days no other plant shapes, i.e. usual days and
//!   post-exercise-low days without a morning workout; drawn from a third stream): dinner moves to 21:00 ± 15 min
//!   and becomes [`LATE_DINNER_CARBS_G`] g at glycaemic index [`LATE_DINNER_GI`], a high evening. With the
//!   post-exercise lows and the rest they make three day types whose 24-hour profiles differ, for the similar-day
//!   clusters to separate.
//! - **Short nights before high days**: the sleep-deficit effect above already makes them (about 1 night in 5 has
//!   less than [`SHORT_NIGHT_HOURS`] of sleep, and the next day's mean is then at least 8 mg/dL higher); they are
//!   listed, not added. (Planting extra short nights made the sleep findings outrank the exercise finding in the
//!   recommendations of the insights end-to-end test.)
//!
//! Realism: nightly sleep sessions (bedtime ~23:00, 4–9.5 h, stages), workouts on ~60 % of days, 3 meals and an
//! occasional snack with macros, sensor gaps (30 min–3 h on ~15 % of days, a 2–6 h sensor change on ~4 %), and
//! duplicate uploads (3 % of readings also arrive from `apple_health` with the same instant and value, which the
//! aggregation counts once).

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;

use glucolens_app::record_writer::RecordWriter;
use glucolens_domain::records::{
    ActivityRecord, GlucoseRecord, Intensity, MealRecord, MealType, SleepQuality, SleepRecord,
};
use glucolens_domain::user::Profile;
use glucolens_domain::{Email, GlucoseUnit, MgDl, TargetRange, UserTimeZone};
use glucolens_store::users::{self, NewUser};
use glucolens_store::InsertCounts;

/// Next-day mean glucose rise per hour of sleep under [`SLEEP_TARGET_HOURS`] (lag 1 day).
pub const SLEEP_DEFICIT_MG_DL_PER_HOUR: f64 = 8.0;
pub const SLEEP_TARGET_HOURS: f64 = 7.0;
/// Same-day mean glucose rise per 10 g of carbohydrate (at the average glycaemic index 55).
pub const CARBS_MG_DL_PER_10G: f64 = 10.0 * MEAL_PEAK_MG_DL_PER_G * MEAL_PEAK_MINUTES * std::f64::consts::E / 1440.0;
/// Same-day mean glucose fall per 10 minutes of exercise.
pub const EXERCISE_MG_DL_PER_10_MIN: f64 = 10.0 * EXERCISE_MG_DL_PER_MIN;

const MEAL_PEAK_MG_DL_PER_G: f64 = 1.2;
const MEAL_PEAK_MINUTES: f64 = 50.0;
const AVERAGE_GI: f64 = 55.0;
const EXERCISE_MG_DL_PER_MIN: f64 = 0.1;
const EXERCISE_RECOVERY_MINUTES: f64 = 120.0;
const DAWN_RISE_MG_DL: f64 = 15.0;
/// How long after an event its effect is still computed (beyond it, < 0.1 % of the area remains).
const EFFECT_HORIZON_MINUTES: f64 = 12.0 * 60.0;

/// A meal with a planted glucose response, eaten as lunch on named-lunch days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NamedMeal {
    pub description: &'static str,
    /// The peak of the meal's own response (mg/dL above what glucose would have been), 50 minutes after eating.
    pub rise_mg_dl: f64,
    /// `rise / 1.2` to 0.1 g, so the glycaemic index is the average 55 and the carbohydrate effect on the daily mean
    /// stays [`CARBS_MG_DL_PER_10G`].
    pub carbs_g: f64,
}

impl NamedMeal {
    /// The glycaemic index that makes [`meal_response`] peak at the planted rise.
    fn gi(&self) -> f64 {
        AVERAGE_GI * self.rise_mg_dl / (MEAL_PEAK_MG_DL_PER_G * self.carbs_g)
    }
}

/// The named meals, in the order they take turns.
pub const NAMED_MEALS: [NamedMeal; 3] = [
    NamedMeal {
        description: "pasta lunch",
        rise_mg_dl: 80.0,
        carbs_g: 66.7,
    },
    NamedMeal {
        description: "rice bowl",
        rise_mg_dl: 50.0,
        carbs_g: 41.7,
    },
    NamedMeal {
        description: "green salad",
        rise_mg_dl: 30.0,
        carbs_g: 25.0,
    },
];
/// Minutes from the end of a planted morning workout to the deepest point of its late-onset low.
pub const LATE_LOW_AFTER_EXERCISE_MINUTES: i64 = 165;
pub const LATE_LOW_SD_MINUTES: f64 = 35.0;
/// Where the expected glucose (without noise) bottoms out in a planted low.
pub const LATE_LOW_NADIR_MG_DL: f64 = 50.0;
const EXERCISE_LOW_DAY_SHARE: f64 = 0.55;
const NAMED_LUNCH_DAY_SHARE: f64 = 0.7;
/// Late dinners: eaten at this local hour (± 15 min) with this much carbohydrate of this glycaemic index, so
/// glucose peaks about 140 mg/dL above the usual level around 21:50.
pub const LATE_DINNER_HOUR: f64 = 21.0;
pub const LATE_DINNER_CARBS_G: f64 = 100.0;
pub const LATE_DINNER_GI: f64 = 65.0;
const LATE_DINNER_DAY_SHARE: f64 = 0.5;
/// Nights with less sleep than this (awake minutes not counted) are listed as short nights before high days.
pub const SHORT_NIGHT_HOURS: f64 = 6.0;

/// One planted named lunch.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantedMeal {
    pub eaten_at: DateTime<Utc>,
    pub meal: NamedMeal,
}

/// One planted post-exercise low.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantedLow {
    /// The local date.
    pub date: NaiveDate,
    pub exercise_start: DateTime<Utc>,
    pub exercise_end: DateTime<Utc>,
    /// The deepest point of the low.
    pub nadir_at: DateTime<Utc>,
}

/// What [`generate_user_with_plants`] planted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Planted {
    pub meals: Vec<PlantedMeal>,
    pub exercise_lows: Vec<PlantedLow>,
    /// Local dates whose night (starting that evening) had less than [`SHORT_NIGHT_HOURS`] of sleep.
    pub short_nights: Vec<NaiveDate>,
    /// Local dates after a short night that lie in the generated days (mean glucose ≥ 8 mg/dL higher).
    pub high_days: Vec<NaiveDate>,
    /// Local dates with a planted late, large dinner (a high evening).
    pub late_dinners: Vec<NaiveDate>,
}

/// What kind of day the planting stream chose.
#[derive(Debug, Clone, Copy, PartialEq)]
enum DayKind {
    Usual,
    NamedLunch(NamedMeal),
    ExerciseLow,
}

/// Readings per insert statement: large enough to amortise round trips, small enough to keep each statement short.
const GLUCOSE_BATCH: usize = 10_000;

/// Password of every sample account (the demo login).
pub const DEMO_PASSWORD: &str = "glucolens-demo";
const TIME_ZONES: &[&str] = &[
    "Europe/Paris",
    "America/New_York",
    "Asia/Kolkata",
    "America/Los_Angeles",
    "Europe/London",
    "Australia/Sydney",
    "Asia/Tokyo",
    "America/Sao_Paulo",
    "Africa/Johannesburg",
    "Asia/Kathmandu",
];

/// One generated account with all its records.
#[derive(Debug, Clone)]
pub struct SampleUser {
    pub email: String,
    pub time_zone: UserTimeZone,
    pub glucose: Vec<GlucoseRecord>,
    pub sleep: Vec<SleepRecord>,
    pub activities: Vec<ActivityRecord>,
    pub meals: Vec<MealRecord>,
}

/// `demo@glucolens.local` for user 0, `<prefix>+<n>@glucolens.local` after it.
pub fn email(prefix: &str, index: usize) -> String {
    match index {
        0 => "demo@glucolens.local".into(),
        n => format!("{prefix}+{n}@glucolens.local"),
    }
}

/// A standard normal draw (Box–Muller), so only `rand` itself is needed.
fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The instant of a local wall time; times skipped by DST move forward to the first valid instant.
fn at_local(tz: Tz, date: NaiveDate, minutes_after_midnight: f64) -> DateTime<Utc> {
    let wall = date.and_time(NaiveTime::MIN) + Duration::seconds((minutes_after_midnight * 60.0).round() as i64);
    (0..=4)
        .find_map(|quarter| {
            tz.from_local_datetime(&(wall + Duration::minutes(15 * quarter)))
                .earliest()
        })
        .expect("DST gaps are at most an hour")
        .with_timezone(&Utc)
}

/// Added glucose `minutes` after eating `carbs_g` of glycaemic index `gi`.
fn meal_response(minutes: f64, carbs_g: f64, gi: f64) -> f64 {
    if minutes <= 0.0 {
        return 0.0;
    }
    let x = minutes / MEAL_PEAK_MINUTES;
    MEAL_PEAK_MG_DL_PER_G * carbs_g * gi / AVERAGE_GI * x * (1.0 - x).exp()
}

/// Glucose lowered `minutes` after the start of a `duration`-minute workout (a positive number).
fn exercise_dip(minutes: f64, duration: f64) -> f64 {
    if minutes <= 0.0 || duration <= 0.0 {
        return 0.0;
    }
    let depth = EXERCISE_MG_DL_PER_MIN * 1440.0 * duration / (duration / 2.0 + EXERCISE_RECOVERY_MINUTES);
    if minutes < duration {
        depth * minutes / duration
    } else {
        depth * (-(minutes - duration) / EXERCISE_RECOVERY_MINUTES).exp()
    }
}

/// An event that shapes the glucose trace for some hours after `at`.
enum Effect {
    Meal {
        at: DateTime<Utc>,
        carbs_g: f64,
        gi: f64,
    },
    Exercise {
        at: DateTime<Utc>,
        minutes: f64,
    },
    /// A planted late-onset low centred on `nadir_at`; `depth` is set from the expected glucose there.
    LateLow {
        nadir_at: DateTime<Utc>,
        depth: f64,
    },
}

impl Effect {
    fn start(&self) -> DateTime<Utc> {
        match self {
            Effect::Meal { at, .. } | Effect::Exercise { at, .. } => *at,
            Effect::LateLow { nadir_at, .. } => *nadir_at - Duration::minutes((3.0 * LATE_LOW_SD_MINUTES) as i64),
        }
    }

    fn glucose_change(&self, time: DateTime<Utc>) -> f64 {
        let minutes = (time - self.start()).num_seconds() as f64 / 60.0;
        match *self {
            Effect::Meal { carbs_g, gi, .. } => meal_response(minutes, carbs_g, gi),
            Effect::Exercise { minutes: duration, .. } => -exercise_dip(minutes, duration),
            Effect::LateLow { nadir_at, depth } => {
                let from_nadir = (time - nadir_at).num_seconds() as f64 / 60.0;
                -depth * (-0.5 * (from_nadir / LATE_LOW_SD_MINUTES).powi(2)).exp()
            }
        }
    }
}

/// Generates user `index` of a run seeded with `seed`: `days` local days from `start`. Pure and deterministic.
pub fn generate_user(seed: u64, index: usize, email_prefix: &str, start: NaiveDate, days: u32) -> SampleUser {
    generate_user_with_plants(seed, index, email_prefix, start, days).0
}

/// [`generate_user`] and what it planted (see the module documentation).
pub fn generate_user_with_plants(
    seed: u64,
    index: usize,
    email_prefix: &str,
    start: NaiveDate,
    days: u32,
) -> (SampleUser, Planted) {
    let user_seed = seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut rng = StdRng::seed_from_u64(user_seed);
    // A separate stream for the plants, so adding them left the other draws as they were.
    let mut plant_rng = StdRng::seed_from_u64(user_seed ^ 0x504C_414E_5453);
    // A third stream for the late dinners, added after the first plants, so those stayed as they were.
    let mut dinner_rng = StdRng::seed_from_u64(user_seed ^ 0x4C41_5445_4449_4E45);
    let mut planted = Planted::default();
    let mut named_turn = 0;
    let time_zone = UserTimeZone::parse(TIME_ZONES[index % TIME_ZONES.len()]).expect("listed zones are valid");
    let tz = time_zone.tz();
    let device_source = if index.is_multiple_of(2) { "dexcom" } else { "libre" };
    let baseline = rng.gen_range(100.0..135.0);

    let mut sleep = Vec::new();
    let mut activities = Vec::new();
    let mut meals = Vec::new();
    let mut effects = Vec::new();
    // Per-day glucose offset: random day-to-day variation plus the previous night's sleep deficit.
    let mut day_offsets = Vec::with_capacity(days as usize);
    let mut previous_night_hours = SLEEP_TARGET_HOURS;
    for day in 0..days {
        let date = start + Duration::days(i64::from(day));
        let deficit = (SLEEP_TARGET_HOURS - previous_night_hours).max(0.0);
        day_offsets.push(2.0 * normal(&mut rng) + SLEEP_DEFICIT_MG_DL_PER_HOUR * deficit);
        // Every plant value is drawn every day, so one day's kind does not shift the next day's draws.
        let (low_day, named_day) = (
            plant_rng.gen_bool(EXERCISE_LOW_DAY_SHARE),
            plant_rng.gen_bool(NAMED_LUNCH_DAY_SHARE),
        );
        let jitter_hours: f64 = plant_rng.gen_range(-0.25..0.25);
        let (late_dinner_day, late_dinner_jitter): (bool, f64) = (
            dinner_rng.gen_bool(LATE_DINNER_DAY_SHARE),
            dinner_rng.gen_range(-0.25..0.25),
        );
        let mut dinner_at = None;
        let kind = if low_day {
            DayKind::ExerciseLow
        } else if named_day {
            named_turn += 1;
            DayKind::NamedLunch(NAMED_MEALS[(named_turn - 1) % NAMED_MEALS.len()])
        } else {
            DayKind::Usual
        };

        for (meal_type, earliest, latest, carbs) in [
            (MealType::Breakfast, 6.5, 9.0, 30.0..75.0),
            (MealType::Lunch, 12.0, 13.5, 40.0..95.0),
            (MealType::Dinner, 18.5, 20.5, 40.0..105.0),
            (MealType::Snack, 15.0, 16.5, 10.0..35.0),
        ] {
            if meal_type == MealType::Snack && rng.gen_bool(0.5) {
                continue;
            }
            let mut eaten_hours = rng.gen_range(earliest..latest);
            let mut carbs_g: f64 = (rng.gen_range(carbs) * 10.0_f64).round() / 10.0;
            let mut gi = rng.gen_range(40.0..70.0);
            let protein_g = (rng.gen_range(5.0..45.0) * 10.0_f64).round() / 10.0;
            let fat_g = (rng.gen_range(3.0..35.0) * 10.0_f64).round() / 10.0;
            let fiber_share = rng.gen_range(0.05..0.15);
            let mut description = None;
            if let DayKind::NamedLunch(named) = kind {
                match meal_type {
                    MealType::Lunch => {
                        eaten_hours = 12.75 + jitter_hours;
                        (carbs_g, gi) = (named.carbs_g, named.gi());
                        description = Some(named.description.to_owned());
                    }
                    MealType::Breakfast => eaten_hours = 7.0 + jitter_hours,
                    MealType::Snack => continue,
                    _ => {}
                }
            }
            let eaten_at = at_local(tz, date, 60.0 * eaten_hours);
            if meal_type == MealType::Dinner {
                dinner_at = Some((meals.len(), effects.len()));
            }
            if let (DayKind::NamedLunch(meal), MealType::Lunch) = (kind, meal_type) {
                planted.meals.push(PlantedMeal { eaten_at, meal });
            }
            meals.push(MealRecord {
                eaten_at,
                source: "myfitnesspal".into(),
                meal_type: Some(meal_type),
                carbs_g,
                protein_g: Some(protein_g),
                fat_g: Some(fat_g),
                fiber_g: Some((carbs_g * fiber_share * 10.0).round() / 10.0),
                calories: Some((4.0 * carbs_g + 4.0 * protein_g + 9.0 * fat_g).round()),
                glycemic_load: Some((carbs_g * gi / 10.0).round() / 10.0),
                description,
                photo_url: None,
            });
            effects.push(Effect::Meal {
                at: eaten_at,
                carbs_g,
                gi,
            });
        }

        let workout = rng.gen_bool(0.6).then(|| {
            let (activity_type, intensity, kcal_per_min) = match rng.gen_range(0..3) {
                0 => ("running", Intensity::High, 11.0),
                1 => ("cycling", Intensity::Moderate, 8.0),
                _ => ("walking", Intensity::Low, 4.5),
            };
            let minutes = rng.gen_range(20..=90);
            let start_hour = if rng.gen_bool(0.5) { 7.0 } else { 17.5 };
            let jitter = rng.gen_range(-0.75..0.75);
            let start_hour = match kind {
                DayKind::NamedLunch(_) => 17.5 + jitter,
                DayKind::ExerciseLow | DayKind::Usual => start_hour + jitter,
            };
            (
                activity_type,
                intensity,
                kcal_per_min,
                minutes,
                start_hour,
                rng.gen_range(95..165),
            )
        });
        let morning_workout = workout.is_some_and(|w| w.4 < 12.0);
        // A late dinner only where no other plant shapes the day, so each planted day has one type.
        let plain_day = matches!(kind, DayKind::Usual) || (kind == DayKind::ExerciseLow && !morning_workout);
        if let (true, true, Some((meal_index, effect_index))) = (late_dinner_day, plain_day, dinner_at) {
            let eaten_at = at_local(tz, date, 60.0 * (LATE_DINNER_HOUR + late_dinner_jitter));
            let meal = &mut meals[meal_index];
            meal.eaten_at = eaten_at;
            meal.carbs_g = LATE_DINNER_CARBS_G;
            meal.calories = Some(
                (4.0 * LATE_DINNER_CARBS_G + 4.0 * meal.protein_g.unwrap_or(0.0) + 9.0 * meal.fat_g.unwrap_or(0.0))
                    .round(),
            );
            meal.fiber_g = Some((LATE_DINNER_CARBS_G * 0.05 * 10.0).round() / 10.0);
            meal.glycemic_load = Some((LATE_DINNER_CARBS_G * LATE_DINNER_GI / 10.0).round() / 10.0);
            effects[effect_index] = Effect::Meal {
                at: eaten_at,
                carbs_g: LATE_DINNER_CARBS_G,
                gi: LATE_DINNER_GI,
            };
            planted.late_dinners.push(date);
        }
        if let Some((activity_type, intensity, kcal_per_min, minutes, start_hour, heart_rate)) = workout {
            let start_time = at_local(tz, date, 60.0 * start_hour);
            activities.push(ActivityRecord {
                start_time,
                activity_type: activity_type.into(),
                source: "strava".into(),
                duration_minutes: minutes,
                intensity: Some(intensity),
                calories: Some((f64::from(minutes) * kcal_per_min).round()),
                steps: None,
                avg_heart_rate: Some(heart_rate),
            });
            effects.push(Effect::Exercise {
                at: start_time,
                minutes: f64::from(minutes),
            });
            // Only after a morning workout: the low then falls between breakfast and lunch.
            if kind == DayKind::ExerciseLow && start_hour < 12.0 {
                let exercise_end = start_time + Duration::minutes(i64::from(minutes));
                let nadir_at = exercise_end + Duration::minutes(LATE_LOW_AFTER_EXERCISE_MINUTES);
                effects.push(Effect::LateLow { nadir_at, depth: 0.0 });
                planted.exercise_lows.push(PlantedLow {
                    date,
                    exercise_start: start_time,
                    exercise_end,
                    nadir_at,
                });
            }
        }
        // The day's step count, unrelated to glucose (a pure-noise variable).
        activities.push(ActivityRecord {
            start_time: at_local(tz, date, 23.0 * 60.0 + 59.0),
            activity_type: "daily_steps".into(),
            source: "apple_health".into(),
            duration_minutes: 0,
            intensity: None,
            calories: None,
            steps: Some(rng.gen_range(2_000..16_000)),
            avg_heart_rate: None,
        });

        let hours: f64 = (7.0 + 1.1 * normal(&mut rng)).clamp(4.0, 9.5);
        let start_time = at_local(tz, date, 60.0 * (23.0 + 0.75 * normal(&mut rng)));
        let end_time = start_time + Duration::minutes((hours * 60.0).round() as i64);
        let awake = rng.gen_range(5..30);
        let asleep = (hours * 60.0).round() as i32 - awake;
        let deep = (f64::from(asleep) * rng.gen_range(0.13..0.23)).round() as i32;
        let rem = (f64::from(asleep) * rng.gen_range(0.18..0.26)).round() as i32;
        sleep.push(SleepRecord {
            start_time,
            end_time,
            source: "oura".into(),
            deep_minutes: Some(deep),
            light_minutes: Some(asleep - deep - rem),
            rem_minutes: Some(rem),
            awake_minutes: Some(awake),
            quality: SleepQuality::parse(f64::from(rng.gen_range(3i16..=9))),
        });
        // Sleep minus its awake minutes, as the aggregation counts it.
        previous_night_hours = f64::from(asleep) / 60.0;
        if previous_night_hours < SHORT_NIGHT_HOURS {
            planted.short_nights.push(date);
            if day + 1 < days {
                planted.high_days.push(date + Duration::days(1));
            }
        }
    }

    let glucose = glucose_trace(&mut rng, tz, start, &day_offsets, baseline, device_source, &mut effects);
    let user = SampleUser {
        email: email(email_prefix, index),
        time_zone,
        glucose,
        sleep,
        activities,
        meals,
    };
    (user, planted)
}

/// The dawn rise at a local hour of the day.
fn dawn(local_hour: f64) -> f64 {
    DAWN_RISE_MG_DL * (-0.5 * (local_hour - 7.0).powi(2)).exp()
}

fn glucose_trace(
    rng: &mut StdRng,
    tz: Tz,
    start: NaiveDate,
    day_offsets: &[f64],
    baseline: f64,
    device_source: &str,
    effects: &mut [Effect],
) -> Vec<GlucoseRecord> {
    effects.sort_by_key(Effect::start);
    // Glucose without noise at `time`: baseline, the day's offset, dawn, meals and workouts.
    let expected = |effects: &[Effect], time: DateTime<Utc>| {
        let local = time.with_timezone(&tz);
        let day = (local.date_naive() - start)
            .num_days()
            .clamp(0, day_offsets.len() as i64 - 1) as usize;
        let events: f64 = effects
            .iter()
            .filter(|e| !matches!(e, Effect::LateLow { .. }))
            .map(|e| e.glucose_change(time))
            .sum();
        baseline + day_offsets[day] + dawn(f64::from(local.num_seconds_from_midnight()) / 3600.0) + events
    };
    let depths: Vec<Option<f64>> = effects
        .iter()
        .map(|e| match *e {
            Effect::LateLow { nadir_at, .. } => Some((expected(effects, nadir_at) - LATE_LOW_NADIR_MG_DL).max(0.0)),
            _ => None,
        })
        .collect();
    for (effect, new_depth) in effects.iter_mut().zip(depths) {
        if let (Effect::LateLow { depth, .. }, Some(new_depth)) = (effect, new_depth) {
            *depth = new_depth;
        }
    }
    let horizon = Duration::minutes(EFFECT_HORIZON_MINUTES as i64);
    let mut readings = Vec::with_capacity(day_offsets.len() * 300);
    let mut wander = 0.0;
    let mut first_active = 0;
    for (day, offset) in day_offsets.iter().enumerate() {
        let date = start + Duration::days(day as i64);
        let (day_start, day_end) = glucolens_domain::local_day::local_day_bounds(tz, date);
        // Sensor gaps: a short one on some days, a longer sensor change (2–6 h) on a few; a day keeps at least 75 %
        // of its readings, so every day counts for the analyses (the coverage flag is tested on its own).
        let gap = if rng.gen_bool(0.04) {
            Some((rng.gen_range(0.0..18.0), rng.gen_range(2.0..6.0)))
        } else if rng.gen_bool(0.15) {
            Some((rng.gen_range(0.0..22.0), rng.gen_range(0.5..3.0)))
        } else {
            None
        };
        let mut time = day_start;
        while time < day_end {
            let minutes_into_day = (time - day_start).num_minutes() as f64;
            let hours_into_day = minutes_into_day / 60.0;
            wander = 0.95 * wander + 2.0 * normal(rng);
            let in_gap = gap.is_some_and(|(from, length)| (from..from + length).contains(&hours_into_day));
            if !in_gap {
                while first_active < effects.len() && effects[first_active].start() + horizon < time {
                    first_active += 1;
                }
                let events: f64 = effects[first_active..]
                    .iter()
                    .take_while(|e| e.start() <= time)
                    .map(|e| e.glucose_change(time))
                    .sum();
                let local_hour = f64::from(time.with_timezone(&tz).num_seconds_from_midnight()) / 3600.0;
                let value = baseline + offset + dawn(local_hour) + events + wander + 4.0 * normal(rng);
                let value = MgDl::parse("value", value.clamp(40.0, 400.0), GlucoseUnit::MgDl)
                    .expect("clamped values are in range");
                let duplicate = rng.gen_bool(0.03);
                readings.push(GlucoseRecord {
                    time,
                    source: device_source.into(),
                    value,
                    trend: None,
                    device: None,
                    clipped: false,
                });
                if duplicate {
                    readings.push(GlucoseRecord {
                        time,
                        source: "apple_health".into(),
                        value,
                        trend: None,
                        device: None,
                        clipped: false,
                    });
                }
            }
            time += Duration::minutes(5);
        }
    }
    readings
}

/// Why a sample user could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// The email (built from the chosen prefix) is not a valid address.
    #[error("sample email: {0}")]
    Email(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// What writing one user did: `None` when an account with that email already existed (nothing written).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// The new account's id.
    pub user_id: uuid::Uuid,
    pub glucose: InsertCounts,
    pub records: InsertCounts,
}

/// Stores `user` (account, readings, sleep, activities, meals, dirty days) in one transaction. An existing account
/// with the same email is left alone, so running the generator again adds nothing.
pub async fn write_user(db: &PgPool, user: &SampleUser, password_hash: &str) -> Result<Option<Written>, SampleError> {
    let mut tx = db.begin().await?;
    // In the transaction: the account appears together with its data or not at all.
    let new_user = NewUser {
        email: Email::parse(&user.email).map_err(|e| SampleError::Email(e.reason))?,
        password_hash: password_hash.to_owned(),
        time_zone: user.time_zone,
        target: TargetRange::CONSENSUS,
        display_unit: GlucoseUnit::MgDl,
        profile: Profile::default(),
    };
    let user_id = users::create(&mut *tx, &new_user).await?.map(|created| created.id);
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    let mut writer = RecordWriter::new(user_id, user.time_zone);
    let mut glucose = InsertCounts::default();
    for batch in user.glucose.chunks(GLUCOSE_BATCH) {
        glucose = glucose + writer.insert(&mut tx, batch).await?;
    }
    let records = writer.insert(&mut tx, &user.sleep).await?
        + writer.insert(&mut tx, &user.activities).await?
        + writer.insert(&mut tx, &user.meals).await?;
    writer.mark_dirty(&mut tx).await?;
    tx.commit().await?;
    Ok(Some(Written {
        user_id,
        glucose,
        records,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(seed: u64, index: usize) -> SampleUser {
        generate_user(seed, index, "demo", NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), 30)
    }

    #[test]
    fn the_same_seed_gives_the_same_records_and_another_seed_does_not() {
        let (a, b, c) = (sample(7, 3), sample(7, 3), sample(8, 3));
        assert_eq!(a.glucose, b.glucose);
        assert_eq!(a.meals, b.meals);
        assert_ne!(a.glucose, c.glucose);
        assert_eq!(a.email, "demo+3@glucolens.local");
        assert_eq!(sample(7, 0).email, "demo@glucolens.local");
    }

    #[test]
    fn traces_are_five_minutely_with_gaps_duplicates_and_daily_records() {
        let user = sample(42, 1);
        let device: Vec<_> = user.glucose.iter().filter(|r| r.source != "apple_health").collect();
        let copies = user.glucose.len() - device.len();
        // 30 days × 288 slots, less the gaps.
        assert!(
            device.len() < 30 * 288 && device.len() > 30 * 288 * 8 / 10,
            "{}",
            device.len()
        );
        assert!(copies > 0 && copies < device.len() / 10);
        assert!(device.windows(2).all(|w| w[1].time > w[0].time));
        assert!(device.iter().all(|r| r.time.timestamp() % 300 == 0));
        assert_eq!(user.sleep.len(), 30);
        assert!(user.meals.len() >= 90);
        assert!(user.sleep.iter().all(|s| s.end_time > s.start_time));
    }

    #[test]
    fn plants_are_recorded_and_visible_in_the_records() {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let (user, planted) = generate_user_with_plants(42, 0, "demo", start, 60);
        // Every named meal is recorded as a lunch with its description, each in turn.
        for meal in &NAMED_MEALS {
            let n = planted.meals.iter().filter(|p| p.meal == *meal).count();
            assert!(n >= 5, "{}: {n}", meal.description);
            assert!((meal_response(MEAL_PEAK_MINUTES, meal.carbs_g, meal.gi()) - meal.rise_mg_dl).abs() < 1e-9);
        }
        for p in &planted.meals {
            let record = user.meals.iter().find(|m| m.eaten_at == p.eaten_at).unwrap();
            assert_eq!(record.description.as_deref(), Some(p.meal.description));
            assert_eq!(record.meal_type, Some(MealType::Lunch));
        }
        // Each planted low: glucose under 70 mg/dL for at least 20 minutes, 2–4 h after the workout ended.
        assert!(planted.exercise_lows.len() >= 5, "{}", planted.exercise_lows.len());
        let device: Vec<&GlucoseRecord> = user.glucose.iter().filter(|r| r.source != "apple_health").collect();
        let mut found = 0;
        for low in &planted.exercise_lows {
            assert!(user.activities.iter().any(|a| a.start_time == low.exercise_start));
            let window: Vec<f64> = device
                .iter()
                .filter(|r| {
                    r.time >= low.exercise_end + Duration::hours(2) && r.time <= low.exercise_end + Duration::hours(4)
                })
                .map(|r| r.value.get())
                .collect();
            let longest = window.split(|&v| v >= 70.0).map(<[f64]>::len).max().unwrap_or(0);
            found += usize::from(longest >= 5);
        }
        // A sensor gap or the noise may cut a low short.
        assert!(
            found * 10 >= planted.exercise_lows.len() * 8,
            "{found} of {}",
            planted.exercise_lows.len()
        );
        // The listed short nights are the nights with under 6 h of sleep; the day after each is a high day.
        let short: Vec<&SleepRecord> = user
            .sleep
            .iter()
            .filter(|s| (s.end_time - s.start_time).num_minutes() - i64::from(s.awake_minutes.unwrap()) < 6 * 60)
            .collect();
        assert!(!planted.short_nights.is_empty());
        assert_eq!(planted.short_nights.len(), short.len());
        assert!(planted
            .high_days
            .iter()
            .all(|d| planted.short_nights.contains(&(*d - Duration::days(1)))));
    }

    #[test]
    fn response_shapes_have_the_documented_areas() {
        let area = |f: &dyn Fn(f64) -> f64| (0..(24 * 60 * 10)).map(|i| f(f64::from(i) / 10.0) / 10.0).sum::<f64>();
        // A 10 g meal at average GI moves the daily mean by CARBS_MG_DL_PER_10G, peaking at 50 minutes.
        let meal = area(&|t| meal_response(t, 10.0, AVERAGE_GI)) / 1440.0;
        assert!((meal - CARBS_MG_DL_PER_10G).abs() < 0.01, "{meal}");
        assert!(meal_response(50.0, 60.0, 55.0) > meal_response(40.0, 60.0, 55.0));
        assert!(meal_response(50.0, 60.0, 55.0) > meal_response(60.0, 60.0, 55.0));
        // Ten minutes of exercise lower it by EXERCISE_MG_DL_PER_10_MIN.
        let exercise = area(&|t| exercise_dip(t, 10.0)) / 1440.0;
        assert!((exercise - EXERCISE_MG_DL_PER_10_MIN).abs() < 0.01, "{exercise}");
    }
}

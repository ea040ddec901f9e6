//! The records ingestion writes: plain data, already validated (by [`super::ingest`] for API payloads, by the
//! importers and the sample-data generator for theirs). The database's CHECK constraints back the same limits up.
//!
//! Natural keys (re-sending a record with the same key is a no-op):
//! glucose `(time, source)`, sleep `(start_time, source)`, activity `(start_time, activity_type, source)`,
//! meal `(eaten_at, source)`, all per user.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::MgDl;

/// One glucose reading, stored in mg/dL.
#[derive(Debug, Clone, PartialEq)]
pub struct GlucoseRecord {
    pub time: DateTime<Utc>,
    /// Where it came from (`dexcom`, `libre`, `apple_health`, ...): 1–64 characters.
    pub source: String,
    pub value: MgDl,
    /// The device's trend arrow (e.g. `flat`, `singleUp`), at most 32 characters.
    pub trend: Option<String>,
    /// Device model or serial, at most 128 characters.
    pub device: Option<String>,
    /// The device reported an out-of-range marker (e.g. Dexcom `High`) mapped to a value at the range limit.
    pub clipped: bool,
}

/// One sleep session: `start_time < end_time`, at most 24 hours; stage minutes are non-negative.
#[derive(Debug, Clone, PartialEq)]
pub struct SleepRecord {
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub source: String,
    pub deep_minutes: Option<i32>,
    pub light_minutes: Option<i32>,
    pub rem_minutes: Option<i32>,
    pub awake_minutes: Option<i32>,
    /// Subjective or device score, 0–10 in tenths (the design's `quality_score`).
    pub quality: Option<SleepQuality>,
}

/// A sleep score on the 0–10 scale, kept to one decimal (the `sleep_data.quality_score` column is `numeric(3,1)`): 8.5
/// stays 8.5. Built only by [`SleepQuality::parse`], so a value in hand is always in range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SleepQuality(i16);

impl SleepQuality {
    /// The top of the scale.
    pub const MAX: f64 = 10.0;

    /// A score from 0 to 10 (inclusive), rounded to 0.1; `None` outside that range or when not finite.
    pub fn parse(score: f64) -> Option<Self> {
        if !score.is_finite() || !(0.0..=Self::MAX).contains(&score) {
            return None;
        }
        Some(Self((score * 10.0).round() as i16))
    }

    /// The score, e.g. `8.5`.
    pub fn get(self) -> f64 {
        f64::from(self.0) / 10.0
    }

    /// The score in tenths, e.g. `85`.
    pub fn tenths(self) -> i16 {
        self.0
    }
}

/// How strenuous an activity was. The design's `light` and `vigorous` are synonyms of `low` and `high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Intensity {
    #[serde(alias = "light")]
    Low,
    Moderate,
    #[serde(alias = "vigorous")]
    High,
}

impl Intensity {
    pub const ALL: [Intensity; 3] = [Intensity::Low, Intensity::Moderate, Intensity::High];

    /// The stored spelling (the `activities.intensity` CHECK list).
    pub fn as_str(self) -> &'static str {
        match self {
            Intensity::Low => "low",
            Intensity::Moderate => "moderate",
            Intensity::High => "high",
        }
    }

    /// The stored spelling or the design's (`light` ≡ `low`, `moderate`, `vigorous` ≡ `high`); case matters.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "low" | "light" => Some(Intensity::Low),
            "moderate" => Some(Intensity::Moderate),
            "high" | "vigorous" => Some(Intensity::High),
            _ => None,
        }
    }
}

/// One exercise session: 0–1440 minutes; heart rate 20–250 bpm.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRecord {
    pub start_time: DateTime<Utc>,
    /// Free-form kind such as `running`, `walking`, `cycling`: 1–64 characters.
    pub activity_type: String,
    pub source: String,
    pub duration_minutes: i32,
    pub intensity: Option<Intensity>,
    pub calories: Option<f64>,
    pub steps: Option<i32>,
    pub avg_heart_rate: Option<i16>,
}

/// Which meal of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MealType {
    Breakfast,
    Lunch,
    Dinner,
    Snack,
    Other,
}

impl MealType {
    pub const ALL: [MealType; 5] = [
        MealType::Breakfast,
        MealType::Lunch,
        MealType::Dinner,
        MealType::Snack,
        MealType::Other,
    ];

    /// The stored spelling (the `meals.meal_type` CHECK list).
    pub fn as_str(self) -> &'static str {
        match self {
            MealType::Breakfast => "breakfast",
            MealType::Lunch => "lunch",
            MealType::Dinner => "dinner",
            MealType::Snack => "snack",
            MealType::Other => "other",
        }
    }

    /// The stored spelling back; case matters.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}

/// One meal; grams and calories are non-negative, carbohydrates at most 2000 g.
#[derive(Debug, Clone, PartialEq)]
pub struct MealRecord {
    pub eaten_at: DateTime<Utc>,
    pub source: String,
    pub meal_type: Option<MealType>,
    pub carbs_g: f64,
    pub protein_g: Option<f64>,
    pub fat_g: Option<f64>,
    pub fiber_g: Option<f64>,
    pub calories: Option<f64>,
    pub glycemic_load: Option<f64>,
    /// At most 500 characters.
    pub description: Option<String>,
    /// An `https://` address of a photo the client hosts, at most 500 characters.
    pub photo_url: Option<String>,
}

//! The daily variables the insights analyse: which daily aggregate value, what it means to a person, and the
//! natural unit its effects are expressed in ("per extra hour of sleep").

/// Whether a variable is something a person does (a possible cause) or a glucose summary (an outcome).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Behaviour,
    /// A glucose outcome; `lower_is_better` says which direction is an improvement.
    Glucose {
        lower_is_better: bool,
    },
}

/// The unit a variable is stored in. Only [`Unit::MgDl`] changes with the user's display unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    MgDl,
    Minutes,
    Steps,
    Grams,
    Kcal,
    PercentagePoints,
}

impl Unit {
    pub fn label(self) -> &'static str {
        match self {
            Unit::MgDl => "mg/dL",
            Unit::Minutes => "min",
            Unit::Steps => "steps",
            Unit::Grams => "g",
            Unit::Kcal => "kcal",
            Unit::PercentagePoints => "percentage points",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Variable {
    /// The factor name (stored in `correlations` and shown by the API): the `DailyAggregate` field it reads, whose
    /// `daily_aggregates` column the store maps it to.
    pub column: &'static str,
    /// How wording names it ("mean glucose").
    pub label: &'static str,
    pub role: Role,
    pub unit: Unit,
    /// Effects of this variable as a cause are reported per this many of its units (60 min = one hour of sleep) ...
    pub step: f64,
    /// ... and that step in words ("extra hour of sleep").
    pub step_label: &'static str,
    /// A day without any record means none of it (no activity logged = 0 min of exercise), rather than unknown
    /// (no sleep logged says nothing about how long the person slept).
    pub missing_is_zero: bool,
}

impl Variable {
    pub fn is_glucose(&self) -> bool {
        matches!(self.role, Role::Glucose { .. })
    }
}

const fn var(
    column: &'static str,
    label: &'static str,
    role: Role,
    unit: Unit,
    step: f64,
    step_label: &'static str,
) -> Variable {
    Variable {
        column,
        label,
        role,
        unit,
        step,
        step_label,
        missing_is_zero: false,
    }
}

/// An activity-derived variable: days without an activity record count as zero.
const fn activity(
    column: &'static str,
    label: &'static str,
    unit: Unit,
    step: f64,
    step_label: &'static str,
) -> Variable {
    Variable {
        missing_is_zero: true,
        ..var(column, label, Role::Behaviour, unit, step, step_label)
    }
}

const LOWER_IS_BETTER: Role = Role::Glucose { lower_is_better: true };
const HIGHER_IS_BETTER: Role = Role::Glucose { lower_is_better: false };

/// The candidate variables, in PCMCI column order. Left out on purpose: columns that are exact functions of one
/// listed here (GMI of mean glucose; `pct_in_user_target` equals `pct_70_180` for default targets), which would make
/// the partial-correlation conditions singular, and the rarely recorded ones (REM sleep, protein, fat).
#[rustfmt::skip]
pub const VARIABLES: &[Variable] = &[
    var("sleep_minutes", "sleep", Role::Behaviour, Unit::Minutes, 60.0, "extra hour of sleep"),
    var("deep_sleep_minutes", "deep sleep", Role::Behaviour, Unit::Minutes, 30.0, "extra 30 min of deep sleep"),
    activity("exercise_minutes", "exercise", Unit::Minutes, 30.0, "extra 30 min of exercise"),
    activity("steps", "steps", Unit::Steps, 1000.0, "extra 1,000 steps"),
    var("carbs_g", "carbohydrates", Role::Behaviour, Unit::Grams, 10.0, "extra 10 g of carbohydrates"),
    var("calories", "food energy", Role::Behaviour, Unit::Kcal, 100.0, "extra 100 kcal eaten"),
    var("mean_glucose", "mean glucose", LOWER_IS_BETTER, Unit::MgDl, 10.0, "extra 10 mg/dL of mean glucose"),
    var("cv_percent", "glucose variability (CV)", LOWER_IS_BETTER, Unit::PercentagePoints, 1.0,
        "extra percentage point of glucose variability"),
    var("pct_70_180", "time in range (70–180 mg/dL)", HIGHER_IS_BETTER, Unit::PercentagePoints, 1.0,
        "extra percentage point of time in range"),
];

/// The catalogue entry of a stored factor name.
pub fn by_column(column: &str) -> Option<&'static Variable> {
    VARIABLES.iter().find(|v| v.column == column)
}

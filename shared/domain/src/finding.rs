//! Correlation findings as values: one day's values of the variables catalogue ([`super::variables`]), a
//! significant PCMCI link ready to store, and its confidence level. How findings are computed is
//! `glucolens_app::insights::correlations`; how they are stored is `glucolens_store::correlations`. No I/O.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::variables::Variable;

/// One day's values of [`super::variables::VARIABLES`], in catalogue order (`None` = not recorded).
#[derive(Debug, Clone, PartialEq)]
pub struct DailyValues {
    pub date: NaiveDate,
    pub values: Vec<Option<f64>>,
}

// high: q < 0.01 and n ≥ 60 days; medium: q < 0.05; low: significant before FDR correction only (q ≥ 0.05).
// (A plain comment: a doc comment would change the published OpenAPI schema.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    /// The documented mapping (above, and the module docs of `glucolens_app::insights::correlations`).
    pub fn from_q(q: f64, sample_size: usize) -> Self {
        if q < 0.01 && sample_size >= 60 {
            Confidence::High
        } else if q < 0.05 {
            Confidence::Medium
        } else {
            Confidence::Low
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Confidence::Low, Confidence::Medium, Confidence::High]
            .into_iter()
            .find(|c| c.as_str() == raw)
    }
}

/// A significant PCMCI link, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub cause: &'static Variable,
    pub effect: &'static Variable,
    pub lag_days: usize,
    /// Partial correlation (PCMCI's MCI statistic).
    pub coefficient: f64,
    pub p_value: f64,
    pub q_value: f64,
    /// Days each test used: the run minus the 2·τmax days PCMCI cuts off for lags.
    pub sample_size: usize,
    pub confidence: Confidence,
    /// Change of the effect (in its unit) per `cause.step` of the cause, from the least-squares slope of the effect on
    /// the lagged cause over the run; `None` if the lagged cause is constant.
    pub effect_size: Option<f64>,
}

impl Finding {
    /// `effect_unit` as stored, e.g. "mg/dL per extra hour of sleep".
    pub fn effect_unit(&self) -> String {
        effect_unit(self.effect, self.cause)
    }
}

pub fn effect_unit(effect: &Variable, cause: &Variable) -> String {
    format!("{} per {}", effect.unit.label(), cause.step_label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_follows_q_and_sample_size() {
        assert_eq!(Confidence::from_q(0.005, 60), Confidence::High);
        assert_eq!(Confidence::from_q(0.005, 59), Confidence::Medium);
        assert_eq!(Confidence::from_q(0.01, 90), Confidence::Medium);
        assert_eq!(Confidence::from_q(0.049, 30), Confidence::Medium);
        assert_eq!(Confidence::from_q(0.05, 90), Confidence::Low);
        assert!(Confidence::High > Confidence::Medium && Confidence::Medium > Confidence::Low);
        assert_eq!(Confidence::parse("medium"), Some(Confidence::Medium));
        assert_eq!(Confidence::parse("certain"), None);
    }
}

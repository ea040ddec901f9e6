//! Glucose values and units.

use serde::{Deserialize, Serialize};

use super::{echo, rules, FieldError};

/// mg/dL per mmol/L (defined once, in [`rules`]).
pub use rules::MG_DL_PER_MMOL_L;

/// The unit a client sends or wants to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub enum GlucoseUnit {
    #[default]
    #[serde(rename = "mg/dL")]
    MgDl,
    #[serde(rename = "mmol/L")]
    MmolL,
}

impl GlucoseUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            GlucoseUnit::MgDl => "mg/dL",
            GlucoseUnit::MmolL => "mmol/L",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        match raw {
            "mg/dL" | "mg/dl" | "mgdl" => Ok(GlucoseUnit::MgDl),
            "mmol/L" | "mmol/l" | "mmol" => Ok(GlucoseUnit::MmolL),
            other => Err(FieldError::new(
                field,
                "invalid_unit",
                format!("unit `{}` is not `mg/dL` or `mmol/L`", echo(other)),
            )),
        }
    }

    /// Converts a stored mg/dL value for display in this unit (mg/dL to 1 decimal, mmol/L to 2).
    pub fn display(self, value: MgDl) -> f64 {
        match self {
            GlucoseUnit::MgDl => value.get(),
            GlucoseUnit::MmolL => (value.get() / MG_DL_PER_MMOL_L * 100.0).round() / 100.0,
        }
    }

    /// Converts any mg/dL quantity (a mean, an SD, an effect size) for display, unrounded.
    pub fn from_mg_dl(self, mg_dl: f64) -> f64 {
        match self {
            GlucoseUnit::MgDl => mg_dl,
            GlucoseUnit::MmolL => mg_dl / MG_DL_PER_MMOL_L,
        }
    }
}

/// A glucose concentration in mg/dL, rounded to 0.1 and within the physically plausible 20–600 range that meters
/// and CGMs report. In mmol/L (converted, then rounded) that accepts [`MgDl::MIN_MMOL_L`]–[`MgDl::MAX_MMOL_L`]
/// at two decimals: 1.11 mmol/L is 19.997 → 20.0 mg/dL, while 1.1 mmol/L is 19.8 mg/dL and refused. The numbers and
/// the rounding are the shared [`rules`] (the file importers apply the same).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
pub struct MgDl(f64);

impl MgDl {
    pub const MIN: f64 = rules::GLUCOSE_MIN_MG_DL;
    pub const MAX: f64 = rules::GLUCOSE_MAX_MG_DL;
    /// The smallest and largest mmol/L values with two decimals that are accepted (what the API documents).
    pub const MIN_MMOL_L: f64 = rules::GLUCOSE_MIN_MMOL_L;
    pub const MAX_MMOL_L: f64 = rules::GLUCOSE_MAX_MMOL_L;

    /// Parses `value` given in `unit`, converting mmol/L with [`MG_DL_PER_MMOL_L`].
    pub fn parse(field: &str, value: f64, unit: GlucoseUnit) -> Result<Self, FieldError> {
        if !value.is_finite() {
            return Err(FieldError::new(
                field,
                "not_a_number",
                "glucose must be a finite number",
            ));
        }
        let mg_dl = match unit {
            GlucoseUnit::MgDl => value,
            GlucoseUnit::MmolL => value * MG_DL_PER_MMOL_L,
        };
        let rounded = rules::round_mg_dl(mg_dl);
        if !rules::is_storable_mg_dl(rounded) {
            return Err(FieldError::new(
                field,
                "out_of_range",
                format!(
                    "{value} {} is {rounded} mg/dL, outside the accepted {}–{} mg/dL",
                    unit.as_str(),
                    Self::MIN,
                    Self::MAX
                ),
            ));
        }
        Ok(Self(rounded))
    }

    /// For constants and values known to be in range at compile time.
    pub(crate) const fn new_unchecked(value: f64) -> Self {
        Self(value)
    }

    /// Wraps a value read back from the database, where the CHECK constraint already holds.
    pub fn from_stored(value: f64) -> Self {
        Self(value)
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_and_rounds_mmol() {
        let v = MgDl::parse("value", 5.5, GlucoseUnit::MmolL).unwrap();
        assert_eq!(v.get(), 99.1);
        assert_eq!(GlucoseUnit::MmolL.display(v), 5.5);
        assert_eq!(MgDl::parse("value", 140.26, GlucoseUnit::MgDl).unwrap().get(), 140.3);
    }

    #[test]
    fn rejects_out_of_range_and_non_finite() {
        assert_eq!(
            MgDl::parse("value", 19.9, GlucoseUnit::MgDl).unwrap_err().code,
            "out_of_range"
        );
        assert_eq!(
            MgDl::parse("value", 601.0, GlucoseUnit::MgDl).unwrap_err().code,
            "out_of_range"
        );
        assert_eq!(
            MgDl::parse("value", f64::NAN, GlucoseUnit::MgDl).unwrap_err().code,
            "not_a_number"
        );
        assert!(MgDl::parse("value", 20.0, GlucoseUnit::MgDl).is_ok());
        assert!(MgDl::parse("value", 600.0, GlucoseUnit::MgDl).is_ok());
    }

    #[test]
    fn the_documented_mmol_bounds_are_exactly_what_is_accepted() {
        let mmol = |v| MgDl::parse("value", v, GlucoseUnit::MmolL);
        assert!(mmol(MgDl::MIN_MMOL_L).is_ok());
        assert!(mmol(MgDl::MAX_MMOL_L).is_ok());
        assert_eq!(mmol(MgDl::MIN_MMOL_L - 0.01).unwrap_err().code, "out_of_range");
        assert_eq!(mmol(MgDl::MAX_MMOL_L + 0.01).unwrap_err().code, "out_of_range");
        assert_eq!(mmol(1.1).unwrap_err().code, "out_of_range", "1.1 mmol/L is 19.8 mg/dL");
    }

    #[test]
    fn units_parse_their_spellings() {
        assert_eq!(GlucoseUnit::parse("unit", "mmol/L").unwrap(), GlucoseUnit::MmolL);
        assert_eq!(GlucoseUnit::parse("unit", "mg/dL").unwrap(), GlucoseUnit::MgDl);
        assert_eq!(GlucoseUnit::parse("unit", "g/L").unwrap_err().code, "invalid_unit");
        let long = GlucoseUnit::parse("unit", &"m".repeat(100_000)).unwrap_err();
        assert!(long.reason.len() < 200, "{}", long.reason.len());
    }
}

//! Account fields.

use secrecy::SecretString;

use super::{echo, rules, FieldError, GlucoseUnit, MgDl};

/// A syntactically plausible email address, lower-cased (addresses are compared case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// An address with text that cannot be stored (a NUL) is `invalid_text`; any other bad address `invalid_email`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if rules::check_text(raw).is_err() {
            return Err(FieldError::unstorable_text("email"));
        }
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
            })
            && !email.chars().any(char::is_whitespace)
            && email.matches('@').count() == 1;
        if valid {
            Ok(Self(email))
        } else {
            Err(FieldError::new("email", "invalid_email", "not a valid email address"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 10–128 characters. Held as a secret so it never reaches a log through `Debug`.
#[derive(Debug)]
pub struct Password(SecretString);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let chars = raw.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            return Err(FieldError::new(
                "password",
                "invalid_password",
                format!(
                    "a password must have {} to {} characters",
                    Self::MIN_CHARS,
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

/// An IANA time zone name such as `Europe/Paris` or `Asia/Kolkata`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserTimeZone(chrono_tz::Tz);

impl UserTimeZone {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        raw.parse::<chrono_tz::Tz>().map(Self).map_err(|_| {
            FieldError::new(
                "time_zone",
                "invalid_time_zone",
                format!("`{}` is not an IANA time zone name", echo(raw)),
            )
        })
    }

    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl Default for UserTimeZone {
    fn default() -> Self {
        Self(chrono_tz::UTC)
    }
}

/// The user's own glucose target range (low < high), in mg/dL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetRange {
    low: MgDl,
    high: MgDl,
}

impl TargetRange {
    pub const CONSENSUS: TargetRange = TargetRange {
        low: MgDl::new_unchecked(70.0),
        high: MgDl::new_unchecked(180.0),
    };

    pub fn parse(low: f64, high: f64, unit: GlucoseUnit) -> Result<Self, FieldError> {
        let low_mg = MgDl::parse("target_low", low, unit)?;
        let high_mg = MgDl::parse("target_high", high, unit)?;
        if !(40.0..=200.0).contains(&low_mg.get()) || !(80.0..=400.0).contains(&high_mg.get()) || low_mg >= high_mg {
            return Err(FieldError::new(
                "target_low",
                "invalid_target_range",
                "the target range needs 40 ≤ low < high ≤ 400 mg/dL (low ≤ 200, high ≥ 80)",
            ));
        }
        Ok(Self {
            low: low_mg,
            high: high_mg,
        })
    }

    pub fn low(self) -> MgDl {
        self.low
    }

    pub fn high(self) -> MgDl {
        self.high
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse("  Ana@Example.COM ").unwrap().as_str(), "ana@example.com");
        for bad in ["", "ana", "ana@", "@x.io", "a@b", "a b@c.io", "a@@c.io"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        let nul = Email::parse("ana\u{0}@example.com").unwrap_err();
        assert_eq!((nul.field.as_str(), nul.code), ("email", "invalid_text"));
    }

    #[test]
    fn time_zones_and_targets_validate() {
        assert_eq!(UserTimeZone::parse("Asia/Kolkata").unwrap().name(), "Asia/Kolkata");
        assert_eq!(
            UserTimeZone::parse("Mars/Olympus").unwrap_err().code,
            "invalid_time_zone"
        );
        assert!(TargetRange::parse(70.0, 180.0, GlucoseUnit::MgDl).is_ok());
        assert!(TargetRange::parse(3.9, 10.0, GlucoseUnit::MmolL).is_ok());
        assert!(TargetRange::parse(180.0, 70.0, GlucoseUnit::MgDl).is_err());
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("long enough pass").is_ok());
    }
}

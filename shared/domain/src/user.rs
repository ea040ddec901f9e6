//! Account fields: credentials, settings and the profile (the design's `users` columns). Errors name the design's
//! fields (`timezone`, `target_glucose_min`, `target_glucose_max`, `full_name`, `date_of_birth`, `diabetes_type`).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};

use super::ingest::ParseField;
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
                "timezone",
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
        let low_mg = MgDl::parse("target_glucose_min", low, unit)?;
        let high_mg = MgDl::parse("target_glucose_max", high, unit)?;
        if !(40.0..=200.0).contains(&low_mg.get()) || !(80.0..=400.0).contains(&high_mg.get()) || low_mg >= high_mg {
            return Err(FieldError::new(
                "target_glucose_min",
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

/// The user's name: 1–255 characters once surrounding spaces are trimmed (the `users.full_name` CHECK), storable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    pub const MAX_CHARS: usize = 255;

    /// Trims; blank is `empty`, a NUL `invalid_text`, more than [`Self::MAX_CHARS`] characters `too_long`. The
    /// name is never quoted in an error.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        const FIELD: &str = "full_name";
        if rules::check_text(raw).is_err() {
            return Err(FieldError::unstorable_text(FIELD));
        }
        let name = raw.trim();
        if name.is_empty() {
            return Err(FieldError::new(FIELD, "empty", "`full_name` must not be blank"));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(
                FIELD,
                "too_long",
                format!("`full_name` has more than {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A date of birth, from [`DateOfBirth::EARLIEST`] (the `users.date_of_birth` CHECK) to today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateOfBirth(NaiveDate);

impl DateOfBirth {
    pub const EARLIEST: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("1900-01-01 is a date");

    /// `YYYY-MM-DD` (the API's one date format, [`ParseField`]) from 1900-01-01 to today. "Today" is the date where
    /// it is latest on Earth (UTC+14), so a birth on the user's own today is never refused by the server's clock.
    pub fn parse(raw: &str, now: DateTime<Utc>) -> Result<Self, FieldError> {
        const FIELD: &str = "date_of_birth";
        let date = NaiveDate::parse_field(raw).ok_or_else(|| {
            FieldError::new(
                FIELD,
                "invalid_date",
                format!("`{}` is not a date like 1990-04-21", echo(raw)),
            )
        })?;
        let latest = (now + Duration::hours(14)).date_naive();
        if !(Self::EARLIEST..=latest).contains(&date) {
            return Err(FieldError::new(
                FIELD,
                "out_of_range",
                "`date_of_birth` must be from 1900-01-01 to today",
            ));
        }
        Ok(Self(date))
    }

    pub fn get(self) -> NaiveDate {
        self.0
    }
}

/// The design's diabetes types (the `users.diabetes_type` CHECK list), plus `other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DiabetesType {
    Type1,
    Type2,
    Prediabetes,
    Gestational,
    Other,
}

impl DiabetesType {
    pub const ALL: [DiabetesType; 5] = [
        DiabetesType::Type1,
        DiabetesType::Type2,
        DiabetesType::Prediabetes,
        DiabetesType::Gestational,
        DiabetesType::Other,
    ];

    /// The stored and sent spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DiabetesType::Type1 => "type1",
            DiabetesType::Type2 => "type2",
            DiabetesType::Prediabetes => "prediabetes",
            DiabetesType::Gestational => "gestational",
            DiabetesType::Other => "other",
        }
    }

    /// One of the five spellings exactly; anything else is `invalid_choice` listing them.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw).ok_or_else(|| {
            let allowed: Vec<_> = Self::ALL.iter().map(|t| t.as_str()).collect();
            FieldError::new(
                "diabetes_type",
                "invalid_choice",
                format!(
                    "`diabetes_type` must be one of {}, not `{}`",
                    allowed.join(", "),
                    echo(raw)
                ),
            )
        })
    }
}

/// A profile as a new account starts with it; `None` is unset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    pub full_name: Option<FullName>,
    pub date_of_birth: Option<DateOfBirth>,
    pub diabetes_type: Option<DiabetesType>,
}

/// A validated change of the profile. Per field: `None` keeps the stored value, `Some(None)` clears it,
/// `Some(Some(value))` sets it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileChange {
    pub full_name: Option<Option<FullName>>,
    pub date_of_birth: Option<Option<DateOfBirth>>,
    pub diabetes_type: Option<Option<DiabetesType>>,
}

impl ProfileChange {
    /// The profile of a new account: the fields given a value; `null` and absent both leave a field unset.
    pub fn into_profile(self) -> Profile {
        Profile {
            full_name: self.full_name.flatten(),
            date_of_birth: self.date_of_birth.flatten(),
            diabetes_type: self.diabetes_type.flatten(),
        }
    }
}

/// The profile fields of a request (the design's `users` profile columns); each may be absent, `null` or a value.
// Absent is `None`, `null` is `Some(None)` (see `present`).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ProfileInput {
    /// 1–255 characters (surrounding spaces are trimmed). `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 255, example = "Ana Example")]
    pub full_name: Option<Option<String>>,
    /// `YYYY-MM-DD`, from 1900-01-01 to today. `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Date, example = "1990-04-21")]
    pub date_of_birth: Option<Option<String>>,
    /// `type1`, `type2`, `prediabetes`, `gestational` or `other`. `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DiabetesType>)]
    pub diabetes_type: Option<Option<String>>,
}

/// Reads a field that is in the body, `null` included, as `Some`; with `#[serde(default)]` an absent one is `None`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

impl ProfileInput {
    /// Checks every given field; all their problems at once, or the change. `now` is the server's clock.
    pub fn validate(self, now: DateTime<Utc>) -> Result<ProfileChange, Vec<FieldError>> {
        fn field<T>(
            value: Option<Option<String>>,
            parse: impl Fn(&str) -> Result<T, FieldError>,
        ) -> Result<Option<Option<T>>, FieldError> {
            value.map(|value| value.as_deref().map(parse).transpose()).transpose()
        }
        let full_name = field(self.full_name, FullName::parse);
        let date_of_birth = field(self.date_of_birth, |raw| DateOfBirth::parse(raw, now));
        let diabetes_type = field(self.diabetes_type, DiabetesType::parse);
        match (full_name, date_of_birth, diabetes_type) {
            (Ok(full_name), Ok(date_of_birth), Ok(diabetes_type)) => Ok(ProfileChange {
                full_name,
                date_of_birth,
                diabetes_type,
            }),
            (full_name, date_of_birth, diabetes_type) => {
                Err([full_name.err(), date_of_birth.err(), diabetes_type.err()]
                    .into_iter()
                    .flatten()
                    .collect())
            }
        }
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

    #[test]
    fn profile_fields_tell_absent_from_null_and_report_every_problem() {
        let now: DateTime<Utc> = "2026-03-01T12:00:00Z".parse().unwrap();
        let input: ProfileInput =
            serde_json::from_value(serde_json::json!({ "full_name": "  Ana Example ", "date_of_birth": null }))
                .unwrap();
        let change = input.validate(now).unwrap();
        assert_eq!(change.full_name.clone().flatten().unwrap().as_str(), "Ana Example");
        assert_eq!(change.date_of_birth, Some(None), "null clears");
        assert_eq!(change.diabetes_type, None, "absent keeps");
        assert_eq!(change.into_profile().date_of_birth, None);

        let invalid: ProfileInput = serde_json::from_value(serde_json::json!({
            "full_name": "   ", "date_of_birth": "1899-12-31", "diabetes_type": "type3"
        }))
        .unwrap();
        let errors: Vec<_> = invalid
            .validate(now)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect();
        assert_eq!(
            errors,
            [
                ("full_name".to_owned(), "empty"),
                ("date_of_birth".to_owned(), "out_of_range"),
                ("diabetes_type".to_owned(), "invalid_choice")
            ]
        );
    }

    #[test]
    fn names_dates_of_birth_and_diabetes_types_have_their_limits() {
        assert_eq!(FullName::parse("a\u{0}b").unwrap_err().code, "invalid_text");
        assert!(FullName::parse(&"é".repeat(255)).is_ok());
        assert_eq!(FullName::parse(&"é".repeat(256)).unwrap_err().code, "too_long");

        let now: DateTime<Utc> = "2026-03-01T12:00:00Z".parse().unwrap();
        assert_eq!(
            DateOfBirth::parse("1900-01-01", now).unwrap().get(),
            DateOfBirth::EARLIEST
        );
        assert!(
            DateOfBirth::parse("2026-03-02", now).is_ok(),
            "already today east of UTC+12"
        );
        assert_eq!(DateOfBirth::parse("2026-03-03", now).unwrap_err().code, "out_of_range");
        assert_eq!(DateOfBirth::parse("01/02/1990", now).unwrap_err().code, "invalid_date");

        for kind in DiabetesType::ALL {
            assert_eq!(DiabetesType::parse(kind.as_str()), Ok(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        let error = DiabetesType::parse("Type1").unwrap_err();
        assert!(
            error.reason.contains("type1, type2, prediabetes, gestational, other"),
            "{}",
            error.reason
        );
    }
}

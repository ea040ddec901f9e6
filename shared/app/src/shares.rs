//! Sharing: an owner grants a care partner or clinician read access to their data, for a while, either to an
//! account (bound to the account that has the email when the grant is made: emails are not verified, so matching
//! at use time would let anyone who registers a clinician's address first read the data) or as a link whose secret
//! is shown once. Listing and revoking are plain store calls (`glucolens_store::shares`); who may use a grant on
//! which route is decided where requests are authenticated (`glucolens_web::reader`).

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use glucolens_domain::{parse_timestamp, rules, Email, FieldError};
use glucolens_store::shares::{self, Created, Grantee, NewShare, Scope};

/// Longest a grant may last: a year; the owner grants again after it.
pub const MAX_DAYS: i64 = 365;
/// Longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 100;

/// Why a grant was not made.
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    /// Fields break a rule; every problem is listed.
    #[error("invalid grant")]
    Invalid(Vec<FieldError>),
    /// No account has the email (a link can be shared instead).
    #[error("no account has this email")]
    NoSuchAccount,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A grant to make. Exactly one of `expires_at` and `expires_in_days`, and exactly one of `grantee_email` and
/// `link: true`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ShareInput {
    /// `report` (the report only) or `read` (every read route, the report included).
    #[schema(example = "report")]
    pub scope: String,
    /// When the grant ends: RFC 3339 with an offset, in the future and at most 365 days away.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<String>,
    /// Or: the grant ends this many days from now, 1 to 365.
    #[schema(example = 30, minimum = 1, maximum = 365)]
    pub expires_in_days: Option<i64>,
    /// The account to grant access to, by its email now.
    #[schema(example = "dr.rivera@example.com")]
    pub grantee_email: Option<String>,
    /// `true` for a link anyone holding it can open (the report only).
    #[serde(default)]
    pub link: bool,
    /// A name for the grant, shown to the owner only (e.g. "Dr Rivera, clinic visit"); at most 100 characters.
    pub label: Option<String>,
}

/// Who a valid input grants access to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Account(Email),
    Link,
}

#[derive(Debug, Clone, PartialEq)]
struct ValidShare {
    scope: Scope,
    expires_at: DateTime<Utc>,
    target: Target,
    label: Option<String>,
}

impl ShareInput {
    /// Checks every field against `now`, reporting all problems at once.
    fn validate(&self, now: DateTime<Utc>) -> Result<ValidShare, Vec<FieldError>> {
        let mut errors = Vec::new();
        let scope = Scope::parse(self.scope.trim());
        if scope.is_none() {
            errors.push(FieldError::new(
                "scope",
                "invalid_scope",
                "`scope` must be `report` or `read`",
            ));
        }
        let expires_at = self.expiry(now).map_err(|e| errors.push(e)).ok();
        let target = match (&self.grantee_email, self.link) {
            (Some(raw), false) => Email::parse(raw)
                .map(Target::Account)
                .map_err(|e| errors.push(FieldError::new("grantee_email", e.code, e.reason)))
                .ok(),
            (None, true) => Some(Target::Link),
            (Some(_), true) => {
                errors.push(FieldError::new(
                    "link",
                    "not_with_grantee_email",
                    "give either `grantee_email` or `link: true`, not both",
                ));
                None
            }
            (None, false) => {
                errors.push(FieldError::new(
                    "grantee_email",
                    "required",
                    "give the grantee's `grantee_email`, or `link: true` for a link",
                ));
                None
            }
        };
        if target == Some(Target::Link) && scope == Some(Scope::Read) {
            errors.push(FieldError::new(
                "scope",
                "link_is_report_only",
                "a link opens the report only: use `scope: report`, or grant `read` to an account",
            ));
        }
        let label = self
            .label
            .as_deref()
            .map(parse_label)
            .transpose()
            .map_err(|e| errors.push(e))
            .ok();
        match (scope, expires_at, target, label) {
            (Some(scope), Some(expires_at), Some(target), Some(label)) if errors.is_empty() => Ok(ValidShare {
                scope,
                expires_at,
                target,
                label,
            }),
            _ => Err(errors),
        }
    }

    fn expiry(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, FieldError> {
        let latest = now + Duration::days(MAX_DAYS);
        match (&self.expires_at, self.expires_in_days) {
            (None, Some(days)) if (1..=MAX_DAYS).contains(&days) => Ok(now + Duration::days(days)),
            (None, Some(_)) => Err(FieldError::new(
                "expires_in_days",
                "out_of_range",
                format!("`expires_in_days` must be a whole number from 1 to {MAX_DAYS}"),
            )),
            (Some(raw), None) => {
                let at = parse_timestamp("expires_at", raw)?;
                if at <= now || at > latest {
                    return Err(FieldError::new(
                        "expires_at",
                        "out_of_range",
                        format!("`expires_at` must be in the future and at most {MAX_DAYS} days away"),
                    ));
                }
                Ok(at)
            }
            (Some(_), Some(_)) => Err(FieldError::new(
                "expires_in_days",
                "not_with_expires_at",
                "give either `expires_at` or `expires_in_days`, not both",
            )),
            (None, None) => Err(FieldError::new(
                "expires_in_days",
                "required",
                "give `expires_in_days` (1 to 365) or `expires_at`",
            )),
        }
    }
}

/// Trims; blank, a NUL or more than [`MAX_LABEL_CHARS`] characters are refused.
fn parse_label(raw: &str) -> Result<String, FieldError> {
    if rules::check_text(raw).is_err() {
        return Err(FieldError::unstorable_text("label"));
    }
    let label = raw.trim();
    if label.is_empty() {
        return Err(FieldError::new("label", "empty", "`label` must not be blank"));
    }
    if label.chars().count() > MAX_LABEL_CHARS {
        return Err(FieldError::new(
            "label",
            "too_long",
            format!("`label` has more than {MAX_LABEL_CHARS} characters"),
        ));
    }
    Ok(label.to_owned())
}

/// Makes `owner_id`'s grant `input` (validated against `now`); a link's secret is in the answer, and only there.
pub async fn create(
    db: &PgPool,
    owner_id: Uuid,
    input: &ShareInput,
    now: DateTime<Utc>,
) -> Result<Created, ShareError> {
    let valid = input.validate(now).map_err(ShareError::Invalid)?;
    let grantee = match &valid.target {
        Target::Link => Grantee::Link,
        Target::Account(email) => {
            let account = shares::account_with_email(db, email)
                .await?
                .ok_or(ShareError::NoSuchAccount)?;
            if account == owner_id {
                return Err(ShareError::Invalid(vec![FieldError::new(
                    "grantee_email",
                    "own_account",
                    "this is your own account, which reads your data already",
                )]));
            }
            Grantee::Account(account)
        }
    };
    let new = NewShare {
        owner_id,
        scope: valid.scope,
        grantee,
        label: valid.label.as_deref(),
        expires_at: valid.expires_at,
    };
    Ok(shares::create(db, &new).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> ShareInput {
        serde_json::from_value(json).unwrap()
    }

    fn codes(json: serde_json::Value) -> Vec<&'static str> {
        let now = "2026-01-01T00:00:00Z".parse().unwrap();
        input(json).validate(now).unwrap_err().iter().map(|e| e.code).collect()
    }

    #[test]
    fn a_valid_grant_gets_its_expiry_and_target() {
        let now: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let valid = input(serde_json::json!({
            "scope": "read", "expires_in_days": 30, "grantee_email": " Dr@Example.com ", "label": "  clinic "
        }))
        .validate(now)
        .unwrap();
        assert_eq!(valid.scope, Scope::Read);
        assert_eq!(valid.expires_at, now + Duration::days(30));
        assert_eq!(valid.target, Target::Account(Email::parse("dr@example.com").unwrap()));
        assert_eq!(valid.label.as_deref(), Some("clinic"));
        let link =
            input(serde_json::json!({"scope": "report", "expires_at": "2026-06-01T00:00:00+02:00", "link": true}))
                .validate(now)
                .unwrap();
        assert_eq!(link.target, Target::Link);
    }

    #[test]
    fn every_problem_is_reported() {
        assert_eq!(
            codes(serde_json::json!({"scope": "write", "expires_in_days": 366})),
            ["invalid_scope", "out_of_range", "required"]
        );
        assert_eq!(
            codes(serde_json::json!({
                "scope": "read", "expires_at": "2025-12-31T00:00:00Z", "expires_in_days": 3, "link": true,
                "grantee_email": "a@b.co"
            })),
            ["not_with_expires_at", "not_with_grantee_email"]
        );
        assert_eq!(
            codes(serde_json::json!({"scope": "read", "expires_at": "2027-01-02T00:00:00Z", "link": true})),
            ["out_of_range", "link_is_report_only"]
        );
        assert_eq!(
            codes(serde_json::json!({
                "scope": "report", "expires_in_days": 0, "grantee_email": "nobody", "label": "x".repeat(101)
            })),
            ["out_of_range", "invalid_email", "too_long"]
        );
        assert_eq!(
            codes(serde_json::json!({"scope": "report", "expires_in_days": 1, "link": true, "label": " "})),
            ["empty"]
        );
    }
}

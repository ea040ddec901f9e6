//! Accounts: creation, look-up, settings and profile, and erasure. Erasing a user erases every row of theirs
//! through the schema's `ON DELETE CASCADE`.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use glucolens_domain::user::{DateOfBirth, DiabetesType, FullName, Profile, ProfileChange};
use glucolens_domain::{Email, FieldError, GlucoseUnit, MgDl, TargetRange, UserTimeZone};

/// An account as the API shows it (never the password hash). The columns `timezone`, `target_glucose_min` and
/// `target_glucose_max` are read into `time_zone`, `target_low_mg_dl` and `target_high_mg_dl`. `full_name` and
/// `date_of_birth` are personal data: never log them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub time_zone: String,
    pub target_low_mg_dl: f64,
    pub target_high_mg_dl: f64,
    pub display_unit: String,
    pub full_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub diabetes_type: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// The stored unit; the column's CHECK constraint allows only the two spellings `GlucoseUnit` knows.
    pub fn display_unit(&self) -> GlucoseUnit {
        GlucoseUnit::parse("display_unit", &self.display_unit).unwrap_or_default()
    }

    /// The stored type; the column's CHECK constraint allows only the spellings `DiabetesType` knows.
    pub fn diabetes_type(&self) -> Option<DiabetesType> {
        self.diabetes_type
            .as_deref()
            .and_then(|raw| DiabetesType::parse(raw).ok())
    }

    pub fn target_low(&self) -> MgDl {
        MgDl::from_stored(self.target_low_mg_dl)
    }

    pub fn target_high(&self) -> MgDl {
        MgDl::from_stored(self.target_high_mg_dl)
    }
}

const USER_COLUMNS: &str = "id, email, timezone AS time_zone, target_glucose_min::float8 AS target_low_mg_dl, \
     target_glucose_max::float8 AS target_high_mg_dl, display_unit, full_name, date_of_birth, diabetes_type, \
     created_at, updated_at";

/// Everything a new account starts with.
#[derive(Debug)]
pub struct NewUser {
    pub email: Email,
    pub password_hash: String,
    pub time_zone: UserTimeZone,
    pub target: TargetRange,
    pub display_unit: GlucoseUnit,
    pub profile: Profile,
}

/// Creates the account; `None` when the email is already registered.
pub async fn create(db: impl sqlx::PgExecutor<'_>, new: &NewUser) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(&format!(
        "INSERT INTO users (id, email, password_hash, timezone, target_glucose_min, target_glucose_max, display_unit,
                            full_name, date_of_birth, diabetes_type)
         VALUES ($1, $2, $3, $4, $5::float8, $6::float8, $7, $8, $9, $10)
         ON CONFLICT (email) DO NOTHING
         RETURNING {USER_COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(new.email.as_str())
    .bind(&new.password_hash)
    .bind(new.time_zone.name())
    .bind(new.target.low().get())
    .bind(new.target.high().get())
    .bind(new.display_unit.as_str())
    .bind(new.profile.full_name.as_ref().map(FullName::as_str))
    .bind(new.profile.date_of_birth.map(DateOfBirth::get))
    .bind(new.profile.diabetes_type.map(DiabetesType::as_str))
    .fetch_optional(db)
    .await
}

/// What every computation about a user's data reads of the account, as stored: the zone their days are counted
/// in, their target range and the unit they read, under the same field names as [`User`]. Every reader of these
/// columns goes through [`settings`].
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoredSettings {
    pub time_zone: String,
    pub target_low_mg_dl: f64,
    pub target_high_mg_dl: f64,
    pub display_unit: String,
}

impl StoredSettings {
    /// The stored zone; validated on write, so an error means a row changed by hand.
    pub fn time_zone(&self) -> Result<UserTimeZone, FieldError> {
        UserTimeZone::parse(&self.time_zone)
    }

    /// The stored display unit; validated on write, so an error means a row changed by hand.
    pub fn display_unit(&self) -> Result<GlucoseUnit, FieldError> {
        GlucoseUnit::parse("display_unit", &self.display_unit)
    }
}

/// The account's settings; `None` when it does not exist (erased since its token was issued).
pub async fn settings(db: impl sqlx::PgExecutor<'_>, user_id: Uuid) -> Result<Option<StoredSettings>, sqlx::Error> {
    sqlx::query_as(
        "SELECT timezone AS time_zone, target_glucose_min::float8 AS target_low_mg_dl,
                target_glucose_max::float8 AS target_high_mg_dl, display_unit
         FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// The zone the user's days are counted in. An unknown user or an unparseable stored zone (which the writers
/// prevent) falls back to UTC: marking a day dirty must not fail a write.
pub async fn time_zone(db: impl sqlx::PgExecutor<'_>, user_id: Uuid) -> Result<UserTimeZone, sqlx::Error> {
    Ok(settings(db, user_id)
        .await?
        .and_then(|stored| stored.time_zone().ok())
        .unwrap_or_default())
}

/// The account id and password hash registered for `email`, if any.
pub async fn credentials(db: &PgPool, email: &Email) -> Result<Option<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(db)
        .await
}

pub async fn get(db: &PgPool, user_id: Uuid) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .bind(user_id)
        .fetch_optional(db)
        .await
}

/// Settings to change; `None` leaves a setting as it is (the profile's fields: see [`ProfileChange`]).
#[derive(Debug, Default)]
pub struct SettingsChange {
    pub time_zone: Option<UserTimeZone>,
    pub target: Option<TargetRange>,
    pub display_unit: Option<GlucoseUnit>,
    pub profile: ProfileChange,
}

/// Applies `change` to the account. A new time zone moves local-day boundaries and a new target range changes
/// time-in-target, so either marks every local day with data for re-aggregation, in the same transaction.
pub async fn update_settings(db: &PgPool, user_id: Uuid, change: &SettingsChange) -> Result<Option<User>, sqlx::Error> {
    let profile = &change.profile;
    let mut tx = db.begin().await?;
    let updated: Option<User> = sqlx::query_as(&format!(
        "UPDATE users SET
             timezone = COALESCE($2, timezone),
             target_glucose_min = COALESCE($3::float8, target_glucose_min),
             target_glucose_max = COALESCE($4::float8, target_glucose_max),
             display_unit = COALESCE($5, display_unit),
             full_name = CASE WHEN $6 THEN $7::text ELSE full_name END,
             date_of_birth = CASE WHEN $8 THEN $9::date ELSE date_of_birth END,
             diabetes_type = CASE WHEN $10 THEN $11::text ELSE diabetes_type END,
             updated_at = now()
         WHERE id = $1
         RETURNING {USER_COLUMNS}"
    ))
    .bind(user_id)
    .bind(change.time_zone.map(UserTimeZone::name))
    .bind(change.target.map(|t| t.low().get()))
    .bind(change.target.map(|t| t.high().get()))
    .bind(change.display_unit.map(GlucoseUnit::as_str))
    // Profile fields can be cleared: whether each is given, then its new value (null clears).
    .bind(profile.full_name.is_some())
    .bind(
        profile
            .full_name
            .as_ref()
            .and_then(|name| name.as_ref().map(FullName::as_str)),
    )
    .bind(profile.date_of_birth.is_some())
    .bind(profile.date_of_birth.flatten().map(DateOfBirth::get))
    .bind(profile.diabetes_type.is_some())
    .bind(profile.diabetes_type.flatten().map(DiabetesType::as_str))
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(user) = &updated {
        if change.time_zone.is_some() || change.target.is_some() {
            mark_every_day_dirty(&mut tx, user_id, &user.time_zone).await?;
        }
    }
    tx.commit().await?;
    Ok(updated)
}

/// Marks every local day (in `time_zone`) on which the user has any data as needing re-aggregation.
async fn mark_every_day_dirty(tx: &mut sqlx::PgConnection, user_id: Uuid, time_zone: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO dirty_days (user_id, local_date)
         SELECT $1, local_date FROM (
             SELECT ("timestamp" AT TIME ZONE $2)::date AS local_date FROM glucose_readings WHERE user_id = $1
             UNION SELECT (sleep_start AT TIME ZONE $2)::date FROM sleep_data WHERE user_id = $1
             UNION SELECT ("timestamp" AT TIME ZONE $2)::date FROM activities WHERE user_id = $1
             UNION SELECT ("timestamp" AT TIME ZONE $2)::date FROM meals WHERE user_id = $1
         ) AS days
         ON CONFLICT DO NOTHING"#,
    )
    .bind(user_id)
    .bind(time_zone)
    .execute(tx)
    .await?;
    Ok(())
}

/// The lock order every multi-statement write of a user's rows follows: the user row first (`FOR KEY SHARE`, which
/// only conflicts with erasing or re-keying the account). Erasure locks that row before its cascade touches any
/// child row, so a job that took this lock first finishes before the erasure proceeds, and a job that comes after
/// an erasure finds no user (`false`) instead of deadlocking against the cascade.
pub async fn lock_owner(conn: &mut sqlx::PgConnection, user_id: Uuid) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR KEY SHARE")
        .bind(user_id)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

/// Erases the account and, by cascade, all its data. Returns whether it existed.
pub async fn delete(db: &PgPool, user_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

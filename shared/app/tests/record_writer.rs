//! The one record writer: which local days a record marks dirty, and when (see `glucolens_app::record_writer`).

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use glucolens_app::record_writer::RecordWriter;
use glucolens_domain::records::{ActivityRecord, GlucoseRecord, MealRecord, SleepQuality, SleepRecord};
use glucolens_domain::{GlucoseUnit, MgDl, UserTimeZone};
use glucolens_sample::{self as sample, SampleUser};
use glucolens_store::InsertCounts;
use glucolens_testing as testing;
use uuid::Uuid;

const ZONE: &str = "America/New_York";

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, d).unwrap()
}

/// A local wall time in [`ZONE`] on 2025-03-`d`.
fn local(d: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    let tz: Tz = ZONE.parse().unwrap();
    tz.from_local_datetime(&day(d).and_hms_opt(hour, minute, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// 23:00 on day `d` to 07:00 the next morning.
fn night(d: u32) -> SleepRecord {
    SleepRecord {
        start_time: local(d, 23, 0),
        end_time: local(d + 1, 7, 0),
        source: "oura".into(),
        deep_minutes: Some(90),
        light_minutes: Some(250),
        rem_minutes: Some(100),
        awake_minutes: Some(40),
        quality: SleepQuality::parse(7.0),
    }
}

/// 23:30 on day `d` for 60 minutes: it ends on the next day.
fn late_run(d: u32) -> ActivityRecord {
    ActivityRecord {
        start_time: local(d, 23, 30),
        activity_type: "running".into(),
        source: "strava".into(),
        duration_minutes: 60,
        intensity: None,
        calories: Some(600.0),
        steps: None,
        avg_heart_rate: None,
    }
}

fn reading(time: DateTime<Utc>) -> GlucoseRecord {
    GlucoseRecord {
        time,
        source: "dexcom".into(),
        value: MgDl::parse("value", 110.0, GlucoseUnit::MgDl).unwrap(),
        trend: None,
        device: None,
        clipped: false,
    }
}

/// A generated sample meal, eaten at `time`.
fn meal(time: DateTime<Utc>) -> MealRecord {
    let generated = sample::generate_user(1, 0, "meal", day(1), 1);
    MealRecord {
        eaten_at: time,
        ..generated.meals[0].clone()
    }
}

/// The user's dirty days, in order; taking them clears them, so each check sees only what came since the last.
async fn take_dirty(db: &sqlx::PgPool, user: Uuid) -> Vec<NaiveDate> {
    let mut dates: Vec<NaiveDate> =
        sqlx::query_scalar("DELETE FROM dirty_days WHERE user_id = $1 RETURNING local_date")
            .bind(user)
            .fetch_all(db)
            .await
            .unwrap();
    dates.sort_unstable();
    dates
}

/// Writes a sample user through `sample::write_user` and returns the new account's id.
async fn write_sample(db: &sqlx::PgPool, user: &SampleUser) -> Uuid {
    sample::write_user(db, user, "not-a-hash")
        .await
        .unwrap()
        .expect("a new account")
        .user_id
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn sleep_and_activities_mark_their_start_and_end_days_glucose_and_meals_their_time(db: sqlx::PgPool) {
    let user = testing::user(&db, ZONE).await;
    let mut tx = db.begin().await.unwrap();
    let mut writer = RecordWriter::for_user(user);
    writer.insert(&mut tx, &[night(1)]).await.unwrap();
    writer.insert(&mut tx, &[late_run(4)]).await.unwrap();
    writer.insert(&mut tx, &[reading(local(7, 23, 55))]).await.unwrap();
    writer.insert(&mut tx, &[meal(local(9, 0, 5))]).await.unwrap();
    // Nothing is marked before `mark_dirty`; the zone is read from the users table (New York, not UTC: 23:55 on
    // the 7th is the 8th in UTC).
    assert_eq!(writer.mark_dirty(&mut tx).await.unwrap(), 6);
    tx.commit().await.unwrap();
    assert_eq!(
        take_dirty(&db, user).await,
        [day(1), day(2), day(4), day(5), day(7), day(9)]
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_batch_marks_days_only_when_it_stored_something_new(db: sqlx::PgPool) {
    let user = testing::user(&db, ZONE).await;
    let zone = UserTimeZone::parse(ZONE).unwrap();
    let first = [reading(local(10, 8, 0)), reading(local(11, 8, 0))];
    let mut conn = db.acquire().await.unwrap();
    let mut writer = RecordWriter::new(user, zone);
    assert_eq!(
        writer.insert(&mut conn, &first).await.unwrap(),
        InsertCounts {
            inserted: 2,
            already_present: 0
        }
    );
    writer.mark_dirty(&mut conn).await.unwrap();
    assert_eq!(take_dirty(&db, user).await, [day(10), day(11)]);

    // A pure re-send marks nothing.
    writer.insert(&mut conn, &first).await.unwrap();
    assert_eq!(writer.mark_dirty(&mut conn).await.unwrap(), 0);
    assert!(take_dirty(&db, user).await.is_empty());

    // A batch with one new record marks the days of every record in it.
    let overlapping = [reading(local(11, 8, 0)), reading(local(12, 8, 0))];
    writer.insert(&mut conn, &overlapping).await.unwrap();
    writer.mark_dirty(&mut conn).await.unwrap();
    assert_eq!(take_dirty(&db, user).await, [day(11), day(12)]);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_sample_night_across_midnight_marks_both_days(db: sqlx::PgPool) {
    // Only records that cross midnight, so no other record marks the second day.
    let user = SampleUser {
        email: "night@test.invalid".into(),
        time_zone: UserTimeZone::parse(ZONE).unwrap(),
        glucose: Vec::new(),
        sleep: vec![night(1)],
        activities: vec![late_run(4)],
        meals: Vec::new(),
    };
    let id = write_sample(&db, &user).await;
    assert_eq!(take_dirty(&db, id).await, [day(1), day(2), day(4), day(5)]);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn generated_sample_data_marks_the_morning_after_the_last_night(db: sqlx::PgPool) {
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let user = sample::generate_user(11, 1, "night", start, 3);
    let last_night = user.sleep.last().unwrap();
    let morning = last_night.end_time.with_timezone(&user.time_zone.tz()).date_naive();
    // Every other record of the generated days lies within them; only the last night reaches the day after.
    assert_eq!(morning, start + Duration::days(3));
    let id = write_sample(&db, &user).await;
    let dates = take_dirty(&db, id).await;
    assert_eq!(dates.last(), Some(&morning));
    assert_eq!(dates.len(), 4);
}

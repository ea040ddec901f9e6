//! Batch inserts and dirty-day marking against a real database.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use glucolens_domain::records::{
    ActivityRecord, GlucoseRecord, Intensity, MealRecord, MealType, SleepQuality, SleepRecord,
};
use glucolens_domain::{GlucoseUnit, MgDl, UserTimeZone};
use glucolens_store::{activities, dirty_days, glucose, meals, sleep, users, InsertCounts};
use glucolens_testing as testing;

fn at(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, hour, minute, 0).unwrap()
}

fn reading(time: DateTime<Utc>, mg_dl: f64) -> GlucoseRecord {
    GlucoseRecord {
        time,
        source: "dexcom".into(),
        value: MgDl::parse("value", mg_dl, GlucoseUnit::MgDl).unwrap(),
        trend: Some("flat".into()),
        device: None,
        clipped: false,
    }
}

const fn counts(inserted: u64, already_present: u64) -> InsertCounts {
    InsertCounts {
        inserted,
        already_present,
    }
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn glucose_batches_are_idempotent_and_count_in_batch_duplicates_once(db: sqlx::PgPool) {
    let user = testing::user(&db, "UTC").await;
    let batch = [
        reading(at(8, 0), 100.0),
        reading(at(8, 5), 110.5),
        reading(at(8, 0), 100.0),
    ];
    assert_eq!(glucose::insert_batch(&db, user, &batch).await.unwrap(), counts(2, 0));
    let overlapping = [reading(at(8, 5), 110.5), reading(at(8, 10), 120.0)];
    assert_eq!(
        glucose::insert_batch(&db, user, &overlapping).await.unwrap(),
        counts(1, 1)
    );
    let stored: Vec<f64> =
        sqlx::query_scalar(r#"SELECT value::float8 FROM glucose_readings WHERE user_id = $1 ORDER BY "timestamp""#)
            .bind(user)
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(stored, [100.0, 110.5, 120.0]);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn sleep_activities_and_meals_insert_inside_a_transaction(db: sqlx::PgPool) {
    let user = testing::user(&db, "UTC").await;
    let night = SleepRecord {
        start_time: at(0, 0) - Duration::hours(1),
        end_time: at(7, 0),
        source: "oura".into(),
        deep_minutes: Some(90),
        light_minutes: Some(250),
        rem_minutes: None,
        awake_minutes: Some(20),
        quality: SleepQuality::parse(8.0),
    };
    let run = ActivityRecord {
        start_time: at(18, 0),
        activity_type: "running".into(),
        source: "garmin".into(),
        duration_minutes: 45,
        intensity: Some(Intensity::High),
        calories: Some(420.5),
        steps: Some(6000),
        avg_heart_rate: Some(150),
    };
    let lunch = MealRecord {
        eaten_at: at(12, 30),
        source: "app".into(),
        meal_type: Some(MealType::Lunch),
        carbs_g: 60.0,
        protein_g: Some(25.0),
        fat_g: None,
        fiber_g: None,
        calories: Some(520.0),
        glycemic_load: None,
        description: Some("pasta".into()),
        photo_url: None,
    };
    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        sleep::insert_batch(&mut *tx, user, std::slice::from_ref(&night))
            .await
            .unwrap(),
        counts(1, 0)
    );
    assert_eq!(
        activities::insert_batch(&mut *tx, user, std::slice::from_ref(&run))
            .await
            .unwrap(),
        counts(1, 0)
    );
    assert_eq!(
        meals::insert_batch(&mut *tx, user, std::slice::from_ref(&lunch))
            .await
            .unwrap(),
        counts(1, 0)
    );
    tx.commit().await.unwrap();
    assert_eq!(sleep::insert_batch(&db, user, &[night]).await.unwrap(), counts(0, 1));
    assert_eq!(activities::insert_batch(&db, user, &[run]).await.unwrap(), counts(0, 1));
    assert_eq!(meals::insert_batch(&db, user, &[lunch]).await.unwrap(), counts(0, 1));
    let (intensity, meal_type): (String, String) = sqlx::query_as(
        "SELECT a.intensity, m.meal_type FROM activities a JOIN meals m USING (user_id) WHERE user_id = $1",
    )
    .bind(user)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!((intensity.as_str(), meal_type.as_str()), ("high", "lunch"));
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn dirty_days_are_local_dates_in_the_users_zone(db: sqlx::PgPool) {
    let user = testing::user(&db, "Asia/Kolkata").await;
    let zone = users::time_zone(&db, user).await.unwrap();
    assert_eq!(zone, UserTimeZone::parse("Asia/Kolkata").unwrap());
    // 20:00Z is 01:30 the next day in Kolkata (UTC+05:30); 10:00Z is the same day.
    let marked = dirty_days::mark(&db, user, zone, &[at(20, 0), at(10, 0), at(20, 5)])
        .await
        .unwrap();
    assert_eq!(marked, 2);
    let dates: Vec<NaiveDate> =
        sqlx::query_scalar("SELECT local_date FROM dirty_days WHERE user_id = $1 ORDER BY local_date")
            .bind(user)
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(
        dates,
        [
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2025, 1, 2).unwrap()
        ]
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn dirty_days_split_exactly_at_local_midnight_in_quarter_hour_zones(db: sqlx::PgPool) {
    let user = testing::user(&db, "Asia/Kathmandu").await;
    let zone = UserTimeZone::parse("Asia/Kathmandu").unwrap();
    // Kathmandu is UTC+05:45: local midnight of 2 January is 18:15Z on 1 January.
    let before = at(18, 14) + Duration::seconds(59) + Duration::milliseconds(999);
    let marked = dirty_days::mark(&db, user, zone, &[before, at(18, 15)]).await.unwrap();
    assert_eq!(marked, 2);
}

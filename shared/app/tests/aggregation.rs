//! Daily aggregation against PostgreSQL: local days across DST and half-hour offsets, duplicate sources, coverage,
//! incremental vs full recompute, and dirty marks that arrive while a run is in progress.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use glucolens_app::aggregation::{aggregate_user, Mode};
use glucolens_store::aggregates;
use glucolens_testing as testing;
use sqlx::PgPool;
use uuid::Uuid;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn local(tz: &str, date: NaiveDate) -> DateTime<Utc> {
    let tz: chrono_tz::Tz = tz.parse().unwrap();
    tz.from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

#[derive(Debug, PartialEq, sqlx::FromRow)]
struct Day {
    date: NaiveDate,
    reading_count: i32,
    expected_readings: i32,
    coverage_percent: f64,
    sufficient_data: bool,
    avg_glucose: Option<f64>,
}

async fn days(db: &PgPool, user_id: Uuid) -> Vec<Day> {
    sqlx::query_as(
        "SELECT date, reading_count, expected_readings, coverage_percent, sufficient_data, avg_glucose
         FROM daily_aggregates WHERE user_id = $1 ORDER BY date",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
    .unwrap()
}

/// Every column except `computed_at` and `id`, as JSON, for whole-row comparisons.
async fn full_rows(db: &PgPool, user_id: Uuid) -> Vec<serde_json::Value> {
    sqlx::query_scalar(
        "SELECT to_jsonb(a) - 'computed_at' - 'id' FROM daily_aggregates a WHERE user_id = $1 ORDER BY date",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn new_york_dst_days_have_23_and_25_hours(db: PgPool) {
    let user = testing::user(&db, "America/New_York").await;
    // Complete traces over the spring-forward (8 March 2026) and fall-back (1 November 2026) days and their
    // neighbours: 5-minute readings from local midnight to local midnight.
    for (first, last) in [
        (date(2026, 3, 7), date(2026, 3, 9)),
        (date(2026, 10, 31), date(2026, 11, 2)),
    ] {
        let from = local("America/New_York", first);
        let to = local("America/New_York", last + Duration::days(1));
        testing::cgm_trace(&db, user, "dexcom", from, (to - from).num_minutes() / 5, 0.0).await;
    }
    aggregate_user(&db, user, Mode::Incremental).await.unwrap();
    let got: Vec<(NaiveDate, i32, i32)> = days(&db, user)
        .await
        .iter()
        .map(|d| (d.date, d.reading_count, d.expected_readings))
        .collect();
    assert_eq!(
        got,
        vec![
            (date(2026, 3, 7), 288, 288),
            (date(2026, 3, 8), 276, 276),
            (date(2026, 3, 9), 288, 288),
            (date(2026, 10, 31), 288, 288),
            (date(2026, 11, 1), 300, 300),
            (date(2026, 11, 2), 288, 288),
        ]
    );
    assert!(days(&db, user)
        .await
        .iter()
        .all(|d| d.coverage_percent == 100.0 && d.sufficient_data));
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn kolkata_days_start_at_half_past_six_the_evening_before_in_utc(db: PgPool) {
    let user = testing::user(&db, "Asia/Kolkata").await;
    let midnight = Utc.with_ymd_and_hms(2026, 1, 9, 18, 30, 0).unwrap();
    assert_eq!(midnight, local("Asia/Kolkata", date(2026, 1, 10)));
    // One reading five minutes before local midnight, then a full local day.
    testing::cgm_trace(&db, user, "libre", midnight - Duration::minutes(5), 1 + 288, 0.0).await;
    aggregate_user(&db, user, Mode::Incremental).await.unwrap();
    let got: Vec<(NaiveDate, i32)> = days(&db, user)
        .await
        .iter()
        .map(|d| (d.date, d.reading_count))
        .collect();
    assert_eq!(got, vec![(date(2026, 1, 9), 1), (date(2026, 1, 10), 288)]);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_reading_sent_by_the_cgm_app_and_apple_health_counts_once_with_the_apps_value(db: PgPool) {
    let user = testing::user(&db, "UTC").await;
    let day = local("UTC", date(2026, 2, 1));
    testing::cgm_trace(&db, user, "dexcom", day, 288, 0.0).await;
    // Apple Health re-sends the same sensor values at the same instants, and a few seconds later, 10 mg/dL off.
    testing::cgm_trace(&db, user, "apple_health", day, 288, 10.0).await;
    testing::cgm_trace(&db, user, "apple_health", day + Duration::seconds(20), 288, 10.0).await;
    aggregate_user(&db, user, Mode::Incremental).await.unwrap();
    let only_dexcom = testing::user(&db, "UTC").await;
    testing::cgm_trace(&db, only_dexcom, "dexcom", day, 288, 0.0).await;
    aggregate_user(&db, only_dexcom, Mode::Incremental).await.unwrap();

    let (with_copies, reference) = (days(&db, user).await, days(&db, only_dexcom).await);
    assert_eq!(with_copies[0].reading_count, 288);
    assert_eq!(with_copies[0].avg_glucose, reference[0].avg_glucose);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn days_under_70_percent_coverage_are_flagged(db: PgPool) {
    let user = testing::user(&db, "Europe/Paris").await;
    // 201 of 288 slots is 69.8 %; 202 is 70.1 %.
    testing::cgm_trace(&db, user, "dexcom", local("Europe/Paris", date(2026, 6, 1)), 201, 0.0).await;
    testing::cgm_trace(&db, user, "dexcom", local("Europe/Paris", date(2026, 6, 2)), 202, 0.0).await;
    aggregate_user(&db, user, Mode::Incremental).await.unwrap();
    let got: Vec<(i32, bool)> = days(&db, user)
        .await
        .iter()
        .map(|d| (d.reading_count, d.sufficient_data))
        .collect();
    assert_eq!(got, vec![(201, false), (202, true)]);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn incremental_and_full_recompute_give_the_same_rows(db: PgPool) {
    let user = testing::user(&db, "America/Los_Angeles").await;
    let start = local("America/Los_Angeles", date(2026, 4, 1));
    testing::cgm_trace(&db, user, "dexcom", start, 288 * 5, 0.0).await;
    // Sleep after midnight (belongs to the previous evening), an activity and meals, with dirty marks as ingestion
    // would leave them (the dates the rows fall on; the trace marked its five days already).
    for statement in [
        "INSERT INTO sleep_data (user_id, sleep_start, sleep_end, source, deep_sleep_minutes, rem_sleep_minutes,
                                 awake_minutes, quality_score)
         VALUES ($1, $2 + interval '1 day 1 hour', $2 + interval '1 day 7 hours', 'oura', 80, 90, 20, 7)",
        r#"INSERT INTO activities (user_id, "timestamp", activity_type, source, duration_minutes, calories_burned,
                                 steps)
         VALUES ($1, $2 + interval '2 days 18 hours', 'running', 'strava', 45, 420, 6000)"#,
        r#"INSERT INTO meals (user_id, "timestamp", source, carbs_grams, protein_grams, fat_grams, calories)
         VALUES ($1, $2 + interval '3 days 12 hours', 'manual', 60, 25, 20, 560),
                ($1, $2 + interval '3 days 19 hours', 'manual', 40, 30, 15, 430)"#,
    ] {
        sqlx::query(statement)
            .bind(user)
            .bind(start)
            .execute(&db)
            .await
            .unwrap();
    }
    aggregate_user(&db, user, Mode::Incremental).await.unwrap();
    let incremental = full_rows(&db, user).await;
    assert_eq!(incremental.len(), 5);
    let number = |day: usize, column: &str| incremental[day][column].as_f64();
    // Six hours in bed minus 20 awake minutes, on the evening the night began.
    assert_eq!(number(0, "total_sleep_minutes"), Some(340.0));
    assert_eq!(number(0, "deep_sleep_minutes"), Some(80.0));
    assert_eq!(number(2, "total_exercise_minutes"), Some(45.0));
    assert_eq!(number(2, "steps"), Some(6000.0));
    assert_eq!(number(3, "total_carbs_grams"), Some(100.0));
    assert_eq!(number(3, "meal_count"), Some(2.0));
    let dirty: i64 = sqlx::query_scalar("SELECT count(*) FROM dirty_days WHERE user_id = $1")
        .bind(user)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(dirty, 0);

    sqlx::query("DELETE FROM daily_aggregates WHERE user_id = $1")
        .bind(user)
        .execute(&db)
        .await
        .unwrap();
    aggregate_user(&db, user, Mode::Full).await.unwrap();
    assert_eq!(full_rows(&db, user).await, incremental);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_day_marked_again_after_it_was_read_stays_dirty(db: PgPool) {
    let user = testing::user(&db, "UTC").await;
    testing::cgm_trace(&db, user, "dexcom", local("UTC", date(2026, 5, 1)), 12, 0.0).await;
    let mut tx = db.begin().await.unwrap();
    let read = aggregates::lock_dirty_days(&mut tx, user).await.unwrap();
    assert_eq!(read.len(), 1);
    // What the run read is older than the mark now stored (ingestion marked the day again meanwhile).
    let stale = vec![(read[0].0, read[0].1 - Duration::seconds(1))];
    assert_eq!(aggregates::clear_dirty_days(&mut tx, user, &stale).await.unwrap(), 0);
    assert_eq!(aggregates::clear_dirty_days(&mut tx, user, &read).await.unwrap(), 1);
    tx.commit().await.unwrap();
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_day_whose_data_is_gone_loses_its_row(db: PgPool) {
    let user = testing::user(&db, "UTC").await;
    testing::cgm_trace(&db, user, "dexcom", local("UTC", date(2026, 5, 1)), 24, 0.0).await;
    aggregate_user(&db, user, Mode::Incremental).await.unwrap();
    assert_eq!(days(&db, user).await.len(), 1);
    sqlx::query("DELETE FROM glucose_readings WHERE user_id = $1")
        .bind(user)
        .execute(&db)
        .await
        .unwrap();
    aggregate_user(&db, user, Mode::Full).await.unwrap();
    assert!(days(&db, user).await.is_empty());
}

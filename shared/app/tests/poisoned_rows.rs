//! Rows stored with impossible dates (inserted by hand, or before the accepted range was enforced) can never poison
//! the aggregation: they are ignored, dirty marks on impossible dates are discarded, and the good days are
//! aggregated. Dirty-day marking never produces an impossible local date.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use glucolens_app::aggregation::{aggregate_user, Mode};
use glucolens_app::jobs;
use glucolens_app::queue::JobMessage;
use glucolens_domain::task::TaskKind;
use glucolens_domain::UserTimeZone;
use glucolens_store::dirty_days;
use glucolens_testing as testing;
use sqlx::PgPool;
use uuid::Uuid;

const POISON: [&str; 5] = [
    "0001-01-01 00:00:00+00",
    "1961-04-12 06:07:00+00",
    "9999-12-31 23:00:00+00",
    "10000-01-01 00:00:00+00",
    "200000-06-01 00:00:00+00",
];

/// Inserts one row dated at every poisoned instant into each raw table, and dirty marks on impossible dates, by
/// SQL (as a bug, a hand edit or an older version could have).
async fn poison(db: &PgPool, user: Uuid) {
    for at in POISON {
        for sql in [
            r#"INSERT INTO glucose_readings (user_id, "timestamp", source, value) VALUES ($1, $2::timestamptz, 'x', 100)"#,
            "INSERT INTO sleep_data (user_id, sleep_start, sleep_end, source, awake_minutes)
             VALUES ($1, $2::timestamptz, $2::timestamptz + interval '8 hours', 'x', 10)",
            r#"INSERT INTO activities (user_id, "timestamp", activity_type, source, duration_minutes)
             VALUES ($1, $2::timestamptz, 'running', 'x', 30)"#,
            r#"INSERT INTO meals (user_id, "timestamp", source, carbs_grams) VALUES ($1, $2::timestamptz, 'x', 40)"#,
        ] {
            sqlx::query(sql).bind(user).bind(at).execute(db).await.unwrap();
        }
    }
    for date in ["0001-01-01", "9999-12-31", "10000-01-01", "200000-06-01"] {
        sqlx::query("INSERT INTO dirty_days (user_id, local_date) VALUES ($1, $2::date)")
            .bind(user)
            .bind(date)
            .execute(db)
            .await
            .unwrap();
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn aggregate_dates(db: &PgPool, user: Uuid) -> Vec<(NaiveDate, i32)> {
    sqlx::query_as("SELECT date, reading_count FROM daily_aggregates WHERE user_id = $1 ORDER BY date")
        .bind(user)
        .fetch_all(db)
        .await
        .unwrap()
}

async fn dirty_count(db: &PgPool, user: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM dirty_days WHERE user_id = $1")
        .bind(user)
        .fetch_one(db)
        .await
        .unwrap()
}

/// Two complete UTC days of readings, marked dirty as ingestion would.
async fn good_days(db: &PgPool, user: Uuid) {
    let from = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    testing::cgm_trace(db, user, "dexcom", from, 2 * 288, 0.0).await;
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn incremental_aggregation_ignores_poisoned_rows_and_discards_impossible_marks(db: PgPool) {
    let user = testing::user(&db, "Pacific/Kiritimati").await;
    good_days(&db, user).await;
    poison(&db, user).await;
    let report = aggregate_user(&db, user, Mode::Incremental).await.unwrap();
    assert!(report.rows_written >= 2, "{report:?}");
    let days = aggregate_dates(&db, user).await;
    assert!(
        days.iter()
            .all(|(d, _)| (day(2026, 2, 28)..=day(2026, 3, 3)).contains(d)),
        "{days:?}"
    );
    assert_eq!(
        dirty_count(&db, user).await,
        0,
        "every mark, impossible ones included, is cleared"
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_full_recompute_ignores_poisoned_rows_and_drops_their_leftover_aggregates(db: PgPool) {
    let user = testing::user(&db, "UTC").await;
    good_days(&db, user).await;
    poison(&db, user).await;
    // An aggregate row an older version wrote for a poisoned day.
    sqlx::query(
        "INSERT INTO daily_aggregates (user_id, date, reading_count, expected_readings, coverage_percent,
                                       sufficient_data)
         VALUES ($1, '0001-01-01', 1, 288, 0.3, false)",
    )
    .bind(user)
    .execute(&db)
    .await
    .unwrap();
    aggregate_user(&db, user, Mode::Full).await.unwrap();
    assert_eq!(
        aggregate_dates(&db, user).await,
        [(day(2026, 3, 1), 288), (day(2026, 3, 2), 288)]
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_aggregation_task_succeeds_for_a_poisoned_account(db: PgPool) {
    let user = testing::user(&db, "America/New_York").await;
    good_days(&db, user).await;
    poison(&db, user).await;
    for full_recompute in [false, true] {
        let message = JobMessage {
            kind: TaskKind::AggregateDaily,
            user_id: user,
            task_id: None,
            full_recompute,
        };
        jobs::process(&db, &message, 1).await.unwrap();
    }
    let days = aggregate_dates(&db, user).await;
    assert!(days.len() >= 2, "{days:?}");
    assert!(days.iter().all(|(d, _)| d.year_ce().1 == 2026), "{days:?}");
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn marking_never_produces_an_impossible_local_date(db: PgPool) {
    let user = testing::user(&db, "Pacific/Kiritimati").await;
    let zone = UserTimeZone::parse("Pacific/Kiritimati").unwrap();
    let mut impossible: Vec<DateTime<Utc>> = ["0001-01-01T00:00:00Z", "1961-04-12T06:07:00Z", "9999-12-31T23:00:00Z"]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
    impossible.push(DateTime::from_timestamp(253_402_300_800, 0).unwrap()); // 10000-01-01
    assert_eq!(dirty_days::mark(&db, user, zone, &impossible).await.unwrap(), 0);
    let now = Utc::now();
    let marked = dirty_days::mark(&db, user, zone, &[now, now + Duration::days(400)])
        .await
        .unwrap();
    assert_eq!(marked, 1);
    assert_eq!(dirty_count(&db, user).await, 1);
}

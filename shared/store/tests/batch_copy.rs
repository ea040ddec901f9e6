//! Batch inserts of at least `COPY_MIN_ROWS` records, which are staged with binary COPY: the same counts and stored
//! rows as small batches (sent as UNNEST arrays), staging on the caller's connection and transaction, nothing left
//! over from a failed batch, and key-ordered inserts that make overlapping batches wait instead of deadlocking.

use chrono::{DateTime, Duration, TimeZone, Utc};
use glucolens_domain::records::{
    ActivityRecord, GlucoseRecord, Intensity, MealRecord, MealType, SleepQuality, SleepRecord,
};
use glucolens_domain::{GlucoseUnit, MgDl};
use glucolens_store::batch::COPY_MIN_ROWS;
use glucolens_store::{activities, glucose, meals, sleep, InsertCounts};
use glucolens_testing as testing;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

/// A batch size that takes the COPY path.
const LARGE: usize = COPY_MIN_ROWS + 50;
/// Chunks that take the UNNEST path.
const SMALL: usize = 7;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
}

const fn counts(inserted: usize, already_present: usize) -> InsertCounts {
    InsertCounts {
        inserted: inserted as u64,
        already_present: already_present as u64,
    }
}

/// `count` readings 5 minutes apart from `first` (minutes after [`start`]), with every optional field both set and
/// empty somewhere.
fn readings(first: usize, count: usize) -> Vec<GlucoseRecord> {
    (first..first + count)
        .map(|i| GlucoseRecord {
            time: start() + Duration::minutes(5 * i as i64),
            source: "dexcom".into(),
            value: MgDl::parse("value", 40.0 + (i % 500) as f64 + 0.5, GlucoseUnit::MgDl).unwrap(),
            trend: (i % 2 == 0).then(|| "flat".into()),
            device: (i % 3 == 0).then(|| "G7 «Ünï» 血糖".into()),
            clipped: i % 50 == 0,
        })
        .collect()
}

fn nights(count: usize) -> Vec<SleepRecord> {
    (0..count)
        .map(|i| SleepRecord {
            start_time: start() + Duration::days(i as i64) + Duration::hours(22),
            end_time: start() + Duration::days(i as i64 + 1) + Duration::hours(6),
            source: "oura".into(),
            deep_minutes: Some(60 + (i % 30) as i32),
            light_minutes: (i % 2 == 0).then_some(250),
            rem_minutes: None,
            awake_minutes: Some((i % 40) as i32),
            quality: SleepQuality::parse((i % 101) as f64 / 10.0),
        })
        .collect()
}

fn workouts(count: usize) -> Vec<ActivityRecord> {
    (0..count)
        .map(|i| ActivityRecord {
            start_time: start() + Duration::hours(i as i64),
            activity_type: if i % 2 == 0 { "running" } else { "cycling" }.into(),
            source: "strava".into(),
            duration_minutes: (i % 1441) as i32,
            intensity: [None, Some(Intensity::Low), Some(Intensity::High)][i % 3],
            calories: (i % 4 != 0).then_some(i as f64 * 1.5),
            steps: (i % 5 != 0).then_some(i as i32 * 10),
            avg_heart_rate: Some(60 + (i % 150) as i16),
        })
        .collect()
}

fn dishes(count: usize) -> Vec<MealRecord> {
    (0..count)
        .map(|i| MealRecord {
            eaten_at: start() + Duration::hours(i as i64),
            source: "app".into(),
            meal_type: (i % 6 != 5).then(|| MealType::ALL[i % 5]),
            carbs_g: (i % 2000) as f64 / 10.0,
            protein_g: Some(12.3),
            fat_g: None,
            fiber_g: Some(0.1),
            calories: Some(99_999.9),
            glycemic_load: (i % 2 == 0).then_some(7.5),
            description: (i % 3 == 0).then(|| format!("crème brûlée №{i} 🍮, \"tab\"\there")),
            photo_url: (i % 4 == 0).then(|| format!("https://example.org/{i}.jpg")),
        })
        .collect()
}

/// Whether this session has the COPY staging table for `table`, i.e. whether a batch took the COPY path on it.
async fn staged(conn: &mut PgConnection, table: &str) -> bool {
    sqlx::query_scalar(&format!(
        "SELECT to_regclass('pg_temp.glucolens_stage_{table}') IS NOT NULL"
    ))
    .fetch_one(conn)
    .await
    .unwrap()
}

/// Every stored column of the user's rows in `table` except the user, the row id and the write times, as text.
async fn stored(db: &PgPool, table: &str, user: Uuid) -> Vec<String> {
    sqlx::query_scalar(&format!(
        "SELECT (to_jsonb(t) - 'user_id' - 'id' - 'created_at' - 'updated_at')::text FROM {table} t
         WHERE user_id = $1 ORDER BY 1"
    ))
    .bind(user)
    .fetch_all(db)
    .await
    .unwrap()
}

/// Inserts `records` for one user in one batch on one connection and for another user in small chunks on another;
/// checks which path each took and that both stored the same rows with the same counts. Returns the first user.
macro_rules! same_as_small_batches {
    ($db:expr, $module:ident, $table:literal, $records:expr) => {{
        let (db, records) = ($db, $records);
        let (large_user, small_user) = (testing::user(db, "UTC").await, testing::user(db, "UTC").await);
        let mut conn = db.acquire().await.unwrap();
        let large = $module::insert_batch(&mut *conn, large_user, &records).await.unwrap();
        assert!(
            staged(&mut conn, $table).await,
            "{} rows took the COPY path",
            records.len()
        );
        let mut other = db.acquire().await.unwrap();
        let mut small = InsertCounts::default();
        for chunk in records.chunks(SMALL) {
            small = small + $module::insert_batch(&mut *other, small_user, chunk).await.unwrap();
        }
        assert!(
            !staged(&mut other, $table).await,
            "chunks of {SMALL} took the UNNEST path"
        );
        assert_eq!(large, small);
        assert_eq!(large, counts(records.len(), 0));
        assert_eq!(
            stored(db, $table, large_user).await,
            stored(db, $table, small_user).await
        );
        large_user
    }};
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn large_batches_store_exactly_what_small_batches_store(db: PgPool) {
    let user = same_as_small_batches!(&db, glucose, "glucose_readings", readings(0, LARGE));
    same_as_small_batches!(&db, sleep, "sleep_data", nights(LARGE));
    same_as_small_batches!(&db, activities, "activities", workouts(LARGE));
    same_as_small_batches!(&db, meals, "meals", dishes(LARGE));

    // Spot checks of the casts from the staged float8 to numeric, and of the instants.
    let (value, first): (String, DateTime<Utc>) = sqlx::query_as(
        r#"SELECT value::text, "timestamp" FROM glucose_readings WHERE user_id = $1 ORDER BY "timestamp" LIMIT 1"#,
    )
    .bind(user)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!((value.as_str(), first), ("40.5", start()));
    let qualities: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT quality_score::text FROM sleep_data WHERE quality_score IN (0.3, 8.3, 10)")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(qualities.len(), 3, "{qualities:?}");
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn copy_batches_count_new_present_and_repeated_records_as_before(db: PgPool) {
    let user = testing::user(&db, "UTC").await;
    // New rows, with ten of them repeated later in the same batch: the repeats count once.
    let mut batch = readings(0, LARGE);
    batch.extend_from_within(..10);
    assert_eq!(
        glucose::insert_batch(&db, user, &batch).await.unwrap(),
        counts(LARGE, 0)
    );
    assert_eq!(
        glucose::insert_batch(&db, user, &batch).await.unwrap(),
        counts(0, LARGE)
    );
    // Half stored, half new, unordered, with repeats of both.
    let mut overlapping = readings(LARGE / 2, LARGE);
    overlapping.reverse();
    overlapping.extend(readings(LARGE / 2, 5));
    overlapping.extend(readings(LARGE + 1, 5));
    assert_eq!(
        glucose::insert_batch(&db, user, &overlapping).await.unwrap(),
        counts(LARGE / 2, LARGE - LARGE / 2)
    );
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM glucose_readings WHERE user_id = $1")
        .bind(user)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(total as usize, LARGE + LARGE / 2);

    // The other kinds: a repeat inside the batch counts once, a re-send is all present.
    let mut nights = nights(LARGE);
    nights.push(nights[3].clone());
    assert_eq!(sleep::insert_batch(&db, user, &nights).await.unwrap(), counts(LARGE, 0));
    assert_eq!(sleep::insert_batch(&db, user, &nights).await.unwrap(), counts(0, LARGE));
    let mut workouts = workouts(LARGE);
    workouts.push(workouts[0].clone());
    assert_eq!(
        activities::insert_batch(&db, user, &workouts).await.unwrap(),
        counts(LARGE, 0)
    );
    assert_eq!(
        activities::insert_batch(&db, user, &workouts).await.unwrap(),
        counts(0, LARGE)
    );
    let mut dishes = dishes(LARGE);
    dishes.push(dishes[LARGE - 1].clone());
    assert_eq!(meals::insert_batch(&db, user, &dishes).await.unwrap(), counts(LARGE, 0));
    assert_eq!(meals::insert_batch(&db, user, &dishes).await.unwrap(), counts(0, LARGE));
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn copy_stages_inside_the_callers_transaction(db: PgPool) {
    let user = testing::user(&db, "UTC").await;
    let mut conn = db.acquire().await.unwrap();
    {
        // Two batches in one transaction: the second stages only its own rows.
        let mut tx = conn.begin().await.unwrap();
        assert_eq!(
            glucose::insert_batch(&mut *tx, user, &readings(0, LARGE))
                .await
                .unwrap(),
            counts(LARGE, 0)
        );
        assert_eq!(
            glucose::insert_batch(&mut *tx, user, &readings(LARGE, LARGE))
                .await
                .unwrap(),
            counts(LARGE, 0)
        );
        // Rolled back: the rows go, and so does the staging table the transaction created.
        tx.rollback().await.unwrap();
    }
    assert!(!staged(&mut conn, "glucose_readings").await);
    assert!(stored(&db, "glucose_readings", user).await.is_empty());
    // The same connection stages again, in autocommit mode this time.
    assert_eq!(
        glucose::insert_batch(&mut *conn, user, &readings(0, LARGE))
            .await
            .unwrap(),
        counts(LARGE, 0)
    );
    let mut tx = conn.begin().await.unwrap();
    assert_eq!(
        glucose::insert_batch(&mut *tx, user, &readings(0, 2 * LARGE))
            .await
            .unwrap(),
        counts(LARGE, LARGE)
    );
    tx.commit().await.unwrap();
    assert_eq!(stored(&db, "glucose_readings", user).await.len(), 2 * LARGE);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_failed_copy_batch_leaves_nothing_for_the_next_batch_on_the_connection(db: PgPool) {
    let user = testing::user(&db, "UTC").await;
    let mut conn = db.acquire().await.unwrap();
    // Staged, then refused by the final INSERT (no such user): in autocommit mode its rows stay staged.
    let error = glucose::insert_batch(&mut *conn, Uuid::new_v4(), &readings(0, LARGE))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("foreign key"), "{error}");
    assert_eq!(
        glucose::insert_batch(&mut *conn, user, &readings(10_000, LARGE))
            .await
            .unwrap(),
        counts(LARGE, 0)
    );
    assert_eq!(stored(&db, "glucose_readings", user).await.len(), LARGE);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn non_finite_numbers_are_refused_on_both_paths(db: PgPool) {
    let user = testing::user(&db, "UTC").await;
    for (count, bad) in [(1, f64::NAN), (LARGE, f64::NAN), (LARGE, f64::INFINITY)] {
        let mut batch = dishes(count);
        batch[count - 1].protein_g = Some(bad);
        let error = meals::insert_batch(&db, user, &batch).await.unwrap_err();
        assert!(matches!(error, sqlx::Error::Encode(_)), "{error}");
    }
    let mut runs = workouts(LARGE);
    runs[0].calories = Some(f64::NAN);
    assert!(activities::insert_batch(&db, user, &runs).await.is_err());
    assert!(stored(&db, "meals", user).await.is_empty());
    assert!(stored(&db, "activities", user).await.is_empty());
}

/// Two uncommitted batches of one user that overlap: B sends every key latest first, A holds the earlier half and
/// then inserts the later half. Inserting in B's order, B would take the later half and wait for A's earlier half
/// while A waits for B's later half: a deadlock. In key order B waits at the first key and takes nothing first.
#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn overlapping_copy_batches_wait_for_each_other_instead_of_deadlocking(db: PgPool) {
    let user = testing::user(&db, "UTC").await;
    let (earlier, later) = (readings(0, LARGE), readings(LARGE, LARGE));
    let mut latest_first: Vec<GlucoseRecord> = earlier.iter().chain(&later).cloned().collect();
    latest_first.reverse();

    let mut a = db.begin().await.unwrap();
    assert_eq!(
        glucose::insert_batch(&mut *a, user, &earlier).await.unwrap(),
        counts(LARGE, 0)
    );
    let mut b = db.begin().await.unwrap();
    let b_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *b)
        .await
        .unwrap();
    let b_insert = tokio::spawn(async move {
        let counts = glucose::insert_batch(&mut *b, user, &latest_first).await;
        (b, counts)
    });
    // Wait (however long it takes) until B is blocked on a row lock held by A.
    loop {
        let waiting: bool = sqlx::query_scalar(
            "SELECT coalesce(bool_or(wait_event_type = 'Lock'), false) FROM pg_stat_activity WHERE pid = $1",
        )
        .bind(b_pid)
        .fetch_one(&db)
        .await
        .unwrap();
        if waiting {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        glucose::insert_batch(&mut *a, user, &later).await.unwrap(),
        counts(LARGE, 0)
    );
    a.commit().await.unwrap();
    let (b, b_counts) = b_insert.await.unwrap();
    assert_eq!(b_counts.unwrap(), counts(0, 2 * LARGE));
    b.commit().await.unwrap();
    assert_eq!(stored(&db, "glucose_readings", user).await.len(), 2 * LARGE);
}

//! The daily summary and the dashboard served from `daily_aggregates` rows: the same answers as the live computation
//! from the raw rows (stored rows where current; today, dirty days and days without a row computed live), against a
//! fresh PostgreSQL database per test and moto.

use axum::http::StatusCode;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use glucolens_analytics::metrics::stats::{gmi_from_mean, range_counts, summary_stats};
use glucolens_app::aggregation::{aggregate_user, Mode};
use glucolens_app::record_writer::RecordWriter;
use glucolens_domain::local_day::{self, LocalDays};
use glucolens_domain::records::{ActivityRecord, GlucoseRecord, MealRecord, SleepQuality, SleepRecord};
use glucolens_domain::{GlucoseUnit, MgDl, UserTimeZone};
use glucolens_store as store;
use glucolens_store::aggregates::{self, DaysSpan};
use glucolens_testing as testing;
use glucolens_web::AppState;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

const DAILY: &str = "/api/v1/glucose/daily-summary";
const DASHBOARD: &str = "/api/v1/dashboard/summary";

async fn get(state: &AppState, uri: &str, user: Uuid) -> (StatusCode, Value) {
    let bearer = testing::bearer(state, user);
    let request = testing::json_request("GET", uri, Some(&bearer), &Value::Null);
    let reply = testing::respond(api_retrieval::router(state.clone()), request).await;
    (reply.status, reply.body)
}

async fn ok(state: &AppState, uri: &str, user: Uuid) -> Value {
    let (status, body) = get(state, uri, user).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    body
}

fn daily(date: NaiveDate) -> String {
    format!("{DAILY}?date={date}")
}

fn dashboard(days: u64) -> String {
    format!("{DASHBOARD}?days={days}")
}

/// What the dashboards and a few daily summaries answer, minus what moves with the clock between two requests (the
/// elapsed part of the current period: its expected readings and coverage, and the coverage change).
async fn answers(state: &AppState, user: Uuid, dates: &[NaiveDate]) -> Vec<Value> {
    let mut all = Vec::new();
    for days in [7, 30, 90] {
        let mut body = ok(state, &dashboard(days), user).await;
        let current = body["current"]["glucose"].as_object_mut().unwrap();
        current.remove("expected_readings");
        current.remove("coverage_percent");
        body["change"].as_object_mut().unwrap().remove("coverage_percent");
        all.push(body);
    }
    for &date in dates {
        all.push(ok(state, &daily(date), user).await);
    }
    all
}

/// `a` and `b` are the same JSON, numbers equal to 1e-9 relative.
fn assert_close(a: &Value, b: &Value, path: &str) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() <= 1e-9 * x.abs().max(y.abs()), "{path}: {x} vs {y}");
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(x.keys().collect::<Vec<_>>(), y.keys().collect::<Vec<_>>(), "{path}");
            for (key, value) in x {
                assert_close(value, &y[key], &format!("{path}.{key}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}");
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                assert_close(x, y, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

fn reading(time: DateTime<Utc>, value: f64, source: &str) -> GlucoseRecord {
    GlucoseRecord {
        time,
        source: source.into(),
        value: MgDl::parse("value", value, GlucoseUnit::MgDl).unwrap(),
        trend: None,
        device: None,
        clipped: false,
    }
}

/// Stores records through the record writer, which marks their local days dirty as ingestion does.
async fn ingest<R: glucolens_app::record_writer::Record>(db: &PgPool, user: Uuid, zone: &str, records: &[R]) {
    let mut conn = db.acquire().await.unwrap();
    let mut writer = RecordWriter::new(user, UserTimeZone::parse(zone).unwrap());
    writer.insert(&mut conn, records).await.unwrap();
    writer.mark_dirty(&mut conn).await.unwrap();
}

/// A CGM trace every 5 minutes in `[from, to)` (values crossing every consensus range), with an Apple Health copy
/// of every seventh reading (it must lose its slot), a gap of a day and a half and a thin day; a night per evening
/// (some recorded twice), a walk every third day and meals on most days. Readings and the hub copies go through
/// the record writer (dirty days); sleep, activities and meals are stored without marks, like data whose days
/// were never marked.
async fn seed(db: &PgPool, user: Uuid, zone: &str, from: DateTime<Utc>, to: DateTime<Utc>) {
    let slots = (to - from).num_minutes() / 5;
    let gap = (slots / 3)..(slots / 3 + 432);
    let mut readings = Vec::new();
    for i in (0..slots).filter(|i| !gap.contains(i) && !(slots / 2..slots / 2 + 288).contains(&(i | 3))) {
        let time = from + Duration::minutes(5 * i);
        let value = (150.0 + 115.0 * (i as f64 / 41.0).sin() + 12.0 * (i as f64 / 5.3).cos()).clamp(40.0, 400.0);
        let value = (value * 10.0).round() / 10.0;
        readings.push(reading(time, value, "dexcom"));
        if i % 7 == 0 {
            readings.push(reading(
                time + Duration::seconds(30),
                (value + 20.0).min(400.0),
                "apple_health",
            ));
        }
    }
    ingest(db, user, zone, &readings).await;
    let tz: Tz = zone.parse().unwrap();
    let (mut sleep, mut activities, mut meals) = (Vec::new(), Vec::new(), Vec::new());
    let first = local_day::local_date(tz, from);
    for n in 0..(to - from).num_days() {
        let date = first + Duration::days(n);
        let at = |hour: u32, minute: u32| {
            tz.from_local_datetime(&date.and_hms_opt(hour, minute, 0).unwrap())
                .earliest()
                .unwrap()
                .with_timezone(&Utc)
        };
        let night = |start: DateTime<Utc>, minutes: i64, source: &str| SleepRecord {
            start_time: start,
            end_time: start + Duration::minutes(minutes),
            source: source.into(),
            deep_minutes: Some(70),
            light_minutes: None,
            rem_minutes: Some(85),
            awake_minutes: Some((n % 4) as i32 * 7),
            quality: SleepQuality::parse(6.5),
        };
        sleep.push(night(at(22, 40) + Duration::minutes(n % 90), 430 + n % 50, "watch"));
        if n % 5 == 0 {
            sleep.push(night(at(23, 0), 400, "apple_health"));
        }
        if n % 3 == 0 {
            activities.push(ActivityRecord {
                start_time: at(18, 15),
                activity_type: "walking".into(),
                source: "watch".into(),
                duration_minutes: 20 + (n % 40) as i32,
                intensity: None,
                calories: Some(140.5),
                steps: Some(3000),
                avg_heart_rate: None,
            });
        }
        for (k, hour) in [8, 13, 19].into_iter().enumerate().filter(|_| n % 6 != 0) {
            meals.push(MealRecord {
                eaten_at: at(hour, 10),
                source: "app".into(),
                meal_type: None,
                carbs_g: 35.5 + (n as f64 * 3.7 + k as f64 * 11.0) % 60.0,
                protein_g: None,
                fat_g: None,
                fiber_g: None,
                calories: None,
                glycemic_load: None,
                description: None,
                photo_url: None,
            });
        }
    }
    let keep = |t: &DateTime<Utc>| *t < to;
    sleep.retain(|s| keep(&s.start_time));
    activities.retain(|a| keep(&a.start_time));
    meals.retain(|m| keep(&m.eaten_at));
    store::sleep::insert_batch(db, user, &sleep).await.unwrap();
    store::activities::insert_batch(db, user, &activities).await.unwrap();
    store::meals::insert_batch(db, user, &meals).await.unwrap();
}

async fn count(db: &PgPool, sql: &str, user: Uuid) -> i64 {
    sqlx::query_scalar(sql).bind(user).fetch_one(db).await.unwrap()
}

fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// The glucose figures of one dashboard period against the statistics of the period's readings themselves (one per
/// slot, read with the aggregation's own query), computed over all values at once rather than day by day.
async fn assert_glucose_of_raw_readings(db: &PgPool, user: Uuid, period: &Value, tz: Tz) {
    let first: NaiveDate = period["first_date"].as_str().unwrap().parse().unwrap();
    let last: NaiveDate = period["last_date"].as_str().unwrap().parse().unwrap();
    let days = LocalDays::ending(tz, last, (last - first).num_days() as u64 + 1);
    let span = DaysSpan {
        from: days.start,
        to: days.end,
        nights_from: days.start,
        nights_to: days.end,
    };
    let mut conn = db.acquire().await.unwrap();
    let rows = aggregates::day_rows(&mut conn, user, &[span], local_day::HUB_SOURCES)
        .await
        .unwrap();
    let values: Vec<f64> = rows.readings.iter().map(|&(_, v)| v).collect();
    let glucose = &period["glucose"];
    assert_eq!(glucose["reading_count"], values.len(), "{first}..{last}");
    let stats = summary_stats(&values);
    assert_eq!(glucose["mean"], round(stats.mean, 1), "{first}..{last}");
    assert_eq!(glucose["sd"], round(stats.sd, 1), "{first}..{last}");
    assert_eq!(glucose["cv_percent"], round(stats.cv, 1), "{first}..{last}");
    assert_eq!(
        glucose["gmi_percent"],
        round(gmi_from_mean(stats.mean), 2),
        "{first}..{last}"
    );
    assert_eq!(glucose["min"], values.iter().copied().reduce(f64::min).unwrap());
    assert_eq!(glucose["max"], values.iter().copied().reduce(f64::max).unwrap());
    let percent = |c: usize| round(100.0 * c as f64 / values.len() as f64, 1);
    let [very_low, low, in_range, high, very_high] = range_counts(&values).map(percent);
    assert_eq!(
        glucose["time_in_ranges"],
        serde_json::json!({"very_low": very_low, "low": low, "in_range": in_range, "high": high, "very_high": very_high}),
        "{first}..{last}"
    );
}

/// A user with 200 days of data up to now: every answer is computed live before the aggregation job has run (rows
/// missing, days dirty or never marked) and served from the rows after it, and both are the same; the dashboard's
/// glucose figures equal the statistics of the period's readings themselves.
#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn answers_from_day_rows_equal_the_live_computation_and_the_raw_readings(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let zone = "America/New_York";
    let tz: Tz = zone.parse().unwrap();
    let user = testing::user(&db, zone).await;
    let now = Utc::now();
    seed(&db, user, zone, now - Duration::days(200), now).await;
    let today = local_day::today(tz, now);
    let dates: Vec<NaiveDate> = [0, 1, 2, 45, 66, 99, 150].map(|n| today - Duration::days(n)).into();

    let live = answers(&state, user, &dates).await;
    assert_eq!(
        count(&db, "SELECT count(*) FROM daily_aggregates WHERE user_id = $1", user).await,
        0
    );
    aggregate_user(&db, user, Mode::Full).await.unwrap();
    assert!(count(&db, "SELECT count(*) FROM daily_aggregates WHERE user_id = $1", user).await > 190);
    assert_eq!(
        count(&db, "SELECT count(*) FROM dirty_days WHERE user_id = $1", user).await,
        0
    );
    let stored = answers(&state, user, &dates).await;
    assert_close(&Value::Array(live), &Value::Array(stored.clone()), "answers");

    for dashboard in &stored[..3] {
        assert!(dashboard["current"]["lifestyle"]["exercise_minutes_per_day"].is_number());
        assert!(dashboard["current"]["lifestyle"]["carbs_g_per_day"].is_number());
        for period in ["current", "previous"] {
            assert_glucose_of_raw_readings(&db, user, &dashboard[period], tz).await;
        }
    }
    assert_eq!(stored[2]["days"], 90);
}

/// One reading every 5 minutes of `date` (local) except at noon, in `zone`.
fn day_with_a_gap_at_noon(tz: Tz, date: NaiveDate, value: f64) -> Vec<GlucoseRecord> {
    let (start, end) = local_day::local_day_bounds(tz, date);
    let noon = tz
        .from_local_datetime(&date.and_hms_opt(12, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    std::iter::successors(Some(start), |t| Some(*t + Duration::minutes(5)))
        .take_while(|t| *t < end)
        .filter(|t| *t != noon)
        .enumerate()
        .map(|(i, t)| reading(t, value + (i % 9) as f64, "dexcom"))
        .collect()
}

/// A reading that arrives late for a day whose row is stored marks the day dirty: the next answer computes it live
/// and shows the reading, and after the next aggregation the row gives the same answer. A day with data but no row
/// (stored without a dirty mark) is computed live too.
#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_late_reading_for_an_aggregated_day_is_in_the_next_answer(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let zone = "Europe/Berlin";
    let tz: Tz = zone.parse().unwrap();
    let user = testing::user(&db, zone).await;
    let today = local_day::today(tz, Utc::now());
    let old_day = today - Duration::days(5);
    let unmarked_day = today - Duration::days(3);
    for n in 1..=10 {
        let date = today - Duration::days(n);
        if date != unmarked_day {
            ingest(&db, user, zone, &day_with_a_gap_at_noon(tz, date, 120.0)).await;
        }
    }
    // Today's first reading, aggregated too (a job run during the day stores a row for today).
    let midnight = local_day::local_midnight(tz, today);
    ingest(&db, user, zone, &[reading(midnight, 100.0, "dexcom")]).await;
    aggregate_user(&db, user, Mode::Incremental).await.unwrap();
    assert_eq!(
        count(&db, "SELECT count(*) FROM daily_aggregates WHERE user_id = $1", user).await,
        10
    );
    let before = ok(&state, &daily(old_day), user).await;
    let week = ok(&state, &dashboard(7), user).await;
    assert_eq!(before["glucose"]["reading_count"], 287);

    let noon = tz.from_local_datetime(&old_day.and_hms_opt(12, 0, 0).unwrap()).unwrap();
    ingest(&db, user, zone, &[reading(noon.with_timezone(&Utc), 390.0, "dexcom")]).await;
    // A whole day stored without marking it (as by hand): it has no row, so it is read live.
    store::glucose::insert_batch(&db, user, &day_with_a_gap_at_noon(tz, unmarked_day, 200.0))
        .await
        .unwrap();
    let after = ok(&state, &daily(old_day), user).await;
    assert_eq!(after["glucose"]["reading_count"], 288);
    assert_eq!(after["glucose"]["max"], 390.0);
    let week_after = ok(&state, &dashboard(7), user).await;
    assert_eq!(
        week_after["current"]["glucose"]["reading_count"],
        week["current"]["glucose"]["reading_count"].as_i64().unwrap() + 1 + 287
    );
    assert_eq!(week_after["current"]["glucose"]["max"], 390.0);

    // Today is always computed live: a reading stored without a mark (a second sensor winning the slot) shows.
    store::glucose::insert_batch(&db, user, &[reading(midnight, 300.0, "abbott")])
        .await
        .unwrap();
    assert_eq!(ok(&state, &daily(today), user).await["glucose"]["max"], 300.0);

    aggregate_user(&db, user, Mode::Incremental).await.unwrap();
    assert_eq!(
        count(&db, "SELECT count(*) FROM dirty_days WHERE user_id = $1", user).await,
        0
    );
    assert_close(&ok(&state, &daily(old_day), user).await, &after, "daily");
    let week_stored = ok(&state, &dashboard(7), user).await;
    assert_close(&week_stored["previous"], &week_after["previous"], "previous");
    assert_eq!(
        week_stored["current"]["glucose"]["reading_count"],
        week_after["current"]["glucose"]["reading_count"]
    );
}

/// Which path serves a day, told apart by a row altered by hand: the row while the day is current; the live
/// computation once the day, or the day after it (whose night may belong to it), is marked dirty.
#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_dirty_day_is_computed_live_and_a_current_one_read_from_its_row(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let zone = "Asia/Kolkata";
    let tz: Tz = zone.parse().unwrap();
    let user = testing::user(&db, zone).await;
    let today = local_day::today(tz, Utc::now());
    let day = today - Duration::days(4);
    for date in [day - Duration::days(1), day, day + Duration::days(1)] {
        ingest(&db, user, zone, &day_with_a_gap_at_noon(tz, date, 100.0)).await;
    }
    aggregate_user(&db, user, Mode::Incremental).await.unwrap();
    let live = ok(&state, &daily(day), user).await;
    sqlx::query("UPDATE daily_aggregates SET max_glucose = 555 WHERE user_id = $1 AND date = $2")
        .bind(user)
        .bind(day)
        .execute(&db)
        .await
        .unwrap();
    let max = |body: &Value| body["glucose"]["max"].as_f64().unwrap();
    assert_eq!(
        max(&ok(&state, &daily(day), user).await),
        555.0,
        "the current row is served"
    );
    assert_eq!(max(&ok(&state, &dashboard(7), user).await["current"]), 555.0);

    let mark = |date: NaiveDate| {
        let db = db.clone();
        async move {
            let instant = local_day::local_midnight(tz, date) + Duration::hours(3);
            let zone = UserTimeZone::parse(zone).unwrap();
            store::dirty_days::mark(&db, user, zone, &[instant]).await.unwrap();
        }
    };
    let clear = || {
        sqlx::query("DELETE FROM dirty_days WHERE user_id = $1")
            .bind(user)
            .execute(&db)
    };
    for dirty in [day, day + Duration::days(1)] {
        mark(dirty).await;
        assert_close(&ok(&state, &daily(day), user).await, &live, &format!("{dirty} dirty"));
        assert_eq!(max(&ok(&state, &dashboard(7), user).await["current"]), max(&live));
        clear().await.unwrap();
    }
    // A mark on the day before does not make this day stale.
    mark(day - Duration::days(1)).await;
    assert_eq!(max(&ok(&state, &daily(day), user).await), 555.0);
}

/// Today is marked dirty all day as readings arrive, which also marks yesterday's night: yesterday keeps its row
/// and only its night (sleep begun in its evening or after midnight) is computed live.
#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn yesterday_keeps_its_row_while_today_is_marked_and_its_night_is_live(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let zone = "Europe/Paris";
    let tz: Tz = zone.parse().unwrap();
    let user = testing::user(&db, zone).await;
    let today = local_day::today(tz, Utc::now());
    let yesterday = today - Duration::days(1);
    let midnight = local_day::local_midnight(tz, today);
    let session = |start: DateTime<Utc>, minutes: i64| SleepRecord {
        start_time: start,
        end_time: start + Duration::minutes(minutes),
        source: "watch".into(),
        deep_minutes: Some(30),
        light_minutes: None,
        rem_minutes: None,
        awake_minutes: None,
        quality: None,
    };
    ingest(&db, user, zone, &day_with_a_gap_at_noon(tz, yesterday, 110.0)).await;
    ingest(&db, user, zone, &[session(midnight - Duration::minutes(60), 30)]).await;
    aggregate_user(&db, user, Mode::Incremental).await.unwrap();
    sqlx::query("UPDATE daily_aggregates SET max_glucose = 555 WHERE user_id = $1 AND date = $2")
        .bind(user)
        .bind(yesterday)
        .execute(&db)
        .await
        .unwrap();
    // A reading today and a nap that began after midnight (yesterday's night): both mark only today.
    ingest(&db, user, zone, &[reading(midnight, 100.0, "dexcom")]).await;
    ingest(&db, user, zone, &[session(midnight, 45)]).await;
    let marked: Vec<NaiveDate> = sqlx::query_scalar("SELECT local_date FROM dirty_days WHERE user_id = $1")
        .bind(user)
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(marked, [today]);
    for body in [
        ok(&state, &daily(yesterday), user).await,
        ok(&state, &dashboard(7), user).await["current"].clone(),
    ] {
        assert_eq!(body["glucose"]["max"], 555.0, "the row is served: {body}");
    }
    let day = ok(&state, &daily(yesterday), user).await;
    assert_eq!(
        day["lifestyle"]["sleep_minutes"], 75.0,
        "the night is live: 30 + 45 minutes"
    );
    let week = ok(&state, &dashboard(7), user).await;
    assert_eq!(week["current"]["lifestyle"]["sleep_minutes_per_day"], 75.0);

    // Once yesterday itself is marked, the whole day is live again.
    ingest(
        &db,
        user,
        zone,
        &[reading(midnight - Duration::minutes(2), 130.0, "dexcom")],
    )
    .await;
    let day = ok(&state, &daily(yesterday), user).await;
    assert_eq!(day["glucose"]["max"], 118.0);
    assert_eq!(day["lifestyle"]["sleep_minutes"], 75.0);
}

/// New York's 23- and 25-hour days, with nights across the change, read from their rows equal the live days.
#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn dst_days_from_rows_equal_the_live_days(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let zone = "America/New_York";
    let tz: Tz = zone.parse().unwrap();
    let user = testing::user(&db, zone).await;
    let dates: Vec<NaiveDate> = [
        "2025-03-08",
        "2025-03-09",
        "2025-03-10",
        "2025-11-01",
        "2025-11-02",
        "2025-11-03",
    ]
    .map(|d| d.parse().unwrap())
    .into();
    for &date in &dates {
        ingest(&db, user, zone, &day_with_a_gap_at_noon(tz, date, 90.0)).await;
    }
    let nights = [
        ("2025-03-09T03:00:00Z", "2025-03-09T11:00:00Z"),
        ("2025-11-02T03:30:00Z", "2025-11-02T12:00:00Z"),
    ]
    .map(|(start, end)| SleepRecord {
        start_time: start.parse().unwrap(),
        end_time: end.parse().unwrap(),
        source: "watch".into(),
        deep_minutes: None,
        light_minutes: None,
        rem_minutes: None,
        awake_minutes: Some(15),
        quality: None,
    });
    ingest(&db, user, zone, &nights).await;
    let mut live = Vec::new();
    for &date in &dates {
        live.push(ok(&state, &daily(date), user).await);
    }
    aggregate_user(&db, user, Mode::Incremental).await.unwrap();
    assert_eq!(
        count(&db, "SELECT count(*) FROM dirty_days WHERE user_id = $1", user).await,
        0
    );
    for (date, live) in dates.iter().zip(&live) {
        assert_close(&ok(&state, &daily(*date), user).await, live, &date.to_string());
    }
    let by_date = |d: &str| &live[dates.iter().position(|x| x.to_string() == d).unwrap()];
    assert_eq!(by_date("2025-03-09")["hours"], 23.0);
    assert_eq!(by_date("2025-03-09")["glucose"]["expected_readings"], 276);
    assert_eq!(by_date("2025-11-02")["hours"], 25.0);
    assert_eq!(by_date("2025-11-02")["glucose"]["reading_count"], 299);
    // 22:00 → 06:00 EDT less 15 awake minutes, on the evening before the change.
    assert_eq!(by_date("2025-03-08")["lifestyle"]["sleep_minutes"], 465.0);
}

/// The audit row is written by the statement that reads the rows: when it cannot be written, no data leaves.
#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_summary_whose_read_cannot_be_audited_fails(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    testing::cgm_trace(&db, user, "dexcom", Utc::now() - Duration::days(2), 288, 0.0).await;
    sqlx::raw_sql(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no audit'; END $$;
         CREATE TRIGGER refuse BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse();",
    )
    .execute(&db)
    .await
    .unwrap();
    for uri in [dashboard(30), daily(Utc::now().date_naive())] {
        let (status, body) = get(&state, &uri, user).await;
        assert!(status.is_server_error(), "{uri}: {status}");
        assert!(body.get("glucose").is_none() && body.get("current").is_none(), "{body}");
    }
}

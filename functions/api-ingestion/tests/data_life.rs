//! A phone's whole data life through the API: what it writes it reads back with ids (by range and by id),
//! corrects and deletes by id, removes a bad sensor session by range, and follows through the change feed
//! (additions, corrections and deletions as tombstones) — with every change reaching the day's aggregate, and
//! nothing of another user's ever read or changed.

use axum::http::StatusCode;
use chrono::NaiveDate;
use glucolens_app::aggregation::{self, Mode};
use glucolens_testing::{self as testing, Reply};
use glucolens_web::AppState;
use serde_json::{json, Value};
use uuid::Uuid;

/// Sends a request through the function that serves it (ingestion writes, retrieval reads).
async fn call(state: &AppState, user: Uuid, method: &str, path: &str, body: Option<Value>) -> Reply {
    let authorization = testing::bearer(state, user);
    let request = testing::json_request(method, path, Some(&authorization), &body.unwrap_or(Value::Null));
    let router = match method {
        "GET" => api_retrieval::router(state.clone()),
        _ => api_ingestion::router(state.clone()),
    };
    testing::respond(router, request).await
}

fn ok(reply: Reply, status: StatusCode) -> Value {
    assert_eq!(reply.status, status, "{}", reply.body);
    reply.body
}

const DAY: &str = "start=2025-01-14T00:00:00Z&end=2025-01-17T00:00:00Z";

/// One record of each kind, in the design's names.
async fn write_one_of_each(state: &AppState, user: Uuid) {
    let bodies = [
        (
            "/api/v1/glucose/bulk",
            json!({"readings": [
                {"timestamp": "2025-01-15T08:00:00Z", "value": 95.0, "source": "dexcom_g7"},
                {"timestamp": "2025-01-15T08:05:00Z", "value": 98.0, "source": "dexcom_g7"},
                {"timestamp": "2025-01-15T09:00:00Z", "value": 150.0, "source": "manual"}
            ]}),
        ),
        (
            "/api/v1/sleep",
            json!({"sleep_start": "2025-01-14T23:00:00Z", "sleep_end": "2025-01-15T07:00:00Z",
            "duration_minutes": 450, "deep_sleep_minutes": 120, "quality_score": 8.5, "source": "apple_watch"}),
        ),
        (
            "/api/v1/activities",
            json!({"timestamp": "2025-01-15T18:00:00Z", "activity_type": "running",
            "duration_minutes": 45, "intensity": "vigorous", "calories_burned": 420, "heart_rate_avg": 148}),
        ),
        (
            "/api/v1/meals",
            json!({"timestamp": "2025-01-15T12:30:00Z", "meal_type": "lunch", "carbs_grams": 65.5,
            "photo_url": "https://example.com/lunch.jpg", "source": "manual"}),
        ),
    ];
    for (path, body) in bodies {
        ok(call(state, user, "POST", path, Some(body)).await, StatusCode::CREATED);
    }
}

/// The first item of a list route's page for the day.
async fn first(state: &AppState, user: Uuid, list: &str) -> Value {
    let page = ok(
        call(state, user, "GET", &format!("{list}?{DAY}"), None).await,
        StatusCode::OK,
    );
    let key = if list.ends_with("readings") {
        "readings"
    } else {
        "items"
    };
    page[key][0].clone()
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn every_kind_reads_back_with_its_id_by_range_and_by_id(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "Europe/Berlin").await;
    write_one_of_each(&state, user).await;

    let readings = ok(
        call(&state, user, "GET", &format!("/api/v1/glucose/readings?{DAY}"), None).await,
        StatusCode::OK,
    );
    let values: Vec<f64> = readings["readings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_f64().unwrap())
        .collect();
    assert_eq!(values, [95.0, 98.0, 150.0]);
    assert_eq!(readings["readings"][0]["timestamp"], "2025-01-15T08:00:00Z");
    assert_eq!(readings["readings"][0]["source"], "dexcom_g7");

    let sleep = first(&state, user, "/api/v1/sleep").await;
    assert_eq!(
        (
            &sleep["date"],
            &sleep["sleep_start"],
            &sleep["sleep_end"],
            &sleep["duration_minutes"]
        ),
        (
            &json!("2025-01-14"),
            &json!("2025-01-14T23:00:00Z"),
            &json!("2025-01-15T07:00:00Z"),
            &json!(450)
        )
    );
    assert_eq!(
        (
            &sleep["deep_sleep_minutes"],
            &sleep["quality_score"],
            &sleep["awake_minutes"]
        ),
        (&json!(120), &json!(8.5), &json!(30))
    );

    let activity = first(&state, user, "/api/v1/activities").await;
    assert_eq!(
        (
            &activity["activity_type"],
            &activity["intensity"],
            &activity["calories_burned"],
            &activity["heart_rate_avg"],
            &activity["source"]
        ),
        (
            &json!("running"),
            &json!("high"),
            &json!(420.0),
            &json!(148),
            &json!("api")
        )
    );

    let meal = first(&state, user, "/api/v1/meals").await;
    assert_eq!(
        (&meal["carbs_grams"], &meal["meal_type"], &meal["photo_url"]),
        (&json!(65.5), &json!("lunch"), &json!("https://example.com/lunch.jpg"))
    );

    // Each by its id, identical to its listing.
    for (list, item) in [
        ("/api/v1/sleep", &sleep),
        ("/api/v1/activities", &activity),
        ("/api/v1/meals", &meal),
    ] {
        let id = item["id"].as_i64().unwrap();
        assert_eq!(
            &ok(
                call(&state, user, "GET", &format!("{list}/{id}"), None).await,
                StatusCode::OK
            ),
            item
        );
    }
    let reading = &readings["readings"][2];
    let one = ok(
        call(
            &state,
            user,
            "GET",
            &format!("/api/v1/glucose/readings/{}", reading["id"]),
            None,
        )
        .await,
        StatusCode::OK,
    );
    assert_eq!(
        (&one["value"], &one["unit"], &one["id"]),
        (&json!(150.0), &json!("mg/dL"), &reading["id"])
    );

    // Pages of one follow each other by cursor and end with a null cursor.
    let mut cursor: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let path = match &cursor {
            None => format!("/api/v1/glucose/readings?{DAY}&limit=1"),
            Some(c) => format!("/api/v1/glucose/readings?{DAY}&limit=1&cursor={c}"),
        };
        let page = ok(call(&state, user, "GET", &path, None).await, StatusCode::OK);
        seen.extend(
            page["readings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let all: Vec<i64> = readings["readings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(seen, all);
}

/// The day's stored mean glucose after the aggregation job has run.
async fn aggregated_mean(db: &sqlx::PgPool, user: Uuid, date: &str) -> Option<f64> {
    aggregation::aggregate_user(db, user, Mode::Incremental).await.unwrap();
    sqlx::query_scalar("SELECT avg_glucose FROM daily_aggregates WHERE user_id = $1 AND date = $2")
        .bind(user)
        .bind(NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap())
        .fetch_optional(db)
        .await
        .unwrap()
        .flatten()
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn corrections_and_deletions_reach_the_days_aggregate(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    write_one_of_each(&state, user).await;
    let mean = aggregated_mean(&db, user, "2025-01-15").await.unwrap();
    assert!((mean - (95.0 + 98.0 + 150.0) / 3.0).abs() < 1e-9, "{mean}");

    // The manual reading was mistyped: 150 should be 105.
    let manual = ok(
        call(&state, user, "GET", &format!("/api/v1/glucose/readings?{DAY}"), None).await,
        StatusCode::OK,
    )["readings"][2]
        .clone();
    let path = format!("/api/v1/glucose/readings/{}", manual["id"]);
    let corrected = ok(
        call(&state, user, "PATCH", &path, Some(json!({"value": 105.0}))).await,
        StatusCode::OK,
    );
    assert_eq!(
        (&corrected["value"], &corrected["timestamp"]),
        (&json!(105.0), &manual["timestamp"])
    );
    let mean = aggregated_mean(&db, user, "2025-01-15").await.unwrap();
    assert!((mean - (95.0 + 98.0 + 105.0) / 3.0).abs() < 1e-9, "{mean}");

    // In mmol/L, with its unit.
    let corrected = ok(
        call(
            &state,
            user,
            "PATCH",
            &path,
            Some(json!({"value": 6.0, "unit": "mmol/L"})),
        )
        .await,
        StatusCode::OK,
    );
    assert_eq!(corrected["value"], json!(108.1));

    // Deleted: the day is the two sensor readings.
    ok(call(&state, user, "DELETE", &path, None).await, StatusCode::NO_CONTENT);
    assert_eq!(
        call(&state, user, "GET", &path, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&state, user, "DELETE", &path, None).await.status,
        StatusCode::NOT_FOUND
    );
    let mean = aggregated_mean(&db, user, "2025-01-15").await.unwrap();
    assert!((mean - 96.5).abs() < 1e-9, "{mean}");

    // The sensor session was bad: removed by range and source; the day has no glucose left.
    let deleted = ok(
        call(
            &state,
            user,
            "DELETE",
            "/api/v1/glucose/readings?start=2025-01-15T00:00:00Z&end=2025-01-16T00:00:00Z&source=dexcom_g7",
            None,
        )
        .await,
        StatusCode::OK,
    );
    assert_eq!(deleted["deleted"], 2);
    assert_eq!(aggregated_mean(&db, user, "2025-01-15").await, None);

    // A meal moved to the next day: both days are recomputed.
    let meal = first(&state, user, "/api/v1/meals").await;
    let carbs = |date: &'static str| {
        let db = db.clone();
        async move {
            aggregation::aggregate_user(&db, user, Mode::Incremental).await.unwrap();
            sqlx::query_scalar::<_, Option<f64>>(
                "SELECT total_carbs_grams FROM daily_aggregates WHERE user_id = $1 AND date = $2",
            )
            .bind(user)
            .bind(NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap())
            .fetch_optional(&db)
            .await
            .unwrap()
            .flatten()
        }
    };
    assert_eq!(carbs("2025-01-15").await, Some(65.5));
    let moved = ok(
        call(
            &state,
            user,
            "PATCH",
            &format!("/api/v1/meals/{}", meal["id"]),
            Some(json!({"timestamp": "2025-01-16T12:30:00Z", "photo_url": null})),
        )
        .await,
        StatusCode::OK,
    );
    assert_eq!(
        (&moved["photo_url"], &moved["carbs_grams"]),
        (&Value::Null, &json!(65.5))
    );
    assert_ne!(carbs("2025-01-15").await, Some(65.5));
    assert_eq!(carbs("2025-01-16").await, Some(65.5));
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn bad_corrections_change_nothing_and_name_the_field(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    write_one_of_each(&state, user).await;
    let sleep = first(&state, user, "/api/v1/sleep").await;
    let path = format!("/api/v1/sleep/{}", sleep["id"]);
    let field_codes = |reply: Reply| -> Vec<(String, String)> {
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
        reply.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap().into(), e["code"].as_str().unwrap().into()))
            .collect()
    };
    let pairs = |expected: &[(&str, &str)]| {
        expected
            .iter()
            .map(|(f, c)| (f.to_string(), c.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        field_codes(
            call(
                &state,
                user,
                "PATCH",
                &path,
                Some(json!({"sleep_end": "2025-01-14T22:00:00Z"}))
            )
            .await
        ),
        pairs(&[("sleep_end", "end_before_start")])
    );
    assert_eq!(
        field_codes(
            call(
                &state,
                user,
                "PATCH",
                &path,
                Some(json!({"quality_score": 11, "id": 5}))
            )
            .await
        ),
        pairs(&[("id", "read_only")])
    );
    assert_eq!(
        field_codes(call(&state, user, "PATCH", &path, Some(json!({"sleep_start": null}))).await),
        pairs(&[("sleep_start", "required")])
    );
    assert_eq!(
        field_codes(call(&state, user, "PATCH", &path, Some(json!({"quality_score": 11}))).await),
        pairs(&[("quality_score", "out_of_range")])
    );
    assert_eq!(first(&state, user, "/api/v1/sleep").await, sleep, "nothing changed");

    // Moving a reading onto another stored reading's time and source is a conflict, not a silent merge.
    let readings = ok(
        call(&state, user, "GET", &format!("/api/v1/glucose/readings?{DAY}"), None).await,
        StatusCode::OK,
    );
    let second = &readings["readings"][1];
    let conflict = call(
        &state,
        user,
        "PATCH",
        &format!("/api/v1/glucose/readings/{}", second["id"]),
        Some(json!({"timestamp": "2025-01-15T08:00:00Z"})),
    )
    .await;
    assert_eq!(
        (conflict.status, &conflict.body["code"]),
        (StatusCode::CONFLICT, &json!("duplicate_key"))
    );

    // Ids that cannot exist, and range deletions without a range.
    for bad in ["0", "-3", "abc", "99999999999999999999"] {
        assert_eq!(
            call(&state, user, "PATCH", &format!("/api/v1/meals/{bad}"), Some(json!({})))
                .await
                .status,
            StatusCode::NOT_FOUND,
            "{bad}"
        );
    }
    assert_eq!(
        field_codes(
            call(
                &state,
                user,
                "DELETE",
                "/api/v1/glucose/readings?start=2025-01-15T00:00:00Z",
                None
            )
            .await
        ),
        pairs(&[("end", "required")])
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn another_users_records_are_never_read_or_changed(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let (owner, other) = (testing::user(&db, "UTC").await, testing::user(&db, "UTC").await);
    write_one_of_each(&state, owner).await;
    let before = ok(
        call(
            &state,
            owner,
            "GET",
            "/api/v1/meals?updated_since=1970-01-01T00:00:00Z",
            None,
        )
        .await,
        StatusCode::OK,
    );
    let reading = first(&state, owner, "/api/v1/glucose/readings").await;
    for (list, item) in [
        ("/api/v1/glucose/readings", reading.clone()),
        ("/api/v1/sleep", first(&state, owner, "/api/v1/sleep").await),
        ("/api/v1/activities", first(&state, owner, "/api/v1/activities").await),
        ("/api/v1/meals", first(&state, owner, "/api/v1/meals").await),
    ] {
        let path = format!("{list}/{}", item["id"]);
        for method in ["GET", "PATCH", "DELETE"] {
            let body = (method == "PATCH").then(|| json!({"source": "stolen"}));
            assert_eq!(
                call(&state, other, method, &path, body).await.status,
                StatusCode::NOT_FOUND,
                "{method} {path}"
            );
        }
        let theirs = ok(
            call(&state, other, "GET", &format!("{list}?{DAY}"), None).await,
            StatusCode::OK,
        );
        let key = if list.ends_with("readings") {
            "readings"
        } else {
            "items"
        };
        assert_eq!(theirs[key], json!([]), "{list}");
        let feed = ok(
            call(
                &state,
                other,
                "GET",
                &format!("{list}?updated_since=1970-01-01T00:00:00Z"),
                None,
            )
            .await,
            StatusCode::OK,
        );
        assert_eq!((&feed[key], &feed["deleted"]), (&json!([]), &json!([])), "{list}");
    }
    let range = ok(
        call(
            &state,
            other,
            "DELETE",
            &format!("/api/v1/glucose/readings?{DAY}"),
            None,
        )
        .await,
        StatusCode::OK,
    );
    assert_eq!(range["deleted"], 0);
    assert_eq!(first(&state, owner, "/api/v1/glucose/readings").await, reading);
    let after = ok(
        call(
            &state,
            owner,
            "GET",
            "/api/v1/meals?updated_since=1970-01-01T00:00:00Z",
            None,
        )
        .await,
        StatusCode::OK,
    );
    assert_eq!(after["items"], before["items"]);
}

/// Syncs `list` from `anchor` to the end, `limit` changes a page; returns the changed ids, the deleted ids and
/// the next anchor.
async fn sync(state: &AppState, user: Uuid, list: &str, anchor: &str, limit: u32) -> (Vec<i64>, Vec<i64>, String) {
    let key = if list.ends_with("readings") {
        "readings"
    } else {
        "items"
    };
    let (mut changed, mut deleted) = (Vec::new(), Vec::new());
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("{list}?updated_since={anchor}&limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = ok(call(state, user, "GET", &path, None).await, StatusCode::OK);
        changed.extend(page[key].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()));
        deleted.extend(
            page["deleted"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => {
                let next = page["next_updated_since"]
                    .as_str()
                    .expect("the last page has the next anchor");
                return (changed, deleted, next.replace('+', "%2B"));
            }
        }
    }
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_change_feed_returns_additions_corrections_and_tombstones(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    write_one_of_each(&state, user).await;
    let list = "/api/v1/glucose/readings";
    let (changed, deleted, anchor) = sync(&state, user, list, "1970-01-01T00:00:00Z", 2).await;
    assert_eq!((changed.len(), deleted.len()), (3, 0));

    // Nothing changed since (and no write was in flight): the next sync is empty.
    assert_eq!(sync(&state, user, list, &anchor, 2).await.0, Vec::<i64>::new());

    // One corrected, one deleted, one added.
    let (corrected, removed) = (changed[0], changed[1]);
    ok(
        call(
            &state,
            user,
            "PATCH",
            &format!("{list}/{corrected}"),
            Some(json!({"value": 101.0})),
        )
        .await,
        StatusCode::OK,
    );
    ok(
        call(&state, user, "DELETE", &format!("{list}/{removed}"), None).await,
        StatusCode::NO_CONTENT,
    );
    ok(
        call(
            &state,
            user,
            "POST",
            list,
            Some(json!({"timestamp": "2025-01-15T10:00:00Z", "value": 120.0})),
        )
        .await,
        StatusCode::CREATED,
    );
    let (changed, deleted, _) = sync(&state, user, list, &anchor, 1).await;
    assert_eq!(changed.len(), 2, "the corrected and the added reading: {changed:?}");
    assert!(
        changed.contains(&corrected) && !changed.contains(&removed),
        "{changed:?}"
    );
    assert_eq!(deleted, [removed]);

    // The same holds for the other kinds: a deleted meal comes back as a tombstone.
    let meal = first(&state, user, "/api/v1/meals").await["id"].as_i64().unwrap();
    let (_, _, meal_anchor) = sync(&state, user, "/api/v1/meals", "1970-01-01T00:00:00Z", 10).await;
    ok(
        call(&state, user, "DELETE", &format!("/api/v1/meals/{meal}"), None).await,
        StatusCode::NO_CONTENT,
    );
    let (_, deleted, _) = sync(&state, user, "/api/v1/meals", &meal_anchor, 10).await;
    assert_eq!(deleted, [meal]);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_write_still_uncommitted_during_a_sync_comes_in_the_next_one(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    // A write that started before the sync and commits after it: its rows are stamped with its start.
    let mut slow = db.begin().await.unwrap();
    sqlx::query(r#"INSERT INTO meals (user_id, "timestamp", source, carbs_grams) VALUES ($1, '2025-01-15T12:00:00Z', 'slow', 40)"#)
        .bind(user)
        .execute(&mut *slow)
        .await
        .unwrap();
    write_one_of_each(&state, user).await;
    let (changed, _, anchor) = sync(&state, user, "/api/v1/meals", "1970-01-01T00:00:00Z", 10).await;
    assert_eq!(changed.len(), 1, "only the committed meal");
    slow.commit().await.unwrap();
    let slow_id: i64 = sqlx::query_scalar("SELECT id FROM meals WHERE source = 'slow'")
        .fetch_one(&db)
        .await
        .unwrap();
    let (changed, _, _) = sync(&state, user, "/api/v1/meals", &anchor, 10).await;
    assert!(changed.contains(&slow_id), "the late commit is not lost: {changed:?}");
}

//! Hostile and impossible uploads to the Nightscout API: NUL text is 422 naming the field, out-of-range dates and
//! leap seconds are skipped and counted in a header, repeated keys collapse or are 422 naming both indices, and
//! the batch limit is the JSON bulk route's.

use axum::http::StatusCode;
use glucolens_domain::ingest::MAX_BATCH_ITEMS;
use glucolens_testing as testing;
use glucolens_web::AppState;
use serde_json::{json, Value};
use sha1::Digest;
use sqlx::PgPool;
use uuid::Uuid;

const SECRET: &str = "hostile-upload-secret";

struct Reply {
    status: StatusCode,
    skipped: Option<String>,
    body: Value,
}

async fn post(state: &AppState, path: &str, body: &Value) -> Reply {
    let api_secret = hex::encode(sha1::Sha1::digest(SECRET.as_bytes()));
    let request = http::Request::builder()
        .method("POST")
        .uri(path)
        .header("api-secret", api_secret)
        .header("content-type", "application/json")
        .body(lambda_http::Body::from(body.to_string()))
        .unwrap();
    let reply = testing::respond(api_nightscout::router(state.clone()), request).await;
    Reply {
        status: reply.status,
        skipped: reply
            .headers
            .get("x-skipped-out-of-range")
            .map(|v| v.to_str().unwrap().to_owned()),
        body: reply.body,
    }
}

async fn uploader(db: &PgPool) -> Uuid {
    let user = testing::user(db, "UTC").await;
    let hash = sha2::Sha256::digest(hex::encode(sha1::Sha1::digest(SECRET.as_bytes())).as_bytes());
    glucolens_store::nightscout::replace_secret(db, user, &hash)
        .await
        .unwrap();
    user
}

async fn count(db: &PgPool, table: &str, user: Uuid) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE user_id = $1"))
        .bind(user)
        .fetch_one(db)
        .await
        .unwrap()
}

fn sgv(date_string: &str, value: u32) -> Value {
    json!({"type": "sgv", "sgv": value, "dateString": date_string, "direction": "Flat", "device": "xDrip"})
}

fn fields(body: &Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn nul_in_an_entry_or_treatment_field_is_422_naming_it_and_writes_nothing(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = uploader(&db).await;
    for (field, value) in [
        ("device", "xDrip\u{0}"),
        ("direction", "\u{0}Flat"),
        ("type", "sgv\u{0}"),
    ] {
        let mut bad = sgv("2024-03-01T08:05:00Z", 120);
        bad[field] = json!(value);
        let reply = post(
            &state,
            "/api/v1/entries",
            &json!([sgv("2024-03-01T08:00:00Z", 110), bad]),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
        assert_eq!(
            fields(&reply.body),
            [(format!("entries[1].{field}"), "invalid_text".to_owned())]
        );
    }
    let treatment = json!([{"eventType": "Meal\u{0}Bolus", "carbs": 30, "created_at": "2024-03-01T12:00:00Z"}]);
    let reply = post(&state, "/api/v1/treatments", &treatment).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(
        fields(&reply.body),
        [("treatments[0].eventType".to_owned(), "invalid_text".to_owned())]
    );
    for table in ["glucose_readings", "meals", "dirty_days"] {
        assert_eq!(count(&db, table, user).await, 0, "{table}");
    }
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn out_of_range_and_leap_second_documents_are_skipped_and_counted(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = uploader(&db).await;
    let entries = json!([
        sgv("2024-03-01T08:00:00Z", 110),
        sgv("0001-01-01T00:00:00Z", 110),
        sgv("1961-04-12T06:07:00Z", 110),
        {"type": "sgv", "sgv": 100, "date": 253_402_300_799_000_i64},
        {"type": "sgv", "sgv": 100, "date": 253_402_300_800_000_i64},
        sgv("2016-12-31T23:59:60Z", 110),
    ]);
    let reply = post(&state, "/api/v1/entries", &entries).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body.as_array().unwrap().len(),
        1,
        "only the accepted entry is echoed"
    );
    assert_eq!(reply.skipped.as_deref(), Some("5"));
    assert_eq!(count(&db, "glucose_readings", user).await, 1);

    let treatments = json!([
        {"eventType": "Carb Correction", "carbs": 20, "created_at": "1961-04-12T06:07:00Z"},
        {"eventType": "Exercise", "duration": 30, "date": 253_402_300_800_000_i64},
        {"eventType": "Carb Correction", "carbs": 20, "created_at": "2024-03-01T12:00:00Z"},
    ]);
    let reply = post(&state, "/api/v1/treatments", &treatments).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.skipped.as_deref(), Some("2"));
    assert_eq!(count(&db, "meals", user).await, 1);
    assert_eq!(count(&db, "activities", user).await, 0);
    let impossible: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM dirty_days WHERE user_id = $1 AND (local_date < '2000-01-01' OR local_date > now())",
    )
    .bind(user)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(impossible, 0);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn repeated_keys_collapse_when_identical_and_are_422_naming_both_indices_otherwise(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = uploader(&db).await;
    let same = sgv("2024-03-01T08:00:00Z", 110);
    let reply = post(
        &state,
        "/api/v1/entries",
        &json!([same, sgv("2024-03-01T08:05:00Z", 111), same]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(count(&db, "glucose_readings", user).await, 2);

    let conflicting = json!([
        sgv("2024-03-02T08:00:00Z", 110),
        sgv("2024-03-02T08:05:00Z", 111),
        sgv("2024-03-02T09:00:00+01:00", 150),
    ]);
    let reply = post(&state, "/api/v1/entries", &conflicting).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(
        fields(&reply.body),
        [("entries[2].date".to_owned(), "duplicate_key".to_owned())]
    );
    let reason = reply.body["errors"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("item 0") && reason.contains("item 2"), "{reason}");
    assert_eq!(
        count(&db, "glucose_readings", user).await,
        2,
        "nothing of the batch was written"
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_batch_limit_is_the_bulk_routes(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = uploader(&db).await;
    let too_many = Value::Array(vec![json!({}); MAX_BATCH_ITEMS + 1]);
    let reply = post(&state, "/api/v1/entries", &too_many).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(reply.body["errors"][0]["code"], "batch_too_large");
    let at_the_limit = Value::Array(vec![json!({}); MAX_BATCH_ITEMS]);
    let reply = post(&state, "/api/v1/treatments", &at_the_limit).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(count(&db, "meals", user).await, 0);
}

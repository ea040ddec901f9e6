//! Imports through the API against a fresh database per test and moto: every real sample imports with its
//! expected counts, a re-import adds nothing, a cut-off file writes nothing, imports are private to their owner.

use axum::http::StatusCode;
use glucolens_testing as testing;
use glucolens_web::AppState;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

macro_rules! sample {
    ($name:literal) => {
        include_bytes!(concat!("../../../shared/importers/tests/data/", $name)).as_slice()
    };
}

/// The synthetic excerpts are dated 1961, before the accepted range (2000 on, whose rows are skipped and counted):
/// moved to 2001 (same days) where a test is about importing them.
fn in_range(sample: &[u8]) -> Vec<u8> {
    String::from_utf8(sample.to_vec())
        .unwrap()
        .replace("1961", "2001")
        .into_bytes()
}

async fn send(state: &AppState, method: &str, uri: &str, user: Uuid, body: Vec<u8>) -> (StatusCode, Value) {
    let request = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", testing::bearer(state, user))
        .header("content-type", "application/octet-stream")
        .body(lambda_http::Body::from(body))
        .unwrap();
    let reply = testing::respond(api_imports::router(state.clone()), request).await;
    (reply.status, reply.body)
}

async fn rows(db: &PgPool, table: &str, user: Uuid) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE user_id = $1"))
        .bind(user)
        .fetch_one(db)
        .await
        .unwrap()
}

/// Imports `file` as `format`, checks the counts per kind, then imports it again and checks nothing was added.
async fn imports_then_reimports(db: PgPool, format: &str, file: &[u8], expected: [(&str, &str, i64); 4]) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "Europe/Berlin").await;
    let uri = format!("/api/v1/imports?format={format}");
    let total: i64 = expected.iter().map(|e| e.2).sum();
    let (status, body) = send(&state, "POST", &uri, user, file.to_vec()).await;
    assert_eq!(
        status,
        if total > 0 { StatusCode::CREATED } else { StatusCode::OK },
        "{body}"
    );
    assert_eq!(body["report"]["imported"], total, "{body}");
    for (kind, table, count) in expected {
        assert_eq!(body["report"][kind]["inserted"], count, "{kind}: {body}");
        assert_eq!(rows(&db, table, user).await, count, "{table}");
    }
    let (status, again) = send(&state, "POST", &uri, user, file.to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["report"]["imported"], 0);
    assert_eq!(
        again["report"]["already_present"],
        body["report"]["imported"].as_i64().unwrap() + body["report"]["already_present"].as_i64().unwrap()
    );
    for (_, table, count) in expected {
        assert_eq!(rows(&db, table, user).await, count, "{table} after re-import");
    }
    if total > 0 {
        let dirty: i64 = sqlx::query_scalar("SELECT count(*) FROM dirty_days WHERE user_id = $1")
            .bind(user)
            .fetch_one(&db)
            .await
            .unwrap();
        assert!(dirty > 0, "imported days are marked for re-aggregation");
    }
}

fn only_glucose(count: i64) -> [(&'static str, &'static str, i64); 4] {
    [
        ("glucose", "glucose_readings", count),
        ("sleep", "sleep_data", 0),
        ("activities", "activities", 0),
        ("meals", "meals", 0),
    ]
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn clarity_12_column(db: PgPool) {
    imports_then_reimports(
        db,
        "dexcom_clarity",
        sample!("clarity_g6_12col_cgmquantify.csv"),
        only_glucose(2148),
    )
    .await;
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn clarity_14_column(db: PgPool) {
    let file = in_range(sample!("clarity_g6_14col_synthetic_excerpt_cgm_format.csv"));
    imports_then_reimports(db, "dexcom_clarity", &file, only_glucose(583)).await;
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn libreview_notes_only(db: PgPool) {
    let file = sample!("librelink_mmol_eu_notes_type6_glyco.csv");
    imports_then_reimports(db, "libreview", file, only_glucose(0)).await;
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn libreview_historic_without_preamble(db: PgPool) {
    let file = sample!("librelink_mmol_eu_historic_noheader1_glyco.csv");
    imports_then_reimports(db, "libreview", file, only_glucose(6)).await;
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn libre_3_historic_and_scans(db: PgPool) {
    let file = in_range(sample!("libre3_mgdl_synthetic_excerpt_cgm_format.csv"));
    imports_then_reimports(db, "libreview", &file, only_glucose(300 + 60)).await;
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn nightscout_oref0_entries(db: PgPool) {
    let file = sample!("entries_oref0_examples_glucose.json");
    let expected = serde_json::from_slice::<Vec<Value>>(file).unwrap().len() as i64;
    imports_then_reimports(db, "nightscout_entries", file, only_glucose(expected)).await;
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn nightscout_iaps_entries(db: PgPool) {
    let file = sample!("entries_iaps_excerpt_cgm_format.json");
    imports_then_reimports(db, "nightscout_entries", file, only_glucose(288)).await;
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn apple_health_real_excerpt(db: PgPool) {
    let file = sample!("export_excerpt_dogsheep.xml");
    let expected = [
        ("glucose", "glucose_readings", 0),
        ("sleep", "sleep_data", 0),
        ("activities", "activities", 1),
        ("meals", "meals", 0),
    ];
    imports_then_reimports(db, "apple_health", file, expected).await;
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn apple_health_glucose_sleep_workout_and_meals(db: PgPool) {
    let file = sample!("export_glucose_sleep_diet.xml");
    let expected = [
        ("glucose", "glucose_readings", 3),
        ("sleep", "sleep_data", 2),
        ("activities", "activities", 1),
        ("meals", "meals", 2),
    ];
    imports_then_reimports(db, "apple_health", file, expected).await;
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_format_is_guessed_and_the_report_lists_skips_with_lines(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let file = in_range(sample!("clarity_g6_14col_synthetic_excerpt_cgm_format.csv"));
    let (status, body) = send(&state, "POST", "/api/v1/imports", user, file).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["report"]["format"], "dexcom_clarity");
    let skipped = body["report"]["skipped"].as_array().unwrap();
    let insulin = skipped.iter().find(|s| s["reason"] == "insulin is not stored").unwrap();
    assert_eq!(insulin["count"], 6);
    assert!(!insulin["lines"].as_array().unwrap().is_empty());

    let (status, body) = send(&state, "POST", "/api/v1/imports", user, b"what is this".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["code"], "unknown_format");
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_cut_off_file_writes_nothing_and_the_import_records_why(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    for (format, file) in [
        ("dexcom_clarity", sample!("clarity_g6_12col_cgmquantify.csv")),
        ("apple_health", sample!("export_glucose_sleep_diet.xml")),
        ("nightscout_entries", sample!("entries_iaps_excerpt_cgm_format.json")),
    ] {
        // Cut in the middle of a line, two thirds in: the first rows parse (and are sent to the database) first.
        let mut cut = file[..file.len() * 2 / 3].to_vec();
        while cut.last().is_some_and(|b| *b != b',' && *b != b' ') {
            cut.pop();
        }
        cut.pop();
        let (status, body) = send(&state, "POST", &format!("/api/v1/imports?format={format}"), user, cut).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{format}: {body}");
        assert_eq!(body["errors"][0]["code"], "corrupt_file", "{body}");
        for table in ["glucose_readings", "sleep_data", "activities", "meals", "dirty_days"] {
            assert_eq!(rows(&db, table, user).await, 0, "{format}: {table}");
        }
    }
    let failed: Vec<(String, Option<String>)> = sqlx::query_as("SELECT status, error FROM imports WHERE user_id = $1")
        .bind(user)
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(failed.len(), 3);
    assert!(failed
        .iter()
        .all(|(status, error)| status == "failed" && error.as_deref().unwrap().contains("truncated")));
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn an_import_is_visible_to_its_owner_only(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let owner = testing::user(&db, "UTC").await;
    let other = testing::user(&db, "UTC").await;
    let file = sample!("librelink_mmol_eu_historic_noheader1_glyco.csv");
    let (_, body) = send(&state, "POST", "/api/v1/imports?format=libreview", owner, file.to_vec()).await;
    let uri = format!("/api/v1/imports/{}", body["id"].as_str().unwrap());
    let (status, import) = send(&state, "GET", &uri, owner, Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(import["status"], "succeeded");
    assert_eq!(import["report"]["glucose"]["inserted"], 6);
    let (status, _) = send(&state, "GET", &uri, other, Vec::new()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(&state, "GET", "/api/v1/imports/not-a-uuid", owner, Vec::new()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn files_over_the_body_limit_are_refused_with_a_pointer_to_uploads(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let big = vec![b'a'; glucolens_web::MAX_BODY_BYTES + 10];
    let (status, body) = send(&state, "POST", "/api/v1/imports?format=libreview", user, big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_large_file_cut_off_after_several_batches_were_written_rolls_them_back(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    // 12,000 five-minute readings: the import writes two full batches before it reaches the cut.
    let mut file = String::from("Index,Timestamp (YYYY-MM-DDThh:mm:ss),Event Type,Event Subtype,Patient Info,Device Info,Source Device ID,Glucose Value (mg/dL),Insulin Value (u),Carb Value (grams),Duration (hh:mm:ss),Glucose Rate of Change (mg/dL/min)\n");
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    for i in 0..12_000 {
        let time = start + chrono::Duration::minutes(5 * i);
        file.push_str(&format!(
            "{i},{},EGV,,,,G6,{},,,,\n",
            time.format("%Y-%m-%dT%H:%M:%S"),
            80 + i % 100
        ));
    }
    file.push_str("12000,2024-02-12T16:00:00,EGV,,");
    let (status, body) = send(
        &state,
        "POST",
        "/api/v1/imports?format=dexcom_clarity",
        user,
        file.into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("line 12002"), "{body}");
    assert_eq!(rows(&db, "glucose_readings", user).await, 0);
    assert_eq!(rows(&db, "dirty_days", user).await, 0);
}

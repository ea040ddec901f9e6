//! The large-file path end to end against moto S3 and a fresh database: presigned upload URL from the API, a real
//! HTTP PUT to it, the S3 event (events/import-worker-s3-put.json) to the worker, rows in the database.

use aws_lambda_events::event::s3::S3Event;
use glucolens_aws::storage::UploadBucket;
use glucolens_testing as testing;
use glucolens_web::AppState;
use http_body_util::BodyExt;
use import_worker::Outcome;
use serde_json::Value;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;
use uuid::Uuid;

const CLARITY: &[u8] = include_bytes!("../../../shared/importers/tests/data/clarity_g6_12col_cgmquantify.csv");
const S3_PUT: &str = include_str!("../../../events/import-worker-s3-put.json");

/// A bucket of this test's own in moto.
async fn bucket() -> UploadBucket {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("tests need AWS_ENDPOINT_URL (moto)");
    let sdk = aws_config::from_env().endpoint_url(endpoint).load().await;
    let bucket = UploadBucket::new(&sdk, format!("test-imports-{}", Uuid::new_v4().simple()));
    bucket
        .client()
        .create_bucket()
        .bucket(bucket.name())
        .send()
        .await
        .unwrap();
    bucket
}

async fn api(state: &AppState, bucket: &UploadBucket, method: &str, uri: &str, user: Uuid, body: &str) -> Value {
    let request = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", testing::bearer(state, user))
        .header("content-type", "application/json")
        .body(lambda_http::Body::from(body.to_owned()))
        .unwrap();
    let response = api_imports::router_with_bucket(state.clone(), bucket.clone())
        .oneshot(request)
        .await
        .unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&body).unwrap()
}

/// PUTs `body` to a presigned `http://host:port/path?query` URL, as a client would; returns the status code.
async fn put(url: &str, body: &[u8]) -> u16 {
    let rest = url.strip_prefix("http://").expect("moto serves plain HTTP");
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The recorded S3 event, pointed at `bucket` and `key`.
fn s3_event(bucket: &UploadBucket, key: &str) -> S3Event {
    let mut event: Value = serde_json::from_str(S3_PUT).unwrap();
    event["Records"][0]["s3"]["bucket"]["name"] = bucket.name().into();
    event["Records"][0]["s3"]["object"]["key"] = key.into();
    serde_json::from_value(event).unwrap()
}

async fn upload(state: &AppState, bucket: &UploadBucket, user: Uuid, format: &str, file: &[u8]) -> (String, String) {
    let ticket = api(
        state,
        bucket,
        "POST",
        "/api/v1/imports/uploads",
        user,
        &format!(r#"{{"format":"{format}"}}"#),
    )
    .await;
    assert_eq!(ticket["status"], "awaiting_upload", "{ticket}");
    assert_eq!(put(ticket["upload_url"].as_str().unwrap(), file).await, 200);
    let id = ticket["id"].as_str().unwrap().to_owned();
    (id.clone(), format!("imports/{user}/{id}"))
}

async fn readings(db: &PgPool, user: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM glucose_readings WHERE user_id = $1")
        .bind(user)
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn an_uploaded_file_is_imported_once_and_removed(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let bucket = bucket().await;
    let user = testing::user(&db, "America/New_York").await;
    let (id, key) = upload(&state, &bucket, user, "dexcom_clarity", CLARITY).await;

    let outcomes = import_worker::handle(&db, &bucket, s3_event(&bucket, &key))
        .await
        .unwrap();
    assert_eq!(outcomes, [Outcome::Imported]);
    assert_eq!(readings(&db, user).await, 2148);
    let import = api(&state, &bucket, "GET", &format!("/api/v1/imports/{id}"), user, "").await;
    assert_eq!(import["status"], "succeeded", "{import}");
    assert_eq!(import["report"]["glucose"]["inserted"], 2148);
    let listed = bucket
        .client()
        .list_objects_v2()
        .bucket(bucket.name())
        .send()
        .await
        .unwrap();
    assert_eq!(listed.key_count(), Some(0), "the object is deleted once imported");

    // S3 may deliver the same notification again.
    let again = import_worker::handle(&db, &bucket, s3_event(&bucket, &key))
        .await
        .unwrap();
    assert_eq!(again, [Outcome::Ignored]);
    assert_eq!(readings(&db, user).await, 2148);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_cut_off_upload_fails_its_import_and_writes_nothing(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let bucket = bucket().await;
    let user = testing::user(&db, "UTC").await;
    let cut = &CLARITY[..CLARITY.len() / 2 - 3];
    let (id, key) = upload(&state, &bucket, user, "dexcom_clarity", cut).await;
    let outcomes = import_worker::handle(&db, &bucket, s3_event(&bucket, &key))
        .await
        .unwrap();
    assert_eq!(outcomes, [Outcome::Failed]);
    assert_eq!(readings(&db, user).await, 0);
    let import = api(&state, &bucket, "GET", &format!("/api/v1/imports/{id}"), user, "").await;
    assert_eq!(import["status"], "failed");
    assert!(import["error"].as_str().unwrap().contains("truncated"), "{import}");
}

/// `glucolens serve` and `infra/run.sh` set no `IMPORTS_BUCKET`: against an emulator the upload route makes its
/// local bucket itself (every valid call used to answer 500), and the whole path works on it.
#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn without_a_configured_bucket_the_emulator_bucket_is_created_and_used(db: PgPool) {
    assert!(
        std::env::var(glucolens_aws::storage::BUCKET_ENV).is_err(),
        "the test command sets no bucket"
    );
    let state = testing::state(db.clone()).await;
    let user = testing::user(&db, "UTC").await;
    let request = http::Request::builder()
        .method("POST")
        .uri("/api/v1/imports/uploads")
        .header("authorization", testing::bearer(&state, user))
        .header("content-type", "application/json")
        .body(lambda_http::Body::from(r#"{"format":"dexcom_clarity"}"#))
        .unwrap();
    let response = api_imports::router(state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), http::StatusCode::CREATED);
    let ticket: Value = serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(put(ticket["upload_url"].as_str().unwrap(), CLARITY).await, 200);

    let local = UploadBucket::from_env().await.unwrap();
    assert_eq!(local.name(), glucolens_aws::storage::LOCAL_BUCKET);
    let key = format!("imports/{user}/{}", ticket["id"].as_str().unwrap());
    let outcomes = import_worker::handle(&db, &local, s3_event(&local, &key))
        .await
        .unwrap();
    assert_eq!(outcomes, [Outcome::Imported]);
    assert_eq!(readings(&db, user).await, 2148);
}

//! The account export (`GET /api/v1/users/me/export`) through the real router against a fresh database per test:
//! every row of every kind, nobody else's, framed as promised, audited; and the writer's behaviour when the client
//! leaves or the database fails mid-way. Then the Lambda delivery against moto S3 (a bucket per test): the same
//! lines uploaded in parts, a `303` whose link downloads them, and nothing left behind when S3 or the database
//! fails before the file is complete.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode};
use chrono::{Duration, Utc};
use glucolens_app::aggregation::{self, Mode};
use glucolens_app::export::{Export, Outcome, INTERRUPTED_LINE};
use glucolens_aws::storage::{UploadBucket, PART_BYTES};
use glucolens_sample as sample;
use glucolens_testing as testing;
use glucolens_web::state::Responses;
use glucolens_web::AppState;
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tower::ServiceExt;
use uuid::Uuid;

const PATH: &str = "/api/v1/users/me/export";

/// Each data line type and the table its rows come from.
const SECTIONS: [(&str, &str); 10] = [
    ("glucose_reading", "glucose_readings"),
    ("sleep", "sleep_data"),
    ("activity", "activities"),
    ("meal", "meals"),
    ("daily_aggregate", "daily_aggregates"),
    ("correlation", "correlations"),
    ("pattern", "patterns"),
    ("import", "imports"),
    ("task", "tasks"),
    ("audit", "audit_log"),
];

/// Tables holding a user's rows that the export leaves out on purpose (credentials and bookkeeping; see
/// `glucolens_store::export`). A new table must be added to the export or here.
const LEFT_OUT_TABLES: [&str; 7] = [
    "refresh_tokens",
    "shares",
    "nightscout_secrets",
    "dirty_days",
    "correlation_runs",
    "pattern_runs",
    "deleted_records",
];

/// Columns of exported tables left out on purpose: the owner (named once in the header), the password hash, and
/// where an upload was kept. A new column must be added to the export or here.
/// `users.aggregates_version` is bookkeeping of the analysis pipeline (which aggregates the analyses last read), not
/// the person's data.
const LEFT_OUT_COLUMNS: [(&str, &str); 4] = [
    ("*", "user_id"),
    ("users", "password_hash"),
    ("imports", "object_key"),
    ("users", "aggregates_version"),
];

struct Download {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Download {
    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("the export is UTF-8")
    }

    /// Every line parsed; panics on a line that is not a JSON object with a `type`.
    fn lines(&self) -> Vec<Value> {
        assert!(self.text().ends_with('\n'), "every line ends with a newline");
        self.text()
            .lines()
            .enumerate()
            .map(|(number, line)| {
                let value: Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("line {} is not JSON ({e}): {line}", number + 1));
                assert!(value["type"].is_string(), "line {} has no type: {line}", number + 1);
                value
            })
            .collect()
    }
}

async fn download(state: &AppState, authorization: Option<&str>, request_id: &str) -> Download {
    send(api_auth::router(state.clone()), authorization, request_id).await
}

async fn send(router: axum::Router, authorization: Option<&str>, request_id: &str) -> Download {
    let mut request = http::Request::builder().uri(PATH).header("x-request-id", request_id);
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    let response = router
        .oneshot(request.body(lambda_http::Body::Empty).unwrap())
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Download { status, headers, body }
}

async fn count(db: &PgPool, table: &str, user: Uuid) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE user_id = $1"))
        .bind(user)
        .fetch_one(db)
        .await
        .unwrap()
}

/// The ids of `user`'s rows of `table`, as the export writes them.
async fn ids(db: &PgPool, table: &str, user: Uuid) -> BTreeSet<String> {
    sqlx::query_scalar(&format!("SELECT id::text FROM {table} WHERE user_id = $1"))
        .bind(user)
        .fetch_all(db)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

fn exported_ids(lines: &[Value], line_type: &str) -> BTreeSet<String> {
    lines
        .iter()
        .filter(|line| line["type"] == line_type)
        .map(|line| match &line["id"] {
            Value::String(id) => id.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// A sample account (generator, `days` local days) with its days aggregated, plus one row of each kind the
/// generator does not make: a correlation, a pattern, an import, a task and an earlier audited read.
async fn account_with_everything(db: &PgPool, index: usize, days: u32) -> Uuid {
    let start = Utc::now().date_naive() - Duration::days(i64::from(days) + 5);
    let generated = sample::generate_user(7, index, "export", start, days);
    let user = sample::write_user(db, &generated, "not-a-hash")
        .await
        .unwrap()
        .expect("a new account")
        .user_id;
    aggregation::aggregate_user(db, user, Mode::Full).await.unwrap();
    for statement in [
        "INSERT INTO correlations (user_id, factor_x, factor_y, lag_days, correlation_coefficient, p_value, q_value,
                                   sample_size, confidence_level, effect_size, effect_unit)
         VALUES ($1, 'total_sleep_minutes', 'avg_glucose', 1, -0.42, 0.001, 0.01, 28, 'high', -8.1, 'mg/dL per hour')",
        "INSERT INTO patterns (id, user_id, pattern_type, description, score, example_dates, metadata)
         VALUES (gen_random_uuid(), $1, 'daily_motif', 'An afternoon rise', 0.8, ARRAY[current_date], '{\"hour\": 15}')",
        "INSERT INTO imports (id, user_id, format, status, object_key, report, finished_at)
         VALUES (gen_random_uuid(), $1, 'dexcom_clarity', 'succeeded', 'imports/' || $1 || '/x', '{\"imported\": 3}', now())",
        "INSERT INTO tasks (id, user_id, kind, status, progress) VALUES (gen_random_uuid(), $1, 'aggregate_daily', 'succeeded', 100)",
    ] {
        sqlx::query(statement).bind(user).execute(db).await.unwrap();
    }
    glucolens_store::audit::record(db, user, "read", "glucose_readings", "an-earlier-read")
        .await
        .unwrap();
    user
}

/// `count` readings every 5 minutes for a user of its own, written directly: enough data for many chunks.
async fn user_with_readings(db: &PgPool, count: i64) -> Uuid {
    // Written directly with the columns' defaults, so the test depends on no other helper's column names.
    let user = Uuid::new_v4();
    sqlx::query("INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'not-a-hash')")
        .bind(user)
        .bind(format!("{}@test.invalid", user.simple()))
        .execute(db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO glucose_readings (user_id, \"timestamp\", source, value)
         SELECT $1, now() - interval '100 days' + i * interval '5 minutes', 'dexcom', 100 + (i % 50)
         FROM generate_series(0, $2 - 1) AS i",
    )
    .bind(user)
    .bind(count)
    .execute(db)
    .await
    .unwrap();
    user
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_export_holds_every_row_of_every_kind_with_the_header_first_and_end_last(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = account_with_everything(&db, 1, 30).await;

    let export = download(&state, Some(&testing::bearer(&state, user)), "export-request").await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.text());
    assert_eq!(export.headers[header::CONTENT_TYPE], "application/x-ndjson");
    assert_eq!(export.headers[header::CACHE_CONTROL], "no-store");

    let lines = export.lines();
    let header = &lines[0];
    assert_eq!(header["type"], "export");
    assert_eq!(header["format"], "glucolens-export/1");
    assert_eq!(header["user_id"], user.to_string());
    let exported_at: chrono::DateTime<Utc> = header["exported_at"].as_str().unwrap().parse().unwrap();
    assert!((Utc::now() - exported_at).num_seconds().abs() < 60);
    assert_eq!(
        export.headers[header::CONTENT_DISPOSITION],
        format!(
            "attachment; filename=\"glucolens-export-{}.ndjson\"",
            exported_at.format("%Y-%m-%d")
        )
        .as_str()
    );
    assert_eq!(lines[1]["type"], "profile");
    assert_eq!(lines[1]["id"], user.to_string());
    assert!(lines[1]["email"].as_str().unwrap().ends_with("@glucolens.local"));
    let end = lines.last().unwrap();
    assert_eq!(end["type"], "end");
    assert_eq!(end["lines"], lines.len() as u64 - 1, "end counts the lines before it");

    let mut per_type: BTreeMap<&str, i64> = BTreeMap::new();
    for line in &lines {
        *per_type.entry(line["type"].as_str().unwrap()).or_default() += 1;
    }
    assert_eq!((per_type["export"], per_type["profile"], per_type["end"]), (1, 1, 1));
    for (line_type, table) in SECTIONS {
        let stored = count(&db, table, user).await;
        assert!(stored > 0, "the test account has {table} rows");
        assert_eq!(
            per_type.get(line_type).copied().unwrap_or(0),
            stored,
            "{line_type} lines vs {table} rows"
        );
    }
    assert_eq!(per_type.len(), SECTIONS.len() + 3, "no other line types: {per_type:?}");

    // Sections come in the documented order, each whole.
    let mut expected: Vec<&str> = vec!["export", "profile"];
    expected.extend(SECTIONS.iter().map(|(line_type, _)| *line_type));
    expected.push("end");
    let mut sections: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    sections.dedup();
    assert_eq!(sections, expected);

    // Rows are ordered by time within their section.
    let times: Vec<&str> = lines
        .iter()
        .filter(|l| l["type"] == "glucose_reading")
        .map(|l| l["timestamp"].as_str().unwrap())
        .collect();
    let instants: Vec<chrono::DateTime<Utc>> = times.iter().map(|t| t.parse().unwrap()).collect();
    assert!(instants.windows(2).all(|w| w[0] <= w[1]), "readings in time order");

    // Secrets and the owner column never appear; names are the stored column names.
    assert!(!export.text().contains("password_hash") && !export.text().contains("not-a-hash"));
    assert!(lines[1..].iter().all(|l| l.get("user_id").is_none()));
    let reading = lines.iter().find(|l| l["type"] == "glucose_reading").unwrap();
    assert!(reading["value"].is_number() && reading["source"].is_string() && reading.get("device_id").is_some());
    let night = lines.iter().find(|l| l["type"] == "sleep").unwrap();
    assert!(night["sleep_start"].is_string() && night.get("quality_score").is_some());
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn every_column_and_every_table_of_user_data_is_exported_or_left_out_on_purpose(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = account_with_everything(&db, 1, 3).await;
    let lines = download(&state, Some(&testing::bearer(&state, user)), "columns")
        .await
        .lines();

    let mut tables: Vec<(&str, &str)> = vec![("profile", "users")];
    tables.extend(SECTIONS);
    for (line_type, table) in tables {
        let line = lines.iter().find(|l| l["type"] == line_type).unwrap();
        let exported: BTreeSet<&str> = line.as_object().unwrap().keys().map(String::as_str).collect();
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind(table)
        .fetch_all(&db)
        .await
        .unwrap();
        let missing: Vec<&String> = columns
            .iter()
            .filter(|column| !exported.contains(column.as_str()))
            .filter(|column| {
                !LEFT_OUT_COLUMNS
                    .iter()
                    .any(|(t, c)| (*t == "*" || *t == table) && c == column)
            })
            .collect();
        assert!(
            missing.is_empty(),
            "{table} has columns the export neither writes nor leaves out on purpose: {missing:?} \
             (add them to glucolens_store::export or to LEFT_OUT_COLUMNS)"
        );
        let unknown: Vec<&&str> = exported
            .iter()
            .filter(|key| **key != "type" && !columns.iter().any(|c| c == *key))
            .collect();
        assert!(
            unknown.is_empty(),
            "{line_type} lines carry fields that are not {table} columns: {unknown:?}"
        );
    }

    // Every table with rows belonging to an account (a foreign key to users) is exported or deliberately not.
    let owned: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT c.conrelid::regclass::text FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
         WHERE c.contype = 'f' AND c.confrelid = 'users'::regclass AND t.relnamespace = current_schema()::text::regnamespace",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let unaccounted: Vec<&String> = owned
        .iter()
        .filter(|table| !SECTIONS.iter().any(|(_, t)| t == table) && !LEFT_OUT_TABLES.contains(&table.as_str()))
        .collect();
    assert!(
        unaccounted.is_empty(),
        "tables of user data the export does not cover: {unaccounted:?} (export them or add them to LEFT_OUT_TABLES)"
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn another_users_rows_never_appear(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let ana = account_with_everything(&db, 1, 4).await;
    let ben = account_with_everything(&db, 2, 4).await;
    // Ben reads his data too, so the audit log holds rows of both.
    download(&state, Some(&testing::bearer(&state, ben)), "ben-exports").await;

    let export = download(&state, Some(&testing::bearer(&state, ana)), "ana-exports").await;
    assert_eq!(export.status, StatusCode::OK);
    let lines = export.lines();
    for (line_type, table) in SECTIONS {
        assert_eq!(
            exported_ids(&lines, line_type),
            ids(&db, table, ana).await,
            "{line_type}: exactly Ana's rows"
        );
        assert!(exported_ids(&lines, line_type).is_disjoint(&ids(&db, table, ben).await));
    }
    let ben_email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(ben)
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(!export.text().contains(&ben.to_string()) && !export.text().contains(&ben_email));
    assert!(!export.text().contains("ben-exports"));
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn without_a_valid_token_the_export_is_refused(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = user_with_readings(&db, 10).await;
    for authorization in [None, Some("Bearer not-a-token")] {
        let refused = download(&state, authorization, "anonymous").await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert_eq!(refused.headers[header::CONTENT_TYPE], "application/problem+json");
        let problem: Value = serde_json::from_slice(&refused.body).unwrap();
        assert_eq!(problem["status"], 401);
    }
    assert_eq!(count(&db, "audit_log", user).await, 0, "nothing was read");
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_export_is_audited_before_it_starts_and_lists_itself(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = user_with_readings(&db, 20).await;
    let export = download(&state, Some(&testing::bearer(&state, user)), "audited-export-1").await;
    assert_eq!(export.status, StatusCode::OK);

    let entries: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT action, resource, request_id FROM audit_log WHERE user_id = $1")
            .bind(user)
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(
        entries,
        [(
            "read".to_owned(),
            "export".to_owned(),
            Some("audited-export-1".to_owned())
        )]
    );
    let audit: Vec<Value> = export.lines().into_iter().filter(|l| l["type"] == "audit").collect();
    assert_eq!(audit.len(), 1, "the snapshot is taken after the export's own entry");
    assert_eq!(
        (&audit[0]["action"], &audit[0]["resource"], &audit[0]["request_id"]),
        (
            &Value::from("read"),
            &Value::from("export"),
            &Value::from("audited-export-1")
        )
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn an_erased_account_has_no_export(db: PgPool) {
    // The route's 404: the account went between the token check and the export (its audit entry cannot be
    // written, or its profile is gone from the snapshot).
    assert!(Export::begin(&db, Uuid::new_v4(), "gone").await.unwrap().is_none());
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn the_writer_stops_when_the_client_goes_away(db: PgPool) {
    // About 1.5 MB of readings: many more chunks than the channel holds.
    let user = user_with_readings(&db, 10_000).await;
    let export = Export::begin(&db, user, "leaves").await.unwrap().unwrap();
    let (sender, mut receiver) = mpsc::channel(1);
    let writer = tokio::spawn(export.write_to(sender));
    assert!(receiver.recv().await.is_some());
    drop(receiver);
    let written = tokio::time::timeout(std::time::Duration::from_secs(10), writer)
        .await
        .expect("the writer stops")
        .unwrap();
    assert!(matches!(written.outcome, Outcome::Abandoned), "{written:?}");
    assert!(written.lines < 10_000, "stopped early: {written:?}");
    // The snapshot's connection went back to the pool in a usable state.
    let readings: i64 = sqlx::query_scalar("SELECT count(*) FROM glucose_readings")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(readings, 10_000);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_database_failure_mid_way_ends_the_export_with_the_error_line(db: PgPool) {
    let user = user_with_readings(&db, 10_000).await;
    let export = Export::begin(&db, user, "fails").await.unwrap().unwrap();
    let (sender, mut receiver) = mpsc::channel(1);
    let writer = tokio::spawn(export.write_to(sender));
    let mut received = receiver.recv().await.unwrap();
    // The writer now waits to hand on its next chunk, in the middle of the readings: cut its connection.
    let terminated: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert!(terminated.contains(&true));
    while let Some(chunk) = receiver.recv().await {
        received.extend_from_slice(&chunk);
    }
    let written = writer.await.unwrap();
    assert!(matches!(written.outcome, Outcome::Interrupted(_)), "{written:?}");
    let text = String::from_utf8(received).unwrap();
    assert!(
        text.ends_with(&format!("{INTERRUPTED_LINE}\n")),
        "{}",
        &text[text.len().saturating_sub(300)..]
    );
    assert!(!text.contains("\"type\":\"end\""));
    assert!(text.lines().all(|line| serde_json::from_str::<Value>(line).is_ok()));
    assert_eq!(written.lines, text.lines().count() as u64);
}

// ---- On Lambda: the export goes to S3 and the answer is a link ------------------------------------------------

/// A bucket of this test's own in moto.
async fn bucket() -> UploadBucket {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("tests need AWS_ENDPOINT_URL (moto)");
    let sdk = aws_config::from_env().endpoint_url(endpoint).load().await;
    let bucket = UploadBucket::new(&sdk, format!("test-exports-{}", Uuid::new_v4().simple()));
    bucket
        .client()
        .create_bucket()
        .bucket(bucket.name())
        .send()
        .await
        .unwrap();
    bucket
}

/// The export as the Lambda runner serves it: responses buffered, exports uploaded to `bucket`.
async fn lambda_export(state: &AppState, bucket: &UploadBucket, user: Uuid, request_id: &str) -> Download {
    let mut state = state.clone();
    state.responses = Responses::Buffered;
    let authorization = testing::bearer(&state, user);
    send(
        api_auth::router_with_bucket(state, bucket.clone()),
        Some(&authorization),
        request_id,
    )
    .await
}

/// GETs a presigned `http://host:port/path?query` URL as a client would, with no `Authorization` header: the
/// status, the headers (names lower-cased) and the body.
async fn fetch(url: &str) -> (u16, BTreeMap<String, String>, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("moto serves plain HTTP");
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = std::str::from_utf8(&response[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    assert!(!headers.contains_key("transfer-encoding"), "moto sends a length");
    (status, headers, response[split + 4..].to_vec())
}

/// The keys in `bucket`, and how many multipart uploads are still open there.
async fn stored(bucket: &UploadBucket) -> (Vec<String>, usize) {
    let listed = bucket
        .client()
        .list_objects_v2()
        .bucket(bucket.name())
        .send()
        .await
        .unwrap();
    let keys = listed
        .contents()
        .iter()
        .filter_map(|object| object.key().map(str::to_owned))
        .collect();
    let open = bucket
        .client()
        .list_multipart_uploads()
        .bucket(bucket.name())
        .send()
        .await
        .unwrap();
    (keys, open.uploads().len())
}

/// The `303` answer checked, and the file its link leads to downloaded.
async fn follow(answer: &Download) -> Download {
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
    assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
    let link: Value = serde_json::from_slice(&answer.body).unwrap();
    let location = answer.headers[header::LOCATION].to_str().unwrap();
    assert_eq!(link["url"], location, "the body repeats the Location");
    assert_eq!(link["expires_in_seconds"], api_auth::LINK_TTL_SECS);
    assert_eq!(api_auth::LINK_TTL_SECS, 900);
    assert!(location.contains("X-Amz-Expires=900"), "{location}");
    let (status, headers, body) = fetch(location).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], "application/x-ndjson");
    assert_eq!(link["bytes"], body.len() as u64);
    let file = Download {
        status: StatusCode::OK,
        headers: HeaderMap::new(),
        body: body.into(),
    };
    assert_eq!(link["lines"], file.text().lines().count() as u64);
    let disposition = &headers["content-disposition"];
    assert!(
        disposition.starts_with("attachment; filename=\"glucolens-export-") && disposition.ends_with(".ndjson\""),
        "{disposition}"
    );
    file
}

fn per_type(lines: &[Value]) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for line in lines {
        *counts.entry(line["type"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    counts
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn on_lambda_the_export_is_uploaded_and_the_answer_links_to_the_same_lines(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let bucket = bucket().await;
    let user = account_with_everything(&db, 1, 30).await;

    let answer = lambda_export(&state, &bucket, user, "uploaded-export").await;
    let uploaded = follow(&answer).await;
    let streamed = download(&state, Some(&testing::bearer(&state, user)), "streamed-export").await;
    assert_eq!(streamed.status, StatusCode::OK);

    let (uploaded_lines, streamed_lines) = (uploaded.lines(), streamed.lines());
    assert_eq!(uploaded_lines[0]["format"], "glucolens-export/1");
    assert_eq!(uploaded_lines[0]["user_id"], user.to_string());
    assert_eq!(uploaded_lines.last().unwrap()["type"], "end");
    assert_eq!(uploaded_lines.last().unwrap()["lines"], uploaded_lines.len() as u64 - 1);
    // The streamed export came second, so its audit section also lists the upload's entry.
    let mut expected = per_type(&streamed_lines);
    *expected.get_mut("audit").unwrap() -= 1;
    assert_eq!(per_type(&uploaded_lines), expected);
    // Line for line the same data: one producer behind both deliveries.
    let data = |download: &Download| -> Vec<String> {
        download
            .text()
            .lines()
            .filter(|line| !line.starts_with(r#"{"type":"export""#) && !line.starts_with(r#"{"type":"audit""#))
            .filter(|line| !line.starts_with(r#"{"type":"end""#))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(data(&uploaded), data(&streamed));

    let (keys, open) = stored(&bucket).await;
    let location = answer.headers[header::LOCATION].to_str().unwrap();
    assert_eq!(keys.len(), 1, "one object: {keys:?}");
    assert!(keys[0].starts_with(&format!("exports/{user}/")) && keys[0].ends_with(".ndjson"));
    assert!(location.contains(&keys[0]), "{location}");
    assert_eq!(open, 0, "no multipart upload left open");
    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT request_id FROM audit_log WHERE user_id = $1 AND resource = 'export' ORDER BY occurred_at",
    )
    .bind(user)
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(audited, ["uploaded-export", "streamed-export"]);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_large_export_is_uploaded_in_several_parts(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let bucket = bucket().await;
    // About 14 MB: more than one part, with a short last one.
    let user = user_with_readings(&db, 60_000).await;

    let answer = lambda_export(&state, &bucket, user, "large").await;
    let file = follow(&answer).await;
    assert!(file.body.len() > PART_BYTES, "{} bytes", file.body.len());
    let lines = file.lines();
    assert_eq!(per_type(&lines)["glucose_reading"], 60_000);
    assert_eq!(lines.last().unwrap()["type"], "end");

    let (keys, open) = stored(&bucket).await;
    let object = bucket
        .client()
        .head_object()
        .bucket(bucket.name())
        .key(&keys[0])
        .send()
        .await
        .unwrap();
    // A multipart object's ETag ends with its number of parts.
    let parts = file.body.len().div_ceil(PART_BYTES);
    assert!(
        object.e_tag().unwrap().ends_with(&format!("-{parts}\"")),
        "{:?}",
        object.e_tag()
    );
    assert_eq!(object.content_length(), Some(file.body.len() as i64));
    assert_eq!(open, 0);
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn on_lambda_each_export_is_kept_under_its_own_users_key(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let bucket = bucket().await;
    let ana = account_with_everything(&db, 1, 4).await;
    let ben = account_with_everything(&db, 2, 4).await;

    let ben_answer = lambda_export(&state, &bucket, ben, "ben-uploads").await;
    follow(&ben_answer).await;
    let ana_answer = lambda_export(&state, &bucket, ana, "ana-uploads").await;
    let ana_file = follow(&ana_answer).await;

    let location = ana_answer.headers[header::LOCATION].to_str().unwrap();
    assert!(location.contains(&format!("/exports/{ana}/")), "{location}");
    assert!(!location.contains(&ben.to_string()));
    assert!(!ana_file.text().contains(&ben.to_string()) && !ana_file.text().contains("ben-uploads"));
    let (mut keys, _) = stored(&bucket).await;
    keys.sort();
    let mut expected = [format!("exports/{ana}/"), format!("exports/{ben}/")];
    expected.sort();
    assert_eq!(keys.len(), 2);
    for (key, prefix) in keys.iter().zip(&expected) {
        assert!(key.starts_with(prefix.as_str()), "{key} under {prefix}");
    }
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn when_storage_is_unreachable_the_export_is_503_and_only_its_audit_entry_remains(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let user = user_with_readings(&db, 100).await;
    // Nothing listens on port 1.
    let sdk = aws_config::from_env().endpoint_url("http://127.0.0.1:1").load().await;
    let unreachable = UploadBucket::new(&sdk, "unreachable".into());

    let answer = lambda_export(&state, &unreachable, user, "no-storage").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.headers[header::CONTENT_TYPE], "application/problem+json");
    assert!(answer.headers.contains_key(header::RETRY_AFTER));
    let problem: Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(problem["code"], "storage_unavailable");
    // The data was read on the caller's behalf before storage failed: the read stays audited, and it is the only
    // trace (there is no object to clean up: the upload never started).
    let entries: Vec<String> = sqlx::query_scalar("SELECT request_id FROM audit_log WHERE user_id = $1")
        .bind(user)
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(entries, ["no-storage"]);

    // A bucket that is missing fails the same way.
    let missing = UploadBucket::new(
        &aws_config::from_env().load().await,
        format!("test-missing-{}", Uuid::new_v4().simple()),
    );
    let answer = lambda_export(&state, &missing, user, "no-bucket").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        serde_json::from_slice::<Value>(&answer.body).unwrap()["code"],
        "storage_unavailable"
    );
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn a_database_failure_before_the_upload_completes_aborts_it_and_is_a_problem(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let bucket = bucket().await;
    // More than a part of readings, so parts are sent before the export reaches the meals.
    let user = user_with_readings(&db, 45_000).await;
    // The export blocks when it reaches the meals, with its upload open and parts sent: cut its connection there.
    let mut lock = db.begin().await.unwrap();
    sqlx::query("LOCK TABLE meals IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let export = tokio::spawn({
        let (state, bucket) = (state.clone(), bucket.clone());
        async move { lambda_export(&state, &bucket, user, "cut").await }
    });
    let started = std::time::Instant::now();
    loop {
        let terminated: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM meals%'",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        if terminated.contains(&true) {
            break;
        }
        assert!(started.elapsed().as_secs() < 30, "the export never reached the meals");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    lock.rollback().await.unwrap();

    let answer = export.await.unwrap();
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{}", answer.text());
    let problem: Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(problem["code"], "database_unavailable");
    assert_eq!(stored(&bucket).await, (Vec::new(), 0), "no object and no open upload");
}

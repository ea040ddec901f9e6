//! Sharing with care partners and clinicians, through every function's real router: grants are made, listed and
//! revoked; a grant opens exactly the routes its scope allows, only for its owner, and never a write; revocation
//! and expiry take effect on the next request; a link's secret is stored hashed and dies with its grant; and every
//! read through a grant is in the owner's access log with who read.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::Router;
use glucolens_testing::{self as testing, Reply};
use glucolens_web::routes::{Function, ROUTES};
use glucolens_web::AppState;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const REPORT: &str = "/api/v1/reports/agp";
const OWNER_HEADER: &str = "X-GlucoLens-Owner";
const RANGE: &str = "start=2025-01-14T00:00:00Z&end=2025-01-17T00:00:00Z";

/// The routes that read a user's data (`glucolens_web::DataReader`): a grant of scope `read` opens them.
const READ_ROUTES: &[&str] = &[
    "/api/v1/glucose/readings",
    "/api/v1/glucose/readings/{id}",
    "/api/v1/glucose/daily-summary",
    "/api/v1/dashboard/summary",
    "/api/v1/sleep",
    "/api/v1/sleep/{id}",
    "/api/v1/activities",
    "/api/v1/activities/{id}",
    "/api/v1/meals",
    "/api/v1/meals/{id}",
    "/api/v1/insights/correlations",
    "/api/v1/insights/patterns",
    "/api/v1/insights/recommendations",
    "/api/v1/insights/episodes",
    "/api/v1/insights/meals",
];

/// Routes that do not authenticate with a bearer token at all: public, or credentials of their own (sign-in,
/// Nightscout uploaders' `api-secret`). A grant has nothing to do with them.
const NOT_BEARER: &[&str] = &[
    "/api/v1/health",
    "/api/v1/openapi.json",
    "/docs",
    "/api/v1/auth/register",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/status",
    "/api/v1/status.json",
    "/api/v1/entries",
    "/api/v1/entries.json",
    "/api/v1/treatments",
    "/api/v1/treatments.json",
];

struct Api {
    state: AppState,
    routers: HashMap<Function, Router>,
}

impl Api {
    fn new(state: AppState) -> Self {
        let routers = HashMap::from([
            (Function::Auth, api_auth::router(state.clone())),
            (Function::Ingestion, api_ingestion::router(state.clone())),
            (Function::Retrieval, api_retrieval::router(state.clone())),
            (Function::Insights, api_insights::router(state.clone())),
            (Function::Tasks, api_tasks::router(state.clone())),
            (Function::Docs, api_docs::router(state.clone())),
            (Function::Nightscout, api_nightscout::router(state.clone())),
            (Function::Imports, api_imports::router(state.clone())),
            (Function::Reports, api_reports::router(state.clone())),
        ]);
        Self { state, routers }
    }

    /// The router of the function that serves `path`, as API Gateway dispatches it.
    fn router_for(&self, method: &str, path: &str) -> Router {
        let template = path.split('?').next().unwrap_or(path);
        let function = ROUTES
            .iter()
            .find(|r| r.method == method && matches(r.path, template))
            .unwrap_or_else(|| panic!("{method} {template} is not in the route table"))
            .function;
        self.routers
            .get(&function)
            .unwrap_or_else(|| panic!("add the router of {function:?} to this test"))
            .clone()
    }

    /// Sends a request as `caller` (a bearer token for that user), naming `owner` in the owner header if given.
    async fn send(&self, method: &str, path: &str, caller: Option<Uuid>, owner: Option<Uuid>, body: Value) -> Reply {
        let mut builder = http::Request::builder().method(method).uri(path);
        if let Some(user) = caller {
            builder = builder.header(http::header::AUTHORIZATION, testing::bearer(&self.state, user));
        }
        if let Some(owner) = owner {
            builder = builder.header(OWNER_HEADER, owner.to_string());
        }
        let request = if body.is_null() {
            builder.body(lambda_http::Body::Empty).unwrap()
        } else {
            builder
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(lambda_http::Body::from(body.to_string()))
                .unwrap()
        };
        testing::respond(self.router_for(method, path), request).await
    }

    async fn get(&self, path: &str, caller: Uuid, owner: Option<Uuid>) -> Reply {
        self.send("GET", path, Some(caller), owner, Value::Null).await
    }

    /// Makes `owner`'s grant `body`; returns the answer (201 expected).
    async fn grant(&self, owner: Uuid, body: Value) -> Value {
        let reply = self.send("POST", "/api/v1/shares", Some(owner), None, body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body
    }
}

/// Whether the route template `template` (`{name}` segments) matches `path`.
fn matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| t.starts_with('{') || t == p)
}

async fn email_of(db: &PgPool, user: Uuid) -> String {
    sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(user)
        .fetch_one(db)
        .await
        .unwrap()
}

/// Writes one record of each kind for `owner` (through ingestion) and returns the ids of its first reading,
/// sleep session, activity and meal.
async fn one_of_each(api: &Api, owner: Uuid) -> HashMap<&'static str, i64> {
    let bodies = [
        (
            "/api/v1/glucose/bulk",
            json!({"readings": [
                {"timestamp": "2025-01-15T08:00:00Z", "value": 95.0, "source": "dexcom_g7"},
                {"timestamp": "2025-01-15T08:05:00Z", "value": 98.0, "source": "dexcom_g7"}
            ]}),
        ),
        (
            "/api/v1/sleep",
            json!({"sleep_start": "2025-01-14T23:00:00Z", "sleep_end": "2025-01-15T07:00:00Z", "source": "watch"}),
        ),
        (
            "/api/v1/activities",
            json!({"timestamp": "2025-01-15T18:00:00Z", "activity_type": "running", "duration_minutes": 45}),
        ),
        (
            "/api/v1/meals",
            json!({"timestamp": "2025-01-15T12:30:00Z", "meal_type": "lunch", "carbs_grams": 65.5}),
        ),
    ];
    for (path, body) in bodies {
        let reply = api.send("POST", path, Some(owner), None, body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{path}: {}", reply.body);
    }
    let mut ids = HashMap::new();
    for (route, table) in [
        ("/api/v1/glucose/readings/{id}", "glucose_readings"),
        ("/api/v1/sleep/{id}", "sleep_data"),
        ("/api/v1/activities/{id}", "activities"),
        ("/api/v1/meals/{id}", "meals"),
    ] {
        let id: i64 = sqlx::query_scalar(&format!("SELECT min(id) FROM {table} WHERE user_id = $1"))
            .bind(owner)
            .fetch_one(&api.state.db)
            .await
            .unwrap();
        ids.insert(route, id);
    }
    ids
}

/// A request path for `route`: its `{id}` an id from `ids` (or 1), the query a read route needs.
fn path_for(route: &str, ids: &HashMap<&str, i64>) -> String {
    let path = route.replace("{id}", &ids.get(route).copied().unwrap_or(1).to_string());
    let path = path.replace("{task_id}", &Uuid::nil().to_string());
    let query = match route {
        "/api/v1/glucose/readings" | "/api/v1/sleep" | "/api/v1/activities" | "/api/v1/meals" => RANGE,
        "/api/v1/insights/episodes" | "/api/v1/insights/meals" => RANGE,
        "/api/v1/glucose/daily-summary" => "date=2025-01-15",
        "/api/v1/dashboard/summary" => "days=7",
        REPORT => "format=svg",
        _ => "",
    };
    if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn grants_are_made_listed_and_revoked(db: PgPool) {
    let api = Api::new(testing::state(db.clone()).await);
    let (owner, clinician, stranger) = (
        testing::user(&db, "UTC").await,
        testing::user(&db, "UTC").await,
        testing::user(&db, "UTC").await,
    );
    let clinician_email = email_of(&db, clinician).await;

    // Bound to the account that has the email now, whatever its case.
    let to_clinician = api
        .grant(
            owner,
            json!({"scope": "read", "expires_in_days": 30, "grantee_email": clinician_email.to_uppercase(),
                   "label": "Dr Rivera"}),
        )
        .await;
    assert_eq!(to_clinician["grantee"]["id"], clinician.to_string());
    assert_eq!(
        (to_clinician["status"].as_str(), to_clinician["link"].as_bool()),
        (Some("active"), Some(false))
    );
    assert!(to_clinician.get("token").is_none());

    // More than a year away is refused.
    let too_far = api
        .send(
            "POST",
            "/api/v1/shares",
            Some(owner),
            None,
            json!({"scope": "report", "expires_at": "2099-01-01T00:00:00Z", "link": true}),
        )
        .await;
    assert_eq!(too_far.status, StatusCode::UNPROCESSABLE_ENTITY);
    let link = api
        .grant(owner, json!({"scope": "report", "expires_in_days": 14, "link": true}))
        .await;
    let token = link["token"].as_str().expect("a link's secret, once").to_owned();
    assert_eq!(link["url"], format!("/api/v1/reports/agp?share={token}"));
    assert!(token.len() >= 43, "32 random bytes, base64url");

    // Only the hash is stored; the secret appears nowhere in the row.
    let (hash_matches, row_text): (bool, String) = sqlx::query_as(
        "SELECT token_hash = sha256(convert_to($2, 'UTF8')), row_to_json(s)::text FROM shares s WHERE id = $1",
    )
    .bind(Uuid::parse_str(link["id"].as_str().unwrap()).unwrap())
    .bind(&token)
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(hash_matches);
    assert!(!row_text.contains(&token));

    // Unknown accounts, one's own account, and an invalid grant are refused with what to do.
    for (body, code) in [
        (
            json!({"scope": "read", "expires_in_days": 3, "grantee_email": "nobody@example.com"}),
            "no_such_account",
        ),
        (
            json!({"scope": "read", "expires_in_days": 3, "grantee_email": email_of(&db, owner).await}),
            "own_account",
        ),
        (
            json!({"scope": "read", "expires_in_days": 3, "link": true}),
            "link_is_report_only",
        ),
    ] {
        let reply = api.send("POST", "/api/v1/shares", Some(owner), None, body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
        assert_eq!(reply.body["errors"][0]["code"], code, "{}", reply.body);
    }
    let none = api
        .send(
            "POST",
            "/api/v1/shares",
            Some(owner),
            None,
            json!({"scope": "read", "expires_in_days": 3, "grantee_email": "nobody@example.com"}),
        )
        .await;
    assert!(none.body["detail"].as_str().unwrap().contains("link"), "{}", none.body);

    // The owner lists both, without secrets; the clinician sees the grant to them.
    let listed = api.get("/api/v1/shares", owner, None).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["shares"].as_array().unwrap().len(), 2);
    assert!(!listed.body.to_string().contains(&token));
    let received = api.get("/api/v1/shares/received", clinician, None).await;
    assert_eq!(
        received.body["shares"][0]["owner_id"],
        owner.to_string(),
        "{}",
        received.body
    );
    assert_eq!(received.body["shares"][0]["scope"], "read");
    assert_eq!(
        api.get("/api/v1/shares/received", stranger, None).await.body["shares"],
        json!([])
    );

    // Another owner cannot revoke it (nor learn that it exists); the owner can, once or twice.
    let id = to_clinician["id"].as_str().unwrap();
    let path = format!("/api/v1/shares/{id}");
    assert_eq!(
        api.send("DELETE", &path, Some(stranger), None, Value::Null)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.send("DELETE", &path, Some(owner), None, Value::Null).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.send("DELETE", &path, Some(owner), None, Value::Null).await.status,
        StatusCode::NO_CONTENT
    );
    let bad = api
        .send("DELETE", "/api/v1/shares/not-an-id", Some(owner), None, Value::Null)
        .await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);
    let listed = api.get("/api/v1/shares", owner, None).await;
    let statuses: Vec<&str> = listed.body["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["active", "revoked"], "{}", listed.body);
    assert_eq!(
        api.get("/api/v1/shares/received", clinician, None).await.body["shares"],
        json!([])
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn scope_is_enforced_on_every_route(db: PgPool) {
    let api = Api::new(testing::state(db.clone()).await);
    let (owner, partner, clinician, other_owner) = (
        testing::user(&db, "UTC").await,
        testing::user(&db, "UTC").await,
        testing::user(&db, "UTC").await,
        testing::user(&db, "UTC").await,
    );
    let ids = one_of_each(&api, owner).await;
    let other_ids = one_of_each(&api, other_owner).await;
    for (grantee, scope) in [(partner, "report"), (clinician, "read")] {
        let email = email_of(&db, grantee).await;
        api.grant(
            owner,
            json!({"scope": scope, "expires_in_days": 7, "grantee_email": email}),
        )
        .await;
    }

    for &glucolens_web::routes::Route {
        method, path: route, ..
    } in ROUTES
    {
        if NOT_BEARER.contains(&route) {
            continue;
        }
        let path = path_for(route, &ids);
        for (grantee, scope) in [(partner, "report"), (clinician, "read")] {
            let body = if method == "GET" || method == "DELETE" {
                Value::Null
            } else {
                json!({})
            };
            let reply = api.send(method, &path, Some(grantee), Some(owner), body).await;
            let expected = match (method, route) {
                ("GET", REPORT) => StatusCode::OK,
                ("GET", r) if READ_ROUTES.contains(&r) && scope == "read" => StatusCode::OK,
                ("GET", r) if READ_ROUTES.contains(&r) => StatusCode::NOT_FOUND,
                // Everything else acts on the caller's own account, or writes: never through a grant.
                _ => StatusCode::FORBIDDEN,
            };
            assert_eq!(
                reply.status, expected,
                "{scope} grantee: {method} {path}: {}",
                reply.body
            );
            if expected == StatusCode::FORBIDDEN {
                assert_eq!(reply.body["code"], "grant_is_read_only");
            }
        }
    }
    // Every data route is classified above: a new read route must be added to READ_ROUTES (or it is refused).
    for route in READ_ROUTES {
        assert!(
            ROUTES.iter().any(|r| r.method == "GET" && r.path == *route),
            "{route} is no longer a route"
        );
    }

    // What the clinician reads is the owner's data, in the owner's records, never another owner's.
    let readings = api
        .get(&path_for("/api/v1/glucose/readings", &ids), clinician, Some(owner))
        .await;
    assert_eq!(readings.body["readings"].as_array().unwrap().len(), 2);
    let theirs = format!(
        "/api/v1/glucose/readings/{}",
        other_ids["/api/v1/glucose/readings/{id}"]
    );
    assert_eq!(
        api.get(&theirs, clinician, Some(owner)).await.status,
        StatusCode::NOT_FOUND
    );
    // A grant from one owner opens nothing of another's, whatever the header says.
    for route in READ_ROUTES.iter().copied().chain([REPORT]) {
        let path = path_for(route, &other_ids);
        for grantee in [partner, clinician] {
            let reply = api.get(&path, grantee, Some(other_owner)).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}: {}", reply.body);
        }
    }
    // Without the header, the clinician reads their own (empty) data, not the owner's.
    let own = api
        .get(&path_for("/api/v1/glucose/readings", &ids), clinician, None)
        .await;
    assert_eq!(own.body["readings"], json!([]));
    // A header that is no user id names no grant.
    let request = http::Request::builder()
        .uri(path_for("/api/v1/dashboard/summary", &ids))
        .header(http::header::AUTHORIZATION, testing::bearer(&api.state, clinician))
        .header(OWNER_HEADER, "not-a-user")
        .body(lambda_http::Body::Empty)
        .unwrap();
    let reply = testing::respond(api_retrieval::router(api.state.clone()), request).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrations = "../../migrations")]
async fn revocation_and_expiry_take_effect_at_once(db: PgPool) {
    let api = Api::new(testing::state(db.clone()).await);
    let (owner, clinician) = (testing::user(&db, "UTC").await, testing::user(&db, "UTC").await);
    let email = email_of(&db, clinician).await;
    let dashboard = "/api/v1/dashboard/summary";

    let grant = api
        .grant(
            owner,
            json!({"scope": "read", "expires_in_days": 7, "grantee_email": email}),
        )
        .await;
    assert_eq!(api.get(dashboard, clinician, Some(owner)).await.status, StatusCode::OK);
    let revoke = format!("/api/v1/shares/{}", grant["id"].as_str().unwrap());
    assert_eq!(
        api.send("DELETE", &revoke, Some(owner), None, Value::Null).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.get(dashboard, clinician, Some(owner)).await.status,
        StatusCode::NOT_FOUND
    );

    let grant = api
        .grant(
            owner,
            json!({"scope": "read", "expires_in_days": 7, "grantee_email": email}),
        )
        .await;
    assert_eq!(api.get(dashboard, clinician, Some(owner)).await.status, StatusCode::OK);
    expire(&db, &grant).await;
    assert_eq!(
        api.get(dashboard, clinician, Some(owner)).await.status,
        StatusCode::NOT_FOUND
    );

    // A link opens the report with no sign-in, and nothing else.
    let link = api
        .grant(owner, json!({"scope": "report", "expires_in_days": 7, "link": true}))
        .await;
    let url = format!("{}&format=svg", link["url"].as_str().unwrap());
    let opened = api.send("GET", &url, None, None, Value::Null).await;
    assert_eq!(opened.status, StatusCode::OK);
    let token = link["token"].as_str().unwrap();
    let readings = format!("/api/v1/glucose/readings?{RANGE}&share={token}");
    assert_eq!(
        api.send("GET", &readings, None, None, Value::Null).await.status,
        StatusCode::UNAUTHORIZED
    );
    let wrong = format!("{REPORT}?share={}x", &token[..token.len() - 1]);
    assert_eq!(
        api.send("GET", &wrong, None, None, Value::Null).await.status,
        StatusCode::NOT_FOUND
    );
    // Its uses count against the link's own limit.
    let bucket_hits: i32 = sqlx::query_scalar("SELECT sum(hits)::int FROM rate_limit_windows WHERE bucket = $1")
        .bind(format!("share:{}", link["id"].as_str().unwrap()))
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(bucket_hits, 1);

    // Revoked, the same secret opens nothing, now or again.
    let revoke = format!("/api/v1/shares/{}", link["id"].as_str().unwrap());
    assert_eq!(
        api.send("DELETE", &revoke, Some(owner), None, Value::Null).await.status,
        StatusCode::NO_CONTENT
    );
    for _ in 0..2 {
        assert_eq!(
            api.send("GET", &url, None, None, Value::Null).await.status,
            StatusCode::NOT_FOUND
        );
    }
    // An expired link is just as dead.
    let link = api
        .grant(owner, json!({"scope": "report", "expires_in_days": 7, "link": true}))
        .await;
    expire(&db, &link).await;
    let url = format!("{}&format=svg", link["url"].as_str().unwrap());
    assert_eq!(
        api.send("GET", &url, None, None, Value::Null).await.status,
        StatusCode::NOT_FOUND
    );
}

/// Moves the grant `share`'s expiry into the past.
async fn expire(db: &PgPool, share: &Value) {
    sqlx::query(
        "UPDATE shares SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second'
         WHERE id = $1",
    )
    .bind(Uuid::parse_str(share["id"].as_str().unwrap()).unwrap())
    .execute(db)
    .await
    .unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn every_read_through_a_grant_is_in_the_owners_access_log(db: PgPool) {
    let api = Api::new(testing::state(db.clone()).await);
    let (owner, clinician) = (testing::user(&db, "UTC").await, testing::user(&db, "UTC").await);
    let email = email_of(&db, clinician).await;
    let grant = api
        .grant(
            owner,
            json!({"scope": "read", "expires_in_days": 7, "grantee_email": email, "label": "Dr Rivera"}),
        )
        .await;
    let link = api
        .grant(
            owner,
            json!({"scope": "report", "expires_in_days": 7, "link": true, "label": "clinic"}),
        )
        .await;

    assert_eq!(
        api.get("/api/v1/dashboard/summary", owner, None).await.status,
        StatusCode::OK
    );
    let path = format!("/api/v1/glucose/readings?{RANGE}");
    assert_eq!(api.get(&path, clinician, Some(owner)).await.status, StatusCode::OK);
    let url = format!("{}&format=svg", link["url"].as_str().unwrap());
    assert_eq!(
        api.send("GET", &url, None, None, Value::Null).await.status,
        StatusCode::OK
    );

    let log = api.get("/api/v1/users/me/access-log", owner, None).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    let entries = log.body["entries"].as_array().unwrap();
    let actors: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e["resource"].as_str().unwrap(), e["actor"]["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actors,
        [
            ("agp_report", "link"),
            ("glucose_readings", "account"),
            ("dashboard_summary", "owner")
        ],
        "newest first: {}",
        log.body
    );
    assert_eq!(
        entries[1]["actor"],
        json!({"kind": "account", "account_email": email, "share_id": grant["id"], "label": "Dr Rivera"})
    );
    assert_eq!(
        entries[0]["actor"],
        json!({"kind": "link", "share_id": link["id"], "label": "clinic"})
    );
    assert_eq!(entries[2]["actor"], json!({"kind": "owner"}));
    // The grant records when it was last used.
    let listed = api.get("/api/v1/shares", owner, None).await;
    assert!(listed.body["shares"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["last_used_at"].is_string()));

    // Reading the log is itself in the log; pages follow one another.
    let page = api.get("/api/v1/users/me/access-log?limit=2", owner, None).await;
    assert_eq!(page.body["entries"][0]["resource"], "access_log");
    let cursor = page.body["next_cursor"].as_str().expect("more entries").to_owned();
    let next = api
        .get(
            &format!("/api/v1/users/me/access-log?limit=2&cursor={cursor}"),
            owner,
            None,
        )
        .await;
    let resources: Vec<&str> = next.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"].as_str().unwrap())
        .collect();
    assert_eq!(resources, ["glucose_readings", "dashboard_summary"], "{}", next.body);
    assert!(next.body["next_cursor"].is_null());

    // The clinician's own log holds none of the owner's reads, and they cannot read the owner's log.
    let theirs = api.get("/api/v1/users/me/access-log", clinician, None).await;
    assert_eq!(theirs.body["entries"], json!([]), "{}", theirs.body);
    let refused = api.get("/api/v1/users/me/access-log", clinician, Some(owner)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let bad = api
        .get("/api/v1/users/me/access-log?start=yesterday", owner, None)
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[test]
fn the_sharing_routes_and_the_owner_header_are_documented() {
    let auth = serde_json::to_value(api_auth::openapi()).unwrap();
    for (path, method) in [
        ("/api/v1/shares", "post"),
        ("/api/v1/shares", "get"),
        ("/api/v1/shares/received", "get"),
        ("/api/v1/shares/{id}", "delete"),
        ("/api/v1/users/me/access-log", "get"),
    ] {
        assert!(auth["paths"][path][method].is_object(), "{method} {path}");
    }
    for (document, path) in [
        (
            serde_json::to_value(api_retrieval::openapi()).unwrap(),
            "/api/v1/glucose/readings",
        ),
        (
            serde_json::to_value(api_insights::openapi()).unwrap(),
            "/api/v1/insights/recommendations",
        ),
    ] {
        let parameters = document["paths"][path]["get"]["parameters"].as_array().unwrap().clone();
        assert!(
            parameters
                .iter()
                .any(|p| p["name"] == "X-GlucoLens-Owner" && p["in"] == "header"),
            "{path}: {parameters:?}"
        );
    }
}

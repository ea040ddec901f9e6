//! Each scheduled job, driven by its EventBridge event from `events/`, fans out one message per user it concerns.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use glucolens_domain::task::TaskKind;
use glucolens_testing as testing;
use scheduled_jobs::{handle, RunSummary};

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn each_job_accepts_its_event_and_fans_out_per_user(db: sqlx::PgPool) {
    let state = testing::state(db.clone()).await;
    let with_new_data = testing::user(&db, "Europe/Paris").await;
    testing::user(&db, "Asia/Kolkata").await;
    testing::cgm_trace(&db, with_new_data, "dexcom", chrono::Utc::now(), 3, 0.0).await;

    for (event, kind, users) in [
        (
            include_str!("../../../events/job-aggregate-daily.json"),
            TaskKind::AggregateDaily,
            1,
        ),
        (
            include_str!("../../../events/job-compute-correlations.json"),
            TaskKind::ComputeCorrelations,
            2,
        ),
        (
            include_str!("../../../events/job-discover-patterns.json"),
            TaskKind::DiscoverPatterns,
            2,
        ),
    ] {
        let parsed: EventBridgeEvent<serde_json::Value> = serde_json::from_str(event).unwrap();
        assert_eq!(parsed.detail_type, "Scheduled Event");
        let summary = handle(&state.db, &state.queue, kind).await.unwrap();
        assert_eq!(
            summary,
            RunSummary {
                job: kind.as_str(),
                users,
                messages_sent: users
            }
        );
    }
}

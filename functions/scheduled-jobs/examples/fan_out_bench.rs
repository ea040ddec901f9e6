//! Driver of `bench/fanout/run.sh`. Reads the environment every function reads (DATABASE_URL,
//! ANALYSIS_QUEUE_URL, AWS_ENDPOINT_URL, ...).
//!
//!   fan_out_bench migrate                    # the schema, before the script inserts its users
//!   fan_out_bench run CONCURRENCY RUN_TIME   # e.g. `run 32 2026-11-25T04:00:00Z`; a new RUN_TIME is a new run
//!
//! `run` is one scheduled compute-correlations run through the Lambda handler ([`scheduled_jobs::handle`]), with
//! the analysis queue keeping CONCURRENCY `SendMessageBatch` calls in flight (1 is the former sequential sending,
//! the baseline), timed; it prints one JSON line.

use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use glucolens_domain::task::TaskKind;

type Error = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "usage: fan_out_bench migrate | fan_out_bench run CONCURRENCY RUN_TIME";

#[tokio::main]
async fn main() -> Result<(), Error> {
    glucolens_aws::telemetry::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (db, queue) = glucolens_aws::state::database_and_queue_from_env().await?;
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["migrate"] => Ok(glucolens_store::db::MIGRATOR.run(&db).await?),
        ["run", concurrency, time] => {
            let concurrency: usize = concurrency.parse()?;
            let queue = queue.with_send_concurrency(concurrency);
            let event: EventBridgeEvent<serde_json::Value> = serde_json::from_value(serde_json::json!({
                "detail-type": "Scheduled Event", "source": "aws.events", "time": time, "detail": {}
            }))?;
            // The bench times the whole fan-out, so the sequential baseline must not stop at the Lambda's 300 s.
            let deadline = SystemTime::now() + Duration::from_secs(3600);
            let started = Instant::now();
            let summary = scheduled_jobs::handle(&db, &queue, TaskKind::ComputeCorrelations, &event, deadline).await?;
            let seconds = started.elapsed().as_secs_f64();
            let line = serde_json::json!({
                "concurrency": concurrency,
                "users": summary.users,
                "messages": summary.messages_sent,
                "seconds": seconds,
            });
            println!("{line}");
            Ok(())
        }
        _ => Err(USAGE.into()),
    }
}

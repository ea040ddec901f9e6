//! `glucolens job <aggregate-daily|compute-correlations|discover-patterns> [--drain]`: one run of a scheduled job's
//! fan-out (what EventBridge triggers on AWS); `--drain` then processes the queue until it is empty, so the results
//! are there before the command returns.

use std::time::Instant;

use glucolens_app::jobs;
use glucolens_domain::task::TaskKind;
use glucolens_web::AppState;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Job {
    AggregateDaily,
    ComputeCorrelations,
    DiscoverPatterns,
}

#[derive(clap::Args)]
pub struct Args {
    pub job: Job,
    /// Process the analysis queue until it is empty (as the worker would).
    #[arg(long)]
    pub drain: bool,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let state = AppState::from_env().await?;
    let kind = match args.job {
        Job::AggregateDaily => TaskKind::AggregateDaily,
        Job::ComputeCorrelations => TaskKind::ComputeCorrelations,
        Job::DiscoverPatterns => TaskKind::DiscoverPatterns,
    };
    let started = Instant::now();
    let report = jobs::fan_out(&state.db, &state.queue, kind).await?;
    println!(
        "{}: {} messages for {} users sent in {:.2} s",
        kind.as_str(),
        report.messages_sent,
        report.users,
        started.elapsed().as_secs_f64()
    );
    if args.drain {
        let started = Instant::now();
        let outcome = crate::worker_poll::drain(&state).await?;
        println!(
            "processed {} messages ({} failed, left for redelivery) in {:.2} s",
            outcome.received,
            outcome.failed,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

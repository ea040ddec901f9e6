//! `glucolens sample-data`: seeded sample accounts with planted effects (see `glucolens_sample` for the model
//! and the effect sizes). Users are generated on the blocking pool and written concurrently, one transaction each.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use chrono::{Duration, NaiveDate, Utc};
use glucolens_aws::config::{Config, SecretSource};
use glucolens_domain::Password;
use glucolens_sample::{self as sample, Written};
use glucolens_store::InsertCounts;
use tokio::task::JoinSet;

#[derive(clap::Args)]
pub struct Args {
    /// Accounts to create (user 0 is demo@glucolens.local).
    #[arg(long, default_value_t = 1)]
    pub users: usize,
    /// Days of data per account.
    #[arg(long, default_value_t = 90)]
    pub days: u32,
    /// RNG seed: the same seed gives the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Emails are `<prefix>+<n>@glucolens.local` for n ≥ 1.
    #[arg(long, default_value = "demo")]
    pub email_prefix: String,
    /// First local day (default: `days` days before today, so the data ends yesterday).
    #[arg(long)]
    pub start_date: Option<NaiveDate>,
    /// Concurrent database connections (one account per connection at a time).
    #[arg(long, default_value_t = 8)]
    pub connections: u32,
}

#[derive(Default)]
struct Totals {
    created: usize,
    existing: usize,
    glucose: InsertCounts,
    records: InsertCounts,
    generation: std::time::Duration,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let config = Config::from_env()?;
    let SecretSource::Env(url) = &config.database else {
        anyhow::bail!("`glucolens sample-data` needs DATABASE_URL");
    };
    let db = glucolens_store::db::connect(url, args.connections, config.db_acquire_timeout).await?;
    let password = Password::parse(sample::DEMO_PASSWORD).map_err(|e| anyhow::anyhow!(e.reason))?;
    // One Argon2id hash shared by every sample account (they share the demo password).
    let password_hash: Arc<str> = glucolens_credentials::passwords::hash(password).await?.into();
    let start = args
        .start_date
        .unwrap_or_else(|| Utc::now().date_naive() - Duration::days(i64::from(args.days)));
    let prefix: Arc<str> = args.email_prefix.into();

    let mut pending = JoinSet::new();
    let mut totals = Totals::default();
    let mut record = |(written, generation): (Option<Written>, std::time::Duration)| {
        totals.generation += generation;
        match written {
            Some(w) => {
                totals.created += 1;
                totals.glucose = totals.glucose + w.glucose;
                totals.records = totals.records + w.records;
            }
            None => totals.existing += 1,
        }
    };
    for index in 0..args.users {
        // Keep at most one account per connection in flight (plus one being generated).
        if pending.len() > args.connections as usize {
            record(pending.join_next().await.expect("set is not empty")??);
        }
        let (db, hash, prefix) = (db.clone(), password_hash.clone(), prefix.clone());
        let (seed, days) = (args.seed, args.days);
        pending.spawn(async move {
            let (user, generation) = tokio::task::spawn_blocking(move || {
                let started = Instant::now();
                let user = sample::generate_user(seed, index, &prefix, start, days);
                (user, started.elapsed())
            })
            .await
            .context("generating a sample user")?;
            let written = sample::write_user(&db, &user, &hash)
                .await
                .with_context(|| format!("writing sample user {index}"))?;
            anyhow::Ok((written, generation))
        });
    }
    while let Some(done) = pending.join_next().await {
        record(done??);
    }
    println!(
        "sample data: {} accounts created ({} already existed), {} glucose readings inserted ({} already present), \
         {} sleep/activity/meal records; {} days from {start}, seed {}; {:.1} s wall ({:.1} s of generation CPU)",
        totals.created,
        totals.existing,
        totals.glucose.inserted,
        totals.glucose.already_present,
        totals.records.inserted,
        args.days,
        args.seed,
        started.elapsed().as_secs_f64(),
        totals.generation.as_secs_f64()
    );
    println!("log in as demo@glucolens.local / {}", sample::DEMO_PASSWORD);
    Ok(())
}

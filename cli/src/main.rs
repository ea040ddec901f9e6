//! `glucolens`: the local face of the backend. Reads its configuration from the environment (`DATABASE_URL`,
//! `AWS_ENDPOINT_URL`, ...; see the README), exactly as the Lambda functions do.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod analyze;
mod emulator;
mod import;
mod job;
mod openapi;
mod report;
mod sample_data;
mod serve;
mod template;
mod worker_poll;

#[derive(Parser)]
#[command(
    name = "glucolens",
    version,
    about = "GlucoLens backend: local server, jobs, analytics and imports"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply the database migrations.
    Migrate,
    /// Serve every API function on the paths API Gateway exposes (/api/v1/...).
    Serve(serve::Args),
    /// Run an analysis on files (metrics, matrix-profile, pcmci, rules) and print JSON.
    #[command(subcommand)]
    Analyze(analyze::Command),
    /// Import a device or app export (Dexcom Clarity, LibreView, Nightscout entries, Apple Health export.xml).
    Import(import::Args),
    /// Write a user's AGP-style report (one page, PDF or SVG by the file's extension).
    Report(report::Args),
    /// Create seeded sample accounts with 90 days of realistic data and planted effects.
    SampleData(sample_data::Args),
    /// Run a scheduled job's fan-out once (optionally processing the queue until empty).
    Job(job::Args),
    /// Regenerate the API Gateway route events in template.yaml from the route table.
    Template(template::Args),
    /// Regenerate the OpenAPI document the docs function serves (functions/api-docs/openapi.json).
    Openapi(openapi::Args),
}

#[tokio::main]
async fn main() -> ExitCode {
    glucolens_aws::telemetry::init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Migrate => migrate().await,
        Command::Serve(args) => serve::run(args).await,
        Command::Template(args) => template::run(&args),
        Command::Openapi(args) => openapi::run(&args),
        Command::SampleData(args) => sample_data::run(args).await,
        Command::Job(args) => job::run(args).await,
        Command::Import(args) => import::run(args).await,
        Command::Report(args) => report::run(args).await,
        Command::Analyze(command) => analyze::run(&command),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate() -> anyhow::Result<()> {
    let config = glucolens_aws::config::Config::from_env()?;
    let glucolens_aws::config::SecretSource::Env(url) = &config.database else {
        anyhow::bail!("`glucolens migrate` needs DATABASE_URL");
    };
    let db = glucolens_store::db::connect(url, 1, config.db_acquire_timeout).await?;
    glucolens_store::db::MIGRATOR.run(&db).await?;
    println!("migrations applied");
    Ok(())
}

//! `glucolens import --user EMAIL [--format F] FILE`: imports an export file for a user through the same import
//! service the API and the import worker use, and prints the report as JSON.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use anyhow::Context;
use glucolens_app::import_service;
use glucolens_domain::Email;
use glucolens_importers::Format;
use glucolens_store::imports::{self, ImportStatus};

#[derive(clap::Args)]
pub struct Args {
    /// The account to import into (its email).
    #[arg(long)]
    pub user: String,
    /// dexcom_clarity, libreview, nightscout_entries or apple_health; guessed from the file when absent.
    #[arg(long)]
    pub format: Option<String>,
    /// The export file (read as a stream; Apple Health exports of several GB are fine).
    pub file: PathBuf,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let config = glucolens_aws::config::Config::from_env()?;
    let glucolens_aws::config::SecretSource::Env(url) = &config.database else {
        anyhow::bail!("`glucolens import` needs DATABASE_URL");
    };
    let db = glucolens_store::db::connect(url, 2, config.db_acquire_timeout).await?;
    let email = Email::parse(&args.user).map_err(|e| anyhow::anyhow!("--user: {}", e.reason))?;
    let (user_id, _) = glucolens_store::users::credentials(&db, &email)
        .await?
        .context("no account with that email")?;
    let mut reader = BufReader::with_capacity(
        256 * 1024,
        File::open(&args.file).with_context(|| format!("opening {}", args.file.display()))?,
    );
    let format = match &args.format {
        Some(name) => Format::parse(name).with_context(|| {
            let names: Vec<_> = Format::ALL.iter().map(|f| f.as_str()).collect();
            format!("--format must be one of {}", names.join(", "))
        })?,
        None => Format::sniff(reader.fill_buf()?).context("cannot tell the file's format; pass --format")?,
    };
    let id = uuid::Uuid::new_v4();
    imports::create(&db, id, user_id, format.as_str(), ImportStatus::Running, None).await?;
    let report = import_service::run_recorded(&db, user_id, id, format, reader).await?;
    #[derive(serde::Serialize)]
    struct Output<'a> {
        id: uuid::Uuid,
        report: &'a import_service::ImportReport,
    }
    println!("{}", serde_json::to_string_pretty(&Output { id, report: &report })?);
    Ok(())
}

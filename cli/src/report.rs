//! `glucolens report --user EMAIL [--days 14] [--end YYYY-MM-DD] --out report.pdf`: writes a user's AGP-style
//! report, built by the same application service and drawn by the same layout as `GET /api/v1/reports/agp`; the
//! format follows the file's extension (`.pdf` or `.svg`). An operator's tool with direct database access, like
//! `glucolens import`: it writes no audit row (the audit log records API reads, by owners and their grantees).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use api_reports::Format;
use chrono::Utc;
use glucolens_app::report::{self, ReportPeriod};
use glucolens_domain::Email;

#[derive(clap::Args)]
pub struct Args {
    /// The account whose report to write (its email).
    #[arg(long)]
    pub user: String,
    /// Local days in the report, 1–90.
    #[arg(long, default_value_t = report::DEFAULT_DAYS)]
    pub days: u32,
    /// The report's last local day (default: yesterday in the user's time zone).
    #[arg(long)]
    pub end: Option<String>,
    /// Where to write the report: a `.pdf` or `.svg` file.
    #[arg(long)]
    pub out: PathBuf,
    /// Print how long building the report and drawing it took, in milliseconds, as JSON on stdout. The report is
    /// then built twice: first on a new connection (`model_first_ms`: connecting and preparing statements included),
    /// then as a running server builds it (`model_ms`, what the total counts).
    #[arg(long)]
    pub timings: bool,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let format = args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .and_then(|e| Format::parse(&e.to_ascii_lowercase()))
        .context("--out must end in .pdf or .svg")?;
    let days = args.days.to_string();
    let period = ReportPeriod::parse(Some(&days), args.end.as_deref()).map_err(|errors| {
        let reasons: Vec<String> = errors.iter().map(|e| format!("--{}: {}", e.field, e.reason)).collect();
        anyhow::anyhow!(reasons.join("; "))
    })?;
    let config = glucolens_aws::config::Config::from_env()?;
    let glucolens_aws::config::SecretSource::Env(url) = &config.database else {
        anyhow::bail!("`glucolens report` needs DATABASE_URL");
    };
    let db = glucolens_store::db::connect(url, 2, config.db_acquire_timeout).await?;
    let email = Email::parse(&args.user).map_err(|e| anyhow::anyhow!("--user: {}", e.reason))?;
    let (user_id, _) = glucolens_store::users::credentials(&db, &email)
        .await?
        .context("no account with that email")?;

    let started = Instant::now();
    let mut model = report::agp_report(&db, user_id, period, Utc::now()).await?;
    let first = started.elapsed();
    let mut built = first;
    if args.timings {
        let started = Instant::now();
        model = report::agp_report(&db, user_id, period, Utc::now()).await?;
        built = started.elapsed();
    }
    let svg = Instant::now();
    let svg_bytes = Format::Svg.render(&model);
    let svg = svg.elapsed();
    let pdf = Instant::now();
    let pdf_bytes = Format::Pdf.render(&model);
    let pdf = pdf.elapsed();
    let body = match format {
        Format::Pdf => pdf_bytes,
        Format::Svg => svg_bytes,
    };
    std::fs::write(&args.out, &body).with_context(|| format!("writing {}", args.out.display()))?;
    if args.timings {
        let ms = |d: std::time::Duration| (d.as_secs_f64() * 1e5).round() / 100.0;
        println!(
            "{}",
            serde_json::json!({
                "days": model.period_days(),
                "model_first_ms": ms(first),
                "model_ms": ms(built),
                "svg_ms": ms(svg),
                "pdf_ms": ms(pdf),
                "total_ms": ms(built + svg + pdf),
            })
        );
    }
    eprintln!(
        "wrote {} ({} bytes, {} to {})",
        args.out.display(),
        body.len(),
        model.first_day,
        model.last_day
    );
    Ok(())
}

//! `glucolens analyze metrics --cgm FILE [--tz ZONE]`: every iglu metric, the episode summary and the AGP
//! percentiles of a `timestamp,value` CGM CSV, as one JSON object.

use std::path::PathBuf;

use anyhow::Context;
use glucolens_analytics::{cgm, metrics};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// CGM CSV with the header `timestamp,value` (ISO-8601 with offset, mg/dL).
    #[arg(long)]
    pub cgm: PathBuf,
    /// IANA time zone whose local days and times of day the day-based metrics use.
    #[arg(long, default_value = "UTC")]
    pub tz: String,
}

pub fn run(args: &Args) -> anyhow::Result<serde_json::Value> {
    let tz = metrics::parse_tz(&args.tz)?;
    let text = std::fs::read_to_string(&args.cgm).with_context(|| format!("cannot read {}", args.cgm.display()))?;
    let points = cgm::parse_cgm_csv(&text).with_context(|| format!("{}", args.cgm.display()))?;
    let report = metrics::compute(&points, tz)?;
    Ok(serde_json::to_value(report)?)
}

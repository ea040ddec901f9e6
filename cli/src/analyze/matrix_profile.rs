//! `glucolens analyze matrix-profile`: stumpy-compatible matrix profile of a CGM trace, optional motifs/discords.

use anyhow::Context;
use glucolens_analytics::cgm::parse_cgm_csv;
use glucolens_analytics::matrix_profile::{analyze_cgm, interval_from_minutes, MatrixProfileParams, MotifParams};

/// Matrix profile (z-normalised, exclusion zone ⌈m/4⌉) of a `timestamp,value` CGM CSV placed on its sampling grid
/// (missing readings become NaN gaps; several readings in one slot are averaged).
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// CGM CSV file (`timestamp,value`, ISO-8601 with offset).
    #[arg(long, value_name = "FILE")]
    pub cgm: std::path::PathBuf,
    /// Window length m in samples (at least 3; 288 = one day of 5-minute data).
    #[arg(long, value_name = "M")]
    pub window: usize,
    /// Also find the top motif (stumpy.motifs defaults: max_matches 10, max_motifs 1).
    #[arg(long)]
    pub motifs: bool,
    /// Also report the top K discords.
    #[arg(long, value_name = "K")]
    pub discords: Option<usize>,
    /// Sampling interval in minutes (default: the most common spacing between readings).
    #[arg(long, value_name = "MIN")]
    pub interval_minutes: Option<u32>,
}

/// Reads the file, computes, and returns `{"n","m","excl_zone","profile","index","left_index","right_index",
/// "motifs","discords"}` (`motifs`/`discords` empty unless requested; infinite profile values are `null`).
pub fn run(args: &Args) -> anyhow::Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(&args.cgm).with_context(|| format!("cannot read CGM file {}", args.cgm.display()))?;
    let points = parse_cgm_csv(&text).with_context(|| format!("{}", args.cgm.display()))?;
    let interval = match args.interval_minutes {
        Some(0) => anyhow::bail!("invalid --interval-minutes: must be positive"),
        Some(min) => Some(interval_from_minutes(min)),
        None => None,
    };
    let params = MatrixProfileParams {
        window: args.window,
        interval,
        motifs: args.motifs.then(MotifParams::default),
        discords: args.discords.unwrap_or(0),
    };
    let report = analyze_cgm(&points, &params)?;
    Ok(serde_json::to_value(&report)?)
}

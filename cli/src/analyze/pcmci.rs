//! `glucolens analyze pcmci`: PCMCI (tigramite port) over a daily table `date,<var1>,<var2>,...`.

use std::path::PathBuf;

use anyhow::Context;
use glucolens_analytics::pcmci::{run_pcmci, PcmciParams, PcmciReport};
use glucolens_analytics::table::parse_daily_csv;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Daily CSV `date,<var1>,<var2>,...`, one row per consecutive day, no missing values.
    #[arg(long)]
    pub daily: PathBuf,
    /// Largest lag in days.
    #[arg(long)]
    pub tau_max: usize,
    /// Smallest lag in days (0 includes same-day links).
    #[arg(long, default_value_t = 0)]
    pub tau_min: usize,
    /// PC1 significance level, or `none` to select it per variable from [0.05, 0.1, 0.2, 0.3, 0.4, 0.5] by AIC.
    #[arg(long, default_value = "0.05", value_parser = parse_pc_alpha)]
    pub pc_alpha: PcAlpha,
    /// Significance level of the MCI p-values for the graph and the links.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
}

/// `--pc-alpha`: a level or `none`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PcAlpha(pub Option<f64>);

fn parse_pc_alpha(text: &str) -> Result<PcAlpha, String> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(PcAlpha(None));
    }
    text.parse::<f64>()
        .map(|a| PcAlpha(Some(a)))
        .map_err(|_| format!("`{text}` is neither a number nor `none`"))
}

pub fn run(args: &Args) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(&args.daily).with_context(|| format!("cannot read {}", args.daily.display()))?;
    let table = parse_daily_csv(&text).with_context(|| format!("{}", args.daily.display()))?;
    table
        .check_consecutive_days()
        .with_context(|| format!("{}", args.daily.display()))?;
    let params = PcmciParams {
        tau_min: args.tau_min,
        tau_max: args.tau_max,
        pc_alpha: args.pc_alpha.0,
        alpha_level: args.alpha,
        ..PcmciParams::default()
    };
    let result = run_pcmci(table.values.view(), &params).context("pcmci")?;
    let report = PcmciReport::new(result, table.variables)?;
    Ok(serde_json::to_value(report)?)
}

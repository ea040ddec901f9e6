//! `glucolens analyze rules`: frequent itemsets and association rules (mlxtend port) over a 0/1 item table.

use std::path::PathBuf;

use anyhow::Context;
use glucolens_analytics::rules::{run_rules, RuleMetric, RulesParams};
use glucolens_analytics::table::parse_items_csv;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Item CSV: 0/1 columns, one row per transaction (day), with an optional first `date` column.
    #[arg(long)]
    pub items: PathBuf,
    /// Minimum itemset support, in (0, 1].
    #[arg(long)]
    pub min_support: f64,
    /// Rule metric to filter on: confidence, lift, leverage, conviction, support, antecedent_support,
    /// consequent_support, representativity, zhangs_metric, jaccard, certainty, kulczynski.
    #[arg(long, default_value = "confidence")]
    pub metric: String,
    /// Keep rules whose metric is >= this value.
    #[arg(long, default_value_t = 0.8)]
    pub min_threshold: f64,
    /// Largest itemset size (default: unlimited).
    #[arg(long)]
    pub max_len: Option<usize>,
}

pub fn run(args: &Args) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(&args.items).with_context(|| format!("cannot read {}", args.items.display()))?;
    let table = parse_items_csv(&text).with_context(|| format!("{}", args.items.display()))?;
    let params = RulesParams {
        min_support: args.min_support,
        max_len: args.max_len,
        metric: args.metric.parse::<RuleMetric>()?,
        min_threshold: args.min_threshold,
    };
    let result = run_rules(table.present.view(), &table.items, &params).context("rules")?;
    Ok(serde_json::to_value(result)?)
}

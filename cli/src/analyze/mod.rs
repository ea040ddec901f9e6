//! `glucolens analyze`: the analytics engine on files, printing one JSON object, so anyone can diff our numbers
//! against the reference Python libraries. Non-finite numbers print as `null`.

mod matrix_profile;
mod metrics;
mod pcmci;
mod rules;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Consensus CGM metrics, episodes and AGP percentiles (as iglu) from a `timestamp,value` CSV.
    Metrics(metrics::Args),
    /// Exact z-normalised matrix profile, motifs and discords (as stumpy) from a `timestamp,value` CSV.
    MatrixProfile(matrix_profile::Args),
    /// PCMCI causal discovery (as tigramite with ParCorr) over a daily table.
    Pcmci(pcmci::Args),
    /// Frequent itemsets and association rules (as mlxtend) over a 0/1 item table.
    Rules(rules::Args),
}

pub fn run(command: &Command) -> anyhow::Result<()> {
    let output = match command {
        Command::Metrics(args) => metrics::run(args)?,
        Command::MatrixProfile(args) => matrix_profile::run(args)?,
        Command::Pcmci(args) => pcmci::run(args)?,
        Command::Rules(args) => rules::run(args)?,
    };
    println!("{}", serde_json::to_string(&output)?);
    Ok(())
}

//! `covlens prow reporter`: the ProwJob reporter (covlens-prow's
//! `reporter::run`) as a long-running command.
//!
//! The hidden `--publish-log` swaps the publisher for covlens-prow's
//! `PublishLog`, which records "NAME STATE" lines (the controller's cluster
//! tests and the demo count reports with it).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Subcommand};
use covlens_prow::reporter::{self, ReporterOptions};

/// Prow commands.
#[derive(Subcommand, Debug)]
pub enum ProwCommand {
    /// Watch ProwJobs and publish coverage once per job that reaches a
    /// final state (recorded in status.prev_report_states, as Crier does).
    Reporter(ReporterArgs),
}

/// `covlens prow reporter`.
#[derive(Args, Debug)]
pub struct ReporterArgs {
    /// The kubeconfig to use; default: in-cluster, else $KUBECONFIG or
    /// ~/.kube/config.
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// The reporter's YAML configuration.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// For tests and demos: publish by appending "NAME STATE" lines to
    /// FILE.
    #[arg(long, value_name = "FILE", hide = true)]
    publish_log: Option<PathBuf>,
    /// For tests and demos: each publish takes this long first.
    #[arg(long, value_name = "MS", hide = true, default_value_t = 0)]
    publish_delay_ms: u64,
}

pub fn run(c: ProwCommand) -> Result<()> {
    match c {
        ProwCommand::Reporter(a) => Ok(reporter::run(&ReporterOptions {
            config: a.config,
            kubeconfig: a.kubeconfig,
            publish_log: a
                .publish_log
                .map(|p| (p, Duration::from_millis(a.publish_delay_ms))),
        })?),
    }
}

//! `covlens prow reporter`: the ProwJob reporter (covlens-prow's
//! controller) as a long-running command.
//!
//! Wiring only: covlens-prow's `Config` reads the YAML, its `Publisher`
//! publishes, its `controller` decides when. The hidden `--publish-log`
//! swaps the publisher for its `PublishLog`, which records "NAME STATE"
//! lines (the controller's cluster tests and the demo count reports with
//! it).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use covlens_prow::config::Config;
use covlens_prow::controller::{self, ControllerSettings};
use covlens_prow::publish::{Publish, PublishLog, Publisher};

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
        ProwCommand::Reporter(a) => reporter(a),
    }
}

fn reporter(a: ReporterArgs) -> Result<()> {
    let config = Config::read(&a.config)?;
    let settings = ControllerSettings::from_config(&config)?;
    let publisher: Arc<dyn Publish> = match &a.publish_log {
        Some(path) => Arc::new(
            PublishLog::open(path, Duration::from_millis(a.publish_delay_ms))
                .with_context(|| format!("cannot open {}", path.display()))?,
        ),
        None => Arc::new(
            Publisher::new(&config)
                .with_context(|| format!("cannot set up publishing for {}", a.config.display()))?,
        ),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        controller::install_crypto_provider();
        let config = match &a.kubeconfig {
            Some(path) => {
                let kc = kube::config::Kubeconfig::read_from(path)
                    .with_context(|| format!("cannot read the kubeconfig {}", path.display()))?;
                kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                    .await
                    .with_context(|| format!("bad kubeconfig {}", path.display()))?
            }
            None => kube::Config::infer()
                .await
                .context("no Kubernetes configuration (in-cluster, $KUBECONFIG or ~/.kube/config); pass --kubeconfig")?,
        };
        let client = kube::Client::try_from(config).context("cannot build the Kubernetes client")?;
        controller::run(client, settings, publisher, controller::shutdown_signal()).await?;
        Ok(())
    })
}

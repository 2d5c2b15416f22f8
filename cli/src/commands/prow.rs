//! `covlens prow reporter`: the ProwJob reporter (covlens-prow's
//! controller) as a long-running command.
//!
//! Wiring only: covlens-prow's `Config` reads the YAML, its `Publisher`
//! publishes, its `controller` decides when. The hidden `--publish-log`
//! swaps the publisher for one that records "NAME STATE" lines (the
//! controller's cluster tests and the demo count reports with it).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use covlens_prow::config::Config;
use covlens_prow::controller::{self, ControllerSettings, LeaseSettings};
use covlens_prow::publish::{BoxFuture, FinishedJob, Outcome, Publish, PublishError, Publisher};

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
    let settings = settings_from(&config)?;
    let publisher: Arc<dyn Publish> = match &a.publish_log {
        Some(path) => Arc::new(RecordingPublisher::open(path, a.publish_delay_ms)?),
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
        controller::run(client, settings, publisher, shutdown_signal()).await?;
        Ok(())
    })
}

/// SIGTERM (Kubernetes) or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot handle SIGTERM");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// The controller's part of the config.
fn settings_from(c: &Config) -> Result<ControllerSettings> {
    let mut s = ControllerSettings::new(c.name.clone(), c.namespace.clone());
    // The jobs the config names, and those `selection.jobs` matches.
    let named: Vec<String> = c.configured_jobs().into_iter().map(regex::escape).collect();
    let mut pattern = format!("^(?:{})$", named.join("|"));
    if let Some(re) = &c.selection.jobs {
        pattern = format!("{pattern}|{}", re.as_str());
    }
    s.job_pattern = Some(regex::Regex::new(&pattern).context("the job selection")?);
    s.label_selector = c.selection.labels.clone().filter(|l| !l.is_empty());
    if let Some(n) = c.concurrency {
        s.concurrency = n as usize;
    }
    s.listen = c.listen;
    if let Some(l) = &c.lease {
        let mut ls = LeaseSettings::new(
            l.name.clone(),
            c.namespace.clone(),
            LeaseSettings::default_identity(),
        );
        // client-go's proportions: renew within 2/3 of the lease, retry at 1/6.
        ls.lease_duration = Duration::from_secs(u64::from(l.duration_seconds));
        ls.renew_deadline = ls.lease_duration * 2 / 3;
        ls.retry_period = (ls.lease_duration / 6).max(Duration::from_millis(100));
        s.leader_election = Some(ls);
    }
    Ok(s)
}

/// For tests and demos (`--publish-log`): appends "NAME STATE\n" per publish.
struct RecordingPublisher {
    file: Mutex<std::fs::File>,
    delay: Duration,
}

impl RecordingPublisher {
    fn open(path: &Path, delay_ms: u64) -> Result<RecordingPublisher> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        Ok(RecordingPublisher {
            file: Mutex::new(file),
            delay: Duration::from_millis(delay_ms),
        })
    }
}

impl Publish for RecordingPublisher {
    fn publish<'a>(&'a self, job: &'a FinishedJob) -> BoxFuture<'a, Result<Outcome, PublishError>> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            let line = format!("{} {}\n", job.name, job.state.as_str());
            // One write of a short line to a file opened for appending:
            // lines of concurrent reporters do not interleave.
            let mut f = self.file.lock().expect("publish log lock");
            f.write_all(line.as_bytes())
                .map_err(|e| PublishError::Transient(format!("publish log: {e}")))?;
            Ok(Outcome::Published(format!("recorded {}", line.trim_end())))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(yaml: &str) -> ControllerSettings {
        let c = Config::parse(
            &format!("artifacts: file:///a\npublish: file:///p\n{yaml}"),
            "reporter.yaml",
        )
        .unwrap();
        settings_from(&c).unwrap()
    }

    #[test]
    fn named_and_selected_jobs_and_the_lease() {
        let s = settings(
            "name: cov\nnamespace: prow\n\
             dashboards: [{name: e2e, columns: [{label: master, job: ci-a.b}]}]\n\
             selection: {jobs: '^pull-.*-coverage$', labels: created-by-prow=true}\n\
             concurrency: 8\nlisten: 127.0.0.1:9090\nlease: {name: l, duration_seconds: 3}\n",
        );
        let re = s.job_pattern.unwrap();
        assert!(re.is_match("ci-a.b") && re.is_match("pull-x-coverage"));
        // Named jobs match whole, dots literally.
        assert!(!re.is_match("ci-aXb") && !re.is_match("ci-a.b-2"));
        assert_eq!(s.label_selector.as_deref(), Some("created-by-prow=true"));
        assert_eq!((s.concurrency, s.reporter_name.as_str()), (8, "cov"));
        let l = s.leader_election.unwrap();
        assert_eq!((l.name.as_str(), l.namespace.as_str()), ("l", "prow"));
        assert_eq!(l.renew_deadline, Duration::from_secs(2));
        assert_eq!(l.retry_period, Duration::from_millis(500));
    }

    #[test]
    fn without_a_lease_one_replica_reports() {
        let s = settings("name: cov\n");
        assert!(s.leader_election.is_none());
        assert!(!s.job_pattern.unwrap().is_match("anything"));
    }
}

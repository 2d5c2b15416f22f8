//! `covlens prow reporter`: the ProwJob reporter (covlens-prow's
//! controller) as a long-running command.
//!
//! TEMPORARY (prow-controller branch): the reporter's YAML is parsed here
//! for the few keys the controller needs, and publishing only logs (or,
//! with the hidden `--publish-log`, records). The whole configuration
//! (covlens-prow `config`) and the real `Publisher` come from the
//! prow-publish branch and replace both at merge.

use std::fs::OpenOptions;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use covlens_prow::controller::{self, ControllerSettings, LeaseSettings};
use covlens_prow::publish::{BoxFuture, FinishedJob, Outcome, Publish, PublishError};
use serde::Deserialize;

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

/// The keys of the reporter's YAML this command reads (others are ignored).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ReporterConfig {
    /// The key in prev_report_states.
    name: String,
    #[serde(default = "default_namespace")]
    namespace: String,
    #[serde(default)]
    jobs: JobSelection,
    #[serde(default)]
    concurrency: Option<usize>,
    #[serde(default)]
    leader_election: Option<LeaderElection>,
    #[serde(default)]
    listen: Option<String>,
    // Read by the publisher (prow-publish branch).
    #[serde(default, rename = "artifacts")]
    _artifacts: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "publish")]
    _publish: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "dashboards")]
    _dashboards: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "presubmits")]
    _presubmits: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "filters")]
    _filters: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "github")]
    _github: Option<serde::de::IgnoredAny>,
}

fn default_namespace() -> String {
    "default".into()
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct JobSelection {
    /// A regex the whole spec.job must match.
    pattern: Option<String>,
    /// A Kubernetes label selector.
    labels: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct LeaderElection {
    #[serde(default = "yes")]
    enabled: bool,
    lease: Option<String>,
    namespace: Option<String>,
    lease_duration: Option<String>,
    renew_deadline: Option<String>,
    retry_period: Option<String>,
}

fn yes() -> bool {
    true
}

pub fn run(c: ProwCommand) -> Result<()> {
    match c {
        ProwCommand::Reporter(a) => reporter(a),
    }
}

fn reporter(a: ReporterArgs) -> Result<()> {
    let settings = read_settings(&a.config)?;
    let publisher: Arc<dyn Publish> = match &a.publish_log {
        Some(path) => Arc::new(RecordingPublisher::open(path, a.publish_delay_ms)?),
        None => Arc::new(LogPublisher),
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

fn read_settings(path: &Path) -> Result<ControllerSettings> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the reporter config {}", path.display()))?;
    let c: ReporterConfig = serde_saphyr::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim()))?;
    settings_from(c).with_context(|| format!("bad reporter config {}", path.display()))
}

fn settings_from(c: ReporterConfig) -> Result<ControllerSettings> {
    if c.name.trim().is_empty() {
        bail!("name: must not be empty (it is the key in status.prev_report_states)");
    }
    let mut s = ControllerSettings::new(c.name.clone(), c.namespace.clone());
    if let Some(p) = &c.jobs.pattern {
        s.job_pattern = Some(
            controller::whole_name_pattern(p)
                .with_context(|| format!("jobs.pattern: bad regex {p:?}"))?,
        );
    }
    s.label_selector = c.jobs.labels.clone().filter(|l| !l.is_empty());
    if let Some(n) = c.concurrency {
        if n == 0 {
            bail!("concurrency: must be at least 1");
        }
        s.concurrency = n;
    }
    if let Some(l) = &c.listen {
        s.listen = Some(
            l.parse::<SocketAddr>()
                .with_context(|| format!("listen: {l:?} is not an address like 0.0.0.0:8080"))?,
        );
    }
    let le = c.leader_election.unwrap_or(LeaderElection {
        enabled: true,
        lease: None,
        namespace: None,
        lease_duration: None,
        renew_deadline: None,
        retry_period: None,
    });
    if le.enabled {
        let mut l = LeaseSettings::new(
            le.lease.unwrap_or_else(|| format!("{}-reporter", c.name)),
            le.namespace.unwrap_or_else(|| c.namespace.clone()),
            LeaseSettings::default_identity(),
        );
        if let Some(d) = &le.lease_duration {
            l.lease_duration = duration("leader_election.lease_duration", d)?;
        }
        if let Some(d) = &le.renew_deadline {
            l.renew_deadline = duration("leader_election.renew_deadline", d)?;
        }
        if let Some(d) = &le.retry_period {
            l.retry_period = duration("leader_election.retry_period", d)?;
        }
        s.leader_election = Some(l);
    }
    Ok(s)
}

/// "15s", "500ms", "2m".
fn duration(key: &str, v: &str) -> Result<Duration> {
    let v = v.trim();
    let (n, unit) = v.split_at(v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len()));
    let n: u64 = n
        .parse()
        .with_context(|| format!("{key}: {v:?} is not a duration like 15s, 500ms or 2m"))?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        _ => bail!("{key}: {v:?} is not a duration like 15s, 500ms or 2m"),
    })
}

/// Until the real publisher is wired (at merge): logs what it would publish.
struct LogPublisher;

impl Publish for LogPublisher {
    fn publish<'a>(&'a self, job: &'a FinishedJob) -> BoxFuture<'a, Result<Outcome, PublishError>> {
        Box::pin(async move {
            tracing::info!(prowjob = %job.name, job = %job.job, build = %job.build_id, state = job.state.as_str(), "would publish");
            Ok(Outcome::Skipped("no publisher in this build".into()))
        })
    }
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

    fn parse(yaml: &str) -> Result<ControllerSettings> {
        settings_from(serde_saphyr::from_str(yaml)?)
    }

    #[test]
    fn minimal_and_full() {
        let s = parse("name: covlens\n").unwrap();
        assert_eq!(s.namespace, "default");
        let l = s.leader_election.unwrap();
        assert_eq!(l.name, "covlens-reporter");
        assert_eq!(l.lease_duration, Duration::from_secs(15));
        let s = parse(
            "name: cov\nnamespace: prow\nartifacts: file:///a\ndashboards: [{name: e2e}]\n\
             jobs: {pattern: 'ci-.*-coverage', labels: created-by-prow=true}\nconcurrency: 8\n\
             listen: 127.0.0.1:9090\nleader_election: {lease: l, lease_duration: 3s, renew_deadline: 2s, retry_period: 500ms}\n",
        )
        .unwrap();
        assert!(s.job_pattern.unwrap().is_match("ci-e2e-coverage"));
        assert_eq!(s.label_selector.as_deref(), Some("created-by-prow=true"));
        assert_eq!(s.concurrency, 8);
        let l = s.leader_election.unwrap();
        assert_eq!((l.name.as_str(), l.namespace.as_str()), ("l", "prow"));
        assert_eq!(l.retry_period, Duration::from_millis(500));
        assert!(
            parse("name: c\nleader_election: {enabled: false}\n")
                .unwrap()
                .leader_election
                .is_none()
        );
    }

    #[test]
    fn errors_name_the_key() {
        let e = |y: &str| format!("{:#}", parse(y).unwrap_err());
        assert!(e("name: c\njobs: {pattern: '('}\n").contains("jobs.pattern"));
        assert!(e("name: c\nconcurrency: 0\n").contains("concurrency"));
        assert!(e("name: c\nlisten: here\n").contains("listen"));
        assert!(
            e("name: c\nleader_election: {retry_period: 2h}\n")
                .contains("leader_election.retry_period")
        );
        assert!(e("name: c\nnmespace: x\n").contains("nmespace"));
        assert!(e("name: ''\n").contains("name"));
    }
}

//! The ProwJob controller: Crier's reporting loop for covlens.
//!
//! kube-runtime's watcher follows the ProwJobs of one namespace (narrowed
//! by a label selector on the server and a job-name pattern here). A job
//! that is in a final state (success, failure, error, aborted) whose
//! `status.prev_report_states[<reporter>]` is not that state is queued by
//! name. A worker then reads the job again from the API server (the
//! watch's copy may be stale, e.g. just after this replica became leader),
//! decides again, calls [`Publish`], and records the state with a JSON
//! merge patch of `status.prev_report_states` carrying the
//! `metadata.resourceVersion` it read, as Crier does: a 409 Conflict
//! re-reads and decides again, a 404 means the job was deleted meanwhile
//! (logged), and a job once recorded is never reported again, also by a
//! restarted reporter. A state published but not yet recorded is
//! remembered (with the job's uid), so a failed or conflicting record is
//! retried without publishing twice.
//!
//! [`PublishError::Transient`] is retried with exponential backoff and not
//! recorded; [`PublishError::Permanent`] is recorded and counted as an
//! error. At most [`ControllerSettings::concurrency`] jobs are published at
//! once, and never one job by two workers.
//!
//! With [`ControllerSettings::leader_election`], replicas elect a leader
//! with a `coordination.k8s.io/v1` Lease and only the leader reports;
//! losing the lease stops its workers at once (an interrupted publish is
//! redone by the next leader: publishing is idempotent).
//!
//! The watcher relists after an expired watch (410 Gone) and retries with
//! backoff while the API server is away. `/healthz`, `/readyz` (the watch
//! has listed every job and leader election has reached the API server)
//! and Prometheus `/metrics` are served on [`ControllerSettings::listen`].

mod http;
mod lease;
mod metrics;
mod queue;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

// Names and messages carry what ProwJobs and pull requests' artifacts say:
// logged with control and bidi characters escaped.
use covlens_core::printable::printable as p;
use futures_util::StreamExt;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher;
use kube::{Api, Client};
use regex::Regex;
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use self::metrics::Metrics;
use self::queue::WorkQueue;
use crate::config::Config;
use crate::prowjob::ProwJob;
use crate::publish::{FinalState, Outcome, Publish, PublishError};

/// What the controller needs to know; [`ControllerSettings::from_config`]
/// builds it from the reporter's configuration.
#[derive(Clone, Debug)]
pub struct ControllerSettings {
    /// This reporter's key in `status.prev_report_states`.
    pub reporter_name: String,
    /// The namespace whose ProwJobs are watched (Prow's `prowjob_namespace`).
    pub namespace: String,
    /// Only jobs whose `spec.job` this matches are reported (see
    /// [`whole_name_pattern`]); `None`: every job.
    pub job_pattern: Option<Regex>,
    /// A Kubernetes label selector for the watch (e.g.
    /// `created-by-prow=true,prow.k8s.io/type=periodic`); `None`: all.
    pub label_selector: Option<String>,
    /// Jobs published at the same time.
    pub concurrency: usize,
    /// First delay before publishing again after a transient error; it
    /// doubles up to [`ControllerSettings::retry_max`].
    pub retry_initial: Duration,
    /// The longest delay between two tries.
    pub retry_max: Duration,
    /// `None`: this is the only replica and always reports.
    pub leader_election: Option<LeaseSettings>,
    /// Where `/healthz`, `/readyz` and `/metrics` are served; `None`: not.
    pub listen: Option<SocketAddr>,
}

impl ControllerSettings {
    /// Settings with the defaults: every job, 4 publishes at once, retries
    /// from 1 s to 5 min, no leader election, no HTTP server.
    pub fn new(
        reporter_name: impl Into<String>,
        namespace: impl Into<String>,
    ) -> ControllerSettings {
        ControllerSettings {
            reporter_name: reporter_name.into(),
            namespace: namespace.into(),
            job_pattern: None,
            label_selector: None,
            concurrency: 4,
            retry_initial: Duration::from_secs(1),
            retry_max: Duration::from_secs(300),
            leader_election: None,
            listen: None,
        }
    }

    /// The controller's part of the reporter's configuration: the jobs it
    /// names and those `selection.jobs` matches, the label selector, the
    /// concurrency, the HTTP address and the lease.
    pub fn from_config(c: &Config) -> Result<ControllerSettings, ControllerError> {
        let mut s = ControllerSettings::new(c.name.clone(), c.namespace.clone());
        let named: Vec<String> = c.configured_jobs().into_iter().map(regex::escape).collect();
        let mut pattern = format!("^(?:{})$", named.join("|"));
        if let Some(re) = &c.selection.jobs {
            pattern = format!("{pattern}|{}", re.as_str());
        }
        s.job_pattern = Some(Regex::new(&pattern).map_err(ControllerError::JobSelection)?);
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

    fn validate(&self) -> Result<(), ControllerError> {
        let bad = |m: String| Err(ControllerError::Settings(m));
        if self.reporter_name.is_empty() {
            return bad("the reporter name (the key in prev_report_states) is empty".into());
        }
        if self.namespace.is_empty() {
            return bad("the namespace is empty".into());
        }
        if self.concurrency == 0 {
            return bad("concurrency must be at least 1".into());
        }
        if self.retry_initial.is_zero() || self.retry_max < self.retry_initial {
            return bad("retry delays: need 0 < initial <= max".into());
        }
        if let Some(l) = &self.leader_election {
            if l.name.is_empty() || l.namespace.is_empty() || l.identity.is_empty() {
                return bad(
                    "leader election: the lease name, namespace and identity must not be empty"
                        .into(),
                );
            }
            if l.retry_period.is_zero()
                || l.renew_deadline <= l.retry_period
                || l.lease_duration <= l.renew_deadline
                || l.lease_duration < Duration::from_secs(1)
            {
                return bad(format!(
                    "leader election: need retry period ({:?}) < renew deadline ({:?}) < lease duration ({:?}), \
                     and a lease duration of at least 1 s",
                    l.retry_period, l.renew_deadline, l.lease_duration
                ));
            }
        }
        Ok(())
    }
}

/// The Lease that elects the reporting replica.
#[derive(Clone, Debug)]
pub struct LeaseSettings {
    /// `metadata.name` of the Lease.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// This replica's `holderIdentity` (see [`LeaseSettings::default_identity`]).
    pub identity: String,
    /// How long a lease not renewed stays the holder's (whole seconds).
    pub lease_duration: Duration,
    /// The holder stops reporting when it could not renew for this long.
    pub renew_deadline: Duration,
    /// Time between two attempts to acquire or renew.
    pub retry_period: Duration,
}

impl LeaseSettings {
    /// client-go's defaults: 15 s lease, 10 s renew deadline, 2 s retry.
    pub fn new(
        name: impl Into<String>,
        namespace: impl Into<String>,
        identity: impl Into<String>,
    ) -> LeaseSettings {
        LeaseSettings {
            name: name.into(),
            namespace: namespace.into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }

    /// `$POD_NAME` when set (the Deployment passes it through the downward
    /// API), else `<hostname>-<pid>`.
    pub fn default_identity() -> String {
        if let Ok(pod) = std::env::var("POD_NAME")
            && !pod.is_empty()
        {
            return pod;
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        format!("{host}-{}", std::process::id())
    }
}

/// A pattern that must match a job's whole name (`^(?:PATTERN)$`).
pub fn whole_name_pattern(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

/// Installs rustls' ring provider process-wide unless one is installed:
/// kube builds its TLS config with the process default, and a binary that
/// also links another provider (reqwest, object_store) would panic at the
/// first client. Call it before building the [`Client`].
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race against another installer is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// Completes on SIGTERM (what Kubernetes sends) or SIGINT: the
/// `shutdown` of [`run`].
pub async fn shutdown_signal() {
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

/// Why the controller could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControllerError {
    /// The settings contradict themselves.
    #[error("invalid reporter settings: {0}")]
    Settings(String),
    /// The configured jobs make no valid pattern together.
    #[error("the job selection")]
    JobSelection(#[source] regex::Error),
    /// The HTTP server's address cannot be bound.
    #[error("cannot listen on {addr}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Runs the controller until `shutdown` completes: then stops reporting,
/// releases the lease and returns.
pub async fn run(
    client: Client,
    settings: ControllerSettings,
    publisher: Arc<dyn Publish>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ControllerError> {
    run_with_metrics(
        client,
        settings,
        publisher,
        Arc::new(Metrics::default()),
        shutdown,
    )
    .await
}

/// [`run`], counting into `metrics` (which the caller may read).
pub async fn run_with_metrics(
    client: Client,
    settings: ControllerSettings,
    publisher: Arc<dyn Publish>,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ControllerError> {
    settings.validate()?;
    let listener = match settings.listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| ControllerError::Listen { addr, source })?,
        ),
        None => None,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let lease = settings.leader_election.clone();
    let (leader_tx, mut leader_rx) = watch::channel(lease.is_none());
    let (elected_tx, elected_rx) = watch::channel(lease.is_none());
    let shared = Arc::new(Shared {
        metrics: metrics.clone(),
        elected: elected_rx,
    });
    if let Some(listener) = listener {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, "serving /healthz, /readyz and /metrics");
        }
        tokio::spawn(http::serve(listener, shared.clone(), stop_rx.clone()));
    }
    let core = Arc::new(Core {
        api: Api::namespaced(client.clone(), &settings.namespace),
        settings,
        publisher,
        metrics: metrics.clone(),
        published: Mutex::default(),
        candidates: Mutex::default(),
        attempts: Mutex::default(),
        current: Mutex::default(),
    });
    // Without leader election the sender stays here, so `changed` never
    // ends; with it, the elector owns it.
    let mut _leader_tx_kept = None;
    let elector = match lease {
        Some(l) => {
            let api = Api::namespaced(client, &l.namespace);
            let e = lease::Elector::new(api, l);
            Some(tokio::spawn(e.run(leader_tx, elected_tx, stop_rx.clone())))
        }
        None => {
            _leader_tx_kept = Some((leader_tx, elected_tx));
            None
        }
    };
    let watch_task = tokio::spawn(watch_loop(core.clone(), stop_rx.clone()));

    let mut term: Option<JoinSet<()>> = None;
    let mut elector_alive = true;
    tokio::pin!(shutdown);
    loop {
        // An elector that is gone (it only ends at shutdown, or by a
        // panic) leaves no lease behind it: stop reporting.
        let leading = *leader_rx.borrow_and_update() && elector_alive;
        metrics.leader.store(leading, Ordering::Relaxed);
        if leading && term.is_none() {
            term = Some(core.start_term());
        } else if !leading && let Some(t) = term.take() {
            core.end_term(t).await;
        }
        tokio::select! {
            r = leader_rx.changed(), if elector_alive => {
                if r.is_err() {
                    elector_alive = false;
                }
            }
            () = &mut shutdown => break,
        }
    }
    tracing::info!("shutting down");
    // Stop publishing before the lease is released, so the next leader
    // never overlaps with this one.
    if let Some(t) = term.take() {
        core.end_term(t).await;
    }
    stop_tx.send_replace(true);
    if let Some(e) = elector {
        let _ = e.await;
    }
    metrics.leader.store(false, Ordering::Relaxed);
    let _ = watch_task.await;
    Ok(())
}

/// What `/readyz` looks at.
pub(crate) struct Shared {
    metrics: Arc<Metrics>,
    elected: watch::Receiver<bool>,
}

impl Shared {
    fn not_ready(&self) -> Option<&'static str> {
        if !self.metrics.synced.load(Ordering::Relaxed) {
            return Some("the ProwJob watch has not listed the jobs yet");
        }
        if !*self.elected.borrow() {
            return Some("leader election has not reached the API server yet");
        }
        None
    }
}

struct Core {
    api: Api<ProwJob>,
    settings: ControllerSettings,
    publisher: Arc<dyn Publish>,
    metrics: Arc<Metrics>,
    /// name -> (uid, state): published, not yet recorded.
    published: Mutex<HashMap<String, (Option<String>, FinalState)>>,
    /// Names the watch says are final and not recorded (what a new leader
    /// starts with).
    candidates: Mutex<HashSet<String>>,
    /// name -> transient failures in a row.
    attempts: Mutex<HashMap<String, u32>>,
    /// The queue of the current leadership term.
    current: Mutex<Option<Arc<WorkQueue>>>,
}

/// What processing one job ended in.
enum Step {
    /// Nothing more to do for this job now.
    Done,
    /// Try again after a backoff.
    Retry,
}

impl Core {
    fn selected(&self, pj: &ProwJob) -> bool {
        self.settings
            .job_pattern
            .as_ref()
            .is_none_or(|re| re.is_match(&pj.spec.job))
    }

    /// Selected, final, and that state not recorded by this reporter.
    fn wants(&self, pj: &ProwJob) -> bool {
        self.selected(pj)
            && pj.final_state().is_some_and(|s| {
                pj.reported_state(&self.settings.reporter_name) != Some(s.as_str())
            })
    }

    fn enqueue(&self, name: &str) {
        if let Some(q) = self.current.lock().expect("lock").as_ref() {
            q.add(name);
            self.metrics
                .queue_depth
                .store(q.len() as u64, Ordering::Relaxed);
        }
    }

    fn observe(&self, pj: &ProwJob, init: Option<&mut HashSet<String>>) {
        let name = pj.name();
        if self.wants(pj) {
            match init {
                Some(buffer) => {
                    buffer.insert(name.to_string());
                }
                None => {
                    self.candidates
                        .lock()
                        .expect("lock")
                        .insert(name.to_string());
                }
            }
            self.enqueue(name);
        } else if init.is_none() {
            self.candidates.lock().expect("lock").remove(name);
        }
    }

    fn on_event(&self, event: watcher::Event<ProwJob>, init: &mut Option<HashSet<String>>) {
        match event {
            watcher::Event::Apply(pj) => self.observe(&pj, None),
            watcher::Event::Delete(pj) => {
                self.candidates.lock().expect("lock").remove(pj.name());
            }
            watcher::Event::Init => {
                tracing::debug!("listing ProwJobs");
                *init = Some(HashSet::new());
            }
            watcher::Event::InitApply(pj) => {
                let buffer = init.get_or_insert_with(HashSet::new);
                self.observe(&pj, Some(buffer));
            }
            watcher::Event::InitDone => {
                let buffer = init.take().unwrap_or_default();
                tracing::info!(to_report = buffer.len(), "listed ProwJobs; watching");
                *self.candidates.lock().expect("lock") = buffer;
                self.metrics.synced.store(true, Ordering::Relaxed);
            }
        }
    }

    fn start_term(self: &Arc<Self>) -> JoinSet<()> {
        let queue = Arc::new(WorkQueue::default());
        // Installed first: a job the watch reports meanwhile is queued too.
        *self.current.lock().expect("lock") = Some(queue.clone());
        let names: Vec<String> = self
            .candidates
            .lock()
            .expect("lock")
            .iter()
            .cloned()
            .collect();
        for name in &names {
            queue.add(name);
        }
        tracing::info!(
            queued = names.len(),
            workers = self.settings.concurrency,
            "reporting"
        );
        let mut set = JoinSet::new();
        for _ in 0..self.settings.concurrency {
            set.spawn(worker(self.clone(), queue.clone()));
        }
        set
    }

    async fn end_term(&self, mut set: JoinSet<()>) {
        *self.current.lock().expect("lock") = None;
        set.abort_all();
        while set.join_next().await.is_some() {}
        self.metrics.queue_depth.store(0, Ordering::Relaxed);
    }

    fn backoff(&self, name: &str) -> Duration {
        let mut attempts = self.attempts.lock().expect("lock");
        let n = attempts.entry(name.to_string()).or_default();
        *n = n.saturating_add(1);
        let base = self
            .settings
            .retry_initial
            .saturating_mul(1u32 << (*n - 1).min(20))
            .min(self.settings.retry_max);
        // Up to a quarter more, so that jobs failing together spread out.
        base + base.mul_f64(fastrand::f64() / 4.0)
    }

    /// Reads the job, decides, publishes and records, once.
    async fn process(&self, name: &str) -> Step {
        let reporter = self.settings.reporter_name.as_str();
        // Conflicts mean someone else wrote the job meanwhile: read again
        // and decide again, a bounded number of times.
        for _ in 0..16 {
            let pj = match self.api.get_opt(name).await {
                Ok(Some(pj)) => pj,
                Ok(None) => {
                    self.published.lock().expect("lock").remove(name);
                    return Step::Done;
                }
                Err(e) => {
                    self.metrics.error("api");
                    tracing::warn!(prowjob = name, error = %e, "cannot read the ProwJob");
                    return Step::Retry;
                }
            };
            let Some(state) = pj.final_state().filter(|_| self.selected(&pj)) else {
                return Step::Done;
            };
            if pj.reported_state(reporter) == Some(state.as_str()) {
                self.published.lock().expect("lock").remove(name);
                return Step::Done;
            }
            let uid = pj.metadata.uid.clone();
            let key = (uid.clone(), state);
            let done_before = self.published.lock().expect("lock").get(name) == Some(&key);
            if !done_before {
                let job = match pj.to_finished() {
                    Ok(job) => job,
                    Err(e) => {
                        tracing::warn!(prowjob = %p(name), job = %p(&pj.spec.job), error = %p(&e.to_string()), "not reported");
                        return Step::Done;
                    }
                };
                match self.publisher.publish(&job).await {
                    Ok(Outcome::Published(what)) => {
                        self.metrics.report(state.as_str(), "published");
                        tracing::info!(prowjob = %p(name), job = %p(&job.job), build = %p(&job.build_id), state = state.as_str(), "published: {}", p(&what));
                    }
                    Ok(Outcome::Skipped(why)) => {
                        self.metrics.report(state.as_str(), "skipped");
                        tracing::info!(prowjob = %p(name), job = %p(&job.job), build = %p(&job.build_id), state = state.as_str(), "nothing to publish: {}", p(&why));
                    }
                    Err(PublishError::Transient(e)) => {
                        self.metrics.error("publish_transient");
                        tracing::warn!(prowjob = %p(name), job = %p(&job.job), error = %p(&e), "publishing failed; will retry");
                        return Step::Retry;
                    }
                    Err(PublishError::Permanent(e)) => {
                        self.metrics.report(state.as_str(), "error");
                        self.metrics.error("publish_permanent");
                        tracing::error!(prowjob = %p(name), job = %p(&job.job), build = %p(&job.build_id), error = %p(&e), "publishing failed; recorded as reported");
                    }
                }
                self.published
                    .lock()
                    .expect("lock")
                    .insert(name.to_string(), key);
            }
            match self.record(name, &pj, state).await {
                Ok(()) => {
                    self.published.lock().expect("lock").remove(name);
                    if let Some(lag) = lag_seconds(pj.status.completion_time.as_deref()) {
                        self.metrics.lag(lag);
                    }
                    return Step::Done;
                }
                Err(kube::Error::Api(s)) if s.is_conflict() => {
                    self.metrics.conflict();
                    tracing::debug!(
                        prowjob = name,
                        "conflict recording the report; reading again"
                    );
                    continue;
                }
                Err(kube::Error::Api(s)) if s.is_not_found() => {
                    self.published.lock().expect("lock").remove(name);
                    self.metrics.deleted();
                    tracing::info!(
                        prowjob = name,
                        "deleted while being reported; nothing to record"
                    );
                    return Step::Done;
                }
                Err(e) => {
                    self.metrics.error("api");
                    tracing::warn!(prowjob = name, error = %e, "cannot record the report; will retry");
                    return Step::Retry;
                }
            }
        }
        Step::Retry
    }

    /// The merge patch Crier writes, guarded by the resourceVersion read.
    async fn record(&self, name: &str, pj: &ProwJob, state: FinalState) -> Result<(), kube::Error> {
        let patch = record_patch(
            &self.settings.reporter_name,
            pj.metadata.resource_version.as_deref(),
            state,
        );
        self.api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map(|_| ())
    }
}

/// `{"metadata": {"resourceVersion": RV}, "status": {"prev_report_states": {REPORTER: STATE}}}`.
fn record_patch(
    reporter: &str,
    resource_version: Option<&str>,
    state: FinalState,
) -> serde_json::Value {
    let mut patch = json!({"status": {"prev_report_states": {reporter: state.as_str()}}});
    if let Some(rv) = resource_version {
        patch["metadata"] = json!({"resourceVersion": rv});
    }
    patch
}

fn lag_seconds(completion: Option<&str>) -> Option<f64> {
    let t: Timestamp = completion?.parse().ok()?;
    let d = Timestamp::now().duration_since(t);
    Some(d.as_secs_f64())
}

async fn worker(core: Arc<Core>, queue: Arc<WorkQueue>) {
    loop {
        let name = queue.next().await;
        core.metrics
            .queue_depth
            .store(queue.len() as u64, Ordering::Relaxed);
        let step = core.process(&name).await;
        queue.done(&name);
        match step {
            Step::Done => {
                core.attempts.lock().expect("lock").remove(&name);
            }
            Step::Retry => {
                let delay = core.backoff(&name);
                tracing::debug!(prowjob = %name, ?delay, "retrying later");
                let weak = Arc::downgrade(&queue);
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    if let Some(q) = weak.upgrade() {
                        q.add(&name);
                    }
                });
            }
        }
    }
}

/// Completes when the stop flag is set (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn watch_loop(core: Arc<Core>, mut stop: watch::Receiver<bool>) {
    let mut config = watcher::Config::default();
    if let Some(labels) = &core.settings.label_selector {
        config = config.labels(labels);
    }
    let stream = watcher(core.api.clone(), config).default_backoff();
    tokio::pin!(stream);
    let mut init = None;
    loop {
        tokio::select! {
            event = stream.next() => match event {
                Some(Ok(event)) => core.on_event(event, &mut init),
                Some(Err(e)) => {
                    core.metrics.watch_restart();
                    tracing::warn!(error = %e, "ProwJob watch failed; retrying");
                }
                None => return,
            },
            () = stopped(&mut stop) => return,
        }
    }
}

#[cfg(test)]
mod tests;

//! The async driver: watch + periodic rescan, background uploads with
//! backoff, and the last collection on SIGTERM or the Prow marker.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::{Mutex, Notify, mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior, sleep, sleep_until};

use crate::config::Config;
use crate::dest::Dest;
use crate::error::{Chain, CollectorError, Result, esc};
use crate::metrics::{self, Metrics};
use crate::scan::{Collector, ScanReport};

/// Why collection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// SIGTERM/SIGINT, or the caller's shutdown future.
    Shutdown,
    /// A Prow marker file appeared.
    Marker(PathBuf),
    /// `--once`.
    Once,
}

/// The outcome of [`run`].
#[derive(Clone, Debug)]
pub struct Summary {
    /// Why it stopped.
    pub reason: StopReason,
    /// Snapshots still staged but not uploaded (they stay in the staging
    /// directory for a later run).
    pub pending: usize,
    /// Counters at exit.
    pub metrics: Arc<Metrics>,
    /// Why the last scan failed, if it did: the source's last state may
    /// not have been staged.
    pub scan_error: Option<Arc<CollectorError>>,
    /// The last upload error, when snapshots are left pending.
    pub upload_error: Option<Arc<CollectorError>>,
    /// The staging directory (where pending snapshots stay).
    pub staging: PathBuf,
}

impl Summary {
    /// An error if the collection did not end cleanly: snapshots left
    /// pending, or a failed last scan.
    pub fn check(&self) -> Result<()> {
        if self.pending > 0 {
            return Err(CollectorError::NotUploaded {
                pending: self.pending,
                staging: self.staging.clone(),
                source: self.upload_error.clone(),
            });
        }
        match &self.scan_error {
            Some(e) => Err(CollectorError::LastScan(e.clone())),
            None => Ok(()),
        }
    }
}

type Shared = Arc<Mutex<Collector>>;

/// Runs until SIGTERM/SIGINT or a marker, then collects and uploads one
/// last time within `cfg.grace`.
pub async fn run(cfg: Config) -> Result<Summary> {
    use tokio::signal::unix::{SignalKind, signal};
    let sig_err = |e| CollectorError::io("installing signal handler", "SIGTERM", e);
    let mut term = signal(SignalKind::terminate()).map_err(sig_err)?;
    let mut int = signal(SignalKind::interrupt()).map_err(sig_err)?;
    let shutdown = async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: last collection"),
            _ = int.recv() => tracing::info!("SIGINT: last collection"),
        }
    };
    run_until(cfg, shutdown).await
}

/// [`run`] with the shutdown trigger supplied by the caller.
pub async fn run_until(cfg: Config, shutdown: impl Future<Output = ()>) -> Result<Summary> {
    let metrics = Arc::new(Metrics::default());
    let dest = Dest::parse(&cfg.dest)?;
    let collector = tokio::task::spawn_blocking({
        let (cfg, m) = (cfg.clone(), metrics.clone());
        move || Collector::open(cfg, m)
    })
    .await
    .map_err(|source| CollectorError::Task {
        what: "startup",
        source,
    })??;
    tracing::info!(
        watch = %esc(&cfg.watch),
        dest = %dest.describe(),
        root = collector.root(),
        staging = %esc(&cfg.staging_dir()),
        "collector started"
    );
    dest.cleanup(collector.root());
    let shared: Shared = Arc::new(Mutex::new(collector));
    let _server = match cfg.listen {
        Some(addr) => {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| CollectorError::io("listening on", addr.to_string(), e))?;
            tracing::info!(addr = %l.local_addr().map_or(addr, |a| a), "serving /healthz and /metrics");
            Some(AbortOnDrop(tokio::spawn(metrics::serve(
                l,
                metrics.clone(),
            ))))
        }
        None => None,
    };

    let reason = if cfg.once {
        StopReason::Once
    } else {
        watch_loop(&cfg, &shared, &dest, &metrics, shutdown).await
    };
    metrics.finishing.store(true, Ordering::Relaxed);
    let deadline = Instant::now() + cfg.grace;
    // Half the grace period for the last scans, the rest for uploads.
    let scan_error = last_collection(&cfg, &shared, Instant::now() + cfg.grace / 2)
        .await
        .err()
        .map(Arc::new);
    let (pending, upload_error) = upload_until(&shared, &dest, &metrics, &cfg, deadline).await;
    if pending > 0 {
        tracing::error!(
            pending,
            "grace period over; snapshots left in the staging directory"
        );
    }
    tracing::info!(
        ?reason,
        taken = metrics.snapshots_taken.load(Ordering::Relaxed),
        uploaded = metrics.snapshots_uploaded.load(Ordering::Relaxed),
        "collector stopped"
    );
    Ok(Summary {
        reason,
        pending,
        metrics,
        scan_error,
        upload_error: upload_error.map(Arc::new),
        staging: cfg.staging_dir(),
    })
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn scan(shared: &Shared) -> Result<ScanReport> {
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || {
        let mut c = shared.blocking_lock();
        c.scan(std::time::Instant::now())
    })
    .await
    .map_err(|source| CollectorError::Task {
        what: "scan",
        source,
    })?
}

/// Watch events are hints (the rescan is the source of truth); only writes
/// and namespace changes count — our own reads must not trigger scans.
fn relevant(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        _ => true,
    }
}

fn start_watcher(cfg: &Config, tx: mpsc::Sender<()>) -> Option<notify::RecommendedWatcher> {
    let mut w = match notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        // Overflow and errors also wake a scan.
        if res.as_ref().map_or(true, |e| relevant(&e.kind)) {
            let _ = tx.try_send(());
        }
    }) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "no file watcher; relying on periodic rescans");
            return None;
        }
    };
    let mut dirs = vec![cfg.watch_dir()];
    dirs.extend(
        cfg.markers
            .iter()
            .filter_map(|m| m.parent().map(|p| p.to_path_buf())),
    );
    dirs.dedup();
    for d in dirs {
        if let Err(e) = w.watch(&d, RecursiveMode::NonRecursive) {
            let e = CollectorError::Watch { path: d, source: e };
            tracing::warn!(error = %Chain(&e), "not watched; relying on periodic rescans");
        }
    }
    Some(w)
}

async fn watch_loop(
    cfg: &Config,
    shared: &Shared,
    dest: &Dest,
    metrics: &Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) -> StopReason {
    let (tx, mut rx) = mpsc::channel(1);
    let _watcher = start_watcher(cfg, tx);
    let wake = Arc::new(Notify::new());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut uploader = AbortOnDrop(tokio::spawn(upload_loop(
        shared.clone(),
        dest.clone(),
        metrics.clone(),
        wake.clone(),
        stop_rx,
        (cfg.retry_min, cfg.retry_max),
    )));
    let reason = watch_events(cfg, shared, &wake, &mut rx, shutdown).await;
    // Let an upload in flight finish rather than cancel it half way: a
    // cancelled local put would keep writing in its blocking thread and
    // race the last uploads.
    let _ = stop_tx.send(true);
    if tokio::time::timeout(cfg.grace / 4, &mut uploader.0)
        .await
        .is_err()
    {
        tracing::warn!("background upload still running; abandoned");
    }
    reason
}

async fn watch_events(
    cfg: &Config,
    shared: &Shared,
    wake: &Notify,
    rx: &mut mpsc::Receiver<()>,
    shutdown: impl Future<Output = ()>,
) -> StopReason {
    wake.notify_one(); // upload what a previous run left staged
    let mut ticker = tokio::time::interval(cfg.rescan);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    let mut recheck: Option<Instant> = None;
    loop {
        let settle = async {
            match recheck {
                Some(t) => sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = &mut shutdown => return StopReason::Shutdown,
            _ = ticker.tick() => {}
            // While a file settles, events only re-stat it: the recheck
            // scans anyway (an in-place writer sends hundreds per write).
            Some(()) = rx.recv(), if recheck.is_none() => {}
            _ = settle => {}
        }
        recheck = None;
        match scan(shared).await {
            Ok(rep) => {
                if rep.staged > 0 {
                    wake.notify_one();
                }
                if rep.unsettled > 0 {
                    // Look again once the file had time to settle.
                    recheck = Some(Instant::now() + cfg.settle + Duration::from_millis(10));
                }
            }
            Err(e) => tracing::warn!(error = %Chain(&e), "scan failed"),
        }
        if let Some(m) = shared.lock().await.marker_seen() {
            tracing::info!(marker = %esc(&m), "Prow marker present: last collection");
            return StopReason::Marker(m);
        }
    }
}

/// Scans until nothing is left unsettled or the deadline passes, then ships
/// a held text snapshot (unconfirmed: no other write will come).
async fn last_collection(cfg: &Config, shared: &Shared, deadline: Instant) -> Result<()> {
    loop {
        match scan(shared).await {
            Ok(rep) if rep.unsettled == 0 => break,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %Chain(&e), "last scan failed");
                return Err(e);
            }
        }
        let next = Instant::now() + cfg.settle + Duration::from_millis(10);
        if next > deadline {
            tracing::warn!("files still changing at the end of the grace period");
            break;
        }
        sleep_until(next).await;
    }
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || shared.blocking_lock().ship_held())
        .await
        .map_err(|source| CollectorError::Task {
            what: "scan",
            source,
        })?
        .map(drop)
}

async fn upload_loop(
    shared: Shared,
    dest: Dest,
    metrics: Arc<Metrics>,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
    (retry_min, retry_max): (Duration, Duration),
) {
    let mut backoff = retry_min;
    while !*stop.borrow() {
        let pause = match upload_once(&shared, &dest, &metrics).await {
            Ok(()) => {
                backoff = retry_min;
                None
            }
            Err(e) => {
                tracing::warn!(error = %Chain(&e), retry_in = ?backoff, "upload failed; snapshots stay staged");
                let p = backoff;
                backoff = (backoff * 2).min(retry_max);
                Some(p)
            }
        };
        tokio::select! {
            _ = stop.changed() => return,
            _ = wake.notified(), if pause.is_none() => {}
            _ = sleep(pause.unwrap_or_default()), if pause.is_some() => {}
        }
    }
}

/// Uploads everything pending, then deletes superseded keys.
async fn upload_once(shared: &Shared, dest: &Dest, metrics: &Metrics) -> Result<()> {
    let uploads = shared.lock().await.uploads();
    for u in uploads {
        if !shared.lock().await.uploading(&u)? {
            continue;
        }
        let res = async {
            if !dest.put_file(&u.key, &u.object).await? {
                return Ok(None);
            }
            dest.put(&u.meta_key, u.metadata.clone()).await?;
            Ok(Some(u.entry.size + u.metadata.len() as u64))
        }
        .await;
        let n = match res {
            Ok(Some(n)) => n,
            // Dropped meanwhile (superseded while we were uploading).
            Ok(None) => continue,
            Err(e) => {
                Metrics::add(&metrics.upload_errors, 1);
                return Err(e);
            }
        };
        shared.lock().await.uploaded(&u)?;
        Metrics::add(&metrics.snapshots_uploaded, 1);
        Metrics::add(&metrics.bytes_uploaded, n);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        metrics.last_upload_unix.store(now, Ordering::Relaxed);
        tracing::info!(key = %esc(&u.key), bytes = n, "uploaded");
    }
    let retire = shared.lock().await.retire_list();
    for key in retire {
        if let Err(e) = dest.delete(&key).await {
            Metrics::add(&metrics.upload_errors, 1);
            return Err(e);
        }
        shared.lock().await.retired(&key)?;
        Metrics::add(&metrics.snapshots_retired, 1);
    }
    Ok(())
}

/// Uploads with retries until done or `deadline`; returns what is left
/// and the last error.
async fn upload_until(
    shared: &Shared,
    dest: &Dest,
    metrics: &Metrics,
    cfg: &Config,
    deadline: Instant,
) -> (usize, Option<CollectorError>) {
    let mut backoff = cfg.retry_min;
    let mut last = None;
    loop {
        let attempt = tokio::time::timeout_at(deadline, upload_once(shared, dest, metrics)).await;
        match attempt {
            Ok(Ok(())) => return (0, None),
            Ok(Err(e)) => {
                tracing::warn!(error = %Chain(&e), "upload failed during the last collection");
                last = Some(e);
            }
            Err(_) => break,
        }
        if Instant::now() + backoff >= deadline {
            break;
        }
        sleep(backoff).await;
        backoff = (backoff * 2).min(cfg.retry_max);
    }
    (shared.lock().await.uploads().len(), last)
}

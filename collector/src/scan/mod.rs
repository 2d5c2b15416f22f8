//! The synchronous core: scan the source, judge what is found, stage what
//! is complete. [`crate::run`] drives it from the async loop.
//!
//! [`Collector`] holds what both kinds of source share: the stability
//! checks, rejections, staging and the upload list. What differs lives
//! beside it: [`covdata`] walks a GOCOVERDIR and splits each pid's counter
//! files into process generations (decoded by [`counters`]), [`text`]
//! reads a text profile and has it judged by [`crate::text`].

mod counters;
mod covdata;
mod text;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use covlens_core::covdata::read_if_magic;
use covlens_prow::layout::SnapshotMetadata;

use self::counters::CounterData;
use crate::config::{Config, SourceKind};
use crate::error::{CollectorError, Result, esc};
use crate::fsat::open_source;
use crate::metrics::Metrics;
use crate::staging::{Entry, NewSnapshot, Object, Sig, Staged, Staging, State};
use crate::text::{Reference, TextJudge};

/// What one scan did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ScanReport {
    /// Snapshots staged.
    pub staged: usize,
    /// Files still changing or not yet settled: scan again soon.
    pub unsettled: usize,
    /// Files rejected (corrupt, partial); never shipped.
    pub rejected: usize,
    /// Snapshots that did not fit into staging; retried next scan.
    pub deferred: usize,
    /// Text snapshots with a new layout waiting for confirmation.
    pub held: usize,
}

/// One upload to do.
#[derive(Clone, Debug)]
pub(crate) struct Upload {
    /// The staged entry.
    pub entry: Entry,
    /// Destination key of the snapshot.
    pub key: String,
    /// The staged copy.
    pub object: Object,
    /// Destination key of the metadata JSON.
    pub meta_key: String,
    /// The metadata JSON.
    pub metadata: Vec<u8>,
}

/// Scans one source into the staging directory.
pub(crate) struct Collector {
    cfg: Config,
    kind: SourceKind,
    root: String,
    staging: Staging,
    metrics: Arc<Metrics>,
    seen: HashMap<PathBuf, (Sig, Instant)>,
    rejected: HashSet<(PathBuf, Sig)>,
    text: Option<TextJudge>,
    /// The text file's last write that was judged.
    text_last: Option<Sig>,
    /// The last write read before it settled and not decided then.
    text_tried: Option<Sig>,
    /// The held text snapshot (a new layout waiting for confirmation):
    /// its write and digest, shipped unconfirmed at shutdown.
    text_held: Option<(Sig, String)>,
    counter_refs: HashMap<String, (u64, CounterData)>,
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Why a path under a coverage file's name is not read: it is no regular
/// file (logged once, counted as rejected).
pub(super) fn not_a_file(m: &std::fs::Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_symlink() {
        "a symbolic link (links on the shared volume are not followed)"
    } else if t.is_dir() {
        "a directory, not a file"
    } else {
        "not a regular file (a FIFO, socket or device)"
    }
}

impl Collector {
    /// Opens the staging directory (resuming its journal).
    pub(crate) fn open(cfg: Config, metrics: Arc<Metrics>) -> Result<Collector> {
        cfg.validate()?;
        cfg.check_watch()?;
        // `auto` and nothing there yet: decided when the path appears (a
        // component may create its GOCOVERDIR itself, after the sidecar
        // started).
        let kind = if cfg.kind == SourceKind::Auto && !cfg.watch.exists() {
            SourceKind::Auto
        } else {
            cfg.resolved_kind()
        };
        let staging = Staging::open(&cfg.staging_dir(), cfg.max_staging_bytes, cfg.keep_history)?;
        let root = cfg.root();
        let mut c = Collector {
            cfg,
            kind,
            root,
            staging,
            metrics,
            seen: HashMap::new(),
            rejected: HashSet::new(),
            text: None,
            text_last: None,
            text_tried: None,
            text_held: None,
            counter_refs: HashMap::new(),
        };
        if kind == SourceKind::Text {
            c.start_text();
        }
        c.update_gauges();
        Ok(c)
    }

    /// The text judge, resuming from the staged reference.
    fn start_text(&mut self) {
        let reference = self
            .staging
            .reference(&self.text_source())
            .map(|(e, object)| (Reference::File(object), !e.info.unconfirmed));
        let confirmed = reference.as_ref().is_some_and(|r| r.1);
        self.text = Some(TextJudge::with_reference(reference.map(|r| r.0), confirmed));
    }

    /// With `auto`, decides the kind once the watched path exists; `false`
    /// while it does not.
    fn decide_kind(&mut self) -> bool {
        if self.kind != SourceKind::Auto {
            return true;
        }
        if !self.cfg.watch.exists() {
            return false;
        }
        self.kind = self.cfg.resolved_kind();
        tracing::info!(path = %esc(&self.cfg.watch), kind = ?self.kind, "the watched path appeared");
        if self.kind == SourceKind::Text {
            self.start_text();
        }
        true
    }

    /// The configuration.
    #[cfg(test)]
    pub(crate) fn config(&self) -> &Config {
        &self.cfg
    }

    /// Key prefix of everything shipped.
    pub(crate) fn root(&self) -> &str {
        &self.root
    }

    /// The staging directory's state.
    #[cfg(test)]
    pub(crate) fn staging(&self) -> &Staging {
        &self.staging
    }

    fn text_source(&self) -> String {
        format!("text:{}", self.cfg.watch.display())
    }

    /// The first configured marker file that exists.
    pub(crate) fn marker_seen(&self) -> Option<PathBuf> {
        self.cfg.markers.iter().find(|m| m.exists()).cloned()
    }

    fn update_gauges(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        self.metrics
            .staging_bytes
            .store(self.staging.used_bytes(), Relaxed);
        self.metrics
            .pending
            .store(self.staging.pending().len() as u64, Relaxed);
    }

    /// Looks at the source once and stages every complete new snapshot.
    pub(crate) fn scan(&mut self, now: Instant) -> Result<ScanReport> {
        Metrics::add(&self.metrics.scans, 1);
        let mut rep = ScanReport::default();
        let res = if !self.decide_kind() {
            Ok(())
        } else if self.kind == SourceKind::Covdata {
            self.scan_covdata(now, &mut rep)
        } else {
            self.scan_text(now, &mut rep)
        };
        if res.is_err() {
            Metrics::add(&self.metrics.scan_errors, 1);
        }
        tracing::trace!(?rep, ?res, "scan");
        self.update_gauges();
        res.map(|()| rep)
    }

    /// True when the file has had the same signature for the settle delay.
    fn stable(&mut self, path: &Path, sig: Sig, now: Instant) -> bool {
        match self.seen.get(path) {
            Some((s, t)) if *s == sig => now.duration_since(*t) >= self.cfg.settle,
            _ => {
                self.seen.insert(path.to_path_buf(), (sig, now));
                self.cfg.settle.is_zero()
            }
        }
    }

    /// Copies a file; `None` if it changed or vanished meanwhile. Files are
    /// read, never mapped (a live writer may truncate them), and never
    /// through a link (see [`open_source`]). A file that does not start
    /// with `magic` is read no further: its first bytes are returned, for
    /// the decoder to refuse, so a stray file of any size under a coverage
    /// file's name costs nothing.
    fn copy(path: &Path, sig: Sig, magic: &[u8; 4]) -> Result<Option<Vec<u8>>> {
        let io_err = |e| CollectorError::io("reading", path, e);
        let mut f = match open_source(path) {
            Ok((f, m)) if Sig::of(&m) == sig => f,
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(e)),
        };
        let data = read_if_magic(&mut f, magic, sig.len).map_err(io_err)?;
        if !data.starts_with(magic) {
            return Ok(Some(data));
        }
        let after = Sig::of(&f.metadata().map_err(io_err)?);
        Ok((after == sig && data.len() as u64 == sig.len).then_some(data))
    }

    /// Whether a file is larger than the staging directory may hold: it
    /// could never be shipped, and is not read (it is rejected once it
    /// stopped changing).
    fn too_large(&mut self, path: &Path, sig: Sig, now: Instant, rep: &mut ScanReport) -> bool {
        if sig.len <= self.cfg.max_staging_bytes {
            return false;
        }
        let reason = format!(
            "{} bytes, more than the staging directory holds ({} bytes, --max-staging-bytes)",
            sig.len, self.cfg.max_staging_bytes
        );
        self.reject_when_settled(path, sig, now, &reason, rep);
        true
    }

    /// Binary files check their own completeness (lengths in the header, a
    /// footer exactly at the end), so a file that passes needs no settle
    /// delay — important when a fast writer deletes superseded snapshots
    /// within one. A file that fails is rejected only once it stopped
    /// changing: an in-place writer may still be at work. Returns whether
    /// it was rejected (else it counts as unsettled).
    fn reject_when_settled(
        &mut self,
        path: &Path,
        sig: Sig,
        now: Instant,
        reason: &str,
        rep: &mut ScanReport,
    ) -> bool {
        if self.stable(path, sig, now) {
            self.reject(path, sig, reason, rep);
            true
        } else {
            rep.unsettled += 1;
            false
        }
    }

    fn reject(&mut self, path: &Path, sig: Sig, reason: &str, rep: &mut ScanReport) {
        if self.rejected.insert((path.to_path_buf(), sig)) {
            Metrics::add(&self.metrics.rejected_corrupt, 1);
            tracing::warn!(path = %esc(path), reason = %esc(reason), "rejected snapshot; not shipped");
            rep.rejected += 1;
        }
    }

    fn stage(
        &mut self,
        snap: NewSnapshot,
        rep: &mut ScanReport,
        commit: impl FnOnce(&mut State),
    ) -> Result<bool> {
        let key = snap.key.clone();
        match self.staging.stage_with(snap, commit) {
            Ok(Staged::New { dropped }) => {
                Metrics::add(&self.metrics.snapshots_taken, 1);
                Metrics::add(&self.metrics.staging_dropped, dropped as u64);
                tracing::info!(key = %esc(&key), "snapshot staged");
                rep.staged += 1;
                Ok(true)
            }
            Ok(Staged::Duplicate) => Ok(true),
            Err(CollectorError::SourceChanged(path)) => {
                tracing::debug!(path = %esc(&path), "changed while being staged; retried");
                rep.unsettled += 1;
                Ok(false)
            }
            Err(CollectorError::StagingFull { need, used, limit }) => {
                Metrics::add(&self.metrics.staging_full, 1);
                tracing::warn!(key = %esc(&key), need, used, limit, "staging full; snapshot deferred");
                rep.deferred += 1;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Pending uploads, in order.
    pub(crate) fn uploads(&self) -> Vec<Upload> {
        self.staging
            .pending()
            .into_iter()
            .map(|e| {
                let metadata = SnapshotMetadata {
                    identity: self.cfg.identity.clone(),
                    key: e.key.clone(),
                    kind: e.kind,
                    xxh3_128: e.digest.clone(),
                    size: e.size,
                    source: e.info.clone(),
                };
                Upload {
                    object: self.staging.object(&e.digest),
                    metadata: metadata.to_json(),
                    key: e.key.clone(),
                    meta_key: e.meta_key.clone(),
                    entry: e,
                }
            })
            .collect()
    }

    /// Records that an upload starts (before the put: see
    /// [`Entry::attempted`]); false if the snapshot was superseded meanwhile
    /// and must not be put.
    pub(crate) fn uploading(&mut self, u: &Upload) -> Result<bool> {
        self.staging.mark_attempted(&u.entry)
    }

    /// Records a finished upload.
    pub(crate) fn uploaded(&mut self, u: &Upload) -> Result<()> {
        self.staging.mark_uploaded(&u.entry)?;
        self.update_gauges();
        Ok(())
    }

    /// Destination keys superseded after upload, to delete.
    pub(crate) fn retire_list(&self) -> Vec<String> {
        self.staging.retire_list()
    }

    /// Records a finished deletion.
    pub(crate) fn retired(&mut self, key: &str) -> Result<()> {
        self.staging.retired(key)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::config::TextWriter;
    use std::fs;
    use std::time::Duration;

    /// A collector of `kind` with no settle delay, on a fresh directory
    /// (`cov/`, or the text file `cov/p.cov`).
    pub(crate) fn setup(kind: SourceKind) -> (tempfile::TempDir, Collector) {
        let t = tempfile::tempdir().unwrap();
        let watch = t.path().join("cov");
        fs::create_dir(&watch).unwrap();
        let mut cfg = Config::new(
            if kind == SourceKind::Text {
                watch.join("p.cov")
            } else {
                watch.clone()
            },
            t.path().join("dest").display().to_string(),
        );
        cfg.kind = kind;
        cfg.settle = Duration::ZERO;
        cfg.text_writer = TextWriter::Rename;
        cfg.staging = Some(t.path().join("staging"));
        cfg.identity =
            crate::config::Identity::from_lookup(|k| (k == "POD_NAME").then(|| "pod".into()));
        let c = Collector::open(cfg, Arc::default()).unwrap();
        (t, c)
    }

    /// The last path segments of the pending uploads' keys.
    pub(crate) fn pending_keys(c: &Collector) -> Vec<String> {
        c.uploads()
            .into_iter()
            .map(|u| u.key.rsplit('/').next().unwrap().to_string())
            .collect()
    }
}

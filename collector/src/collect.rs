//! The synchronous core: scan the source, judge what is found, stage what
//! is complete. [`crate::run`] drives it from the async loop.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io::Seek;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use covlens_core::covdata::names::{FileName, check_meta_header, is_runtime_hash};
use covlens_prow::layout::{
    SnapshotKind, SnapshotMetadata, SnapshotSource, covdata_key, metadata_key, text_key,
};
use xxhash_rust::xxh3::Xxh3;

use crate::config::{Config, SourceKind, TextWriter};
use crate::covdata::{CounterData, continues, decode_counters};
use crate::error::{CollectorError, Result};
use crate::metrics::Metrics;
use crate::staging::{
    CounterSource, Entry, NewSnapshot, Payload, Sig, Staged, Staging, State, digest_of,
};
use crate::text::{Compared, ReadError, Reference, Shape, TextJudge, Verdict, compare_lines};

/// Generation `g` of pid `p` is shipped as pid `p + g·2^32`: distinct from
/// real pids and from covflush's synthetic ids (`p + k·2^22`, k < 1024), so
/// "newest file per (hash, pid)" keeps one file per process.
const GENERATION_SHIFT: u32 = 32;

/// A counter file found by a scan: (nanos, path, signature).
type CounterFile = (u64, PathBuf, Sig);

/// What one scan did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanReport {
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
pub struct Upload {
    /// The staged entry.
    pub entry: Entry,
    /// Destination key of the snapshot.
    pub key: String,
    /// Content digest (names the staged object).
    pub digest: String,
    /// The staged copy.
    pub path: PathBuf,
    /// Destination key of the metadata JSON.
    pub meta_key: String,
    /// The metadata JSON.
    pub metadata: Vec<u8>,
}

/// How a text snapshot was read.
enum Reading {
    /// Line for line the reference's layout.
    SameLayout { continues: bool },
    /// Parsed in full (or not a profile).
    Parsed(Result<Shape, String>),
}

/// Scans one source into the staging directory.
pub struct Collector {
    cfg: Config,
    kind: SourceKind,
    root: String,
    staging: Staging,
    metrics: Arc<Metrics>,
    seen: HashMap<PathBuf, (Sig, Instant)>,
    rejected: HashSet<(PathBuf, Sig)>,
    text: Option<TextJudge>,
    text_last: Option<Sig>,
    counter_refs: HashMap<String, (u64, CounterData)>,
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Collector {
    /// Opens the staging directory (resuming its journal).
    pub fn open(cfg: Config, metrics: Arc<Metrics>) -> Result<Collector> {
        cfg.validate()?;
        let kind = cfg.resolved_kind();
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
            counter_refs: HashMap::new(),
        };
        if kind == SourceKind::Text {
            let reference = c
                .staging
                .reference(&c.text_source())
                .map(|(_, path)| Reference::File(path));
            c.text = Some(TextJudge::with_reference(reference));
        }
        c.update_gauges();
        Ok(c)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Key prefix of everything shipped.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The staging directory's state (tests and diagnostics).
    pub fn staging(&self) -> &Staging {
        &self.staging
    }

    fn text_source(&self) -> String {
        format!("text:{}", self.cfg.watch.display())
    }

    /// The first configured marker file that exists.
    pub fn marker_seen(&self) -> Option<PathBuf> {
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
    pub fn scan(&mut self, now: Instant) -> Result<ScanReport> {
        Metrics::add(&self.metrics.scans, 1);
        let mut rep = ScanReport::default();
        let res = match self.kind {
            SourceKind::Covdata => self.scan_covdata(now, &mut rep),
            _ => self.scan_text(now, &mut rep),
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
    /// read, never mapped: a live writer may truncate them.
    fn copy(path: &Path, sig: Sig) -> Result<Option<Vec<u8>>> {
        let data = match fs::read(path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CollectorError::io("reading", path, e)),
        };
        let after = match fs::metadata(path) {
            Ok(m) => Sig::of(&m),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CollectorError::io("reading", path, e)),
        };
        Ok((after == sig && data.len() as u64 == sig.len).then_some(data))
    }

    /// Reads a text profile, streaming, and its digest: compared line by
    /// line with the reference's staged copy when there is one, else (or if
    /// that cannot decide) parsed. `None` if it changed or vanished
    /// meanwhile.
    fn read_text(
        path: &Path,
        sig: Sig,
        reference: Option<&Path>,
    ) -> Result<Option<(Reading, String)>> {
        let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
        let io_err = |e: std::io::Error| CollectorError::io("reading", path, e);
        let mut f = match fs::File::open(path) {
            Ok(f) => f,
            Err(e) if gone(&e) => return Ok(None),
            Err(e) => return Err(io_err(e)),
        };
        let mut hasher = Xxh3::new();
        let mut read = 0u64;
        let mut reading = None;
        if let Some(r) = reference.and_then(|p| fs::File::open(p).ok()) {
            let tap = |b: &[u8]| {
                hasher.update(b);
                read += b.len() as u64;
            };
            match compare_lines(&mut f, r, tap) {
                Ok(Compared::SameLayout { continues }) => {
                    reading = Some(Reading::SameLayout { continues });
                }
                Ok(Compared::Unknown) => {
                    f.rewind().map_err(io_err)?;
                    (hasher, read) = (Xxh3::new(), 0);
                }
                Err(e) if gone(&e) => return Ok(None),
                Err(e) => return Err(io_err(e)),
            }
        }
        let reading = match reading {
            Some(r) => r,
            None => {
                let shape = Shape::read(&mut f, &path.display().to_string(), |b| {
                    hasher.update(b);
                    read += b.len() as u64;
                    Ok(())
                });
                Reading::Parsed(match shape {
                    Ok(s) => Ok(s),
                    Err(ReadError::Corrupt(m)) => Err(m),
                    Err(ReadError::Io(e)) if gone(&e) => return Ok(None),
                    Err(ReadError::Io(e)) => return Err(io_err(e)),
                })
            }
        };
        let after = match fs::metadata(path) {
            Ok(m) => Sig::of(&m),
            Err(e) if gone(&e) => return Ok(None),
            Err(e) => return Err(io_err(e)),
        };
        // A corrupt file is read only up to its first bad line.
        let complete = !matches!(reading, Reading::Parsed(Err(_)));
        if after != sig || (complete && read != sig.len) {
            return Ok(None);
        }
        Ok(Some((reading, digest_of(hasher.digest128()))))
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
            tracing::warn!(path = %path.display(), reason, "rejected snapshot; not shipped");
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
                tracing::info!(%key, "snapshot staged");
                rep.staged += 1;
                Ok(true)
            }
            Ok(Staged::Duplicate) => Ok(true),
            Err(CollectorError::SourceChanged(path)) => {
                tracing::debug!(path = %path.display(), "changed while being staged; retried");
                rep.unsettled += 1;
                Ok(false)
            }
            Err(CollectorError::StagingFull { need, used, limit }) => {
                Metrics::add(&self.metrics.staging_full, 1);
                tracing::warn!(%key, need, used, limit, "staging full; snapshot deferred");
                rep.deferred += 1;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    fn scan_covdata(&mut self, now: Instant, rep: &mut ScanReport) -> Result<()> {
        let dir = self.cfg.watch.clone();
        let listing = fs::read_dir(&dir).map_err(|e| CollectorError::io("listing", &dir, e))?;
        let mut metas = Vec::new();
        let mut groups: BTreeMap<(String, u64), Vec<CounterFile>> = BTreeMap::new();
        let mut present = HashSet::new();
        for ent in listing {
            let ent = ent.map_err(|e| CollectorError::io("listing", &dir, e))?;
            let name = ent.file_name().to_string_lossy().into_owned();
            // Only the runtime's names: never `tmp.*`, nor older runtimes'
            // `covmeta.<H><nanos>` temporary names.
            let Some(cls) = FileName::parse(&name).filter(|n| is_runtime_hash(n.hash())) else {
                continue;
            };
            let path = ent.path();
            let meta = match fs::symlink_metadata(&path) {
                Ok(m) if m.is_file() => m,
                _ => continue,
            };
            present.insert(path.clone());
            let sig = Sig::of(&meta);
            match cls {
                FileName::Meta { hash } => metas.push((hash.to_string(), path, sig)),
                FileName::Counters { hash, pid, nanos } => {
                    let (Ok(pid), Ok(nanos)) = (u64::try_from(pid), nanos.parse::<u64>()) else {
                        continue;
                    };
                    groups
                        .entry((hash.to_string(), pid))
                        .or_default()
                        .push((nanos, path, sig));
                }
            }
        }
        self.seen.retain(|p, _| present.contains(p));
        self.rejected.retain(|(p, _)| present.contains(p));

        for (hash, path, sig) in metas {
            self.scan_meta(&hash, &path, sig, now, rep)?;
        }
        let live: HashSet<String> = groups
            .keys()
            .map(|(h, p)| format!("covdata:{h}.{p}"))
            .collect();
        self.counter_refs.retain(|k, _| live.contains(k));
        for ((hash, pid), mut files) in groups {
            files.sort_by_key(|f| f.0);
            self.scan_counters(&hash, pid, files, now, rep)?;
        }
        Ok(())
    }

    fn scan_meta(
        &mut self,
        hash: &str,
        path: &Path,
        sig: Sig,
        now: Instant,
        rep: &mut ScanReport,
    ) -> Result<()> {
        let name = format!("covmeta.{hash}");
        let rel = covdata_key(&name);
        let key = format!("{}{rel}", self.root);
        let done = self.staging.state().entries.iter().any(|e| e.key == key);
        if done || self.rejected.contains(&(path.to_path_buf(), sig)) {
            return Ok(());
        }
        let Some(data) = Self::copy(path, sig)? else {
            rep.unsettled += 1;
            return Ok(());
        };
        let reason = match check_meta_header(&data, &name) {
            Ok(h) if h.hash_hex() == hash => None,
            Ok(_) => Some("hash in the header differs from the file name".to_string()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(reason) = reason {
            self.reject_when_settled(path, sig, now, &reason, rep);
            return Ok(());
        }
        let snap = NewSnapshot {
            meta_key: format!("{}{}", self.root, metadata_key(&rel)),
            key,
            data: Payload::Bytes(data),
            kind: SnapshotKind::Meta,
            source: format!("covmeta:{hash}"),
            group: None,
            order: 0,
            info: SnapshotSource {
                source: path.display().to_string(),
                meta_hash: Some(hash.to_string()),
                taken_at_unix_ms: unix_ms(),
                ..SnapshotSource::default()
            },
        };
        self.stage(snap, rep, |_| {})?;
        Ok(())
    }

    /// The newest staged snapshot of a source: (nanos, counters).
    fn counter_ref(&mut self, source: &str) -> Option<(u64, CounterData)> {
        if let Some(r) = self.counter_refs.get(source) {
            return Some(r.clone());
        }
        let (e, path) = self.staging.reference(source)?;
        let r = (e.order, decode_counters(&fs::read(path).ok()?).ok()?);
        self.counter_refs.insert(source.to_string(), r.clone());
        Some(r)
    }

    /// One (meta hash, pid): walk the new files oldest first, split them
    /// into process generations (a counter that goes down, or other
    /// arguments, means the pid was reused by a new process), and stage the
    /// newest complete file of each generation.
    fn scan_counters(
        &mut self,
        hash: &str,
        pid: u64,
        files: Vec<CounterFile>,
        now: Instant,
        rep: &mut ScanReport,
    ) -> Result<()> {
        let id = format!("{hash}.{pid}");
        let source = format!("covdata:{id}");
        let st = self
            .staging
            .state()
            .counters
            .get(&id)
            .cloned()
            .unwrap_or_default();
        let mut reference = self.counter_ref(&source);
        if reference.is_none() && st.last_nanos > 0 {
            // The reference copy was evicted for space (or the staging
            // directory damaged): assume the same process. covflush never
            // reuses a (hash, pid) key for a new process, so this is right
            // for it; the alternative would ship a live process twice.
            tracing::warn!(%id, "no reference snapshot; assuming the same process");
        }
        let mut gen_ = st.generation;
        let mut started = st.last_nanos > 0;
        // (generation, nanos, path, data, decoded), newest per generation.
        let mut finals: Vec<(u32, u64, PathBuf, Vec<u8>, CounterData)> = Vec::new();
        let mut unchanged = 0;
        for (nanos, path, sig) in files {
            if nanos <= st.last_nanos || self.rejected.contains(&(path.clone(), sig)) {
                continue;
            }
            let Some(data) = Self::copy(&path, sig)? else {
                if !path.exists() {
                    // Deleted: covflush prunes only superseded snapshots.
                    continue;
                }
                rep.unsettled += 1;
                break;
            };
            let decoded = match decode_counters(&data) {
                Ok(d) if d.hash == hash => d,
                Ok(_) => {
                    let reason = "meta-data hash in the header differs from the name";
                    self.reject(&path, sig, reason, rep);
                    continue;
                }
                Err(reason) => {
                    if self.reject_when_settled(&path, sig, now, &reason, rep) {
                        continue;
                    }
                    // Maybe still being written in place: wait for it, and
                    // for the files after it.
                    break;
                }
            };
            // pid 0 is `covdata merge` output, not a process: every file
            // counts on its own (its own generation).
            let same = match &reference {
                _ if pid == 0 => !started,
                Some((_, r)) => continues(r, &decoded),
                None => true,
            };
            if same && pid != 0 && reference.as_ref().is_some_and(|(_, r)| *r == decoded) {
                // Nothing changed since the last snapshot (an idle server):
                // the shipped file already says the same.
                unchanged = nanos;
                continue;
            }
            if !same {
                gen_ += 1;
                if pid != 0 {
                    tracing::info!(
                        %id,
                        nanos,
                        reference = reference.as_ref().map(|r| r.0),
                        generation = gen_,
                        "counters went down or arguments changed: a new process with the same pid"
                    );
                }
            }
            started = true;
            if finals.last().is_some_and(|f| f.0 == gen_) {
                finals.pop();
            }
            reference = Some((nanos, decoded.clone()));
            finals.push((gen_, nanos, path, data, decoded));
        }
        for (generation, nanos, path, data, decoded) in finals {
            let dest_pid = if pid == 0 {
                0
            } else {
                pid + (u64::from(generation) << GENERATION_SHIFT)
            };
            let rel = covdata_key(&format!("covcounters.{hash}.{dest_pid}.{nanos}"));
            let group = if pid == 0 {
                format!("covdata:{hash}.0.{nanos}")
            } else {
                format!("covdata:{hash}.{dest_pid}")
            };
            let snap = NewSnapshot {
                key: format!("{}{rel}", self.root),
                meta_key: format!("{}{}", self.root, metadata_key(&rel)),
                data: Payload::Bytes(data),
                kind: SnapshotKind::Counters,
                source: source.clone(),
                group: Some(group),
                order: nanos,
                info: SnapshotSource {
                    source: path.display().to_string(),
                    meta_hash: Some(hash.to_string()),
                    pid: Some(pid),
                    dest_pid: Some(dest_pid),
                    generation: Some(generation),
                    nanos: Some(nanos),
                    args: Some(
                        decoded
                            .args
                            .iter()
                            .map(|(k, v)| format!("{k}={v}"))
                            .collect(),
                    ),
                    taken_at_unix_ms: unix_ms(),
                },
            };
            let commit = |s: &mut State| {
                s.counters.insert(
                    id.clone(),
                    CounterSource {
                        last_nanos: nanos,
                        generation,
                    },
                );
            };
            if !self.stage(snap, rep, commit)? {
                self.counter_refs.remove(&source);
                return Ok(());
            }
            self.counter_refs.insert(source.clone(), (nanos, decoded));
        }
        let st = self
            .staging
            .state()
            .counters
            .get(&id)
            .cloned()
            .unwrap_or_default();
        if unchanged > st.last_nanos {
            self.staging.update(|s| {
                s.counters.insert(
                    id.clone(),
                    CounterSource {
                        last_nanos: unchanged,
                        generation: st.generation,
                    },
                );
            })?;
        }
        Ok(())
    }

    fn scan_text(&mut self, now: Instant, rep: &mut ScanReport) -> Result<()> {
        let path = self.cfg.watch.clone();
        let sig = match fs::metadata(&path) {
            Ok(m) if m.is_file() => Sig::of(&m),
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(CollectorError::io("reading", &path, e)),
        };
        if self.text_last == Some(sig) {
            return Ok(());
        }
        // A renamed-in file never changes, so no settle delay: it would only
        // hide writes of a fast writer (and with them process restarts).
        let renamed = self.cfg.text_writer == TextWriter::Rename;
        if !renamed && !self.stable(&path, sig, now) {
            rep.unsettled += 1;
            return Ok(());
        }
        let reference = self
            .text
            .as_ref()
            .and_then(TextJudge::reference_file)
            .map(Path::to_path_buf);
        let Some((reading, digest)) = Self::read_text(&path, sig, reference.as_deref())? else {
            rep.unsettled += 1;
            return Ok(());
        };
        let name = path.display().to_string();
        let confirm = self.cfg.text_writer == TextWriter::InPlace;
        let judge = self.text.get_or_insert_with(TextJudge::default);
        let verdict = match reading {
            Reading::SameLayout { continues } => judge.judge_same(continues),
            Reading::Parsed(shape) => judge.judge(shape, sig.write_id(), confirm),
        };
        tracing::debug!(path = %name, ?verdict, "text snapshot judged");
        self.text_last = Some(sig);
        match verdict {
            Verdict::Corrupt(reason) => self.reject(&path, sig, &reason, rep),
            Verdict::Partial => {
                Metrics::add(&self.metrics.rejected_partial, 1);
                tracing::warn!(path = %name, "text profile is a truncated write (fewer blocks than before); not shipped");
                rep.rejected += 1;
            }
            Verdict::Hold => {
                tracing::info!(path = %name, "new profile layout; waiting for a second write to confirm it is complete");
                rep.held += 1;
            }
            Verdict::Ship { new_generation } => {
                let source = self.text_source();
                let st = self
                    .staging
                    .state()
                    .text
                    .get(&source)
                    .cloned()
                    .unwrap_or_default();
                let generation = if new_generation && st.count > 0 {
                    st.generation + 1
                } else {
                    st.generation
                };
                let base = path
                    .file_name()
                    .map_or("profile".into(), |n| n.to_string_lossy().into_owned());
                let rel = text_key(generation, &base);
                let snap = NewSnapshot {
                    key: format!("{}{rel}", self.root),
                    meta_key: format!("{}{}", self.root, metadata_key(&rel)),
                    data: Payload::File {
                        path: path.clone(),
                        sig,
                        digest: digest.clone(),
                    },
                    kind: SnapshotKind::Text,
                    source: source.clone(),
                    group: Some(format!("{source}:{generation}")),
                    order: st.count + 1,
                    info: SnapshotSource {
                        source: path.display().to_string(),
                        generation: Some(generation),
                        taken_at_unix_ms: unix_ms(),
                        ..SnapshotSource::default()
                    },
                };
                let commit = |s: &mut State| {
                    let t = s.text.entry(source).or_default();
                    t.generation = generation;
                    t.count += 1;
                };
                if self.stage(snap, rep, commit)? {
                    let staged = self.staging.object_path(&digest);
                    if let Some(j) = self.text.as_mut() {
                        j.accept(Reference::File(staged));
                    }
                } else {
                    // Not staged: the judge is unchanged, so the retry sees
                    // the same history (a generation change is not lost).
                    self.text_last = None;
                }
            }
        }
        Ok(())
    }

    /// Pending uploads, in order.
    pub fn uploads(&self) -> Vec<Upload> {
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
                    path: self.staging.object_path(&e.digest),
                    metadata: metadata.to_json(),
                    key: e.key.clone(),
                    digest: e.digest.clone(),
                    meta_key: e.meta_key.clone(),
                    entry: e,
                }
            })
            .collect()
    }

    /// Records that an upload starts (before the put: see
    /// [`Entry::attempted`]); false if the snapshot was superseded meanwhile
    /// and must not be put.
    pub fn uploading(&mut self, u: &Upload) -> Result<bool> {
        self.staging.mark_attempted(&u.entry)
    }

    /// Records a finished upload.
    pub fn uploaded(&mut self, u: &Upload) -> Result<()> {
        self.staging.mark_uploaded(&u.entry)?;
        self.update_gauges();
        Ok(())
    }

    /// Destination keys superseded after upload, to delete.
    pub fn retire_list(&self) -> Vec<String> {
        self.staging.retire_list()
    }

    /// Records a finished deletion.
    pub fn retired(&mut self, key: &str) -> Result<()> {
        self.staging.retired(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::covdata::tests::{counter_file, meta_file};
    use std::time::Duration;

    const H: [u8; 16] = [0xab; 16];

    fn hash() -> String {
        "ab".repeat(16)
    }

    fn setup(kind: SourceKind) -> (tempfile::TempDir, Collector) {
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

    fn write_counters(dir: &Path, pid: u64, nanos: u64, argv: &str, ctrs: &[u32]) {
        let name = format!("covcounters.{}.{pid}.{nanos}", hash());
        fs::write(dir.join(name), counter_file(H, argv, &[(0, 0, ctrs)])).unwrap();
    }

    fn pending_keys(c: &Collector) -> Vec<String> {
        c.uploads()
            .into_iter()
            .map(|u| u.key.rsplit('/').next().unwrap().to_string())
            .collect()
    }

    #[test]
    fn newest_per_process_and_pid_reuse() {
        let (t, mut c) = setup(SourceKind::Covdata);
        let dir = t.path().join("cov");
        fs::write(dir.join(format!("covmeta.{}", hash())), meta_file(H)).unwrap();
        write_counters(&dir, 7, 100, "./srv", &[1, 0]);
        write_counters(&dir, 7, 200, "./srv", &[2, 1]);
        // Same pid, counters went down: a restarted process.
        write_counters(&dir, 7, 300, "./srv", &[1, 0]);
        write_counters(&dir, 7, 400, "./srv", &[5, 0]);
        // Temporary and corrupt files are never staged.
        fs::write(
            dir.join(format!("tmp.covcounters.{}.7.500", hash())),
            b"partial",
        )
        .unwrap();
        fs::write(
            dir.join(format!("covcounters.{}.8.500", hash())),
            b"\0cwm garbage",
        )
        .unwrap();
        let rep = c.scan(Instant::now()).unwrap();
        assert_eq!(rep.rejected, 1);
        let g1 = 7 + (1u64 << 32);
        assert_eq!(
            pending_keys(&c),
            [
                format!("covmeta.{}", hash()),
                format!("covcounters.{}.7.200", hash()),
                format!("covcounters.{}.{g1}.400", hash()),
            ]
        );
        // Nothing new: nothing staged, the corrupt file is not re-reported.
        let rep = c.scan(Instant::now()).unwrap();
        assert_eq!((rep.staged, rep.rejected), (0, 0));
        // An identical snapshot is not shipped again.
        write_counters(&dir, 7, 550, "./srv", &[5, 0]);
        assert_eq!(c.scan(Instant::now()).unwrap().staged, 0);
        assert_eq!(
            c.staging().state().counters[&format!("{}.7", hash())].last_nanos,
            550
        );
        // A later snapshot of generation 1 supersedes the pending one.
        write_counters(&dir, 7, 600, "./srv", &[6, 0]);
        c.scan(Instant::now()).unwrap();
        assert_eq!(
            pending_keys(&c).last().unwrap(),
            &format!("covcounters.{}.{g1}.600", hash())
        );
        assert_eq!(pending_keys(&c).len(), 3);
    }

    #[test]
    fn merge_output_files_all_count() {
        let (t, mut c) = setup(SourceKind::Covdata);
        let dir = t.path().join("cov");
        write_counters(&dir, 0, 100, "", &[1, 0]);
        write_counters(&dir, 0, 200, "", &[2, 0]);
        c.scan(Instant::now()).unwrap();
        assert_eq!(
            pending_keys(&c),
            [
                format!("covcounters.{}.0.100", hash()),
                format!("covcounters.{}.0.200", hash())
            ]
        );
    }

    #[test]
    fn resume_after_restart_does_not_duplicate() {
        let (t, mut c) = setup(SourceKind::Covdata);
        let dir = t.path().join("cov");
        write_counters(&dir, 7, 100, "./srv", &[1, 0]);
        c.scan(Instant::now()).unwrap();
        for u in c.uploads() {
            c.uploaded(&u).unwrap();
        }
        let cfg = c.config().clone();
        drop(c);
        let mut c = Collector::open(cfg.clone(), Arc::default()).unwrap();
        assert_eq!(c.scan(Instant::now()).unwrap().staged, 0);
        // The restarted collector still knows the reference: a lower count
        // is a new generation, a higher one the same.
        write_counters(&dir, 7, 200, "./srv", &[3, 0]);
        c.scan(Instant::now()).unwrap();
        assert_eq!(pending_keys(&c), [format!("covcounters.{}.7.200", hash())]);
        drop(c);
        let mut c = Collector::open(cfg, Arc::default()).unwrap();
        write_counters(&dir, 7, 300, "./srv", &[1, 0]);
        c.scan(Instant::now()).unwrap();
        let g1 = 7 + (1u64 << 32);
        assert_eq!(
            pending_keys(&c),
            [
                format!("covcounters.{}.7.200", hash()),
                format!("covcounters.{}.{g1}.300", hash())
            ]
        );
    }

    #[test]
    fn invalid_binary_files_wait_for_the_settle_delay() {
        let (t, mut c) = setup(SourceKind::Covdata);
        c.cfg.settle = Duration::from_secs(3600);
        let dir = t.path().join("cov");
        // Complete files validate themselves: shipped at once.
        write_counters(&dir, 7, 100, "./srv", &[1, 0]);
        let now = Instant::now();
        assert_eq!(c.scan(now).unwrap().staged, 1);
        // An incomplete one may still be written in place: it holds back
        // the files after it until it settles, then is rejected.
        let good = counter_file(H, "./srv", &[(0, 0, &[2, 0])]);
        let partial = format!("covcounters.{}.7.200", hash());
        fs::write(dir.join(&partial), &good[..good.len() - 3]).unwrap();
        write_counters(&dir, 7, 300, "./srv", &[3, 0]);
        let rep = c.scan(now).unwrap();
        assert_eq!((rep.staged, rep.unsettled, rep.rejected), (0, 1, 0));
        // Completed in place meanwhile: both pass, 300 is the newest.
        fs::write(dir.join(&partial), &good).unwrap();
        let rep = c.scan(now).unwrap();
        assert_eq!(rep.staged, 1);
        assert_eq!(
            pending_keys(&c).last().unwrap(),
            &format!("covcounters.{}.7.300", hash())
        );
        fs::write(
            dir.join(format!("covcounters.{}.7.400", hash())),
            &good[..10],
        )
        .unwrap();
        let rep = c.scan(now).unwrap();
        assert_eq!((rep.unsettled, rep.rejected), (1, 0));
        let rep = c.scan(now + Duration::from_secs(3601)).unwrap();
        assert_eq!((rep.unsettled, rep.rejected), (0, 1));
    }

    #[test]
    fn text_generations_and_corruption() {
        let (t, mut c) = setup(SourceKind::Text);
        let p = t.path().join("cov/p.cov");
        let write = |s: &str| {
            // A new inode each time, like a rename writer.
            let tmp = p.with_extension("tmp");
            fs::write(&tmp, s).unwrap();
            fs::rename(&tmp, &p).unwrap();
        };
        write("mode: count\na.go:1.1,2.2 1 1\n");
        c.scan(Instant::now()).unwrap();
        write("mode: count\na.go:1.1,2.2 1 4\n");
        c.scan(Instant::now()).unwrap();
        write("mode: count\na.go:1.1,2.2 1 2\n");
        c.scan(Instant::now()).unwrap();
        write("mode: count\na.go:1.1,2.2 1");
        assert_eq!(c.scan(Instant::now()).unwrap().rejected, 1);
        let ups = c.uploads();
        let got: Vec<_> = ups
            .iter()
            .map(|u| (u.key.clone(), fs::read(&u.path).unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "coverage/pod/component/text/0000-p.cov".to_string(),
                    b"mode: count\na.go:1.1,2.2 1 4\n".to_vec()
                ),
                (
                    "coverage/pod/component/text/0001-p.cov".to_string(),
                    b"mode: count\na.go:1.1,2.2 1 2\n".to_vec()
                ),
            ]
        );
        let meta: serde_json::Value = serde_json::from_slice(&ups[1].metadata).unwrap();
        assert_eq!(meta["pod"], "pod");
        assert_eq!(meta["generation"], 1);
        assert_eq!(meta["kind"], "text");
        assert_eq!(
            ups[1].meta_key,
            "coverage/pod/component/metadata/text/0001-p.cov.json"
        );
    }

    #[test]
    fn meta_files_are_checked_against_their_header_and_name() {
        let (t, mut c) = setup(SourceKind::Covdata);
        let dir = t.path().join("cov");
        let m = meta_file(H);
        // The hash in the header is not the name's.
        fs::write(dir.join(format!("covmeta.{}", "cd".repeat(16))), &m).unwrap();
        assert_eq!(c.scan(Instant::now()).unwrap().rejected, 1);
        // Cut anywhere (settle 0: rejected at once), never staged.
        let path = dir.join(format!("covmeta.{}", hash()));
        for n in 0..m.len() {
            fs::write(&path, &m[..n]).unwrap();
            let rep = c.scan(Instant::now()).unwrap();
            assert_eq!((rep.rejected, rep.staged), (1, 0), "cut at {n}");
        }
        fs::write(&path, &m).unwrap();
        assert_eq!(c.scan(Instant::now()).unwrap().staged, 1);
        assert_eq!(pending_keys(&c), [format!("covmeta.{}", hash())]);
    }

    #[test]
    fn uploads_list_meta_first() {
        let (t, mut c) = setup(SourceKind::Covdata);
        let dir = t.path().join("cov");
        write_counters(&dir, 7, 100, "./srv", &[1, 0]);
        c.scan(Instant::now()).unwrap();
        fs::write(dir.join(format!("covmeta.{}", hash())), meta_file(H)).unwrap();
        c.scan(Instant::now()).unwrap();
        let kinds: Vec<_> = c
            .staging()
            .pending()
            .into_iter()
            .map(|e: Entry| e.kind)
            .collect();
        assert_eq!(kinds, [SnapshotKind::Meta, SnapshotKind::Counters]);
    }
}

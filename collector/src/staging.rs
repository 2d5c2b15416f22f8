//! The staging directory: copies of snapshots not yet uploaded, and the
//! journal that lets a restarted collector resume without losing or
//! duplicating anything.
//!
//! Layout: `journal.json` (rewritten by temp + fsync + rename after every
//! change), `objects/<digest>` (snapshot bytes, written before the journal
//! names them), `lock` (held with an advisory lock while running).
//!
//! Objects are kept while an entry is pending, and for the newest entry of
//! every source even after upload: it is the reference the next snapshot of
//! that source is compared with (restart detection).
//!
//! The directory usually sits on the shared volume, which the component can
//! write to. It is the collector's own: created `0700`, and refused (with
//! the reason) when it is a symlink, owned by another user, or writable by
//! group or others — the sticky bit is not enough, as others could still
//! plant a journal or objects under names the collector has not created
//! yet. Everything inside is reached through [`DirFd`]s without following
//! links; a journal that names objects or keys outside the staging
//! directory or the destination is refused.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs::{self, File};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use covlens_prow::layout::{SnapshotKind, SnapshotSource};
use serde::{Deserialize, Serialize};

use crate::config::check_key;
use crate::error::{CollectorError, Result, esc};
use crate::fsat::{DirFd, euid, is_link_error, open_source};

/// One staged snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Entry {
    /// Destination key relative to the collector's root, e.g.
    /// `covdata/covcounters.<H>.<pid>.<nanos>`.
    pub key: String,
    /// Destination key of the metadata JSON shipped with it.
    pub meta_key: String,
    /// XXH3-128 of the content, hex: the staged object's name. (Older
    /// journals called it `sha256` and hold SHA-256 names; those objects
    /// keep their names.)
    #[serde(alias = "sha256")]
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// What it is.
    pub kind: SnapshotKind,
    /// The producer: a text file or one (meta hash, pid) of a GOCOVERDIR.
    pub source: String,
    /// Within a group, a higher `order` supersedes a lower one (cumulative
    /// snapshots of one process generation). `None` for meta-data files.
    pub group: Option<String>,
    /// Position within the group.
    pub order: u64,
    /// Global staging order.
    pub seq: u64,
    /// Uploaded to the destination.
    pub uploaded: bool,
    /// Its reference copy was deleted to make room (uploaded entries only).
    #[serde(default)]
    pub evicted: bool,
    /// An upload was started: it may be at the destination even if
    /// `uploaded` is false (a crash between the put and the journal).
    #[serde(default)]
    pub attempted: bool,
    /// Where the snapshot came from, shipped in its metadata.
    pub info: SnapshotSource,
}

/// Resume state of one (meta hash, pid) of a GOCOVERDIR.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct CounterSource {
    /// Files with this nanos or older are done.
    pub last_nanos: u64,
    /// Current process generation (restarts with the same pid).
    pub generation: u32,
}

/// Resume state of a text source.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct TextSource {
    /// Current process generation.
    pub generation: u32,
    /// Snapshots shipped so far (the `order` of the next one).
    pub count: u64,
}

/// Everything the journal persists.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct State {
    /// Format version.
    pub version: u32,
    /// Next `seq`.
    pub next_seq: u64,
    /// Staged entries: pending, or the newest uploaded of their source.
    pub entries: Vec<Entry>,
    /// Destination keys superseded after upload, still to be deleted there.
    pub retire: BTreeSet<String>,
    /// Per (meta hash, pid).
    pub counters: BTreeMap<String, CounterSource>,
    /// Per text source.
    pub text: BTreeMap<String, TextSource>,
}

/// A file's identity for stability checks: any write changes one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Sig {
    /// Size in bytes.
    pub len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    ino: u64,
    dev: u64,
}

impl Sig {
    /// The signature of a file's metadata.
    pub(crate) fn of(m: &fs::Metadata) -> Sig {
        Sig {
            len: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
            ino: m.ino(),
            dev: m.dev(),
        }
    }

    /// A digest identifying one write of the file.
    pub(crate) fn write_id(&self) -> u128 {
        let mut h = DefaultHasher::new();
        self.hash(&mut h);
        u128::from(h.finish()) << 64 | u128::from(self.len)
    }
}

/// The bytes of a snapshot.
#[derive(Clone, Debug)]
pub(crate) enum Payload {
    /// Held in memory (small covdata files).
    Bytes(Vec<u8>),
    /// A file already read once, whose signature and digest are known: it
    /// is copied only if staged, through a fixed-size buffer, and refused
    /// with [`CollectorError::SourceChanged`] if its signature changed.
    File {
        /// The source file.
        path: PathBuf,
        /// Its signature when read.
        sig: Sig,
        /// Its digest ([`digest_hex`]) when read.
        digest: String,
    },
}

/// A snapshot ready to be staged.
#[derive(Clone, Debug)]
pub(crate) struct NewSnapshot {
    /// See [`Entry::key`].
    pub key: String,
    /// See [`Entry::meta_key`].
    pub meta_key: String,
    /// The content.
    pub data: Payload,
    /// See [`Entry::kind`].
    pub kind: SnapshotKind,
    /// See [`Entry::source`].
    pub source: String,
    /// See [`Entry::group`].
    pub group: Option<String>,
    /// See [`Entry::order`].
    pub order: u64,
    /// See [`Entry::info`].
    pub info: SnapshotSource,
}

/// Result of [`Staging::stage_with`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Staged {
    /// Recorded; `dropped` superseded snapshots were discarded to make room.
    New {
        /// Snapshots dropped for space.
        dropped: usize,
    },
    /// The same key and content is already staged or uploaded.
    Duplicate,
}

/// A staged object, opened through the staging directory's descriptor
/// (never by path, so never through a link planted in its place).
#[derive(Clone, Debug)]
pub(crate) struct Object {
    dir: DirFd,
    name: String,
}

impl Object {
    /// Opens it for reading.
    pub(crate) fn open(&self) -> std::io::Result<File> {
        self.dir.open_file(&self.name)
    }

    /// Reads it whole.
    pub(crate) fn read(&self) -> std::io::Result<Vec<u8>> {
        let mut v = Vec::new();
        self.open()?.read_to_end(&mut v)?;
        Ok(v)
    }

    /// Its path, for messages.
    pub(crate) fn path(&self) -> PathBuf {
        self.dir.join(&self.name)
    }
}

/// An open staging directory.
#[derive(Debug)]
pub(crate) struct Staging {
    dir: DirFd,
    objects: DirFd,
    limit: u64,
    keep_history: bool,
    _lock: File,
    /// The persisted state; change it only through methods that save it.
    state: State,
}

const VERSION: u32 = 1;

/// A content digest: XXH3-128, hex. Objects are named by it and identical
/// snapshots recognised by it; it is not a defence against a writer that
/// forges collisions (such a writer can write anything anyway), and it is
/// ten times cheaper than SHA-256 on a 20 MB profile every few seconds.
pub(crate) fn digest_hex(data: &[u8]) -> String {
    digest_of(xxhash_rust::xxh3::xxh3_128(data))
}

/// The hex form of an XXH3-128 value, as objects are named.
pub(crate) fn digest_of(v: u128) -> String {
    format!("{v:032x}")
}

/// Writes `data` to `name` in `dir` through a new file, fsync and rename.
fn write_atomic(dir: &DirFd, name: &str, data: &[u8]) -> Result<()> {
    dir.replace(name, 0o600, |f| f.write_all(data).map(|()| true))
        .map(drop)
        .map_err(|e| CollectorError::io("writing", dir.join(name), e))
}

/// Copies the watched file `from` to `name` in `dir` (new file, fsync,
/// rename) if its signature is still `sig` before and after the copy (so
/// the copy is what was read before); else
/// [`CollectorError::SourceChanged`] and nothing is left behind. `from` is
/// opened without following a link.
fn copy_unchanged(from: &Path, dir: &DirFd, name: &str, sig: Sig) -> Result<()> {
    let copied = dir.replace(name, 0o600, |f| {
        let (mut src, m) = open_source(from)?;
        if Sig::of(&m) != sig {
            return Ok(false);
        }
        // copy_file_range/sendfile where the kernel offers them.
        let n = std::io::copy(&mut src, f)?;
        Ok(n == sig.len && Sig::of(&src.metadata()?) == sig)
    });
    match copied {
        Ok(true) => Ok(()),
        Ok(false) => Err(CollectorError::SourceChanged(from.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(CollectorError::SourceChanged(from.to_path_buf()))
        }
        Err(e) => Err(CollectorError::io("staging", from, e)),
    }
}

/// Whether `s` names an object: XXH3-128 (32 hex digits) or, in journals of
/// older collectors, SHA-256 (64).
fn is_digest(s: &str) -> bool {
    matches!(s.len(), 32 | 64) && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Checks the ownership and mode of a staging directory (or a file in it):
/// the collector's user's, not writable by group or others.
fn check_private(path: &Path, st: &rustix::fs::Stat, what: &str) -> Result<()> {
    let unsafe_ = |why: String| CollectorError::StagingUnsafe {
        path: path.to_path_buf(),
        why,
    };
    let me = euid();
    if st.st_uid != me {
        return Err(unsafe_(format!(
            "{what} is owned by uid {}, not by this collector's uid {me}",
            st.st_uid
        )));
    }
    let mode = st.st_mode & 0o7777;
    if mode & 0o022 != 0 {
        return Err(unsafe_(format!(
            "{what} is writable by its group or others (mode {mode:o}); a sticky bit is \
             not enough, others could plant files in it: chmod go-w or remove it"
        )));
    }
    Ok(())
}

/// Opens (creating it `0700`, and missing parents) the staging directory,
/// refusing one that is a link, another user's, or writable by others.
fn open_private_dir(dir: &Path) -> Result<DirFd> {
    let unsafe_ = |why: String| CollectorError::StagingUnsafe {
        path: dir.to_path_buf(),
        why,
    };
    if fs::symlink_metadata(dir).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|e| CollectorError::io("creating", parent, e))?;
        }
        match fs::DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(CollectorError::io("creating", dir, e)),
        }
    }
    let fd = DirFd::open_nofollow(dir).map_err(|e| {
        if is_link_error(&e) {
            unsafe_("it is a symbolic link".into())
        } else {
            CollectorError::io("opening", dir, e)
        }
    })?;
    let st = fd
        .stat()
        .map_err(|e| CollectorError::io("opening", dir, e))?;
    check_private(dir, &st, "it")?;
    Ok(fd)
}

impl Staging {
    /// Opens (creating) a staging directory and locks it.
    pub(crate) fn open(path: &Path, limit: u64, keep_history: bool) -> Result<Staging> {
        let dir = open_private_dir(path)?;
        // A link or a file in place of a part is not the collector's doing.
        let part_error = |name: &str, e: std::io::Error, op| {
            if is_link_error(&e) {
                CollectorError::StagingUnsafe {
                    path: path.to_path_buf(),
                    why: format!("{name} in it is a symbolic link"),
                }
            } else {
                CollectorError::io(op, dir.join(name), e)
            }
        };
        let objects = dir
            .subdir("objects", Some(0o700))
            .map_err(|e| part_error("objects", e, "opening"))?;
        let st = objects
            .stat()
            .map_err(|e| CollectorError::io("opening", objects.path(), e))?;
        check_private(path, &st, "its objects directory")?;
        // Never truncated (the content does not matter), never followed.
        let lock = dir
            .open_or_create("lock", 0o600)
            .map_err(|e| part_error("lock", e, "creating"))?;
        if lock.try_lock().is_err() {
            return Err(CollectorError::StagingLocked(path.to_path_buf()));
        }
        let journal = dir.join("journal.json");
        let state = match dir.open_file("journal.json") {
            Ok(mut f) => {
                let mut b = Vec::new();
                f.read_to_end(&mut b)
                    .map_err(|e| CollectorError::io("reading", &journal, e))?;
                let s: State = serde_json::from_slice(&b).map_err(|source| {
                    CollectorError::JournalUnreadable {
                        path: journal.clone(),
                        source,
                    }
                })?;
                if s.version != VERSION {
                    return Err(CollectorError::JournalVersion {
                        path: journal,
                        found: s.version,
                        want: VERSION,
                    });
                }
                check_state(&s).map_err(|why| CollectorError::JournalInvalid {
                    path: journal.clone(),
                    why,
                })?;
                s
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State {
                version: VERSION,
                ..State::default()
            },
            Err(e) => return Err(part_error("journal.json", e, "reading")),
        };
        let mut st = Staging {
            dir,
            objects,
            limit,
            keep_history,
            _lock: lock,
            state,
        };
        st.recover()?;
        Ok(st)
    }

    /// After a crash: drop entries whose object vanished, delete objects
    /// (and temp files) nothing refers to.
    fn recover(&mut self) -> Result<()> {
        let before = self.state.entries.len();
        let objects = self.objects.clone();
        self.state.entries.retain(|e| {
            let keep = !needs_object(e) || has_object(&objects, &e.digest);
            if !keep {
                tracing::warn!(key = %esc(&e.key), "staged object missing; entry dropped");
            }
            keep
        });
        let referenced = self.referenced();
        let listing = self
            .objects
            .entries()
            .map_err(|e| CollectorError::io("listing", self.objects.path(), e))?;
        for (name, _, _) in listing {
            if !referenced.contains(&name) {
                let _ = self.objects.remove(&name);
            }
        }
        if before != self.state.entries.len() {
            self.save()?;
        }
        Ok(())
    }

    fn referenced(&self) -> HashSet<String> {
        let newest = self.newest_per_source();
        self.state
            .entries
            .iter()
            .filter(|e| !e.uploaded || Self::keeps_reference(e, &newest))
            .map(|e| e.digest.clone())
            .collect()
    }

    /// Whether an uploaded entry keeps its object as its source's reference
    /// (meta-data files are never compared with anything).
    fn keeps_reference(e: &Entry, newest: &HashSet<u64>) -> bool {
        e.kind != SnapshotKind::Meta && !e.evicted && newest.contains(&e.seq)
    }

    fn newest_per_source(&self) -> HashSet<u64> {
        let mut best: BTreeMap<&str, u64> = BTreeMap::new();
        for e in &self.state.entries {
            let s = best.entry(&e.source).or_insert(e.seq);
            *s = (*s).max(e.seq);
        }
        best.into_values().collect()
    }

    /// The persisted state (read-only).
    pub(crate) fn state(&self) -> &State {
        &self.state
    }

    /// Changes the per-source resume state and saves it.
    pub(crate) fn update<R>(&mut self, f: impl FnOnce(&mut State) -> R) -> Result<R> {
        let r = f(&mut self.state);
        self.save()?;
        Ok(r)
    }

    fn save(&self) -> Result<()> {
        let data = serde_json::to_vec_pretty(&self.state).expect("state serialises");
        write_atomic(&self.dir, "journal.json", &data)
    }

    /// A staged object.
    pub(crate) fn object(&self, digest: &str) -> Object {
        Object {
            dir: self.objects.clone(),
            name: digest.to_string(),
        }
    }

    /// Bytes of all objects on disk.
    pub(crate) fn used_bytes(&self) -> u64 {
        let mut seen = HashSet::new();
        let referenced = self.referenced();
        self.state
            .entries
            .iter()
            .filter(|e| referenced.contains(&e.digest) && seen.insert(e.digest.clone()))
            .map(|e| e.size)
            .sum()
    }

    /// The newest entry of a source with its content, if still staged.
    pub(crate) fn reference(&self, source: &str) -> Option<(&Entry, Object)> {
        let e = self
            .state
            .entries
            .iter()
            .filter(|e| e.source == source)
            .max_by_key(|e| e.seq)?;
        if e.evicted || !has_object(&self.objects, &e.digest) {
            return None;
        }
        Some((e, self.object(&e.digest)))
    }

    /// [`Staging::stage_with`] without a resume-state change.
    #[cfg(test)]
    pub(crate) fn stage(&mut self, snap: NewSnapshot) -> Result<Staged> {
        self.stage_with(snap, |_| {})
    }

    /// Records a snapshot: writes its object, supersedes older snapshots of
    /// its group, and saves the journal. Fails with
    /// [`CollectorError::StagingFull`] when it does not fit even after
    /// dropping superseded snapshots; nothing is recorded then. `commit`
    /// changes the resume state in the same journal write (also for a
    /// duplicate), so a crash can never separate a snapshot from the source
    /// position it was taken at.
    pub(crate) fn stage_with(
        &mut self,
        snap: NewSnapshot,
        commit: impl FnOnce(&mut State),
    ) -> Result<Staged> {
        let (sha, size) = match &snap.data {
            Payload::Bytes(d) => (digest_hex(d), d.len() as u64),
            Payload::File { sig, digest, .. } => (digest.clone(), sig.len),
        };
        if self
            .state
            .entries
            .iter()
            .any(|e| e.key == snap.key && e.digest == sha)
        {
            commit(&mut self.state);
            self.save()?;
            return Ok(Staged::Duplicate);
        }
        if let Payload::File { path, sig, .. } = &snap.data
            && fs::metadata(path).map(|m| Sig::of(&m)).ok() != Some(*sig)
        {
            // Changed already: give up before dropping anything for room.
            return Err(CollectorError::SourceChanged(path.clone()));
        }
        let on_disk = self.referenced().contains(&sha);
        let need = if on_disk { 0 } else { size };
        let mut dropped = 0;
        let mut full = false;
        while self.used_bytes() + need > self.limit {
            if !self.drop_one_superseded(snap.group.as_deref(), snap.order) {
                full = true;
                break;
            }
            dropped += 1;
        }
        if dropped > 0 {
            // Free the space before writing the new object: the limit holds
            // on disk too.
            self.save()?;
            self.gc_objects();
        }
        if full {
            return Err(CollectorError::StagingFull {
                need,
                used: self.used_bytes(),
                limit: self.limit,
            });
        }
        if !has_object(&self.objects, &sha) {
            match &snap.data {
                Payload::Bytes(d) => write_atomic(&self.objects, &sha, d)?,
                Payload::File { path, sig, .. } => copy_unchanged(path, &self.objects, &sha, *sig)?,
            }
        }
        let seq = self.state.next_seq;
        self.state.next_seq += 1;
        if !self.keep_history {
            // Older pending snapshots of the group are redundant: drop them.
            let (group, order) = (snap.group.clone(), snap.order);
            self.forget_pending(|e| group.is_some() && e.group == group && e.order < order);
        }
        self.state.entries.push(Entry {
            key: snap.key,
            meta_key: snap.meta_key,
            digest: sha,
            size,
            kind: snap.kind,
            source: snap.source,
            group: snap.group,
            order: snap.order,
            seq,
            uploaded: false,
            evicted: false,
            attempted: false,
            info: snap.info,
        });
        commit(&mut self.state);
        // Journal first, then delete what it no longer names: a crash in
        // between leaves orphan objects (removed on open), never an entry
        // without its object.
        self.save()?;
        self.gc_objects();
        Ok(Staged::New { dropped })
    }

    /// Frees space: drops the oldest pending snapshot that a newer one
    /// (staged, or the one being staged) supersedes, else the oldest
    /// uploaded reference copy. Returns false if there is nothing to drop.
    fn drop_one_superseded(&mut self, group: Option<&str>, order: u64) -> bool {
        let victim = self
            .state
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.uploaded && e.group.is_some())
            .filter(|(_, e)| {
                (e.group.as_deref() == group && e.order < order)
                    || self
                        .state
                        .entries
                        .iter()
                        .any(|o| o.group == e.group && o.order > e.order)
            })
            .min_by_key(|(_, e)| e.seq)
            .map(|(i, _)| i);
        if let Some(i) = victim {
            let seq = self.state.entries[i].seq;
            tracing::warn!(key = %esc(&self.state.entries[i].key), "staging full: dropped a superseded snapshot");
            self.forget_pending(|e| e.seq == seq);
            return true;
        }
        // Then the reference copies of uploaded snapshots, oldest first
        // (usually of processes that are gone). The entry stays: it still
        // tracks what is live at the destination.
        let newest = self.newest_per_source();
        let victim = self
            .state
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.uploaded && Self::keeps_reference(e, &newest))
            .min_by_key(|(_, e)| e.seq)
            .map(|(i, _)| i);
        match victim {
            Some(i) => {
                let e = &mut self.state.entries[i];
                e.evicted = true;
                tracing::info!(key = %esc(&e.key), "staging full: evicted an uploaded reference copy");
                true
            }
            None => false,
        }
    }

    /// Drops pending entries matching `f`. One whose upload was attempted
    /// may be at the destination: it is kept as uploaded (without its
    /// object), so that it is retired once its successor is uploaded.
    fn forget_pending(&mut self, f: impl Fn(&Entry) -> bool) {
        self.state.entries.retain_mut(|e| {
            if e.uploaded || !f(e) {
                return true;
            }
            if e.attempted {
                e.uploaded = true;
                e.evicted = true;
                return true;
            }
            false
        });
    }

    /// Records that an upload of this entry starts. Returns false if it is
    /// no longer pending (superseded meanwhile): then it must not be put.
    pub(crate) fn mark_attempted(&mut self, up: &Entry) -> Result<bool> {
        let Some(e) = self
            .state
            .entries
            .iter_mut()
            .find(|e| e.key == up.key && e.digest == up.digest && !e.uploaded)
        else {
            return Ok(false);
        };
        if !e.attempted {
            e.attempted = true;
            self.save()?;
        }
        Ok(true)
    }

    fn gc_objects(&self) {
        let referenced = self.referenced();
        if let Ok(listing) = self.objects.entries() {
            for (name, _, _) in listing {
                if !name.starts_with('.') && !referenced.contains(&name) {
                    let _ = self.objects.remove(&name);
                }
            }
        }
    }

    /// Pending entries in upload order: meta-data files first (counter
    /// files are useless without them), then by staging order.
    pub(crate) fn pending(&self) -> Vec<Entry> {
        let mut v: Vec<Entry> = self
            .state
            .entries
            .iter()
            .filter(|e| !e.uploaded)
            .cloned()
            .collect();
        v.sort_by_key(|e| (e.kind != SnapshotKind::Meta, e.seq));
        v
    }

    /// Marks an entry uploaded. Older uploaded snapshots of its group are
    /// now superseded at the destination: their keys (when different) move
    /// to the retire list, unless history is kept. An entry superseded while
    /// it was being uploaded is recorded again as uploaded, so that its key
    /// is retired once its successor is uploaded too.
    pub(crate) fn mark_uploaded(&mut self, up: &Entry) -> Result<()> {
        let found = self
            .state
            .entries
            .iter()
            .position(|e| e.key == up.key && e.digest == up.digest);
        let i = found.unwrap_or_else(|| {
            self.state.entries.push(up.clone());
            self.state.entries.len() - 1
        });
        self.state.entries[i].uploaded = true;
        let up = self.state.entries[i].clone();
        // Per group, the uploaded entry with the highest order is the one
        // live at the destination; older uploaded ones are superseded there.
        let mut live: BTreeMap<String, u64> = BTreeMap::new();
        for e in self.state.entries.iter().filter(|e| e.uploaded) {
            if let Some(g) = &e.group {
                let o = live.entry(g.clone()).or_insert(e.order);
                *o = (*o).max(e.order);
            }
        }
        let newest = self.newest_per_source();
        let mut retire = Vec::new();
        self.state.entries.retain(|e| {
            if !e.uploaded {
                return true;
            }
            let superseded = e.group.as_ref().is_some_and(|g| live[g] > e.order);
            if superseded {
                if e.key != up.key {
                    retire.push(e.key.clone());
                    retire.push(e.meta_key.clone());
                }
                return false;
            }
            // Live at the destination: kept while it is its source's
            // reference, or while a newer snapshot of its group is pending
            // (it is retired when that one is uploaded).
            newest.contains(&e.seq) || e.group.is_some()
        });
        if !self.keep_history {
            self.state.retire.extend(retire);
        }
        self.save()?;
        self.gc_objects();
        Ok(())
    }

    /// Keys to delete at the destination.
    pub(crate) fn retire_list(&self) -> Vec<String> {
        self.state.retire.iter().cloned().collect()
    }

    /// A retired key was deleted at the destination.
    pub(crate) fn retired(&mut self, key: &str) -> Result<()> {
        if self.state.retire.remove(key) {
            self.save()?;
        }
        Ok(())
    }
}

fn needs_object(e: &Entry) -> bool {
    !e.uploaded
}

/// Whether `objects` holds the object `digest` as a regular file. Anything
/// else under its name (a link planted by someone who knows the digest of
/// the content: the component does) is removed, so a real copy is written.
fn has_object(objects: &DirFd, digest: &str) -> bool {
    match objects.entry(digest) {
        Ok(Some(st)) if rustix::fs::FileType::from_raw_mode(st.st_mode).is_file() => true,
        Ok(Some(_)) => {
            tracing::warn!(object = %esc(&objects.join(digest)), "not a regular file; replaced");
            let _ = objects.remove(digest);
            false
        }
        _ => false,
    }
}

/// Checks a journal read from disk: every object name a digest, every key
/// a clean relative path (a journal is only ever written by the collector;
/// one that names files outside the staging directory or keys outside the
/// destination was not).
fn check_state(s: &State) -> std::result::Result<(), String> {
    for (i, e) in s.entries.iter().enumerate() {
        if !is_digest(&e.digest) {
            return Err(format!(
                "entry {i} names object {:?}, not a digest",
                e.digest
            ));
        }
        for k in [&e.key, &e.meta_key] {
            check_key(k).map_err(|why| format!("entry {i} has the key {k:?}, which {why}"))?;
        }
    }
    for k in &s.retire {
        check_key(k).map_err(|why| format!("the retired key {k:?} {why}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(key: &str, group: Option<&str>, order: u64, data: &[u8]) -> NewSnapshot {
        NewSnapshot {
            key: key.into(),
            meta_key: format!("m/{key}"),
            data: Payload::Bytes(data.to_vec()),
            kind: if group.is_some() {
                SnapshotKind::Counters
            } else {
                SnapshotKind::Meta
            },
            source: group.unwrap_or(key).into(),
            group: group.map(Into::into),
            order,
            info: SnapshotSource::default(),
        }
    }

    fn objects(dir: &Path) -> usize {
        fs::read_dir(dir.join("objects")).unwrap().count()
    }

    #[test]
    fn journals_written_with_sha256_names_still_open() -> Result<()> {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("st");
        let mut s = Staging::open(&dir, 1 << 20, false)?;
        s.stage(snap("c1", Some("g"), 1, b"one"))?;
        let digest = s.pending()[0].digest.clone();
        drop(s);
        // As an older collector wrote it: the field was `sha256`.
        let journal = dir.join("journal.json");
        let old = fs::read_to_string(&journal)
            .unwrap()
            .replace("\"digest\"", "\"sha256\"");
        assert!(old.contains("\"sha256\""));
        fs::write(&journal, old).unwrap();
        let s = Staging::open(&dir, 1 << 20, false)?;
        assert_eq!(s.pending()[0].digest, digest);
        assert_eq!(s.object(&digest).read().unwrap(), b"one");
        Ok(())
    }

    #[test]
    fn journals_of_older_collectors_keep_their_snapshot_info() -> Result<()> {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("st");
        fs::create_dir_all(dir.join("objects")).unwrap();
        let digest = digest_hex(b"one");
        fs::write(dir.join("objects").join(&digest), b"one").unwrap();
        // As collectors wrote it while `info` was untyped JSON.
        let journal = format!(
            r#"{{"version":1,"next_seq":1,"entries":[{{"key":"covdata/covcounters.ab.7.100",
            "meta_key":"metadata/covdata/covcounters.ab.7.100.json","sha256":"{digest}","size":3,
            "kind":"counters","source":"covdata:ab.7","group":"covdata:ab.7","order":100,"seq":0,
            "uploaded":false,"info":{{"source":"/cov/covcounters.ab.7.100","meta_hash":"ab",
            "pid":7,"dest_pid":7,"generation":0,"nanos":100,"args":["argv0=./srv"],
            "taken_at_unix_ms":1}}}}],"retire":[],"counters":{{"ab.7":{{"last_nanos":100,
            "generation":0}}}},"text":{{}}}}"#
        );
        fs::write(dir.join("journal.json"), journal).unwrap();
        let s = Staging::open(&dir, 1 << 20, false)?;
        let info = &s.pending()[0].info;
        assert_eq!((info.pid, info.nanos), (Some(7), Some(100)));
        assert_eq!(info.args.as_deref(), Some(&["argv0=./srv".to_string()][..]));
        assert_eq!(info.source, "/cov/covcounters.ab.7.100");
        Ok(())
    }

    #[test]
    fn file_payloads_are_copied_only_if_unchanged() -> Result<()> {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("p.cov");
        fs::write(&src, b"mode: set\na.go:1.1,1.2 1 1\n").unwrap();
        let file = |sig| {
            let mut s = snap("t", Some("g"), 1, b"");
            s.data = Payload::File {
                path: src.clone(),
                sig,
                digest: digest_hex(&fs::read(&src).unwrap()),
            };
            s
        };
        let mut s = Staging::open(&t.path().join("st"), 1 << 20, false)?;
        let sig = Sig::of(&fs::metadata(&src).unwrap());
        assert!(matches!(s.stage(file(sig))?, Staged::New { .. }));
        let e = &s.pending()[0];
        assert_eq!(s.object(&e.digest).read().unwrap(), fs::read(&src).unwrap());
        // Rewritten since it was read: refused, nothing recorded or left.
        fs::write(&src, b"mode: set\na.go:1.1,1.2 1 0\n").unwrap();
        let mut stale = file(sig);
        stale.order = 2;
        assert!(matches!(
            s.stage(stale),
            Err(CollectorError::SourceChanged(_))
        ));
        assert_eq!((s.pending().len(), objects(&t.path().join("st"))), (1, 1));
        fs::remove_file(&src).unwrap();
        let mut gone = snap("t", Some("g"), 3, b"");
        gone.data = Payload::File {
            path: src.clone(),
            sig,
            digest: "00".repeat(16),
        };
        assert!(matches!(
            s.stage(gone),
            Err(CollectorError::SourceChanged(_))
        ));
        Ok(())
    }

    #[test]
    fn dedupe_supersede_and_resume() {
        let t = tempfile::tempdir().unwrap();
        let mut s = Staging::open(t.path(), 1 << 20, false).unwrap();
        assert_eq!(
            s.stage(snap("m", None, 0, b"meta")).unwrap(),
            Staged::New { dropped: 0 }
        );
        assert_eq!(
            s.stage(snap("m", None, 0, b"meta")).unwrap(),
            Staged::Duplicate
        );
        s.stage(snap("c1", Some("g"), 1, b"one")).unwrap();
        s.stage(snap("c2", Some("g"), 2, b"two")).unwrap();
        // c1 was pending and is superseded: never uploaded.
        let keys: Vec<_> = s.pending().into_iter().map(|e| e.key).collect();
        assert_eq!(keys, ["m", "c2"]);
        let c2 = s.pending()[1].clone();
        s.mark_uploaded(&c2).unwrap();
        s.stage(snap("c3", Some("g"), 3, b"three")).unwrap();
        let c3 = s.pending()[1].clone();
        s.mark_uploaded(&c3).unwrap();
        assert_eq!(s.retire_list(), ["c2", "m/c2"]);
        // The reference object of the source survives the upload.
        assert_eq!(s.reference("g").unwrap().1.read().unwrap(), b"three");
        drop(s);
        // A restarted collector sees the same state.
        let mut s = Staging::open(t.path(), 1 << 20, false).unwrap();
        assert_eq!(s.retire_list(), ["c2", "m/c2"]);
        assert_eq!(s.pending().len(), 1);
        assert_eq!(
            s.stage(snap("c3", Some("g"), 3, b"three")).unwrap(),
            Staged::Duplicate
        );
        s.retired("c2").unwrap();
        s.retired("m/c2").unwrap();
        assert!(s.retire_list().is_empty());
    }

    #[test]
    fn superseded_while_uploading_is_retired_later() {
        let t = tempfile::tempdir().unwrap();
        let mut s = Staging::open(t.path(), 1 << 20, false).unwrap();
        s.stage(snap("c1", Some("g"), 1, b"one")).unwrap();
        let c1 = s.pending()[0].clone();
        // The uploader took c1; meanwhile c2 supersedes it in staging.
        s.stage(snap("c2", Some("g"), 2, b"two")).unwrap();
        // Not put any more...
        assert!(!s.mark_attempted(&c1).unwrap());
        // ...but if it was (an old uploader), it is tracked all the same.
        s.mark_uploaded(&c1).unwrap();
        // c1 is at the destination now and stays known until c2 arrives.
        assert!(s.retire_list().is_empty());
        let c2 = s.pending()[0].clone();
        assert_eq!(c2.key, "c2");
        s.mark_uploaded(&c2).unwrap();
        assert_eq!(s.retire_list(), ["c1", "m/c1"]);
        assert_eq!(s.state().entries.len(), 1);
    }

    #[test]
    fn crash_between_put_and_journal_still_retires() {
        let t = tempfile::tempdir().unwrap();
        let mut s = Staging::open(t.path(), 1 << 20, false).unwrap();
        s.stage(snap("c1", Some("g"), 1, b"one")).unwrap();
        let c1 = s.pending()[0].clone();
        assert!(s.mark_attempted(&c1).unwrap());
        // The put of c1 happened; the collector died before recording it.
        drop(s);
        let mut s = Staging::open(t.path(), 1 << 20, false).unwrap();
        s.stage(snap("c2", Some("g"), 2, b"two")).unwrap();
        let c2 = s.pending()[0].clone();
        assert_eq!(c2.key, "c2");
        s.mark_uploaded(&c2).unwrap();
        assert_eq!(s.retire_list(), ["c1", "m/c1"]);
    }

    #[test]
    fn second_collector_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let _a = Staging::open(t.path(), 100, false).unwrap();
        assert!(matches!(
            Staging::open(t.path(), 100, false),
            Err(CollectorError::StagingLocked(_))
        ));
    }

    #[test]
    fn budget_drops_oldest_superseded_first() {
        let t = tempfile::tempdir().unwrap();
        // keep_history so superseded pending entries stay until space runs out.
        let mut s = Staging::open(t.path(), 30, true).unwrap();
        s.stage(snap("a1", Some("a"), 1, &[1; 10])).unwrap();
        s.stage(snap("b1", Some("b"), 1, &[2; 10])).unwrap();
        s.stage(snap("a2", Some("a"), 2, &[3; 10])).unwrap();
        assert_eq!(s.used_bytes(), 30);
        // b2 does not fit: a1 (oldest superseded) goes first.
        assert_eq!(
            s.stage(snap("b2", Some("b"), 2, &[4; 10])).unwrap(),
            Staged::New { dropped: 1 }
        );
        let keys: Vec<_> = s.pending().into_iter().map(|e| e.key).collect();
        assert_eq!(keys, ["b1", "a2", "b2"]);
        // A new source with nothing superseded left to drop except b1.
        assert_eq!(
            s.stage(snap("c1", Some("c"), 1, &[5; 10])).unwrap(),
            Staged::New { dropped: 1 }
        );
        // Now every staged snapshot is the newest of its source: full.
        let err = s.stage(snap("d1", Some("d"), 1, &[6; 10])).unwrap_err();
        assert!(matches!(
            err,
            CollectorError::StagingFull {
                need: 10,
                used: 30,
                limit: 30
            }
        ));
        assert!(s.used_bytes() <= 30);
        assert_eq!(objects(t.path()), 3);
        // Once uploaded, reference copies give way, oldest first.
        let a2 = s.pending().into_iter().find(|e| e.key == "a2").unwrap();
        s.mark_uploaded(&a2).unwrap();
        assert_eq!(
            s.stage(snap("d1", Some("d"), 1, &[6; 10])).unwrap(),
            Staged::New { dropped: 1 }
        );
        assert!(s.reference("a").is_none());
        assert!(s.used_bytes() <= 30);
    }

    #[test]
    fn crash_leftovers_are_cleaned() {
        let t = tempfile::tempdir().unwrap();
        let mut s = Staging::open(t.path(), 1000, false).unwrap();
        s.stage(snap("a", Some("g"), 1, b"a")).unwrap();
        drop(s);
        // An object written just before a crash, never journaled.
        fs::write(t.path().join("objects").join("deadbeef"), b"x").unwrap();
        let s = Staging::open(t.path(), 1000, false).unwrap();
        assert_eq!(objects(t.path()), 1);
        assert_eq!(s.pending().len(), 1);
    }
}

//! Scanning a GOCOVERDIR: meta-data files once, and for each (meta hash,
//! pid) the newest complete counter file of every process generation.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use covlens_core::covdata::names::{FileName, META_MAGIC, check_meta_header, is_runtime_hash};
use covlens_core::covdata::{COUNTER_MAGIC, SNAPSHOT_KEY};
use covlens_prow::layout::{SnapshotKind, SnapshotSource, covdata_key, metadata_key};

use super::counters::{CounterData, continues, decode_counters};
use super::{Collector, ScanReport, not_a_file, unix_ms};
use crate::error::{CollectorError, Result};
use crate::staging::{CounterSource, NewSnapshot, Payload, Sig, State};

/// Generation `g` of pid `p` is shipped as pid `p + g·2^32`: distinct from
/// real pids and from covflush's synthetic ids (`p + k·2^22`, k < 1024), so
/// "newest file per (hash, pid)" keeps one file per process.
const GENERATION_SHIFT: u32 = 32;

/// A counter file found by a scan: (nanos, path, signature).
type CounterFile = (u64, PathBuf, Sig);

impl Collector {
    pub(super) fn scan_covdata(&mut self, now: Instant, rep: &mut ScanReport) -> Result<()> {
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
                Ok(m) => {
                    self.reject(&path, Sig::of(&m), not_a_file(&m), rep);
                    // Present: said once, not again on every scan.
                    present.insert(path);
                    continue;
                }
                Err(_) => continue,
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
        if self.too_large(path, sig, now, rep) {
            return Ok(());
        }
        let Some(data) = Self::copy(path, sig, META_MAGIC)? else {
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
        let (e, object) = self.staging.reference(source)?;
        let r = (e.order, decode_counters(&object.read().ok()?).ok()?);
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
            if self.too_large(&path, sig, now, rep) {
                continue;
            }
            let Some(data) = Self::copy(&path, sig, COUNTER_MAGIC)? else {
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
            // pid 0 is `covdata merge` output, not a process, and a file
            // covflush did not mark as a snapshot is what one process wrote
            // at exit (pids repeat: pid 1 in every restarted container):
            // such files count on their own (each its own generation).
            let snapshot = pid != 0
                && decoded
                    .args
                    .iter()
                    .any(|(k, _)| k == SNAPSHOT_KEY.as_bytes());
            let same = match &reference {
                _ if !snapshot => !started,
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
                            // Text for people: arguments that are not
                            // UTF-8 are shown lossily (the file keeps them).
                            .map(|(k, v)| {
                                format!(
                                    "{}={}",
                                    String::from_utf8_lossy(k),
                                    String::from_utf8_lossy(v)
                                )
                            })
                            .collect(),
                    ),
                    taken_at_unix_ms: unix_ms(),
                    unconfirmed: false,
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
}

#[cfg(test)]
mod tests {
    use super::super::counters::tests::{
        counter_file, counter_file_with, meta_file, unmarked_counter_file,
    };
    use super::super::tests::{pending_keys, setup};
    use super::*;
    use crate::config::SourceKind;
    use crate::staging::Entry;
    use std::sync::Arc;
    use std::time::Duration;

    const H: [u8; 16] = [0xab; 16];

    fn hash() -> String {
        "ab".repeat(16)
    }

    fn write_counters(dir: &Path, pid: u64, nanos: u64, argv: &str, ctrs: &[u32]) {
        let name = format!("covcounters.{}.{pid}.{nanos}", hash());
        fs::write(dir.join(name), counter_file(H, argv, &[(0, 0, ctrs)])).unwrap();
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

    /// What is no regular file under a coverage file's name is not read,
    /// and said (once): a link, a directory, a FIFO.
    #[test]
    fn links_directories_and_fifos_are_rejected_once() {
        let (t, mut c) = setup(SourceKind::Covdata);
        let dir = t.path().join("cov");
        let outside = t.path().join("outside");
        fs::write(&outside, meta_file(H)).unwrap();
        std::os::unix::fs::symlink(&outside, dir.join(format!("covmeta.{}", hash()))).unwrap();
        fs::create_dir(dir.join(format!("covcounters.{}.1.1", hash()))).unwrap();
        let fifo = dir.join(format!("covcounters.{}.2.1", hash()));
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let rep = c.scan(Instant::now()).unwrap();
        assert_eq!((rep.staged, rep.rejected), (0, 3));
        let rep = c.scan(Instant::now()).unwrap();
        assert_eq!((rep.staged, rep.rejected), (0, 0));
    }

    /// Files covflush did not mark are one process's exit-time write each:
    /// processes that had the same pid (restarted containers) all ship,
    /// even when one's counters continue another's, or equal them.
    #[test]
    fn unmarked_files_of_one_pid_all_ship() {
        let (t, mut c) = setup(SourceKind::Covdata);
        let dir = t.path().join("cov");
        for (nanos, ctrs) in [(100, [1, 0]), (200, [1, 0]), (300, [2, 1])] {
            let name = format!("covcounters.{}.1.{nanos}", hash());
            let f = unmarked_counter_file(H, "./job", &[(0, 0, &ctrs)]);
            fs::write(dir.join(name), f).unwrap();
        }
        c.scan(Instant::now()).unwrap();
        let g = |n: u64| 1 + (n << 32);
        assert_eq!(
            pending_keys(&c),
            [
                format!("covcounters.{}.1.100", hash()),
                format!("covcounters.{}.{}.200", hash(), g(1)),
                format!("covcounters.{}.{}.300", hash(), g(2)),
            ]
        );
    }

    /// Arguments are bytes: a process run with `$'caf\xe9'` ships (its
    /// metadata shows the argument lossily).
    #[test]
    fn non_utf8_arguments_ship() {
        let (t, mut c) = setup(SourceKind::Covdata);
        let dir = t.path().join("cov");
        let name = format!("covcounters.{}.9.100", hash());
        let f = counter_file_with(H, &[(b"argv0", b"caf\xe9")], &[(0, 0, &[1])]);
        fs::write(dir.join(&name), f).unwrap();
        let rep = c.scan(Instant::now()).unwrap();
        assert_eq!((rep.staged, rep.rejected), (1, 0));
        assert_eq!(pending_keys(&c), [name]);
        let e = c.staging().pending().pop().unwrap();
        assert_eq!(
            e.info.args.as_deref(),
            Some(&["argv0=caf\u{fffd}".to_string()][..])
        );
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

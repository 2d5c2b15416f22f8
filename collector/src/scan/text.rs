//! Scanning a text profile: read it once (compared with the last shipped
//! snapshot, or parsed), have it judged, and stage it under its process
//! generation.

use std::fs;
use std::io::Seek;
use std::path::Path;
use std::time::Instant;

use covlens_prow::layout::{SnapshotKind, SnapshotSource, metadata_key, text_key};
use xxhash_rust::xxh3::Xxh3;

use super::{Collector, ScanReport, unix_ms};
use crate::config::TextWriter;
use crate::error::{CollectorError, Result, esc};
use crate::fsat::open_source;
use crate::metrics::Metrics;
use crate::staging::{NewSnapshot, Object, Payload, Sig, State, digest_of};
use crate::text::{Compared, ReadError, Reference, Shape, TextJudge, Verdict, compare_lines};

/// How a text snapshot was read.
enum Reading {
    /// Line for line the reference's layout.
    SameLayout { continues: bool },
    /// Parsed in full (or not a profile).
    Parsed(Result<Shape, String>),
}

impl Collector {
    /// Reads a text profile, streaming, and its digest: compared line by
    /// line with the reference's staged copy when there is one, else (or if
    /// that cannot decide) parsed. `None` if it changed or vanished
    /// meanwhile.
    fn read_text(
        path: &Path,
        sig: Sig,
        reference: Option<&Object>,
    ) -> Result<Option<(Reading, String)>> {
        let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
        let io_err = |e: std::io::Error| CollectorError::io("reading", path, e);
        let mut f = match open_source(path) {
            Ok((f, m)) if Sig::of(&m) == sig => f,
            Ok(_) => return Ok(None),
            Err(e) if gone(&e) => return Ok(None),
            Err(e) => return Err(io_err(e)),
        };
        let mut hasher = Xxh3::new();
        let mut read = 0u64;
        let mut reading = None;
        if let Some(r) = reference.and_then(|o| o.open().ok()) {
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
        // Written meanwhile (the descriptor sees writes in place; a
        // rename-in leaves this file as it was, read whole).
        let after = Sig::of(&f.metadata().map_err(io_err)?);
        // A corrupt file is read only up to its first bad line.
        let complete = !matches!(reading, Reading::Parsed(Err(_)));
        if after != sig || (complete && read != sig.len) {
            return Ok(None);
        }
        Ok(Some((reading, digest_of(hasher.digest128()))))
    }

    pub(super) fn scan_text(&mut self, now: Instant, rep: &mut ScanReport) -> Result<()> {
        let path = self.cfg.watch.clone();
        // Not through a link: the component could point it at any file the
        // collector can read.
        let sig = match fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => Sig::of(&m),
            Ok(m) => {
                self.reject(&path, Sig::of(&m), super::not_a_file(&m), rep);
                return Ok(());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(CollectorError::io("reading", &path, e)),
        };
        if self.text_last == Some(sig) {
            return Ok(());
        }
        // A renamed-in file never changes, so no settle delay: it would only
        // hide writes of a fast writer (and with them process restarts).
        // Other files are also read before they settled (a writer faster
        // than the settle delay never lets them), once per write; the judge
        // trusts such copies less.
        let renamed = self.cfg.text_writer == TextWriter::Rename;
        let settled = renamed || self.stable(&path, sig, now);
        if !settled && self.text_tried == Some(sig) {
            rep.unsettled += 1;
            return Ok(());
        }
        let reference = self
            .text
            .as_ref()
            .and_then(TextJudge::reference_file)
            .cloned();
        let Some((reading, digest)) = Self::read_text(&path, sig, reference.as_ref())? else {
            rep.unsettled += 1;
            return Ok(());
        };
        let confirm = self.cfg.text_writer == TextWriter::InPlace;
        let judge = self.text.get_or_insert_with(TextJudge::default);
        let verdict = match reading {
            Reading::SameLayout { continues } => judge.judge_same(continues, settled),
            Reading::Parsed(shape) => judge.judge(shape, sig.write_id(), confirm, settled),
        };
        tracing::debug!(path = %esc(&path), ?verdict, settled, "text snapshot judged");
        if verdict == Verdict::Unsettled {
            self.text_tried = Some(sig);
            rep.unsettled += 1;
            return Ok(());
        }
        self.text_last = Some(sig);
        match verdict {
            Verdict::Corrupt(reason) => self.reject(&path, sig, &reason, rep),
            Verdict::Partial => {
                Metrics::add(&self.metrics.rejected_partial, 1);
                tracing::warn!(path = %esc(&path), "text profile is a truncated write (fewer blocks than before); not shipped");
                rep.rejected += 1;
            }
            Verdict::Hold => {
                tracing::info!(path = %esc(&path), "new profile layout; waiting for another write to confirm it is complete");
                self.text_held = Some((sig, digest));
                rep.held += 1;
            }
            Verdict::Ship { new_generation } => {
                if !self.stage_text(sig, digest, new_generation, false, rep)? {
                    // Not staged: the judge is unchanged, so the retry sees
                    // the same history (a generation change is not lost).
                    self.text_last = None;
                }
            }
            Verdict::Unsettled => unreachable!("returned above"),
        }
        Ok(())
    }

    /// Stages the text snapshot `digest`, read from the watched file at
    /// `sig`, and makes it the judge's reference. False if it could not be
    /// staged (changed meanwhile, staging full).
    fn stage_text(
        &mut self,
        sig: Sig,
        digest: String,
        new_generation: bool,
        unconfirmed: bool,
        rep: &mut ScanReport,
    ) -> Result<bool> {
        let path = self.cfg.watch.clone();
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
                unconfirmed,
                ..SnapshotSource::default()
            },
        };
        let commit = |s: &mut State| {
            let t = s.text.entry(source).or_default();
            t.generation = generation;
            t.count += 1;
        };
        if !self.stage(snap, rep, commit)? {
            return Ok(false);
        }
        let staged = self.staging.object(&digest);
        if let Some(j) = self.text.as_mut() {
            j.accept(Reference::File(staged), !unconfirmed);
        }
        self.text_held = None;
        Ok(true)
    }

    /// At shutdown: stages the held text snapshot (a new layout, stable
    /// and fully parsed, that no other write confirmed) if the file is
    /// still that write, marked unconfirmed in its metadata: the last
    /// complete-looking state beats nothing. Returns whether it was staged.
    pub(crate) fn ship_held(&mut self) -> Result<bool> {
        let Some((sig, digest)) = self.text_held.clone() else {
            return Ok(false);
        };
        let path = self.cfg.watch.clone();
        let still = fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && Sig::of(&m) == sig);
        if !still {
            return Ok(false);
        }
        let new_generation = self
            .text
            .as_ref()
            .is_some_and(TextJudge::held_new_generation);
        let staged = self.stage_text(
            sig,
            digest,
            new_generation,
            true,
            &mut ScanReport::default(),
        )?;
        if staged {
            tracing::warn!(
                path = %esc(&path),
                "shipped a text snapshot whose new layout no other write confirmed (marked unconfirmed)"
            );
        }
        Ok(staged)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::setup;
    use super::*;
    use crate::config::SourceKind;
    use std::fs;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// A text collector as `covlens collect` runs by default: an in-place
    /// writer, settle 500 ms.
    fn in_place() -> (tempfile::TempDir, Collector) {
        let (t, c) = setup(SourceKind::Text);
        let mut cfg = c.config().clone();
        drop(c);
        cfg.text_writer = TextWriter::InPlace;
        cfg.settle = Duration::from_millis(500);
        let c = Collector::open(cfg, Arc::default()).unwrap();
        (t, c)
    }

    /// Same layout every time; counts of different lengths, so every write
    /// has another size (mtimes may not tell writes apart).
    fn write_in_place(p: &std::path::Path, n: u32) {
        let c = 10u64.pow(n);
        fs::write(
            p,
            format!("mode: count\na.go:1.1,2.2 1 {c}\nb.go:1.1,3.2 2 {c}\n"),
        )
        .unwrap();
    }

    fn contents(c: &Collector) -> Vec<String> {
        c.uploads()
            .iter()
            .map(|u| String::from_utf8(u.object.read().unwrap()).unwrap())
            .collect()
    }

    /// Issue 10, item 7: a writer faster than the settle delay.
    #[test]
    fn writer_faster_than_settle_is_shipped_between_writes() {
        let (t, mut c) = in_place();
        let p = t.path().join("cov/p.cov");
        let t0 = Instant::now();
        // A write every 200 ms from the first on; a scan after each.
        for n in 0..8 {
            write_in_place(&p, n);
            let rep = c.scan(t0 + Duration::from_millis(200) * n).unwrap();
            assert_eq!(rep.rejected, 0);
            // Four copies of four writes confirm the new layout; from then
            // on every write is shipped (rule 2).
            assert_eq!(c.uploads().len(), usize::from(n >= 3), "write {n}");
        }
        assert!(contents(&c)[0].contains(" 10000000\n"));
    }

    /// Issue 10, item 7: the held snapshot is shipped at shutdown.
    #[test]
    fn held_snapshot_is_shipped_unconfirmed_at_shutdown() {
        let (t, mut c) = in_place();
        let p = t.path().join("cov/p.cov");
        let t0 = Instant::now();
        write_in_place(&p, 1);
        assert_eq!(c.scan(t0).unwrap().unsettled, 1);
        assert_eq!(c.scan(t0 + Duration::from_secs(1)).unwrap().held, 1);
        assert!(c.uploads().is_empty());
        assert!(c.ship_held().unwrap());
        let ups = c.uploads();
        assert_eq!(contents(&c), [fs::read_to_string(&p).unwrap()]);
        let meta: serde_json::Value = serde_json::from_slice(&ups[0].metadata).unwrap();
        assert_eq!(meta["unconfirmed"], true);
        assert!(!c.ship_held().unwrap(), "shipped twice");
        // A restarted collector: copies of that layout read before they
        // settled are not trusted; a settled one confirms it and continues
        // the generation.
        let cfg = c.config().clone();
        drop(c);
        let mut c = Collector::open(cfg, Arc::default()).unwrap();
        write_in_place(&p, 2);
        let t1 = Instant::now();
        assert_eq!(c.scan(t1).unwrap().unsettled, 1);
        assert_eq!(c.uploads().len(), 1);
        assert_eq!(c.scan(t1 + Duration::from_secs(1)).unwrap().staged, 1);
        let ups = c.uploads();
        assert_eq!(ups.len(), 1, "superseded in its generation");
        assert!(ups[0].key.ends_with("text/0000-p.cov"));
        let meta: serde_json::Value = serde_json::from_slice(&ups[0].metadata).unwrap();
        assert!(meta.get("unconfirmed").is_none());
        // Not the held write any more: nothing to ship at shutdown.
        write_in_place(&p, 3);
        assert!(!c.ship_held().unwrap());
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
            .map(|u| (u.key.clone(), u.object.read().unwrap()))
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
}

//! When a text profile on disk is a complete snapshot.
//!
//! The legacy Kubernetes wrapper rewrites its profile every few seconds, and
//! other writers truncate the file and write it in pieces. A copy taken at
//! the wrong moment, or the file left behind by a writer killed mid-write,
//! can be cut anywhere — including exactly at a line boundary, where it
//! still parses. The rules, applied after the file was stable (same size,
//! mtime, ctime and inode across the settle delay and around the copy):
//!
//! 1. It must end with a newline and parse with covlens-core, with a mode
//!    line and at least one block. (Catches any cut inside a line: Go ends
//!    every line with `\n`.)
//! 2. Go writes every block of every instrumented file in each snapshot,
//!    zero counts included, so the *layout* (the set of blocks, counts
//!    ignored) of one binary never changes. A snapshot whose layout equals
//!    the reference (the last shipped snapshot's) is complete.
//! 3. A layout that is a strict subset of the reference is a truncated
//!    write and is rejected as partial.
//! 4. Any other new layout (first snapshot, new binary) is held until a
//!    second write — a different (mtime, size, inode) — shows the same
//!    layout: a writer killed mid-write never writes again, and two writes
//!    cut at the very same line are not a realistic coincidence. A confirmed
//!    strict subset is accepted the same way (a binary that lost code).
//!
//! With `--text-writer=rename` (writers that publish by rename, such as
//! covflush and Go's own `-coverprofile` temp-and-rename in the Kubernetes
//! wrapper) rule 1 alone decides: a file is never visible half written, and
//! no settle delay is needed (with in-place writers the settle delay must be
//! shorter than the writer's interval, or the file never looks stable).
//!
//! Generations: counts of one process only grow, so a snapshot in which a
//! count went down, or whose layout changed, comes from a new process. The
//! previous snapshot is then the final state of the previous process and is
//! kept under its own key; readers merge generations, and take only the
//! newest snapshot within one. A text profile carries no process identity,
//! so this is a heuristic: it relies on seeing one of the new process's
//! early snapshots (lower counts) before its counts pass the old ones. The
//! binary GOCOVERDIR route has pids and is exact.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use covlens_core::{ParseOptions, parse_bytes};

/// A parsed snapshot reduced to what the rules need: block key → count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    mode: String,
    blocks: HashMap<u64, u64>,
}

impl Shape {
    /// Parses a snapshot, applying rule 1.
    pub(crate) fn parse(data: &[u8], name: &str) -> Result<Shape, String> {
        if data.last() != Some(&b'\n') {
            return Err("does not end with a newline (cut inside a line)".into());
        }
        let opts = ParseOptions {
            parallel: false,
            mmap: false,
            ..ParseOptions::default()
        };
        let p = parse_bytes(data, name, &opts).map_err(|e| e.to_string())?;
        let mode = p.mode.as_ref().ok_or("no mode line")?.as_str().to_string();
        let mut blocks = HashMap::with_capacity(p.block_count());
        for f in &p.files {
            for b in &f.blocks {
                let mut h = DefaultHasher::new();
                (f.name.as_str(), b.key(), b.num_stmt).hash(&mut h);
                blocks.insert(h.finish(), b.count);
            }
        }
        if blocks.is_empty() {
            return Err("no blocks".into());
        }
        Ok(Shape { mode, blocks })
    }

    fn same_layout(&self, other: &Shape) -> bool {
        self.blocks.len() == other.blocks.len() && self.subset_of(other)
    }

    fn subset_of(&self, other: &Shape) -> bool {
        self.blocks.keys().all(|k| other.blocks.contains_key(k))
    }

    /// Whether `self` can follow `prev` in one process: same mode and
    /// layout, no count lower.
    fn continues(&self, prev: &Shape) -> bool {
        self.mode == prev.mode
            && self.same_layout(prev)
            && prev
                .blocks
                .iter()
                .all(|(k, c)| self.blocks.get(k).is_some_and(|n| n >= c))
    }
}

/// What to do with one stable copy of a text profile.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Ship it; `new_generation` when it starts a new process generation.
    Ship {
        /// The previous generation is final.
        new_generation: bool,
    },
    /// Not shipped yet: a new layout waiting for confirmation.
    Hold,
    /// A strict subset of the known layout: a truncated write.
    Partial,
    /// Does not parse, or cut inside a line.
    Corrupt(String),
}

/// Per-source judge. The reference survives restarts (the caller reloads it
/// from the staging directory); the candidate is only kept in memory.
#[derive(Clone, Debug, Default)]
pub(crate) struct TextJudge {
    reference: Option<Shape>,
    candidate: Option<(Shape, u128)>,
}

impl TextJudge {
    /// A judge whose reference is the given last shipped snapshot.
    pub(crate) fn with_reference(reference: Option<Shape>) -> TextJudge {
        TextJudge {
            reference,
            candidate: None,
        }
    }

    /// Judges a stable copy. `write_id` identifies the write (a digest of
    /// size, mtime, ctime, inode); `confirm` is false for rename writers.
    /// For [`Verdict::Ship`] the parsed snapshot comes back: pass it to
    /// [`TextJudge::accept`] once it is staged (nothing changes otherwise,
    /// so a snapshot that could not be staged is judged the same next time).
    pub(crate) fn judge(
        &mut self,
        data: &[u8],
        name: &str,
        write_id: u128,
        confirm: bool,
    ) -> (Verdict, Option<Shape>) {
        let shape = match Shape::parse(data, name) {
            Ok(s) => s,
            Err(e) => return (Verdict::Corrupt(e), None),
        };
        let verdict = match &self.reference {
            Some(r) if shape.same_layout(r) && shape.mode == r.mode => Verdict::Ship {
                new_generation: !shape.continues(r),
            },
            Some(r) if confirm && shape.blocks.len() < r.blocks.len() && shape.subset_of(r) => {
                if self.confirmed(&shape, write_id) {
                    Verdict::Ship {
                        new_generation: true,
                    }
                } else {
                    Verdict::Partial
                }
            }
            reference => {
                if !confirm || self.confirmed(&shape, write_id) {
                    Verdict::Ship {
                        new_generation: reference.is_some(),
                    }
                } else {
                    Verdict::Hold
                }
            }
        };
        match verdict {
            Verdict::Ship { .. } => (verdict, Some(shape)),
            _ => {
                self.candidate = Some((shape, write_id));
                (verdict, None)
            }
        }
    }

    /// Makes a shipped snapshot the reference.
    pub(crate) fn accept(&mut self, shape: Shape) {
        self.reference = Some(shape);
        self.candidate = None;
    }

    fn confirmed(&self, shape: &Shape, write_id: u128) -> bool {
        self.candidate
            .as_ref()
            .is_some_and(|(c, id)| *id != write_id && c.same_layout(shape) && c.mode == shape.mode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = "mode: count\na.go:1.1,2.2 1 3\na.go:3.1,4.2 2 0\nb.go:1.1,1.9 1 1\n";

    impl TextJudge {
        /// judge + accept, as the collector does when staging succeeds.
        fn run(&mut self, data: &[u8], name: &str, id: u128, confirm: bool) -> Verdict {
            let (v, shape) = self.judge(data, name, id, confirm);
            if let Some(s) = shape {
                self.accept(s);
            }
            v
        }
    }

    fn ship(g: bool) -> Verdict {
        Verdict::Ship { new_generation: g }
    }

    #[test]
    fn rule1_cut_inside_a_line_or_garbage() {
        for bad in [
            "mode: count\na.go:1.1,2.2 1 3\na.go:3.1,4.2 2 0\nb.go:1.1,1.9 1 1",
            "mode: count\na.go:1.1,2.2 1 3\na.go:3.1,4.2 2 0\nb.go:1.1,1.",
            "mode: count\na.go:1.1,2.2 1 3\na.go:3.1,4.2 2",
            "mode: count\n",
            "",
            "garbage\n",
        ] {
            let mut j = TextJudge::default();
            assert!(
                matches!(j.run(bad.as_bytes(), "p", 1, true), Verdict::Corrupt(_)),
                "{bad:?}"
            );
        }
        // A count cut short ("3" of "30") is caught by the missing newline.
        let mut j = TextJudge::default();
        assert!(matches!(
            j.run(b"mode: count\na.go:1.1,2.2 1 3", "p", 1, false),
            Verdict::Corrupt(_)
        ));
    }

    #[test]
    fn new_layout_needs_a_second_write() {
        let mut j = TextJudge::default();
        assert_eq!(j.run(FULL.as_bytes(), "p", 1, true), Verdict::Hold);
        // Same write seen again: still unconfirmed.
        assert_eq!(j.run(FULL.as_bytes(), "p", 1, true), Verdict::Hold);
        let later = FULL.replace(" 1 3\n", " 1 5\n");
        assert_eq!(j.run(later.as_bytes(), "p", 2, true), ship(false));
        // Rename writers: shipped at once.
        let mut j = TextJudge::default();
        assert_eq!(j.run(FULL.as_bytes(), "p", 1, false), ship(false));
    }

    #[test]
    fn line_boundary_truncation_is_partial() {
        let mut j = TextJudge::with_reference(Some(Shape::parse(FULL.as_bytes(), "p").unwrap()));
        let cut = "mode: count\na.go:1.1,2.2 1 3\na.go:3.1,4.2 2 0\n";
        assert_eq!(j.run(cut.as_bytes(), "p", 7, true), Verdict::Partial);
        // The abandoned file stays partial however often it is looked at.
        assert_eq!(j.run(cut.as_bytes(), "p", 7, true), Verdict::Partial);
        // The next complete write is fine and continues the generation.
        assert_eq!(j.run(FULL.as_bytes(), "p", 8, true), ship(false));
    }

    #[test]
    fn truncated_first_snapshot_is_never_shipped() {
        let mut j = TextJudge::default();
        let cut = "mode: count\na.go:1.1,2.2 1 3\n";
        assert_eq!(j.run(cut.as_bytes(), "p", 1, true), Verdict::Hold);
        // The full file is a different layout: a new candidate, not a
        // confirmation of the cut one.
        assert_eq!(j.run(FULL.as_bytes(), "p", 2, true), Verdict::Hold);
        assert_eq!(j.run(FULL.as_bytes(), "p", 3, true), ship(false));
    }

    #[test]
    fn restart_starts_a_generation() {
        let mut j = TextJudge::default();
        assert_eq!(j.run(FULL.as_bytes(), "p", 1, false), ship(false));
        let more = FULL.replace(" 1 3\n", " 1 9\n");
        assert_eq!(j.run(more.as_bytes(), "p", 2, false), ship(false));
        // A count went down: a new process.
        assert_eq!(j.run(FULL.as_bytes(), "p", 3, false), ship(true));
        // A new binary (different layout) after confirmation: new generation.
        let other = "mode: count\nc.go:1.1,2.2 1 1\n";
        let mut j2 = TextJudge::with_reference(Some(Shape::parse(FULL.as_bytes(), "p").unwrap()));
        assert_eq!(j2.run(other.as_bytes(), "p", 4, true), Verdict::Hold);
        assert_eq!(j2.run(other.as_bytes(), "p", 5, true), ship(true));
    }

    #[test]
    fn confirmed_shrink_is_accepted() {
        let mut j = TextJudge::with_reference(Some(Shape::parse(FULL.as_bytes(), "p").unwrap()));
        let smaller = "mode: count\na.go:1.1,2.2 1 3\n";
        assert_eq!(j.run(smaller.as_bytes(), "p", 1, true), Verdict::Partial);
        assert_eq!(j.run(smaller.as_bytes(), "p", 2, true), ship(true));
    }
}

//! The completeness judge: rules 2 to 4 over snapshot shapes, with the
//! candidate layout that waits for confirmation.

use covlens_core::Mode;

use super::Shape;
use crate::staging::Object;

/// What to do with one copy of a text profile.
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
    /// Read while the file was still changing and not decided by rule 2:
    /// look again later (nothing is rejected on such a copy).
    Unsettled,
}

/// The last shipped snapshot, which new ones are compared with.
#[derive(Clone, Debug)]
pub(crate) enum Reference {
    /// Its staged copy, parsed only when [`compare_lines`](super::compare_lines) cannot decide,
    /// so no per-block state stays in memory between snapshots.
    File(Object),
    /// Already parsed.
    #[cfg_attr(not(test), allow(dead_code))]
    Shape(Shape),
}

impl Reference {
    /// The shape; `None` if the staged copy is gone or unreadable (the
    /// snapshot is then judged as the first of its source).
    fn shape(&self) -> Option<Shape> {
        match self {
            Reference::Shape(s) => Some(s.clone()),
            Reference::File(o) => {
                let f = o.open().ok()?;
                Shape::read(f, &o.path().display().to_string(), |_| Ok(())).ok()
            }
        }
    }
}

/// Per-source judge. The reference survives restarts (the caller reloads it
/// from the staging directory); candidates are only kept in memory, as
/// their layout digests and the writes they were seen in.
#[derive(Clone, Debug, Default)]
pub(crate) struct TextJudge {
    reference: Option<Reference>,
    /// The reference's layout was confirmed (false for a snapshot shipped
    /// unconfirmed at the last shutdown).
    confirmed: bool,
    /// The new layout last seen in a settled copy, and its sightings.
    candidate: Option<Candidate>,
    /// Another new layout seen only in unsettled copies. Kept apart, so
    /// that copies of a writer caught mid-write (prefixes, in unsettled
    /// copies only) never displace what settled copies showed, while a
    /// writer that never lets its file settle still gets a candidate.
    challenger: Option<Candidate>,
}

/// Weight of a sighting of a new layout in a copy read after the file was
/// stable for the settle delay.
const SETTLED: u32 = 2;
/// Weight of a sighting in a copy read while the file kept changing
/// (unchanged during the read, complete by rule 1).
const UNSETTLED: u32 = 1;
/// Weight that confirms a new layout, over at least two writes: two
/// settled copies, or one settled and two unsettled, or four unsettled in
/// a row (a writer faster than the settle delay).
const CONFIRMED: u32 = 4;

/// A layout seen, waiting for confirmation.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Candidate {
    mode: Mode,
    layout: u64,
    blocks: usize,
    /// Writes it was seen in (a digest of size, mtime, ctime, inode) and
    /// the heavier weight each was seen with.
    writes: Vec<(u128, u32)>,
}

impl Candidate {
    fn of(shape: &Shape) -> Candidate {
        Candidate {
            mode: shape.mode.clone(),
            layout: shape.layout,
            blocks: shape.blocks.len(),
            writes: Vec::new(),
        }
    }

    fn same(&self, shape: &Shape) -> bool {
        self.layout == shape.layout && self.blocks == shape.blocks.len() && self.mode == shape.mode
    }

    /// Records a sighting; true once confirmed.
    fn add(&mut self, write_id: u128, weight: u32) -> bool {
        match self.writes.iter_mut().find(|w| w.0 == write_id) {
            Some(w) => w.1 = w.1.max(weight),
            None => {
                if self.writes.len() >= CONFIRMED as usize {
                    self.writes.remove(0);
                }
                self.writes.push((write_id, weight));
            }
        }
        self.writes.len() >= 2 && self.writes.iter().map(|w| w.1).sum::<u32>() >= CONFIRMED
    }
}

impl TextJudge {
    /// A judge whose reference is the given last shipped snapshot, and
    /// whether its layout was confirmed.
    pub(crate) fn with_reference(reference: Option<Reference>, confirmed: bool) -> TextJudge {
        TextJudge {
            reference,
            confirmed,
            candidate: None,
            challenger: None,
        }
    }

    /// The staged copy of the reference, for [`compare_lines`](super::compare_lines).
    pub(crate) fn reference_file(&self) -> Option<&Object> {
        match &self.reference {
            Some(Reference::File(p)) => Some(p),
            _ => None,
        }
    }

    /// Whether a held snapshot (see [`Verdict::Hold`]), if shipped, starts
    /// a new generation.
    pub(crate) fn held_new_generation(&self) -> bool {
        self.reference.is_some()
    }

    /// Judges a snapshot that [`compare_lines`](super::compare_lines) found
    /// to have the reference's layout. `settled`: read after the file was
    /// stable for the settle delay. A copy read while the file kept
    /// changing is complete by rule 2 only if the reference's layout was
    /// confirmed.
    pub(crate) fn judge_same(&self, continues: bool, settled: bool) -> Verdict {
        if settled || self.confirmed {
            Verdict::Ship {
                new_generation: !continues,
            }
        } else {
            Verdict::Unsettled
        }
    }

    /// Judges a copy, read with [`Shape::read`]. `write_id` identifies the
    /// write (a digest of size, mtime, ctime, inode); `confirm` is false for
    /// rename writers; `settled` tells whether the file was stable for the
    /// settle delay (else it was only unchanged while it was read: rule 2
    /// ships it, new layouts count it as a lighter sighting, and nothing is
    /// rejected on it). After [`Verdict::Ship`], call [`TextJudge::accept`]
    /// once the snapshot is staged (nothing changes otherwise, so a
    /// snapshot that could not be staged is judged the same next time).
    pub(crate) fn judge(
        &mut self,
        shape: Result<Shape, String>,
        write_id: u128,
        confirm: bool,
        settled: bool,
    ) -> Verdict {
        let shape = match shape {
            Ok(s) => s,
            Err(_) if !settled => return Verdict::Unsettled,
            Err(e) => return Verdict::Corrupt(e),
        };
        let reference = self.reference.as_ref().and_then(Reference::shape);
        match &reference {
            Some(r) if shape.same_layout(r) && shape.mode == r.mode => {
                self.judge_same(shape.continues(r), settled)
            }
            Some(r) if confirm && shape.blocks.len() < r.blocks.len() && shape.subset_of(r) => {
                if !settled {
                    // Most likely a write in progress.
                    Verdict::Unsettled
                } else if self.seen(&shape, write_id, settled) {
                    Verdict::Ship {
                        new_generation: true,
                    }
                } else {
                    Verdict::Partial
                }
            }
            reference => {
                if !confirm || self.seen(&shape, write_id, settled) {
                    Verdict::Ship {
                        new_generation: reference.is_some(),
                    }
                } else if settled {
                    Verdict::Hold
                } else {
                    Verdict::Unsettled
                }
            }
        }
    }

    /// Makes a shipped snapshot the reference; `confirmed` is false for one
    /// shipped without confirmation at shutdown.
    pub(crate) fn accept(&mut self, reference: Reference, confirmed: bool) {
        self.reference = Some(reference);
        self.confirmed = confirmed;
        self.candidate = None;
        self.challenger = None;
    }

    /// Records a sighting of the shape's layout in a write; true once the
    /// layout is confirmed. A settled copy of another layout replaces the
    /// candidate; an unsettled one only the challenger (which a settled
    /// copy of its layout promotes).
    fn seen(&mut self, shape: &Shape, write_id: u128, settled: bool) -> bool {
        if settled {
            if self.challenger.as_ref().is_some_and(|c| c.same(shape)) {
                self.candidate = self.challenger.take();
            }
            let c = match &mut self.candidate {
                Some(c) if c.same(shape) => c,
                _ => self.candidate.insert(Candidate::of(shape)),
            };
            return c.add(write_id, SETTLED);
        }
        if let Some(c) = self.candidate.as_mut().filter(|c| c.same(shape)) {
            return c.add(write_id, UNSETTLED);
        }
        let c = match &mut self.challenger {
            Some(c) if c.same(shape) => c,
            _ => self.challenger.insert(Candidate::of(shape)),
        };
        c.add(write_id, UNSETTLED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = "mode: count\na.go:1.1,2.2 1 3\na.go:3.1,4.2 2 0\nb.go:1.1,1.9 1 1\n";

    impl TextJudge {
        /// judge + accept, as the collector does when staging succeeds.
        fn run(&mut self, data: &[u8], name: &str, id: u128, confirm: bool) -> Verdict {
            self.run_read(data, name, id, confirm, true)
        }

        /// `run` of a copy read settled or not.
        fn run_read(
            &mut self,
            data: &[u8],
            name: &str,
            id: u128,
            confirm: bool,
            settled: bool,
        ) -> Verdict {
            let v = self.judge(Shape::parse(data, name), id, confirm, settled);
            if matches!(v, Verdict::Ship { .. }) {
                self.accept(Reference::Shape(Shape::parse(data, name).unwrap()), true);
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
        let mut j = TextJudge::with_reference(
            Some(Reference::Shape(
                Shape::parse(FULL.as_bytes(), "p").unwrap(),
            )),
            true,
        );
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
        let mut j2 = TextJudge::with_reference(
            Some(Reference::Shape(
                Shape::parse(FULL.as_bytes(), "p").unwrap(),
            )),
            true,
        );
        assert_eq!(j2.run(other.as_bytes(), "p", 4, true), Verdict::Hold);
        assert_eq!(j2.run(other.as_bytes(), "p", 5, true), ship(true));
    }

    #[test]
    fn unsettled_copies_ship_by_a_confirmed_layout_or_enough_sightings() {
        let full = FULL.as_bytes();
        let unsettled = Verdict::Unsettled;
        // A writer faster than the settle delay, from its first write on:
        // four unsettled copies of different writes confirm the layout.
        let mut j = TextJudge::default();
        for id in 1..=3 {
            assert_eq!(j.run_read(full, "p", id, true, false), unsettled);
        }
        assert_eq!(j.run_read(full, "p", 4, true, false), ship(false));
        // One settled copy and two unsettled ones.
        let mut j = TextJudge::default();
        assert_eq!(j.run_read(full, "p", 1, true, true), Verdict::Hold);
        assert_eq!(j.run_read(full, "p", 2, true, false), unsettled);
        assert_eq!(j.run_read(full, "p", 3, true, false), ship(false));
        // One write seen unsettled, then settled, counts once, as settled.
        let mut j = TextJudge::default();
        assert_eq!(j.run_read(full, "p", 1, true, false), unsettled);
        assert_eq!(j.run_read(full, "p", 1, true, true), Verdict::Hold);
        assert_eq!(j.run_read(full, "p", 2, true, true), ship(false));
        // The known, confirmed layout ships at once (rule 2); a cut or
        // garbled copy read mid-write waits and is never rejected.
        let more = FULL.replace(" 1 3\n", " 1 5\n");
        assert_eq!(
            j.run_read(more.as_bytes(), "p", 3, true, false),
            ship(false)
        );
        let cut = b"mode: count\na.go:1.1,2.2 1 3\n";
        for id in 4..10 {
            assert_eq!(j.run_read(cut, "p", id, true, false), unsettled);
        }
        assert_eq!(
            j.run_read(b"mode: count\na.go:1.1", "p", 10, true, false),
            unsettled
        );
        assert_eq!(j.run_read(full, "p", 11, true, false), ship(true));
        // A reference shipped unconfirmed: unsettled copies of its layout
        // wait, a settled one confirms it.
        let mut j = TextJudge::with_reference(
            Some(Reference::Shape(Shape::parse(full, "p").unwrap())),
            false,
        );
        assert_eq!(j.run_read(more.as_bytes(), "p", 1, true, false), unsettled);
        assert_eq!(j.run_read(more.as_bytes(), "p", 1, true, true), ship(false));
        assert_eq!(j.run_read(full, "p", 2, true, false), ship(true));
    }

    #[test]
    fn a_killed_writers_cut_is_not_confirmed_by_one_unsettled_copy() {
        // The stable file a killed writer left, cut at a line boundary, and
        // the next process's write read mid-write at the same line.
        let cut = b"mode: count\na.go:1.1,2.2 1 3\n";
        let mut j = TextJudge::default();
        assert_eq!(j.run_read(cut, "p", 1, true, true), Verdict::Hold);
        assert_eq!(j.run_read(cut, "p", 2, true, false), Verdict::Unsettled);
        // Then its complete writes.
        assert_eq!(
            j.run_read(FULL.as_bytes(), "p", 3, true, false),
            Verdict::Unsettled
        );
        assert_eq!(
            j.run_read(FULL.as_bytes(), "p", 4, true, true),
            Verdict::Hold
        );
        assert_eq!(
            j.run_read(FULL.as_bytes(), "p", 5, true, false),
            ship(false)
        );
    }

    #[test]
    fn confirmed_shrink_is_accepted() {
        let mut j = TextJudge::with_reference(
            Some(Reference::Shape(
                Shape::parse(FULL.as_bytes(), "p").unwrap(),
            )),
            true,
        );
        let smaller = "mode: count\na.go:1.1,2.2 1 3\n";
        assert_eq!(j.run(smaller.as_bytes(), "p", 1, true), Verdict::Partial);
        assert_eq!(j.run(smaller.as_bytes(), "p", 2, true), ship(true));
    }
}

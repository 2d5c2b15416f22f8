//! The completeness judge: rules 2 to 4 over snapshot shapes, with the
//! candidate layout that waits for a second write.

use covlens_core::Mode;

use super::Shape;
use crate::staging::Object;

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
/// from the staging directory); the candidate is only kept in memory, as
/// its layout digest.
#[derive(Clone, Debug, Default)]
pub(crate) struct TextJudge {
    reference: Option<Reference>,
    candidate: Option<Candidate>,
}

/// A layout seen once, waiting for a second write.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Candidate {
    mode: Mode,
    layout: u64,
    blocks: usize,
    write_id: u128,
}

impl Candidate {
    fn of(shape: &Shape, write_id: u128) -> Candidate {
        Candidate {
            mode: shape.mode.clone(),
            layout: shape.layout,
            blocks: shape.blocks.len(),
            write_id,
        }
    }
}

impl TextJudge {
    /// A judge whose reference is the given last shipped snapshot.
    pub(crate) fn with_reference(reference: Option<Reference>) -> TextJudge {
        TextJudge {
            reference,
            candidate: None,
        }
    }

    /// The staged copy of the reference, for [`compare_lines`](super::compare_lines).
    pub(crate) fn reference_file(&self) -> Option<&Object> {
        match &self.reference {
            Some(Reference::File(p)) => Some(p),
            _ => None,
        }
    }

    /// Judges a snapshot that [`compare_lines`](super::compare_lines) found to have the
    /// reference's layout.
    pub(crate) fn judge_same(&self, continues: bool) -> Verdict {
        Verdict::Ship {
            new_generation: !continues,
        }
    }

    /// Judges a stable copy, read with [`Shape::read`]. `write_id`
    /// identifies the write (a digest of size, mtime, ctime, inode);
    /// `confirm` is false for rename writers. After [`Verdict::Ship`], call
    /// [`TextJudge::accept`] once the snapshot is staged (nothing changes
    /// otherwise, so a snapshot that could not be staged is judged the same
    /// next time).
    pub(crate) fn judge(
        &mut self,
        shape: Result<Shape, String>,
        write_id: u128,
        confirm: bool,
    ) -> Verdict {
        let shape = match shape {
            Ok(s) => s,
            Err(e) => return Verdict::Corrupt(e),
        };
        let reference = self.reference.as_ref().and_then(Reference::shape);
        let verdict = match &reference {
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
        if !matches!(verdict, Verdict::Ship { .. }) {
            self.candidate = Some(Candidate::of(&shape, write_id));
        }
        verdict
    }

    /// Makes a shipped snapshot the reference.
    pub(crate) fn accept(&mut self, reference: Reference) {
        self.reference = Some(reference);
        self.candidate = None;
    }

    /// The same layout was seen in another write.
    fn confirmed(&self, shape: &Shape, write_id: u128) -> bool {
        self.candidate.as_ref().is_some_and(|c| {
            c.write_id != write_id
                && c.layout == shape.layout
                && c.blocks == shape.blocks.len()
                && c.mode == shape.mode
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = "mode: count\na.go:1.1,2.2 1 3\na.go:3.1,4.2 2 0\nb.go:1.1,1.9 1 1\n";

    impl TextJudge {
        /// judge + accept, as the collector does when staging succeeds.
        fn run(&mut self, data: &[u8], name: &str, id: u128, confirm: bool) -> Verdict {
            let v = self.judge(Shape::parse(data, name), id, confirm);
            if matches!(v, Verdict::Ship { .. }) {
                self.accept(Reference::Shape(Shape::parse(data, name).unwrap()));
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
        let mut j = TextJudge::with_reference(Some(Reference::Shape(
            Shape::parse(FULL.as_bytes(), "p").unwrap(),
        )));
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
        let mut j2 = TextJudge::with_reference(Some(Reference::Shape(
            Shape::parse(FULL.as_bytes(), "p").unwrap(),
        )));
        assert_eq!(j2.run(other.as_bytes(), "p", 4, true), Verdict::Hold);
        assert_eq!(j2.run(other.as_bytes(), "p", 5, true), ship(true));
    }

    #[test]
    fn confirmed_shrink_is_accepted() {
        let mut j = TextJudge::with_reference(Some(Reference::Shape(
            Shape::parse(FULL.as_bytes(), "p").unwrap(),
        )));
        let smaller = "mode: count\na.go:1.1,2.2 1 3\n";
        assert_eq!(j.run(smaller.as_bytes(), "p", 1, true), Verdict::Partial);
        assert_eq!(j.run(smaller.as_bytes(), "p", 2, true), ship(true));
    }
}

//! `// coverage-ignore` annotations on both sides of a change: the head's
//! read from its sources, the base's from the base's, rebuilt from the
//! head's by undoing the diff (as [`super::lost_functions`] rebuilds them).

use covlens_core::ignore::{IgnoreReport, apply_annotations_with};
use covlens_core::{Profile, SourceResolver};

use super::{BaseSources, DiffFile};

/// Why a base profile's annotations cannot be read without a diff.
pub const ANNOTATED_BASE_NEEDS_DIFF: &str = "leaving out coverage-ignore blocks of a base profile needs the change's diff, to rebuild the base's sources (an empty diff if they are the head's)";

/// The profiles without their marked blocks, and what was left out.
#[derive(Clone, Debug)]
pub struct Annotated {
    /// The head, without the blocks its sources mark.
    pub head: Profile,
    /// The base, without the blocks its own sources mark.
    pub base: Option<Profile>,
    /// What was left out of the head, and its files not checked.
    pub head_report: IgnoreReport,
    /// The same for the base.
    pub base_report: Option<IgnoreReport>,
}

/// `head` without the blocks `// coverage-ignore` comments mark in the
/// sources `sources` finds, and the base (with `diff`, the change from it
/// to the head) without those marked in its own sources: the head's with
/// the diff undone. Files `skip` names are neither read nor changed.
pub fn leave_out_annotated(
    head: Profile,
    base: Option<(Profile, &[DiffFile])>,
    module: Option<&str>,
    sources: &SourceResolver,
    skip: impl Fn(&str) -> bool + Sync,
) -> Annotated {
    // Each side reads the head's sources itself: keeping them between the
    // two would hold a whole tree in memory.
    let (base, base_report) = match base {
        None => (None, None),
        Some((base, diff)) => {
            let old = BaseSources::new(&base, &head, diff, module, sources);
            let (base, report) = apply_annotations_with(base, |name| {
                (!skip(name)).then(|| old.read(name)).transpose()
            });
            (Some(base), Some(report))
        }
    };
    let (head, head_report) = apply_annotations_with(head, |name| {
        (!skip(name))
            .then(|| sources.read_source(name).map(|(_, src)| src))
            .transpose()
            .map_err(|e| e.to_string())
    });
    Annotated {
        head,
        base,
        head_report,
        base_report,
    }
}

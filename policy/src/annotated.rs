//! `exclude.annotations`: the profiles a policy checks, without the blocks
//! that `// coverage-ignore` comments mark in their sources.

use covlens_core::ignore::{IgnoreReport, apply_annotations_with};
use covlens_core::{Profile, SourceResolver};
use covlens_report_templates::{BaseSources, DiffFile};
use serde::{Deserialize, Serialize};

use crate::{Error, Policy};

/// Why a base profile cannot have its annotations applied without a diff.
pub const ANNOTATED_BASE_NEEDS_DIFF: &str = "leaving out coverage-ignore blocks of a base profile needs the change's diff, to rebuild the base's sources (an empty diff if they are the head's)";

/// The profiles to check, and what annotations left out of each.
#[derive(Clone, Debug)]
pub struct Annotated {
    /// The head, without its marked blocks.
    pub head: Profile,
    /// The base, without the blocks its own sources mark.
    pub base: Option<Profile>,
    /// What was left out of the head, and its files not checked.
    pub head_report: IgnoreReport,
    /// The same for the base.
    pub base_report: Option<IgnoreReport>,
}

/// What annotations left out of the head, in an [`Outcome`](crate::Outcome).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOut {
    /// Statements in marked blocks.
    pub statements: u64,
    /// Of them, covered ones.
    pub covered: u64,
    /// Blocks left out.
    pub blocks: usize,
    /// Files with blocks left out.
    pub files: usize,
    /// Files whose sources could not be checked (all their blocks count).
    pub unchecked_files: usize,
}

impl From<&IgnoreReport> for LeftOut {
    fn from(r: &IgnoreReport) -> LeftOut {
        let c = r.statements();
        LeftOut {
            statements: c.total,
            covered: c.covered,
            blocks: r.files.iter().map(|f| f.blocks).sum(),
            files: r.files.len(),
            unchecked_files: r.unchecked.len(),
        }
    }
}

impl Policy {
    /// With [`exclude_annotations`](Policy::exclude_annotations), `head`
    /// without the blocks `// coverage-ignore` comments mark in the sources
    /// `sources` finds, and `base` without those marked in its own sources:
    /// the head's with `diff` undone, as pull-request comments rebuild them.
    /// Files the policy excludes are not read. Without the setting, the
    /// profiles as they are.
    pub fn leave_out_annotated(
        &self,
        head: Profile,
        base: Option<Profile>,
        diff: Option<&[DiffFile]>,
        module: Option<&str>,
        sources: &SourceResolver,
    ) -> Result<Annotated, Error> {
        if !self.exclude_annotations {
            return Ok(Annotated {
                head,
                base,
                head_report: IgnoreReport::default(),
                base_report: None,
            });
        }
        let (base, base_report) = match (base, diff) {
            (None, _) => (None, None),
            (Some(_), None) => return Err(Error::MissingInput(ANNOTATED_BASE_NEEDS_DIFF)),
            (Some(base), Some(diff)) => {
                let old = BaseSources::new(&base, &head, diff, module, sources);
                let (base, report) = apply_annotations_with(base, |name| {
                    (!self.excludes(name)).then(|| old.read(name)).transpose()
                });
                (Some(base), Some(report))
            }
        };
        let (head, head_report) = apply_annotations_with(head, |name| {
            (!self.excludes(name))
                .then(|| sources.read_source(name).map(|(_, src)| src))
                .transpose()
                .map_err(|e| e.to_string())
        });
        Ok(Annotated {
            head,
            base,
            head_report,
            base_report,
        })
    }
}

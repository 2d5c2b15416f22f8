//! `exclude.annotations`: the profiles a policy checks, without the blocks
//! that `// coverage-ignore` comments mark in their sources.

use covlens_core::ignore::IgnoreReport;
use covlens_core::{Profile, SourceResolver};
use covlens_report_templates::{
    ANNOTATED_BASE_NEEDS_DIFF, Annotated, DiffFile, leave_out_annotated,
};
use serde::{Deserialize, Serialize};

use crate::{Error, Policy};

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
            blocks: r.files.iter().map(|f| f.blocks()).sum(),
            files: r.files.len(),
            unchecked_files: r.unchecked.len(),
        }
    }
}

impl Policy {
    /// With [`exclude_annotations`](Policy::exclude_annotations), the
    /// profiles without the blocks `// coverage-ignore` comments mark
    /// ([`leave_out_annotated`]: the base's from its sources rebuilt by
    /// undoing `diff`, which a base needs); files the policy excludes are
    /// not read. Without the setting, the profiles as they are.
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
        let base = match (base, diff) {
            (None, _) => None,
            (Some(base), Some(diff)) => Some((base, diff)),
            (Some(_), None) => return Err(Error::MissingInput(ANNOTATED_BASE_NEEDS_DIFF)),
        };
        Ok(leave_out_annotated(head, base, module, sources, |name| {
            self.excludes(name)
        }))
    }
}

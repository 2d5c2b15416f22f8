//! `merge` and `aggregate`.

use anyhow::Result;
use clap::Args;
use covlens_core::OnConflict;
use covlens_core::output::Output;

use super::{Names, Out, choice};
use crate::input::{InputArgs, with_loader};

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens merge unit.out /tmp/e2e-covdir -o all.out",
    "gzip -dc node.out.gz | covlens merge - unit.out -o all.out"
))]
pub struct MergeArgs {
    /// Profiles to merge (`-` for stdin).
    #[arg(required = true)]
    files: Vec<String>,
    #[command(flatten)]
    out: Out,
    /// When inputs disagree about a file's blocks (different source
    /// versions): fail, merge the rest and report, or drop the file.
    #[arg(long, default_value = "error", value_parser = choice(ON_CONFLICT))]
    on_conflict: OnConflict,
    /// Also write the conflicts as JSON to this file.
    #[arg(long, value_name = "FILE")]
    conflicts_json: Option<String>,
}

const ON_CONFLICT: Names<OnConflict> = &[
    ("error", OnConflict::Error),
    ("report", OnConflict::Report),
    ("skip-file", OnConflict::SkipFile),
];

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens aggregate run1-covdir/ run2-covdir/ -o hits.out",
    "gzip -dc run1.out.gz | covlens aggregate - run2.out"
))]
pub struct AggregateArgs {
    /// Profiles to aggregate (`-` for stdin).
    #[arg(required = true)]
    files: Vec<String>,
    #[command(flatten)]
    out: Out,
}

pub fn run_merge(input: &InputArgs, a: MergeArgs) -> Result<()> {
    let t = std::time::Instant::now();
    let mut out = Output::create(&a.out.output)?;
    let conflicts = with_loader(&input.load_options(), |l| {
        l.merge_into(&a.files, a.on_conflict, &mut out)
    })?;
    if a.on_conflict == OnConflict::Report {
        crate::warn(&conflicts);
    }
    if let Some(path) = &a.conflicts_json {
        super::write_with(path, |w| covlens_core::write_conflicts(w, &conflicts))?;
    }
    out.commit()?;
    tracing::debug!(took = ?t.elapsed(), "merged and written");
    Ok(())
}

pub fn run_aggregate(input: &InputArgs, a: AggregateArgs) -> Result<()> {
    let p = with_loader(&input.load_options(), |l| l.aggregate(&a.files))?;
    a.out.profile(p)
}

//! `annotate`: uncovered changed lines as GitHub Checks annotations, in
//! check-run outputs of at most 50 (docs/policy.md).

use std::path::Path;

use anyhow::Result;
use clap::Args;
use covlens_policy::{Policy, read_diff, uncovered_changes, write_uncovered_change_batches};
use covlens_report_templates::go_mod_module;

use crate::input::{InputArgs, load};

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens annotate --base base.out --head /tmp/covdir --git-diff pr.diff",
    "gzip -dc head.out.gz | covlens annotate --base base.out --head - --git-diff pr.diff"
))]
pub struct AnnotateArgs {
    /// The profile of the base branch.
    #[arg(long, value_name = "PROFILE")]
    base: String,
    /// The profile of the change.
    #[arg(long, value_name = "PROFILE")]
    head: String,
    /// The change's unified diff (`git diff BASE...HEAD`).
    #[arg(long, value_name = "FILE")]
    git_diff: String,
    /// Import path of the repository root (default: ./go.mod's module).
    #[arg(long, value_name = "M")]
    module: Option<String>,
    #[command(flatten)]
    annotations: super::AnnotationArgs,
    #[command(flatten)]
    sources: super::SourceRoots,
    #[command(flatten)]
    out: super::Out,
}

pub fn run(input: &InputArgs, a: AnnotateArgs) -> Result<()> {
    let opts = input.load_options();
    let (base, head) = (load(&a.base, &opts)?, load(&a.head, &opts)?);
    let diff = read_diff(Path::new(&a.git_diff))?;
    let module = a.module.or_else(go_mod_module);
    let (d, m) = (Some(diff.as_slice()), module.as_deref());
    let (head, base, _) = a.annotations.apply((head, base), d, m, &a.sources)?;
    let none = Policy::default();
    let changes = uncovered_changes(&head, Some(&base), &diff, module.as_deref(), &none);
    a.out.write(|w| write_uncovered_change_batches(w, &changes))
}

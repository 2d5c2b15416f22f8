//! `annotate`: uncovered changed lines as GitHub Checks annotations, in
//! batches a CI step posts as they are. See docs/policy.md.

use std::io::Write;

use anyhow::Result;
use clap::Args;
use covlens_policy::{Policy, annotation_batches, uncovered_changes};
use covlens_report_templates::module_line;

use super::check::read_diff;
use crate::input::{InputArgs, load};

#[derive(Args, Debug)]
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
    /// Import path of the repository root. Default: the `module` line of
    /// ./go.mod; without one, names are matched by suffix.
    #[arg(long, value_name = "M")]
    module: Option<String>,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
}

pub fn run(input: &InputArgs, a: AnnotateArgs) -> Result<()> {
    let opts = input.load_options();
    let base = load(&a.base, &opts)?;
    let head = load(&a.head, &opts)?;
    let diff = read_diff(&a.git_diff)?;
    let module = a.module.or_else(|| {
        std::fs::read_to_string("go.mod")
            .ok()
            .and_then(|s| module_line(&s))
    });
    let annotations = uncovered_changes(
        &head,
        Some(&base),
        &diff,
        module.as_deref(),
        &Policy::default(),
    );
    let mut files: Vec<&str> = annotations.iter().map(|a| a.path.as_str()).collect();
    files.dedup();
    let summary = if annotations.is_empty() {
        "No uncovered changed lines.".to_string()
    } else {
        format!(
            "{} uncovered changed line range{} in {} file{}.",
            annotations.len(),
            if annotations.len() == 1 { "" } else { "s" },
            files.len(),
            if files.len() == 1 { "" } else { "s" },
        )
    };
    let batches = annotation_batches(&annotations, "Coverage of changed lines", &summary);
    let mut json = serde_json::to_vec_pretty(&batches)?;
    json.push(b'\n');
    super::write_with(&a.output, |w| w.write_all(&json))
}

//! `filter`.

use anyhow::Result;
use clap::{ArgAction, Args};
use covlens_core::split_patterns;

use crate::input::{InputArgs, load};

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens filter /tmp/covdir --exclude-path 'zz_generated' -o f.out",
    "gzip -dc c.out.gz | covlens filter - --include-path '^k8s.io/kubernetes/pkg/'"
))]
pub struct FilterArgs {
    /// The profile to filter (`-` for stdin).
    file: String,
    #[command(flatten)]
    out: super::Out,
    /// Keep only files whose path matches; repeatable, and comma-separated
    /// values are split (CSV quoting keeps a comma).
    #[arg(long, action = ArgAction::Append, value_name = "REGEX")]
    include_path: Vec<String>,
    /// Drop files whose path matches; repeatable and comma-split like
    /// --include-path.
    #[arg(long, action = ArgAction::Append, value_name = "REGEX")]
    exclude_path: Vec<String>,
    /// Also leave out the code that `// coverage-ignore` comments mark in
    /// the sources (found as `covlens func` finds them): the block whose
    /// `{` is on the comment's line, the `case` clause on it, or the whole
    /// file for `// coverage-ignore-file`. What is left out, and files
    /// whose source could not be checked, are listed on stderr.
    #[arg(long)]
    ignore_annotations: bool,
    /// With --ignore-annotations: also write every file left out of, and
    /// every file not checked, as JSON to this file (stderr lists 20 of
    /// each).
    #[arg(long, value_name = "FILE", requires = "ignore_annotations")]
    ignored_json: Option<String>,
    #[command(flatten)]
    sources: super::SourceRoots,
}

pub fn run(input: &InputArgs, a: FilterArgs) -> Result<()> {
    let include = covlens_core::path_regex(&split_patterns(&a.include_path)?)?;
    let exclude = covlens_core::path_regex(&split_patterns(&a.exclude_path)?)?;
    let mut p = load(&a.file, &input.load_options())?;
    covlens_core::filter(&mut p, include.as_ref(), exclude.as_ref());
    if !a.ignore_annotations {
        return a.out.profile(p);
    }
    let resolver = a.sources.resolver()?;
    let (kept, report) = covlens_core::ignore::apply_annotations(p, &resolver);
    let mut text = Vec::new();
    report.write_text(&mut text, 20)?;
    crate::note(String::from_utf8_lossy(&text).lines());
    a.out.profile(kept)?;
    match &a.ignored_json {
        Some(path) => super::write_with(path, |w| report.write_json(w)),
        None => Ok(()),
    }
}

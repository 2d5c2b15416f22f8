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
}

pub fn run(input: &InputArgs, a: FilterArgs) -> Result<()> {
    let include = covlens_core::path_regex(&split_patterns(&a.include_path)?)?;
    let exclude = covlens_core::path_regex(&split_patterns(&a.exclude_path)?)?;
    let mut p = load(&a.file, &input.load_options())?;
    covlens_core::filter(&mut p, include.as_ref(), exclude.as_ref());
    a.out.profile(p)
}

//! `check`: a coverage policy (`.covlens.yml` and flags) against profiles;
//! exit 1 when a rule is not met. See docs/policy.md.

use std::path::Path;

use anyhow::{Result, bail};
use clap::Args;
use covlens_core::OnConflict;
use covlens_policy::{
    Inputs, OutcomeFormat, Override, Pattern, Percent, Points, Policy, PolicyFile, read_diff,
};
use covlens_report_templates::go_mod_module;

use super::{Names, choice};
use crate::input::{InputArgs, load, with_loader};

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens check unit.out /tmp/covdir --threshold-total 60",
    "gzip -dc c.out.gz | covlens check - --threshold-total 60"
))]
pub struct CheckArgs {
    /// Profiles or GOCOVERDIRs to check, merged into one (`-` for stdin).
    #[arg(required = true, value_name = "PROFILE|DIR")]
    inputs: Vec<String>,
    /// The policy file (default: ./.covlens.yml if any); flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<String>,
    /// Least coverage of all statements, in percent.
    #[arg(long, value_name = "PCT", value_parser = parse::<Percent>)]
    threshold_total: Option<Percent>,
    /// Least coverage of every package.
    #[arg(long, value_name = "PCT", value_parser = parse::<Percent>)]
    threshold_package: Option<Percent>,
    /// Least coverage of every file.
    #[arg(long, value_name = "PCT", value_parser = parse::<Percent>)]
    threshold_file: Option<Percent>,
    /// Threshold of the files (by name) and packages (by import path) the
    /// regex matches; the first match wins, before the config file's.
    #[arg(long = "override", value_name = "REGEX=PCT", value_parser = parse::<Override>)]
    overrides: Vec<Override>,
    /// Leave out files whose name matches, before anything is counted.
    #[arg(long, value_name = "REGEX", value_parser = parse::<Pattern>)]
    exclude: Vec<Pattern>,
    /// Least coverage of the changed statements (needs --git-diff).
    #[arg(long, value_name = "PCT", value_parser = parse::<Percent>)]
    threshold_patch: Option<Percent>,
    /// The change's unified diff (`git diff BASE...HEAD`).
    #[arg(long, value_name = "FILE")]
    git_diff: Option<String>,
    /// Import path of the repository root (default: the config's `module`,
    /// else ./go.mod's).
    #[arg(long, value_name = "M")]
    module: Option<String>,
    /// Profile to compare against (the max-drop rule).
    #[arg(long, value_name = "PROFILE")]
    base: Option<String>,
    /// Largest drop of a package against --base, in percentage points.
    #[arg(long, value_name = "POINTS", value_parser = parse::<Points>)]
    max_drop: Option<Points>,
    /// Least coverage of every owner's files (OWNERS approvers, CODEOWNERS
    /// owners; needs --owners).
    #[arg(long, value_name = "PCT", value_parser = parse::<Percent>)]
    threshold_owner: Option<Percent>,
    /// Least coverage of every OWNERS label's files (sig/node; needs
    /// --owners).
    #[arg(long, value_name = "PCT", value_parser = parse::<Percent>)]
    threshold_label: Option<Percent>,
    /// A source tree with Kubernetes OWNERS files and/or CODEOWNERS, for
    /// the owner and label thresholds.
    #[arg(long, value_name = "DIR")]
    owners: Option<std::path::PathBuf>,
    /// With --owners DIR, a git checkout: read its ownership as it was at
    /// this commit (the pull request's base), from git's objects, as the
    /// Prow reporter does.
    #[arg(long, value_name = "COMMIT", requires = "owners")]
    owners_at: Option<String>,
    // Also set by the config's `exclude.annotations`.
    #[command(flatten)]
    annotations: super::AnnotationArgs,
    #[command(flatten)]
    sources: super::SourceRoots,
    /// Output format.
    #[arg(long, default_value = "text", value_parser = choice(FORMAT))]
    format: OutcomeFormat,
    #[command(flatten)]
    out: super::Out,
}

const FORMAT: Names<OutcomeFormat> =
    &[("text", OutcomeFormat::Text), ("json", OutcomeFormat::Json)];

/// A policy value from a flag, with the whole error chain for clap.
fn parse<T: std::str::FromStr<Err = covlens_policy::Error>>(s: &str) -> Result<T, String> {
    s.parse()
        .map_err(|e| format!("{:#}", anyhow::Error::new(e)))
}

pub fn run(input: &InputArgs, a: CheckArgs) -> Result<()> {
    let file = PolicyFile::load(a.config.as_deref().map(Path::new))?;
    let mut policy = file.policy;
    policy.overlay(Policy {
        total: a.threshold_total,
        package: a.threshold_package,
        file: a.threshold_file,
        patch: a.threshold_patch,
        max_drop: a.max_drop,
        owner: a.threshold_owner,
        label: a.threshold_label,
        group_overrides: Vec::new(),
        overrides: a.overrides,
        exclude: a.exclude,
        exclude_annotations: a.annotations.ignore_annotations,
    });
    // Before reading any profile.
    policy.ready(a.base.is_some(), a.git_diff.is_some(), a.owners.is_some())?;
    let owners = (a.owners.as_deref())
        .map(|dir| super::load_owners(dir, a.owners_at.as_deref()))
        .transpose()?;
    let module = (a.module.or(file.module)).or_else(go_mod_module);

    let opts = input.load_options();
    let (head, _) = with_loader(&opts, |l| l.merge(&a.inputs, OnConflict::Error))?;
    let base = a.base.as_deref().map(|b| load(b, &opts)).transpose()?;
    let diff = a.git_diff.as_deref().map(|d| read_diff(Path::new(d)));
    let diff = diff.transpose()?;
    let (head, base, left_out) = if policy.exclude_annotations {
        let sources = a.sources.resolver()?;
        let (d, m) = (diff.as_deref(), module.as_deref());
        let annotated = policy.leave_out_annotated(head, base, d, m, &sources)?;
        super::note_left_out(&annotated)?;
        (annotated.head, annotated.base, Some(annotated.head_report))
    } else {
        (head, base, None)
    };
    let outcome = policy.evaluate(&Inputs {
        head: &head,
        base: base.as_ref(),
        diff: diff.as_deref(),
        module: module.as_deref(),
        owners: owners.as_ref(),
        left_out: left_out.as_ref(),
    })?;

    a.out
        .write(|w| covlens_policy::write_outcome(w, &outcome, a.format))?;
    if std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
        // The runner reads both streams; JSON on stdout stays JSON.
        if a.format == OutcomeFormat::Json && a.out.output == "-" {
            covlens_policy::write_workflow_commands(std::io::stderr().lock(), &outcome)?;
        } else {
            covlens_policy::write_workflow_commands(std::io::stdout().lock(), &outcome)?;
        }
    }
    if !outcome.passed {
        bail!("{}", outcome.headline());
    }
    Ok(())
}

//! `check`: a coverage policy (`.covlens.yml` and flags) against profiles;
//! exit 1 when a rule is not met. See docs/policy.md.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use covlens_core::OnConflict;
use covlens_core::output::Output;
use covlens_policy::{
    DEFAULT_CONFIG, Inputs, Override, Pattern, Percent, Points, Policy, PolicyFile, write_json,
    write_text, write_workflow_commands,
};
use covlens_report_templates::{DiffFile, module_line, parse_diff};

use crate::input::{InputArgs, load, with_loader};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Profiles or GOCOVERDIRs to check, merged into one (`-` for stdin).
    #[arg(required = true, value_name = "PROFILE|DIR")]
    inputs: Vec<String>,
    /// The policy file. Default: ./.covlens.yml when there is one. Flags
    /// override its values.
    #[arg(long, value_name = "FILE")]
    config: Option<String>,
    /// Least coverage of all statements, in percent.
    #[arg(long, value_name = "PCT", value_parser = percent)]
    threshold_total: Option<Percent>,
    /// Least coverage of every package.
    #[arg(long, value_name = "PCT", value_parser = percent)]
    threshold_package: Option<Percent>,
    /// Least coverage of every file.
    #[arg(long, value_name = "PCT", value_parser = percent)]
    threshold_file: Option<Percent>,
    /// Threshold for the files (by name) and packages (by import path) the
    /// regex matches; repeatable, the first match wins, tried before the
    /// config file's.
    #[arg(long = "override", value_name = "REGEX=PCT", value_parser = override_spec)]
    overrides: Vec<Override>,
    /// Leave out files whose name matches (before anything is counted);
    /// repeatable, added to the config file's.
    #[arg(long, value_name = "REGEX", value_parser = pattern)]
    exclude: Vec<Pattern>,
    /// Least coverage of the changed statements (needs --git-diff).
    #[arg(long, value_name = "PCT", value_parser = percent)]
    threshold_patch: Option<Percent>,
    /// The change's unified diff (`git diff BASE...HEAD`).
    #[arg(long, value_name = "FILE")]
    git_diff: Option<String>,
    /// Import path of the repository root. Default: the config file's
    /// `module`, else the `module` line of ./go.mod.
    #[arg(long, value_name = "M")]
    module: Option<String>,
    /// Profile to compare against (the max-drop rule).
    #[arg(long, value_name = "PROFILE")]
    base: Option<String>,
    /// Largest drop of a package against --base, in percentage points.
    #[arg(long, value_name = "POINTS", value_parser = points)]
    max_drop: Option<Points>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

fn percent(s: &str) -> Result<Percent, String> {
    s.parse().map_err(|e| format!("{e}"))
}

fn points(s: &str) -> Result<Points, String> {
    s.parse().map_err(|e| format!("{e}"))
}

fn pattern(s: &str) -> Result<Pattern, String> {
    Pattern::new(s).map_err(chain)
}

fn override_spec(s: &str) -> Result<Override, String> {
    Override::from_spec(s).map_err(chain)
}

fn chain(e: covlens_policy::Error) -> String {
    format!("{:#}", anyhow::Error::new(e))
}

/// The policy was not met (exit status 1, after the report is written).
#[derive(Debug)]
pub struct NotMet(usize);

impl std::fmt::Display for NotMet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = if self.0 == 1 { "" } else { "s" };
        write!(f, "coverage policy not met: {} violation{s}", self.0)
    }
}

impl std::error::Error for NotMet {}

pub fn run(input: &InputArgs, a: CheckArgs) -> Result<()> {
    let file = match &a.config {
        Some(path) => PolicyFile::read(Path::new(path))?,
        None if Path::new(DEFAULT_CONFIG).is_file() => PolicyFile::read(Path::new(DEFAULT_CONFIG))?,
        None => PolicyFile::default(),
    };
    let mut policy = file.policy;
    policy.overlay(Policy {
        total: a.threshold_total,
        package: a.threshold_package,
        file: a.threshold_file,
        patch: a.threshold_patch,
        max_drop: a.max_drop,
        overrides: a.overrides,
        exclude: a.exclude,
    });
    // Refuse a policy that cannot run before reading any profile.
    if policy.is_empty() {
        return Err(covlens_policy::Error::NoRules.into());
    }
    if policy.patch.is_some() && a.git_diff.is_none() {
        return Err(covlens_policy::Error::MissingInput(
            "the patch threshold needs the change's diff (--git-diff FILE)",
        )
        .into());
    }
    if policy.max_drop.is_some() && a.base.is_none() {
        return Err(covlens_policy::Error::MissingInput(
            "the max-drop rule needs a base profile (--base PROFILE)",
        )
        .into());
    }
    let module = a.module.clone().or(file.module).or_else(|| {
        std::fs::read_to_string("go.mod")
            .ok()
            .and_then(|s| module_line(&s))
    });

    let opts = input.load_options();
    let (head, _) = with_loader(&opts, |l| l.merge(&a.inputs, OnConflict::Error))?;
    let base = a.base.as_deref().map(|b| load(b, &opts)).transpose()?;
    let diff = a.git_diff.as_deref().map(read_diff).transpose()?;
    let outcome = policy.evaluate(&Inputs {
        head: &head,
        base: base.as_ref(),
        diff: diff.as_deref(),
        module: module.as_deref(),
    })?;

    let mut out = Output::create(&a.output)?;
    match a.format {
        Format::Text => write_text(&mut out, &outcome)?,
        Format::Json => write_json(&mut out, &outcome)?,
    }
    out.commit()?;
    if std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
        // The runner reads workflow commands on both streams; JSON on
        // stdout stays parseable.
        if a.format == Format::Json && a.output == "-" {
            write_workflow_commands(std::io::stderr().lock(), &outcome)?;
        } else {
            let mut o = std::io::stdout().lock();
            write_workflow_commands(&mut o, &outcome)?;
            o.flush()?;
        }
    }
    if outcome.passed {
        Ok(())
    } else {
        Err(NotMet(outcome.violations.len()).into())
    }
}

/// A diff file, parsed. Hunks may hold any bytes (a Latin-1 file); only
/// paths and the first byte of each line matter.
pub fn read_diff(path: &str) -> Result<Vec<DiffFile>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {path}"))?;
    Ok(parse_diff(&String::from_utf8_lossy(&bytes)))
}

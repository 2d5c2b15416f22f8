//! `metadata inc|abs`: gopherage's Gerrit-style coverage metadata.
//!
//! Same flags and the same single-line JSON (no trailing newline) as
//! gopherage, except that invalid input is an error (gopherage ignores its
//! own validation and exits 0 with empty fields).

use std::io::Write;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use covlens_core::metadata::{Metadata, Scope};

#[derive(Subcommand, Debug)]
pub enum MetadataCommand {
    /// Metadata for incremental (per-change) coverage.
    Inc(IncArgs),
    /// Metadata for absolute (per-commit) coverage.
    Abs(AbsArgs),
}

#[derive(Args, Debug)]
pub struct BaseArgs {
    #[command(flatten)]
    out: super::Out,
    /// Name of the repository host.
    #[arg(long, default_value = "")]
    host: String,
    /// Project name (default: $REPO_OWNER).
    #[arg(short, long, default_value = "")]
    project: String,
    /// Path to the workspace root of the repository.
    #[arg(short = 'w', long, default_value = "")]
    root: String,
    /// Type of coverage [COV, LCOV].
    #[arg(short, long, default_value = "COV")]
    trace: String,
    /// gopherage's usage line takes `[...fields]` and ignores them; so does
    /// this, with a warning.
    #[arg(hide = true)]
    fields: Vec<String>,
}

#[derive(Args, Debug)]
pub struct IncArgs {
    #[command(flatten)]
    base: BaseArgs,
    /// Gerrit change number.
    #[arg(long = "changelist_num", default_value = "")]
    changelist_num: String,
    /// Gerrit patchset number.
    #[arg(long = "patchset_num", default_value = "")]
    patchset_num: String,
}

#[derive(Args, Debug)]
pub struct AbsArgs {
    #[command(flatten)]
    base: BaseArgs,
    /// Current commit hash (default: git rev-parse HEAD).
    #[arg(short, long, default_value = "")]
    commit: String,
    /// Current branch (default: git branch --show-current).
    #[arg(short, long, default_value = "")]
    r#ref: String,
    /// Free-form information about the coverage source.
    #[arg(short, long, default_value = "")]
    source: String,
    /// Path to replace the root of coverage paths with.
    #[arg(long = "replace_root", default_value = "")]
    replace_root: String,
}

pub fn run(c: MetadataCommand) -> Result<()> {
    let (base, scope) = match c {
        MetadataCommand::Inc(a) => {
            if a.changelist_num.is_empty() {
                bail!("metadata inc: --changelist_num (the Gerrit change number) is required");
            }
            if a.patchset_num.is_empty() {
                bail!("metadata inc: --patchset_num (the Gerrit patchset number) is required");
            }
            let scope = Scope::Change {
                changelist_num: a.changelist_num,
                patchset_num: a.patchset_num,
            };
            (a.base, scope)
        }
        MetadataCommand::Abs(a) => {
            let scope = Scope::commit_or_checkout(a.commit, a.r#ref, a.source, a.replace_root)
                .context("metadata abs: --commit not given and `git rev-parse HEAD` failed")?;
            (a.base, scope)
        }
    };
    if !base.fields.is_empty() {
        crate::warn([format!(
            "metadata ignores its arguments: {}",
            base.fields.join(" ")
        )]);
    }
    let project = if base.project.is_empty() {
        match std::env::var("REPO_OWNER") {
            Ok(p) if !p.is_empty() => p,
            _ => bail!("metadata: --project not given and $REPO_OWNER is not set"),
        }
    } else {
        base.project
    };
    let m = Metadata {
        host: base.host,
        project,
        workspace_root: base.root,
        trace_type: base.trace,
        scope,
    };
    base.out.write(|w| w.write_all(m.to_json().as_bytes()))
}

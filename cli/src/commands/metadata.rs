//! `metadata inc|abs`: gopherage's Gerrit-style coverage metadata.
//!
//! Same flags and the same single-line JSON (no trailing newline) as
//! gopherage, except that invalid input is an error (gopherage ignores its
//! own validation and exits 0 with empty fields).

use std::io::Write;
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum MetadataCommand {
    /// Metadata for incremental (per-change) coverage.
    Inc(IncArgs),
    /// Metadata for absolute (per-commit) coverage.
    Abs(AbsArgs),
}

#[derive(Args, Debug)]
pub struct BaseArgs {
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
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
    let (base, fields) = match c {
        MetadataCommand::Inc(a) => {
            if a.changelist_num.is_empty() {
                bail!("metadata inc: --changelist_num (the Gerrit change number) is required");
            }
            if a.patchset_num.is_empty() {
                bail!("metadata inc: --patchset_num (the Gerrit patchset number) is required");
            }
            let fields = vec![
                ("changelist_num", a.changelist_num),
                ("patchset_num", a.patchset_num),
            ];
            (a.base, fields)
        }
        MetadataCommand::Abs(a) => {
            let commit = if a.commit.is_empty() {
                git(&["rev-parse", "HEAD"])
                    .context("metadata abs: --commit not given and `git rev-parse HEAD` failed")?
            } else {
                a.commit
            };
            let r#ref = if a.r#ref.is_empty() {
                git(&["branch", "--show-current"]).unwrap_or_else(|_| "HEAD".to_string())
            } else {
                a.r#ref
            };
            let fields = vec![
                ("commit_id", commit),
                ("ref", r#ref),
                ("source", a.source),
                ("git_project", a.replace_root),
            ];
            (a.base, fields)
        }
    };
    let project = if base.project.is_empty() {
        match std::env::var("REPO_OWNER") {
            Ok(p) if !p.is_empty() => p,
            _ => bail!("metadata: --project not given and $REPO_OWNER is not set"),
        }
    } else {
        base.project
    };
    let mut all = vec![
        ("host", base.host),
        ("project", project),
        ("workspace_root", base.root),
        ("trace_type", base.trace),
    ];
    all.extend(fields);
    let mut json = String::from("{");
    for (i, (k, v)) in all.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        go_json_string(&mut json, k);
        json.push(':');
        go_json_string(&mut json, v);
    }
    json.push('}');
    super::write_with(&base.output, |w| w.write_all(json.as_bytes()))
}

fn git(args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args(args)
        .output()
        .context("cannot run git")?;
    if !out.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let s = String::from_utf8_lossy(&out.stdout).into_owned();
    Ok(s.strip_suffix('\n').unwrap_or(&s).to_string())
}

/// A JSON string escaped as Go's `json.Marshal` does (HTML-safe: `<`, `>`
/// and `&` become `\u003c` and so on).
fn go_json_string(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    #[test]
    fn go_escaping() {
        let mut s = String::new();
        super::go_json_string(&mut s, "a<b>&\"\n");
        assert_eq!(s, r#""a\u003cb\u003e\u0026\"\n""#);
    }
}

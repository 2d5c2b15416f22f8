//! `covdata`: `go tool covdata textfmt|percent|func|pkglist|debugdump`, natively,
//! with the same output bytes, and `merge|subtract|intersect`, writing
//! directories `go tool covdata` reads.

use std::ffi::OsString;

use anyhow::Result;
use clap::{Args, Subcommand};
use covlens_core::ModePolicy;
use covlens_core::covdata::{
    CovData, DirOp, DumpOptions, PackageFilter, ReadOptions, Snapshots, WriteOptions, read_covdirs,
    write_debugdump, write_dirs, write_func, write_percent, write_pkglist, write_textfmt,
};

use covlens_core::output::Output;

use super::write_with;
use crate::input::InputArgs;

#[derive(Subcommand, Debug)]
pub enum CovdataCommand {
    /// Write a text profile (`go tool covdata textfmt`).
    Textfmt(TextfmtArgs),
    /// Print the coverage of each package (`go tool covdata percent`).
    Percent(PercentArgs),
    /// Print the coverage of each function (`go tool covdata func`).
    Func(ReportArgs),
    /// Print the import paths of the packages (`go tool covdata pkglist`).
    Pkglist(ReportArgs),
    /// Dump every pod's files, function by function (`go tool covdata
    /// debugdump`).
    Debugdump(DebugdumpArgs),
    /// Merge coverage directories into one (`go tool covdata merge`).
    Merge(MergeArgs),
    /// Zero the counters of the first directory that the second one covers
    /// (`go tool covdata subtract`).
    Subtract(DirArgs),
    /// Keep what every directory covers (`go tool covdata intersect`).
    Intersect(DirArgs),
}

/// Options every `covdata` command takes. Go's single-dash spellings
/// (`-i=DIR`, `-pkg=P`) work too.
#[derive(Args, Debug)]
pub struct Common {
    /// Input directories, comma-separated (repeatable).
    #[arg(
        short = 'i',
        long = "input",
        value_name = "DIRS",
        required = true,
        value_delimiter = ','
    )]
    input: Vec<String>,
    /// Only packages whose import path matches one of these patterns
    /// (comma-separated; `...` matches anything).
    #[arg(long, value_name = "PATTERNS")]
    pkg: Option<String>,
    /// Count every counter file, as `go tool covdata` does, also the
    /// cumulative snapshots covflush marks, of which by default only the
    /// newest of each process counts (see docs/gocoverdir.md).
    #[arg(long, conflicts_with = "newest_per_pid")]
    all_snapshots: bool,
    /// Count only the newest counter file per (directory, pid): the rule
    /// for directories written by a covflush that did not mark its
    /// snapshots yet. Processes that had the same pid lose counts.
    #[arg(long)]
    newest_per_pid: bool,
}

#[derive(Args, Debug)]
pub struct TextfmtArgs {
    #[command(flatten)]
    common: Common,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
}

#[derive(Args, Debug)]
pub struct PercentArgs {
    #[command(flatten)]
    common: Common,
    /// Also write the text profile to this file.
    #[arg(short, long)]
    output: Option<String>,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    common: Common,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
}

#[derive(Args, Debug)]
pub struct DebugdumpArgs {
    #[command(flatten)]
    common: Common,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
    /// Only functions with counter data (executed at least once).
    #[arg(long)]
    live: bool,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    #[command(flatten)]
    dir: DirArgs,
    /// Combine the data of different programs into one meta-data file
    /// (functions deduplicated per package; modes upgrade).
    #[arg(long)]
    pcombine: bool,
}

#[derive(Args, Debug)]
pub struct DirArgs {
    #[command(flatten)]
    common: Common,
    /// Output directory (created if missing).
    #[arg(short, long, value_name = "DIR")]
    output: String,
}

pub fn run(input: &InputArgs, c: CovdataCommand) -> Result<()> {
    match c {
        // textfmt refuses mixed modes as Go's does, unless asked to upgrade.
        CovdataCommand::Textfmt(a) => {
            let data = read(&a.common, input.mode_policy(), input.skip_bad)?;
            write_with(&a.output, |w| write_textfmt(w, &data))
        }
        CovdataCommand::Percent(a) => {
            let data = read(&a.common, ModePolicy::Upgrade, input.skip_bad)?;
            if let Some(path) = &a.output {
                write_with(path, |w| write_textfmt(w, &data))?;
            }
            write_with("-", |w| write_percent(w, &data))
        }
        CovdataCommand::Func(a) => {
            let data = read(&a.common, ModePolicy::Upgrade, input.skip_bad)?;
            write_with(&a.output, |w| write_func(w, &data))
        }
        CovdataCommand::Pkglist(a) => {
            let data = read(&a.common, ModePolicy::Upgrade, input.skip_bad)?;
            write_with(&a.output, |w| write_pkglist(w, &data))
        }
        CovdataCommand::Debugdump(a) => {
            let opts = DumpOptions {
                snapshots: snapshots(&a.common),
                packages: packages(&a.common)?,
                live: a.live,
                command: std::env::args().collect::<Vec<_>>().join(" "),
            };
            let mut out = Output::create(&a.output)?;
            let dirs = covlens_objects::Objects::default().covdirs(&a.common.input)?;
            let report = write_debugdump(&mut out, &dirs, &opts)?;
            out.commit()?;
            crate::warn(report.warnings());
            Ok(())
        }
        CovdataCommand::Merge(a) => {
            let op = if a.pcombine {
                DirOp::MergeCombined
            } else {
                DirOp::Merge
            };
            write_dir(op, &a.dir, input.skip_bad)
        }
        CovdataCommand::Subtract(a) => write_dir(DirOp::Subtract, &a, input.skip_bad),
        CovdataCommand::Intersect(a) => write_dir(DirOp::Intersect, &a, input.skip_bad),
    }
}

fn write_dir(op: DirOp, a: &DirArgs, skip_bad: bool) -> Result<()> {
    let c = &a.common;
    let opts = WriteOptions {
        snapshots: snapshots(c),
        skip_bad,
        packages: packages(c)?,
    };
    let dirs = covlens_objects::Objects::default().covdirs(&c.input)?;
    let r = write_dirs(op, &dirs, std::path::Path::new(&a.output), &opts)?;
    crate::warn(r.read.warnings());
    Ok(())
}

fn snapshots(c: &Common) -> Snapshots {
    if c.all_snapshots {
        Snapshots::All
    } else if c.newest_per_pid {
        Snapshots::NewestPerPid
    } else {
        Snapshots::NewestMarked
    }
}

fn packages(c: &Common) -> Result<Option<PackageFilter>> {
    Ok(match &c.pkg {
        Some(p) => PackageFilter::parse(p)?,
        None => None,
    })
}

fn read(c: &Common, mode_policy: ModePolicy, skip_bad: bool) -> Result<CovData> {
    let opts = ReadOptions {
        mode_policy,
        snapshots: snapshots(c),
        skip_bad,
        packages: packages(c)?,
    };
    let dirs = covlens_objects::Objects::default().covdirs(&c.input)?;
    let data = read_covdirs(&dirs, &opts)?;
    crate::warn(data.report().warnings());
    Ok(data)
}

/// Rewrites Go's single-dash long flags after the `covdata` subcommand
/// (`-pkg=P`, `-pkg P`, `--i=D`…) into the spellings clap parses, so
/// command lines written for `go tool covdata` work unchanged.
pub fn normalize_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    // Find the subcommand: the first argument that is not an option (the
    // only global option with a value is --mode-policy).
    let mut k = 1;
    while k < args.len() {
        let a = args[k].to_string_lossy();
        if a == "--mode-policy" {
            k += 2;
            continue;
        }
        if a.starts_with('-') {
            k += 1;
            continue;
        }
        break;
    }
    if args.get(k).is_none_or(|a| a != "covdata") {
        return args;
    }
    let mut out: Vec<OsString> = args.drain(..=k).collect();
    for a in args {
        let Some(s) = a.to_str() else {
            out.push(a);
            continue;
        };
        let (flag, value) = match s.split_once('=') {
            Some((f, v)) => (f, Some(v)),
            None => (s, None),
        };
        let canon = match flag {
            "-pkg" | "--pkg" => "--pkg",
            "-i" | "--i" => "-i",
            "-o" | "--o" => "-o",
            "-skip-bad" => "--skip-bad",
            "-all-snapshots" => "--all-snapshots",
            "-newest-per-pid" => "--newest-per-pid",
            "-pcombine" | "--pcombine" => "--pcombine",
            "-live" => "--live",
            _ => {
                out.push(a);
                continue;
            }
        };
        if canon.starts_with("--") && canon != "--pkg" {
            // A boolean flag: Go also accepts -flag=true and -flag=false.
            match value {
                None | Some("true" | "1" | "t" | "T" | "TRUE" | "True") => out.push(canon.into()),
                Some(_) => {}
            }
            continue;
        }
        out.push(canon.into());
        if let Some(v) = value {
            out.push(v.into());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(v: &[&str]) -> Vec<String> {
        normalize_args(v.iter().map(OsString::from))
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect()
    }

    #[test]
    fn go_flag_spellings() {
        assert_eq!(
            norm(&[
                "covlens",
                "covdata",
                "textfmt",
                "-i=a,b",
                "-o=x",
                "-pkg=p/..."
            ]),
            [
                "covlens", "covdata", "textfmt", "-i", "a,b", "-o", "x", "--pkg", "p/..."
            ]
        );
        assert_eq!(
            norm(&[
                "covlens",
                "--mode-policy",
                "upgrade",
                "covdata",
                "func",
                "-pkg",
                "p"
            ]),
            [
                "covlens",
                "--mode-policy",
                "upgrade",
                "covdata",
                "func",
                "--pkg",
                "p"
            ]
        );
        assert_eq!(
            norm(&[
                "covlens",
                "covdata",
                "merge",
                "-pcombine=true",
                "-skip-bad=false"
            ]),
            ["covlens", "covdata", "merge", "--pcombine"]
        );
        assert_eq!(
            norm(&["covlens", "merge", "-pkg", "covdata"]),
            ["covlens", "merge", "-pkg", "covdata"]
        );
    }
}

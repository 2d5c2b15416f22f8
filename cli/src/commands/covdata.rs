//! `covdata`: `go tool covdata textfmt|percent|func|pkglist|debugdump`, natively,
//! with the same output bytes, and `merge|subtract|intersect`, writing
//! directories `go tool covdata` reads.

use std::ffi::OsString;

use anyhow::Result;
use clap::{Args, Subcommand};
use covlens_core::ModePolicy;
use covlens_core::covdata::{
    CovData, DirOp, DumpOptions, PackageFilter, ReadOptions, Snapshots, WriteOptions, go_flag_args,
    read_covdirs, write_debugdump, write_dirs, write_func, write_percent, write_pkglist,
    write_textfmt,
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

/// Rewrites Go's flag spellings after the `covdata` subcommand (see
/// `go_flag_args`), so command lines written for `go tool covdata` work
/// unchanged.
pub fn normalize_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    // The subcommand: the first argument that is not an option (the only
    // global option with a value is --mode-policy).
    let mut k = 1;
    while let Some(a) = args.get(k).map(|a| a.to_string_lossy()) {
        match a {
            a if a == "--mode-policy" => k += 2,
            a if a.starts_with('-') => k += 1,
            _ => break,
        }
    }
    if args.get(k).is_none_or(|a| a != "covdata") {
        return args;
    }
    let rest = args.split_off(k + 1);
    args.extend(go_flag_args(rest));
    args
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_after_the_covdata_subcommand() {
        let norm = |s: &str| {
            let v = super::normalize_args(s.split(' ').map(Into::into));
            v.iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        };
        // The value of --mode-policy is not the subcommand.
        let mp = "covlens --mode-policy covdata covdata";
        assert_eq!(norm(&format!("{mp} -pkg=p")), format!("{mp} --pkg p"));
        assert_eq!(
            norm("covlens merge -pkg covdata"),
            "covlens merge -pkg covdata"
        );
    }
}

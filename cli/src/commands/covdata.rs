//! `covdata`: `go tool covdata textfmt|percent|func|pkglist|debugdump`, natively,
//! with the same output bytes, and `merge|subtract|intersect`, writing
//! directories `go tool covdata` reads.

use std::ffi::OsString;
use std::path::Path;

use anyhow::Result;
use clap::{Args, Subcommand};
use covlens_core::ModePolicy;
use covlens_core::covdata::{
    CovData, DirOp, DumpOptions, PackageFilter, ReadOptions, Snapshots, WriteOptions, go_flag_args,
    read_covdirs, write_debugdump, write_dirs, write_func, write_percent, write_pkglist,
    write_textfmt,
};

use super::{Out, write_with};
use crate::input::InputArgs;

#[derive(Subcommand, Debug)]
pub enum CovdataCommand {
    /// Write a text profile (`go tool covdata textfmt`).
    Textfmt(ReportArgs),
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
pub struct PercentArgs {
    #[command(flatten)]
    common: Common,
    /// Also write the text profile to this file.
    #[arg(short, long)]
    output: Option<String>,
}

/// A command that writes one report.
#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    out: Out,
}

#[derive(Args, Debug)]
pub struct DebugdumpArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    out: Out,
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
    let skip_bad = input.skip_bad;
    match c {
        // textfmt refuses mixed modes as Go's does, unless asked to upgrade.
        CovdataCommand::Textfmt(a) => {
            let data = a.common.read(input.mode_policy, skip_bad)?;
            a.out.write(|w| write_textfmt(w, &data))
        }
        CovdataCommand::Percent(a) => {
            let data = a.common.read(ModePolicy::Upgrade, skip_bad)?;
            if let Some(path) = &a.output {
                write_with(path, |w| write_textfmt(w, &data))?;
            }
            write_with("-", |w| write_percent(w, &data))
        }
        CovdataCommand::Func(a) => {
            let data = a.common.read(ModePolicy::Upgrade, skip_bad)?;
            a.out.write(|w| write_func(w, &data))
        }
        CovdataCommand::Pkglist(a) => {
            let data = a.common.read(ModePolicy::Upgrade, skip_bad)?;
            a.out.write(|w| write_pkglist(w, &data))
        }
        CovdataCommand::Debugdump(a) => {
            let opts = DumpOptions {
                snapshots: a.common.snapshots(),
                packages: a.common.packages()?,
                live: a.live,
                command: std::env::args().collect::<Vec<_>>().join(" "),
            };
            let dirs = a.common.dirs()?;
            let report = write_with(&a.out.output, |w| write_debugdump(w, &dirs, &opts))?;
            crate::warn(report.warnings());
            Ok(())
        }
        CovdataCommand::Merge(a) if a.pcombine => a.dir.write(DirOp::MergeCombined, skip_bad),
        CovdataCommand::Merge(a) => a.dir.write(DirOp::Merge, skip_bad),
        CovdataCommand::Subtract(a) => a.write(DirOp::Subtract, skip_bad),
        CovdataCommand::Intersect(a) => a.write(DirOp::Intersect, skip_bad),
    }
}

impl DirArgs {
    fn write(&self, op: DirOp, skip_bad: bool) -> Result<()> {
        let c = &self.common;
        let opts = WriteOptions {
            snapshots: c.snapshots(),
            skip_bad,
            packages: c.packages()?,
        };
        let r = write_dirs(op, &c.dirs()?, Path::new(&self.output), &opts)?;
        crate::warn(r.read.warnings());
        Ok(())
    }
}

impl Common {
    fn snapshots(&self) -> Snapshots {
        match (self.all_snapshots, self.newest_per_pid) {
            (true, _) => Snapshots::All,
            (false, true) => Snapshots::NewestPerPid,
            (false, false) => Snapshots::NewestMarked,
        }
    }

    fn packages(&self) -> Result<Option<PackageFilter>> {
        Ok(self
            .pkg
            .as_deref()
            .map(PackageFilter::parse)
            .transpose()?
            .flatten())
    }

    /// The `-i` directories, local or in a bucket.
    fn dirs(&self) -> Result<Vec<covlens_core::covdata::CovDir>> {
        Ok(covlens_objects::Objects::default().covdirs(&self.input)?)
    }

    fn read(&self, mode_policy: ModePolicy, skip_bad: bool) -> Result<CovData> {
        let opts = ReadOptions {
            mode_policy,
            snapshots: self.snapshots(),
            skip_bad,
            packages: self.packages()?,
        };
        let data = read_covdirs(&self.dirs()?, &opts)?;
        crate::warn(data.report().warnings());
        Ok(data)
    }
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

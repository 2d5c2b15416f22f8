//! Reading whole directories: every pod's counters merged, then every
//! unit added to per-package tables the way `go tool covdata`'s formatter
//! (internal/coverage/cformat) keys them.

use foldhash::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::discover::{Pod, Snapshots, discover};
use super::meta::{CounterMode, Function, Granularity, MetaFile, Unit};
use super::pattern::PackageFilter;
use super::read_pod::{load_meta, sum_files};
use crate::error::Error;
use crate::profile::{Block, FileProfile, Profile};
use crate::text::{ModePolicy, normalize_blocks};

/// Options for [`read_dirs`].
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Pods with different counter modes: an error (`Strict`, as `go tool
    /// covdata textfmt`), or combined at the highest mode (`Upgrade`, as
    /// `percent`, `func`, `pkglist` and `merge` do).
    pub mode_policy: ModePolicy,
    /// Which counter files of a process count.
    pub snapshots: Snapshots,
    /// Report unreadable, corrupt or mismatched files in
    /// [`ReadReport::bad`] and read the rest, instead of failing.
    pub skip_bad: bool,
    /// Only packages whose import path matches (`-pkg`).
    pub packages: Option<PackageFilter>,
}

/// A file left out because of `skip_bad`.
#[derive(Debug)]
pub struct BadFile {
    /// The file.
    pub path: String,
    /// What was wrong with it.
    pub error: Error,
    /// Counter files left out with it (those of a bad meta-data file).
    pub dependents: Vec<String>,
}

/// What reading found besides the data.
#[derive(Debug, Default)]
pub struct ReadReport {
    /// Pods read.
    pub pods: usize,
    /// Counter files read.
    pub counter_files: usize,
    /// Files skipped with `skip_bad`.
    pub bad: Vec<BadFile>,
    /// Counter files without a meta-data file (ignored, as Go does).
    pub orphans: Vec<String>,
    /// Older snapshots of a process, not counted.
    pub superseded: Vec<String>,
    /// Some sum saturated at 2^32-1 (Go warns `uint32 overflow during
    /// counter merge`).
    pub overflow: bool,
}

impl ReadReport {
    /// What a reader should be told: skipped files (see
    /// [`skipped`](ReadReport::skipped)), no data at all, saturated sums.
    pub fn warnings(&self) -> Vec<Warning> {
        let mut w = self.skipped();
        if self.pods == 0 && self.bad.is_empty() {
            w.push(Warning::NoData);
        }
        if self.overflow {
            w.push(Warning::CounterOverflow);
        }
        w
    }

    /// The files left out with `skip_bad`, each bad file followed by the
    /// counter files left out with it.
    pub fn skipped(&self) -> Vec<Warning> {
        let mut w = Vec::new();
        for b in &self.bad {
            w.push(Warning::Skipped {
                path: b.path.clone(),
                reason: crate::error::chain(&b.error),
            });
            w.extend(
                b.dependents
                    .iter()
                    .map(|d| Warning::SkippedWithMeta { path: d.clone() }),
            );
        }
        w
    }
}

/// Something a successful read wants the user to know.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// A bad file left out (`skip_bad`).
    Skipped {
        /// The file.
        path: String,
        /// What was wrong with it.
        reason: String,
    },
    /// A counter file left out with its bad meta-data file.
    SkippedWithMeta {
        /// The counter file.
        path: String,
    },
    /// The input directories hold no coverage data.
    NoData,
    /// A sum saturated at 2^32-1, as Go warns.
    CounterOverflow,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // Most reasons already start with the file's name.
            Warning::Skipped { path, reason } => match reason.strip_prefix(path.as_str()) {
                Some(rest) if rest.starts_with(':') => write!(f, "skipped {path}{rest}"),
                _ => write!(f, "skipped {path}: {reason}"),
            },
            Warning::SkippedWithMeta { path } => {
                write!(f, "skipped {path} with its meta-data file")
            }
            Warning::NoData => f.write_str("no applicable files found in input directories"),
            Warning::CounterOverflow => f.write_str("uint32 overflow during counter merge"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FnKey {
    pub(crate) file: Arc<str>,
    pub(crate) name: Arc<str>,
    pub(crate) lit: bool,
}

/// One import path's functions and unit counts, keyed as cformat keys
/// them: (file, function name, literal flag) then the unit.
#[derive(Debug, Default)]
pub(crate) struct PkgTable {
    pub(crate) funcs: Vec<FnKey>,
    index: HashMap<FnKey, u32>,
    pub(crate) units: HashMap<(u32, Unit), u32>,
}

impl PkgTable {
    fn func_id(&mut self, f: &Function) -> u32 {
        let key = FnKey {
            file: f.srcfile.clone(),
            name: f.name.clone(),
            lit: f.literal,
        };
        if let Some(&id) = self.index.get(&key) {
            return id;
        }
        let id = self.funcs.len() as u32;
        self.funcs.push(key.clone());
        self.index.insert(key, id);
        id
    }
}

/// Coverage read from GOCOVERDIR directories, merged across pods.
#[derive(Debug, Default)]
pub struct CovData {
    /// The mode in force: the first pod's, or the highest seen with
    /// [`ModePolicy::Upgrade`]. `None` when no pod was read.
    mode: Option<CounterMode>,
    mode_from: String,
    granularity: Option<Granularity>,
    pub(crate) packages: HashMap<String, PkgTable>,
    report: ReadReport,
}

/// Reads every pod of `dirs` (see [`discover`]) and merges them.
///
/// Within a pod counter files combine per the mode (set: 1 if any is
/// non-zero; count/atomic: saturating `u32` sums); across pods units are
/// keyed by (import path, file, function, literal flag, range and
/// statements), as `go tool covdata` keys them.
pub fn read_dirs<P: AsRef<Path>>(dirs: &[P], opts: &ReadOptions) -> Result<CovData, Error> {
    read_found(discover(dirs, opts.snapshots)?, opts)
}

/// [`read_dirs`] over local and in-memory directories.
pub fn read_covdirs(dirs: &[super::CovDir], opts: &ReadOptions) -> Result<CovData, Error> {
    read_found(super::discover_dirs(dirs, opts.snapshots)?, opts)
}

fn read_found(found: super::Discovery, opts: &ReadOptions) -> Result<CovData, Error> {
    let mut data = CovData::default();
    for pod in &found.pods {
        data.read_pod(pod, opts)?;
    }
    data.report.orphans = found.orphans;
    data.report.superseded = found.superseded;
    Ok(data)
}

impl CovData {
    /// The counter mode (see [`ReadOptions::mode_policy`]); `None` when
    /// nothing was read.
    pub fn mode(&self) -> Option<CounterMode> {
        self.mode
    }

    /// What was read, skipped and left out.
    pub fn report(&self) -> &ReadReport {
        &self.report
    }

    /// Import paths of every package read, sorted (`covdata pkglist`).
    pub fn package_paths(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.packages.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    fn read_pod(&mut self, pod: &Pod, opts: &ReadOptions) -> Result<(), Error> {
        let m = match load_meta(pod) {
            Ok(m) => m,
            Err(e) => return self.bad_meta(pod, opts, e),
        };
        let mode = self.set_mode(&pod.meta_name, &m.meta, opts.mode_policy)?;
        let all: Vec<usize> = (0..pod.counters.len()).collect();
        let (sums, files, errors) = sum_files(pod, &all, &m, mode);
        self.take_errors(pod, opts, errors)?;
        self.report.pods += 1;
        self.report.counter_files += files;
        self.report.overflow |= sums.overflow;
        let (meta, layout) = (&m.meta, &m.layout);
        for (k, pkg) in meta.packages.iter().enumerate() {
            if opts
                .packages
                .as_ref()
                .is_some_and(|f| !f.matches(&pkg.path))
            {
                continue;
            }
            let table = self.packages.entry(pkg.path.clone()).or_default();
            // Sized once: growing these maps was a tenth of `percent`.
            if table.units.is_empty() {
                let n = pkg.functions.iter().map(|f| f.units.len()).sum();
                table.units.reserve(n);
                table.index.reserve(pkg.functions.len());
            }
            for (fi, func) in pkg.functions.iter().enumerate() {
                let id = table.func_id(func);
                let base = layout.func_base[layout.pkg_base[k] + fi];
                for (ui, u) in func.units.iter().enumerate() {
                    let c = sums.counts[base + ui];
                    let slot = table.units.entry((id, *u)).or_insert(0);
                    let (v, o) = mode.combine(*slot, c);
                    *slot = v;
                    self.report.overflow |= o;
                }
            }
        }
        Ok(())
    }

    fn bad_meta(&mut self, pod: &Pod, opts: &ReadOptions, e: Error) -> Result<(), Error> {
        if !opts.skip_bad {
            return Err(e);
        }
        self.report.bad.push(BadFile {
            path: pod.meta_name.clone(),
            error: e,
            dependents: pod.counters.iter().map(|c| c.name.clone()).collect(),
        });
        Ok(())
    }

    /// Fails with the first error, or with `skip_bad` reports them all.
    fn take_errors(
        &mut self,
        pod: &Pod,
        opts: &ReadOptions,
        errors: Vec<(usize, Error)>,
    ) -> Result<(), Error> {
        if !opts.skip_bad {
            return match errors.into_iter().next() {
                Some((_, e)) => Err(e),
                None => Ok(()),
            };
        }
        for (k, e) in errors {
            self.report.bad.push(BadFile {
                path: pod.counters[k].name.clone(),
                error: e,
                dependents: Vec::new(),
            });
        }
        Ok(())
    }

    /// Checks the pod's mode and granularity against earlier pods and
    /// returns the mode to combine counters with.
    fn set_mode(
        &mut self,
        path: &str,
        meta: &MetaFile,
        policy: ModePolicy,
    ) -> Result<CounterMode, Error> {
        if let Some(g) = self.granularity
            && g != meta.granularity
        {
            return Err(Error::Invalid(format!(
                "counter granularity clash while reading meta-data file {path}: \
                 previous file had {}, new file has {}",
                g.as_str(),
                meta.granularity.as_str()
            )));
        }
        self.granularity = Some(meta.granularity);
        let mode = match self.mode {
            None => {
                self.mode_from = path.to_string();
                meta.mode
            }
            Some(m) if m == meta.mode => m,
            Some(m) => match policy {
                ModePolicy::Strict => {
                    return Err(Error::ModeMismatch {
                        first_path: self.mode_from.clone(),
                        first_mode: m.as_str().to_string(),
                        second_path: path.to_string(),
                        second_mode: meta.mode.as_str().to_string(),
                    });
                }
                ModePolicy::Upgrade => m.max(meta.mode),
            },
        };
        self.mode = Some(mode);
        Ok(mode)
    }

    /// The coverage as a text-model [`Profile`]: one file per source file
    /// (`srcfile`), one block per unit. Units of different functions with
    /// the same range (rare: two builds of different source) combine by
    /// mode, as the text parser combines repeated lines.
    pub fn to_profile(&self) -> Result<Profile, Error> {
        let Some(mode) = self.mode else {
            return Ok(Profile::new(None));
        };
        let mut files: HashMap<&str, Vec<Block>> = HashMap::default();
        for table in self.packages.values() {
            for (&(id, u), &c) in &table.units {
                let f = &table.funcs[id as usize];
                files.entry(&f.file).or_default().push(Block::new(
                    (u.start_line, u.start_col),
                    (u.end_line, u.end_col),
                    u.num_stmt,
                    u64::from(c),
                ));
            }
        }
        let mut out = Vec::with_capacity(files.len());
        for (name, mut blocks) in files {
            normalize_blocks(&mut blocks, mode == CounterMode::Set).map_err(|(_, kind)| {
                Error::Invalid(format!(
                    "{name}: units of different functions disagree: {kind}"
                ))
            })?;
            out.push(FileProfile {
                name: name.to_string(),
                blocks,
            });
        }
        let mut p = Profile {
            mode: Some(mode.to_mode()),
            files: out,
        };
        p.sort_files();
        Ok(p)
    }
}

//! Reading whole directories: every pod's counters merged, then every
//! unit added to per-package tables the way `go tool covdata`'s formatter
//! (internal/coverage/cformat) keys them.

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use super::counters::{CounterFile, parse_counters};
use super::meta::{CounterMode, Function, Granularity, MetaFile, Unit, parse_meta};
use super::pattern::PackageFilter;
use super::pods::{CounterRef, Pod, Snapshots, discover};
use super::wire::{hex, mismatch};
use crate::error::Error;
use crate::parse::{ModePolicy, normalize_blocks};
use crate::profile::{Block, FileProfile, Profile};

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
    let found = discover(dirs, opts.snapshots)?;
    let mut data = CovData::default();
    for pod in &found.pods {
        data.read_pod(pod, opts)?;
    }
    data.report.orphans = found.orphans;
    data.report.superseded = found.superseded;
    Ok(data)
}

/// Where each function's counters start in a pod's flat counter array.
struct Layout {
    /// Per package, index of its first function in `func_base`.
    pkg_base: Vec<usize>,
    /// Per function (all packages), first unit; one extra entry at the end.
    func_base: Vec<usize>,
}

impl Layout {
    fn new(meta: &MetaFile) -> Layout {
        let mut pkg_base = Vec::with_capacity(meta.packages.len() + 1);
        let mut func_base = Vec::new();
        let mut units = 0usize;
        for p in &meta.packages {
            pkg_base.push(func_base.len());
            for f in &p.functions {
                func_base.push(units);
                units += f.units.len();
            }
        }
        pkg_base.push(func_base.len());
        func_base.push(units);
        Layout {
            pkg_base,
            func_base,
        }
    }

    fn total(&self) -> usize {
        self.func_base.last().copied().unwrap_or(0)
    }

    /// The slot range of (pkg, func), if the meta file has it.
    fn slots(&self, pkg: u32, func: u32) -> Option<std::ops::Range<usize>> {
        let p = pkg as usize;
        if p + 1 >= self.pkg_base.len() {
            return None;
        }
        let f = self.pkg_base[p] + func as usize;
        if f >= self.pkg_base[p + 1] {
            return None;
        }
        Some(self.func_base[f]..self.func_base[f + 1])
    }
}

/// Per-thread accumulator of a pod's counter files.
struct Acc {
    counts: Vec<u32>,
    overflow: bool,
    files: usize,
    errors: Vec<(usize, Error)>,
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
        let bytes = match fs::read(&pod.meta) {
            Ok(b) => b,
            Err(e) => return self.bad_meta(pod, opts, Error::io(&pod.meta_name, e)),
        };
        let meta = match parse_meta(&bytes, &pod.meta_name) {
            Ok(m) if m.hash_hex() == pod.tag => m,
            Ok(m) => {
                let e = mismatch(
                    &pod.meta_name,
                    24,
                    format!("the file hash {} from the file name", pod.tag),
                    Some(m.hash_hex()),
                );
                return self.bad_meta(pod, opts, e);
            }
            Err(e) => return self.bad_meta(pod, opts, e),
        };
        drop(bytes);
        let mode = self.set_mode(&pod.meta_name, &meta, opts.mode_policy)?;
        let layout = Layout::new(&meta);
        let total = layout.total();
        let zero = || Acc {
            counts: vec![0; total],
            overflow: false,
            files: 0,
            errors: Vec::new(),
        };
        let acc = pod
            .counters
            .par_iter()
            .enumerate()
            .fold(zero, |mut acc, (k, c)| {
                match load_counters(c, &pod.meta_name, &meta, &layout) {
                    Ok(cf) => {
                        add_file(&mut acc, &cf, &layout, mode);
                        acc.files += 1;
                    }
                    Err(e) => acc.errors.push((k, e)),
                }
                acc
            })
            .reduce(zero, |mut a, b| {
                for (x, &y) in a.counts.iter_mut().zip(&b.counts) {
                    let (v, o) = mode.combine(*x, y);
                    *x = v;
                    a.overflow |= o;
                }
                a.overflow |= b.overflow;
                a.files += b.files;
                a.errors.extend(b.errors);
                a
            });
        let mut errors = acc.errors;
        errors.sort_by_key(|(k, _)| *k);
        if !opts.skip_bad {
            if let Some((_, e)) = errors.into_iter().next() {
                return Err(e);
            }
        } else {
            for (k, e) in errors {
                self.report.bad.push(BadFile {
                    path: pod.counters[k].name.clone(),
                    error: e,
                    dependents: Vec::new(),
                });
            }
        }
        self.report.pods += 1;
        self.report.counter_files += acc.files;
        self.report.overflow |= acc.overflow;

        for (k, pkg) in meta.packages.iter().enumerate() {
            if opts
                .packages
                .as_ref()
                .is_some_and(|f| !f.matches(&pkg.path))
            {
                continue;
            }
            let table = self.packages.entry(pkg.path.clone()).or_default();
            for (fi, func) in pkg.functions.iter().enumerate() {
                let id = table.func_id(func);
                let base = layout.func_base[layout.pkg_base[k] + fi];
                for (ui, u) in func.units.iter().enumerate() {
                    let c = acc.counts[base + ui];
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
        let mut files: HashMap<&str, Vec<Block>> = HashMap::new();
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

/// Reads and decodes one counter file and checks it against the pod's
/// meta-data file.
fn load_counters(
    c: &CounterRef,
    meta_name: &str,
    meta: &MetaFile,
    layout: &Layout,
) -> Result<CounterFile, Error> {
    let bytes = fs::read(&c.path).map_err(|e| Error::io(&c.name, e))?;
    let cf = parse_counters(&bytes, &c.name)?;
    if cf.meta_hash != meta.hash {
        return Err(mismatch(
            &c.name,
            8,
            format!("the hash {} of {meta_name}", meta.hash_hex()),
            Some(hex(&cf.meta_hash)),
        ));
    }
    for seg in &cf.segments {
        for r in seg.records() {
            let n = seg.counters(r).len();
            match layout.slots(r.pkg, r.func) {
                Some(s) if s.len() == n => {}
                Some(s) => {
                    let f = &meta.packages[r.pkg as usize].functions[r.func as usize];
                    return Err(mismatch(
                        &c.name,
                        r.offset,
                        format!(
                            "{} counters for function {} of package {} ({} units in {meta_name})",
                            s.len(),
                            f.name,
                            meta.packages[r.pkg as usize].path,
                            s.len()
                        ),
                        Some(format!("{n} counters")),
                    ));
                }
                None => {
                    return Err(mismatch(
                        &c.name,
                        r.offset,
                        format!("a package and function index present in {meta_name}"),
                        Some(format!("package {} function {}", r.pkg, r.func)),
                    ));
                }
            }
        }
    }
    Ok(cf)
}

fn add_file(acc: &mut Acc, cf: &CounterFile, layout: &Layout, mode: CounterMode) {
    for seg in &cf.segments {
        for r in seg.records() {
            let Some(s) = layout.slots(r.pkg, r.func) else {
                continue;
            };
            for (dst, &v) in acc.counts[s].iter_mut().zip(seg.counters(r)) {
                let (x, o) = mode.combine(*dst, v);
                *dst = x;
                acc.overflow |= o;
            }
        }
    }
}

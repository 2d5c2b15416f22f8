//! Writing coverage directories: `merge` (per pod, or all pods combined as
//! with `-pcombine`), `subtract` and `intersect`, in Go's file formats so
//! `go tool covdata` reads the results.

use std::collections::BTreeMap;

use foldhash::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::counters::CounterFile;
use super::data::{BadFile, ReadReport};
use super::discover::{Pod, Snapshots};
use super::encode::{blobs_hash, build_blob, counter_file_bytes, meta_file_bytes};
use super::hash::HashAlgo;
use super::meta::{CounterMode, Function, Granularity, MetaFile, function_hash};
use super::pattern::PackageFilter;
use super::read_pod::{Args, Layout, LoadedMeta, fold_files, load_meta, sum_files};
use super::wire::hex;
use crate::error::Error;

/// What to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DirOp {
    /// Per pod: the meta-data file copied, one counter file with the pod's
    /// counters merged (`go tool covdata merge`).
    Merge,
    /// All pods in one meta-data file, functions deduplicated per package
    /// (`go tool covdata merge -pcombine`); modes upgrade to the highest.
    MergeCombined,
    /// Per pod: the first directory's counters, zeroed wherever the second
    /// directory's are non-zero (`go tool covdata subtract`).
    Subtract,
    /// Per pod: the first directory's counters for functions that every
    /// later directory has, zeroed wherever a later directory's counter
    /// file has 0 (`go tool covdata intersect`).
    Intersect,
}

/// Options for [`write_dirs`].
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// Which counter files of a process count.
    pub snapshots: Snapshots,
    /// Report bad input files instead of failing.
    pub skip_bad: bool,
    /// Only packages whose import path matches (`-pkg`).
    pub packages: Option<PackageFilter>,
}

/// What [`write_dirs`] read and wrote.
#[derive(Debug, Default)]
pub struct WriteReport {
    /// Files written, in order.
    pub written: Vec<PathBuf>,
    /// What was read.
    pub read: ReadReport,
}

/// Runs `op` over the pods of `inputs` and writes the result into `out`
/// (created if missing; it must not be one of the inputs).
///
/// Unlike `go tool covdata`, `subtract` and `intersect` handle several
/// programs (pods) in one run (Go's tool panics with "decreasing dir
/// index"), and a pod that a later directory has no data for intersects to
/// nothing (Go keeps the first directory's data when such a pod comes
/// first).
pub fn write_dirs(
    op: DirOp,
    inputs: &[super::CovDir],
    out: &Path,
    opts: &WriteOptions,
) -> Result<WriteReport, Error> {
    match op {
        DirOp::Subtract if inputs.len() != 2 => {
            return Err(Error::Invalid(
                "subtract takes exactly two input directories".into(),
            ));
        }
        DirOp::Intersect if inputs.len() < 2 => {
            return Err(Error::Invalid(
                "intersect takes at least two input directories".into(),
            ));
        }
        _ => {}
    }
    let found = super::discover_dirs(inputs, opts.snapshots)?;
    // A missing output directory cannot be an input (inputs exist).
    if let Ok(out_real) = fs::canonicalize(out) {
        for i in inputs {
            let super::CovDir::Path(i) = i else { continue };
            if fs::canonicalize(i).is_ok_and(|d| d == out_real) {
                return Err(Error::Invalid(format!(
                    "the output directory {} is also an input",
                    out.display()
                )));
            }
        }
    }
    let mut w = Writer {
        out: out.to_path_buf(),
        opts,
        report: WriteReport::default(),
        last_stamp: 0,
        pending: Vec::new(),
    };
    w.report.read.orphans = found.orphans.clone();
    w.report.read.superseded = found.superseded.clone();
    if op == DirOp::MergeCombined {
        w.combined(&found.pods)?;
    } else {
        for pod in &found.pods {
            w.pod(op, pod, inputs.len())?;
        }
    }
    // Every program was read and encoded: only now is anything written,
    // so a bad input later in the list leaves no part of the output.
    if !w.pending.is_empty() {
        fs::create_dir_all(out).map_err(|e| Error::io(out.to_string_lossy(), e))?;
    }
    for (name, bytes) in std::mem::take(&mut w.pending) {
        let dest = out.join(name);
        crate::output::replace_file(&dest, &bytes)?;
        w.report.written.push(dest);
    }
    Ok(w.report)
}

struct Writer<'a> {
    out: PathBuf,
    opts: &'a WriteOptions,
    report: WriteReport,
    last_stamp: u128,
    /// Files encoded and not yet written: names and bytes.
    pending: Vec<(String, Vec<u8>)>,
}

impl Writer<'_> {
    fn load(&mut self, pod: &Pod) -> Result<Option<LoadedMeta>, Error> {
        match load_meta(pod) {
            Ok(m) => Ok(Some(m)),
            Err(e) if self.opts.skip_bad => {
                self.report.read.bad.push(BadFile {
                    path: pod.meta_name.clone(),
                    error: e,
                    dependents: pod.counters.iter().map(|c| c.name.clone()).collect(),
                });
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn errors(&mut self, pod: &Pod, errors: Vec<(usize, Error)>) -> Result<(), Error> {
        if !self.opts.skip_bad {
            return match errors.into_iter().next() {
                Some((_, e)) => Err(e),
                None => Ok(()),
            };
        }
        for (k, e) in errors {
            self.report.read.bad.push(BadFile {
                path: pod.counters[k].name.clone(),
                error: e,
                dependents: Vec::new(),
            });
        }
        Ok(())
    }

    fn keep(&self, path: &str) -> bool {
        self.opts.packages.as_ref().is_none_or(|f| f.matches(path))
    }

    /// One pod, written on its own.
    fn pod(&mut self, op: DirOp, pod: &Pod, ndirs: usize) -> Result<(), Error> {
        let Some(m) = self.load(pod)? else {
            return Ok(());
        };
        let mode = m.meta.mode;
        let in_dir = |d: usize| -> Vec<usize> {
            (0..pod.counters.len())
                .filter(|&k| pod.counters[k].dir_index == d)
                .collect()
        };
        let first = match op {
            DirOp::Merge => (0..pod.counters.len()).collect(),
            _ => in_dir(0),
        };
        let (mut sums, n, errors) = sum_files(pod, &first, &m, mode);
        self.errors(pod, errors)?;
        let mut files = n;
        let mut args = sums.args.summary();
        match op {
            DirOp::Subtract => {
                args.clear();
                let (nonzero, n, errors) = fold_files(
                    pod,
                    &in_dir(1),
                    &m,
                    || vec![false; m.layout.slots_total()],
                    |nz: &mut Vec<bool>, cf: &CounterFile, l: &Layout| {
                        for_each_record(cf, l, |f, vals| {
                            for (x, &v) in nz[l.slots(f)].iter_mut().zip(vals) {
                                *x |= v != 0;
                            }
                        })
                    },
                    or_vecs,
                );
                self.errors(pod, errors)?;
                files += n;
                for (c, z) in sums.counts.iter_mut().zip(nonzero) {
                    if z {
                        *c = 0;
                    }
                }
            }
            DirOp::Intersect => {
                args.clear();
                for d in 1..ndirs {
                    let ((present, zero), n, errors) = fold_files(
                        pod,
                        &in_dir(d),
                        &m,
                        || {
                            (
                                vec![false; m.layout.funcs_total()],
                                vec![false; m.layout.slots_total()],
                            )
                        },
                        |(p, z): &mut (Vec<bool>, Vec<bool>), cf: &CounterFile, l: &Layout| {
                            for_each_record(cf, l, |f, vals| {
                                p[f] = true;
                                for (x, &v) in z[l.slots(f)].iter_mut().zip(vals) {
                                    *x |= v == 0;
                                }
                            })
                        },
                        |(pa, za), (pb, zb)| (or_vecs(pa, pb), or_vecs(za, zb)),
                    );
                    self.errors(pod, errors)?;
                    files += n;
                    for (x, p) in sums.present.iter_mut().zip(present) {
                        *x &= p;
                    }
                    for (c, z) in sums.counts.iter_mut().zip(zero) {
                        if z {
                            *c = 0;
                        }
                    }
                }
            }
            _ => {}
        }
        self.report.read.pods += 1;
        self.report.read.counter_files += files;
        self.report.read.overflow |= sums.overflow;

        // Packages kept, with their new indices.
        let kept: Vec<usize> = (0..m.meta.packages.len())
            .filter(|&k| self.keep(&m.meta.packages[k].path))
            .collect();
        let meta_hash = if self.opts.packages.is_none() {
            self.write_file(&format!("covmeta.{}", m.meta.hash_hex()), &m.bytes)?;
            m.meta.hash
        } else {
            let blobs: Vec<&[u8]> = kept
                .iter()
                .map(|&k| {
                    let (off, len) = m.meta.packages[k].blob;
                    &m.bytes[off..off + len]
                })
                .collect();
            let hash = blobs_hash(&blobs);
            let bytes = meta_file_bytes(hash, mode, m.meta.granularity, &blobs);
            self.write_file(&format!("covmeta.{}", hex(&hash)), &bytes)?;
            hash
        };
        let mut records: Vec<(u32, u32, &[u32])> = Vec::new();
        for (new, &k) in kept.iter().enumerate() {
            let nf = m.layout.pkg_base[k + 1] - m.layout.pkg_base[k];
            for fi in 0..nf {
                let f = m.layout.pkg_base[k] + fi;
                if sums.present[f] {
                    records.push((new as u32, fi as u32, &sums.counts[m.layout.slots(f)]));
                }
            }
        }
        let bytes = counter_file_bytes(meta_hash, &args, &records);
        self.write_counters(&meta_hash, &bytes)
    }

    /// All pods into one meta-data file (`-pcombine`).
    fn combined(&mut self, pods: &[Pod]) -> Result<(), Error> {
        let mut pkgs: Vec<Combined> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::default();
        let mut mode: Option<CounterMode> = None;
        let mut gran: Option<(Granularity, String)> = None;
        let mut args = Args::default();
        for pod in pods {
            let Some(m) = self.load(pod)? else { continue };
            if let Some((g, from)) = &gran
                && *g != m.meta.granularity
            {
                return Err(Error::Invalid(format!(
                    "counter granularity clash while reading meta-data file {}: previous file \
                     ({from}) had {}, new file has {}",
                    pod.meta_name,
                    g.as_str(),
                    m.meta.granularity.as_str()
                )));
            }
            gran = Some((m.meta.granularity, pod.meta_name.clone()));
            let md = mode.map_or(m.meta.mode, |x| x.max(m.meta.mode));
            mode = Some(md);
            let all: Vec<usize> = (0..pod.counters.len()).collect();
            let (sums, n, errors) = sum_files(pod, &all, &m, md);
            self.errors(pod, errors)?;
            self.report.read.pods += 1;
            self.report.read.counter_files += n;
            self.report.read.overflow |= sums.overflow;
            args.merge(&sums.args);
            visit_combined(
                &m.meta,
                &m.layout,
                &sums.counts,
                &sums.present,
                md,
                self,
                &mut pkgs,
                &mut index,
            );
        }
        let (Some(mode), Some((gran, _))) = (mode, gran) else {
            return Ok(());
        };
        let blobs: Vec<Vec<u8>> = pkgs.iter().map(Combined::blob).collect();
        let refs: Vec<&[u8]> = blobs.iter().map(Vec::as_slice).collect();
        let hash = blobs_hash(&refs);
        let bytes = meta_file_bytes(hash, mode, gran, &refs);
        self.write_file(&format!("covmeta.{}", hex(&hash)), &bytes)?;
        let mut records: Vec<(u32, u32, &[u32])> = Vec::new();
        for (pi, p) in pkgs.iter().enumerate() {
            for (&fi, c) in &p.counters {
                records.push((pi as u32, fi, c));
            }
        }
        let bytes = counter_file_bytes(hash, &args.summary(), &records);
        self.write_counters(&hash, &bytes)
    }

    /// Writes `covcounters.<hash>.0.<nanos>` with a timestamp unique in
    /// this run and not already taken in the directory.
    fn write_counters(&mut self, hash: &[u8; 16], bytes: &[u8]) -> Result<(), Error> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut stamp = now.max(self.last_stamp + 1);
        let h = hex(hash);
        while self.out.join(format!("covcounters.{h}.0.{stamp}")).exists() {
            stamp += 1;
        }
        self.last_stamp = stamp;
        self.write_file(&format!("covcounters.{h}.0.{stamp}"), bytes)
    }

    /// Keeps a file to write once every input was read; each is written
    /// through a temporary file and a rename, as Go's runtime does, never
    /// through a link or FIFO already in the directory.
    fn write_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), Error> {
        self.pending.push((name.to_string(), bytes.to_vec()));
        Ok(())
    }
}

/// One import path of a combined meta-data file.
struct Combined {
    path: String,
    name: String,
    module: String,
    funcs: Vec<Function>,
    by_hash: HashMap<[u8; 16], u32>,
    counters: BTreeMap<u32, Vec<u32>>,
}

impl Combined {
    fn blob(&self) -> Vec<u8> {
        build_blob(&self.path, &self.name, &self.module, &self.funcs)
    }
}

#[allow(clippy::too_many_arguments)]
fn visit_combined(
    meta: &MetaFile,
    layout: &Layout,
    counts: &[u32],
    present: &[bool],
    mode: CounterMode,
    w: &mut Writer<'_>,
    pkgs: &mut Vec<Combined>,
    index: &mut HashMap<String, usize>,
) {
    for (k, p) in meta.packages.iter().enumerate() {
        if !w.keep(&p.path) {
            continue;
        }
        let pi = *index.entry(p.path.clone()).or_insert_with(|| {
            pkgs.push(Combined {
                path: p.path.clone(),
                name: p.name.clone(),
                module: p.module.clone(),
                funcs: Vec::new(),
                by_hash: HashMap::default(),
                counters: BTreeMap::new(),
            });
            pkgs.len() - 1
        });
        let c = &mut pkgs[pi];
        for (fi, func) in p.functions.iter().enumerate() {
            let h = function_hash(HashAlgo::Fnv128a, func);
            let gid = *c.by_hash.entry(h).or_insert_with(|| {
                c.funcs.push(func.clone());
                (c.funcs.len() - 1) as u32
            });
            let f = layout.pkg_base[k] + fi;
            if !present[f] {
                continue;
            }
            let vals = &counts[layout.slots(f)];
            match c.counters.get_mut(&gid) {
                Some(dst) if dst.len() == vals.len() => {
                    for (d, &v) in dst.iter_mut().zip(vals) {
                        let (x, o) = mode.combine(*d, v);
                        *d = x;
                        w.report.read.overflow |= o;
                    }
                }
                // Same hash, other length: cannot happen (the units are
                // hashed); keep the first.
                Some(_) => {}
                None => {
                    c.counters.insert(gid, vals.to_vec());
                }
            }
        }
    }
}

fn for_each_record(cf: &CounterFile, l: &Layout, mut f: impl FnMut(usize, &[u32])) {
    for seg in &cf.segments {
        for r in seg.records() {
            if let Some(fi) = l.func_index(r.pkg, r.func) {
                f(fi, seg.counters(r));
            }
        }
    }
}

fn or_vecs(mut a: Vec<bool>, b: Vec<bool>) -> Vec<bool> {
    for (x, y) in a.iter_mut().zip(b) {
        *x |= y;
    }
    a
}

//! Reading one pod: its meta-data file, and its counter files folded into
//! per-slot state in parallel. Shared by the reports and the writers.

use rayon::prelude::*;

use super::counters::{Arg, CounterFile, Segment, parse_counters};
use super::discover::{CounterRef, Pod};
use super::meta::{CounterMode, MetaFile, parse_meta};
use super::wire::{hex, mismatch};
use crate::error::Error;

/// A pod's meta-data file, decoded, with its bytes (copied verbatim by
/// merges).
pub(crate) struct LoadedMeta {
    pub(crate) bytes: Vec<u8>,
    pub(crate) meta: MetaFile,
    pub(crate) layout: Layout,
}

/// Reads and verifies a pod's meta-data file, whose name must carry its
/// hash.
pub(crate) fn load_meta(pod: &Pod) -> Result<LoadedMeta, Error> {
    let bytes = pod
        .meta
        .read(super::names::META_MAGIC)
        .map_err(|e| Error::io(&pod.meta_name, e))?
        .into_owned();
    let meta = parse_meta(&bytes, &pod.meta_name)?;
    if meta.hash_hex() != pod.tag {
        return Err(mismatch(
            &pod.meta_name,
            24,
            format!("the file hash {} from the file name", pod.tag),
            Some(meta.hash_hex()),
        ));
    }
    let layout = Layout::new(&meta);
    Ok(LoadedMeta {
        bytes,
        meta,
        layout,
    })
}

/// Where each function's counters lie in a pod's flat counter array.
pub(crate) struct Layout {
    /// Per package, index of its first function; one extra entry.
    pub(crate) pkg_base: Vec<usize>,
    /// Per function (all packages), first slot; one extra entry.
    pub(crate) func_base: Vec<usize>,
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

    /// Number of counter slots.
    pub(crate) fn slots_total(&self) -> usize {
        self.func_base.last().copied().unwrap_or(0)
    }

    /// Number of functions.
    pub(crate) fn funcs_total(&self) -> usize {
        self.func_base.len() - 1
    }

    /// The flat index of (pkg, func), if the meta file has it.
    pub(crate) fn func_index(&self, pkg: u32, func: u32) -> Option<usize> {
        let p = pkg as usize;
        if p + 1 >= self.pkg_base.len() {
            return None;
        }
        let f = self.pkg_base[p].checked_add(func as usize)?;
        (f < self.pkg_base[p + 1]).then_some(f)
    }

    /// The slots of flat function `f`.
    pub(crate) fn slots(&self, f: usize) -> std::ops::Range<usize> {
        self.func_base[f]..self.func_base[f + 1]
    }
}

/// Reads and decodes one counter file and checks it against the pod's
/// meta-data file: same hash, every record naming a function it has, with
/// one counter per unit.
pub(crate) fn load_counters(
    c: &CounterRef,
    m: &LoadedMeta,
    meta_name: &str,
) -> Result<CounterFile, Error> {
    let bytes = c
        .path
        .read(super::counters::COUNTER_MAGIC)
        .map_err(|e| Error::io(&c.name, e))?;
    let cf = parse_counters(&bytes, &c.name)?;
    if cf.meta_hash != m.meta.hash {
        return Err(mismatch(
            &c.name,
            8,
            format!("the hash {} of {meta_name}", m.meta.hash_hex()),
            Some(hex(&cf.meta_hash)),
        ));
    }
    for seg in &cf.segments {
        for r in seg.records() {
            let n = seg.counters(r).len();
            let Some(f) = m.layout.func_index(r.pkg, r.func) else {
                return Err(mismatch(
                    &c.name,
                    r.offset,
                    format!("a package and function index present in {meta_name}"),
                    Some(format!("package {} function {}", r.pkg, r.func)),
                ));
            };
            let want = m.layout.slots(f).len();
            if want != n {
                let p = &m.meta.packages[r.pkg as usize];
                let func = &p.functions[r.func as usize];
                return Err(mismatch(
                    &c.name,
                    r.offset,
                    format!(
                        "{want} counters for function {} of package {} (its units in {meta_name})",
                        func.name, p.path
                    ),
                    Some(format!("{n} counters")),
                ));
            }
        }
    }
    Ok(cf)
}

/// Folds the counter files `files` (indices into `pod.counters`) into a
/// `T` in parallel. Returns the result, the number of files read, and the
/// files that could not be read, by index, in order.
pub(crate) fn fold_files<T, I, A, M>(
    pod: &Pod,
    files: &[usize],
    m: &LoadedMeta,
    init: I,
    add: A,
    merge: M,
) -> (T, usize, Vec<(usize, Error)>)
where
    T: Send,
    I: Fn() -> T + Sync + Send,
    A: Fn(&mut T, &CounterFile, &Layout) + Sync + Send,
    M: Fn(T, T) -> T + Sync + Send,
{
    let zero = || (init(), 0usize, Vec::new());
    // One accumulator per thread, not per rayon split: each is as large
    // as the pod's counters, and allocating, faulting in and unmapping
    // them per split was a third of `covdata percent`.
    let per_thread = files.len().div_ceil(rayon::current_num_threads()).max(1);
    let (t, n, mut errors) = files
        .par_iter()
        .with_min_len(per_thread)
        .fold(zero, |(mut t, mut n, mut errs), &k| {
            match load_counters(&pod.counters[k], m, &pod.meta_name) {
                Ok(cf) => {
                    add(&mut t, &cf, &m.layout);
                    n += 1;
                }
                Err(e) => errs.push((k, e)),
            }
            (t, n, errs)
        })
        .reduce_with(|(a, na, mut ea), (b, nb, eb)| {
            ea.extend(eb);
            (merge(a, b), na + nb, ea)
        })
        .unwrap_or_else(zero);
    errors.sort_by_key(|(k, _)| *k);
    (t, n, errors)
}

/// The program arguments common to the counter files merged (Go's
/// `argstate`): kept only where every file agrees. Bytes, as Go's strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Args {
    seen: bool,
    osargs: Vec<Vec<u8>>,
    goos: Vec<u8>,
    goarch: Vec<u8>,
}

impl Args {
    /// The arguments of a counter file's segment.
    pub(crate) fn of(seg: &Segment) -> Args {
        Args {
            seen: true,
            osargs: seg.os_args().into_iter().map(<[u8]>::to_vec).collect(),
            goos: seg.arg("GOOS").unwrap_or_default().to_vec(),
            goarch: seg.arg("GOARCH").unwrap_or_default().to_vec(),
        }
    }

    pub(crate) fn merge(&mut self, o: &Args) {
        if !o.seen {
            return;
        }
        if !self.seen {
            *self = o.clone();
            return;
        }
        if self.osargs != o.osargs {
            self.osargs.clear();
        }
        if self.goos != o.goos {
            self.goos.clear();
        }
        if self.goarch != o.goarch {
            self.goarch.clear();
        }
    }

    /// The args table of a merged counter file, sorted by key.
    pub(crate) fn summary(&self) -> Vec<Arg> {
        let mut v: Vec<Arg> = Vec::new();
        if !self.osargs.is_empty() {
            v.push((b"argc".to_vec(), self.osargs.len().to_string().into_bytes()));
            for (k, a) in self.osargs.iter().enumerate() {
                v.push((format!("argv{k}").into_bytes(), a.clone()));
            }
        }
        if !self.goos.is_empty() {
            v.push((b"GOOS".to_vec(), self.goos.clone()));
        }
        if !self.goarch.is_empty() {
            v.push((b"GOARCH".to_vec(), self.goarch.clone()));
        }
        v.sort();
        v
    }
}

/// Counters summed per the mode, which functions had records, and the
/// common arguments.
pub(crate) struct Sums {
    pub(crate) counts: Vec<u32>,
    pub(crate) present: Vec<bool>,
    pub(crate) overflow: bool,
    pub(crate) args: Args,
}

/// `n` zeros, every page already written. A fresh `vec![0; n]` is
/// mapped lazily: adding into it reads a page (mapping the shared zero
/// page), then writes it: a second fault, which also interrupts every
/// other thread to flush its TLB.
fn written_zeros(n: usize) -> Vec<u32> {
    let mut v = vec![0u32; n];
    // An opaque zero: the compiler may not drop a store it cannot see is
    // a no-op.
    for i in (0..n).step_by(4096 / size_of::<u32>()) {
        v[i] = std::hint::black_box(0);
    }
    v
}

/// Sums the counter files `files` of a pod.
pub(crate) fn sum_files(
    pod: &Pod,
    files: &[usize],
    m: &LoadedMeta,
    mode: CounterMode,
) -> (Sums, usize, Vec<(usize, Error)>) {
    let init = || Sums {
        counts: written_zeros(m.layout.slots_total()),
        present: vec![false; m.layout.funcs_total()],
        overflow: false,
        args: Args::default(),
    };
    let add = |s: &mut Sums, cf: &CounterFile, layout: &Layout| {
        for seg in &cf.segments {
            s.args.merge(&Args::of(seg));
            for r in seg.records() {
                let Some(f) = layout.func_index(r.pkg, r.func) else {
                    continue;
                };
                s.present[f] = true;
                for (dst, &v) in s.counts[layout.slots(f)].iter_mut().zip(seg.counters(r)) {
                    let (x, o) = mode.combine(*dst, v);
                    *dst = x;
                    s.overflow |= o;
                }
            }
        }
    };
    let merge = |mut a: Sums, b: Sums| {
        for (x, &y) in a.counts.iter_mut().zip(&b.counts) {
            let (v, o) = mode.combine(*x, y);
            *x = v;
            a.overflow |= o;
        }
        for (x, &y) in a.present.iter_mut().zip(&b.present) {
            *x |= y;
        }
        a.overflow |= b.overflow;
        a.args.merge(&b.args);
        a
    };
    fold_files(pod, files, m, init, add, merge)
}

//! `go tool covdata debugdump`: every pod's meta-data and counter files
//! in file order, function by function, unit by unit.

use std::io::{self, Write};

use super::discover::Snapshots;
use super::pattern::PackageFilter;
use super::read_pod::{load_counters, load_meta};
use crate::error::Error;

/// Options of [`write_debugdump`].
#[derive(Clone, Debug, Default)]
pub struct DumpOptions {
    /// Which counter files count (Go reads them all).
    pub snapshots: Snapshots,
    /// Only packages matching this (`-pkg`).
    pub packages: Option<PackageFilter>,
    /// Leave out functions without counter data (`-live`).
    pub live: bool,
    /// The command line shown in the header comment.
    pub command: String,
}

/// What [`write_debugdump`] noticed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DumpReport {
    /// A sum of counters saturated at `u32::MAX`.
    pub overflow: bool,
}

impl DumpReport {
    /// What a reader should be told.
    pub fn warnings(&self) -> Vec<super::Warning> {
        if self.overflow {
            vec![super::Warning::CounterOverflow]
        } else {
            Vec::new()
        }
    }
}

/// Writes what `go tool covdata debugdump` prints for `dirs`, byte for
/// byte except the command line in the header. Per pod: the mode and
/// granularity, a line per counter file (with its GOOS, GOARCH and program
/// arguments), then each package's functions in meta-data order with every
/// unit's combined count; last, the statement totals over all pods.
pub fn write_debugdump<W: Write>(
    w: &mut W,
    dirs: &[super::CovDir],
    opts: &DumpOptions,
) -> Result<DumpReport, Error> {
    let io = |e: io::Error| Error::io("<output>", e);
    let mut report = DumpReport::default();
    write!(
        w,
        "/* WARNING: the format of this dump is not stable and is\n \
         * expected to change from one Go release to the next.\n \
         *\n \
         * produced by:\n \
         *\t{}\n \
         */\n",
        opts.command
    )
    .map_err(io)?;
    let found = super::discover_dirs(dirs, opts.snapshots)?;
    let (mut total, mut covered) = (0u64, 0u64);
    for pod in &found.pods {
        let m = load_meta(pod)?;
        let (meta, layout) = (&m.meta, &m.layout);
        let mode = meta.mode;
        writeln!(w, "Cover mode: {}", mode.as_str()).map_err(io)?;
        writeln!(w, "Cover granularity: {}", meta.granularity.as_str()).map_err(io)?;
        let mut counts = vec![0u32; layout.slots_total()];
        let mut present = vec![false; layout.funcs_total()];
        for c in &pod.counters {
            let cf = load_counters(c, &m, &pod.meta_name)?;
            write!(w, "data file {}", c.name).map_err(io)?;
            // Go's reader describes a file by its first segment. Arguments
            // are bytes and printed as such, as Go prints them.
            if let Some(seg) = cf.segments.first() {
                let mut line = Vec::new();
                for key in ["GOOS", "GOARCH"] {
                    match seg.arg(key) {
                        Some(v) if !v.is_empty() => {
                            line.extend_from_slice(format!(" {key}=").as_bytes());
                            line.extend_from_slice(v);
                        }
                        _ => {}
                    }
                }
                let args = seg.os_args();
                if !args.is_empty() {
                    line.extend_from_slice(b"  program args: [");
                    line.extend_from_slice(&args.join(&b' '));
                    line.extend_from_slice(b"]\n");
                }
                w.write_all(&line).map_err(io)?;
            }
            writeln!(w).map_err(io)?;
            for seg in &cf.segments {
                for r in seg.records() {
                    let Some(f) = layout.func_index(r.pkg, r.func) else {
                        continue;
                    };
                    present[f] = true;
                    for (dst, &v) in counts[layout.slots(f)].iter_mut().zip(seg.counters(r)) {
                        let (x, o) = mode.combine(*dst, v);
                        *dst = x;
                        report.overflow |= o;
                    }
                }
            }
        }
        for (k, pkg) in meta.packages.iter().enumerate() {
            if opts
                .packages
                .as_ref()
                .is_some_and(|f| !f.matches(&pkg.path))
            {
                continue;
            }
            let mut preamble = false;
            for (fi, func) in pkg.functions.iter().enumerate() {
                let f = layout.pkg_base[k] + fi;
                let show = present[f] || !opts.live;
                if show && !preamble {
                    write!(
                        w,
                        "\nPackage path: {}\nPackage name: {}\nModule path: {}\n",
                        pkg.path, pkg.name, pkg.module
                    )
                    .map_err(io)?;
                    preamble = true;
                }
                if show {
                    write!(
                        w,
                        "\nFunc: {}\nSrcfile: {}\nLiteral: {}\n",
                        func.name, func.srcfile, func.literal
                    )
                    .map_err(io)?;
                }
                let slots = &counts[layout.slots(f)];
                for (i, u) in func.units.iter().enumerate() {
                    let count = if present[f] { slots[i] } else { 0 };
                    if show {
                        writeln!(
                            w,
                            "{i}: L{}:C{} -- L{}:C{} NS={} = {count}",
                            u.start_line, u.start_col, u.end_line, u.end_col, u.num_stmt
                        )
                        .map_err(io)?;
                    }
                    // Hidden functions count too, as in Go.
                    total += u64::from(u.num_stmt);
                    if count != 0 {
                        covered += u64::from(u.num_stmt);
                    }
                }
            }
        }
    }
    writeln!(w, "totalStmts: {total} coveredStmts: {covered}").map_err(io)?;
    Ok(report)
}

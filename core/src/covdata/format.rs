//! The reports of `go tool covdata`, byte for byte: `textfmt`, `percent`,
//! `func` and `pkglist` (internal/coverage/cformat).

use std::io::{self, Write};

use super::data::{CovData, FnKey, PkgTable};
use super::meta::Unit;

const CHUNK: usize = 1 << 16;

impl CovData {
    /// Packages sorted by import path.
    fn sorted(&self) -> Vec<(&str, &PkgTable)> {
        let mut v: Vec<(&str, &PkgTable)> =
            self.packages.iter().map(|(k, t)| (k.as_str(), t)).collect();
        v.sort_unstable_by(|a, b| a.0.cmp(b.0));
        v
    }
}

/// A package's units in cformat's order: file, start line, end line,
/// start column, end column, statements (then function name and literal
/// flag, where Go's order is unspecified). Names are ranked once, so the
/// sort compares integers only.
fn sorted_units(t: &PkgTable) -> Vec<(&FnKey, &Unit, u32)> {
    let files = ranks(t, |f| &f.file);
    let names = ranks(t, |f| &f.name);
    let mut v: Vec<(_, &FnKey, &Unit, u32)> = t
        .units
        .iter()
        .map(|(&(id, ref u), &c)| {
            let i = id as usize;
            let f = &t.funcs[i];
            let key = (
                files[i],
                u.start_line,
                u.end_line,
                u.start_col,
                u.end_col,
                u.num_stmt,
                names[i],
                f.lit,
            );
            (key, f, u, c)
        })
        .collect();
    v.sort_unstable_by_key(|x| x.0);
    v.into_iter().map(|(_, f, u, c)| (f, u, c)).collect()
}

/// Per function of `t`, the rank of `field` among all its functions'.
fn ranks(t: &PkgTable, field: impl Fn(&FnKey) -> &str) -> Vec<u32> {
    let mut order: Vec<u32> = (0..t.funcs.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| field(&t.funcs[a as usize]).cmp(field(&t.funcs[b as usize])));
    let mut rank = vec![0u32; t.funcs.len()];
    let mut r = 0u32;
    for (k, &i) in order.iter().enumerate() {
        if k > 0 && field(&t.funcs[order[k - 1] as usize]) != field(&t.funcs[i as usize]) {
            r += 1;
        }
        rank[i as usize] = r;
    }
    rank
}

/// `go tool covdata textfmt`: `mode: M`, then one line per unit, packages
/// by import path. Nothing at all when no data was read.
pub fn write_textfmt<W: Write>(w: &mut W, d: &CovData) -> io::Result<()> {
    let Some(mode) = d.mode() else {
        return Ok(());
    };
    let mut buf = Vec::with_capacity(CHUNK + 256);
    buf.extend_from_slice(b"mode: ");
    buf.extend_from_slice(mode.as_str().as_bytes());
    buf.push(b'\n');
    let mut num = itoa::Buffer::new();
    for (_, t) in d.sorted() {
        for (f, u, c) in sorted_units(t) {
            buf.extend_from_slice(f.file.as_bytes());
            buf.push(b':');
            buf.extend_from_slice(num.format(u.start_line).as_bytes());
            buf.push(b'.');
            buf.extend_from_slice(num.format(u.start_col).as_bytes());
            buf.push(b',');
            buf.extend_from_slice(num.format(u.end_line).as_bytes());
            buf.push(b'.');
            buf.extend_from_slice(num.format(u.end_col).as_bytes());
            buf.push(b' ');
            buf.extend_from_slice(num.format(u.num_stmt).as_bytes());
            buf.push(b' ');
            buf.extend_from_slice(num.format(c).as_bytes());
            buf.push(b'\n');
            if buf.len() >= CHUNK {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
    }
    w.write_all(&buf)
}

/// `go tool covdata percent`: per package `\t<path>\t\tcoverage: N% of
/// statements\n`; a package without statements prints only
/// `\t<path>\t\t`, with no newline, as Go does.
pub fn write_percent<W: Write>(w: &mut W, d: &CovData) -> io::Result<()> {
    if d.mode().is_none() {
        return Ok(());
    }
    let mut out = Vec::new();
    for (path, t) in d.sorted() {
        let (mut covered, mut total) = (0u64, 0u64);
        for (&(_, u), &c) in &t.units {
            total += u64::from(u.num_stmt);
            if c != 0 {
                covered += u64::from(u.num_stmt);
            }
        }
        out.push(b'\t');
        out.extend_from_slice(path.as_bytes());
        out.extend_from_slice(b"\t\t");
        if total != 0 {
            let pct = 100.0 * covered as f64 / total as f64;
            out.extend_from_slice(format!("coverage: {pct:.1}% of statements\n").as_bytes());
        }
    }
    w.write_all(&out)
}

/// `go tool covdata func`: one line per function (a new one starts
/// whenever the function name changes in unit order; function literals
/// are counted in the total but not listed), then the total, aligned as
/// Go's `text/tabwriter` aligns them.
pub fn write_func<W: Write>(w: &mut W, d: &CovData) -> io::Result<()> {
    if d.mode().is_none() {
        return Ok(());
    }
    let perc = |c: u64, t: u64| 100.0 * c as f64 / t.max(1) as f64;
    let mut rows: Vec<[String; 3]> = Vec::new();
    let (mut all, mut cov) = (0u64, 0u64);
    for (_, t) in d.sorted() {
        if t.units.is_empty() {
            continue;
        }
        let units = sorted_units(t);
        let mut cur: Option<(&FnKey, u32)> = None;
        let (mut ts, mut cs) = (0u64, 0u64);
        let mut emit = |f: &FnKey, line: u32, ts: u64, cs: u64, rows: &mut Vec<[String; 3]>| {
            if !f.lit {
                rows.push([
                    format!("{}:{}:", f.file, line),
                    f.name.to_string(),
                    format!("{:.1}%", perc(cs, ts)),
                ]);
            }
            all += ts;
            cov += cs;
        };
        for (f, u, c) in units {
            match cur {
                Some((g, _)) if g.name == f.name => {}
                Some((g, line)) => {
                    emit(g, line, ts, cs, &mut rows);
                    (ts, cs) = (0, 0);
                    cur = Some((f, u.start_line));
                }
                None => cur = Some((f, u.start_line)),
            }
            ts += u64::from(u.num_stmt);
            if c != 0 {
                cs += u64::from(u.num_stmt);
            }
        }
        if let Some((g, line)) = cur {
            emit(g, line, ts, cs, &mut rows);
        }
    }
    rows.push([
        "total".to_string(),
        "(statements)".to_string(),
        format!("{:.1}%", perc(cov, all)),
    ]);
    w.write_all(&tabwrite(&rows))
}

/// `go tool covdata pkglist`: import paths, sorted, one per line.
pub fn write_pkglist<W: Write>(w: &mut W, d: &CovData) -> io::Result<()> {
    let mut out = Vec::new();
    for p in d.package_paths() {
        out.extend_from_slice(p.as_bytes());
        out.push(b'\n');
    }
    w.write_all(&out)
}

/// `text/tabwriter` with minwidth 1, tabwidth 8, padding 1, padchar
/// `'\t'` and no flags, for rows of two tab-terminated cells and a last
/// cell: each column is as wide as its widest cell (in runes) plus one,
/// rounded up to a multiple of 8, and filled with tabs.
fn tabwrite(rows: &[[String; 3]]) -> Vec<u8> {
    let width = |j: usize| {
        let w = rows
            .iter()
            .map(|r| r[j].chars().count() + 1)
            .max()
            .unwrap_or(0)
            .max(1);
        w.div_ceil(8) * 8
    };
    let widths = [width(0), width(1)];
    let mut out = Vec::new();
    for r in rows {
        for (j, &cw) in widths.iter().enumerate() {
            out.extend_from_slice(r[j].as_bytes());
            let tabs = (cw - r[j].chars().count()).div_ceil(8);
            out.extend(std::iter::repeat_n(b'\t', tabs));
        }
        out.extend_from_slice(r[2].as_bytes());
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabwriter_like_go() {
        let rows = [
            [
                "example.com/covsample/main.go:10:".to_string(),
                "main".into(),
                "88.9%".into(),
            ],
            ["total".to_string(), "(statements)".into(), "77.8%".into()],
        ];
        let out = String::from_utf8(tabwrite(&rows)).unwrap();
        // Widest first cell 33 runes (+1 padding): column 40; "total" gets 5 tabs.
        assert_eq!(
            out,
            "example.com/covsample/main.go:10:\tmain\t\t88.9%\ntotal\t\t\t\t\t(statements)\t77.8%\n"
        );
    }
}

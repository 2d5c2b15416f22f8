//! The meta-data file (`covmeta.<hash>`): which packages, functions and
//! coverable units a binary has.

use std::sync::Arc;

use nom::Parser;
use nom::bytes::complete::take;
use nom::error::context;
use nom::multi::count;
use nom::number::complete::le_u32;
use rayon::prelude::*;

use super::hash::{HashAlgo, Hasher, digest};
use super::names::meta_layout;
use super::wire::{In, Res, Wire, fail, failure, finish, hex, string_table, uleb32};
use crate::error::Error;
use crate::profile::Mode;

const BLOB_HEADER_LEN: usize = 44;

/// How a binary's counters combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CounterMode {
    /// `-covermode=set`: 0 or 1.
    Set,
    /// `-covermode=count`.
    Count,
    /// `-covermode=atomic`.
    Atomic,
}

impl CounterMode {
    pub(crate) fn from_byte(b: u8) -> Option<CounterMode> {
        match b {
            1 => Some(CounterMode::Set),
            2 => Some(CounterMode::Count),
            3 => Some(CounterMode::Atomic),
            _ => None,
        }
    }

    /// The name Go prints (`set`, `count`, `atomic`).
    pub fn as_str(self) -> &'static str {
        match self {
            CounterMode::Set => "set",
            CounterMode::Count => "count",
            CounterMode::Atomic => "atomic",
        }
    }

    /// The text-profile mode.
    pub fn to_mode(self) -> Mode {
        match self {
            CounterMode::Set => Mode::Set,
            CounterMode::Count => Mode::Count,
            CounterMode::Atomic => Mode::Atomic,
        }
    }

    /// Combines two counters: set mode gives 1 when either is non-zero,
    /// the others add, saturating at `u32::MAX` as Go does. The flag tells
    /// whether the sum saturated.
    #[inline]
    pub fn combine(self, a: u32, b: u32) -> (u32, bool) {
        match self {
            CounterMode::Set => (u32::from(a != 0 || b != 0), false),
            _ => match a.checked_add(b) {
                Some(s) => (s, false),
                None => (u32::MAX, true),
            },
        }
    }
}

/// What one counter stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Granularity {
    /// One counter per basic block (what `go build -cover` produces).
    PerBlock,
    /// One counter per function.
    PerFunc,
}

impl Granularity {
    /// The name Go prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::PerBlock => "perblock",
            Granularity::PerFunc => "perfunc",
        }
    }
}

/// A coverable unit: a source range and its statement count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Unit {
    /// First line.
    pub start_line: u32,
    /// Byte column on the first line.
    pub start_col: u32,
    /// Last line.
    pub end_line: u32,
    /// Byte column just past the range.
    pub end_col: u32,
    /// Statements in the unit (`NxStmts`).
    pub num_stmt: u32,
}

/// One instrumented function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    /// `F`, `T.M`, `*T.M`, or `func.L<line>.C<col>` for a package-level
    /// function literal.
    pub name: Arc<str>,
    /// `<import path>/<file>` (or an absolute path for command-line files).
    pub srcfile: Arc<str>,
    /// Whether this is a package-level function literal.
    pub literal: bool,
    /// The units, in counter-slot order.
    pub units: Vec<Unit>,
}

/// One instrumented package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// Import path.
    pub path: String,
    /// Package name.
    pub name: String,
    /// Module path (empty outside module mode).
    pub module: String,
    /// The package hash written by cmd/cover (verified on read).
    pub hash: [u8; 16],
    /// Functions, in function-index order.
    pub functions: Vec<Function>,
    /// Where the package's blob lies in the file.
    pub(crate) blob: (usize, usize),
}

/// How a meta-data file's own hash was computed (see
/// docs/gocoverdir.md): by the runtime, or by `go tool covdata merge`
/// with `-pcombine` or `-pkg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileHashScheme {
    /// Hash of the package hashes, the mode and the granularity.
    Runtime,
    /// Hash of the hashes of the package blobs.
    Merge,
}

/// A decoded and verified meta-data file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaFile {
    /// The file hash, which names the file and its counter files.
    pub hash: [u8; 16],
    /// Counter mode.
    pub mode: CounterMode,
    /// Counter granularity.
    pub granularity: Granularity,
    /// Packages in the binary's init order.
    pub packages: Vec<Package>,
    /// The hash function the file was written with.
    pub algo: HashAlgo,
    /// How the file hash was computed.
    pub scheme: FileHashScheme,
}

impl MetaFile {
    /// The file hash as it appears in file names.
    pub fn hash_hex(&self) -> String {
        hex(&self.hash)
    }
}

/// Decodes and verifies a meta-data file; `path` names it in errors.
///
/// Every package hash is recomputed (with MD5 or FNV-1a/128, whichever
/// matches) and the file hash must match one of the two schemes Go uses,
/// so a flipped byte anywhere that matters is reported.
pub fn parse_meta(data: &[u8], path: &str) -> Result<MetaFile, Error> {
    finish(data, path, meta_file(data).map(|(_, m)| m))
}

fn meta_file(data: In<'_>) -> Res<'_, MetaFile> {
    let layout = meta_layout(data)?;
    let hdr = layout.header;
    context("the file's string table", string_table).parse(layout.strings)?;

    // Packages are independent: the first tells which hash the file uses,
    // the rest are parsed and checked in parallel (a quarter of `covdata
    // percent` on a large binary's meta-data was this loop).
    let one = |&(off, len): &(usize, usize), hint| {
        package(&data[off..off + len], hint).map(|(_, (mut pkg, a))| {
            pkg.blob = (off, len);
            (pkg, a)
        })
    };
    let mut packages = Vec::with_capacity(layout.blobs.len());
    let mut algo = None;
    if let Some((first, rest)) = layout.blobs.split_first() {
        let (pkg, a) = one(first, None)?;
        packages.push(pkg);
        algo = Some(a);
        let parsed: Vec<_> = rest.par_iter().map(|b| one(b, algo)).collect();
        for r in parsed {
            let (pkg, a) = r?;
            packages.push(pkg);
            algo = Some(a);
        }
    }
    let algo = algo.unwrap_or(HashAlgo::Fnv128a);
    // The file hash: the runtime's scheme, or covdata merge's.
    let mut scheme = None;
    for a in [algo, HashAlgo::Md5, HashAlgo::Fnv128a] {
        let mut rt = Hasher::new(a);
        for p in &packages {
            rt.update(&p.hash);
        }
        rt.update(hdr.mode.as_str().as_bytes());
        rt.update(hdr.granularity.as_str().as_bytes());
        if rt.finish() == hdr.hash {
            scheme = Some(FileHashScheme::Runtime);
            break;
        }
        let mut mg = Hasher::new(a);
        for p in &packages {
            let (o, l) = p.blob;
            mg.update(&digest(a, &data[o..o + l]));
        }
        if mg.finish() == hdr.hash {
            scheme = Some(FileHashScheme::Merge);
            break;
        }
    }
    let Some(scheme) = scheme else {
        return fail(
            layout.hash_at,
            "a file hash computed from the packages, mode and granularity as Go writes it \
             (the header or package table was altered)",
            Some(hex(&hdr.hash)),
        );
    };
    Ok((
        &data[data.len()..],
        MetaFile {
            hash: hdr.hash,
            mode: hdr.mode,
            granularity: hdr.granularity,
            packages,
            algo,
            scheme,
        },
    ))
}

/// One package blob; `algo` is the hash function of earlier packages.
fn package(blob: In<'_>, algo: Option<HashAlgo>) -> Res<'_, (Package, HashAlgo)> {
    let i = blob;
    let (i, len) = context("the package blob length", le_u32).parse(i)?;
    if len as usize != blob.len() {
        return fail(
            blob,
            format!(
                "the package blob length {} (from the package length table)",
                blob.len()
            ),
            Some(len.to_string()),
        );
    }
    let refs_at = i;
    let (i, (name_i, path_i, mod_i)) = context(
        "the package name, path and module string indices",
        (le_u32, le_u32, le_u32),
    )
    .parse(i)?;
    let hash_at = i;
    let (i, hash) = context("the package hash (16 bytes)", take(16usize)).parse(i)?;
    let (i, _pad) = context("the package header padding", take(4usize)).parse(i)?;
    let nstr_at = i;
    let (i, nstrings) = context("the package's string count", le_u32).parse(i)?;
    let nfuncs_at = i;
    let (i, nfuncs) = context("the package's function count", le_u32).parse(i)?;
    let nf = nfuncs as usize;
    if nf > (blob.len() - BLOB_HEADER_LEN) / 4 {
        return fail(
            nfuncs_at,
            format!(
                "at most {} functions (4 bytes of offset each in the rest of the blob)",
                (blob.len() - BLOB_HEADER_LEN) / 4
            ),
            Some(nfuncs.to_string()),
        );
    }
    let (i, func_offsets) = context("the function offset table", count(le_u32, nf)).parse(i)?;
    let (after_strings, strings) = context("the package's string table", string_table).parse(i)?;
    if strings.len() != nstrings as usize {
        return fail(
            nstr_at,
            format!(
                "{} (the entries in the package's string table)",
                strings.len()
            ),
            Some(nstrings.to_string()),
        );
    }
    let strs: Vec<Arc<str>> = strings.iter().map(|s| Arc::from(*s)).collect();
    let name = lookup(&strs, refs_at, name_i)?;
    let path = lookup(&strs, &refs_at[4..], path_i)?;
    let module = lookup(&strs, &refs_at[8..], mod_i)?;

    let funcs_start = blob.len() - after_strings.len();
    let mut functions = Vec::with_capacity(nf);
    // Records follow each other, as Go writes them: one record under many
    // offsets would make a small file cost memory for each.
    let mut after = funcs_start;
    for (k, &off) in func_offsets.iter().enumerate() {
        let off = off as usize;
        if off < after || off >= blob.len() {
            return fail(
                &blob[BLOB_HEADER_LEN + 4 * k..],
                format!(
                    "function {k}'s offset within the blob's function records, from the end of the {} ({after}..{})",
                    if k == 0 {
                        "string table"
                    } else {
                        "previous function"
                    },
                    blob.len()
                ),
                Some(off.to_string()),
            );
        }
        let rec = &blob[off..];
        let (r, nunits) = context("a function's unit count", uleb32).parse(rec)?;
        if nunits as usize > r.len() / 5 {
            return fail(
                rec,
                format!("at most {} units in the rest of the blob", r.len() / 5),
                Some(nunits.to_string()),
            );
        }
        let fname_at = r;
        let (r, fname) = context("a function name index", uleb32).parse(r)?;
        let file_at = r;
        let (r, file) = context("a source file index", uleb32).parse(r)?;
        let (r, units) = match units_fast(r, nunits as usize) {
            Some(done) => done,
            // nom again, for the exact error.
            None => {
                let (r, units) = context(
                    "a unit's start line, start column, end line, end column and statement count",
                    count((uleb32, uleb32, uleb32, uleb32, uleb32), nunits as usize),
                )
                .parse(r)?;
                let units = units
                    .into_iter()
                    .map(|(sl, sc, el, ec, n)| Unit {
                        start_line: sl,
                        start_col: sc,
                        end_line: el,
                        end_col: ec,
                        num_stmt: n,
                    })
                    .collect();
                (r, units)
            }
        };
        let lit_at = r;
        let (r, lit) = context("the function's literal flag", uleb32).parse(r)?;
        after = blob.len() - r.len();
        if lit > 1 {
            return fail(lit_at, "a literal flag of 0 or 1", Some(lit.to_string()));
        }
        functions.push(Function {
            name: lookup(&strs, fname_at, fname)?,
            srcfile: lookup(&strs, file_at, file)?,
            literal: lit == 1,
            units,
        });
    }
    let mut pkg = Package {
        path: path.to_string(),
        name: name.to_string(),
        module: module.to_string(),
        hash: [0; 16],
        functions,
        blob: (0, blob.len()),
    };
    pkg.hash.copy_from_slice(hash);
    // Try the algorithm of the previous packages first.
    let order = match algo {
        Some(HashAlgo::Md5) => [HashAlgo::Md5, HashAlgo::Fnv128a],
        _ => [HashAlgo::Fnv128a, HashAlgo::Md5],
    };
    let Some(algo) = order
        .into_iter()
        .find(|&a| package_hash(a, &pkg) == pkg.hash)
    else {
        return fail(
            hash_at,
            format!(
                "the package hash of {} recomputed from its functions ({} with MD5, {} with FNV-1a)",
                pkg.path,
                hex(&package_hash(HashAlgo::Md5, &pkg)),
                hex(&package_hash(HashAlgo::Fnv128a, &pkg)),
            ),
            Some(hex(&pkg.hash)),
        );
    };
    Ok((&blob[blob.len()..], (pkg, algo)))
}

/// `n` units decoded in a plain loop (the nom path took a tenth of
/// `covdata merge`); `None` for anything unusual (a truncated record, a
/// number over 32 bits, an encoding longer than 5 bytes), which the
/// caller then decodes with nom to say what is wrong.
fn units_fast(mut r: &[u8], n: usize) -> Option<(&[u8], Vec<Unit>)> {
    let mut units = Vec::with_capacity(n);
    for _ in 0..n {
        let mut f = [0u32; 5];
        for x in &mut f {
            *x = short_uleb32(&mut r)?;
        }
        let [start_line, start_col, end_line, end_col, num_stmt] = f;
        units.push(Unit {
            start_line,
            start_col,
            end_line,
            end_col,
            num_stmt,
        });
    }
    Some((r, units))
}

/// A ULEB128 number of at most 5 bytes that fits 32 bits.
#[inline]
fn short_uleb32(r: &mut &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for k in 0..5 {
        let b = *r.get(k)?;
        let bits = u32::from(b & 0x7f);
        if k == 4 && (bits > 0x0f || b & 0x80 != 0) {
            return None;
        }
        v |= bits << (7 * k);
        if b & 0x80 == 0 {
            *r = &r[k + 1..];
            return Some(v);
        }
    }
    None
}

/// String `idx` of a package's table; `at` is where the index was read.
fn lookup<'a>(strs: &[Arc<str>], at: In<'a>, idx: u32) -> Result<Arc<str>, nom::Err<Wire<'a>>> {
    strs.get(idx as usize).cloned().ok_or_else(|| {
        failure(
            at,
            format!("a string index below {}", strs.len()),
            Some(idx.to_string()),
        )
    })
}

/// cmd/cover's package hash: path, name and module, then each function's
/// name, file, units and literal flag.
pub(crate) fn package_hash(algo: HashAlgo, p: &Package) -> [u8; 16] {
    let mut h = Hasher::new(algo);
    h.update(p.path.as_bytes());
    h.update(p.name.as_bytes());
    h.update(p.module.as_bytes());
    for f in &p.functions {
        hash_func(&mut h, f);
    }
    h.finish()
}

/// Go's `hashFuncDesc`.
pub(crate) fn hash_func(h: &mut Hasher, f: &Function) {
    h.update(f.name.as_bytes());
    h.update(f.srcfile.as_bytes());
    for u in &f.units {
        h.update_u32(u.start_line);
        h.update_u32(u.start_col);
        h.update_u32(u.end_line);
        h.update_u32(u.end_col);
        h.update_u32(u.num_stmt);
    }
    h.update_u32(u32::from(f.literal));
}

/// Go's `HashFuncDesc`: the hash `covdata merge -pcombine` dedups by.
pub fn function_hash(algo: HashAlgo, f: &Function) -> [u8; 16] {
    let mut h = Hasher::new(algo);
    hash_func(&mut h, f);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the short decoder answers, it answers as the nom one does.
    #[test]
    fn short_uleb32_agrees_with_uleb32() {
        let mut cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x80],
            vec![0x80, 0x00],                         // non-canonical 0
            vec![0x80, 0x80, 0x80, 0x80, 0x80, 0x00], // 6 bytes
            vec![0xff, 0xff, 0xff, 0xff, 0x0f],       // u32::MAX
            vec![0x80, 0x80, 0x80, 0x80, 0x10],       // 2^32
            vec![0xff, 0xff, 0xff, 0xff, 0x8f, 0x00], // u32::MAX, 6 bytes
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut enc = Vec::new();
            super::super::wire::put_uleb(&mut enc, x >> (x % 40));
            enc.push(0x2a);
            cases.push(enc);
        }
        let mut short = 0;
        for c in &cases {
            let mut r = &c[..];
            if let Some(v) = short_uleb32(&mut r) {
                let (rest, w) = super::super::wire::uleb32(c).expect("nom reads it too");
                assert_eq!((v, r), (w, rest), "{c:x?}");
                short += 1;
            }
        }
        assert!(
            short > 1_000,
            "{short} of {} took the short path",
            cases.len()
        );
        // Every canonical encoding of a u32 takes the short path.
        assert!(short_uleb32(&mut &[0xff, 0xff, 0xff, 0xff, 0x0f][..]) == Some(u32::MAX));
    }
}

//! Go's two coverage file formats written out: meta-data files and their
//! package blobs, and counter-data files; the inverse of [`parse_meta`]
//! and [`parse_counters`], in the layouts `cmd/cover` and the runtime
//! (internal/coverage/encodemeta and encodecounter) produce.
//!
//! [`parse_meta`]: super::parse_meta
//! [`parse_counters`]: super::parse_counters

use super::counters::Arg;
use super::hash::{HashAlgo, Hasher, digest};
use super::meta::{CounterMode, Function, Granularity, hash_func};
use super::wire::{StrTab, put_uleb};

/// A package blob as cmd/cover's `CoverageMetaDataBuilder` emits it, with
/// its FNV-1a/128 package hash.
pub(crate) fn build_blob(path: &str, name: &str, module: &str, funcs: &[Function]) -> Vec<u8> {
    let mut st = StrTab::default();
    st.lookup("");
    let path_i = st.lookup(path);
    let name_i = st.lookup(name);
    let mod_i = st.lookup(module);
    let mut h = Hasher::new(HashAlgo::Fnv128a);
    h.update(path.as_bytes());
    h.update(name.as_bytes());
    h.update(module.as_bytes());
    let mut encoded: Vec<Vec<u8>> = Vec::with_capacity(funcs.len());
    for f in funcs {
        hash_func(&mut h, f);
        let mut e = Vec::new();
        put_uleb(&mut e, f.units.len() as u64);
        put_uleb(&mut e, u64::from(st.lookup(f.name.as_bytes())));
        put_uleb(&mut e, u64::from(st.lookup(f.srcfile.as_bytes())));
        for u in &f.units {
            for v in [u.start_line, u.start_col, u.end_line, u.end_col, u.num_stmt] {
                put_uleb(&mut e, u64::from(v));
            }
        }
        put_uleb(&mut e, u64::from(f.literal));
        encoded.push(e);
    }
    let hash = h.finish();
    let strtab = st.bytes();
    let mut out = Vec::new();
    out.extend_from_slice(&[0; 4]); // length, patched below
    for v in [name_i, path_i, mod_i] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&hash);
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(st.strs.len() as u32).to_le_bytes());
    out.extend_from_slice(&(funcs.len() as u32).to_le_bytes());
    let mut off = 44 + strtab.len() + 4 * funcs.len();
    for e in &encoded {
        out.extend_from_slice(&(off as u32).to_le_bytes());
        off += e.len();
    }
    out.extend_from_slice(&strtab);
    for e in &encoded {
        out.extend_from_slice(e);
    }
    let len = out.len() as u32;
    out[..4].copy_from_slice(&len.to_le_bytes());
    out
}

/// The file hash `covdata merge -pcombine`/`-pkg` gives: FNV-1a/128 of
/// the blobs' FNV-1a/128 hashes.
pub(crate) fn blobs_hash(blobs: &[&[u8]]) -> [u8; 16] {
    let mut h = Hasher::new(HashAlgo::Fnv128a);
    for b in blobs {
        h.update(&digest(HashAlgo::Fnv128a, b));
    }
    h.finish()
}

/// A meta-data file holding `blobs`.
pub(crate) fn meta_file_bytes(
    hash: [u8; 16],
    mode: CounterMode,
    gran: Granularity,
    blobs: &[&[u8]],
) -> Vec<u8> {
    let n = blobs.len();
    let strtab = [1u8, 0]; // [""]
    let preamble = 56 + 16 * n + strtab.len();
    let total = preamble + blobs.iter().map(|b| b.len()).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"\x00cvm");
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&(total as u64).to_le_bytes());
    out.extend_from_slice(&(n as u64).to_le_bytes());
    out.extend_from_slice(&hash);
    out.extend_from_slice(&((56 + 16 * n) as u32).to_le_bytes());
    out.extend_from_slice(&(strtab.len() as u32).to_le_bytes());
    out.push(match mode {
        CounterMode::Set => 1,
        CounterMode::Count => 2,
        CounterMode::Atomic => 3,
    });
    out.push(match gran {
        Granularity::PerBlock => 1,
        Granularity::PerFunc => 2,
    });
    out.extend_from_slice(&[0; 6]);
    let mut off = preamble;
    for b in blobs {
        out.extend_from_slice(&(off as u64).to_le_bytes());
        off += b.len();
    }
    for b in blobs {
        out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    }
    out.extend_from_slice(&strtab);
    for b in blobs {
        out.extend_from_slice(b);
    }
    out
}

/// A counter-data file (ULEB128, one segment) with `records` (package
/// index, function index, counters).
pub(crate) fn counter_file_bytes(
    meta_hash: [u8; 16],
    args: &[Arg],
    records: &[(u32, u32, &[u32])],
) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"\x00cwm");
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&meta_hash);
    out.push(2); // ULEB128
    out.push(0); // little-endian
    out.extend_from_slice(&[0; 6]);
    let mut st = StrTab::default();
    st.lookup("");
    for (k, v) in args {
        st.lookup(k);
        st.lookup(v);
    }
    let strtab = st.bytes();
    let mut argtab = Vec::new();
    put_uleb(&mut argtab, args.len() as u64);
    for (k, v) in args {
        put_uleb(&mut argtab, u64::from(st.lookup(k)));
        put_uleb(&mut argtab, u64::from(st.lookup(v)));
    }
    // Pad to a multiple of 4 from the segment start.
    while (16 + strtab.len() + argtab.len()) % 4 != 0 {
        argtab.push(0);
    }
    out.extend_from_slice(&(records.len() as u64).to_le_bytes());
    out.extend_from_slice(&(strtab.len() as u32).to_le_bytes());
    out.extend_from_slice(&(argtab.len() as u32).to_le_bytes());
    out.extend_from_slice(&strtab);
    out.extend_from_slice(&argtab);
    for (pkg, func, vals) in records {
        put_uleb(&mut out, vals.len() as u64);
        put_uleb(&mut out, u64::from(*pkg));
        put_uleb(&mut out, u64::from(*func));
        for &v in *vals {
            put_uleb(&mut out, u64::from(v));
        }
    }
    out.extend_from_slice(b"\x00cwm");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::covdata::meta::Unit;
    use crate::covdata::{parse_counters, parse_meta};
    use std::sync::Arc;

    fn func(name: &str, units: &[(u32, u32)]) -> Function {
        Function {
            name: Arc::from(name),
            srcfile: Arc::from("example.com/m/a.go"),
            literal: false,
            units: units
                .iter()
                .map(|&(l, n)| Unit {
                    start_line: l,
                    start_col: 2,
                    end_line: l + 1,
                    end_col: 3,
                    num_stmt: n,
                })
                .collect(),
        }
    }

    #[test]
    fn written_files_read_back() {
        let funcs = [func("F", &[(3, 1), (4, 2)]), func("*T.M", &[(9, 0)])];
        let blob = build_blob("example.com/m", "m", "example.com/m", &funcs);
        let hash = blobs_hash(&[&blob]);
        let meta = meta_file_bytes(hash, CounterMode::Count, Granularity::PerBlock, &[&blob]);
        let m = parse_meta(&meta, "covmeta").unwrap();
        assert_eq!(m.hash, hash);
        assert_eq!(m.algo, HashAlgo::Fnv128a);
        assert_eq!(m.packages[0].functions, funcs);
        assert_eq!(m.packages[0].path, "example.com/m");
        let args = vec![
            (b"argc".to_vec(), b"1".to_vec()),
            (b"argv0".to_vec(), b"./x\xff".to_vec()),
        ];
        let vals = [7u32, 300];
        let ctr = counter_file_bytes(hash, &args, &[(0, 0, &vals), (0, 1, &[0])]);
        let c = parse_counters(&ctr, "covcounters").unwrap();
        assert_eq!(c.meta_hash, hash);
        let seg = &c.segments[0];
        assert_eq!(seg.args, args);
        assert_eq!(seg.os_args(), [b"./x\xff"]);
        let r = seg.records();
        assert_eq!(
            (r[0].pkg, r[0].func, seg.counters(&r[0])),
            (0, 0, &vals[..])
        );
        assert_eq!(seg.counters(&r[1]), [0]);
    }

    /// Records and blobs follow each other, as Go writes them. Before, a
    /// file could list one record under every function offset (or one blob
    /// under every package), with valid hashes: a 115 KB file took over
    /// 4 GB to decode.
    #[test]
    fn aliased_records_and_blobs_are_refused() {
        let f = func("F", &[(3, 1), (4, 2)]);
        let mut blob = build_blob("example.com/m", "m", "example.com/m", &[f.clone(), f]);
        let at = |b: &[u8], i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
        let first = at(&blob, 44);
        blob[48..52].copy_from_slice(&first.to_le_bytes());
        let hash = blobs_hash(&[&blob]);
        let meta = meta_file_bytes(hash, CounterMode::Count, Granularity::PerBlock, &[&blob]);
        let e = parse_meta(&meta, "covmeta").unwrap_err().to_string();
        assert!(e.contains("function 1's offset"), "{e}");
        assert!(e.contains("from the end of the previous function"), "{e}");

        let blob = build_blob(
            "example.com/m",
            "m",
            "example.com/m",
            &[func("F", &[(3, 1)])],
        );
        let hash = blobs_hash(&[&blob, &blob]);
        let mut meta = meta_file_bytes(
            hash,
            CounterMode::Count,
            Granularity::PerBlock,
            &[&blob, &blob],
        );
        let first = meta[56..64].to_vec();
        meta[64..72].copy_from_slice(&first);
        let e = parse_meta(&meta, "covmeta").unwrap_err().to_string();
        assert!(e.contains("package 1's offset and length"), "{e}");
        assert!(e.contains("(the end of the previous package)"), "{e}");
    }

    /// `argc` says how many arguments to list, but no more than the args
    /// table holds (a 106-byte file claimed 10^8 of them: 4.7 GB).
    #[test]
    fn argc_counts_no_more_than_the_args_table_holds() {
        let args = vec![
            (b"argc".to_vec(), b"9223372036854775807".to_vec()),
            (b"argv0".to_vec(), b"./x".to_vec()),
        ];
        let ctr = counter_file_bytes([0; 16], &args, &[]);
        let c = parse_counters(&ctr, "covcounters").unwrap();
        assert_eq!(c.segments[0].os_args(), [&b"./x"[..], b""]);
    }
}

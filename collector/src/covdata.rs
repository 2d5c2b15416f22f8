//! GOCOVERDIR files as the collector sees them: names, a light check of
//! meta-data headers, and counter files decoded by covlens-core, enough to
//! tell a complete file from a partial one and one process from the next.
//!
//! Files published by rename are complete by construction, but Go 1.20-era
//! runtimes wrote counter files in place, and anything else may be found on a
//! shared volume; so every file is checked against its own headers before it
//! is shipped.

use std::collections::HashMap;

use covlens_core::covdata::parse_counters;

const META_MAGIC: [u8; 4] = [0x00, 0x63, 0x76, 0x6d];
const META_HEADER: usize = 56;

/// A file name in a coverage directory that the collector cares about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CovName {
    /// `covmeta.<H>`.
    Meta {
        /// 32 lowercase hex digits.
        hash: String,
    },
    /// `covcounters.<H>.<pid>.<nanos>`.
    Counters {
        /// 32 lowercase hex digits.
        hash: String,
        /// The writer's pid (or a synthetic id, see covflush).
        pid: u64,
        /// The UnixNano field; larger is newer.
        nanos: u64,
    },
}

fn is_hash(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Classifies a directory entry. Temporary names (`tmp.*`, and
/// `covmeta.<H><nanos>` from old runtimes) and anything else return `None`.
pub(crate) fn classify(name: &str) -> Option<CovName> {
    if let Some(hash) = name.strip_prefix("covmeta.") {
        return is_hash(hash).then(|| CovName::Meta {
            hash: hash.to_string(),
        });
    }
    let rest = name.strip_prefix("covcounters.")?;
    let mut it = rest.rsplitn(3, '.');
    let nanos = digits(it.next()?)?;
    let pid = digits(it.next()?)?;
    let hash = it.next()?;
    is_hash(hash).then(|| CovName::Counters {
        hash: hash.to_string(),
        pid,
        nanos,
    })
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().expect("8 bytes"))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Checks a meta-data file against its header: magic, version, total length
/// equal to the file size, package table inside the file, and the hash in
/// the header equal to the one in the name.
pub(crate) fn check_meta(b: &[u8], name_hash: &str) -> Result<(), String> {
    if b.len() < META_HEADER || b[..4] != META_MAGIC {
        return Err("not a coverage meta-data file (bad magic or too short)".into());
    }
    if u32_at(b, 4) != 1 {
        return Err(format!("unsupported meta-data version {}", u32_at(b, 4)));
    }
    let total = u64_at(b, 8);
    if total != b.len() as u64 {
        return Err(format!(
            "size {} but the header says {total} (partial write?)",
            b.len()
        ));
    }
    if hex(&b[24..40]) != name_hash {
        return Err("hash in the header differs from the file name".into());
    }
    if !(1..=3).contains(&b[48]) || !(1..=2).contains(&b[49]) {
        return Err(format!(
            "bad counter mode {} / granularity {}",
            b[48], b[49]
        ));
    }
    let n = u64_at(b, 16);
    let len = b.len() as u64;
    if n > len / 16 || META_HEADER as u64 + 16 * n > len {
        return Err(format!("insane package count {n}"));
    }
    let n = n as usize;
    for i in 0..n {
        let off = u64_at(b, META_HEADER + 8 * i);
        let plen = u64_at(b, META_HEADER + 8 * n + 8 * i);
        if off > len || plen > len - off {
            return Err(format!("package {i} lies outside the file"));
        }
    }
    let (st_off, st_len) = (u32_at(b, 40) as u64, u32_at(b, 44) as u64);
    if st_off + st_len > len {
        return Err("string table lies outside the file".into());
    }
    Ok(())
}

/// The parts of a counter file that identify a process and its progress.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CounterData {
    /// The meta-data hash in the header.
    pub hash: String,
    /// The args table (argc, argv*, GOOS, GOARCH), sorted by key.
    pub args: Vec<(String, String)>,
    /// Counters per (package index, function index).
    pub funcs: HashMap<(u32, u32), Vec<u32>>,
}

/// Decodes a counter file with covlens-core's reader (which checks every
/// length, the footer right after the last record, and the values), keeping
/// what identifies the process. Only single-segment files, as every Go
/// writer produces, are shipped.
pub(crate) fn decode_counters(b: &[u8]) -> Result<CounterData, String> {
    let f = parse_counters(b, "counter file").map_err(|e| e.to_string())?;
    let [seg] = f.segments.as_slice() else {
        return Err(format!(
            "{} segments; only single-segment files are shipped",
            f.segments.len()
        ));
    };
    Ok(CounterData {
        hash: hex(&f.meta_hash),
        args: seg.args.clone(),
        funcs: seg
            .records()
            .iter()
            .map(|r| ((r.pkg, r.func), seg.counters(r).to_vec()))
            .collect(),
    })
}

/// Whether `next` can be a later snapshot of the same process as `prev`:
/// same arguments, and no counter went down or disappeared (a process's
/// counters only grow; covflush never clears them).
pub(crate) fn continues(prev: &CounterData, next: &CounterData) -> bool {
    prev.hash == next.hash
        && prev.args == next.args
        && prev.funcs.iter().all(|(k, p)| {
            next.funcs
                .get(k)
                .is_some_and(|n| n.len() == p.len() && n.iter().zip(p).all(|(a, b)| a >= b))
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const COUNTER_MAGIC: [u8; 4] = [0x00, 0x63, 0x77, 0x6d];
    const SEGMENT_HEADER: usize = 16;
    const FOOTER: usize = 16;

    fn uleb(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    /// A counter file as the Go runtime writes it (ULEB flavor).
    pub(crate) fn counter_file(
        hash: [u8; 16],
        argv0: &str,
        funcs: &[(u32, u32, &[u32])],
    ) -> Vec<u8> {
        let mut b = COUNTER_MAGIC.to_vec();
        b.extend(1u32.to_le_bytes());
        b.extend(hash);
        b.extend([2, 0, 0, 0, 0, 0, 0, 0]);
        let mut strtab = Vec::new();
        uleb(&mut strtab, 3);
        for s in ["", "argv0", argv0] {
            uleb(&mut strtab, s.len() as u64);
            strtab.extend(s.as_bytes());
        }
        let mut args = vec![1, 1, 2];
        while !(SEGMENT_HEADER + strtab.len() + args.len()).is_multiple_of(4) {
            args.push(0);
        }
        b.extend((funcs.len() as u64).to_le_bytes());
        b.extend((strtab.len() as u32).to_le_bytes());
        b.extend((args.len() as u32).to_le_bytes());
        b.extend(strtab);
        b.extend(args);
        for (p, f, c) in funcs {
            uleb(&mut b, c.len() as u64);
            uleb(&mut b, u64::from(*p));
            uleb(&mut b, u64::from(*f));
            for v in c.iter() {
                uleb(&mut b, u64::from(*v));
            }
        }
        b.extend(COUNTER_MAGIC);
        b.extend([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    /// A minimal valid meta-data file with no packages.
    pub(crate) fn meta_file(hash: [u8; 16]) -> Vec<u8> {
        let mut b = META_MAGIC.to_vec();
        b.extend(1u32.to_le_bytes());
        b.extend(58u64.to_le_bytes());
        b.extend(0u64.to_le_bytes());
        b.extend(hash);
        b.extend(56u32.to_le_bytes());
        b.extend(2u32.to_le_bytes());
        b.extend([3, 1, 0, 0, 0, 0, 0, 0]);
        b.extend([1, 0]);
        b
    }

    #[test]
    fn names() {
        let h = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            classify(&format!("covmeta.{h}")),
            Some(CovName::Meta { hash: h.into() })
        );
        assert_eq!(
            classify(&format!("covcounters.{h}.17.1700000000000000000")),
            Some(CovName::Counters {
                hash: h.into(),
                pid: 17,
                nanos: 1_700_000_000_000_000_000
            })
        );
        for bad in [
            format!("tmp.covcounters.{h}.17.1"),
            format!("tmp.covmeta.{h}123"),
            format!("covmeta.{h}123"),
            format!("covcounters.{h}.17"),
            format!("covcounters.{h}.x.1"),
            format!("covcounters.{h}.1.2.json"),
            "metafiles.txt".into(),
        ] {
            assert_eq!(classify(&bad), None, "{bad}");
        }
    }

    #[test]
    fn counters_roundtrip_and_every_truncation_is_rejected() {
        let f = counter_file([7; 16], "./srv", &[(0, 1, &[3, 0, 300]), (1, 0, &[1])]);
        let d = decode_counters(&f).unwrap();
        assert_eq!(d.hash, hex(&[7; 16]));
        assert_eq!(d.funcs[&(0, 1)], vec![3, 0, 300]);
        assert_eq!(d.args, vec![("argv0".into(), "./srv".into())]);
        for n in 0..f.len() {
            assert!(decode_counters(&f[..n]).is_err(), "cut at {n}");
        }
        let mut extra = f.clone();
        extra.insert(f.len() - FOOTER, 0);
        assert!(decode_counters(&extra).is_err());
    }

    #[test]
    fn meta_checks() {
        let m = meta_file([9; 16]);
        check_meta(&m, &hex(&[9; 16])).unwrap();
        assert!(check_meta(&m, &hex(&[8; 16])).is_err());
        for n in 0..m.len() {
            assert!(check_meta(&m[..n], &hex(&[9; 16])).is_err());
        }
    }

    #[test]
    fn continuation() {
        let a = decode_counters(&counter_file([1; 16], "x", &[(0, 0, &[1, 2])])).unwrap();
        let b = decode_counters(&counter_file(
            [1; 16],
            "x",
            &[(0, 0, &[1, 5]), (0, 1, &[1])],
        ))
        .unwrap();
        let restart = decode_counters(&counter_file([1; 16], "x", &[(0, 0, &[1, 1])])).unwrap();
        let other_args = decode_counters(&counter_file([1; 16], "y", &[(0, 0, &[9, 9])])).unwrap();
        assert!(continues(&a, &b));
        assert!(continues(&a, &a));
        assert!(!continues(&b, &a));
        assert!(!continues(&b, &restart));
        assert!(!continues(&a, &other_args));
    }
}

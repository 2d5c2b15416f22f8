//! GOCOVERDIR counter files as the collector sees them: decoded by
//! covlens-core, enough to tell a complete file from a partial one and one
//! process from the next. (Names and meta-data headers are checked with
//! `covlens_core::covdata::names`.)
//!
//! Files published by rename are complete by construction, but Go 1.20-era
//! runtimes wrote counter files in place, and anything else may be found on a
//! shared volume; so every file is checked against its own headers before it
//! is shipped.

use std::collections::HashMap;

use covlens_core::covdata::names::hash_hex;
use covlens_core::covdata::{Arg, parse_counters};

/// The parts of a counter file that identify a process and its progress.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CounterData {
    /// The meta-data hash in the header.
    pub hash: String,
    /// The args table (argc, argv*, GOOS, GOARCH), sorted by key; bytes,
    /// as Go's strings (arguments need not be UTF-8).
    pub args: Vec<Arg>,
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
        hash: hash_hex(&f.meta_hash),
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
pub(super) mod tests {
    use super::*;
    use covlens_core::covdata::SNAPSHOT_KEY;

    const META_MAGIC: [u8; 4] = [0x00, 0x63, 0x76, 0x6d];
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

    /// A counter file as covflush writes it (ULEB flavor), marked as a
    /// cumulative snapshot of the process `argv0` names.
    pub(crate) fn counter_file(
        hash: [u8; 16],
        argv0: &str,
        funcs: &[(u32, u32, &[u32])],
    ) -> Vec<u8> {
        let id = format!("process of {argv0}");
        let args = [
            (&b"argv0"[..], argv0.as_bytes()),
            (SNAPSHOT_KEY.as_bytes(), id.as_bytes()),
        ];
        counter_file_with(hash, &args, funcs)
    }

    /// A counter file as the Go runtime writes it at exit (ULEB flavor).
    pub(crate) fn unmarked_counter_file(
        hash: [u8; 16],
        argv0: &str,
        funcs: &[(u32, u32, &[u32])],
    ) -> Vec<u8> {
        counter_file_with(hash, &[(b"argv0", argv0.as_bytes())], funcs)
    }

    /// A counter file with these args (keys sorted).
    pub(crate) fn counter_file_with(
        hash: [u8; 16],
        args: &[(&[u8], &[u8])],
        funcs: &[(u32, u32, &[u32])],
    ) -> Vec<u8> {
        let mut b = COUNTER_MAGIC.to_vec();
        b.extend(1u32.to_le_bytes());
        b.extend(hash);
        b.extend([2, 0, 0, 0, 0, 0, 0, 0]);
        let mut strtab = Vec::new();
        uleb(&mut strtab, 1 + 2 * args.len() as u64);
        let mut table = vec![args.len() as u8];
        for (i, s) in std::iter::once(&b""[..])
            .chain(args.iter().flat_map(|(k, v)| [*k, *v]))
            .enumerate()
        {
            uleb(&mut strtab, s.len() as u64);
            strtab.extend(s);
            if i > 0 {
                table.push(i as u8);
            }
        }
        let mut args = table;
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
    fn counters_roundtrip_and_every_truncation_is_rejected() {
        let f = counter_file([7; 16], "./srv", &[(0, 1, &[3, 0, 300]), (1, 0, &[1])]);
        let d = decode_counters(&f).unwrap();
        assert_eq!(d.hash, hash_hex(&[7; 16]));
        assert_eq!(d.funcs[&(0, 1)], vec![3, 0, 300]);
        assert_eq!(
            d.args,
            vec![
                (b"argv0".to_vec(), b"./srv".to_vec()),
                (SNAPSHOT_KEY.into(), b"process of ./srv".to_vec())
            ]
        );
        for n in 0..f.len() {
            assert!(decode_counters(&f[..n]).is_err(), "cut at {n}");
        }
        let mut extra = f.clone();
        extra.insert(f.len() - FOOTER, 0);
        assert!(decode_counters(&extra).is_err());
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

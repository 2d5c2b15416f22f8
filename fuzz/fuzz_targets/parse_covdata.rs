//! Arbitrary bytes as a Go meta-data file and as a counter-data file: the
//! readers must return an error or a value, never panic, loop or allocate
//! without bound. Seeds are real files from `go build -cover` binaries
//! (one run with arguments that are not UTF-8, one covflush snapshot).
//!
//! Also: the snapshot mark read from the head of a counter file alone (as
//! directory discovery reads it) is the one the whole-file reader finds.
#![no_main]

use covlens_core::covdata::{head_snapshot_process, parse_counters, parse_meta};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(meta) = parse_meta(data, "fuzz/covmeta") {
        // Whatever decoded must be consistent enough to walk.
        for p in &meta.packages {
            for f in &p.functions {
                let _ = f.units.len();
            }
        }
    }
    let head = head_snapshot_process(data, data.len() as u64);
    if let Ok(c) = parse_counters(data, "fuzz/covcounters") {
        for seg in &c.segments {
            for r in seg.records() {
                let _ = seg.counters(r).iter().map(|&v| u64::from(v)).sum::<u64>();
            }
            // Arguments are bytes: any of them reads.
            let n: usize = seg.os_args().iter().map(|a| a.len()).sum();
            let _ = n;
        }
        let whole = c.segments[0].snapshot_process().map(str::to_string);
        assert_eq!(head, whole, "snapshot mark from the head vs the whole file");
    }
});

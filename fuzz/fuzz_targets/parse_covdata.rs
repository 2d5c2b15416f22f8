//! Arbitrary bytes as a Go meta-data file and as a counter-data file: the
//! readers must return an error or a value, never panic, loop or allocate
//! without bound. Seeds are real files from `go build -cover` binaries.
#![no_main]

use covlens_core::covdata::{parse_counters, parse_meta};
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
    if let Ok(c) = parse_counters(data, "fuzz/covcounters") {
        for seg in &c.segments {
            for r in seg.records() {
                let _ = seg.counters(r).iter().map(|&v| u64::from(v)).sum::<u64>();
            }
            let _ = seg.os_args();
        }
    }
});

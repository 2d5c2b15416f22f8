//! Inputs for the covlens benchmarks (the criterion benches live in
//! `benches/`; the whole-command comparison with gopherage is `compare.sh`).
//!
//! [`synthetic_profile`] makes a Kubernetes-shaped count-mode profile in the
//! layout of `benches/gen-synthetic-profile.py` (the generator of the
//! numbers in docs/performance.md):
//!
//! ```text
//! mode: count
//! k8s.io/kubernetes/pkg/subNNN/pkgNNNN/fileNNNNN.go:L.C,L.C N C
//! ```
//!
//! The block layout is the same for every seed, so profiles made with
//! different seeds merge and diff cleanly; only the counts vary (60 % zero,
//! the rest uniform in 1..=100000). The numbers come from SplitMix64 rather
//! than Python's Mersenne Twister, so the bytes differ from that script's,
//! but the format, sizes and distributions are the same.
//! `benches/gen-splitmix-profile.py` implements the same generator in
//! Python and produces byte-identical output.

use std::io::{self, Write};

/// The number of files `COVLENS_BENCH_FILES` asks for, or `default`.
pub fn bench_files(default: usize) -> usize {
    match std::env::var("COVLENS_BENCH_FILES") {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("COVLENS_BENCH_FILES={v:?} is not a number")),
        Err(_) => default,
    }
}

/// SplitMix64 (Steele, Lea and Flood): tiny, fast and easy to reproduce in
/// any language.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator started at `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi` (the modulo bias is irrelevant here).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

/// Seed of the layout generator ("layout" in ASCII); fixed so every seed
/// gives the same blocks.
pub const LAYOUT_SEED: u64 = 0x6c61_796f_7574;

/// Writes a synthetic profile of `files` x `blocks` blocks whose counts
/// depend on `seed`.
pub fn write_synthetic<W: Write>(
    w: &mut W,
    files: usize,
    blocks: usize,
    seed: u64,
) -> io::Result<()> {
    let mut lay = SplitMix64::new(LAYOUT_SEED);
    let mut rng = SplitMix64::new(seed);
    w.write_all(b"mode: count\n")?;
    for i in 0..files {
        let name = format!(
            "k8s.io/kubernetes/pkg/sub{:03}/pkg{:04}/file{:05}.go",
            i % 300,
            i % 3000,
            i
        );
        let mut line = 10u64;
        for _ in 0..blocks {
            let end_line = line + lay.range(0, 6);
            let start_col = lay.range(2, 60);
            let end_col = lay.range(2, 60);
            let num_stmt = lay.range(1, 8);
            let count = if rng.range(0, 9) < 6 {
                0
            } else {
                rng.range(1, 100_000)
            };
            writeln!(
                w,
                "{name}:{line}.{start_col},{end_line}.{end_col} {num_stmt} {count}"
            )?;
            line = end_line + 1;
        }
    }
    Ok(())
}

/// [`write_synthetic`] into memory.
pub fn synthetic_profile(files: usize, blocks: usize, seed: u64) -> Vec<u8> {
    // About 68 bytes per line at Kubernetes scale.
    let mut out = Vec::with_capacity(files * blocks * 70 + 16);
    write_synthetic(&mut out, files, blocks, seed).expect("writing to a Vec cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_determinism() {
        let a = synthetic_profile(3, 4, 1);
        assert_eq!(a, synthetic_profile(3, 4, 1));
        let text = std::str::from_utf8(&a).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 3 * 4);
        assert_eq!(lines[0], "mode: count");
        assert!(lines[1].starts_with("k8s.io/kubernetes/pkg/sub000/pkg0000/file00000.go:10."));
        assert!(lines[12].starts_with("k8s.io/kubernetes/pkg/sub002/pkg0002/file00002.go:"));
        // Same layout, other counts.
        let b = synthetic_profile(3, 4, 2);
        let strip = |t: &[u8]| -> Vec<String> {
            std::str::from_utf8(t)
                .unwrap()
                .lines()
                .map(|l| l.rsplit_once(' ').map_or(l, |(h, _)| h).to_string())
                .collect()
        };
        assert_eq!(strip(&a), strip(&b));
        assert_ne!(a, b);
    }

    #[test]
    fn parses() {
        let data = synthetic_profile(50, 20, 7);
        let p = covlens_core::parse_bytes(&data, "gen", &covlens_core::ParseOptions::default())
            .unwrap();
        assert_eq!(p.block_count(), 1000);
        assert_eq!(p.files().len(), 50);
    }
}

//! When a text profile on disk is a complete snapshot.
//!
//! The legacy Kubernetes wrapper rewrites its profile every few seconds, and
//! other writers truncate the file and write it in pieces. A copy taken at
//! the wrong moment, or the file left behind by a writer killed mid-write,
//! can be cut anywhere — including exactly at a line boundary, where it
//! still parses. The rules, applied to a copy that was not written to while
//! it was read (same size, mtime, ctime and inode around the copy), and
//! *settled* when the file also kept them across the settle delay:
//!
//! 1. It must end with a newline and parse with covlens-core, with a mode
//!    line and at least one block. (Catches any cut inside a line: Go ends
//!    every line with `\n`.)
//! 2. Go writes every block of every instrumented file in each snapshot,
//!    zero counts included, so the *layout* (the set of blocks, counts
//!    ignored) of one binary never changes. A snapshot whose layout equals
//!    the reference (the last shipped snapshot's) is complete.
//!    This holds for unsettled copies too (a writer faster than the settle
//!    delay still gets snapshots between its writes), as long as the
//!    reference's layout was itself confirmed.
//! 3. A layout that is a strict subset of the reference is a truncated
//!    write and is rejected as partial (unsettled copies: left for later).
//! 4. Any other new layout (first snapshot, new binary) is held until other
//!    writes — a different (mtime, size, inode) — show the same layout: a
//!    writer killed mid-write never writes again, and writes cut at the very
//!    same line are not a realistic coincidence. Settled copies weigh 2,
//!    unsettled ones 1 (a copy read in a pause of a writer at work may be
//!    cut); 4 over at least two writes confirm: two settled copies, or four
//!    unsettled ones in a row for a writer that never lets its file settle.
//!    Unsettled copies of other layouts never displace the layout settled
//!    copies showed. A confirmed strict subset is accepted the same way (a
//!    binary that lost code). At shutdown, the held snapshot (settled, rule
//!    1 passed, new layout) is shipped anyway, marked `unconfirmed` in its
//!    metadata: no further write will come, and it beats nothing.
//!
//! With `--text-writer=rename` (writers that publish by rename, such as
//! covflush and Go's own `-coverprofile` temp-and-rename in the Kubernetes
//! wrapper) rule 1 alone decides: a file is never visible half written, and
//! no settle delay is needed.
//!
//! Generations: counts of one process only grow, so a snapshot in which a
//! count went down, or whose layout changed, comes from a new process. The
//! previous snapshot is then the final state of the previous process and is
//! kept under its own key; readers merge generations, and take only the
//! newest snapshot within one. A text profile carries no process identity,
//! so this is a heuristic: it relies on seeing one of the new process's
//! early snapshots (lower counts) before its counts pass the old ones. The
//! binary GOCOVERDIR route has pids and is exact.
//!
//! Cost: nearly every snapshot is the reference's lines with new counts.
//! `compare_lines` decides that case (rules 1 and 2, and whether a count
//! went down) by comparing bytes with the reference's staged copy, keeping
//! nothing per block. Everything else is parsed into a `Shape`, 16 bytes a

mod compare;
mod judge;
mod shape;

use covlens_core::ParseOptions;

pub(crate) use compare::{Compared, compare_lines};
pub(crate) use judge::{Reference, TextJudge, Verdict};
pub(crate) use shape::{ReadError, Shape};

fn parse_options() -> ParseOptions {
    ParseOptions {
        parallel: false,
        mmap: false,
        ..ParseOptions::default()
    }
}

/// Bytes read at a time; a profile is never held in memory whole.
const CHUNK: usize = 256 << 10;

/// Inputs for the tests of the reading and comparing modules.
#[cfg(test)]
mod testing {
    use std::io::{self, Read, Seek};

    /// Hands out a few bytes per read, so lines straddle every boundary.
    pub(crate) struct Trickle<'a> {
        data: &'a [u8],
        pos: usize,
        step: usize,
    }

    #[allow(non_snake_case)]
    pub(crate) fn Trickle(data: &[u8], step: usize) -> Trickle<'_> {
        Trickle { data, pos: 0, step }
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.step = self.step % 7 + 1;
            let rest = &self.data[self.pos..];
            let n = self.step.min(buf.len()).min(rest.len());
            buf[..n].copy_from_slice(&rest[..n]);
            self.pos += n;
            Ok(n)
        }
    }

    impl Seek for Trickle<'_> {
        fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
            let io::SeekFrom::Start(p) = to else {
                unimplemented!("only the starts of inputs are sought")
            };
            self.pos = p as usize;
            Ok(p)
        }

        fn stream_position(&mut self) -> io::Result<u64> {
            Ok(self.pos as u64)
        }
    }

    pub(crate) fn profile(files: &[&str], blocks: u32, count: impl Fn(u32) -> u64) -> String {
        let mut s = String::from("mode: count\n");
        for f in files {
            for b in 0..blocks {
                s.push_str(&format!("{f}:{}.2,{}.9 1 {}\n", b + 1, b + 1, count(b)));
            }
        }
        s
    }
}

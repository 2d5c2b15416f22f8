//! When a text profile on disk is a complete snapshot.
//!
//! The legacy Kubernetes wrapper rewrites its profile every few seconds, and
//! other writers truncate the file and write it in pieces. A copy taken at
//! the wrong moment, or the file left behind by a writer killed mid-write,
//! can be cut anywhere — including exactly at a line boundary, where it
//! still parses. The rules, applied after the file was stable (same size,
//! mtime, ctime and inode across the settle delay and around the copy):
//!
//! 1. It must end with a newline and parse with covlens-core, with a mode
//!    line and at least one block. (Catches any cut inside a line: Go ends
//!    every line with `\n`.)
//! 2. Go writes every block of every instrumented file in each snapshot,
//!    zero counts included, so the *layout* (the set of blocks, counts
//!    ignored) of one binary never changes. A snapshot whose layout equals
//!    the reference (the last shipped snapshot's) is complete.
//! 3. A layout that is a strict subset of the reference is a truncated
//!    write and is rejected as partial.
//! 4. Any other new layout (first snapshot, new binary) is held until a
//!    second write — a different (mtime, size, inode) — shows the same
//!    layout: a writer killed mid-write never writes again, and two writes
//!    cut at the very same line are not a realistic coincidence. A confirmed
//!    strict subset is accepted the same way (a binary that lost code).
//!
//! With `--text-writer=rename` (writers that publish by rename, such as
//! covflush and Go's own `-coverprofile` temp-and-rename in the Kubernetes
//! wrapper) rule 1 alone decides: a file is never visible half written, and
//! no settle delay is needed (with in-place writers the settle delay must be
//! shorter than the writer's interval, or the file never looks stable).
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
//! block, and judged by `TextJudge::judge`.

use std::hash::{DefaultHasher, Hasher};
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};

use covlens_core::{Block, MAX_COUNT, Mode, ParseOptions, TextParser};

fn parse_options() -> ParseOptions {
    ParseOptions {
        parallel: false,
        mmap: false,
        ..ParseOptions::default()
    }
}

/// Bytes read at a time; a profile is never held in memory whole.
const CHUNK: usize = 256 << 10;

/// A parsed snapshot reduced to what the rules need: 16 bytes per block (a
/// 64-bit hash of file and range, and the count), so a kube-apiserver-sized
/// profile (300k blocks) costs 5 MB. Blocks are sorted by hash, whatever
/// order the writer used, so layouts compare element by element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    mode: Mode,
    blocks: Vec<(u64, u64)>,
    /// Digest of the block hashes and statement counts: equal layouts,
    /// equal digests.
    layout: u64,
}

/// Why a snapshot could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Reading the profile or writing the copy failed.
    Io(io::Error),
    /// Not a complete profile (rule 1).
    Corrupt(String),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> ReadError {
        ReadError::Io(e)
    }
}

/// 64x64 -> 128-bit multiply folded to 64 bits: a cheap, well-mixing step.
#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

const K0: u64 = 0x9e37_79b9_7f4a_7c15;
const K1: u64 = 0xbf58_476d_1ce4_e5b9;

/// Hashes of one block: where it is (file and range) and that with its
/// statement count.
struct BlockHashes {
    file: String,
    file_hash: u64,
}

impl BlockHashes {
    fn of(&mut self, file: &str, b: &Block) -> (u64, u64) {
        // Files come in runs: hash a name once per run.
        if file != self.file || self.file.is_empty() {
            let mut h = DefaultHasher::new();
            h.write(file.as_bytes());
            self.file_hash = h.finish();
            file.clone_into(&mut self.file);
        }
        let start = u64::from(b.start_line) << 32 | u64::from(b.start_col);
        let end = u64::from(b.end_line) << 32 | u64::from(b.end_col);
        let at = fold_mul(self.file_hash ^ start, K0 ^ end);
        (at, fold_mul(at ^ u64::from(b.num_stmt), K1))
    }
}

impl Shape {
    /// Reads a snapshot from `r`, applying rule 1, and hands every byte
    /// read to `copy` (the staging copy) on the way. Stops at the first
    /// error. Blocks are summarised as they are parsed, so memory is the
    /// shape (16 bytes a block) and one read buffer.
    pub(crate) fn read<R: Read + Seek>(
        mut r: R,
        name: &str,
        mut copy: impl FnMut(&[u8]) -> io::Result<()>,
    ) -> Result<Shape, ReadError> {
        let origin = r.stream_position()?;
        let corrupt = |e: covlens_core::ParseError| ReadError::Corrupt(e.to_string());
        let mut parser = TextParser::new(name, parse_options());
        let mut hashes = BlockHashes {
            file: String::new(),
            file_hash: 0,
        };
        let mut blocks = Vec::new();
        // Sum of the block-with-statements hashes: the statement counts'
        // part of the layout, independent of order.
        let mut stmts = 0u64;
        let mut buf = vec![0u8; CHUNK];
        // buf[..held] is the start of a line not yet fed.
        let mut held = 0;
        let mut last = None;
        loop {
            if held == buf.len() {
                // A line longer than the buffer.
                buf.resize(buf.len() * 2, 0);
            }
            let n = match r.read(&mut buf[held..]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            copy(&buf[held..held + n])?;
            last = Some(buf[held + n - 1]);
            let end = held + n;
            let Some(nl) = memchr::memrchr(b'\n', &buf[held..end]) else {
                held = end;
                continue;
            };
            let cut = held + nl + 1;
            parser.feed(&buf[..cut]).map_err(corrupt)?;
            parser.drain_blocks(|file, b| {
                let (at, with_stmts) = hashes.of(file, b);
                blocks.push((at, b.count));
                stmts = stmts.wrapping_add(with_stmts);
            });
            buf.copy_within(cut..end, 0);
            held = end - cut;
        }
        drop(buf);
        if last != Some(b'\n') {
            return Err(ReadError::Corrupt(
                "does not end with a newline (cut inside a line)".into(),
            ));
        }
        let mode = parser
            .mode()
            .cloned()
            .ok_or_else(|| ReadError::Corrupt("no mode line".into()))?;
        if blocks.is_empty() {
            return Err(ReadError::Corrupt("no blocks".into()));
        }
        blocks.sort_unstable_by_key(|b| b.0);
        if blocks.windows(2).any(|w| w[0].0 == w[1].0) {
            // Repeated blocks (concatenated profiles; Go never writes one
            // twice in a snapshot): let the parser combine them and check
            // their statement counts, reading the input once more.
            drop(blocks);
            r.seek(io::SeekFrom::Start(origin))?;
            let mut parser = TextParser::new(name, parse_options());
            let mut data = Vec::new();
            r.read_to_end(&mut data)?;
            parser.feed(&data).map_err(corrupt)?;
            drop(data);
            let raw = parser.into_raw();
            (blocks, stmts) = (Vec::new(), 0);
            raw.for_each_block(|file, b| {
                let (at, with_stmts) = hashes.of(file, b);
                blocks.push((at, b.count));
                stmts = stmts.wrapping_add(with_stmts);
            })
            .map_err(corrupt)?;
            blocks.sort_unstable_by_key(|b| b.0);
            // Left: a hash collision between different blocks (odds about
            // 1 in 10^8 for 300k blocks); count them as one.
            let set = mode.is_set();
            blocks.dedup_by(|b, a| {
                let same = a.0 == b.0;
                if same {
                    a.1 = if set {
                        a.1 | b.1
                    } else {
                        a.1.saturating_add(b.1)
                    };
                }
                same
            });
        }
        blocks.shrink_to_fit();
        let layout = blocks.iter().fold(K1 ^ stmts, |h, b| fold_mul(h ^ b.0, K0));
        Ok(Shape {
            mode,
            blocks,
            layout,
        })
    }

    /// [`Shape::read`] of bytes in memory.
    #[cfg(test)]
    pub(crate) fn parse(data: &[u8], name: &str) -> Result<Shape, String> {
        Shape::read(io::Cursor::new(data), name, |_| Ok(())).map_err(|e| match e {
            ReadError::Corrupt(m) => m,
            ReadError::Io(e) => e.to_string(),
        })
    }

    fn same_layout(&self, other: &Shape) -> bool {
        self.layout == other.layout
            && self.blocks.len() == other.blocks.len()
            && self
                .blocks
                .iter()
                .zip(&other.blocks)
                .all(|(a, b)| a.0 == b.0)
    }

    /// Every block of `self` is in `other` (both sorted by hash).
    fn subset_of(&self, other: &Shape) -> bool {
        let mut theirs = other.blocks.iter().map(|b| b.0);
        self.blocks
            .iter()
            .all(|&(k, _)| theirs.by_ref().any(|o| o == k))
    }

    /// Whether `self` can follow `prev` in one process: same mode and
    /// layout, no count lower.
    fn continues(&self, prev: &Shape) -> bool {
        self.mode == prev.mode
            && self.same_layout(prev)
            && self
                .blocks
                .iter()
                .zip(&prev.blocks)
                .all(|(n, p)| n.1 >= p.1)
    }
}

/// One input of [`compare_lines`]: a window of the file through a buffer
/// (grown only for a line longer than it); every byte read goes to `tap`.
struct Side<R, F> {
    r: R,
    tap: F,
    buf: Vec<u8>,
    /// Start of the line `pos` is in.
    start: usize,
    /// Compared up to here.
    pos: usize,
    end: usize,
    eof: bool,
    /// File offset of `buf[0]`.
    base: u64,
}

impl<R: Read, F: FnMut(&[u8])> Side<R, F> {
    fn new(r: R, tap: F) -> Self {
        Side {
            r,
            tap,
            buf: vec![0; CHUNK],
            start: 0,
            pos: 0,
            end: 0,
            eof: false,
            base: 0,
        }
    }

    /// Reads more, keeping the current line; returns how far the kept bytes
    /// moved down. At end of file nothing changes.
    fn more(&mut self) -> io::Result<usize> {
        let shift = self.start;
        if shift > 0 {
            self.buf.copy_within(shift..self.end, 0);
            self.base += shift as u64;
            (self.start, self.pos, self.end) = (0, self.pos - shift, self.end - shift);
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.r.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    (self.tap)(&self.buf[self.end..self.end + n]);
                    self.end += n;
                    self.eof = n == 0;
                    return Ok(shift);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Makes at least `want` bytes after `pos` available, short of the end.
    fn fill(&mut self, want: usize) -> io::Result<()> {
        while self.end - self.pos < want && !self.eof {
            self.more()?;
        }
        Ok(())
    }

    /// Index of the `\n` ending the line that contains `at`, reading on as
    /// needed; `None` if the file ends first. `at` is moved with the buffer.
    fn line_end(&mut self, mut at: usize) -> io::Result<Option<usize>> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[at..self.end]) {
                return Ok(Some(at + i));
            }
            if self.eof {
                return Ok(None);
            }
            let from = self.end;
            at = from - self.more()?;
        }
    }
}

/// Bytes ahead below which [`compare_lines`] reads more.
const LOW: usize = 4096;

/// Index of the first byte where `a` and `b` (of equal length) differ.
fn mismatch(a: &[u8], b: &[u8]) -> Option<usize> {
    const STRIDE: usize = 512;
    let mut i = 0;
    // Slice equality is a vectorised memcmp; find the block first.
    while i + STRIDE <= a.len() && a[i..i + STRIDE] == b[i..i + STRIDE] {
        i += STRIDE;
    }
    a[i..]
        .iter()
        .zip(&b[i..])
        .position(|(x, y)| x != y)
        .map(|j| i + j)
}

/// Splits a block line at its last space into the part that describes the
/// block and a count, if the count is plain digits within range (anything
/// else is left to the full parser).
fn split_count(line: &[u8]) -> Option<(&[u8], u64)> {
    let sp = memchr::memrchr(b' ', line)?;
    let digits = &line[sp + 1..];
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut v = 0u64;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(d - b'0');
    }
    (v <= MAX_COUNT).then_some((&line[..sp], v))
}

/// The outcome of [`compare_lines`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Compared {
    /// Line for line the reference's layout; `continues` if no count went
    /// down.
    SameLayout {
        /// No count lower than the reference's.
        continues: bool,
    },
    /// Anything else: the full parser decides.
    Unknown,
}

/// The common case without parsing: a writer rewrites the same lines in the
/// same order with new counts, most of them unchanged. Reads `new` and the
/// reference (the last shipped snapshot, already validated) side by side
/// and compares bytes; only where they differ is a line looked at: its
/// block part must equal the reference line's and its count be plain
/// digits. Identical stretches start at line starts in both, so they are
/// the reference's (valid) lines. Memory stays two read buffers whatever
/// the profile's size. Every byte of `new` read goes to `tap`; on
/// [`Compared::Unknown`] `new` may be only partly read.
pub(crate) fn compare_lines(
    new: impl Read,
    reference: impl Read,
    tap: impl FnMut(&[u8]),
) -> io::Result<Compared> {
    let mut a = Side::new(new, tap);
    let mut b = Side::new(reference, |_: &[u8]| {});
    let mut continues = true;
    loop {
        // Refill only when little is left: a refill moves the current line.
        a.fill(LOW)?;
        b.fill(LOW)?;
        let n = (a.end - a.pos).min(b.end - b.pos);
        if n == 0 {
            // Both must end together, after a complete line.
            let done = a.eof && b.eof && a.pos == a.end && b.pos == b.end;
            return Ok(if done && a.start == a.pos && a.base + a.start as u64 > 0 {
                Compared::SameLayout { continues }
            } else {
                Compared::Unknown
            });
        }
        let k = mismatch(&a.buf[a.pos..a.pos + n], &b.buf[b.pos..b.pos + n]);
        let same = k.unwrap_or(n);
        if let Some(i) = memchr::memrchr(b'\n', &a.buf[a.pos..a.pos + same]) {
            (a.start, b.start) = (a.pos + i + 1, b.pos + i + 1);
        }
        let Some(k) = k else {
            (a.pos, b.pos) = (a.pos + n, b.pos + n);
            continue;
        };
        if a.base + a.start as u64 == 0 {
            // The mode line differs.
            return Ok(Compared::Unknown);
        }
        let (Some(ea), Some(eb)) = (a.line_end(a.pos + k)?, b.line_end(b.pos + k)?) else {
            return Ok(Compared::Unknown);
        };
        match (
            split_count(&a.buf[a.start..ea]),
            split_count(&b.buf[b.start..eb]),
        ) {
            (Some((ka, ca)), Some((kb, cb))) if ka == kb && !ka.is_empty() => {
                continues &= ca >= cb;
            }
            _ => return Ok(Compared::Unknown),
        }
        (a.start, a.pos) = (ea + 1, ea + 1);
        (b.start, b.pos) = (eb + 1, eb + 1);
    }
}

/// What to do with one stable copy of a text profile.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Ship it; `new_generation` when it starts a new process generation.
    Ship {
        /// The previous generation is final.
        new_generation: bool,
    },
    /// Not shipped yet: a new layout waiting for confirmation.
    Hold,
    /// A strict subset of the known layout: a truncated write.
    Partial,
    /// Does not parse, or cut inside a line.
    Corrupt(String),
}

/// The last shipped snapshot, which new ones are compared with.
#[derive(Clone, Debug)]
pub(crate) enum Reference {
    /// Its staged copy, parsed only when [`compare_lines`] cannot decide,
    /// so no per-block state stays in memory between snapshots.
    File(PathBuf),
    /// Already parsed.
    #[cfg_attr(not(test), allow(dead_code))]
    Shape(Shape),
}

impl Reference {
    /// The shape; `None` if the staged copy is gone or unreadable (the
    /// snapshot is then judged as the first of its source).
    fn shape(&self) -> Option<Shape> {
        match self {
            Reference::Shape(s) => Some(s.clone()),
            Reference::File(p) => {
                let f = std::fs::File::open(p).ok()?;
                Shape::read(f, &p.display().to_string(), |_| Ok(())).ok()
            }
        }
    }
}

/// Per-source judge. The reference survives restarts (the caller reloads it
/// from the staging directory); the candidate is only kept in memory, as
/// its layout digest.
#[derive(Clone, Debug, Default)]
pub(crate) struct TextJudge {
    reference: Option<Reference>,
    candidate: Option<Candidate>,
}

/// A layout seen once, waiting for a second write.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Candidate {
    mode: Mode,
    layout: u64,
    blocks: usize,
    write_id: u128,
}

impl Candidate {
    fn of(shape: &Shape, write_id: u128) -> Candidate {
        Candidate {
            mode: shape.mode.clone(),
            layout: shape.layout,
            blocks: shape.blocks.len(),
            write_id,
        }
    }
}

impl TextJudge {
    /// A judge whose reference is the given last shipped snapshot.
    pub(crate) fn with_reference(reference: Option<Reference>) -> TextJudge {
        TextJudge {
            reference,
            candidate: None,
        }
    }

    /// The staged copy of the reference, for [`compare_lines`].
    pub(crate) fn reference_file(&self) -> Option<&Path> {
        match &self.reference {
            Some(Reference::File(p)) => Some(p),
            _ => None,
        }
    }

    /// Judges a snapshot that [`compare_lines`] found to have the
    /// reference's layout.
    pub(crate) fn judge_same(&self, continues: bool) -> Verdict {
        Verdict::Ship {
            new_generation: !continues,
        }
    }

    /// Judges a stable copy, read with [`Shape::read`]. `write_id`
    /// identifies the write (a digest of size, mtime, ctime, inode);
    /// `confirm` is false for rename writers. After [`Verdict::Ship`], call
    /// [`TextJudge::accept`] once the snapshot is staged (nothing changes
    /// otherwise, so a snapshot that could not be staged is judged the same
    /// next time).
    pub(crate) fn judge(
        &mut self,
        shape: Result<Shape, String>,
        write_id: u128,
        confirm: bool,
    ) -> Verdict {
        let shape = match shape {
            Ok(s) => s,
            Err(e) => return Verdict::Corrupt(e),
        };
        let reference = self.reference.as_ref().and_then(Reference::shape);
        let verdict = match &reference {
            Some(r) if shape.same_layout(r) && shape.mode == r.mode => Verdict::Ship {
                new_generation: !shape.continues(r),
            },
            Some(r) if confirm && shape.blocks.len() < r.blocks.len() && shape.subset_of(r) => {
                if self.confirmed(&shape, write_id) {
                    Verdict::Ship {
                        new_generation: true,
                    }
                } else {
                    Verdict::Partial
                }
            }
            reference => {
                if !confirm || self.confirmed(&shape, write_id) {
                    Verdict::Ship {
                        new_generation: reference.is_some(),
                    }
                } else {
                    Verdict::Hold
                }
            }
        };
        if !matches!(verdict, Verdict::Ship { .. }) {
            self.candidate = Some(Candidate::of(&shape, write_id));
        }
        verdict
    }

    /// Makes a shipped snapshot the reference.
    pub(crate) fn accept(&mut self, reference: Reference) {
        self.reference = Some(reference);
        self.candidate = None;
    }

    /// The same layout was seen in another write.
    fn confirmed(&self, shape: &Shape, write_id: u128) -> bool {
        self.candidate.as_ref().is_some_and(|c| {
            c.write_id != write_id
                && c.layout == shape.layout
                && c.blocks == shape.blocks.len()
                && c.mode == shape.mode
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = "mode: count\na.go:1.1,2.2 1 3\na.go:3.1,4.2 2 0\nb.go:1.1,1.9 1 1\n";

    impl TextJudge {
        /// judge + accept, as the collector does when staging succeeds.
        fn run(&mut self, data: &[u8], name: &str, id: u128, confirm: bool) -> Verdict {
            let v = self.judge(Shape::parse(data, name), id, confirm);
            if matches!(v, Verdict::Ship { .. }) {
                self.accept(Reference::Shape(Shape::parse(data, name).unwrap()));
            }
            v
        }
    }

    fn ship(g: bool) -> Verdict {
        Verdict::Ship { new_generation: g }
    }

    #[test]
    fn rule1_cut_inside_a_line_or_garbage() {
        for bad in [
            "mode: count\na.go:1.1,2.2 1 3\na.go:3.1,4.2 2 0\nb.go:1.1,1.9 1 1",
            "mode: count\na.go:1.1,2.2 1 3\na.go:3.1,4.2 2 0\nb.go:1.1,1.",
            "mode: count\na.go:1.1,2.2 1 3\na.go:3.1,4.2 2",
            "mode: count\n",
            "",
            "garbage\n",
        ] {
            let mut j = TextJudge::default();
            assert!(
                matches!(j.run(bad.as_bytes(), "p", 1, true), Verdict::Corrupt(_)),
                "{bad:?}"
            );
        }
        // A count cut short ("3" of "30") is caught by the missing newline.
        let mut j = TextJudge::default();
        assert!(matches!(
            j.run(b"mode: count\na.go:1.1,2.2 1 3", "p", 1, false),
            Verdict::Corrupt(_)
        ));
    }

    #[test]
    fn new_layout_needs_a_second_write() {
        let mut j = TextJudge::default();
        assert_eq!(j.run(FULL.as_bytes(), "p", 1, true), Verdict::Hold);
        // Same write seen again: still unconfirmed.
        assert_eq!(j.run(FULL.as_bytes(), "p", 1, true), Verdict::Hold);
        let later = FULL.replace(" 1 3\n", " 1 5\n");
        assert_eq!(j.run(later.as_bytes(), "p", 2, true), ship(false));
        // Rename writers: shipped at once.
        let mut j = TextJudge::default();
        assert_eq!(j.run(FULL.as_bytes(), "p", 1, false), ship(false));
    }

    #[test]
    fn line_boundary_truncation_is_partial() {
        let mut j = TextJudge::with_reference(Some(Reference::Shape(
            Shape::parse(FULL.as_bytes(), "p").unwrap(),
        )));
        let cut = "mode: count\na.go:1.1,2.2 1 3\na.go:3.1,4.2 2 0\n";
        assert_eq!(j.run(cut.as_bytes(), "p", 7, true), Verdict::Partial);
        // The abandoned file stays partial however often it is looked at.
        assert_eq!(j.run(cut.as_bytes(), "p", 7, true), Verdict::Partial);
        // The next complete write is fine and continues the generation.
        assert_eq!(j.run(FULL.as_bytes(), "p", 8, true), ship(false));
    }

    #[test]
    fn truncated_first_snapshot_is_never_shipped() {
        let mut j = TextJudge::default();
        let cut = "mode: count\na.go:1.1,2.2 1 3\n";
        assert_eq!(j.run(cut.as_bytes(), "p", 1, true), Verdict::Hold);
        // The full file is a different layout: a new candidate, not a
        // confirmation of the cut one.
        assert_eq!(j.run(FULL.as_bytes(), "p", 2, true), Verdict::Hold);
        assert_eq!(j.run(FULL.as_bytes(), "p", 3, true), ship(false));
    }

    #[test]
    fn restart_starts_a_generation() {
        let mut j = TextJudge::default();
        assert_eq!(j.run(FULL.as_bytes(), "p", 1, false), ship(false));
        let more = FULL.replace(" 1 3\n", " 1 9\n");
        assert_eq!(j.run(more.as_bytes(), "p", 2, false), ship(false));
        // A count went down: a new process.
        assert_eq!(j.run(FULL.as_bytes(), "p", 3, false), ship(true));
        // A new binary (different layout) after confirmation: new generation.
        let other = "mode: count\nc.go:1.1,2.2 1 1\n";
        let mut j2 = TextJudge::with_reference(Some(Reference::Shape(
            Shape::parse(FULL.as_bytes(), "p").unwrap(),
        )));
        assert_eq!(j2.run(other.as_bytes(), "p", 4, true), Verdict::Hold);
        assert_eq!(j2.run(other.as_bytes(), "p", 5, true), ship(true));
    }

    #[test]
    fn confirmed_shrink_is_accepted() {
        let mut j = TextJudge::with_reference(Some(Reference::Shape(
            Shape::parse(FULL.as_bytes(), "p").unwrap(),
        )));
        let smaller = "mode: count\na.go:1.1,2.2 1 3\n";
        assert_eq!(j.run(smaller.as_bytes(), "p", 1, true), Verdict::Partial);
        assert_eq!(j.run(smaller.as_bytes(), "p", 2, true), ship(true));
    }
}

#[cfg(test)]
mod read_tests {
    use super::*;

    /// Hands out a few bytes per read, so lines straddle every boundary.
    struct Trickle<'a> {
        data: &'a [u8],
        pos: usize,
        step: usize,
    }

    #[allow(non_snake_case)]
    fn Trickle(data: &[u8], step: usize) -> Trickle<'_> {
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

    fn profile(files: &[&str], blocks: u32, count: impl Fn(u32) -> u64) -> String {
        let mut s = String::from("mode: count\n");
        for f in files {
            for b in 0..blocks {
                s.push_str(&format!("{f}:{}.2,{}.9 1 {}\n", b + 1, b + 1, count(b)));
            }
        }
        s
    }

    #[test]
    fn reads_in_pieces_and_copies_every_byte() {
        let data = profile(&["x/a.go", "x/b.go"], 50, u64::from);
        let mut copy = Vec::new();
        let s = Shape::read(Trickle(data.as_bytes(), 0), "p", |b| {
            copy.extend_from_slice(b);
            Ok(())
        })
        .unwrap();
        assert_eq!(copy, data.as_bytes());
        assert_eq!(s, Shape::parse(data.as_bytes(), "p").unwrap());
        assert_eq!(s.blocks.len(), 100);
        // A line longer than the read buffer.
        let long = format!("mode: set\n{}.go:1.1,1.2 1 1\n", "d/".repeat(CHUNK));
        assert_eq!(Shape::parse(long.as_bytes(), "p").unwrap().blocks.len(), 1);
    }

    #[test]
    fn repeated_blocks_are_combined_and_checked() {
        let once = "mode: count\na.go:1.1,2.2 1 3\nb.go:1.1,1.9 1 1\n";
        let twice = "mode: count\na.go:1.1,2.2 1 1\nb.go:1.1,1.9 1 1\na.go:1.1,2.2 1 2\n";
        let (a, b) = (
            Shape::parse(once.as_bytes(), "p").unwrap(),
            Shape::parse(twice.as_bytes(), "p").unwrap(),
        );
        assert_eq!(a, b);
        let clash = "mode: count\na.go:1.1,2.2 1 1\nb.go:1.1,1.9 1 1\na.go:1.1,2.2 2 2\n";
        let err = Shape::parse(clash.as_bytes(), "p").unwrap_err();
        assert!(err.contains("p:"), "{err}");
        // Read from a file: the second pass starts where the first did.
        let mut f = tempfile::tempfile().unwrap();
        io::Write::write_all(&mut f, format!("junk{twice}").as_bytes()).unwrap();
        f.seek(io::SeekFrom::Start(4)).unwrap();
        assert_eq!(Shape::read(&mut f, "p", |_| Ok(())).unwrap(), a);
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let err =
            Shape::parse(b"mode: count\na.go:1.1,2.2 1 3\na.go:1.1,x 1 3\n", "p").unwrap_err();
        assert!(err.starts_with("p:3:"), "{err}");
    }

    fn compare(new: &str, reference: &str) -> Compared {
        let mut seen = Vec::new();
        let c = compare_lines(
            Trickle(new.as_bytes(), 3),
            Trickle(reference.as_bytes(), 0),
            |b| seen.extend_from_slice(b),
        )
        .unwrap();
        if c != Compared::Unknown {
            assert_eq!(seen, new.as_bytes());
        }
        c
    }

    #[test]
    fn line_comparison_decides_only_the_plain_case() {
        let reference = profile(&["x/a.go", "x/b.go"], 30, u64::from);
        let same = |continues| Compared::SameLayout { continues };
        assert_eq!(compare(&reference, &reference), same(true));
        let more = profile(&["x/a.go", "x/b.go"], 30, |b| u64::from(b) + 1);
        assert_eq!(compare(&more, &reference), same(true));
        assert_eq!(compare(&reference, &more), same(false));
        let cut_at_line = &reference[..reference.len() / 2];
        let cut_at_line = &cut_at_line[..=cut_at_line.rfind('\n').unwrap()];
        let mut reordered: Vec<&str> = reference.lines().collect();
        reordered.swap(3, 4);
        for other in [
            cut_at_line.to_string(),
            reference[..reference.len() - 1].to_string(),
            format!("{reference}x/c.go:1.1,1.2 1 0\n"),
            reordered.join("\n") + "\n",
            reference.replacen("mode: count", "mode: set", 1),
            reference.replacen(" 1 7\n", " 1 +7\n", 1),
            reference.replacen(" 1 7\n", " 1 7x\n", 1),
            reference.replacen(" 1 7\n", " 1 99999999999999999999\n", 1),
            reference.replacen(" 1 7\n", " 2 7\n", 1),
            reference.replace('\n', "\r\n"),
            "mode: count\n".into(),
            String::new(),
        ] {
            assert_eq!(compare(&other, &reference), Compared::Unknown, "{other:?}");
        }
    }

    #[test]
    fn line_comparison_agrees_with_the_parser() {
        let reference = profile(&["x/a.go", "x/b.go", "y/c.go"], 40, |b| u64::from(b % 5));
        let r = Shape::parse(reference.as_bytes(), "r").unwrap();
        for step in 0..40u32 {
            let new = profile(&["x/a.go", "x/b.go", "y/c.go"], 40, |b| {
                u64::from(b % 5) + u64::from(b == step) * 3 - u64::from(b == step + 1 && b % 5 > 0)
            });
            let n = Shape::parse(new.as_bytes(), "n").unwrap();
            assert!(n.same_layout(&r));
            assert_eq!(
                compare(&new, &reference),
                Compared::SameLayout {
                    continues: n.continues(&r)
                }
            );
        }
    }

    #[test]
    fn line_comparison_across_buffer_refills() {
        let files: Vec<String> = (0..12).map(|f| format!("k8s.io/pkg{f}/file.go")).collect();
        let files: Vec<&str> = files.iter().map(String::as_str).collect();
        let reference = profile(&files, 2500, |b| u64::from(b % 3));
        assert!(reference.len() > 3 * CHUNK);
        let r = Shape::parse(reference.as_bytes(), "r").unwrap();
        // Changes every few thousand blocks, some growing a count's digits,
        // one lowering a count.
        for (every, lower) in [(997, false), (4099, false), (2503, true), (1, false)] {
            let new = profile(&files, 2500, |b| {
                let c = u64::from(b % 3);
                match (b % every == 0, lower && b == 2000) {
                    (_, true) => 0,
                    (true, _) => c + 1000,
                    _ => c,
                }
            });
            let n = Shape::parse(new.as_bytes(), "n").unwrap();
            let got = compare_lines(new.as_bytes(), reference.as_bytes(), |_| {}).unwrap();
            assert_eq!(
                got,
                Compared::SameLayout {
                    continues: n.continues(&r)
                },
                "every {every}"
            );
            assert_eq!(n.continues(&r), !lower);
        }
        // A cut at a line boundary deep in the file, and one block renamed.
        let cut = &reference[..=reference[..2 * CHUNK + 77].rfind('\n').unwrap()];
        let renamed =
            reference.replacen("k8s.io/pkg7/file.go:100.2", "k8s.io/pkg7/file.go:100.3", 1);
        for other in [cut, renamed.as_str()] {
            assert_eq!(
                compare_lines(other.as_bytes(), reference.as_bytes(), |_| {}).unwrap(),
                Compared::Unknown
            );
        }
    }

    /// Whatever the new file is, a "same layout" answer of the byte
    /// comparison is one the parser agrees with (it may say "unknown" more
    /// often, never wrongly "same").
    #[test]
    fn line_comparison_never_contradicts_the_parser() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let reference = profile(&["x/a.go", "x/b.go", "y/c.go"], 30, |b| u64::from(b % 4));
        let r = Shape::parse(reference.as_bytes(), "r").unwrap();
        let (mut same, mut unknown) = (0, 0);
        for _ in 0..3000 {
            let mut new = reference.clone().into_bytes();
            for _ in 0..1 + next(4) {
                if new.is_empty() {
                    break;
                }
                let at = next(new.len() as u64) as usize;
                match next(8) {
                    // A count rewritten (the common case).
                    0..=2 => {
                        let text = String::from_utf8_lossy(&new).into_owned();
                        let mut lines: Vec<String> = text.lines().map(String::from).collect();
                        let k = 1 + next(lines.len().max(2) as u64 - 1) as usize;
                        if let Some(l) = lines.get_mut(k)
                            && let Some(sp) = l.rfind(' ')
                        {
                            l.truncate(sp + 1);
                            l.push_str(&next(20).to_string());
                        }
                        new = (lines.join("\n") + "\n").into_bytes();
                    }
                    // Any byte changed, inserted or removed.
                    3 => new[at] = b" :.,x\n90"[next(8) as usize],
                    4 => new.insert(at, b"0123456789 \n"[next(12) as usize]),
                    5 => {
                        new.remove(at);
                    }
                    // Cut.
                    6 => new.truncate(at),
                    // Two lines swapped.
                    _ => {
                        let text = String::from_utf8_lossy(&new).into_owned();
                        let mut lines: Vec<&str> = text.lines().collect();
                        if lines.len() > 3 {
                            let a = 1 + next(lines.len() as u64 - 1) as usize;
                            let b = 1 + next(lines.len() as u64 - 1) as usize;
                            lines.swap(a, b);
                        }
                        new = (lines.join("\n") + "\n").into_bytes();
                    }
                }
            }
            let got = compare_lines(
                Trickle(&new, next(7) as usize),
                Trickle(reference.as_bytes(), 0),
                |_| {},
            )
            .unwrap();
            if let Compared::SameLayout { continues } = got {
                same += 1;
                let n = Shape::parse(&new, "n").unwrap_or_else(|e| {
                    panic!(
                        "said same layout, parser says {e}: {:?}",
                        String::from_utf8_lossy(&new)
                    )
                });
                assert!(n.same_layout(&r) && n.mode == r.mode);
                assert_eq!(
                    continues,
                    n.continues(&r),
                    "{:?}",
                    String::from_utf8_lossy(&new)
                );
            } else {
                unknown += 1;
            }
        }
        // Both answers occur.
        assert!(
            same > 300 && unknown > 300,
            "{same} same, {unknown} unknown"
        );
    }

    #[test]
    fn layout_ignores_writer_order_and_counts() {
        let sorted = profile(&["x/a.go", "x/b.go"], 20, |_| 0);
        let mut lines: Vec<&str> = sorted.lines().skip(1).collect();
        lines.reverse();
        let reversed = format!("mode: count\n{}\n", lines.join("\n"));
        let later = profile(&["x/a.go", "x/b.go"], 20, |b| u64::from(b) * 3);
        let a = Shape::parse(sorted.as_bytes(), "p").unwrap();
        let b = Shape::parse(reversed.as_bytes(), "p").unwrap();
        let c = Shape::parse(later.as_bytes(), "p").unwrap();
        assert!(a.same_layout(&b) && a.same_layout(&c));
        assert!(c.continues(&a) && !a.continues(&c));
        // A reversed write cut at a line boundary is a strict subset.
        let cut = format!("mode: count\n{}\n", lines[..25].join("\n"));
        let d = Shape::parse(cut.as_bytes(), "p").unwrap();
        assert!(d.subset_of(&a) && !d.same_layout(&a) && !a.subset_of(&d));
        // Another statement count is another layout (of as many blocks: not
        // a truncation).
        let other = sorted.replacen(" 1 0\n", " 2 0\n", 1);
        let e = Shape::parse(other.as_bytes(), "p").unwrap();
        assert!(!e.same_layout(&a) && e.blocks.len() == a.blocks.len());
    }
}

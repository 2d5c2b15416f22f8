//! The shape of a text snapshot: what the completeness rules compare
//! (blocks and counts, 16 bytes a block), read from a stream in one pass.

use std::hash::{DefaultHasher, Hasher};
use std::io::{self, Read, Seek};

use covlens_core::{Block, Mode, TextParser};

use super::{CHUNK, parse_options};

/// A parsed snapshot reduced to what the rules need: 16 bytes per block (a
/// 64-bit hash of file and range, and the count), so a kube-apiserver-sized
/// profile (300k blocks) costs 5 MB. Blocks are sorted by hash, whatever
/// order the writer used, so layouts compare element by element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pub(super) mode: Mode,
    pub(super) blocks: Vec<(u64, u64)>,
    /// Digest of the block hashes and statement counts: equal layouts,
    /// equal digests.
    pub(super) layout: u64,
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
                // A line longer than the buffer, up to the parser's limit.
                parser.check_pending_line(held).map_err(corrupt)?;
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

    pub(super) fn same_layout(&self, other: &Shape) -> bool {
        self.layout == other.layout
            && self.blocks.len() == other.blocks.len()
            && self
                .blocks
                .iter()
                .zip(&other.blocks)
                .all(|(a, b)| a.0 == b.0)
    }

    /// Every block of `self` is in `other` (both sorted by hash).
    pub(super) fn subset_of(&self, other: &Shape) -> bool {
        let mut theirs = other.blocks.iter().map(|b| b.0);
        self.blocks
            .iter()
            .all(|&(k, _)| theirs.by_ref().any(|o| o == k))
    }

    /// Whether `self` can follow `prev` in one process: same mode and
    /// layout, no count lower.
    pub(super) fn continues(&self, prev: &Shape) -> bool {
        self.mode == prev.mode
            && self.same_layout(prev)
            && self
                .blocks
                .iter()
                .zip(&prev.blocks)
                .all(|(n, p)| n.1 >= p.1)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Trickle, profile};
    use super::*;

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

    /// A file without a newline within the parser's line length limit is
    /// refused once that many bytes were read, not buffered whole.
    #[test]
    fn endless_lines_are_refused_early() {
        let mut data = b"mode: set\n".to_vec();
        data.resize(data.len() + (64 << 20), b'x');
        let mut copied = 0;
        let e = Shape::read(std::io::Cursor::new(&data), "p", |b| {
            copied += b.len();
            Ok(())
        })
        .unwrap_err();
        let ReadError::Corrupt(e) = e else {
            panic!("{e:?}")
        };
        assert!(e.contains("expected a newline within 1048576 bytes"), "{e}");
        assert!(copied <= 4 << 20, "read {copied} bytes");
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

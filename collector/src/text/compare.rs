//! The cheap route: a new snapshot compared byte for byte with the last
//! shipped one, deciding "same layout" without parsing.

use std::io::{self, Read};

use covlens_core::MAX_COUNT;

use super::CHUNK;

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

#[cfg(test)]
mod tests {
    use super::super::Shape;
    use super::super::testing::{Trickle, profile};
    use super::*;

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
}

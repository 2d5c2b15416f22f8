//! The streaming merge: text profiles in Go's canonical order (each file's
//! lines contiguous, its blocks strictly increasing by position, numbers
//! written as Go writes them) that list the same blocks in the same order
//! (profiles of one program), merged without parsing them into blocks.
//!
//! Such inputs have byte-identical lines up to the count. The first input
//! is read field by field (to check the order and that its numbers are
//! written as the writer would write them); the others are compared with
//! it byte for byte, and only their counts are read. A merged line is the
//! first input's line up to the count, then the combined count.
//!
//! The inputs are cut into segments at file boundaries (found with a few
//! small reads); segments are merged in parallel, each from its own
//! short-lived maps of the inputs, into per-file pieces of output that are
//! written in file name order at the end. Memory is the output and a few
//! segments of the inputs, whatever their number.
//!
//! Anything else (other layouts, a line the fast grammar does not take,
//! different modes, a file listed twice) ends the walk with
//! [`Streamed::Fallback`] before anything is written, and the caller takes
//! the general path, which writes the same bytes or gives the exact error.

use std::fs::File;
use std::io::{self, IoSlice, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use rayon::prelude::*;

use super::grammar::same_bytes;
use crate::error::Error;
use crate::profile::MAX_COUNT;

/// A segment covers about this many bytes of the first input.
const SEGMENT: u64 = 1 << 20;
/// At most this many inputs take the streaming path.
pub(crate) const MAX_INPUTS: usize = 64;
/// Reads while looking for segment boundaries.
const PROBE: usize = 4 << 10;
/// At most this many bytes of the inputs are mapped for one segment.
const MAX_MAPPED: u64 = 256 << 20;
/// How far from where it is expected a segment boundary is looked for in
/// the other inputs, at most.
const SEARCH: u64 = 4 << 20;

/// How a streaming merge ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Streamed {
    /// The whole merged profile was written; this many block lines.
    Done(u64),
    /// The inputs need the general path; nothing was written.
    Fallback,
}

/// One input file.
struct Input {
    file: File,
    name: String,
    len: u64,
    /// Where the first block line starts (after the mode line).
    start: u64,
}

/// Merges the text profiles `paths` into `w` if they allow it (see the
/// module docs). `Err` only for I/O errors; everything the general path
/// would judge differently is [`Streamed::Fallback`].
pub(crate) fn stream_merge<W: Write>(
    paths: &[&Path],
    max_line: usize,
    w: &mut W,
) -> Result<Streamed, Error> {
    stream_merge_with(paths, max_line, SEGMENT, w)
}

/// [`stream_merge`] with segments of about `segment` bytes.
fn stream_merge_with<W: Write>(
    paths: &[&Path],
    max_line: usize,
    segment: u64,
    w: &mut W,
) -> Result<Streamed, Error> {
    if paths.is_empty() || paths.len() > MAX_INPUTS {
        return Ok(Streamed::Fallback);
    }
    let mut inputs = Vec::with_capacity(paths.len());
    let mut mode: Option<Vec<u8>> = None;
    for path in paths {
        let name = path.to_string_lossy().into_owned();
        let file = File::open(path).map_err(|e| Error::io(&name, e))?;
        let meta = file.metadata().map_err(|e| Error::io(&name, e))?;
        if !meta.is_file() {
            return Ok(Streamed::Fallback);
        }
        let len = meta.len();
        let Some((m, start)) = mode_line(&file, len).map_err(|e| Error::io(&name, e))? else {
            return Ok(Streamed::Fallback);
        };
        match &mode {
            None => mode = Some(m),
            Some(first) if *first == m => {}
            Some(_) => return Ok(Streamed::Fallback),
        }
        inputs.push(Input {
            file,
            name,
            len,
            start,
        });
    }
    let mode = mode.expect("at least one input");
    let is_set = mode == b"set";
    let Some(bounds) = segment_bounds(&inputs, max_line, segment)? else {
        return Ok(Streamed::Fallback);
    };
    let segments: Vec<Option<Piece>> = (0..bounds[0].len() + 1)
        .into_par_iter()
        .map(|s| merge_segment(&inputs, &bounds, s, is_set, max_line))
        .collect::<Result<_, Error>>()?;
    let Some(segments) = segments.into_iter().collect::<Option<Vec<Piece>>>() else {
        return Ok(Streamed::Fallback);
    };
    // Every file once, in name order.
    let mut files: Vec<(&[u8], &[u8])> = segments.iter().flat_map(Piece::files).collect();
    if !files.windows(2).all(|w| w[0].0 < w[1].0) {
        files.sort_unstable_by(|a, b| a.0.cmp(b.0));
        if files.windows(2).any(|w| w[0].0 == w[1].0) {
            return Ok(Streamed::Fallback);
        }
    }
    let lines: u64 = segments.iter().map(|s| s.lines).sum();
    // No block at all: the general path says what that means.
    if lines == 0 {
        return Ok(Streamed::Fallback);
    }
    let write_err = |e| Error::write("cannot write the merged profile", e);
    let mut head = b"mode: ".to_vec();
    head.extend_from_slice(&mode);
    head.push(b'\n');
    w.write_all(&head).map_err(write_err)?;
    // The pieces go out as they are, many per call.
    let mut slices: Vec<IoSlice<'_>> = files.iter().map(|(_, t)| IoSlice::new(t)).collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        let n = w
            .write_vectored(&rest[..rest.len().min(1024)])
            .map_err(write_err)?;
        if n == 0 {
            return Err(write_err(io::ErrorKind::WriteZero.into()));
        }
        IoSlice::advance_slices(&mut rest, n);
    }
    Ok(Streamed::Done(lines))
}

/// The mode of an input whose first line is `mode: M\n` (M non-empty
/// UTF-8 without a `\r`), and where its blocks start.
fn mode_line(file: &File, len: u64) -> io::Result<Option<(Vec<u8>, u64)>> {
    let mut buf = vec![0u8; 256.min(len as usize)];
    file.read_exact_at(&mut buf, 0)?;
    let Some(nl) = memchr::memchr(b'\n', &buf) else {
        return Ok(None);
    };
    let Some(m) = buf[..nl].strip_prefix(b"mode: ") else {
        return Ok(None);
    };
    if m.is_empty() || m.ends_with(b"\r") || std::str::from_utf8(m).is_err() {
        return Ok(None);
    }
    Ok(Some((m.to_vec(), nl as u64 + 1)))
}

/// Per input, where segments 1.. start: the first line of the same file
/// in every input.
type Bounds = Vec<Vec<u64>>;

/// Input `i`'s byte range for segment `s`.
fn range(inputs: &[Input], bounds: &Bounds, i: usize, s: usize) -> (u64, u64) {
    let lo = if s == 0 {
        inputs[i].start
    } else {
        bounds[i][s - 1]
    };
    let hi = bounds[i].get(s).copied().unwrap_or(inputs[i].len);
    (lo, hi)
}

/// Cuts the inputs into segments of about `segment` bytes of the first
/// one, at file boundaries. `None` when a boundary is not where the first
/// input has it.
fn segment_bounds(
    inputs: &[Input],
    max_line: usize,
    segment: u64,
) -> Result<Option<Bounds>, Error> {
    let x = &inputs[0];
    let body = x.len - x.start;
    let n = body.div_ceil(segment).max(1);
    let mut names: Vec<Vec<u8>> = Vec::new();
    let mut first: Vec<u64> = Vec::new();
    let mut probe = Probe::new(x, max_line);
    for j in 1..n {
        let off = x.start + body / n * j;
        if first.last().is_some_and(|&l| l >= off) {
            continue;
        }
        let Some(found) = probe.next_file(off).map_err(|e| Error::io(&x.name, e))? else {
            break;
        };
        let Ok((at, name)) = found else {
            return Ok(None);
        };
        names.push(name);
        first.push(at);
    }
    let mut bounds = Vec::with_capacity(inputs.len());
    bounds.push(first);
    for y in &inputs[1..] {
        let mut probe = Probe::new(y, max_line);
        let mut v: Vec<u64> = Vec::with_capacity(names.len());
        for (name, &at) in names.iter().zip(&bounds[0]) {
            // Inputs of one program have nearly the same layout: look
            // where the first input has the file.
            let rel = (at - x.start) as f64 / body.max(1) as f64;
            let guess = y.start + ((y.len - y.start) as f64 * rel) as u64;
            let Some(off) = probe
                .find_file(name, guess)
                .map_err(|e| Error::io(&y.name, e))?
            else {
                return Ok(None);
            };
            if v.last().is_some_and(|&p| p >= off) {
                return Ok(None);
            }
            v.push(off);
        }
        bounds.push(v);
    }
    Ok(Some(bounds))
}

/// A line found by a [`Probe`]: where it starts and its file name, or
/// `Err` for a line the fast grammar does not take.
type Found = Result<(u64, Vec<u8>), ()>;

/// Small positioned reads of one input, to find file boundaries.
struct Probe<'a> {
    x: &'a Input,
    max_line: usize,
    buf: Vec<u8>,
}

impl<'a> Probe<'a> {
    fn new(x: &'a Input, max_line: usize) -> Probe<'a> {
        Probe {
            x,
            max_line,
            buf: Vec::new(),
        }
    }

    /// Reads up to `len` bytes at `off` into the buffer.
    fn read(&mut self, off: u64, len: usize) -> io::Result<&[u8]> {
        let len = len.min((self.x.len.saturating_sub(off)) as usize);
        self.buf.resize(len, 0);
        self.x.file.read_exact_at(&mut self.buf, off)?;
        Ok(&self.buf)
    }

    /// The first line starting at or after `off` (at or after the first
    /// block line); `None` at the end of the input.
    fn line_after(&mut self, off: u64) -> io::Result<Option<Found>> {
        let off = off.max(self.x.start);
        // The byte before a line start is a newline (the mode line's, for
        // the first one).
        let mut at = off - 1;
        loop {
            if at >= self.x.len {
                return Ok(None);
            }
            let chunk = self.read(at, PROBE)?;
            match memchr::memchr(b'\n', chunk) {
                Some(i) => {
                    let start = at + i as u64 + 1;
                    if start >= self.x.len {
                        return Ok(None);
                    }
                    return self.line_at(start).map(Some);
                }
                None => {
                    at += chunk.len() as u64;
                    if at - off > self.max_line as u64 {
                        return Ok(Some(Err(())));
                    }
                }
            }
        }
    }

    /// The line starting at `start` (a line start before the end).
    fn line_at(&mut self, start: u64) -> io::Result<Found> {
        let mut want = PROBE;
        loop {
            let max_line = self.max_line;
            let len = self.x.len;
            let chunk = self.read(start, want)?;
            let end = match memchr::memchr(b'\n', chunk) {
                Some(i) => i,
                None if start + chunk.len() as u64 == len => chunk.len(),
                None if chunk.len() > max_line => return Ok(Err(())),
                None => {
                    want *= 2;
                    continue;
                }
            };
            if end > max_line {
                return Ok(Err(()));
            }
            return Ok(match line_name(&chunk[..end]) {
                Some(name) => Ok((start, name.to_vec())),
                None => Err(()),
            });
        }
    }

    /// Calls `stop` with the file name of each line from `start` (a line
    /// start) up to `end` (a line start or the end of the input); returns
    /// where the first line it stopped at starts, or `None`.
    fn scan(
        &mut self,
        mut start: u64,
        end: u64,
        mut stop: impl FnMut(&[u8]) -> bool,
    ) -> io::Result<Option<Found1>> {
        let mut want = 4 * PROBE;
        while start < end {
            let (max_line, x_len) = (self.max_line, self.x.len);
            let chunk = self.read(start, want.min((end - start) as usize))?;
            let at_end = start + chunk.len() as u64 == x_len;
            let mut pos = 0;
            while pos < chunk.len() {
                let len = match memchr::memchr(b'\n', &chunk[pos..]) {
                    Some(i) => i,
                    None if at_end => chunk.len() - pos,
                    None => break,
                };
                if len > max_line {
                    return Ok(Some(Err(())));
                }
                let Some(name) = line_name(&chunk[pos..pos + len]) else {
                    return Ok(Some(Err(())));
                };
                if stop(name) {
                    return Ok(Some(Ok(start + pos as u64)));
                }
                pos += len + 1;
            }
            if pos == 0 {
                // One line longer than the read.
                if want > max_line {
                    return Ok(Some(Err(())));
                }
                want *= 2;
            }
            start += pos as u64;
        }
        Ok(None)
    }

    /// The start of the first file that begins after `off`: the first line
    /// after `off` naming another file than the line before it.
    fn next_file(&mut self, off: u64) -> io::Result<Option<Found>> {
        let Some(first) = self.line_after(off)? else {
            return Ok(None);
        };
        let Ok((at, name)) = first else {
            return Ok(Some(Err(())));
        };
        let mut next = Vec::new();
        let found = self.scan(at, self.x.len, |n| {
            if n != name.as_slice() {
                next = n.to_vec();
                return true;
            }
            false
        })?;
        Ok(found.map(|r| r.map(|s| (s, next))))
    }

    /// Where the lines of file `name` start, looked for around `guess`:
    /// the first line naming it after one naming another file (or at the
    /// start). `None` if there is none nearby.
    fn find_file(&mut self, name: &[u8], guess: u64) -> io::Result<Option<u64>> {
        let mut reach = 2 * PROBE as u64;
        while reach <= SEARCH {
            let lo = guess.saturating_sub(reach).max(self.x.start);
            let hi = (guess + reach).min(self.x.len);
            // The first line at or after `lo`, then every line to `hi`.
            let Some(first) = self.line_after(lo)? else {
                reach *= 2;
                continue;
            };
            let Ok((s, n)) = first else {
                return Ok(None);
            };
            if n.as_slice() == name && s == self.x.start {
                return Ok(Some(s));
            }
            let mut prev_same = n.as_slice() == name;
            let mut at = None;
            let found = self.scan(s, hi, |n| {
                let same = n == name;
                let start = same && !prev_same;
                prev_same = same;
                start
            })?;
            match found {
                Some(Err(())) => return Ok(None),
                Some(Ok(p)) => at = Some(p),
                None => {}
            }
            if at.is_some() {
                return Ok(at);
            }
            if lo == self.x.start && hi == self.x.len {
                return Ok(None);
            }
            reach *= 2;
        }
        Ok(None)
    }
}

/// Where a scan stopped, or `Err` for a line the fast grammar does not
/// take.
type Found1 = Result<u64, ()>;

/// One segment merged: the output text of its files, one piece each.
struct Piece {
    text: Vec<u8>,
    /// File names, one after the other.
    names: Vec<u8>,
    /// Per file: end of its name in `names`, end of its text in `text`.
    ends: Vec<(usize, usize)>,
    lines: u64,
}

impl Piece {
    /// (name, text) of each file.
    fn files(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let mut prev = (0, 0);
        self.ends.iter().map(move |&(n, t)| {
            let f = (&self.names[prev.0..n], &self.text[prev.1..t]);
            prev = (n, t);
            f
        })
    }
}

/// Merges segment `s`; `None` sends the caller to the general path.
fn merge_segment(
    inputs: &[Input],
    bounds: &Bounds,
    s: usize,
    is_set: bool,
    max_line: usize,
) -> Result<Option<Piece>, Error> {
    let ranges: Vec<(u64, u64)> = (0..inputs.len())
        .map(|i| range(inputs, bounds, i, s))
        .collect();
    // A segment much larger than planned (one huge file, or inputs of
    // very different sizes): the general path, whose memory is bounded.
    let mapped: u64 = ranges.iter().map(|&(lo, hi)| hi.saturating_sub(lo)).sum();
    if mapped > MAX_MAPPED {
        return Ok(None);
    }
    let mut maps = Vec::with_capacity(inputs.len());
    for (x, &(lo, hi)) in inputs.iter().zip(&ranges) {
        if hi <= lo {
            maps.push(None);
            continue;
        }
        let page = lo & !(crate::mmap::PAGE - 1);
        let map = crate::mmap::map_window(&x.file, page, (hi - page) as usize)
            .map_err(|e| Error::io(&x.name, e))?;
        maps.push(Some((map, (lo - page) as usize)));
    }
    let data: Vec<&[u8]> = maps
        .iter()
        .map(|m| m.as_ref().map_or(&[][..], |(map, skip)| &map[*skip..]))
        .collect();
    let mut piece = Piece {
        text: Vec::with_capacity(data[0].len() + data[0].len() / 8),
        names: Vec::new(),
        ends: Vec::new(),
        lines: 0,
    };
    Ok(walk(&data, is_set, max_line, &mut piece).map(|()| piece))
}

/// The lock-step walk over one segment's data (see the module docs).
/// `None` sends the caller to the general path.
fn walk(data: &[&[u8]], is_set: bool, max_line: usize, out: &mut Piece) -> Option<()> {
    let (d, others) = data.split_first().expect("at least one input");
    let mut pos: Vec<usize> = vec![0; others.len()];
    let mut num = itoa::Buffer::new();
    let mut p = 0;
    let mut last: &[u8] = &[];
    while p < d.len() {
        // A file starts: its name, as Go finds it.
        let end = memchr::memchr(b'\n', &d[p..]).unwrap_or(d.len() - p);
        if end > max_line {
            return None;
        }
        let name = line_name(&d[p..p + end])?;
        let n = name.len();
        // Longer lines go the general way, which checks the limit.
        if name == last || n + 1 + 64 > max_line || std::str::from_utf8(name).is_err() {
            return None;
        }
        let mut prev: Option<u128> = None;
        while d.len() > p + n && d[p + n] == b':' && same_bytes(&d[p..p + n], name) {
            let Some((key, pre, count, used)) = canon_tail(&d[p + n + 1..]) else {
                break;
            };
            if prev.is_some_and(|k| k >= key) {
                return None;
            }
            prev = Some(key);
            let head = &d[p..p + n + 1 + pre];
            let mut sum = count;
            for (e, q) in others.iter().zip(pos.iter_mut()) {
                let rest = e.get(*q..*q + head.len())?;
                if !same_bytes(rest, head) {
                    return None;
                }
                let (v, u) = count_tail(&e[*q + head.len()..])?;
                sum = if is_set {
                    sum | v
                } else {
                    crate::add_counts(sum, v)
                };
                *q += head.len() + u;
            }
            out.text.extend_from_slice(head);
            out.text.extend_from_slice(num.format(sum).as_bytes());
            out.text.push(b'\n');
            out.lines += 1;
            p += n + 1 + used;
        }
        // Its first line is not in the fast form.
        prev?;
        out.names.extend_from_slice(name);
        out.ends.push((out.names.len(), out.text.len()));
        last = name;
    }
    // The other inputs have nothing more.
    others
        .iter()
        .zip(&pos)
        .all(|(e, &q)| q == e.len())
        .then_some(())
}

/// The file name of a block line, found as Go finds it: six runs of
/// digits from the right, separated by ` `, ` `, `.`, `,`, `.` and `:`.
/// The numbers themselves are checked by the walk.
#[inline]
fn line_name(line: &[u8]) -> Option<&[u8]> {
    let mut i = line.len();
    for sep in [b' ', b' ', b'.', b',', b'.', b':'] {
        let end = i;
        while i > 0 && line[i - 1].is_ascii_digit() {
            i -= 1;
        }
        if i == end || i == 0 || line[i - 1] != sep {
            return None;
        }
        i -= 1;
    }
    (i > 0).then(|| &line[..i])
}

/// `sl.sc,el.ec n c` and the line end (`\n` or the end of the data), the
/// first five numbers as Go writes them (no sign, no leading zero, at most
/// 9 digits), the count plain digits (see [`count_tail`]). Returns the position
/// key, the length up to the count, the count and the bytes used.
#[inline(always)]
fn canon_tail(t: &[u8]) -> Option<(u128, usize, u64, usize)> {
    let mut i = 0;
    let sl = canon_num(t, &mut i)?;
    sep(t, &mut i, b'.')?;
    let sc = canon_num(t, &mut i)?;
    sep(t, &mut i, b',')?;
    let el = canon_num(t, &mut i)?;
    sep(t, &mut i, b'.')?;
    let ec = canon_num(t, &mut i)?;
    sep(t, &mut i, b' ')?;
    canon_num(t, &mut i)?;
    sep(t, &mut i, b' ')?;
    let pre = i;
    let (count, used) = count_tail(&t[i..])?;
    let key =
        (u128::from(sl) << 96) | (u128::from(sc) << 64) | (u128::from(el) << 32) | u128::from(ec);
    Some((key, pre, count, pre + used))
}

#[inline(always)]
fn sep(t: &[u8], i: &mut usize, c: u8) -> Option<()> {
    (t.get(*i) == Some(&c)).then(|| *i += 1)
}

/// A number as Go writes it: `0`, or 1 to 9 digits without a leading zero.
#[inline(always)]
fn canon_num(t: &[u8], i: &mut usize) -> Option<u32> {
    let s = *i;
    let d0 = t.get(s)?.wrapping_sub(b'0');
    if d0 > 9 {
        return None;
    }
    let mut v = u32::from(d0);
    let mut j = s + 1;
    while let Some(&c) = t.get(j) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if d0 == 0 || j - s == 9 {
            return None;
        }
        v = v * 10 + u32::from(d);
        j += 1;
    }
    *i = j;
    Some(v)
}

/// A count (1 to 19 digits, at most [`MAX_COUNT`]) and the line end; the count and the bytes
/// used.
#[inline(always)]
fn count_tail(t: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    let mut j = 0;
    while let Some(&c) = t.get(j) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if j == 19 {
            return None;
        }
        v = v * 10 + u64::from(d);
        j += 1;
    }
    match t.get(j) {
        _ if j == 0 || v > MAX_COUNT => None,
        Some(b'\n') => Some((v, j + 1)),
        None => Some((v, j)),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Loader;
    use crate::ops::OnConflict;
    use crate::text::MAX_LINE;

    #[test]
    fn numbers_as_go_writes_them() {
        let t = |s: &str| canon_tail(s.as_bytes()).map(|(_, pre, c, u)| (pre, c, u));
        assert_eq!(t("1.2,3.4 5 6\n"), Some((10, 6, 12)));
        assert_eq!(t("1.2,3.4 5 0006"), Some((10, 6, 14)));
        assert_eq!(t("10.0,3.4 0 6\nx"), Some((11, 6, 13)));
        for bad in [
            "01.2,3.4 5 6\n",
            "1.2,3.4 5 6\r\n",
            "1.2,3.4 5 6 \n",
            "1.2,3.4 5 \n",
            "+1.2,3.4 5 6\n",
            "1234567890.2,3.4 5 6\n",
            "1.2,3.4 5 9223372036854775808\n",
            "1.2,3.4 5 12345678901234567890\n",
            "1.2,3.4 5 6x",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }

    /// A small deterministic generator (xorshift), so failures repeat.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// File names in byte order, with the awkward ones Go allows: a name
    /// that is another's prefix followed by `:`, spaces, colons.
    fn names(rng: &mut Rng, n: usize) -> Vec<String> {
        let mut v: Vec<String> = (0..n)
            .map(|i| match rng.below(10) {
                0 => format!("k8s.io/p{}/f {i}.go", rng.below(5)),
                1 => format!("C:\\w/p{}/x:{i}.go", rng.below(5)),
                _ => format!("k8s.io/kubernetes/pkg/p{}/file{i:05}.go", rng.below(50)),
            })
            .collect();
        v.push("a.go".into());
        v.push("a.go:x.go".into());
        v.sort();
        v.dedup();
        v
    }

    /// Lines of one input: every file of `names` whose bit in `keep` is
    /// set, blocks as Go writes them, random counts.
    fn lines(rng: &mut Rng, names: &[String], layout_seed: u64, keep: u64) -> Vec<String> {
        let mut out = Vec::new();
        for (k, name) in names.iter().enumerate() {
            if (keep >> (k % 64)) & 1 == 0 {
                continue;
            }
            let mut lay = Rng(layout_seed ^ (k as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut line = 1 + lay.below(20);
            for _ in 0..1 + lay.below(40) {
                let (sc, el) = (1 + lay.below(80), line + lay.below(3));
                let count = match rng.below(4) {
                    0 => 0,
                    1 => rng.below(10),
                    2 => rng.below(1 << 20),
                    _ => rng.next() >> 4,
                };
                out.push(format!(
                    "{name}:{line}.{sc},{el}.{} {} {count}",
                    1 + lay.below(90),
                    lay.below(12)
                ));
                line = el + 1 + lay.below(3);
            }
        }
        out
    }

    fn write(dir: &Path, i: usize, mode: &str, lines: &[String], end: &str) -> String {
        let p = dir.join(format!("in{i}.out"));
        let mut s = format!("mode: {mode}\n");
        s.push_str(&lines.join("\n"));
        s.push_str(end);
        std::fs::write(&p, s).unwrap();
        p.to_string_lossy().into_owned()
    }

    /// What the general path writes, or its error.
    fn general(paths: &[String]) -> Result<Vec<u8>, String> {
        let (p, _) = Loader::default()
            .merge(paths, OnConflict::Error)
            .map_err(|e| e.to_string())?;
        let mut v = Vec::new();
        crate::write_profile(&mut v, &p).unwrap();
        Ok(v)
    }

    fn streamed(paths: &[String], segment: u64) -> Option<Vec<u8>> {
        let ps: Vec<&Path> = paths.iter().map(Path::new).collect();
        let mut v = Vec::new();
        match stream_merge_with(&ps, MAX_LINE, segment, &mut v).unwrap() {
            Streamed::Done(_) => Some(v),
            Streamed::Fallback => {
                assert!(v.is_empty(), "written before falling back");
                None
            }
        }
    }

    /// Canonical inputs of one layout stream, to the general path's bytes,
    /// whatever the segment size; every other kind of input falls back
    /// (and the general path decides), never to a different output.
    #[test]
    fn same_bytes_as_the_general_path() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = Rng(0x5eed);
        for round in 0..40u64 {
            let n = 1 + rng.below(300) as usize;
            let names = names(&mut rng, n);
            let k = 1 + rng.below(5) as usize;
            let mode = ["count", "set", "atomic"][rng.below(3) as usize];
            let mut names = names;
            // Files in one order for all inputs: sorted, or shuffled.
            if rng.below(2) == 0 {
                for i in (1..names.len()).rev() {
                    names.swap(i, rng.below(i as u64 + 1) as usize);
                }
            }
            let change = rng.below(15);
            let victim = rng.below(k as u64) as usize;
            let mut inputs: Vec<Vec<String>> = (0..k)
                .map(|i| {
                    let keep = if change == 14 && i == victim {
                        rng.next()
                    } else {
                        u64::MAX
                    };
                    lines(&mut rng, &names, round, keep)
                })
                .collect();
            if mode == "set" {
                for l in inputs.iter_mut().flatten() {
                    let (head, c) = l.rsplit_once(' ').unwrap();
                    *l = format!("{head} {}", c.parse::<u64>().unwrap() % 2);
                }
            }
            // 0: canonical; the rest each break one rule somewhere.
            let v = &mut inputs[victim];
            let at = if v.len() > 1 {
                rng.below(v.len() as u64 - 1) as usize
            } else {
                0
            };
            let mut modes = vec![mode; k];
            let mut end = "\n";
            if !v.is_empty() {
                match change {
                    1 => v.swap(at, at + 1),
                    2 => v.insert(at, v[at].clone()),
                    3 => v[at] = v[at].replacen(':', ":0", 1),
                    4 => v[at].push('\r'),
                    5 => v.insert(at, String::new()),
                    6 => {
                        let (head, c) = v[at].rsplit_once(' ').unwrap();
                        v[at] = format!("{head}9 {c}");
                    }
                    7 => modes[victim] = if mode == "set" { "count" } else { "set" },
                    8 => end = "",
                    9 => {
                        let l = v.remove(at);
                        v.push(l);
                    }
                    10 => v.truncate(at),
                    11 => v.insert(at, format!("mode: {mode}")),
                    12 => v[at] = v[at].replacen(' ', " +", 1),
                    13 => drop(v.remove(at)),
                    _ => {}
                }
            }
            let paths: Vec<String> = inputs
                .iter()
                .enumerate()
                .map(|(i, l)| write(dir.path(), i, modes[i], l, end))
                .collect();
            let want = general(&paths);
            for segment in [1 << 9, 1 << 12, 1 << 20] {
                let got = streamed(&paths, segment);
                if let Some(got) = &got {
                    assert_eq!(
                        Ok(String::from_utf8_lossy(got).into_owned()),
                        want.as_ref()
                            .map(|w| String::from_utf8_lossy(w).into_owned()),
                        "round {round} change {change} segment {segment}"
                    );
                }
                // As Go writes them, the inputs must stream.
                if matches!(change, 0 | 8) {
                    assert!(got.is_some(), "round {round} change {change} fell back");
                }
            }
        }
    }

    /// Files in any order stream, as long as every input has the same
    /// ones in the same order; nothing is written before the end.
    #[test]
    fn files_in_any_order_nothing_written_on_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let put = |i, text: &str| {
            let p = dir.path().join(format!("{i}.out"));
            std::fs::write(&p, text).unwrap();
            p
        };
        let a = put(
            0,
            "mode: count\nc.go:1.1,1.2 1 1\na.go:1.1,1.2 1 1\nb.go:1.1,1.2 1 1\n",
        );
        let b = put(
            1,
            "mode: count\nc.go:1.1,1.2 1 2\na.go:1.1,1.2 1 0\nb.go:1.1,1.2 1 5\n",
        );
        let c = put(
            2,
            "mode: count\nc.go:1.1,1.2 1 2\nb.go:1.1,1.2 1 5\na.go:1.1,1.2 1 0\n",
        );
        let mut out = Vec::new();
        let r = stream_merge_with(&[&a, &b], MAX_LINE, 16, &mut out).unwrap();
        assert_eq!(r, Streamed::Done(3));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "mode: count\na.go:1.1,1.2 1 1\nb.go:1.1,1.2 1 6\nc.go:1.1,1.2 1 3\n"
        );
        let mut out = Vec::new();
        let r = stream_merge_with(&[&a, &c], MAX_LINE, 16, &mut out).unwrap();
        assert_eq!((r, out.len()), (Streamed::Fallback, 0));
    }
}

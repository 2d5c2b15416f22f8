//! The text profile parser.
//!
//! It accepts exactly what `golang.org/x/tools/cover.ParseProfiles` accepts
//! (fields read right to left, CRLF, duplicates combined per mode, the
//! NumStmt check, output sorted by file then position), plus what real
//! pipelines produce: blank lines and repeated `mode:` lines from
//! `cat a.out b.out`.
//!
//! The hot loop works on whole lines in a byte slice: a `memchr` for the line
//! end, integers read backwards from the end of the line, and one comparison
//! of the file name with the previous line's. Anything unusual (signs,
//! leading zeros, huge numbers, malformed lines) falls back to a slow path
//! that reproduces Go's field-by-field rules and produces the error.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use rayon::prelude::*;

use crate::error::{Error, ParseError, ParseErrorKind};
use crate::profile::{Block, FileProfile, MAX_COUNT, Mode, Profile};

/// How to treat inputs whose modes differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ModePolicy {
    /// Different modes are an error.
    #[default]
    Strict,
    /// Take the higher mode (set < count < atomic), as `go tool covdata` does.
    Upgrade,
}

/// Options for reading profiles.
#[derive(Clone, Debug)]
pub struct ParseOptions {
    /// What to do when a second `mode:` line names another mode.
    pub mode_policy: ModePolicy,
    /// Parse large inputs in parallel (rayon's pool); `false` is sequential.
    pub parallel: bool,
    /// Memory-map regular files (the default) instead of reading them.
    pub mmap: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            mode_policy: ModePolicy::Strict,
            parallel: true,
            mmap: true,
        }
    }
}

/// Inputs below this size are parsed on one thread.
const PARALLEL_MIN: usize = 1 << 20;
/// Mapped files are parsed in windows of this size, and each window's pages
/// are released afterwards, so a large input never sits whole in memory.
const WINDOW: usize = 32 << 20;
/// Streams are read in pieces of this size.
const STREAM_BUF: usize = 4 << 20;

/// Parses a whole text profile held in memory.
pub fn parse_bytes(data: &[u8], name: &str, opts: &ParseOptions) -> Result<Profile, Error> {
    let mut p = TextParser::new(name, opts.clone());
    p.feed(data)?;
    Ok(p.finish()?)
}

/// Parses a text profile from a stream (a pipe, stdin, a socket).
pub fn parse_reader<R: Read>(mut r: R, name: &str, opts: &ParseOptions) -> Result<Profile, Error> {
    let mut p = TextParser::new(name, opts.clone());
    let mut buf: Vec<u8> = Vec::with_capacity(STREAM_BUF);
    let mut filled = 0usize;
    loop {
        if buf.len() < filled + STREAM_BUF / 2 {
            buf.resize(filled + STREAM_BUF, 0);
        }
        let n = match r.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(name, e)),
        };
        if n == 0 {
            p.feed(&buf[..filled])?;
            break;
        }
        filled += n;
        // Feed every complete line; keep the partial last one.
        if let Some(nl) = memchr::memrchr(b'\n', &buf[filled - n..filled]) {
            let cut = filled - n + nl + 1;
            p.feed(&buf[..cut])?;
            buf.copy_within(cut..filled, 0);
            filled -= cut;
        }
    }
    Ok(p.finish()?)
}

/// Parses the text profile at `path`; `-` reads standard input.
///
/// Regular files are memory-mapped (unless `opts.mmap` is off); anything
/// else is read as a stream. Files that another process may still be
/// rewriting must not be passed here with `mmap` on: truncation under a map
/// kills the process with SIGBUS.
pub fn parse_path(path: &Path, opts: &ParseOptions) -> Result<Profile, Error> {
    let name = path.to_string_lossy();
    if path.as_os_str() == "-" {
        return parse_reader(io::stdin().lock(), "-", opts);
    }
    let file = File::open(path).map_err(|e| Error::io(name.as_ref(), e))?;
    let meta = file.metadata().map_err(|e| Error::io(name.as_ref(), e))?;
    if !meta.is_file() {
        return parse_reader(file, &name, opts);
    }
    if !opts.mmap || meta.len() < PARALLEL_MIN as u64 {
        let mut data = Vec::with_capacity(meta.len() as usize + 1);
        (&file)
            .read_to_end(&mut data)
            .map_err(|e| Error::io(name.as_ref(), e))?;
        return parse_bytes(&data, &name, opts);
    }
    let map = match crate::mmap::map(&file) {
        Ok(m) => m,
        // Some filesystems cannot map; reading is always possible.
        Err(_) => return parse_reader(file, &name, opts),
    };
    let mut p = TextParser::new(&name, opts.clone());
    let data: &[u8] = &map;
    let mut start = 0;
    while start < data.len() {
        let mut end = (start + WINDOW).min(data.len());
        if end < data.len() {
            end = match memchr::memchr(b'\n', &data[end..]) {
                Some(i) => end + i + 1,
                None => data.len(),
            };
        }
        p.feed(&data[start..end])?;
        crate::mmap::release(&map, start, end - start);
        start = end;
    }
    drop(map);
    Ok(p.finish()?)
}

/// An incremental parser: feed it whole lines, then call
/// [`finish`](TextParser::finish).
pub struct TextParser {
    path: String,
    opts: ParseOptions,
    mode: Option<Mode>,
    mode_line: u64,
    /// Lines consumed so far.
    line: u64,
    files: Vec<FileState>,
    index: HashMap<String, usize>,
    last: Option<usize>,
}

struct FileState {
    prof: FileProfile,
    /// Blocks may be out of order or repeated; sort and combine at the end.
    dirty: bool,
}

/// Blocks of consecutive lines naming the same file.
struct Run {
    name: String,
    first_line: u64,
    blocks: Vec<Block>,
    /// Keys strictly increasing within the run.
    sorted: bool,
}

struct ChunkOut {
    runs: Vec<Run>,
    modes: Vec<(u64, String)>,
}

struct LineError {
    line: u64,
    column: u64,
    kind: ParseErrorKind,
}

impl TextParser {
    /// A parser for the input called `path` (used in error messages).
    pub fn new(path: &str, opts: ParseOptions) -> TextParser {
        TextParser {
            path: path.to_string(),
            opts,
            mode: None,
            mode_line: 0,
            line: 0,
            files: Vec::new(),
            index: HashMap::new(),
            last: None,
        }
    }

    fn error(&self, line: u64, column: u64, kind: ParseErrorKind) -> ParseError {
        ParseError {
            path: self.path.clone(),
            line,
            column,
            kind,
        }
    }

    /// Parses `data`, which must end at a line boundary (or at the end of
    /// the input).
    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), ParseError> {
        // The first non-blank line must be the mode line.
        while self.mode.is_none() && !data.is_empty() {
            let (line, rest) = split_line(data);
            data = rest;
            self.line += 1;
            if line.is_empty() {
                continue;
            }
            match line.strip_prefix(b"mode: ") {
                Some(m) if !m.is_empty() => {
                    self.mode = Some(Mode::from_name(&String::from_utf8_lossy(m)));
                    self.mode_line = self.line;
                }
                _ => {
                    let text = String::from_utf8_lossy(line).into_owned();
                    return Err(self.error(self.line, 1, ParseErrorKind::BadModeLine(text)));
                }
            }
        }
        if data.is_empty() {
            return Ok(());
        }
        let chunks = split_chunks(data, self.opts.parallel);
        let base = self.line;
        let results: Vec<(u64, Result<ChunkOut, LineError>)> = if chunks.len() == 1 {
            let (lines, out) = parse_chunk(chunks[0], base);
            vec![(lines, out)]
        } else {
            // Line numbers of each chunk come from a newline count first, so
            // errors and diagnostics carry absolute lines.
            let counts: Vec<u64> = chunks.par_iter().map(|c| count_lines(c)).collect();
            let mut bases = Vec::with_capacity(chunks.len());
            let mut acc = base;
            for c in &counts {
                bases.push(acc);
                acc += c;
            }
            chunks
                .par_iter()
                .zip(bases.par_iter())
                .map(|(c, &b)| parse_chunk(c, b))
                .collect()
        };
        for (lines, res) in results {
            let out = match res {
                Ok(out) => out,
                Err(e) => return Err(self.error(e.line, e.column, e.kind)),
            };
            for (line, m) in out.modes {
                self.mode_line_again(line, &m)?;
            }
            for run in out.runs {
                self.attach(run)?;
            }
            self.line += lines;
        }
        Ok(())
    }

    fn mode_line_again(&mut self, line: u64, name: &str) -> Result<(), ParseError> {
        let now = Mode::from_name(name);
        let first = self.mode.clone().expect("mode line seen before blocks");
        if now == first {
            return Ok(());
        }
        match (self.opts.mode_policy, first.rank(), now.rank()) {
            (ModePolicy::Upgrade, Some(a), Some(b)) => {
                if b > a {
                    self.mode = Some(now);
                }
                Ok(())
            }
            _ => Err(self.error(
                line,
                7,
                ParseErrorKind::ModeClash {
                    first: first.to_string(),
                    now: now.to_string(),
                },
            )),
        }
    }

    fn attach(&mut self, run: Run) -> Result<(), ParseError> {
        let idx = match self.last {
            Some(i) if self.files[i].prof.name == run.name => Some(i),
            _ => self.index.get(&run.name).copied(),
        };
        match idx {
            Some(i) => {
                let f = &mut self.files[i];
                let in_order = match (f.prof.blocks.last(), run.blocks.first()) {
                    (Some(a), Some(b)) => a.key() < b.key(),
                    _ => true,
                };
                if !run.sorted || !in_order {
                    f.dirty = true;
                }
                f.prof.blocks.extend_from_slice(&run.blocks);
                self.last = Some(i);
            }
            None => {
                let _ = run.first_line;
                let i = self.files.len();
                self.index.insert(run.name.clone(), i);
                self.files.push(FileState {
                    dirty: !run.sorted,
                    prof: FileProfile {
                        name: run.name,
                        blocks: run.blocks,
                    },
                });
                self.last = Some(i);
            }
        }
        Ok(())
    }

    /// Sorts and combines what was fed into a [`Profile`].
    pub fn finish(self) -> Result<Profile, ParseError> {
        let is_set = self.mode.as_ref().is_some_and(Mode::is_set);
        let path = self.path;
        let mut files = Vec::with_capacity(self.files.len());
        for mut f in self.files {
            if f.dirty {
                normalize_blocks(&mut f.prof.blocks, is_set).map_err(|(line, kind)| {
                    ParseError {
                        path: path.clone(),
                        line: u64::from(line),
                        column: 1,
                        kind,
                    }
                })?;
            }
            files.push(f.prof);
        }
        let mut p = Profile {
            mode: self.mode,
            files,
        };
        p.sort_files();
        Ok(p)
    }
}

/// Sorts blocks by position (stably) and combines blocks with the same
/// range. Returns the line and error of an inconsistent statement count.
pub(crate) fn normalize_blocks(
    blocks: &mut Vec<Block>,
    is_set: bool,
) -> Result<(), (u32, ParseErrorKind)> {
    blocks.sort_by_key(Block::key);
    let mut w = 0usize;
    for r in 0..blocks.len() {
        if w > 0 && blocks[w - 1].key() == blocks[r].key() {
            let b = blocks[r];
            let prev = &mut blocks[w - 1];
            if prev.num_stmt != b.num_stmt {
                return Err((
                    b.src_line,
                    ParseErrorKind::InconsistentNumStmt {
                        first: prev.num_stmt,
                        first_line: prev.src_line,
                        now: b.num_stmt,
                    },
                ));
            }
            prev.count = if is_set {
                prev.count | b.count
            } else {
                crate::add_counts(prev.count, b.count)
            };
        } else {
            blocks[w] = blocks[r];
            w += 1;
        }
    }
    blocks.truncate(w);
    Ok(())
}

#[inline]
fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    let (mut line, rest) = match memchr::memchr(b'\n', data) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[data.len()..]),
    };
    if let [head @ .., b'\r'] = line {
        line = head;
    }
    (line, rest)
}

fn count_lines(data: &[u8]) -> u64 {
    let n = memchr::memchr_iter(b'\n', data).count() as u64;
    if data.last().is_some_and(|&b| b != b'\n') {
        n + 1
    } else {
        n
    }
}

fn split_chunks(data: &[u8], parallel: bool) -> Vec<&[u8]> {
    let threads = rayon::current_num_threads();
    if !parallel || threads <= 1 || data.len() < PARALLEL_MIN {
        return vec![data];
    }
    // A few chunks per thread evens out the work.
    let n = (threads * 2).min(data.len() / (PARALLEL_MIN / 2)).max(1);
    let target = data.len() / n;
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    while start < data.len() {
        let mut end = (start + target).min(data.len());
        if end < data.len() {
            end = match memchr::memchr(b'\n', &data[end..]) {
                Some(i) => end + i + 1,
                None => data.len(),
            };
        }
        out.push(&data[start..end]);
        start = end;
    }
    out
}

/// Parses whole lines; `base` is the number of lines before this chunk.
/// Returns the number of lines consumed.
fn parse_chunk(data: &[u8], base: u64) -> (u64, Result<ChunkOut, LineError>) {
    let mut out = ChunkOut {
        runs: Vec::new(),
        modes: Vec::new(),
    };
    let mut line_no = base;
    let mut rest = data;
    let mut cur: Option<Run> = None;
    while !rest.is_empty() {
        let (line, r) = split_line(rest);
        rest = r;
        line_no += 1;
        if line.is_empty() {
            continue;
        }
        let (name, mut block) = match fast_line(line) {
            Some(x) => x,
            None => match slow_line(line) {
                Ok(x) => x,
                Err((column, kind)) => {
                    if let Some(m) = line.strip_prefix(b"mode: ") {
                        if !m.is_empty() {
                            out.modes
                                .push((line_no, String::from_utf8_lossy(m).into_owned()));
                            continue;
                        }
                    }
                    return (
                        line_no - base,
                        Err(LineError {
                            line: line_no,
                            column,
                            kind,
                        }),
                    );
                }
            },
        };
        block.src_line = u32::try_from(line_no).unwrap_or(u32::MAX);
        match &mut cur {
            Some(run) if run.name.as_bytes() == name => {
                if let Some(last) = run.blocks.last() {
                    if last.key() >= block.key() {
                        run.sorted = false;
                    }
                }
                run.blocks.push(block);
            }
            _ => {
                let name = match std::str::from_utf8(name) {
                    Ok(s) => s.to_string(),
                    Err(_) => {
                        let kind = ParseErrorKind::NonUtf8FileName;
                        return (
                            line_no - base,
                            Err(LineError {
                                line: line_no,
                                column: 1,
                                kind,
                            }),
                        );
                    }
                };
                if let Some(done) = cur.take() {
                    out.runs.push(done);
                }
                let mut blocks = Vec::with_capacity(64);
                blocks.push(block);
                cur = Some(Run {
                    name,
                    first_line: line_no,
                    blocks,
                    sorted: true,
                });
            }
        }
    }
    if let Some(done) = cur.take() {
        out.runs.push(done);
    }
    (line_no - base, Ok(out))
}

/// Reads up to `max_digits` decimal digits backwards from `*i`.
#[inline(always)]
fn rdigits(line: &[u8], i: &mut usize, max_digits: usize) -> Option<u64> {
    let end = *i;
    let mut v = 0u64;
    let mut mul = 1u64;
    while *i > 0 {
        let c = line[*i - 1].wrapping_sub(b'0');
        if c > 9 {
            break;
        }
        if end - *i == max_digits {
            return None;
        }
        v += u64::from(c) * mul;
        mul *= 10;
        *i -= 1;
    }
    if *i == end { None } else { Some(v) }
}

#[inline(always)]
fn expect(line: &[u8], i: &mut usize, sep: u8) -> Option<()> {
    if *i > 0 && line[*i - 1] == sep {
        *i -= 1;
        Some(())
    } else {
        None
    }
}

/// The common case: plain digits, values that fit. `None` sends the line to
/// [`slow_line`], which either accepts it or says what is wrong.
#[inline(always)]
fn fast_line(line: &[u8]) -> Option<(&[u8], Block)> {
    let mut i = line.len();
    let count = rdigits(line, &mut i, 18)?;
    expect(line, &mut i, b' ')?;
    let num_stmt = rdigits(line, &mut i, 9)? as u32;
    expect(line, &mut i, b' ')?;
    let end_col = rdigits(line, &mut i, 9)? as u32;
    expect(line, &mut i, b'.')?;
    let end_line = rdigits(line, &mut i, 9)? as u32;
    expect(line, &mut i, b',')?;
    let start_col = rdigits(line, &mut i, 9)? as u32;
    expect(line, &mut i, b'.')?;
    let start_line = rdigits(line, &mut i, 9)? as u32;
    expect(line, &mut i, b':')?;
    if i == 0 {
        return None;
    }
    let block = Block {
        start_line,
        start_col,
        end_line,
        end_col,
        num_stmt,
        src_line: 0,
        count,
    };
    Some((&line[..i], block))
}

/// Go's rules, field by field from the right (x/tools `parseLine`).
/// Errors carry the 1-based column of the offending field.
fn slow_line(line: &[u8]) -> Result<(&[u8], Block), (u64, ParseErrorKind)> {
    const FIELDS: [(u8, &str); 6] = [
        (b' ', "Count"),
        (b' ', "NumStmt"),
        (b'.', "EndCol"),
        (b',', "EndLine"),
        (b'.', "StartCol"),
        (b':', "StartLine"),
    ];
    let mut end = line.len();
    let mut vals = [0u64; 6];
    for (k, &(sep, field)) in FIELDS.iter().enumerate() {
        let Some(at) = memchr::memrchr(sep, &line[..end]) else {
            return Err((
                1,
                ParseErrorKind::MissingSeparator {
                    sep: sep as char,
                    field,
                },
            ));
        };
        let text = &line[at + 1..end];
        let column = at as u64 + 2;
        let max = if k == 0 {
            MAX_COUNT
        } else {
            u64::from(u32::MAX)
        };
        vals[k] = go_atoi(text, field, max).map_err(|kind| (column, kind))?;
        end = at;
    }
    if end == 0 {
        return Err((1, ParseErrorKind::BlankFileName));
    }
    let block = Block {
        count: vals[0],
        num_stmt: vals[1] as u32,
        end_col: vals[2] as u32,
        end_line: vals[3] as u32,
        start_col: vals[4] as u32,
        start_line: vals[5] as u32,
        src_line: 0,
    };
    Ok((&line[..end], block))
}

/// `strconv.Atoi` followed by the negative check, as x/tools does: an
/// optional sign, decimal digits, leading zeros allowed.
fn go_atoi(text: &[u8], field: &'static str, max: u64) -> Result<u64, ParseErrorKind> {
    let s = || String::from_utf8_lossy(text).into_owned();
    let (neg, digits) = match text {
        [b'-', d @ ..] => (true, d),
        [b'+', d @ ..] => (false, d),
        d => (false, d),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ParseErrorKind::BadNumber { field, text: s() });
    }
    let mut v: u64 = 0;
    let mut overflow = false;
    for &d in digits {
        match v
            .checked_mul(10)
            .and_then(|x| x.checked_add(u64::from(d - b'0')))
        {
            Some(x) => v = x,
            None => overflow = true,
        }
    }
    // Go reports the range error before the sign check for huge negatives.
    if overflow || v > MAX_COUNT + u64::from(neg) {
        return Err(ParseErrorKind::OutOfRange {
            field,
            text: s(),
            max,
        });
    }
    if neg && v != 0 {
        return Err(ParseErrorKind::Negative { field, text: s() });
    }
    if v > max {
        return Err(ParseErrorKind::OutOfRange {
            field,
            text: s(),
            max,
        });
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Profile, Error> {
        parse_bytes(s.as_bytes(), "t.out", &ParseOptions::default())
    }

    fn err(s: &str) -> String {
        parse(s).unwrap_err().to_string()
    }

    #[test]
    fn basic_and_sorted() {
        let p =
            parse("mode: count\nb.go:3.1,4.2 1 5\na.go:2.1,2.9 2 0\na.go:1.1,1.9 1 3\n").unwrap();
        assert_eq!(p.mode, Some(Mode::Count));
        assert_eq!(p.files.len(), 2);
        assert_eq!(p.files[0].name, "a.go");
        assert_eq!(p.files[0].blocks[0].start_line, 1);
        assert_eq!(p.files[0].blocks[1].count, 0);
        assert_eq!(p.files[1].blocks[0].count, 5);
    }

    #[test]
    fn names_with_colons_and_spaces() {
        let p = parse("mode: set\nC:\\a b\\x.go:1.2,3.4 5 1\nmy dir/a:b.go:1.1,1.2 1 0\n").unwrap();
        assert_eq!(p.files[0].name, "C:\\a b\\x.go");
        assert_eq!(p.files[1].name, "my dir/a:b.go");
    }

    #[test]
    fn crlf_blank_lines_and_repeated_mode() {
        let p =
            parse("mode: count\r\na.go:1.1,1.9 1 3\r\n\r\nmode: count\na.go:1.1,1.9 1 4").unwrap();
        assert_eq!(p.files[0].blocks.len(), 1);
        assert_eq!(p.files[0].blocks[0].count, 7);
    }

    #[test]
    fn set_mode_duplicates_or() {
        let p = parse("mode: set\na.go:1.1,1.9 1 1\na.go:1.1,1.9 1 2\n").unwrap();
        assert_eq!(p.files[0].blocks[0].count, 3);
    }

    #[test]
    fn signs_and_leading_zeros_like_go() {
        let p = parse("mode: count\na.go:+1.01,1.9 1 -0\n").unwrap();
        assert_eq!(p.files[0].blocks[0].start_col, 1);
        assert_eq!(p.files[0].blocks[0].count, 0);
    }

    #[test]
    fn errors_name_line_and_column() {
        assert_eq!(
            err("mode: set\na.go:1.1,1.9 1 -2\n"),
            "t.out:2:16: invalid Count \"-2\": expected a non-negative integer"
        );
        assert_eq!(
            err("a.go:1.1,1.9 1 2\n"),
            "t.out:1:1: expected a mode line such as \"mode: set\", found \"a.go:1.1,1.9 1 2\""
        );
        assert!(err("mode: set\na.go:1.1,1.9 1\n").starts_with("t.out:2:"));
        assert!(err("mode: set\na.go:1.1,1.9 1 x\n").contains("invalid Count \"x\""));
        assert!(err("mode: set\n:1.1,1.9 1 1\n").contains("expected a file name"));
        assert!(err("mode: set\na.go:1.1,1.9 1 99999999999999999999\n").contains("out of range"));
        assert!(err("mode: set\na.go:1.1,1.9 1 9223372036854775808\n").contains("out of range"));
        assert!(err("mode: set\nmode: count\n").contains("t.out:2:7: mode \"count\" clashes"));
        assert!(
            err("mode: set\na.go:1.1,1.9 1 1\nb.go:1.1,1 1\na.go:1.1,1.9 2 1\n")
                .starts_with("t.out:3:")
        );
        assert_eq!(
            err("mode: set\na.go:1.1,1.9 1 1\nb.go:1.1,1.2 1 1\na.go:1.1,1.9 2 1\n"),
            "t.out:4:1: inconsistent NumStmt: expected 1 as on line 2, found 2"
        );
    }

    #[test]
    fn max_count_accepted() {
        let p =
            parse("mode: count\na.go:1.1,1.9 1 9223372036854775807\na.go:1.1,1.9 1 5\n").unwrap();
        assert_eq!(p.files[0].blocks[0].count, MAX_COUNT);
    }

    #[test]
    fn empty_inputs() {
        assert_eq!(parse("").unwrap(), Profile::new(None));
        assert!(parse("mode: set\n").unwrap().files.is_empty());
        assert!(err("mode: \n").contains("expected a mode line"));
    }

    #[test]
    fn upgrade_policy() {
        let opts = ParseOptions {
            mode_policy: ModePolicy::Upgrade,
            ..Default::default()
        };
        let p = parse_bytes(b"mode: set\na.go:1.1,1.2 1 1\nmode: count\n", "x", &opts).unwrap();
        assert_eq!(p.mode, Some(Mode::Count));
    }

    #[test]
    fn parallel_equals_sequential() {
        let mut s = String::from("mode: count\n");
        for f in 0..3000 {
            for b in 0..20 {
                s.push_str(&format!(
                    "pkg/f{f}.go:{}.2,{}.3 {} {}\n",
                    b + 1,
                    b + 1,
                    b % 3,
                    (f * b) % 7
                ));
            }
        }
        // Also a file split across the input.
        s.push_str("pkg/f0.go:100.1,100.2 1 1\n");
        let seq = parse_bytes(
            s.as_bytes(),
            "x",
            &ParseOptions {
                parallel: false,
                ..Default::default()
            },
        )
        .unwrap();
        let par = parse_bytes(s.as_bytes(), "x", &ParseOptions::default()).unwrap();
        assert_eq!(seq, par);
        let streamed = parse_reader(s.as_bytes(), "x", &ParseOptions::default()).unwrap();
        assert_eq!(seq, streamed);
    }
}

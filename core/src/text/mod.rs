//! The text profile format (`go test -coverprofile`).
//!
//! The reader accepts exactly what `golang.org/x/tools/cover.ParseProfiles`
//! accepts (fields read right to left, CRLF, duplicates combined per mode,
//! the NumStmt check, output sorted by file then position), plus what real
//! pipelines produce: blank lines and repeated `mode:` lines from
//! `cat a.out b.out`.
//!
//! - `source`: where the bytes come from (memory-mapped windows of a file,
//!   streams, stdin) and how they are handed to the parser in whole lines;
//! - [`TextParser`] (here): splits what it is fed into chunks parsed in
//!   parallel, and checks the `mode:` lines;
//! - `grammar`: one chunk of lines into blocks, with Go's field rules;
//! - `raw`: the parsed lines before they are grouped per file, which merge
//!   and diff read in place when the input is in Go's canonical order;
//! - `stream`: `merge` of files in Go's canonical order without parsing
//!   them into blocks, written while they are read.

mod grammar;
mod raw;
mod source;
mod stream;

use std::io::Read;
use std::path::Path;

use rayon::prelude::*;

use crate::error::{Error, ParseError, ParseErrorKind};
use crate::profile::{Block, Mode, Profile};
use grammar::{ChunkOut, LineError, parse_chunk, split_line, too_long};
pub use raw::RawProfile;
pub(crate) use raw::{BlockPool, Part, RawFile, abs_line, normalize_blocks};
pub(crate) use source::parse_path_raw;
use source::raw_from_reader;
pub(crate) use source::raw_from_sized;
pub(crate) use stream::{MAX_INPUTS as STREAM_MAX_INPUTS, Streamed, stream_merge};

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
    /// The longest line accepted, in bytes (without its `\n`; default
    /// [`MAX_LINE`]). Input without a newline within this many bytes is an
    /// error naming the line and its byte offset, found without reading
    /// further: memory stays bounded whatever the input (`/dev/zero`, an
    /// endless pipe).
    pub max_line: usize,
}

/// The default line length limit: 1 MiB, far above any real line (a line
/// is a file name and seven numbers; Go's own parser stops at 64 KiB).
pub const MAX_LINE: usize = 1 << 20;

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            mode_policy: ModePolicy::Strict,
            parallel: true,
            mmap: true,
            max_line: MAX_LINE,
        }
    }
}

/// Inputs below this size are parsed on one thread.
const PARALLEL_MIN: usize = 1 << 20;

/// Parses a whole text profile held in memory.
pub fn parse_bytes(data: &[u8], name: &str, opts: &ParseOptions) -> Result<Profile, Error> {
    let mut p = TextParser::new(name, opts.clone());
    p.feed(data)?;
    Ok(p.finish()?)
}

/// Parses a text profile from a stream (a pipe, stdin, a socket).
pub fn parse_reader<R: Read>(r: R, name: &str, opts: &ParseOptions) -> Result<Profile, Error> {
    Ok(raw_from_reader(r, name, opts, &mut BlockPool::default())?.into_profile()?)
}

/// Parses the text profile at `path`; `-` reads standard input.
///
/// Regular files are memory-mapped (unless `opts.mmap` is off); anything
/// else is read as a stream. Files that another process may still be
/// rewriting must not be passed here with `mmap` on: truncation under a map
/// kills the process with SIGBUS.
pub fn parse_path(path: &Path, opts: &ParseOptions) -> Result<Profile, Error> {
    Ok(parse_path_raw(path, opts, &mut BlockPool::default())?.into_profile()?)
}

/// An incremental parser: feed it whole lines, then call
/// [`finish`](TextParser::finish).
pub struct TextParser {
    path: String,
    opts: ParseOptions,
    mode: Option<Mode>,
    /// Lines consumed so far.
    line: u64,
    /// Bytes consumed so far.
    offset: u64,
    parts: Vec<Part>,
    /// With [`ModePolicy::Upgrade`]: the first line of each section and
    /// whether its `mode:` line said `set`, for the sections to be
    /// combined apart (see [`RawProfile`]'s `set_sections`).
    sections: Vec<(u64, bool)>,
}

impl TextParser {
    /// A parser for the input called `path` (used in error messages).
    pub fn new(path: &str, opts: ParseOptions) -> TextParser {
        TextParser {
            path: path.to_string(),
            opts,
            mode: None,
            line: 0,
            offset: 0,
            parts: Vec::new(),
            sections: Vec::new(),
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
    pub fn feed(&mut self, data: &[u8]) -> Result<(), ParseError> {
        self.feed_pooled(data, &mut BlockPool::default())
    }

    /// For a caller holding the start of a line it has not fed yet (no
    /// newline in its `len` bytes so far): an error once `len` is past the
    /// line length limit, so that the caller stops reading instead of
    /// buffering the line.
    pub fn check_pending_line(&self, len: usize) -> Result<(), ParseError> {
        if len > self.opts.max_line {
            return Err(self.next_line_too_long());
        }
        Ok(())
    }

    /// The error for the next line, not fed yet, being too long.
    fn next_line_too_long(&self) -> ParseError {
        self.error(self.line + 1, 1, too_long(self.opts.max_line, self.offset))
    }

    /// The line length limit ([`ParseOptions::max_line`]).
    pub fn max_line(&self) -> usize {
        self.opts.max_line
    }

    fn feed_pooled(&mut self, data: &[u8], pool: &mut BlockPool) -> Result<(), ParseError> {
        let res = self.feed_lines(data, pool);
        self.offset += data.len() as u64;
        res
    }

    fn feed_lines(&mut self, all: &[u8], pool: &mut BlockPool) -> Result<(), ParseError> {
        let mut data = all;
        let max = self.opts.max_line;
        // The first non-blank line must be the mode line.
        while self.mode.is_none() && !data.is_empty() {
            let start = self.offset + (all.len() - data.len()) as u64;
            let (line, rest, len) = split_line(data);
            data = rest;
            self.line += 1;
            if len > max {
                return Err(self.error(self.line, 1, too_long(max, start)));
            }
            if line.is_empty() {
                continue;
            }
            // A mode of only '\r's would be written as `mode: \r\n`, which
            // reads back as no mode at all: refused here, like `mode: `.
            match line.strip_prefix(b"mode: ") {
                Some(m) if m.iter().any(|&b| b != b'\r') => {
                    let mode = Mode::from_name(&String::from_utf8_lossy(m));
                    self.sections.push((self.line, mode.is_set()));
                    self.mode = Some(mode);
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
        let chunk_offsets: Vec<u64> = chunks
            .iter()
            .map(|c| self.offset + (c.as_ptr() as usize - all.as_ptr() as usize) as u64)
            .collect();
        // Room for the shortest plausible lines; untouched capacity costs
        // address space only.
        let bufs: Vec<Vec<Block>> = chunks
            .iter()
            .map(|c| pool.take(c.len() / 24 + 16))
            .collect();
        let results: Vec<Result<ChunkOut, LineError>> = if chunks.len() == 1 {
            chunks
                .into_iter()
                .zip(bufs)
                .map(|(c, b)| parse_chunk(c, b, max))
                .collect()
        } else {
            chunks
                .into_par_iter()
                .zip(bufs)
                .map(|(c, b)| parse_chunk(c, b, max))
                .collect()
        };
        for (res, base) in results.into_iter().zip(chunk_offsets) {
            let mut out = match res {
                Ok(out) => out,
                Err(mut e) => {
                    for (line, m) in &e.modes {
                        self.mode_line_again(self.line + line, m)?;
                    }
                    if let ParseErrorKind::LineTooLong { offset, .. } = &mut e.kind {
                        *offset += base;
                    }
                    return Err(self.error(self.line + e.line, e.column, e.kind));
                }
            };
            for (line, m) in std::mem::take(&mut out.modes) {
                self.mode_line_again(self.line + line, &m)?;
            }
            out.part.line_base = self.line;
            self.line += out.lines;
            self.parts.push(out.part);
        }
        Ok(())
    }

    fn mode_line_again(&mut self, line: u64, name: &str) -> Result<(), ParseError> {
        let now = Mode::from_name(name);
        let first = self.mode.clone().expect("mode line seen before blocks");
        // Each `mode:` line starts a section, as if it began another input.
        self.sections.push((line, now.is_set()));
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

    /// Hands every block parsed so far to `f`, in input order, and forgets
    /// it, so a caller that keeps its own summary parses in constant memory.
    /// Drained blocks are never grouped: repeats are not combined and their
    /// statement counts not compared (see [`RawProfile::for_each_block`]).
    pub fn drain_blocks(&mut self, mut f: impl FnMut(&str, &Block)) {
        for part in self.parts.drain(..) {
            for run in &part.runs {
                for b in &part.blocks[run.start..run.end] {
                    f(&run.name, b);
                }
            }
        }
    }

    /// The mode, once the mode line was read.
    pub fn mode(&self) -> Option<&Mode> {
        self.mode.as_ref()
    }

    /// Everything fed so far, not yet grouped per file.
    pub fn into_raw(self) -> RawProfile {
        // An input upgraded from `set` to a counting mode by a later
        // `mode:` line is combined as its sections would be as separate
        // inputs, one after the other: the `set` ones before the first
        // counting one OR together, each later `set` one ORs its own
        // repeats, and then all add up.
        let mut set_sections: Vec<(u64, u64)> = Vec::new();
        if !self.mode.as_ref().is_some_and(Mode::is_set) {
            let mut counting = false;
            for (i, &(start, set)) in self.sections.iter().enumerate() {
                let end = self.sections.get(i + 1).map_or(u64::MAX, |s| s.0);
                match set_sections.last_mut() {
                    _ if !set => counting = true,
                    Some(last) if !counting => last.1 = end,
                    _ => set_sections.push((start, end)),
                }
            }
        }
        RawProfile {
            path: self.path,
            mode: self.mode,
            parts: self.parts,
            boolean: false,
            set_sections,
        }
    }

    /// Sorts and combines what was fed into a [`Profile`].
    pub fn finish(self) -> Result<Profile, ParseError> {
        self.into_raw().into_profile()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::MAX_COUNT;

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
    fn first_error_wins_across_read_boundaries() {
        let input = "mode: set\nmode: count\nbad line";
        let whole = err(input);
        let streamed = parse_reader(input.as_bytes(), "t.out", &ParseOptions::default())
            .unwrap_err()
            .to_string();
        assert_eq!(whole, streamed);
        assert!(
            whole.starts_with("t.out:2:7: mode \"count\" clashes"),
            "{whole}"
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
        // Found by fuzzing: written back as `mode: \r\n`, it would not parse.
        assert!(err("mode: \r\r").contains("expected a mode line"));
        assert!(err("mode: \r\r\n").contains("expected a mode line"));
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

    /// Sections of one input upgraded by a later `mode:` line count as the
    /// same sections given as separate inputs (before, a `set` section's
    /// repeats were added up, not ORed: 1+1+5 where separate inputs give 6).
    #[test]
    fn upgraded_sections_count_as_separate_inputs() {
        let opts = ParseOptions {
            mode_policy: ModePolicy::Upgrade,
            ..Default::default()
        };
        let sections = [
            "mode: set\na.go:1.1,2.2 1 1\nb.go:1.1,1.2 1 0\na.go:1.1,2.2 1 1\n",
            "mode: count\na.go:1.1,2.2 1 5\nb.go:1.1,1.2 1 2\n",
            "mode: set\nb.go:1.1,1.2 1 1\na.go:1.1,2.2 1 3\na.go:1.1,2.2 1 4\n",
            "mode: atomic\na.go:1.1,2.2 1 0\n",
        ];
        // Every sequence of up to four sections.
        let mut seqs: Vec<Vec<usize>> = vec![vec![]];
        for _ in 0..4 {
            let longer: Vec<Vec<usize>> = (seqs.iter())
                .flat_map(|s| (0..sections.len()).map(move |i| [s.clone(), vec![i]].concat()))
                .collect();
            seqs.extend(longer);
        }
        for seq in seqs.iter().filter(|s| !s.is_empty()) {
            let whole: String = seq.iter().map(|&i| sections[i]).collect();
            let one = parse_bytes(whole.as_bytes(), "x", &opts).unwrap();
            let mut m = crate::Merger::new(crate::MergeOptions {
                mode_policy: ModePolicy::Upgrade,
                ..Default::default()
            });
            for (n, &i) in seq.iter().enumerate() {
                let p = parse_bytes(sections[i].as_bytes(), "x", &opts).unwrap();
                m.add(&format!("in{n}"), p).unwrap();
            }
            let (separate, _) = m.finish();
            // The same counts (the profile lines blocks came from differ).
            let counts = |p: &Profile| {
                let blocks = p
                    .files
                    .iter()
                    .flat_map(|f| f.blocks.iter().map(|b| (f.name.clone(), b.key(), b.count)));
                (p.mode.clone(), blocks.collect::<Vec<_>>())
            };
            assert_eq!(counts(&one), counts(&separate), "{seq:?}");
        }
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

    fn with_max(max_line: usize, parallel: bool) -> ParseOptions {
        ParseOptions {
            max_line,
            parallel,
            ..ParseOptions::default()
        }
    }

    /// Every way of reading gives the same result for `data`.
    fn all_ways(data: &[u8], opts: &ParseOptions) -> Result<Profile, String> {
        let seq = parse_bytes(
            data,
            "t.out",
            &ParseOptions {
                parallel: false,
                ..opts.clone()
            },
        );
        let par = parse_bytes(data, "t.out", opts);
        let rd = parse_reader(data, "t.out", opts);
        let seq = seq.map_err(|e| e.to_string());
        assert_eq!(seq, par.map_err(|e| e.to_string()));
        assert_eq!(seq, rd.map_err(|e| e.to_string()));
        seq
    }

    #[test]
    fn long_lines_are_refused_with_their_offset() {
        let opts = with_max(32, true);
        let ok = "mode: set\na.go:1.1,1.2 1 1\n";
        let line32 = "abcdefghijklmnopq.go:1.1,1.2 1 1";
        assert_eq!(line32.len(), 32);
        // Exactly the limit is fine, with or without a newline at the end.
        assert!(all_ways(format!("{ok}{line32}\n").as_bytes(), &opts).is_ok());
        assert!(all_ways(format!("{ok}{line32}").as_bytes(), &opts).is_ok());
        // One byte more (a '\r' counts, the '\n' does not) is not.
        let want = "t.out:3:1: expected a newline within 32 bytes (the line length limit) \
                    of the line starting at byte offset 27";
        for tail in [
            "\r\n",
            "x\n",
            "x",
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        ] {
            let input = format!("{ok}{line32}{tail}");
            assert_eq!(
                all_ways(input.as_bytes(), &opts).unwrap_err(),
                want,
                "{tail:?}"
            );
        }
        // Before the mode line, and a blank line's length counts too.
        let e = all_ways(&[b' '; 40], &opts).unwrap_err();
        assert!(
            e.starts_with("t.out:1:1: expected a newline within 32 bytes"),
            "{e}"
        );
        assert!(e.ends_with("byte offset 0"), "{e}");
        let e = all_ways(format!("\n\n{}", "\r".repeat(33)).as_bytes(), &opts).unwrap_err();
        assert!(
            e.starts_with("t.out:3:1:") && e.ends_with("offset 2"),
            "{e}"
        );
        // Past the size at which input is parsed in chunks in parallel:
        // the same line and offset.
        let mut big = String::from("mode: set\n");
        while big.len() < 3 << 20 {
            big.push_str(&format!("f{}.go:1.1,1.2 1 1\n", big.len() % 97));
        }
        let at = big.len();
        big.push_str(&"y".repeat(33));
        big.push_str("\na.go:1.1,1.2 1 1\n");
        let e = all_ways(big.as_bytes(), &opts).unwrap_err();
        assert!(e.ends_with(&format!("byte offset {at}")), "{e}");
        // An earlier error wins.
        let e = all_ways(format!("{ok}bad\n{}", "x".repeat(99)).as_bytes(), &opts).unwrap_err();
        assert!(e.starts_with("t.out:3:"), "{e}");
        assert!(!e.contains("line length"), "{e}");
    }

    /// A reader yielding `n` bytes of `x` after a mode line, counting what
    /// was read.
    struct Endless {
        head: &'static [u8],
        left: u64,
        read: std::rc::Rc<std::cell::Cell<u64>>,
    }

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = if !self.head.is_empty() {
                let n = self.head.len().min(buf.len());
                buf[..n].copy_from_slice(&self.head[..n]);
                self.head = &self.head[n..];
                n
            } else {
                let n = (buf.len() as u64).min(self.left) as usize;
                buf[..n].fill(b'x');
                self.left -= n as u64;
                n
            };
            self.read.set(self.read.get() + n as u64);
            Ok(n)
        }
    }

    #[test]
    fn endless_lines_stop_the_reading() {
        let read = std::rc::Rc::new(std::cell::Cell::new(0));
        let r = Endless {
            head: b"mode: set\n",
            left: 64 << 20,
            read: read.clone(),
        };
        let e = parse_reader(r, "-", &ParseOptions::default())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "-:2:1: expected a newline within 1048576 bytes (the line length limit) \
             of the line starting at byte offset 10"
        );
        // Read no further than the buffer that showed the line too long.
        assert!(read.get() <= 8 << 20, "read {} bytes", read.get());
    }

    #[test]
    fn long_lines_in_files_mapped_or_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.out");
        let mut data = b"mode: set\n".to_vec();
        data.extend(std::iter::repeat_n(b'a', 12 << 20));
        data.extend_from_slice(b".go:1.1,1.2 1 1\nb.go:1.1,1.2 1 0\n");
        std::fs::write(&path, &data).unwrap();
        for mmap in [true, false] {
            let opts = ParseOptions {
                mmap,
                ..ParseOptions::default()
            };
            let e = parse_path(&path, &opts).unwrap_err().to_string();
            assert!(
                e.ends_with(
                    "long.out:2:1: expected a newline within 1048576 bytes \
                     (the line length limit) of the line starting at byte offset 10"
                ),
                "mmap {mmap}: {e}"
            );
            // A limit above the line (and above a mapping window) reads it.
            let opts = ParseOptions {
                max_line: 16 << 20,
                ..opts
            };
            let p = parse_path(&path, &opts).unwrap();
            assert_eq!(p.files.len(), 2, "mmap {mmap}");
            assert_eq!(p.files[0].name.len(), (12 << 20) + 3);
        }
    }
}

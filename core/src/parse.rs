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
/// Mapped files are parsed in windows of this size, each mapped on its own
/// and unmapped afterwards, so a large input never sits whole in memory.
const WINDOW: usize = 8 << 20;
/// Streams are read in pieces of this size.
const STREAM_BUF: usize = 4 << 20;

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

/// Block buffers kept between inputs, so merging many large profiles does
/// not fault in fresh memory for every one of them.
#[derive(Debug, Default)]
pub struct BlockPool(Vec<Vec<Block>>);

impl BlockPool {
    fn take(&mut self, min_capacity: usize) -> Vec<Block> {
        let mut v = self.0.pop().unwrap_or_default();
        v.clear();
        v.reserve(min_capacity);
        v
    }
}

fn raw_from_reader<R: Read>(
    mut r: R,
    name: &str,
    opts: &ParseOptions,
    pool: &mut BlockPool,
) -> Result<RawProfile, Error> {
    let mut p = TextParser::new(name, opts.clone());
    // Start small (most streamed inputs are small); a large input grows
    // the buffer to STREAM_BUF so big pieces are parsed in parallel. Pipes
    // return 64 KiB per read, so keep reading until the buffer is full.
    let mut buf: Vec<u8> = vec![0; 64 << 10];
    let mut filled = 0usize;
    loop {
        let n = match r.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(name, e)),
        };
        if n == 0 {
            p.feed_pooled(&buf[..filled], pool)?;
            break;
        }
        filled += n;
        if filled < buf.len() {
            continue;
        }
        // Full: feed every complete line, keep the partial last one (a
        // line longer than the buffer makes it grow below).
        if let Some(nl) = memchr::memrchr(b'\n', &buf[..filled]) {
            let cut = nl + 1;
            p.feed_pooled(&buf[..cut], pool)?;
            buf.copy_within(cut..filled, 0);
            filled -= cut;
        }
        if buf.len() < STREAM_BUF || filled == buf.len() {
            let grow = buf.len();
            buf.resize(buf.len() + grow, 0);
        }
    }
    Ok(p.into_raw())
}

/// Like [`parse_path`], but returns the parsed lines before they are
/// grouped into files, drawing block buffers from `pool`. [`Merger`]
/// combines such a [`RawProfile`] into its result without copying it when
/// the input is in the canonical order Go writes.
///
/// [`Merger`]: crate::Merger
pub fn parse_path_raw(
    path: &Path,
    opts: &ParseOptions,
    pool: &mut BlockPool,
) -> Result<RawProfile, Error> {
    let name = path.to_string_lossy();
    if path.as_os_str() == "-" {
        return raw_from_reader(io::stdin().lock(), "-", opts, pool);
    }
    let file = File::open(path).map_err(|e| Error::io(name.as_ref(), e))?;
    let meta = file.metadata().map_err(|e| Error::io(name.as_ref(), e))?;
    if !meta.is_file() {
        if meta.is_dir() {
            return Err(Error::io(
                name.as_ref(),
                io::Error::other("is a directory, expected a text coverage profile"),
            ));
        }
        return raw_from_reader(file, &name, opts, pool);
    }
    let len = meta.len();
    if !opts.mmap || len < PARALLEL_MIN as u64 {
        let mut data = Vec::with_capacity(len as usize + 1);
        (&file)
            .read_to_end(&mut data)
            .map_err(|e| Error::io(name.as_ref(), e))?;
        let mut p = TextParser::new(&name, opts.clone());
        p.feed_pooled(&data, pool)?;
        return Ok(p.into_raw());
    }
    let mut p = TextParser::new(&name, opts.clone());
    let mut pos: u64 = 0;
    while pos < len {
        // Map from the page holding `pos`; parse up to the last newline.
        let page_start = pos & !(crate::mmap::PAGE - 1);
        let end = (page_start + WINDOW as u64).min(len);
        let map = match crate::mmap::map_window(&file, page_start, (end - page_start) as usize) {
            Ok(m) => m,
            // Some filesystems cannot map; reading is always possible.
            Err(_) if pos == 0 => return raw_from_reader(file, &name, opts, pool),
            Err(e) => return Err(Error::io(name.as_ref(), e)),
        };
        let data = &map[(pos - page_start) as usize..];
        let cut = if end == len {
            data.len()
        } else {
            match memchr::memrchr(b'\n', data) {
                Some(i) => i + 1,
                // A single line longer than a window: map the rest at once.
                None => {
                    drop(map);
                    let map =
                        crate::mmap::map_window(&file, page_start, (len - page_start) as usize)
                            .map_err(|e| Error::io(name.as_ref(), e))?;
                    p.feed_pooled(&map[(pos - page_start) as usize..], pool)?;
                    break;
                }
            }
        };
        p.feed_pooled(&data[..cut], pool)?;
        pos += cut as u64;
    }
    Ok(p.into_raw())
}

/// An incremental parser: feed it whole lines, then call
/// [`finish`](TextParser::finish).
pub struct TextParser {
    path: String,
    opts: ParseOptions,
    mode: Option<Mode>,
    /// Lines consumed so far.
    line: u64,
    parts: Vec<Part>,
}

/// The parsed lines of one piece of the input, in input order.
#[derive(Debug)]
struct Part {
    /// Lines before this part; block `src_line`s are relative to it.
    line_base: u64,
    blocks: Vec<Block>,
    runs: Vec<Run>,
}

/// Consecutive lines naming the same file.
#[derive(Debug)]
struct Run {
    name: String,
    start: usize,
    end: usize,
    /// Keys strictly increasing within the run.
    sorted: bool,
}

/// A profile as read, before blocks are grouped per file: see
/// [`parse_path_raw`].
#[derive(Debug)]
pub struct RawProfile {
    pub(crate) path: String,
    pub(crate) mode: Option<Mode>,
    parts: Vec<Part>,
    /// Counts are to be clamped to 0/1 once repeated blocks are combined.
    boolean: bool,
}

/// One file of a canonical [`RawProfile`]: its name and its blocks, which
/// may be spread over a few slices (one per part it spans).
pub(crate) struct RawFile<'a> {
    pub(crate) name: &'a str,
    /// (line base, blocks); most files have exactly one piece.
    first: (u64, &'a [Block]),
    more: Vec<(u64, &'a [Block])>,
}

impl<'a> RawFile<'a> {
    pub(crate) fn pieces(&self) -> impl Iterator<Item = &(u64, &'a [Block])> {
        std::iter::once(&self.first).chain(self.more.iter())
    }

    fn last_block(&self) -> Option<&Block> {
        self.more.last().unwrap_or(&self.first).1.last()
    }

    pub(crate) fn len(&self) -> usize {
        self.pieces().map(|(_, b)| b.len()).sum()
    }

    /// Copies the blocks out, with absolute source lines.
    pub(crate) fn to_file_profile(&self) -> FileProfile {
        let mut blocks = Vec::with_capacity(self.len());
        for &(base, bs) in self.pieces() {
            blocks.extend(bs.iter().map(|b| {
                let mut b = *b;
                b.src_line = abs_line(base, b.src_line);
                b
            }));
        }
        FileProfile {
            name: self.name.to_string(),
            blocks,
        }
    }
}

#[inline]
pub(crate) fn abs_line(base: u64, rel: u32) -> u32 {
    u32::try_from(base + u64::from(rel)).unwrap_or(u32::MAX)
}

impl RawProfile {
    /// The input's name.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The files sorted by name if the input is canonical: each file's
    /// lines contiguous, its blocks in increasing position order with no
    /// repeats, as Go writes profiles (files themselves may come in any
    /// order, as in concatenated per-package profiles).
    pub(crate) fn canonical_files(&self) -> Option<Vec<RawFile<'_>>> {
        let mut files: Vec<RawFile<'_>> = Vec::new();
        for part in &self.parts {
            for run in &part.runs {
                if !run.sorted {
                    return None;
                }
                let blocks = &part.blocks[run.start..run.end];
                match files.last_mut() {
                    // A file split across two parts.
                    Some(f) if f.name == run.name => {
                        if f.last_block().is_some_and(|l| l.key() >= blocks[0].key()) {
                            return None;
                        }
                        f.more.push((part.line_base, blocks));
                    }
                    _ => files.push(RawFile {
                        name: &run.name,
                        first: (part.line_base, blocks),
                        more: Vec::new(),
                    }),
                }
            }
        }
        if !files.windows(2).all(|w| w[0].name < w[1].name) {
            files.sort_unstable_by(|a, b| a.name.cmp(b.name));
            // A name seen twice means the file's lines were not contiguous.
            if files.windows(2).any(|w| w[0].name == w[1].name) {
                return None;
            }
        }
        Some(files)
    }

    /// The mode of the input, once its mode line was read.
    pub fn mode(&self) -> Option<&Mode> {
        self.mode.as_ref()
    }

    /// Calls `f` with every block of the profile [`into_profile`] would
    /// build, in the same order, without building it when the input is
    /// canonical (as Go writes it); `src_line`s are left relative.
    ///
    /// [`into_profile`]: RawProfile::into_profile
    pub fn for_each_block(&self, mut f: impl FnMut(&str, &Block)) -> Result<(), ParseError> {
        if let Some(files) = self.canonical_files() {
            for file in &files {
                for (_, blocks) in file.pieces() {
                    for b in *blocks {
                        f(file.name, b);
                    }
                }
            }
            return Ok(());
        }
        for file in &self.to_profile()?.files {
            for b in &file.blocks {
                f(&file.name, b);
            }
        }
        Ok(())
    }

    /// Groups, sorts and combines the blocks into a [`Profile`].
    pub fn into_profile(self) -> Result<Profile, ParseError> {
        self.to_profile()
    }

    /// Like [`into_profile`](RawProfile::into_profile), leaving the buffers
    /// for [`recycle`](RawProfile::recycle).
    pub fn to_profile(&self) -> Result<Profile, ParseError> {
        if let Some(files) = self.canonical_files() {
            let files = files.par_iter().map(RawFile::to_file_profile).collect();
            return Ok(Profile {
                mode: self.mode.clone(),
                files,
            });
        }
        let is_set = self.mode.as_ref().is_some_and(Mode::is_set);
        let mut files: Vec<FileProfile> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for part in &self.parts {
            for run in &part.runs {
                let i = *index.entry(run.name.as_str()).or_insert_with(|| {
                    files.push(FileProfile {
                        name: run.name.clone(),
                        blocks: Vec::new(),
                    });
                    files.len() - 1
                });
                files[i]
                    .blocks
                    .extend(part.blocks[run.start..run.end].iter().map(|b| {
                        let mut b = *b;
                        b.src_line = abs_line(part.line_base, b.src_line);
                        b
                    }));
            }
        }
        for f in &mut files {
            normalize_blocks(&mut f.blocks, is_set).map_err(|(line, kind)| ParseError {
                path: self.path.clone(),
                line: u64::from(line),
                column: 1,
                kind,
            })?;
            if self.boolean {
                for b in &mut f.blocks {
                    b.count = u64::from(b.count > 0);
                }
            }
        }
        let mut p = Profile {
            mode: self.mode.clone(),
            files,
        };
        p.sort_files();
        Ok(p)
    }

    /// Clamps every count to 0 or 1 (the first step of `aggregate`).
    ///
    /// Repeated blocks (a `-coverpkg` profile lists a block once per test
    /// binary) are combined first, so each input counts once per block.
    pub fn to_boolean(&mut self) {
        if self.canonical_files().is_some() {
            for part in &mut self.parts {
                for b in &mut part.blocks {
                    b.count = u64::from(b.count > 0);
                }
            }
        } else {
            self.boolean = true;
        }
    }

    /// Returns the block buffers to `pool` for the next input.
    pub fn recycle(self, pool: &mut BlockPool) {
        for part in self.parts {
            if part.blocks.capacity() > 0 {
                pool.0.push(part.blocks);
            }
        }
    }
}

struct ChunkOut {
    part: Part,
    lines: u64,
    modes: Vec<(u64, String)>,
}

struct LineError {
    /// Line within the chunk (1-based).
    line: u64,
    column: u64,
    kind: ParseErrorKind,
    /// `mode:` lines seen before the error: a clash among them is the
    /// first error in the input and must win.
    modes: Vec<(u64, String)>,
}

impl TextParser {
    /// A parser for the input called `path` (used in error messages).
    pub fn new(path: &str, opts: ParseOptions) -> TextParser {
        TextParser {
            path: path.to_string(),
            opts,
            mode: None,
            line: 0,
            parts: Vec::new(),
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

    fn feed_pooled(&mut self, mut data: &[u8], pool: &mut BlockPool) -> Result<(), ParseError> {
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
                .map(|(c, b)| parse_chunk(c, b))
                .collect()
        } else {
            chunks
                .into_par_iter()
                .zip(bufs)
                .map(|(c, b)| parse_chunk(c, b))
                .collect()
        };
        for res in results {
            let mut out = match res {
                Ok(out) => out,
                Err(e) => {
                    for (line, m) in &e.modes {
                        self.mode_line_again(self.line + line, m)?;
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
        RawProfile {
            path: self.path,
            mode: self.mode,
            parts: self.parts,
            boolean: false,
        }
    }

    /// Sorts and combines what was fed into a [`Profile`].
    pub fn finish(self) -> Result<Profile, ParseError> {
        self.into_raw().into_profile()
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

/// Parses whole lines into `blocks`; line numbers are relative to the chunk.
fn parse_chunk(data: &[u8], mut blocks: Vec<Block>) -> Result<ChunkOut, LineError> {
    let mut runs: Vec<Run> = Vec::new();
    let mut modes = Vec::new();
    let mut line_no: u64 = 0;
    let mut rest = data;
    // The current run's name, compared with every line's.
    let mut cur: &[u8] = &[];
    let mut sorted = true;
    let mut run_start = 0usize;
    while !rest.is_empty() {
        // Fast path: the line names the current file. Compare the name
        // once, then read the numbers forwards up to the line end, so the
        // name's bytes are not scanned a second time looking for '\n'.
        let n = cur.len();
        if !runs.is_empty()
            && rest.len() > n
            && rest[n] == b':'
            && same_bytes(&rest[..n], cur)
            && let Some((mut block, used)) = fast_tail(&rest[n + 1..])
        {
            line_no += 1;
            block.src_line = u32::try_from(line_no).unwrap_or(u32::MAX);
            if blocks.last().is_some_and(|l| l.key() >= block.key()) {
                sorted = false;
            }
            blocks.push(block);
            rest = &rest[n + 1 + used..];
            continue;
        }
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
                    if let Some(m) = line.strip_prefix(b"mode: ")
                        && !m.is_empty()
                    {
                        modes.push((line_no, String::from_utf8_lossy(m).into_owned()));
                        continue;
                    }
                    return Err(LineError {
                        line: line_no,
                        column,
                        kind,
                        modes,
                    });
                }
            },
        };
        block.src_line = u32::try_from(line_no).unwrap_or(u32::MAX);
        if same_bytes(name, cur) && !runs.is_empty() {
            if blocks.last().is_some_and(|l| l.key() >= block.key()) {
                sorted = false;
            }
        } else {
            let Ok(s) = std::str::from_utf8(name) else {
                return Err(LineError {
                    line: line_no,
                    column: 1,
                    kind: ParseErrorKind::NonUtf8FileName,
                    modes,
                });
            };
            if let Some(prev) = runs.last_mut() {
                prev.end = blocks.len();
                prev.sorted = sorted;
            }
            run_start = blocks.len();
            sorted = true;
            runs.push(Run {
                name: s.to_string(),
                start: run_start,
                end: run_start,
                sorted: true,
            });
            cur = name;
        }
        blocks.push(block);
    }
    if let Some(prev) = runs.last_mut() {
        prev.end = blocks.len();
        prev.sorted = sorted;
    }
    let _ = run_start;
    Ok(ChunkOut {
        part: Part {
            line_base: 0,
            blocks,
            runs,
        },
        lines: line_no,
        modes,
    })
}

/// Byte equality, inlined: names are short and almost always equal to the
/// previous line's, where a libc call costs more than the comparison.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    let word = |s: &[u8], i: usize| u64::from_ne_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    // Paths differ near the end (file00001 vs file00002): compare the
    // last word first.
    if word(a, n - 8) != word(b, n - 8) {
        return false;
    }
    let mut i = 0;
    while i + 8 < n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    true
}

/// Reads `sl.sc,el.ec n c` and the line end (`\n`, `\r\n` or the end of
/// the data) forwards; returns the block and the bytes consumed. `None`
/// for anything unusual, which then goes the general way.
#[inline(always)]
fn fast_tail(t: &[u8]) -> Option<(Block, usize)> {
    let mut i = 0;
    let start_line = fdigits(t, &mut i, 9)? as u32;
    fexpect(t, &mut i, b'.')?;
    let start_col = fdigits(t, &mut i, 9)? as u32;
    fexpect(t, &mut i, b',')?;
    let end_line = fdigits(t, &mut i, 9)? as u32;
    fexpect(t, &mut i, b'.')?;
    let end_col = fdigits(t, &mut i, 9)? as u32;
    fexpect(t, &mut i, b' ')?;
    let num_stmt = fdigits(t, &mut i, 9)? as u32;
    fexpect(t, &mut i, b' ')?;
    let count = fdigits(t, &mut i, 18)?;
    match t.get(i) {
        None => {}
        Some(b'\n') => i += 1,
        Some(b'\r') if t.get(i + 1) == Some(&b'\n') => i += 2,
        Some(b'\r') if i + 1 == t.len() => i += 1,
        _ => return None,
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
    Some((block, i))
}

#[inline(always)]
fn fdigits(t: &[u8], i: &mut usize, max_digits: usize) -> Option<u64> {
    let start = *i;
    let mut v = 0u64;
    while let Some(&c) = t.get(*i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if *i - start == max_digits {
            return None;
        }
        v = v * 10 + u64::from(d);
        *i += 1;
    }
    if *i == start { None } else { Some(v) }
}

#[inline(always)]
fn fexpect(t: &[u8], i: &mut usize, c: u8) -> Option<()> {
    if t.get(*i) == Some(&c) {
        *i += 1;
        Some(())
    } else {
        None
    }
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
    fn to_boolean_combines_repeats_first() {
        let mut pool = BlockPool::default();
        let mut p = TextParser::new("x", ParseOptions::default());
        p.feed(b"mode: count\na.go:1.1,1.2 1 3\nb.go:1.1,1.2 1 0\na.go:1.1,1.2 1 2\n")
            .unwrap();
        let mut raw = p.into_raw();
        raw.to_boolean();
        let prof = raw.to_profile().unwrap();
        assert_eq!(prof.files[0].blocks[0].count, 1);
        raw.recycle(&mut pool);
        let mut p = TextParser::new("y", ParseOptions::default());
        p.feed(b"mode: count\na.go:1.1,1.2 1 3\na.go:2.1,2.2 1 0\n")
            .unwrap();
        let mut raw = p.into_raw();
        raw.to_boolean();
        let prof = raw.into_profile().unwrap();
        assert_eq!(
            (prof.files[0].blocks[0].count, prof.files[0].blocks[1].count),
            (1, 0)
        );
    }

    #[test]
    fn for_each_block_visits_the_profile() {
        for (input, canonical) in [
            // As Go writes it: fed in two pieces, one file split across them.
            (
                &[
                    &b"mode: count\nb.go:1.1,1.2 1 3\n"[..],
                    b"b.go:2.1,2.2 1 0\na.go:1.1,1.2 2 4\n",
                ],
                true,
            ),
            // Repeated and unsorted blocks: combined and sorted first.
            (
                &[
                    &b"mode: count\na.go:2.1,2.2 1 3\nb.go:1.1,1.2 1 0\n"[..],
                    b"a.go:2.1,2.2 1 2\na.go:1.1,1.2 1 1\n",
                ],
                false,
            ),
        ] {
            let mut p = TextParser::new("x", ParseOptions::default());
            for piece in input {
                p.feed(piece).unwrap();
            }
            let raw = p.into_raw();
            assert_eq!(raw.canonical_files().is_some(), canonical);
            assert_eq!(raw.mode(), Some(&Mode::Count));
            let mut seen = Vec::new();
            raw.for_each_block(|name, b| {
                seen.push((name.to_string(), b.key(), b.num_stmt, b.count))
            })
            .unwrap();
            let want: Vec<_> = raw
                .to_profile()
                .unwrap()
                .files
                .iter()
                .flat_map(|f| {
                    f.blocks
                        .iter()
                        .map(|b| (f.name.clone(), b.key(), b.num_stmt, b.count))
                })
                .collect();
            assert_eq!(seen, want);
        }
        // Draining sees the same blocks in input order, uncombined.
        let mut p = TextParser::new("x", ParseOptions::default());
        p.feed(b"mode: set\nb.go:1.1,1.2 1 1\na.go:1.1,1.2 2 0\n")
            .unwrap();
        let mut seen = Vec::new();
        p.drain_blocks(|name, b| seen.push((name.to_string(), b.num_stmt)));
        p.feed(b"b.go:1.1,1.2 1 0\n").unwrap();
        p.drain_blocks(|name, b| seen.push((name.to_string(), b.num_stmt)));
        assert_eq!(
            seen,
            [("b.go".into(), 1), ("a.go".into(), 2), ("b.go".into(), 1)]
        );
        assert_eq!(p.mode(), Some(&Mode::Set));
        assert_eq!(p.into_raw().to_profile().unwrap().block_count(), 0);
        // Inconsistent statement counts are the parse error they always were.
        let mut p = TextParser::new("x", ParseOptions::default());
        p.feed(b"mode: count\na.go:1.1,1.2 1 3\na.go:1.1,1.2 2 3\n")
            .unwrap();
        assert!(p.into_raw().for_each_block(|_, _| {}).is_err());
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

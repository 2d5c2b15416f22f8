//! Where a text profile's bytes come from: memory-mapped windows of a
//! regular file, or a stream (a pipe, stdin, a socket) read in pieces; each
//! piece ends at a line boundary before it reaches the [`TextParser`].

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use super::{BlockPool, PARALLEL_MIN, ParseOptions, RawProfile, TextParser};
use crate::error::Error;

/// Mapped files are parsed in windows of this size, each mapped on its own
/// and unmapped afterwards, so a large input never sits whole in memory.
const WINDOW: usize = 8 << 20;
/// Streams are read in pieces of this size.
const STREAM_BUF: usize = 4 << 20;

pub(super) fn raw_from_reader<R: Read>(
    r: R,
    name: &str,
    opts: &ParseOptions,
    pool: &mut BlockPool,
) -> Result<RawProfile, Error> {
    // Start small (most streamed inputs are small); a large input grows
    // the buffer to STREAM_BUF so big pieces are parsed in parallel.
    read_stream(r, name, opts, pool, 64 << 10)
}

/// [`raw_from_reader`] for a stream whose length is about `size` (an
/// object store's listing): the first buffer fits a small one whole.
pub(crate) fn raw_from_sized<R: Read>(
    r: R,
    name: &str,
    size: u64,
    opts: &ParseOptions,
    pool: &mut BlockPool,
) -> Result<RawProfile, Error> {
    let initial = usize::try_from(size).map_or(STREAM_BUF, |n| n.saturating_add(1));
    read_stream(r, name, opts, pool, initial.clamp(64 << 10, STREAM_BUF))
}

/// Reads `r` through a buffer of `initial` bytes at first, feeding the
/// parser whole lines. The buffer holds at most one partial line, which
/// may not grow past the line length limit, so memory is bounded by
/// about twice the larger of the limit and STREAM_BUF whatever `r` yields.
fn read_stream<R: Read>(
    mut r: R,
    name: &str,
    opts: &ParseOptions,
    pool: &mut BlockPool,
    initial: usize,
) -> Result<RawProfile, Error> {
    let mut p = TextParser::new(name, opts.clone());
    let mut buf: Vec<u8> = vec![0; initial.max(1)];
    let mut filled = 0usize;
    loop {
        // Pipes return 64 KiB per read, so keep reading until the buffer
        // is full.
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
        // Full: feed every complete line, keep the partial last one.
        if let Some(nl) = memchr::memrchr(b'\n', &buf[..filled]) {
            let cut = nl + 1;
            p.feed_pooled(&buf[..cut], pool)?;
            buf.copy_within(cut..filled, 0);
            filled -= cut;
        }
        p.check_pending_line(filled)?;
        if buf.len() < STREAM_BUF || filled == buf.len() {
            let grow = buf.len();
            buf.resize(buf.len() + grow, 0);
        }
    }
    Ok(p.into_raw())
}

/// Like [`parse_path`](super::parse_path), but returns the parsed lines before they are
/// grouped into files, drawing block buffers from `pool`. [`Merger`]
/// combines such a [`RawProfile`] into its result without copying it when
/// the input is in the canonical order Go writes.
///
/// [`Merger`]: crate::Merger
pub(crate) fn parse_path_raw(
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
        // A small file fits the first buffer (one read); a large one, or
        // one still growing, streams with bounded memory.
        let initial = usize::try_from(len).map_or(STREAM_BUF, |n| n.saturating_add(1));
        return read_stream(file, &name, opts, pool, initial.min(STREAM_BUF));
    }
    let mut p = TextParser::new(&name, opts.clone());
    // A window always holds a newline within the line length limit from
    // where it starts parsing, unless the line is too long.
    let window = WINDOW.max(
        opts.max_line
            .saturating_add(crate::mmap::PAGE as usize + 1)
            .next_multiple_of(crate::mmap::PAGE as usize),
    );
    let mut pos: u64 = 0;
    while pos < len {
        // Map from the page holding `pos`; parse up to the last newline.
        let page_start = pos & !(crate::mmap::PAGE - 1);
        let end = (page_start + window as u64).min(len);
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
                // More than the limit (window - PAGE) without a newline.
                None => return Err(p.next_line_too_long().into()),
            }
        };
        p.feed_pooled(&data[..cut], pool)?;
        pos += cut as u64;
    }
    Ok(p.into_raw())
}

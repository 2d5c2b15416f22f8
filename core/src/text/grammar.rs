//! The line grammar: `name:sl.sc,el.ec numstmt count`, read from a chunk
//! of whole lines into blocks and runs of lines naming the same file.
//!
//! The hot loop works on whole lines in a byte slice: a `memchr` for the
//! line end, integers read backwards from the end of the line, and one
//! comparison of the file name with the previous line's. Anything unusual
//! (signs, leading zeros, huge numbers, malformed lines) falls back to a
//! slow path that reproduces Go's field-by-field rules and produces the
//! error.

use super::raw::{Part, Run};
use crate::error::ParseErrorKind;
use crate::profile::{Block, MAX_COUNT};

pub(super) struct ChunkOut {
    pub(super) part: Part,
    pub(super) lines: u64,
    pub(super) modes: Vec<(u64, String)>,
}

pub(super) struct LineError {
    /// Line within the chunk (1-based).
    pub(super) line: u64,
    pub(super) column: u64,
    pub(super) kind: ParseErrorKind,
    /// `mode:` lines seen before the error: a clash among them is the
    /// first error in the input and must win.
    pub(super) modes: Vec<(u64, String)>,
}

/// The first line of `data` without its `\n` or `\r\n`, the rest, and the
/// line's length as the length limit counts it (everything before the
/// `\n`, a `\r` included).
#[inline]
pub(super) fn split_line(data: &[u8]) -> (&[u8], &[u8], usize) {
    let (mut line, rest) = match memchr::memchr(b'\n', data) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[data.len()..]),
    };
    let len = line.len();
    if let [head @ .., b'\r'] = line {
        line = head;
    }
    (line, rest, len)
}

/// The error for a line longer than `max` bytes starting at `offset`
/// (relative to what the caller is parsing).
pub(super) fn too_long(max: usize, offset: u64) -> ParseErrorKind {
    ParseErrorKind::LineTooLong { max, offset }
}

/// Parses whole lines into `blocks`; line numbers are relative to the
/// chunk, and so is the offset of a line longer than `max_line` bytes.
pub(super) fn parse_chunk(
    data: &[u8],
    mut blocks: Vec<Block>,
    max_line: usize,
) -> Result<ChunkOut, LineError> {
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
            // Longer lines take the general way, which checks the limit.
            && n + 1 + used <= max_line
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
        let start = rest;
        let (line, r, len) = split_line(rest);
        rest = r;
        line_no += 1;
        if len > max_line {
            return Err(LineError {
                line: line_no,
                column: 1,
                kind: too_long(max_line, (data.len() - start.len()) as u64),
                modes,
            });
        }
        if line.is_empty() {
            continue;
        }
        let (name, mut block) = match fast_line(line) {
            Some(x) => x,
            None => match slow_line(line) {
                Ok(x) => x,
                Err((column, kind)) => {
                    if let Some(m) = line.strip_prefix(b"mode: ")
                        && m.iter().any(|&b| b != b'\r')
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
pub(super) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
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
pub(super) fn fast_line(line: &[u8]) -> Option<(&[u8], Block)> {
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

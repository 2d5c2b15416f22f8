//! Arbitrary bytes through every way of reading a text profile.
//!
//! - `parse_bytes` sequential, `parse_bytes` parallel, `parse_reader` in one
//!   read and `parse_reader` over a reader returning short reads must agree:
//!   the same profile, or all an error.
//! - When the input parses, `write_profile` and parsing that again gives the
//!   same profile (ignoring `src_line`, the input line a block came from,
//!   which is diagnostics only, and a '\r' at the end of the mode, which
//!   gopherage does not keep either).
//! - For some inputs (length a multiple of 128 and a content hash that is
//!   a multiple of 16: about 1 in 2,048) the body is repeated past 1 MiB,
//!   the size at which parsing splits the input into chunks for rayon, and
//!   the same agreement is checked on that. The hash keeps the fuzzer from
//!   settling on the slow path: mutating a big input rarely keeps it big.
//!
//! - With a small line length limit taken from the input (1 to 256 bytes),
//!   every reader must agree too, and on the error word for word when it
//!   is the limit's (the same line and byte offset whichever way the bytes
//!   arrive); a profile that parses has no line over the limit.
//!
//! - A profile that parses counts three ways (`explain`) consistently:
//!   lines that fully ran <= lines that ran <= lines, and the packages add
//!   up to the total.
//!
//! With `COVLENS_FUZZ_STRICT=1` errors must also agree word for word.

#![no_main]

use std::io::{self, Read};
use std::sync::OnceLock;

use covlens_core::{
    Error, ExplainBy, ParseOptions, Profile, ThreeWays, explain, parse_bytes, parse_reader,
    write_profile,
};
use libfuzzer_sys::fuzz_target;

/// Larger than the parser's parallel threshold (1 MiB) by a bit.
const BIG: usize = (1 << 20) + (1 << 16);

fn strict() -> bool {
    static STRICT: OnceLock<bool> = OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("COVLENS_FUZZ_STRICT").is_some_and(|v| v == "1"))
}

fn opts(parallel: bool) -> ParseOptions {
    ParseOptions {
        parallel,
        ..ParseOptions::default()
    }
}

fn limited(parallel: bool, max_line: usize) -> ParseOptions {
    ParseOptions {
        parallel,
        max_line,
        ..ParseOptions::default()
    }
}

/// Whether an error is the line length limit's.
fn too_long(r: &Result<Profile, Error>) -> bool {
    r.as_ref()
        .is_err_and(|e| e.to_string().contains("(the line length limit)"))
}

/// Readers that agree, on the error too when it is the limit's.
fn agree_limited(what: &str, data: &[u8], a: &Result<Profile, Error>, b: &Result<Profile, Error>) {
    agree(what, data, a, b);
    if too_long(a) || too_long(b) {
        assert_eq!(
            a.as_ref().err().map(ToString::to_string),
            b.as_ref().err().map(ToString::to_string),
            "{what}: different errors for {:?}",
            String::from_utf8_lossy(data)
        );
    }
}

/// Every reader with a small limit. For big inputs only the stream reader
/// against the sequential one (the paths that find a long line
/// differently; a few bytes a read over a megabyte costs more than it
/// finds).
fn check_limited(data: &[u8], max_line: usize, short_reads: bool) {
    let seq = parse_bytes(data, "fuzz", &limited(false, max_line));
    if short_reads {
        let par = parse_bytes(data, "fuzz", &limited(true, max_line));
        agree_limited("limit: sequential vs parallel", data, &seq, &par);
    }
    let rd = parse_reader(data, "fuzz", &limited(true, max_line));
    agree_limited("limit: parse_bytes vs parse_reader", data, &seq, &rd);
    for max in [3, 64].into_iter().filter(|_| short_reads) {
        let dribble = Dribble { data, pos: 0, max };
        let dr = parse_reader(dribble, "fuzz", &limited(false, max_line));
        agree_limited("limit: short reads", data, &seq, &dr);
    }
    if seq.is_ok() {
        // Lines are counted without their '\n'.
        let longest = data.split(|&b| b == b'\n').map(<[u8]>::len).max();
        assert!(
            longest.unwrap_or(0) <= max_line,
            "a line over the limit of {max_line} parsed: {:?}",
            String::from_utf8_lossy(data)
        );
    }
}

/// A reader that hands out the input a few bytes at a time, with sizes
/// taken from the input itself, so lines straddle read boundaries.
struct Dribble<'a> {
    data: &'a [u8],
    pos: usize,
    max: usize,
}

impl Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.data[self.pos..];
        if rest.is_empty() || buf.is_empty() {
            return Ok(0);
        }
        let want = 1 + usize::from(self.data[self.pos % self.data.len()]) % self.max;
        let n = want.min(rest.len()).min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

/// What a profile says, without the source lines of its blocks (those
/// differ between an input and its written copy).
type Shape = (
    Option<String>,
    Vec<(String, Vec<((u32, u32, u32, u32), u32, u64)>)>,
);

fn shape(p: &Profile) -> Shape {
    let files = p
        .files()
        .iter()
        .map(|f| {
            let blocks = f.blocks().iter().map(|b| (b.key(), b.num_stmt, b.count));
            (f.name().to_string(), blocks.collect())
        })
        .collect();
    (p.mode().map(|m| m.as_str().to_string()), files)
}

fn agree(what: &str, data: &[u8], a: &Result<Profile, Error>, b: &Result<Profile, Error>) {
    match (a, b) {
        (Ok(x), Ok(y)) => {
            assert!(
                x == y,
                "{what}: different profiles for {:?}\n{x:?}\n{y:?}",
                String::from_utf8_lossy(data)
            )
        }
        (Err(x), Err(y)) => {
            if strict() {
                assert_eq!(
                    x.to_string(),
                    y.to_string(),
                    "{what}: different errors for {:?}",
                    String::from_utf8_lossy(data)
                );
            }
        }
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => {
            panic!(
                "{what}: one side failed ({e}) for {:?}",
                String::from_utf8_lossy(data)
            )
        }
    }
}

fn check(data: &[u8]) -> Result<Profile, Error> {
    let seq = parse_bytes(data, "fuzz", &opts(false));
    let par = parse_bytes(data, "fuzz", &opts(true));
    agree("parse_bytes sequential vs parallel", data, &seq, &par);
    let rd = parse_reader(data, "fuzz", &opts(false));
    agree("parse_bytes vs parse_reader", data, &seq, &rd);
    seq
}

fn counts_agree(data: &[u8], p: &Profile) {
    let e = explain(p, ExplainBy::Package);
    let mut sum = ThreeWays::default();
    for r in &e.rows {
        let c = &r.counts;
        assert!(
            c.lines_fully_ran <= c.lines_ran && c.lines_ran <= c.lines,
            "explain: {c:?} for {:?}",
            String::from_utf8_lossy(data)
        );
        sum.add(c);
    }
    assert_eq!(sum, e.total, "explain: packages do not add up");
    assert_eq!(e.total.statements, p.statements());
}

fn round_trip(what: &str, data: &[u8], p: Profile) {
    let mut text = Vec::new();
    write_profile(&mut text, &p).expect("writing to a Vec");
    let again = parse_bytes(&text, "fuzz", &opts(false)).unwrap_or_else(|e| {
        panic!(
            "{what}: written profile does not parse again: {e}\ninput {:?}\nwritten {:?}",
            String::from_utf8_lossy(data),
            String::from_utf8_lossy(&text)
        )
    });
    let (mut p, again) = (shape(&p), shape(&again));
    // Known, and byte-for-byte what gopherage does: a mode line ending in
    // "\r\r" keeps one '\r' in the mode; the writer echoes it and the next
    // parse strips it as a CRLF line end. Expect that, check the rest.
    if let Some(m) = p.0.as_deref().and_then(|m| m.strip_suffix('\r')) {
        p.0 = Some(m.to_string());
    }
    assert!(
        p == again,
        "{what}: round trip changed the profile\ninput {:?}\nwritten {:?}\nfirst {p:?}\nagain {again:?}",
        String::from_utf8_lossy(data),
        String::from_utf8_lossy(&text)
    );
}

/// The first line once, then the rest repeated (each copy ending in a
/// newline) until the whole is past the parallel threshold.
/// FNV-1a, to pick the big inputs by content.
fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn big(data: &[u8]) -> Vec<u8> {
    let (head, body) = match data.iter().position(|&c| c == b'\n') {
        Some(i) => data.split_at(i + 1),
        None => (data, &b""[..]),
    };
    let mut out = Vec::with_capacity(BIG + data.len() + 1);
    out.extend_from_slice(head);
    if !head.ends_with(b"\n") {
        out.push(b'\n');
    }
    if body.is_empty() {
        return out;
    }
    while out.len() < BIG {
        out.extend_from_slice(body);
        if !body.ends_with(b"\n") {
            out.push(b'\n');
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let seq = check(data);
    for max in [3, 64] {
        let dribble = parse_reader(Dribble { data, pos: 0, max }, "fuzz", &opts(false));
        agree(
            "parse_bytes vs parse_reader with short reads",
            data,
            &seq,
            &dribble,
        );
    }
    if let Ok(p) = seq {
        counts_agree(data, &p);
        round_trip("round trip", data, p);
    }
    let max_line = 1 + usize::from(data.first().copied().unwrap_or(0));
    check_limited(data, max_line, true);
    if !data.is_empty() && data.len().is_multiple_of(128) && fnv(data).is_multiple_of(16) {
        let big = big(data);
        if big.len() >= BIG {
            let seq = parse_bytes(&big, "fuzz", &opts(false));
            let par = parse_bytes(&big, "fuzz", &opts(true));
            agree("parse_bytes sequential vs parallel (big)", data, &seq, &par);
            let rd = parse_reader(&big[..], "fuzz", &opts(true));
            agree(
                "parse_bytes vs parse_reader (big, parallel)",
                data,
                &seq,
                &rd,
            );
            if let Ok(p) = seq {
                round_trip("round trip (big)", data, p);
            }
            // Past the stream reader's first buffer: a long line is found
            // while still reading, and must say what parse_bytes says
            // (half of the big inputs, to keep the pace).
            if data.len().is_multiple_of(256) {
                check_limited(&big, max_line, false);
            }
        }
    }
});

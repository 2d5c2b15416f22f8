//! Primitive decoders shared by the meta-data and counter-data readers,
//! written with nom 8, the error type that remembers where they failed,
//! and the matching encoders (ULEB128, string tables) for the writers.

use foldhash::HashMap;
use std::borrow::Cow;

use nom::error::{ContextError, ErrorKind, ParseError};
use nom::{IResult, Parser};

use super::CovdataError;
use crate::error::Error;

pub(crate) type In<'a> = &'a [u8];
pub(crate) type Res<'a, T> = IResult<In<'a>, T, Wire<'a>>;

/// A decoding failure: where (a suffix of the data being read) and what
/// was expected there.
#[derive(Debug)]
pub(crate) struct Wire<'a> {
    at: In<'a>,
    expected: Cow<'static, str>,
    found: Option<String>,
    /// Set once the innermost `context` named the field, so outer
    /// contexts do not overwrite the precise description.
    named: bool,
    eof: bool,
}

impl<'a> ParseError<In<'a>> for Wire<'a> {
    fn from_error_kind(at: In<'a>, kind: ErrorKind) -> Self {
        Wire {
            at,
            expected: format!("valid data ({kind:?})").into(),
            found: None,
            named: false,
            eof: kind == ErrorKind::Eof,
        }
    }

    fn append(_: In<'a>, _: ErrorKind, other: Self) -> Self {
        other
    }
}

impl<'a> ContextError<In<'a>> for Wire<'a> {
    fn add_context(_: In<'a>, ctx: &'static str, mut other: Self) -> Self {
        if !other.named {
            other.expected = ctx.into();
            other.named = true;
        }
        other
    }
}

/// Fails at `at`: `expected` was not there, `found` was.
pub(crate) fn fail<'a, T>(
    at: In<'a>,
    expected: impl Into<Cow<'static, str>>,
    found: impl Into<Option<String>>,
) -> Res<'a, T> {
    Err(failure(at, expected, found))
}

/// The error [`fail`] returns.
pub(crate) fn failure<'a>(
    at: In<'a>,
    expected: impl Into<Cow<'static, str>>,
    found: impl Into<Option<String>>,
) -> nom::Err<Wire<'a>> {
    nom::Err::Failure(Wire {
        at,
        expected: expected.into(),
        found: found.into(),
        named: true,
        eof: false,
    })
}

/// Converts a decoding result over `data` (the whole file, of which every
/// input handed to the parsers is a sub-slice) into the crate's error,
/// with the byte offset of the failure.
pub(crate) fn finish<T>(
    data: &[u8],
    path: &str,
    r: Result<T, nom::Err<Wire<'_>>>,
) -> Result<T, Error> {
    r.map_err(|e| match e {
        nom::Err::Error(w) | nom::Err::Failure(w) => {
            let start = data.as_ptr() as usize;
            let at = w.at.as_ptr() as usize;
            let offset = if at >= start && at <= start + data.len() {
                (at - start) as u64
            } else {
                0
            };
            let found = if w.eof {
                Some(match w.at.len() {
                    0 => "the end of the data".to_string(),
                    1 => "only 1 byte before the end".to_string(),
                    n => format!("only {n} bytes before the end"),
                })
            } else {
                w.found
            };
            Error::Covdata(Box::new(CovdataError {
                path: path.to_string(),
                offset,
                expected: w.expected.into_owned(),
                found,
            }))
        }
        // Complete parsers never ask for more input.
        nom::Err::Incomplete(_) => Error::Covdata(Box::new(CovdataError {
            path: path.to_string(),
            offset: data.len() as u64,
            expected: "more data".into(),
            found: Some("the end of the data".into()),
        })),
    })
}

/// An error for `path` at `offset` found after decoding (a reference that
/// does not resolve, a hash that does not match).
pub(crate) fn mismatch(
    path: &str,
    offset: u64,
    expected: impl Into<String>,
    found: impl Into<Option<String>>,
) -> Error {
    Error::Covdata(Box::new(CovdataError {
        path: path.to_string(),
        offset,
        expected: expected.into(),
        found: found.into(),
    }))
}

/// The offset of `part` within `data` (both slices of one buffer).
pub(crate) fn offset_in(data: &[u8], part: &[u8]) -> u64 {
    (part.as_ptr() as usize).saturating_sub(data.as_ptr() as usize) as u64
}

/// Four magic bytes.
pub(crate) fn magic<'a>(
    want: &'static [u8; 4],
    what: &'static str,
) -> impl Fn(In<'a>) -> Res<'a, ()> {
    move |i: In<'a>| {
        if i.len() < 4 {
            return Err(nom::Err::Failure(Wire {
                at: i,
                expected: what.into(),
                found: None,
                named: true,
                eof: true,
            }));
        }
        if &i[..4] != want {
            return fail(i, what, hex_bytes(&i[..4]));
        }
        Ok((&i[4..], ()))
    }
}

/// An unsigned LEB128 number of at most 64 bits, as Go's
/// `uleb128.AppendUleb128` writes it.
pub(crate) fn uleb(i: In<'_>) -> Res<'_, u64> {
    let mut v: u64 = 0;
    for (k, &b) in i.iter().enumerate() {
        let shift = 7 * k as u32;
        let bits = u64::from(b & 0x7f);
        if shift >= 64 || (shift > 0 && bits >> (64 - shift) != 0) {
            return fail(i, "a ULEB128 number of at most 64 bits", None);
        }
        v |= bits << shift;
        if b & 0x80 == 0 {
            return Ok((&i[k + 1..], v));
        }
    }
    Err(nom::Err::Failure(Wire {
        at: i,
        expected: "a ULEB128 number".into(),
        found: None,
        named: false,
        eof: true,
    }))
}

/// A ULEB128 number that must fit 32 bits (Go truncates silently; a
/// larger value only comes from a corrupt file).
pub(crate) fn uleb32(i: In<'_>) -> Res<'_, u32> {
    let (rest, v) = uleb(i)?;
    match u32::try_from(v) {
        Ok(v) => Ok((rest, v)),
        Err(_) => fail(i, "a ULEB128 number below 2^32", Some(v.to_string())),
    }
}

/// A string table: `uleb(n)`, then `n` times `uleb(len)` and the bytes.
/// Go's strings are bytes; see [`string_table`] for tables that must hold
/// text.
pub(crate) fn byte_string_table(i: In<'_>) -> Res<'_, Vec<&[u8]>> {
    let (mut i, n) = nom::error::context("the string table's entry count", uleb).parse(i)?;
    // Every entry takes at least one byte: refuse absurd counts before
    // allocating for them.
    if n > i.len() as u64 {
        return fail(
            i,
            format!("at most {} string-table entries in the bytes left", i.len()),
            Some(n.to_string()),
        );
    }
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let (rest, len) = nom::error::context("a string length", uleb).parse(i)?;
        let (rest, bytes) = nom::error::context(
            "the bytes of a string",
            nom::bytes::complete::take(usize::try_from(len).unwrap_or(usize::MAX)),
        )
        .parse(rest)?;
        out.push(bytes);
        i = rest;
    }
    Ok((i, out))
}

/// A string table whose strings must be UTF-8 (the meta-data's package
/// paths, function and file names, which covlens handles as text).
pub(crate) fn string_table(i: In<'_>) -> Res<'_, Vec<&str>> {
    let (rest, raw) = byte_string_table(i)?;
    let mut out = Vec::with_capacity(raw.len());
    for bytes in raw {
        match std::str::from_utf8(bytes) {
            Ok(s) => out.push(s),
            Err(_) => {
                let end = offset_in(i, bytes) as usize + bytes.len();
                return fail(
                    &i[end..],
                    "a UTF-8 string",
                    Some(format!("{:?}", String::from_utf8_lossy(bytes))),
                );
            }
        }
    }
    Ok((rest, out))
}

/// Lowercase hex, as Go's `%x` prints hashes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Bytes as `00 63 77 6d`.
fn hex_bytes(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

// Encoders, for the files `covdata merge|subtract|intersect` writes.

/// Appends `v` as ULEB128, the inverse of [`uleb`].
pub(crate) fn put_uleb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Go's `stringtab.Writer`: strings (bytes, as Go's) interned in
/// first-use order.
#[derive(Default)]
pub(crate) struct StrTab {
    pub(crate) strs: Vec<Vec<u8>>,
    index: HashMap<Vec<u8>, u32>,
}

impl StrTab {
    pub(crate) fn lookup(&mut self, s: impl AsRef<[u8]>) -> u32 {
        let s = s.as_ref();
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.strs.len() as u32;
        self.strs.push(s.to_vec());
        self.index.insert(s.to_vec(), i);
        i
    }

    pub(crate) fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_uleb(&mut out, self.strs.len() as u64);
        for s in &self.strs {
            put_uleb(&mut out, s.len() as u64);
            out.extend_from_slice(s);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uleb_values_and_errors() {
        assert_eq!(uleb(&[0x00]).unwrap().1, 0);
        assert_eq!(uleb(&[0x7f, 9]).unwrap(), (&[9u8][..], 127));
        assert_eq!(uleb(&[0xe5, 0x8e, 0x26]).unwrap().1, 624_485);
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(uleb(&max).unwrap().1, u64::MAX);
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(uleb(&over).is_err());
        assert!(uleb(&[0x80, 0x80]).is_err());
        assert!(uleb(&[]).is_err());
        assert!(uleb32(&[0x80, 0x80, 0x80, 0x80, 0x10]).is_err());
        assert_eq!(uleb32(&[0xff, 0xff, 0xff, 0xff, 0x0f]).unwrap().1, u32::MAX);
    }

    #[test]
    fn string_tables() {
        let data = [3u8, 0, 3, b'a', b'b', b'c', 1, b'x', 7];
        let (rest, t) = string_table(&data).unwrap();
        assert_eq!(t, vec!["", "abc", "x"]);
        assert_eq!(rest, &[7]);
        let data = [2u8, 0, 5, b'a'];
        let e = finish(&data, "f", string_table(&data).map(|x| x.1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f: at byte offset 3: expected the bytes of a string, found only 1 byte before the end"
        );
        let data = [200u8, 1, 0];
        assert!(string_table(&data).is_err());
        // Bytes are bytes; only text tables insist on UTF-8.
        let data = [2u8, 0, 4, b'c', b'a', b'f', 0xe9];
        assert_eq!(byte_string_table(&data).unwrap().1, [&b""[..], b"caf\xe9"]);
        let e = finish(&data, "f", string_table(&data).map(|x| x.1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f: at byte offset 7: expected a UTF-8 string, found \"caf\u{fffd}\""
        );
    }
}

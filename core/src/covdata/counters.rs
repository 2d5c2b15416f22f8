//! The counter-data file (`covcounters.<hash>.<pid>.<nanos>`): one
//! snapshot of a process's counters, as segments of function records.

use std::fs::File;
use std::io::Read;

use nom::Parser;
use nom::bytes::complete::take;
use nom::error::context;
use nom::number::complete::{be_u32, le_u32, le_u64, u8 as byte};

use super::wire::{In, Res, byte_string_table, fail, finish, magic, offset_in, uleb32};
use crate::error::Error;

/// The first four bytes of a counter-data file.
pub const COUNTER_MAGIC: &[u8; 4] = b"\x00cwm";
const FOOTER_LEN: usize = 16;
const MAGIC_TEXT: &str = "the counter-data file magic 00 63 77 6d";

/// How counter values are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// Fixed 4-byte values, little- or big-endian.
    Raw,
    /// ULEB128 values (what every Go writer uses).
    Uleb128,
}

/// One function's counters in a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// Package index in the meta-data file.
    pub pkg: u32,
    /// Function index in that package.
    pub func: u32,
    /// Offset of the record in the file (for error messages).
    pub offset: u64,
    start: u32,
    len: u32,
}

/// An args key and its value. Go's strings are bytes, and so are these: a
/// program's arguments need not be UTF-8 (`./prog $'caf\xe9'`).
pub type Arg = (Vec<u8>, Vec<u8>);

/// One segment: the program's arguments and the live functions' counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    /// Key/value pairs (`argc`, `argv0`…, `GOOS`, `GOARCH`), sorted by key.
    pub args: Vec<Arg>,
    records: Vec<Record>,
    values: Vec<u32>,
}

impl Segment {
    /// The function records in file order.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The counters of `r` (a record of this segment).
    pub fn counters(&self, r: &Record) -> &[u32] {
        &self.values[r.start as usize..(r.start + r.len) as usize]
    }

    /// An argument's value.
    pub fn arg(&self, key: &str) -> Option<&[u8]> {
        self.args
            .binary_search_by(|(k, _)| k.as_slice().cmp(key.as_bytes()))
            .ok()
            .map(|i| self.args[i].1.as_slice())
    }

    /// The process id covflush marks its cumulative snapshots with
    /// ([`SNAPSHOT_KEY`]), if this segment has one.
    pub fn snapshot_process(&self) -> Option<&str> {
        self.arg(SNAPSHOT_KEY)
            .and_then(|p| std::str::from_utf8(p).ok())
            .filter(|p| !p.is_empty())
    }

    /// The program's command line (`argv0`… up to `argc`), as bytes. An
    /// `argc` above the number of args entries counts as that number: a
    /// small file cannot claim a billion arguments.
    pub fn os_args(&self) -> Vec<&[u8]> {
        let n: usize = self
            .arg("argc")
            .and_then(|s| std::str::from_utf8(s).ok())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let n = n.min(self.args.len());
        (0..n)
            .map(|k| self.arg(&format!("argv{k}")).unwrap_or(b""))
            .collect()
    }
}

/// The args key under which covflush marks its counter files as
/// cumulative snapshots of a running process; the value is the process's
/// id, random per process start (pids repeat: pid 1 in every restarted
/// container). Of the files marked with one id, the one with the largest
/// timestamp in its name is the newest and contains the others. Go's
/// readers ignore args keys other than `argc`, `argv*`, `GOOS` and
/// `GOARCH`, so marked files stay valid Go files.
pub const SNAPSHOT_KEY: &str = "covflush.process";

/// Reads only the start of the counter file at `path` (header, first
/// segment's string and args tables) and returns the process id of its
/// snapshot mark, as [`head_snapshot_process`].
pub(crate) fn read_snapshot_process(file: &super::FileData) -> Option<String> {
    let path = match file {
        super::FileData::Path(p) => p,
        super::FileData::Memory(b) => return head_snapshot_process(b, b.len() as u64),
    };
    let mut f = File::open(path).ok()?;
    let size = f.metadata().ok()?.len();
    let mut head = vec![0u8; 48];
    f.read_exact(&mut head).ok()?;
    let tables = head_tables_len(&head, size)?;
    head.resize(48 + tables, 0);
    f.read_exact(&mut head[48..]).ok()?;
    head_snapshot_process(&head, size)
}

/// The length of the first segment's string and args tables, if they lie
/// inside a counter file of `size` bytes, before its footer.
fn head_tables_len(head: &[u8], size: u64) -> Option<usize> {
    if head.get(..4)? != COUNTER_MAGIC {
        return None;
    }
    let strtab = u64::from(u32::from_le_bytes(head.get(40..44)?.try_into().ok()?));
    let args = u64::from(u32::from_le_bytes(head.get(44..48)?.try_into().ok()?));
    (48 + strtab + args + FOOTER_LEN as u64 <= size).then_some((strtab + args) as usize)
}

/// The process id of a counter file's snapshot mark ([`SNAPSHOT_KEY`]),
/// from the start of the file only: `head` holds at least the header and
/// the first segment's string and args tables of a file of `size` bytes.
/// `None` for a file without a mark, and for anything malformed there
/// (such a file counts in full, and reading it whole reports what is
/// wrong with it). On a file [`parse_counters`] accepts, the same as its
/// first segment's [`Segment::snapshot_process`].
pub fn head_snapshot_process(head: &[u8], size: u64) -> Option<String> {
    let tables = head_tables_len(head, size)?;
    let strtab = u32::from_le_bytes(head[40..44].try_into().ok()?) as usize;
    let (st, at) = head.get(48..48 + tables)?.split_at(strtab);
    let (_, strings) = byte_string_table(st).ok()?;
    let args = args_table(at, &strings).ok()?;
    let seg = Segment {
        args,
        ..Segment::default()
    };
    seg.snapshot_process().map(str::to_string)
}

/// A decoded counter-data file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterFile {
    /// The hash of the meta-data file this file belongs to.
    pub meta_hash: [u8; 16],
    /// Value encoding.
    pub flavor: Flavor,
    /// Whether raw values are big-endian.
    pub big_endian: bool,
    /// The segments (Go writes one; every one is read).
    pub segments: Vec<Segment>,
}

/// Decodes a counter-data file; `path` names it in errors.
///
/// Every segment is read. Go's own reader reads only the first one (no Go
/// writer produces more); a segment's records start after its string and
/// args tables padded to a multiple of 4 from the segment's start, as Go's
/// writer pads them.
pub fn parse_counters(data: &[u8], path: &str) -> Result<CounterFile, Error> {
    finish(data, path, counter_file(data).map(|(_, c)| c))
}

fn counter_file(data: In<'_>) -> Res<'_, CounterFile> {
    let (i, ()) = magic(COUNTER_MAGIC, MAGIC_TEXT)(data)?;
    let at = i;
    let (i, version) = context("the version (4 bytes)", le_u32).parse(i)?;
    if version > 1 {
        return fail(
            at,
            "counter-data file version 1",
            Some(format!("version {version}")),
        );
    }
    let (i, hash) = context("the meta-data hash (16 bytes)", take(16usize)).parse(i)?;
    let at = i;
    let (i, flavor) = context("the counter flavor", byte).parse(i)?;
    let flavor = match flavor {
        1 => Flavor::Raw,
        2 => Flavor::Uleb128,
        f => {
            return fail(
                at,
                "counter flavor 1 (raw) or 2 (ULEB128)",
                Some(f.to_string()),
            );
        }
    };
    let at = i;
    let (i, big) = context("the big-endian flag", byte).parse(i)?;
    if big > 1 {
        return fail(at, "a big-endian flag of 0 or 1", Some(big.to_string()));
    }
    let (body, _pad) = context("the header padding (6 bytes)", take(6usize)).parse(i)?;
    if body.len() < 16 + FOOTER_LEN {
        return fail(
            body,
            "a segment header (16 bytes) and the footer (16 bytes) after the file header",
            Some(format!("{} bytes", body.len())),
        );
    }
    let footer = &data[data.len() - FOOTER_LEN..];
    let (_, nseg) = footer_of(footer, None)?;
    if nseg as usize > (body.len() - FOOTER_LEN) / 16 + 1 {
        return fail(
            &footer[8..],
            "a segment count that fits the file",
            Some(nseg.to_string()),
        );
    }
    let mut segments = Vec::with_capacity(nseg as usize);
    // Segments lie between the header and the final footer.
    let mut i = &body[..body.len() - FOOTER_LEN];
    for s in 0..nseg {
        if s > 0 {
            let (rest, _) = footer_of(i, Some(s))?;
            i = rest;
        }
        let (rest, seg) = segment(data, i, flavor, big == 1)?;
        segments.push(seg);
        i = rest;
    }
    if !i.is_empty() {
        return fail(
            i,
            "the file footer right after the last function record",
            Some(format!("{} more bytes", i.len())),
        );
    }
    let mut meta_hash = [0u8; 16];
    meta_hash.copy_from_slice(hash);
    Ok((
        &data[data.len()..],
        CounterFile {
            meta_hash,
            flavor,
            big_endian: big == 1,
            segments,
        },
    ))
}

/// A footer: magic, padding, segment count, padding. Inside the file
/// (`want = Some(k)`) it closes segment `k - 1` and must say `k`.
fn footer_of(i: In<'_>, want: Option<u32>) -> Res<'_, u32> {
    let what = match want {
        None => "the counter-data file magic 00 63 77 6d in the footer (the last 16 bytes)",
        Some(_) => "a segment footer (counter-data magic 00 63 77 6d) after the segment's records",
    };
    let (r, ()) = magic(COUNTER_MAGIC, what)(i)?;
    let (r, _) = context("the footer padding", take(4usize)).parse(r)?;
    let at = r;
    let (r, n) = context("the footer's segment count", le_u32).parse(r)?;
    let (r, _) = context("the footer padding", take(4usize)).parse(r)?;
    match want {
        None if n == 0 => fail(at, "at least one segment", Some("0".to_string())),
        Some(k) if n != k => fail(
            at,
            format!("segment count {k} in the footer of segment {}", k - 1),
            Some(n.to_string()),
        ),
        _ => Ok((r, n)),
    }
}

fn segment<'a>(data: In<'a>, start: In<'a>, flavor: Flavor, big: bool) -> Res<'a, Segment> {
    let i = start;
    let entries_at = i;
    let (i, entries) = context("the segment's function count (8 bytes)", le_u64).parse(i)?;
    let (i, strtab_len) = context("the segment's string table length", le_u32).parse(i)?;
    let (i, args_len) = context("the segment's args length", le_u32).parse(i)?;
    let (i, st) = context("the segment's string table", take(strtab_len as usize)).parse(i)?;
    let (_, strings) = context("the segment's string table", byte_string_table).parse(st)?;
    let (i, args) = context("the segment's args table", take(args_len as usize)).parse(i)?;
    let args = args_table(args, &strings)?;
    // Records start 4-aligned from the segment start (Go's writer pads the
    // args table so; for the first segment this is the absolute alignment
    // Go's reader applies).
    let used = 16 + strtab_len as usize + args_len as usize;
    let pad = (4 - used % 4) % 4;
    let (mut i, _) = context("the padding after the args table", take(pad)).parse(i)?;
    let min_rec = match flavor {
        Flavor::Uleb128 => 3,
        Flavor::Raw => 12,
    };
    if entries > (i.len() / min_rec) as u64 {
        return fail(
            entries_at,
            format!(
                "at most {} function records ({min_rec} bytes at least each) in the rest of the file",
                i.len() / min_rec
            ),
            Some(entries.to_string()),
        );
    }
    let value = |i: In<'a>| -> Res<'a, u32> {
        match (flavor, big) {
            (Flavor::Uleb128, _) => uleb32(i),
            (Flavor::Raw, false) => le_u32(i),
            (Flavor::Raw, true) => be_u32(i),
        }
    };
    let mut seg = Segment {
        args,
        records: Vec::with_capacity(entries as usize),
        values: Vec::new(),
    };
    for _ in 0..entries {
        let rec_at = i;
        // The fast path decodes well-formed records; anything it does not
        // accept goes through the nom parsers below, which say what is
        // wrong and where.
        if let Some((used, n, pkg, func)) = fast_record(i, flavor, big, &mut seg.values) {
            seg.records.push(Record {
                pkg,
                func,
                offset: offset_in(data, rec_at),
                start: (seg.values.len() - n as usize) as u32,
                len: n,
            });
            i = &i[used..];
            continue;
        }
        let (r, (n, pkg, func)) = context(
            "a function record (counter count, package index, function index)",
            (value, value, value),
        )
        .parse(i)?;
        let min_val = min_rec / 3;
        if n as usize > r.len() / min_val {
            return fail(
                rec_at,
                format!(
                    "a counter count that fits the rest of the file (at most {})",
                    r.len() / min_val
                ),
                Some(n.to_string()),
            );
        }
        let start = seg.values.len();
        let mut r = r;
        for _ in 0..n {
            let (rest, v) = context("a counter value", value).parse(r)?;
            seg.values.push(v);
            r = rest;
        }
        seg.records.push(Record {
            pkg,
            func,
            offset: offset_in(data, rec_at),
            start: start as u32,
            len: n,
        });
        i = r;
    }
    Ok((i, seg))
}

/// Decodes one record (count, package, function, counters) without
/// error reporting, appending the counters to `values`. Returns the bytes
/// used and the header fields, or `None` (with `values` unchanged) when
/// the record is not plainly well-formed.
#[inline]
fn fast_record(
    i: &[u8],
    flavor: Flavor,
    big: bool,
    values: &mut Vec<u32>,
) -> Option<(usize, u32, u32, u32)> {
    let mut pos = 0usize;
    let read = |pos: &mut usize| -> Option<u32> {
        match flavor {
            Flavor::Uleb128 => {
                let mut v: u32 = 0;
                for shift in [0u32, 7, 14, 21, 28] {
                    let b = *i.get(*pos)?;
                    *pos += 1;
                    if shift == 28 && b > 0x0f {
                        return None;
                    }
                    v |= u32::from(b & 0x7f) << shift;
                    if b < 0x80 {
                        return Some(v);
                    }
                }
                None
            }
            Flavor::Raw => {
                let b: [u8; 4] = i.get(*pos..*pos + 4)?.try_into().ok()?;
                *pos += 4;
                Some(if big {
                    u32::from_be_bytes(b)
                } else {
                    u32::from_le_bytes(b)
                })
            }
        }
    };
    let n = read(&mut pos)?;
    let pkg = read(&mut pos)?;
    let func = read(&mut pos)?;
    if n as usize > i.len() - pos {
        return None;
    }
    let start = values.len();
    values.reserve(n as usize);
    for _ in 0..n {
        match read(&mut pos) {
            Some(v) => values.push(v),
            None => {
                values.truncate(start);
                return None;
            }
        }
    }
    Some((pos, n, pkg, func))
}

/// `uleb(npairs)`, then key and value string indices; keys unique.
fn args_table<'a>(
    a: In<'a>,
    strings: &[&[u8]],
) -> Result<Vec<Arg>, nom::Err<super::wire::Wire<'a>>> {
    if a.is_empty() {
        return Ok(Vec::new());
    }
    let (mut i, n) = context("the number of args", uleb32).parse(a)?;
    if n as usize > i.len() / 2 {
        return fail(
            a,
            "an args count that fits the args table",
            Some(n.to_string()),
        )
        .map(|(_, v)| v);
    }
    let mut out: Vec<Arg> = Vec::with_capacity(n as usize);
    let mut keys = foldhash::HashSet::default();
    for _ in 0..n {
        let at = i;
        let (r, (k, v)) = context("an args key and value index", (uleb32, uleb32)).parse(i)?;
        let (Some(k), Some(v)) = (strings.get(k as usize), strings.get(v as usize)) else {
            return fail(
                at,
                format!(
                    "string indices below {} (malformed string table ref)",
                    strings.len()
                ),
                Some(format!("{k} and {v}")),
            )
            .map(|(_, v)| v);
        };
        if !keys.insert(k) {
            return fail(
                at,
                "args keys without repeats (malformed args table)",
                Some(format!("{:?} again", String::from_utf8_lossy(k))),
            )
            .map(|(_, v)| v);
        }
        if *k == b"argc"
            && std::str::from_utf8(v)
                .ok()
                .and_then(|v| v.parse::<i64>().ok())
                .is_none()
        {
            return fail(
                at,
                "an integer argc",
                Some(format!("{:?}", String::from_utf8_lossy(v))),
            )
            .map(|(_, v)| v);
        }
        out.push((k.to_vec(), v.to_vec()));
        i = r;
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-segment ULEB128 file with the given record bytes.
    fn file(records: &[u8], nrec: u64) -> Vec<u8> {
        let mut f = b"\x00cwm\x01\x00\x00\x00".to_vec();
        f.extend_from_slice(&[7; 16]);
        f.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 0]);
        f.extend_from_slice(&nrec.to_le_bytes());
        f.extend_from_slice(&2u32.to_le_bytes()); // string table [""]
        f.extend_from_slice(&2u32.to_le_bytes()); // no args, padded
        f.extend_from_slice(&[1, 0, 0, 0]);
        f.extend_from_slice(records);
        f.extend_from_slice(b"\x00cwm\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00");
        f
    }

    #[test]
    fn fast_and_careful_paths_agree() {
        // Minimal encodings (fast path), then a non-minimal one and a
        // value of 2^32-1 in five bytes.
        let recs = [
            2, 0, 1, 5, 0x80, 0x01, // 2 counters: 5, 128
            1, 0, 2, 0x85, 0x80, 0x80, 0x80, 0x80, 0x00, // 5, in six bytes
            1, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f,
        ];
        let c = parse_counters(&file(&recs, 3), "x").unwrap();
        let seg = &c.segments[0];
        let got: Vec<(u32, u32, Vec<u32>)> = seg
            .records()
            .iter()
            .map(|r| (r.pkg, r.func, seg.counters(r).to_vec()))
            .collect();
        assert_eq!(
            got,
            [
                (0, 1, vec![5, 128]),
                (0, 2, vec![5]),
                (1, 0, vec![u32::MAX])
            ]
        );
        assert_eq!(seg.records()[1].offset, 52 + 6);
        // Too large for 32 bits: an error at the value.
        let e = parse_counters(&file(&[1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x1f], 1), "x")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "x: at byte offset 55: expected a ULEB128 number below 2^32, found 8589934591"
        );
        // A count larger than what is left.
        let e = parse_counters(&file(&[9, 0, 0, 1], 1), "x")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("x: at byte offset 52: expected a counter count"),
            "{e}"
        );
    }
}

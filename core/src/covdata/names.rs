//! What a GOCOVERDIR file is, from its name and its header: the one parser
//! of `covmeta.<hash>` / `covcounters.<hash>.<pid>.<nanos>` names (Go's
//! rules, from `internal/coverage/pods`) and the one check of a meta-data
//! file's header against the file. The directory reader uses both, and so
//! does the collector, which must tell a complete file from a partial one
//! before it ships it.

use nom::Parser;
use nom::bytes::complete::take;
use nom::error::context;
use nom::multi::count;
use nom::number::complete::{le_u32, le_u64, u8 as byte};

use super::meta::{CounterMode, Granularity};
use super::wire::{In, Res, Wire, fail, failure, finish, hex, magic};
use crate::error::Error;

/// The first four bytes of a meta-data file.
pub const META_MAGIC: &[u8; 4] = b"\x00cvm";
/// Bytes of a meta-data file's header.
pub(crate) const META_HEADER_LEN: usize = 56;

/// A coverage file name, matched as Go matches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileName<'a> {
    /// `covmeta.<hash>`.
    Meta {
        /// The file hash as named: any text without white space (the
        /// runtime writes 32 hex digits, see [`is_runtime_hash`]).
        hash: &'a str,
    },
    /// `covcounters.<hash>.<pid>.<nanos>`.
    Counters {
        /// The meta-data file's hash, as in [`FileName::Meta`].
        hash: &'a str,
        /// The writer's process id (0 for `covdata merge` output); a name
        /// whose pid does not fit Go's `int` does not match, as in Go.
        pid: i64,
        /// The timestamp (`UnixNano`), decimal digits; larger is newer.
        nanos: &'a str,
    },
}

impl<'a> FileName<'a> {
    /// Parses a base name; `None` for anything Go's reader ignores,
    /// temporary `tmp.*` files included.
    pub fn parse(base: &'a str) -> Option<FileName<'a>> {
        if let Some(hash) = base.strip_prefix("covmeta.") {
            return is_tag(hash).then_some(FileName::Meta { hash });
        }
        // `^covcounters\.(\S+)\.(\d+)\.(\d+)+$`
        let rest = base.strip_prefix("covcounters.")?;
        let (head, nanos) = rest.rsplit_once('.')?;
        let (hash, pid) = head.rsplit_once('.')?;
        if !is_tag(hash) || !is_digits(pid) || !is_digits(nanos) {
            return None;
        }
        Some(FileName::Counters {
            hash,
            pid: pid.parse().ok()?,
            nanos,
        })
    }

    /// The meta-data hash the name carries.
    pub fn hash(&self) -> &'a str {
        match *self {
            FileName::Meta { hash } | FileName::Counters { hash, .. } => hash,
        }
    }
}

/// RE2's `\S+`: not empty, none of the characters `\s` matches.
fn is_tag(s: &str) -> bool {
    !s.is_empty()
        && !s
            .chars()
            .any(|c| matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' '))
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a name's hash is one the Go runtime (or `covdata merge`)
/// writes: 32 lowercase hex digits. Go's reader accepts any tag; names
/// such as `covmeta.<H><nanos>`, the temporary names of older runtimes,
/// fail this test.
pub fn is_runtime_hash(hash: &str) -> bool {
    hash.len() == 32
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A hash as it appears in file names (lowercase hex).
pub fn hash_hex(hash: &[u8; 16]) -> String {
    hex(hash)
}

/// A meta-data file's header, checked against the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaHeader {
    /// The file hash, which names the file and its counter files.
    pub hash: [u8; 16],
    /// Counter mode.
    pub mode: CounterMode,
    /// Counter granularity.
    pub granularity: Granularity,
    /// Number of packages.
    pub packages: usize,
}

impl MetaHeader {
    /// The file hash as it appears in file names.
    pub fn hash_hex(&self) -> String {
        hex(&self.hash)
    }
}

/// Checks a meta-data file's header against the file without decoding
/// its packages: magic, version, total length equal to the file's size,
/// counter mode and granularity, and the package table and string table
/// inside the file. A file cut short or grown fails; [`parse_meta`]
/// (which starts with this check) also verifies every package. `path`
/// names the file in errors.
///
/// [`parse_meta`]: super::parse_meta
pub fn check_meta_header(data: &[u8], path: &str) -> Result<MetaHeader, Error> {
    finish(data, path, meta_layout(data).map(|l| l.header))
}

/// Where the parts of a meta-data file lie, per its checked header.
pub(crate) struct MetaLayout<'a> {
    pub(crate) header: MetaHeader,
    /// The header's hash field (for errors about it).
    pub(crate) hash_at: In<'a>,
    /// (offset, length) of each package blob: inside the file, after the
    /// string table.
    pub(crate) blobs: Vec<(usize, usize)>,
    /// The string table.
    pub(crate) strings: In<'a>,
}

/// The header check of [`check_meta_header`], for the decoder.
pub(crate) fn meta_layout(data: In<'_>) -> Result<MetaLayout<'_>, nom::Err<Wire<'_>>> {
    let (_, hdr) = header(data)?;
    if hdr.total_len != data.len() as u64 {
        return Err(failure(
            &data[8..],
            format!("the total length {} (the file size)", data.len()),
            Some(hdr.total_len.to_string()),
        ));
    }
    let entries = hdr.entries;
    let stroff = hdr.stroff as usize;
    let strlen = hdr.strlen as usize;
    let i = &data[META_HEADER_LEN..];
    if entries > (i.len() / 16) as u64 {
        return Err(failure(
            &data[16..],
            format!(
                "at most {} packages (16 bytes of offset and length each in the rest of the file)",
                i.len() / 16
            ),
            Some(entries.to_string()),
        ));
    }
    let n = entries as usize;
    let (i, offsets) = context("the package offset table", count(le_u64, n)).parse(i)?;
    let (_, lengths) = context("the package length table", count(le_u64, n)).parse(i)?;
    let table_end = META_HEADER_LEN + 16 * n;
    if stroff != table_end || stroff.checked_add(strlen).is_none_or(|e| e > data.len()) {
        return Err(failure(
            &data[40..],
            format!("a string table at offset {table_end} inside the file"),
            Some(format!("offset {stroff}, length {strlen}")),
        ));
    }
    let mut blobs = Vec::with_capacity(n);
    // Blobs follow each other, as Go writes them: one blob under many
    // entries would make a small file cost memory for each.
    let mut after = (stroff + strlen) as u64;
    for (k, (&off, &len)) in offsets.iter().zip(&lengths).enumerate() {
        let end = off.checked_add(len).filter(|&e| e <= data.len() as u64);
        let Some(end) = end.filter(|_| off >= after) else {
            return Err(failure(
                &data[META_HEADER_LEN + 8 * k..],
                format!(
                    "package {k}'s offset and length ({off}+{len}) inside the file's {} bytes, at or after byte {after} (the end of the {})",
                    data.len(),
                    if k == 0 {
                        "string table"
                    } else {
                        "previous package"
                    }
                ),
                None,
            ));
        };
        after = end;
        blobs.push((off as usize, len as usize));
    }
    Ok(MetaLayout {
        header: MetaHeader {
            hash: hdr.hash,
            mode: hdr.mode,
            granularity: hdr.granularity,
            packages: n,
        },
        hash_at: hdr.hash_at,
        blobs,
        strings: &data[stroff..stroff + strlen],
    })
}

struct Header<'a> {
    total_len: u64,
    entries: u64,
    stroff: u32,
    strlen: u32,
    hash: [u8; 16],
    hash_at: In<'a>,
    mode: CounterMode,
    granularity: Granularity,
}

fn header(i: In<'_>) -> Res<'_, Header<'_>> {
    let (i, ()) = magic(META_MAGIC, "the meta-data file magic 00 63 76 6d")(i)?;
    let at = i;
    let (i, version) = context("the version (4 bytes)", le_u32).parse(i)?;
    if version > 1 {
        return fail(
            at,
            "meta-data file version 1",
            Some(format!("version {version}")),
        );
    }
    let (i, total_len) = context("the total length (8 bytes)", le_u64).parse(i)?;
    let (i, entries) = context("the package count (8 bytes)", le_u64).parse(i)?;
    let hash_at = i;
    let (i, hash) = context("the file hash (16 bytes)", take(16usize)).parse(i)?;
    let (i, stroff) = context("the string table offset", le_u32).parse(i)?;
    let (i, strlen) = context("the string table length", le_u32).parse(i)?;
    let at = i;
    let (i, mode) = context("the counter mode", byte).parse(i)?;
    let Some(mode) = CounterMode::from_byte(mode) else {
        return fail(
            at,
            "counter mode 1 (set), 2 (count) or 3 (atomic)",
            Some(mode.to_string()),
        );
    };
    let at = i;
    let (i, gran) = context("the counter granularity", byte).parse(i)?;
    let granularity = match gran {
        1 => Granularity::PerBlock,
        2 => Granularity::PerFunc,
        g => {
            return fail(
                at,
                "counter granularity 1 (perblock) or 2 (perfunc)",
                Some(g.to_string()),
            );
        }
    };
    let (i, _pad) = context("the header padding (6 bytes)", take(6usize)).parse(i)?;
    let mut h = [0u8; 16];
    h.copy_from_slice(hash);
    Ok((
        i,
        Header {
            total_len,
            entries,
            stroff,
            strlen,
            hash: h,
            hash_at,
            mode,
            granularity,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(hash: &str) -> Option<&str> {
        match FileName::parse(hash)? {
            FileName::Meta { hash } => Some(hash),
            FileName::Counters { .. } => None,
        }
    }

    fn counters(base: &str) -> Option<(&str, i64, &str)> {
        match FileName::parse(base)? {
            FileName::Counters { hash, pid, nanos } => Some((hash, pid, nanos)),
            FileName::Meta { .. } => None,
        }
    }

    #[test]
    fn names_like_go() {
        assert_eq!(meta("covmeta.abc"), Some("abc"));
        assert_eq!(meta("covmeta."), None);
        assert_eq!(meta("tmp.covmeta.abc"), None);
        assert_eq!(meta("covmeta.a b"), None);
        assert_eq!(
            counters("covcounters.60f6.17783.1795638555312256717"),
            Some(("60f6", 17783, "1795638555312256717"))
        );
        assert_eq!(counters("covcounters.a.b.1.2"), Some(("a.b", 1, "2")));
        assert_eq!(counters("covcounters.a.1"), None);
        assert_eq!(counters("covcounters.a.x.2"), None);
        assert_eq!(counters("tmp.covcounters.a.1.2"), None);
        assert_eq!(counters("covcounters.a.99999999999999999999.2"), None);
        assert_eq!(counters("covcounters.a.1.2.json"), None);
        assert_eq!(FileName::parse("metafiles.txt"), None);
    }

    #[test]
    fn runtime_hashes() {
        let h = "0123456789abcdef0123456789abcdef";
        assert!(is_runtime_hash(h));
        assert_eq!(FileName::parse(&format!("covmeta.{h}")).unwrap().hash(), h);
        for bad in [
            format!("{h}123"),
            h[1..].to_string(),
            h.to_uppercase(),
            String::new(),
        ] {
            assert!(!is_runtime_hash(&bad), "{bad}");
        }
        assert_eq!(hash_hex(&[0xab; 16]), "ab".repeat(16));
    }

    /// A header for `n` packages of 8 bytes each after an empty string
    /// table.
    fn meta_file(hash: [u8; 16], n: u64) -> Vec<u8> {
        let table_end = META_HEADER_LEN as u64 + 16 * n;
        let total = table_end + 8 * n;
        let mut b = META_MAGIC.to_vec();
        b.extend(1u32.to_le_bytes());
        b.extend(total.to_le_bytes());
        b.extend(n.to_le_bytes());
        b.extend(hash);
        b.extend((table_end as u32).to_le_bytes());
        b.extend(0u32.to_le_bytes());
        b.extend([3, 1, 0, 0, 0, 0, 0, 0]);
        for k in 0..n {
            b.extend((table_end + 8 * k).to_le_bytes());
        }
        for _ in 0..n {
            b.extend(8u64.to_le_bytes());
        }
        b.resize(total as usize, 0);
        b
    }

    #[test]
    fn meta_headers_are_checked_against_the_file() {
        let m = meta_file([9; 16], 2);
        let h = check_meta_header(&m, "covmeta.x").unwrap();
        assert_eq!(h.hash_hex(), "09".repeat(16));
        assert_eq!((h.mode, h.packages), (CounterMode::Atomic, 2));
        for n in 0..m.len() {
            assert!(check_meta_header(&m[..n], "f").is_err(), "cut at {n}");
        }
        let mut grown = m.clone();
        grown.push(0);
        let e = check_meta_header(&grown, "f").unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "f: at byte offset 8: expected the total length {} (the file size), found {}",
                m.len() + 1,
                m.len()
            )
        );
        let mut outside = m.clone();
        outside[META_HEADER_LEN + 8..META_HEADER_LEN + 16].copy_from_slice(&999u64.to_le_bytes());
        let e = check_meta_header(&outside, "f").unwrap_err().to_string();
        assert!(e.contains("package 1's offset and length"), "{e}");
        let mut mode = m;
        mode[48] = 7;
        assert!(check_meta_header(&mode, "f").is_err());
    }
}

//! A hostile profile's blocks over arbitrary source bytes, through the
//! report's source view (`covlens report`/`html`, the Prow reporter's
//! sites): the blocks kept, coloured by count, and those `//
//! coverage-ignore` left out, greyed.
//!
//! Whatever the blocks (overlapping, backwards, past the end) and the
//! bytes, the view may not panic, has one line per source line, keeps
//! every line's text exactly (as lossy UTF-8, escaped, controls and bidi characters shown as
//! U+FFFD), and its only
//! markup is its own flat spans: no byte of the source or the profile
//! becomes a tag or an attribute.

#![no_main]

use covlens_core::Block;
use covlens_report_templates::source_lines;
use libfuzzer_sys::fuzz_target;

/// Blocks from 5 bytes each: positions within a few lines and columns of
/// each other, so they land in the source and overlap often.
fn blocks(bytes: &[u8]) -> Vec<Block> {
    bytes
        .chunks_exact(5)
        .map(|b| {
            let line = |x: u8| u32::from(x % 12) + 1;
            let col = |x: u8| u32::from(x / 12 % 20) + 1;
            Block::new(
                (line(b[0]), col(b[0])),
                (line(b[1]), col(b[1])),
                u32::from(b[2] % 4),
                u64::from(b[3]) * u64::from(b[4]),
            )
        })
        .collect()
}

/// The text of a line of the view: tags dropped, entities read back.
fn text_of(html: &str, max_k: usize, ignored: bool) -> String {
    let mut out = String::new();
    let mut rest = html;
    let mut open = false;
    while let Some(i) = rest.find(['<', '&']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('<') {
            let end = rest.find('>').expect("a tag ends");
            let tag = &rest[..=end];
            if tag == "</span>" {
                assert!(open, "{html}");
                open = false;
            } else {
                assert!(!open, "nested span: {html}");
                open = true;
                if tag == "<span class=\"ign\" title=\"left out by coverage-ignore\">" {
                    assert!(ignored, "{html}");
                } else {
                    let fields: Vec<&str> = tag.split('"').collect();
                    assert_eq!(fields.len(), 7, "{tag}");
                    assert_eq!(fields[0], "<span class=");
                    let cls: u32 = fields[1].strip_prefix("cov").unwrap().parse().unwrap();
                    assert!(cls <= 10, "{tag}");
                    assert_eq!(fields[2], " title=");
                    fields[3].parse::<u64>().expect("a count");
                    assert_eq!(fields[4], " data-k=");
                    let k: usize = fields[5].parse().unwrap();
                    assert!(k < max_k, "{tag}");
                    assert_eq!(fields[6], ">");
                }
            }
            rest = &rest[end + 1..];
        } else {
            let end = rest.find(';').expect("an entity ends");
            let c = match &rest[..=end] {
                "&amp;" => '&',
                "&lt;" => '<',
                "&gt;" => '>',
                "&quot;" => '"',
                "&#39;" | "&#x27;" => '\'',
                "&#x2f;" => '/',
                e => panic!("entity {e} in {html}"),
            };
            out.push(c);
            rest = &rest[end + 1..];
        }
    }
    assert!(!open, "unclosed span: {html}");
    out.push_str(rest);
    out
}

/// A character as HTML shows it: those XML cannot hold become U+FFFD
/// (the report's escaper, for SVG and XML readers alike), and so do the
/// bidi controls (Trojan Source).
fn shown(c: char) -> char {
    match c {
        '\t' | '\r' => c,
        '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
        c if covlens_core::printable::is_bidi(c) => '\u{fffd}',
        _ => c,
    }
}

fuzz_target!(|data: &[u8]| {
    let [k, m, rest @ ..] = data else { return };
    let (k, m) = (usize::from(k % 12), usize::from(m % 6));
    let Some((spec, src)) = rest.split_at_checked((k + m) * 5) else {
        return;
    };
    let kept = blocks(&spec[..k * 5]);
    let ignored = blocks(&spec[k * 5..]);
    let set_mode = k % 2 == 1;
    let lines = source_lines(src, &kept, &ignored, set_mode).expect("the view renders");
    let text = src.strip_suffix(b"\n").unwrap_or(src);
    let want: Vec<String> = text
        .split(|&b| b == b'\n')
        .map(|l| String::from_utf8_lossy(l).chars().map(shown).collect())
        .collect();
    assert_eq!(lines.len(), want.len());
    for (line, want) in lines.iter().zip(&want) {
        assert_eq!(&text_of(line, kept.len(), !ignored.is_empty()), want);
    }
});

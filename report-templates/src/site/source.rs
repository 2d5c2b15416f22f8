//! A source file coloured by its blocks' counts, as `go tool cover -html`
//! colours it.

use std::borrow::Cow;

use covlens_core::Block;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use crate::Error;
use crate::render::render_string;

/// A run of one line's text inside one block (or outside all).
#[derive(Debug, PartialEq, Serialize)]
struct Piece<'a> {
    text: Cow<'a, str>,
    /// Index of the innermost block around the text.
    k: Option<usize>,
    /// `cov0`…`cov10`.
    cls: u32,
    /// The block's count.
    count: u64,
    /// Inside a block `// coverage-ignore` left out (no count, not `k`).
    ign: bool,
}

/// CSS class of a block as `go tool cover -html` picks it: `cov0` for
/// no count; otherwise `cov1`…`cov10` by ln(count)/ln(max) over the
/// file, and `cov8` in set mode or when no count exceeds 1.
fn class(count: u64, max: u64, set_mode: bool) -> u32 {
    if count == 0 {
        return 0;
    }
    if set_mode || max <= 1 {
        return 8;
    }
    let norm = (count as f64).ln() / (max as f64).ln();
    ((norm * 9.0).floor() as u32 + 1).clamp(1, 10)
}

/// The pieces of each line: text runs, each inside the innermost (last
/// started) block around it, of `blocks` or of those left out (`ignored`,
/// numbered after `blocks`). Runs end at line ends so every line stands
/// alone.
fn pieces<'a>(
    src: &'a [u8],
    blocks: &[Block],
    ignored: &[Block],
    set_mode: bool,
) -> Vec<Vec<Piece<'a>>> {
    let max = blocks.iter().map(|b| b.count).max().unwrap_or(0);
    // (line, col, 0 = end / 1 = start, block)
    let mut ev: Vec<(u32, u32, u8, usize)> = Vec::with_capacity((blocks.len() + ignored.len()) * 2);
    for (i, b) in blocks.iter().chain(ignored).enumerate() {
        // An empty block (Go writes an empty `case` so) or a backwards one
        // holds no text; its end, sorted before its start, would leave it
        // open to the end of the file.
        if (b.end_line, b.end_col) <= (b.start_line, b.start_col) {
            continue;
        }
        ev.push((b.start_line, b.start_col, 1, i));
        ev.push((b.end_line, b.end_col, 0, i));
    }
    ev.sort_unstable();
    let mut e = 0;
    let mut active: Vec<usize> = Vec::new();
    let mut lines = Vec::new();
    let text = src.strip_suffix(b"\n").unwrap_or(src);
    for (li, line) in text.split(|&b| b == b'\n').enumerate() {
        let l = li as u32 + 1;
        let mut out = Vec::new();
        let mut open: Option<usize> = None;
        let mut seg_start = 0;
        for col in 1..=line.len() as u32 + 1 {
            while e < ev.len() && (ev[e].0, ev[e].1) <= (l, col) {
                let (_, _, kind, i) = ev[e];
                if kind == 1 {
                    active.push(i);
                } else if let Some(p) = active.iter().rposition(|&x| x == i) {
                    active.remove(p);
                }
                e += 1;
            }
            let at = col as usize - 1;
            let cur = active.last().copied();
            // A block edge inside a character (a profile of another
            // version of the file) moves to the character's end: split,
            // its halves would show as two U+FFFD.
            let inside_char = at < line.len() && line[at] & 0xC0 == 0x80;
            if (cur != open && !inside_char) || at == line.len() {
                if seg_start < at {
                    let shown = open.filter(|&i| i < blocks.len());
                    let (cls, count) = shown.map_or((0, 0), |i| {
                        let b = &blocks[i];
                        (class(b.count, max, set_mode), b.count)
                    });
                    out.push(Piece {
                        text: String::from_utf8_lossy(&line[seg_start..at]),
                        k: shown,
                        cls,
                        count,
                        ign: open.is_some() && shown.is_none(),
                    });
                }
                seg_start = at;
                open = if at < line.len() { cur } else { None };
            }
        }
        lines.push(out);
    }
    lines
}

/// The source as HTML lines: each run inside a block is a span with the
/// block's class, count and index (`data-k`, which the page uses to
/// colour by another column's counts); each inside a block of `ignored`
/// (left out by `// coverage-ignore`) a span of class `ign`.
pub fn source_lines(
    src: &[u8],
    blocks: &[Block],
    ignored: &[Block],
    set_mode: bool,
) -> Result<Vec<String>, Error> {
    let lines = pieces(src, blocks, ignored, set_mode);
    if lines.is_empty() {
        return Ok(Vec::new());
    }
    let html = render_string("site/source.html", context! { lines => Serde(&lines) })?;
    let html = html.strip_suffix('\n').unwrap_or(&html);
    Ok(html.split('\n').map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_as_go_tool_cover() {
        assert_eq!(class(0, 10, false), 0);
        assert_eq!(class(1, 1, false), 8);
        assert_eq!(class(1, 100, false), 1);
        assert_eq!(class(100, 100, false), 10);
        assert_eq!(class(3, 3, true), 8);
    }

    #[test]
    fn spans_per_line() {
        let src = b"func f() {\n\tx := 1 < 2\n}\n";
        let blocks = [Block::new((1, 10), (3, 2), 1, 0)];
        let l = source_lines(src, &blocks, &[], false).unwrap();
        assert_eq!(
            l,
            [
                "func f() <span class=\"cov0\" title=\"0\" data-k=\"0\">{</span>",
                "<span class=\"cov0\" title=\"0\" data-k=\"0\">\tx := 1 &lt; 2</span>",
                "<span class=\"cov0\" title=\"0\" data-k=\"0\">}</span>",
            ]
        );
    }

    #[test]
    fn empty_lines_and_nesting() {
        let src = b"a\n\nb c d\n";
        let blocks = [
            Block::new((3, 1), (3, 6), 1, 1),
            Block::new((3, 3), (3, 4), 1, 9),
        ];
        let l = source_lines(src, &blocks, &[], false).unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!(l[0], "a");
        assert_eq!(l[1], "");
        assert_eq!(
            l[2],
            "<span class=\"cov1\" title=\"1\" data-k=\"0\">b </span><span class=\"cov10\" title=\"9\" data-k=\"1\">c</span><span class=\"cov1\" title=\"1\" data-k=\"0\"> d</span>"
        );
    }

    /// Go writes an empty `case <-done:` as a block of no width
    /// (`7.14,7.14 0 0`); it colours nothing. Before, the text after it
    /// that no other block held showed as not covered (or, for a left-out
    /// block, as left out) to the end of the file. A backwards block of a
    /// hand-made profile did the same.
    #[test]
    fn empty_and_backwards_blocks_colour_nothing() {
        let src = b"select {
case <-done:
}
func g() {}
";
        let blocks = [
            Block::new((2, 13), (2, 13), 0, 0),
            Block::new((3, 1), (2, 1), 1, 0),
        ];
        for ignored in [&[][..], &[Block::new((2, 13), (2, 13), 0, 0)]] {
            let l = source_lines(src, &blocks, ignored, false).unwrap();
            assert_eq!(l, ["select {", "case &lt;-done:", "}", "func g() {}"]);
        }
    }

    /// Found by the `source_view` fuzz target: a block of a stale
    /// profile ending inside "é" split it into two U+FFFD.
    #[test]
    fn block_edges_inside_a_character_keep_it_whole() {
        let src = "x := \"é!\"\n".as_bytes();
        // é is columns 7 and 8: the block ends between its two bytes.
        let blocks = [Block::new((1, 1), (1, 8), 1, 1)];
        let l = source_lines(src, &blocks, &[], false).unwrap();
        assert_eq!(
            l,
            ["<span class=\"cov8\" title=\"1\" data-k=\"0\">x := &quot;é</span>!&quot;"]
        );
    }

    #[test]
    fn left_out_blocks_are_greyed_without_a_count() {
        let src = b"func f(x int) {\n\tif x > 0 { // coverage-ignore\n\t\tpanic(x)\n\t}\n}\n";
        let kept = [Block::new((1, 15), (2, 11), 1, 3)];
        let ignored = [Block::new((2, 11), (4, 3), 1, 0)];
        let l = source_lines(src, &kept, &ignored, false).unwrap();
        assert_eq!(
            l[1],
            "<span class=\"cov10\" title=\"3\" data-k=\"0\">\tif x &gt; 0 </span><span class=\"ign\" title=\"left out by coverage-ignore\">{ // coverage-ignore</span>"
        );
        assert_eq!(
            l[2],
            "<span class=\"ign\" title=\"left out by coverage-ignore\">\t\tpanic(x)</span>"
        );
        assert_eq!(l[4], "}");
    }
}

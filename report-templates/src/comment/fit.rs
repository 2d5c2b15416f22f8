//! Fitting a PR comment under GitHub's body limit.

use minijinja::context;
use minijinja::value::Serde;

use crate::Error;
use crate::comment::Comment;

/// Ranges listed per file before "and N more".
pub const MAX_RANGES: usize = 20;

/// The first line of every comment, by which a bot finds its own comment
/// to update it.
pub const COMMENT_MARKER: &str = "<!-- covlens -->";

/// Appended to a comment cut hard (a limit too small for the headline).
const NOTE: &str = "\n\n_(cut to fit the comment size limit)_\n";

/// The smallest `max_chars` [`write_comment`](crate::write_comment)
/// accepts: room, after the margin, for the marker line and the note that
/// the text was cut. Below it a comment would lose its marker, and a bot
/// would post a new comment each time instead of updating its own.
pub fn min_comment_chars() -> usize {
    let need = github_len(COMMENT_MARKER) + github_len("\n") + github_len(NOTE);
    (need..)
        .find(|m| m - m / 64 >= need)
        .expect("a limit exists")
}

/// A rendered comment and what had to be left out.
#[derive(Clone, Debug)]
pub struct CommentFit {
    /// The Markdown.
    pub text: String,
    /// [`github_len`] of `text`.
    pub len: usize,
    /// Entries kept per list (`usize::MAX`: nothing was cut).
    pub kept: usize,
}

/// Length as GitHub's limit counts it, conservatively: UTF-16 code units
/// (what a JavaScript `length` gives; ≥ Unicode scalar values) with every
/// `\n` counted twice, as forms submit newlines as CRLF.
pub fn github_len(s: &str) -> usize {
    s.encode_utf16().count() + s.bytes().filter(|&b| b == b'\n').count()
}

/// Renders `c` with each list cut to the longest prefix that keeps the
/// text within `max_chars` minus a margin (1/64 of the limit, for edits
/// a bot might append). Lists are already ranked, so the largest changes
/// stay. As a last resort (a limit too small for the headline) the text
/// is cut hard.
pub(crate) fn fit(c: &Comment, max_chars: usize) -> Result<CommentFit, Error> {
    let min = min_comment_chars();
    if max_chars < min {
        return Err(Error::LimitTooSmall { max_chars, min });
    }
    let budget = max_chars - max_chars / 64;
    let longest = longest_list(c);
    let cap = max_entries(c, budget);
    if cap >= longest {
        let full = render(c, usize::MAX)?;
        if github_len(&full) <= budget {
            return Ok(CommentFit {
                len: github_len(&full),
                text: full,
                kept: usize::MAX,
            });
        }
    }
    // Largest k whose rendering fits; length grows with k.
    let (mut lo, mut hi) = (0usize, cap.min(longest));
    let mut best = render(c, 0)?;
    if github_len(&best) > budget {
        let text = hard_cut(&best, budget);
        return Ok(CommentFit {
            len: github_len(&text),
            text,
            kept: 0,
        });
    }
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        let t = render(c, mid)?;
        if github_len(&t) <= budget {
            lo = mid;
            best = t;
        } else {
            hi = mid - 1;
        }
    }
    Ok(CommentFit {
        len: github_len(&best),
        text: best,
        kept: lo,
    })
}

/// An upper bound on the entries per list that fit in `budget`: every
/// entry prints at least its name (escaping only lengthens it, and a
/// control character becomes one U+FFFD), so renderings with more entries
/// need not be tried.
fn max_entries(c: &Comment, budget: usize) -> usize {
    let longest = longest_list(c);
    let mut used = 0;
    for k in 0..longest {
        used += [
            c.packages.get(k).map(|r| &r.name),
            c.files.get(k).map(|r| &r.name),
            c.uncovered.get(k).map(|u| &u.file),
            c.functions.get(k).map(|f| &f.row.name),
            c.below_trend.get(k).map(|b| &b.name),
        ]
        .into_iter()
        .flatten()
        .map(|n| n.encode_utf16().count())
        .sum::<usize>();
        if used > budget {
            return k;
        }
    }
    longest
}

fn longest_list(c: &Comment) -> usize {
    c.packages
        .len()
        .max(c.files.len())
        .max(c.uncovered.len())
        .max(c.functions.len())
        .max(c.below_trend.len())
}

fn render(c: &Comment, k: usize) -> Result<String, Error> {
    // Copies only the entries kept (at k = 0 the lists of a big pull
    // request are not copied at all).
    fn cut<T: Clone>(v: &[T], more: usize, k: usize) -> (Vec<T>, usize) {
        let kept = v.len().min(k);
        (v[..kept].to_vec(), more + v.len() - kept)
    }
    let (packages, packages_more) = cut(&c.packages, c.packages_more, k);
    let (files, files_more) = cut(&c.files, c.files_more, k);
    let (mut uncovered, uncovered_more) = cut(&c.uncovered, c.uncovered_more, k);
    let (below_trend, below_trend_more) = cut(&c.below_trend, c.below_trend_more, k);
    let (functions, functions_more) = cut(&c.functions, c.functions_more, k);
    for u in &mut uncovered {
        if u.ranges.len() > MAX_RANGES {
            u.more += u.ranges.len() - MAX_RANGES;
            u.ranges.truncate(MAX_RANGES);
        }
    }
    let c = Comment {
        truncated: c.truncated
            || packages_more > c.packages_more
            || files_more > c.files_more
            || uncovered_more > c.uncovered_more
            || functions_more > c.functions_more
            || below_trend_more > c.below_trend_more,
        total: c.total.clone(),
        patch: c.patch.clone(),
        packages,
        packages_more,
        files,
        files_more,
        uncovered,
        uncovered_more,
        functions,
        functions_more,
        functions_unread: c.functions_unread,
        below_trend,
        below_trend_more,
        trend_rule: c.trend_rule,
        flaky_runs: c.flaky_runs,
        report_url: c.report_url.clone(),
        packages_added: c.packages_added,
        packages_removed: c.packages_removed,
        provenance: c.provenance.clone(),
        left_out: c.left_out,
    };
    crate::render::render_string("comment.md", context! { c => Serde(&c) })
}

fn hard_cut(s: &str, budget: usize) -> String {
    let room = budget.saturating_sub(github_len(NOTE));
    let mut used = 0;
    let mut end = 0;
    for (i, ch) in s.char_indices() {
        let w = ch.len_utf16() + usize::from(ch == '\n');
        if used + w > room {
            break;
        }
        used += w;
        end = i + ch.len_utf8();
    }
    let mut out = s[..end].to_string();
    if github_len(&out) + github_len(NOTE) <= budget {
        out.push_str(NOTE);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Stat;
    use crate::comment::{DeltaRow, Origin, Provenance, Uncovered};

    /// The bound on entries never changes what fits: the result is the
    /// largest k found by trying every k.
    #[test]
    fn same_as_trying_every_k() {
        let row = |i: usize| {
            DeltaRow::new(
                format!("pkg/{}/f|{i}\n.go", "x".repeat(i % 7)),
                Some(Stat::new(1, 3)),
                Some(Stat::new(2, 3)),
                Some(Stat::new(1, 2)),
            )
        };
        let c = Comment {
            total: row(0),
            patch: None,
            packages: (0..40).map(row).collect(),
            packages_more: 0,
            files: (0..60).map(row).collect(),
            files_more: 0,
            uncovered: (0..50)
                .map(|i| Uncovered {
                    file: row(i).name,
                    ranges: (0..i as u32).map(|l| l.to_string()).collect(),
                    more: 0,
                    statements: 3,
                })
                .collect(),
            uncovered_more: 0,
            functions: (0..45)
                .map(|i| crate::comment::FuncDelta {
                    file: row(i).name,
                    name: row(i).name,
                    line: i as u32,
                    row: row(i),
                })
                .collect(),
            functions_more: 0,
            functions_unread: 2,
            below_trend: Vec::new(),
            below_trend_more: 0,
            trend_rule: None,
            flaky_runs: None,
            report_url: None,
            packages_added: 0,
            packages_removed: 0,
            truncated: false,
            // Names are cut to 100 characters, so this line stays short.
            provenance: Some(Provenance {
                head: Origin::new(&"h".repeat(300), Some(&"7".repeat(300)), None),
                base: Origin::missing(&"b".repeat(300)),
                pull_base: None,
            }),
            left_out: Some(crate::CommentLeftOut {
                base: 12,
                head: 14,
                unchecked: 0,
            }),
        };
        for max in [1500, 3000, 6000, 12000, 100000] {
            let budget = max - max / 64;
            let fitted = fit(&c, max).unwrap();
            let best = (0..=60)
                .rev()
                .find(|&k| github_len(&render(&c, k).unwrap()) <= budget)
                .unwrap();
            let want = if best == 60 { usize::MAX } else { best };
            assert_eq!(fitted.kept, want, "max {max}");
            assert!(fitted.len <= budget);
        }
    }
}

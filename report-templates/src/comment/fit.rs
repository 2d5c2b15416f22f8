//! Fitting a PR comment under GitHub's body limit.

use minijinja::context;
use minijinja::value::Serde;

use crate::Error;
use crate::comment::Comment;

/// Ranges listed per file before "and N more".
pub const MAX_RANGES: usize = 20;

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
    let budget = max_chars - max_chars / 64;
    let longest = c.packages.len().max(c.files.len()).max(c.uncovered.len());
    let full = render(c, usize::MAX)?;
    if github_len(&full) <= budget {
        return Ok(CommentFit {
            len: github_len(&full),
            text: full,
            kept: usize::MAX,
        });
    }
    // Largest k whose rendering fits; length grows with k.
    let (mut lo, mut hi) = (0usize, longest);
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

fn render(c: &Comment, k: usize) -> Result<String, Error> {
    let mut c = c.clone();
    for u in &mut c.uncovered {
        if u.ranges.len() > MAX_RANGES {
            u.more += u.ranges.len() - MAX_RANGES;
            u.ranges.truncate(MAX_RANGES);
        }
    }
    if k != usize::MAX {
        fn cut<T>(v: &mut Vec<T>, more: &mut usize, k: usize) -> bool {
            if v.len() > k {
                *more += v.len() - k;
                v.truncate(k);
                true
            } else {
                false
            }
        }
        let a = cut(&mut c.packages, &mut c.packages_more, k);
        let b = cut(&mut c.files, &mut c.files_more, k);
        let d = cut(&mut c.uncovered, &mut c.uncovered_more, k);
        c.truncated |= a || b || d;
    }
    crate::render::render_string("comment.md", context! { c => Serde(&c) })
}

fn hard_cut(s: &str, budget: usize) -> String {
    const NOTE: &str = "\n\n_(cut to fit the comment size limit)_\n";
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

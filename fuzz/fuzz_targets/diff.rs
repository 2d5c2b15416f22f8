//! Unified diffs, as `comment`, `check` and the Prow reporter read a pull
//! request's: parsing arbitrary text, and undoing the diff of two texts.
//!
//! Any text is parsed or refused without a panic, and each file's old text
//! can be asked of any new text. When the input holds a path, a context size and two
//! texts (split at NUL bytes), the unified diff of the two as git writes it
//! (its path quoted as git quotes it) parses to one file of that path, its
//! added lines are the new text's inserted ones, and undoing it on the new
//! text gives back the old one.

#![no_main]

use covlens_report_templates::parse_diff;
use libfuzzer_sys::fuzz_target;

/// `s` as git writes a path that needs quoting: in double quotes, with C
/// escapes and octal bytes.
fn git_quote(s: &str) -> String {
    if !s
        .bytes()
        .any(|b| b < 0x20 || b >= 0x7f || b == b'"' || b == b'\\')
    {
        return s.to_string();
    }
    let mut q = String::from("\"");
    for b in s.bytes() {
        match b {
            b'\t' => q.push_str("\\t"),
            b'\n' => q.push_str("\\n"),
            b'"' => q.push_str("\\\""),
            b'\\' => q.push_str("\\\\"),
            0x20..0x7f => q.push(b as char),
            _ => q.push_str(&format!("\\{b:03o}")),
        }
    }
    q.push('"');
    q
}

/// One line of an edit script: `' '`, `'-'` or `'+'`, and how many old
/// and new lines come before it.
type Edit = (char, usize, usize);

/// A shortest edit script from `old` to `new` (longest common
/// subsequence; the inputs are small).
fn edits(old: &[&str], new: &[&str]) -> Vec<Edit> {
    let (n, m) = (old.len(), new.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            out.push((' ', i, j));
            (i, j) = (i + 1, j + 1);
        } else if j == m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(('-', i, j));
            i += 1;
        } else {
            out.push(('+', i, j));
            j += 1;
        }
    }
    out
}

/// The diff as git writes it, with `context` lines around each change
/// (GNU's hunk ranges: `start,count`, `start` alone for one line, and the
/// line before the hunk for none).
fn unified(old: &[&str], new: &[&str], es: &[Edit], context: usize, a: &str, b: &str) -> String {
    let changes: Vec<usize> = (0..es.len()).filter(|&k| es[k].0 != ' ').collect();
    if changes.is_empty() {
        // Git writes nothing for an unchanged file.
        return String::new();
    }
    let mut out = format!("diff --git {a} {b}\n--- {a}\n+++ {b}\n");
    let mut k = 0;
    while k < changes.len() {
        let mut last = k;
        while last + 1 < changes.len() && changes[last + 1] - changes[last] <= 2 * context + 1 {
            last += 1;
        }
        let from = changes[k].saturating_sub(context);
        let to = (changes[last] + context + 1).min(es.len());
        let hunk = &es[from..to];
        let range = |start: usize, count: usize| match count {
            0 => format!("{start},0"),
            1 => format!("{}", start + 1),
            n => format!("{},{n}", start + 1),
        };
        let olds = hunk.iter().filter(|e| e.0 != '+').count();
        let news = hunk.iter().filter(|e| e.0 != '-').count();
        out += &format!(
            "@@ -{} +{} @@\n",
            range(hunk[0].1, olds),
            range(hunk[0].2, news)
        );
        for &(tag, i, j) in hunk {
            let line = if tag == '+' { new[j] } else { old[i] };
            out.push(tag);
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
        k = last + 1;
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Any text is refused or parsed, without a panic.
    for f in parse_diff(&text).unwrap_or_default() {
        let _ = f.old_text(data);
    }

    let mut parts = data.splitn(4, |&b| b == 0);
    let (Some(path), Some(&[context]), Some(old), Some(new)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let (Ok(path), Ok(old), Ok(new)) = (
        std::str::from_utf8(path),
        std::str::from_utf8(old),
        std::str::from_utf8(new),
    ) else {
        return;
    };
    // Lines are read as `str::lines` reads them (a `\r\n` ends a line), and
    // git ends a name with a space by a tab that readers trim.
    if old.contains('\r')
        || new.contains('\r')
        || path.is_empty()
        || path.ends_with(char::is_whitespace)
    {
        return;
    }
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    if old_lines.len() > 300 || new_lines.len() > 300 {
        return;
    }
    let es = edits(&old_lines, &new_lines);
    let (a, b) = (
        git_quote(&format!("a/{path}")),
        git_quote(&format!("b/{path}")),
    );
    let body = unified(
        &old_lines,
        &new_lines,
        &es,
        usize::from(context % 8),
        &a,
        &b,
    );
    let files = parse_diff(&body).unwrap_or_else(|e| panic!("git's diff refused: {e}\n{body}"));
    if old == new {
        assert!(files.is_empty(), "{files:?}");
        return;
    }
    assert_eq!(files.len(), 1, "{body}");
    let f = &files[0];
    assert_eq!(f.path, path, "{body}");
    let inserted: Vec<u32> = es
        .iter()
        .filter(|e| e.0 == '+')
        .map(|e| e.2 as u32 + 1)
        .collect();
    assert_eq!(f.added, inserted, "{body}");
    let mut want = old.to_string();
    if !want.is_empty() && !want.ends_with('\n') {
        want.push('\n');
    }
    let got = f
        .old_text(new.as_bytes())
        .unwrap_or_else(|| panic!("not undone:\n{body}"));
    assert_eq!(String::from_utf8(got).unwrap(), want, "{body}");
});

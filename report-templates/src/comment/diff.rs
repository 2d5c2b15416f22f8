//! The files and added lines of a unified diff, as `git diff` writes it.

/// One file of a diff: its new path, the added lines, ascending, and the
/// removed ones, so that the old text can be rebuilt from the new.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiffFile {
    /// The path after the change, repository-relative (git's `b/` prefix
    /// removed, C-quoting undone).
    pub path: String,
    /// Lines added, numbered in the new file.
    pub added: Vec<u32>,
    /// Lines removed, in order, each with the line of the new file it
    /// stood before (one past the last line at the end of the file).
    pub removed: Vec<(u32, String)>,
    /// Some removed lines were not kept (a diff keeps 64 MiB of them): the
    /// old text cannot be rebuilt.
    pub removed_cut: bool,
}

/// The most memory the removed lines of one diff take (their text and 32
/// bytes a line): a diff is a pull request's artifact, and may be huge.
pub(crate) const MAX_REMOVED_BYTES: usize = 64 << 20;

impl DiffFile {
    /// The file before the change, from its text after it (`new`, as the
    /// pull request's head has it): added lines dropped, removed ones put
    /// back. `None` if `new` cannot be the diff's new side (too few
    /// lines). Lines end with `\n`.
    pub fn old_text(&self, new: &[u8]) -> Option<Vec<u8>> {
        if self.removed_cut {
            return None;
        }
        let lines: Vec<&[u8]> = new.split_inclusive(|&b| b == b'\n').collect();
        let n = u32::try_from(lines.len()).ok().filter(|&n| n < u32::MAX)?;
        // Hunks out of order or past the end: not a diff of this text.
        if !self.added.windows(2).all(|w| w[0] < w[1])
            || !self.removed.is_sorted_by_key(|r| r.0)
            || self.added.first().is_some_and(|&l| l == 0)
            || self.added.last().is_some_and(|&l| l > n)
            || self.removed.first().is_some_and(|r| r.0 == 0)
            || self.removed.last().is_some_and(|r| r.0 > n + 1)
        {
            return None;
        }
        let mut out = Vec::with_capacity(new.len());
        let (mut added, mut removed) =
            (self.added.iter().peekable(), self.removed.iter().peekable());
        for at in 1..=n + 1 {
            while let Some((_, text)) = removed.next_if(|(l, _)| *l == at) {
                out.extend_from_slice(text.as_bytes());
                out.push(b'\n');
            }
            let Some(line) = lines.get(at as usize - 1) else {
                break;
            };
            if added.next_if(|&&l| l == at).is_none() {
                out.extend_from_slice(line);
                if !line.ends_with(b"\n") {
                    out.push(b'\n');
                }
            }
        }
        Some(out)
    }
}

/// Reads and parses a unified diff file ([`parse_diff`]). Hunks may hold
/// any bytes (a Latin-1 file): only paths and the first byte of each line
/// matter, so the text is read lossily.
pub fn read_diff_file(path: &str) -> Result<Vec<DiffFile>, crate::Error> {
    let bytes = std::fs::read(path).map_err(|source| crate::Error::ReadDiff {
        path: path.to_string(),
        source,
    })?;
    parse_diff(&String::from_utf8_lossy(&bytes)).map_err(|diff| crate::Error::BadDiff {
        path: path.to_string(),
        diff,
    })
}

/// Why a text is not a unified diff, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:1: {what}")]
pub struct DiffError {
    /// The line, from 1.
    pub line: u64,
    /// What was expected there.
    pub what: String,
}

/// The files and added lines of a unified diff. Deleted files are left
/// out. Hunk lengths are followed, so content lines that look like
/// headers (`+++ …` inside a hunk) are content. Paths git quotes
/// (`"b/gr\303\266\303\237e.go"`: non-ASCII, control characters, `"`
/// and `\`) are unquoted.
///
/// A diff cut short or edited by hand is refused, never read past: a hunk
/// that ends before the lines its header counts (which would read the next
/// file's header as content and lose that file), a header that does not
/// parse, a quoted path that does not unquote, or text with no file at
/// all.
pub fn parse_diff(text: &str) -> Result<Vec<DiffFile>, DiffError> {
    let mut files: Vec<DiffFile> = Vec::new();
    let mut cur: Option<DiffFile> = None;
    let (mut old_left, mut new_left, mut line) = (0u32, 0u32, 0u32);
    // Bytes of removed lines kept (bounded by MAX_REMOVED_BYTES).
    let mut kept = 0usize;
    let mut n = 0u64;
    let mut headers = false;
    let mut ended = false;
    let bad = |n: u64, what: String| DiffError { line: n, what };
    for l in text.lines() {
        n += 1;
        if old_left > 0 || new_left > 0 {
            let left = || format!("the hunk still has {old_left} old and {new_left} new lines");
            match l.as_bytes().first() {
                Some(b'+') if new_left == 0 => {
                    return Err(bad(
                        n,
                        format!("an added line past the hunk's end ({})", left()),
                    ));
                }
                Some(b'+') => {
                    if let Some(f) = cur.as_mut() {
                        f.added.push(line);
                    }
                    // A hostile hunk may start at u32::MAX.
                    line = line.saturating_add(1);
                    new_left -= 1;
                }
                Some(b'-') if old_left == 0 => {
                    return Err(bad(
                        n,
                        format!("a removed line past the hunk's end ({})", left()),
                    ));
                }
                Some(b'-') => {
                    if let Some(f) = cur.as_mut().filter(|f| !f.removed_cut) {
                        kept = kept.saturating_add(l.len() + 32);
                        if kept > MAX_REMOVED_BYTES {
                            f.removed_cut = true;
                            f.removed = Vec::new();
                        } else {
                            f.removed.push((line, l[1..].to_string()));
                        }
                    }
                    old_left -= 1;
                }
                Some(b'\\') => {}
                // An empty line is context whose space an editor removed.
                None | Some(b' ') if old_left > 0 && new_left > 0 => {
                    line = line.saturating_add(1);
                    old_left -= 1;
                    new_left -= 1;
                }
                None | Some(b' ') => {
                    return Err(bad(
                        n,
                        format!("a context line past the hunk's end ({})", left()),
                    ));
                }
                Some(_) => {
                    return Err(bad(
                        n,
                        format!("expected a line of the hunk (` `, `+` or `-`): {}", left()),
                    ));
                }
            }
            // Lines right after a hunk that look like its lines: the
            // header counted too few, and they would be dropped.
            ended = old_left == 0 && new_left == 0;
            continue;
        }
        if std::mem::take(&mut ended) {
            match l.as_bytes().first() {
                Some(b'+') => return Err(bad(n, "an added line past the hunk's end".into())),
                Some(b' ') => return Err(bad(n, "a context line past the hunk's end".into())),
                // `-- ` opens the signature of `git format-patch`.
                Some(b'-') if l != "-- " && !l.starts_with("--- ") => {
                    return Err(bad(n, "a removed line past the hunk's end".into()));
                }
                Some(b'\\') => {
                    ended = true;
                    continue;
                }
                _ => {}
            }
        }
        if let Some(rest) = l.strip_prefix("diff --git ") {
            files.extend(cur.take());
            headers = true;
            // The +++ line, when present, has the exact name.
            cur = Some(DiffFile {
                path: git_line_new_path(rest)
                    .ok_or_else(|| bad(n, "expected `a/PATH b/PATH` after `diff --git`".into()))?,
                ..DiffFile::default()
            });
        } else if let Some(p) = l.strip_prefix("+++ ") {
            headers = true;
            let f = cur.get_or_insert_with(DiffFile::default);
            if p.starts_with("/dev/null") {
                f.path.clear();
            } else if p.starts_with('"') {
                let (name, _) = unquote(p).ok_or_else(|| bad(n, BAD_QUOTE.into()))?;
                f.path = strip_b(&name).to_string();
            } else {
                // Git ends a name with a space by a tab.
                f.path = strip_b(p).trim_end().to_string();
            }
        } else if l.starts_with("@@") {
            let Some((on, nn, ns)) = hunk_header(l) else {
                return Err(bad(n, "expected a hunk header `@@ -A,B +C,D @@`".into()));
            };
            if cur.is_none() {
                return Err(bad(n, "a hunk before any file header".into()));
            }
            // An empty range names the line before it (`+4,0`: a deletion
            // after new line 4, as `git diff -U0` writes it).
            let first = if nn == 0 { ns.saturating_add(1) } else { ns };
            (old_left, new_left, line) = (on, nn, first);
        } else if l.starts_with("deleted file mode")
            && let Some(f) = cur.as_mut()
        {
            f.path.clear();
        }
    }
    if old_left > 0 || new_left > 0 {
        return Err(bad(
            n + 1,
            format!(
                "the diff ends inside a hunk that still has {old_left} old and {new_left} new lines"
            ),
        ));
    }
    if !headers && !text.trim().is_empty() {
        return Err(bad(
            1,
            "not a unified diff: no `diff --git` or `+++` line".into(),
        ));
    }
    files.extend(cur);
    files.retain(|f| !f.path.is_empty());
    Ok(files)
}

const BAD_QUOTE: &str = "expected a quoted path with a closing `\"` and git's escapes";

/// `@@ -A[,B] +C[,D] @@...`: the old count, the new count and start.
fn hunk_header(l: &str) -> Option<(u32, u32, u32)> {
    let h = l.strip_prefix("@@ -")?;
    let (old, rest) = h.split_once(" +")?;
    let (new, _) = rest.split_once(" @@")?;
    let range = |r: &str| -> Option<(u32, u32)> {
        match r.split_once(',') {
            Some((s, n)) => Some((s.parse().ok()?, n.parse().ok()?)),
            None => Some((r.parse().ok()?, 1)),
        }
    };
    let (_, on) = range(old)?;
    let (ns, nn) = range(new)?;
    Some((on, nn, ns))
}

fn strip_b(p: &str) -> &str {
    p.strip_prefix("b/").unwrap_or(p)
}

/// The new path of `diff --git a/old b/new`, where either side may be
/// quoted; `None` when a quoted side does not unquote.
fn git_line_new_path(rest: &str) -> Option<String> {
    if rest.starts_with('"') {
        let (_, after) = unquote(rest)?;
        let second = after.strip_prefix(' ').unwrap_or(after);
        if second.starts_with('"') {
            let (name, _) = unquote(second)?;
            return Some(strip_b(&name).to_string());
        }
        return Some(strip_b(second).to_string());
    }
    if rest.ends_with('"')
        && let Some(i) = rest.rfind(" \"b/")
    {
        return match unquote(&rest[i + 1..]) {
            Some((name, "")) => Some(strip_b(&name).to_string()),
            _ => None,
        };
    }
    Some(
        rest.rsplit_once(" b/")
            .map_or(String::new(), |(_, p)| p.to_string()),
    )
}

/// Undoes git's C-style quoting of a path at the start of `s`
/// (`"…"` with `\a \b \t \n \v \f \r \" \\` and three-digit octal bytes).
/// Returns the name and what follows the closing quote; `None` when `s`
/// does not start with a well-formed quoted name. Bytes that are not
/// UTF-8 become U+FFFD (profile names are UTF-8, so such a file matches
/// nothing anyway).
fn unquote(s: &str) -> Option<(String, &str)> {
    let body = s.strip_prefix('"')?;
    let b = body.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => return Some((String::from_utf8_lossy(&out).into_owned(), &body[i + 1..])),
            b'\\' => {
                let c = *b.get(i + 1)?;
                let byte = match c {
                    b'a' => 0x07,
                    b'b' => 0x08,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'v' => 0x0b,
                    b'f' => 0x0c,
                    b'r' => b'\r',
                    b'"' | b'\\' => c,
                    b'0'..=b'3' => {
                        let d = b.get(i + 1..i + 4)?;
                        if !d.iter().all(|x| (b'0'..=b'7').contains(x)) {
                            return None;
                        }
                        i += 2;
                        (d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0')
                    }
                    _ => return None,
                };
                out.push(byte);
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_parsing() {
        let d = "diff --git a/pkg/x.go b/pkg/x.go\nindex 1..2 100644\n--- a/pkg/x.go\n+++ b/pkg/x.go\n@@ -1,3 +1,4 @@\n a\n+b\n c\n-d\n+e\n@@ -10 +11,2 @@\n-x\n++++ y\n+z\ndiff --git a/old.go b/old.go\ndeleted file mode 100644\n--- a/old.go\n+++ /dev/null\n@@ -1 +0,0 @@\n-gone\n";
        let f = parse_diff(d).unwrap();
        assert_eq!(
            f,
            vec![DiffFile {
                path: "pkg/x.go".into(),
                added: vec![2, 4, 11, 12],
                removed: vec![(4, "d".into()), (11, "x".into())],
                removed_cut: false,
            }]
        );
    }

    /// The old side is rebuilt exactly: as `git diff` wrote this one.
    #[test]
    fn old_text_undoes_the_diff() {
        let old = "package p\n\nfunc a() {}\n\nfunc b() int {\n\treturn 1\n}\n\nfunc c() {}\n";
        let new =
            "// Doc.\npackage p\n\nfunc b() int {\n\treturn 2\n}\n\nfunc c() {}\n\nfunc d() {}\n";
        let d = concat!(
            "diff --git a/p.go b/p.go\n--- a/p.go\n+++ b/p.go\n",
            "@@ -1,8 +1,7 @@\n+// Doc.\n package p\n \n-func a() {}\n-\n func b() int {\n-\treturn 1\n+\treturn 2\n }\n \n",
            "@@ -9 +8,3 @@ func b() int {\n func c() {}\n+\n+func d() {}\n",
        );
        let f = &parse_diff(d).unwrap()[0];
        assert_eq!(f.old_text(new.as_bytes()).unwrap(), old.as_bytes());
        // The removed lines of a file's end, and a new side too short.
        let f = &parse_diff("--- a/q.go\n+++ b/q.go\n@@ -1,3 +1 @@\n a\n-b\n-c\n").unwrap()[0];
        assert_eq!(f.old_text(b"a").unwrap(), b"a\nb\nc\n");
        assert_eq!(f.old_text(b""), None);
    }

    /// `git diff -U0` (and a file emptied) gives a deletion an empty new
    /// range, numbered by the line before it; the fuzz target `diff` found
    /// these undone in the wrong place.
    #[test]
    fn deletions_without_context() {
        let d = "--- a/y.go\n+++ b/y.go\n@@ -3,2 +2,0 @@\n-c\n-d\n@@ -6 +4 @@\n-f\n+F\n";
        let f = &parse_diff(d).unwrap()[0];
        assert_eq!(f.added, [4]);
        let old = f.old_text(b"a\nb\ne\nF\n").unwrap();
        assert_eq!(String::from_utf8(old).unwrap(), "a\nb\nc\nd\ne\nf\n");
        let f = &parse_diff("--- a/e.go\n+++ b/e.go\n@@ -1,2 +0,0 @@\n-x\n-y\n").unwrap()[0];
        assert_eq!(f.old_text(b"").unwrap(), b"x\ny\n");
    }

    /// Removed lines past [`MAX_REMOVED_BYTES`] are not kept, and the old
    /// text of their file is not rebuilt.
    #[test]
    fn removed_lines_are_bounded() {
        let line = "x".repeat(1 << 20);
        let n = MAX_REMOVED_BYTES / (1 << 20) + 1;
        let mut d = format!("diff --git a/a.go b/a.go\n@@ -1,{} +1 @@\n", n + 1);
        for _ in 0..n {
            d.push_str(&format!("-{line}\n"));
        }
        d.push_str(" kept\ndiff --git a/b.go b/b.go\n@@ -1 +1 @@\n-old\n+new\n");
        let f = parse_diff(&d).unwrap();
        assert!(f[0].removed_cut && f[0].removed.is_empty());
        assert_eq!(f[0].old_text(b"kept\n"), None);
        // Later files too: the budget is the diff's.
        assert!(f[1].removed_cut);
        assert_eq!(f[1].added, [1]);
    }

    /// As `git diff` (2.x, core.quotePath on) wrote it for these names.
    #[test]
    fn quoted_paths() {
        let d = concat!(
            "diff --git \"a/gr\\303\\266\\303\\237e.go\" \"b/gr\\303\\266\\303\\237e.go\"\n",
            "index 3aad1e5..9a2626c 100644\n",
            "--- \"a/gr\\303\\266\\303\\237e.go\"\n",
            "+++ \"b/gr\\303\\266\\303\\237e.go\"\n",
            "@@ -1,3 +1,4 @@\n package x\n \n func a() {}\n+func b() {}\n",
            "diff --git \"a/tab\\t\\\"q\\\"\\\\\\\\.go\" \"b/tab\\t\\\"q\\\"\\\\\\\\.go\"\n",
            "index 7898192..422c2b7 100644\n",
            "--- \"a/tab\\t\\\"q\\\"\\\\\\\\.go\"\n",
            "+++ \"b/tab\\t\\\"q\\\"\\\\\\\\.go\"\n",
            "@@ -1 +1,2 @@\n a\n+b\n",
        );
        let f = parse_diff(d).unwrap();
        assert_eq!(
            f,
            [
                DiffFile {
                    path: "größe.go".into(),
                    added: vec![4],
                    ..DiffFile::default()
                },
                DiffFile {
                    path: "tab\t\"q\"\\\\.go".into(),
                    added: vec![2],
                    ..DiffFile::default()
                }
            ]
        );
    }

    #[test]
    fn quoted_names_on_the_git_line_only() {
        // A rename without content changes has no ---/+++ lines.
        let d = "diff --git a/x.go \"b/\\303\\244.go\"\nsimilarity index 100%\nrename from x.go\nrename to \"\\303\\244.go\"\n";
        assert_eq!(parse_diff(d).unwrap()[0].path, "ä.go");
        let d = "diff --git \"a/\\303\\244.go\" b/x.go\n";
        assert_eq!(parse_diff(d).unwrap()[0].path, "x.go");
    }

    /// The diff is the pull request's artifact: every truncation and
    /// one-byte edit of a real one, and hunks at the end of the line
    /// numbers, parse without a panic.
    #[test]
    fn mangled_diffs_never_panic() {
        let d = concat!(
            "diff --git \"a/gr\\303\\266\\303\\237e.go\" \"b/gr\\303\\266\\303\\237e.go\"\n",
            "--- \"a/gr\\303\\266\\303\\237e.go\"\n+++ \"b/gr\\303\\266\\303\\237e.go\"\n",
            "@@ -1,3 +1,4 @@\n package x\n \n-func a() {}\n+func b() {}\n\\ No newline at end of file\n",
            "diff --git a/x.go b/x.go\n--- a/x.go\n+++ b/x.go\n@@ -9,0 +10,2 @@\n+a\n+b\n",
        );
        let b = d.as_bytes();
        let new = b"package x\n\nfunc b() {}\n";
        for n in 0..=b.len() {
            for f in parse_diff(&String::from_utf8_lossy(&b[..n])).unwrap_or_default() {
                f.old_text(new);
            }
        }
        for i in 0..b.len() {
            for &e in b"+- @,\"\\\n9\xc3" {
                let mut m = b.to_vec();
                m[i] = e;
                for f in parse_diff(&String::from_utf8_lossy(&m)).unwrap_or_default() {
                    f.old_text(new);
                }
            }
        }
        let top = format!("+++ b/x.go\n@@ -1 +{},3 @@\n+a\n b\n+c\n", u32::MAX);
        assert_eq!(parse_diff(&top).unwrap()[0].added, [u32::MAX, u32::MAX]);
    }

    /// A diff cut short or edited is refused at the line where it stops
    /// being one, never read on (a short hunk used to swallow the next
    /// file's headers as content, and lose that file).
    #[test]
    fn broken_diffs_are_refused_where_they_break() {
        let err = |d: &str| parse_diff(d).unwrap_err().to_string();
        let short = "diff --git a/ok/a.go b/ok/a.go\n--- a/ok/a.go\n+++ b/ok/a.go\n@@ -1,0 +1,5 @@\n+a\ndiff --git a/ok/b.go b/ok/b.go\n--- a/ok/b.go\n+++ b/ok/b.go\n@@ -1 +1,2 @@\n x\n+y\n";
        assert_eq!(
            err(short),
            "6:1: expected a line of the hunk (` `, `+` or `-`): the hunk still has 0 old and 4 new lines"
        );
        assert_eq!(
            err("+++ b/a.go\n@@ -1,2 +1,2 @@\n x\n"),
            "4:1: the diff ends inside a hunk that still has 1 old and 1 new lines"
        );
        assert_eq!(
            err("+++ b/a.go\n@@ -1 +1 @@\n-x\n+y\n+z\n"),
            "5:1: an added line past the hunk's end"
        );
        assert_eq!(
            err("+++ b/a.go\n@@ -1 +1 @@\n-x\n+y\n-z\n"),
            "5:1: a removed line past the hunk's end"
        );
        assert_eq!(
            err("+++ b/a.go\n@@ -1,2 +1 @@\n-x\n y\n z\n"),
            "5:1: a context line past the hunk's end"
        );
        assert_eq!(
            err("+++ b/a.go\n@@ -1 +1 @@\n-x\n+y\n\\ No newline at end of file\n+z\n"),
            "6:1: an added line past the hunk's end"
        );
        // The signature `git format-patch` ends with.
        let patch = "+++ b/a.go\n@@ -1 +1 @@\n-x\n+y\n-- \n2.43.0\n";
        assert_eq!(parse_diff(patch).unwrap()[0].added, [1]);
        assert_eq!(
            err("+++ b/a.go\n@@ nonsense @@\n"),
            "2:1: expected a hunk header `@@ -A,B +C,D @@`"
        );
        assert!(err("+++ b/a.go\n@@ -x,1 +1 @@\n").starts_with("2:1: expected a hunk header"));
        assert_eq!(
            err("@@ -1 +1 @@\n-a\n+b\n"),
            "1:1: a hunk before any file header"
        );
        assert!(err("garbage\nmore\n").starts_with("1:1: not a unified diff"));
        assert!(err("+++ \"b/ok/\\777.go\"\n").starts_with("1:1: expected a quoted path"));
        assert!(err("+++ \"b/open.go\n").starts_with("1:1: expected a quoted path"));
        assert!(err("diff --git \"a/\\400x\" b/x\n").starts_with("1:1: expected `a/PATH b/PATH`"));
        // What git writes for no change, and what editors do to context.
        assert_eq!(parse_diff(""), Ok(vec![]));
        assert_eq!(parse_diff("\n\n"), Ok(vec![]));
        let f = parse_diff("+++ b/a.go\n@@ -1,3 +1,3 @@\n a\n\n-c\n+C\n").unwrap();
        assert_eq!(f[0].added, [3]);
    }

    #[test]
    fn unquoting() {
        assert_eq!(
            unquote(r#""a\a\b\f\v\r\n\001\177z" rest"#),
            Some(("a\x07\x08\x0c\x0b\r\n\x01\x7fz".to_string(), " rest"))
        );
        assert_eq!(unquote(r#""open"#), None);
        assert_eq!(unquote(r#""bad\q""#), None);
        assert_eq!(unquote(r#""bad\48x""#), None);
        assert_eq!(unquote("plain"), None);
    }
}

//! Go's lexical path functions for slash-separated paths (`path.Clean`,
//! `path.Dir`, `filepath.Join` on Unix), where covlens must name files
//! exactly as Go prints them.

/// Go's `path.Clean`: the shortest equivalent path, lexically (`.` and
/// empty elements dropped, `..` applied, never above the root of a rooted
/// path); `.` for an empty result.
pub fn clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for el in p.split('/') {
        match el {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&l) if l != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            e => parts.push(e),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

/// Go's `path.Dir`: everything before the last `/`, cleaned.
pub fn dir(p: &str) -> String {
    match p.rfind('/') {
        Some(i) => clean(&p[..=i]),
        None => ".".to_string(),
    }
}

/// Go's `filepath.Join(dir, name)` on Unix: joined, then cleaned.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        return clean(name);
    }
    clean(&format!("{dir}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_go() {
        // Cases from Go's path.TestClean, path.TestDir and filepath.Join.
        for (p, want) in [
            ("", "."),
            ("abc/", "abc"),
            ("abc/def/..", "abc"),
            ("abc/def/../../..", ".."),
            ("/abc/def/../../..", "/"),
            ("abc//./../def", "def"),
            ("../../abc", "../../abc"),
            ("/../abc", "/abc"),
        ] {
            assert_eq!(clean(p), want, "clean({p:?})");
        }
        for (p, want) in [
            ("", "."),
            ("a/b", "a"),
            ("a/b/", "a/b"),
            ("a//b.go", "a"),
            ("a/../c.go", "."),
            ("/r/x.go", "/r"),
            ("/x.go", "/"),
            ("../../x/y.go", "../../x"),
        ] {
            assert_eq!(dir(p), want, "dir({p:?})");
        }
        assert_eq!(join("./d/", "f"), "d/f");
        assert_eq!(join("/a/../b//", "f"), "/b/f");
        assert_eq!(join("../x", "f"), "../x/f");
        assert_eq!(join(".", "f"), "f");
        assert_eq!(join("", "a/./b"), "a/b");
    }
}

//! Key patterns: `*` and `?` within one `/`-separated segment, `**` as a
//! whole segment for any number of segments (none included).

/// A compiled key pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    segs: Vec<Seg>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    /// `**`: any number of segments.
    Any,
    /// One segment, `*`/`?` as wildcards.
    One(Vec<char>),
}

/// Whether `s` has a wildcard.
pub(crate) fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

impl Pattern {
    /// Compiles `pat` (a key pattern, no leading `/`).
    pub fn new(pat: &str) -> Pattern {
        let mut segs: Vec<Seg> = Vec::new();
        for s in pat.split('/') {
            let seg = if s == "**" {
                Seg::Any
            } else {
                Seg::One(s.chars().collect())
            };
            // `a/**/**/b` is `a/**/b`.
            if seg == Seg::Any && segs.last() == Some(&Seg::Any) {
                continue;
            }
            segs.push(seg);
        }
        Pattern { segs }
    }

    /// Whether the key `key` matches the whole pattern.
    pub fn matches(&self, key: &str) -> bool {
        let keys: Vec<&str> = key.split('/').collect();
        // m[j]: the pattern's first i segments match the key's first j.
        let mut m = vec![false; keys.len() + 1];
        m[0] = true;
        for seg in &self.segs {
            let mut next = vec![false; keys.len() + 1];
            match seg {
                Seg::Any => {
                    let mut any = false;
                    for j in 0..=keys.len() {
                        any |= m[j];
                        next[j] = any;
                    }
                }
                Seg::One(p) => {
                    for j in 0..keys.len() {
                        if m[j] && segment_matches(p, keys[j]) {
                            next[j + 1] = true;
                        }
                    }
                }
            }
            m = next;
        }
        m[keys.len()]
    }
}

/// `*` any run of characters, `?` one character, the rest literally.
fn segment_matches(p: &[char], s: &str) -> bool {
    let s: Vec<char> = s.chars().collect();
    // m[j]: the pattern so far matches the first j characters.
    let mut m = vec![false; s.len() + 1];
    m[0] = true;
    for &c in p {
        let mut next = vec![false; s.len() + 1];
        if c == '*' {
            let mut any = false;
            for j in 0..=s.len() {
                any |= m[j];
                next[j] = any;
            }
        } else {
            for j in 0..s.len() {
                next[j + 1] = m[j] && (c == '?' || c == s[j]);
            }
        }
        m = next;
    }
    m[s.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_double_stars() {
        let p = Pattern::new("logs/*/artifacts/**/*.cov");
        for k in [
            "logs/1/artifacts/a.cov",
            "logs/2/artifacts/x/y/e2e.cov",
            "logs/3/artifacts/.cov",
        ] {
            assert!(p.matches(k), "{k}");
        }
        for k in [
            "logs/1/2/artifacts/a.cov",
            "logs/1/artifacts/a.cov.txt",
            "logs/1/artifacts",
            "logs/1/artifactsa.cov",
        ] {
            assert!(!p.matches(k), "{k}");
        }
        let q = Pattern::new("a?c/**");
        assert!(q.matches("abc/d/e"));
        assert!(q.matches("abc"));
        assert!(!q.matches("ac/d"));
        assert!(Pattern::new("**/**/x").matches("x"));
        assert!(Pattern::new("größe-*.out").matches("größe-1.out"));
        // Quadratic, not exponential, in the number of stars.
        let stars = "*".repeat(200);
        assert!(!Pattern::new(&format!("{stars}b")).matches(&"a".repeat(5000)));
    }
}

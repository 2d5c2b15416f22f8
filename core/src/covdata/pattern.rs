//! `-pkg` package patterns, as `go tool covdata` matches them
//! (cmd/internal/pkgpattern.MatchSimplePattern).

use regex::Regex;

use crate::error::Error;

/// A set of import-path patterns: `...` matches any string, and a trailing
/// `/...` also matches the path without it (`a/...` matches `a`).
#[derive(Clone, Debug)]
pub struct PackageFilter {
    patterns: Vec<Regex>,
}

impl PackageFilter {
    /// Parses a comma-separated list, as `-pkg=p1,p2` takes it (empty
    /// items are ignored). `None` when nothing is left, meaning "all".
    pub fn parse(list: &str) -> Result<Option<PackageFilter>, Error> {
        let mut patterns = Vec::new();
        for p in list.split(',').filter(|p| !p.is_empty()) {
            let mut re = regex::escape(p);
            if let Some(head) = re.strip_suffix(r"/\.\.\.") {
                re = format!(r"{head}(/\.\.\.)?");
            }
            let re = format!("^{}$", re.replace(r"\.\.\.", ".*"));
            patterns.push(
                Regex::new(&re)
                    .map_err(|e| Error::Invalid(format!("invalid package pattern {p:?}: {e}")))?,
            );
        }
        Ok((!patterns.is_empty()).then_some(PackageFilter { patterns }))
    }

    /// Whether `import_path` matches any of the patterns.
    pub fn matches(&self, import_path: &str) -> bool {
        self.patterns.iter().any(|re| re.is_match(import_path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_simple_patterns() {
        let f = PackageFilter::parse("example.com/m/lib/...,fmt")
            .unwrap()
            .unwrap();
        assert!(f.matches("example.com/m/lib"));
        assert!(f.matches("example.com/m/lib/x/y"));
        assert!(!f.matches("example.com/m/libx"));
        assert!(f.matches("fmt"));
        assert!(!f.matches("fmtx"));
        let f = PackageFilter::parse("a...b").unwrap().unwrap();
        assert!(f.matches("a/x/b"));
        assert!(f.matches("ab"));
        assert!(!f.matches("a/x/bc"));
        let f = PackageFilter::parse("a.b+c").unwrap().unwrap();
        assert!(f.matches("a.b+c"));
        assert!(!f.matches("axb+c"));
        assert!(PackageFilter::parse(",").unwrap().is_none());
    }
}

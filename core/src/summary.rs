//! Rollups of statement counts per file, per package and per directory tree.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::profile::{Counts, Profile, package_of};

/// One row of a rollup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    /// File, package or directory name.
    pub name: String,
    /// Statements covered and total.
    #[serde(flatten)]
    pub counts: Counts,
}

impl Row {
    /// Covered share in percent (0 for no statements).
    pub fn percent(&self) -> f64 {
        self.counts.percent()
    }
}

/// Every rollup of one profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// All statements.
    pub total: Counts,
    /// One row per file, sorted by name.
    pub files: Vec<Row>,
    /// One row per package (the file's directory), sorted by name.
    pub packages: Vec<Row>,
    /// One row per directory prefix up to the requested depth, each
    /// counting every file below it, sorted by name.
    pub tree: Vec<Row>,
}

/// Computes the rollups. `depth` limits the directory tree to prefixes of
/// at most that many path elements (`None`: every level).
pub fn summarize(p: &Profile, depth: Option<usize>) -> Summary {
    let mut total = Counts::default();
    let mut files = Vec::with_capacity(p.files.len());
    let mut packages: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut tree: BTreeMap<&str, Counts> = BTreeMap::new();
    for f in &p.files {
        let c = f.statements();
        total.add(c);
        files.push(Row {
            name: f.name.clone(),
            counts: c,
        });
        packages.entry(package_of(&f.name)).or_default().add(c);
        let dir = package_of(&f.name);
        if dir == "." {
            continue;
        }
        // Every prefix of the directory, ending at a '/' or the whole dir.
        let mut level = 0usize;
        for (i, ch) in dir.char_indices() {
            if ch == '/' && i > 0 {
                level += 1;
                if depth.is_some_and(|d| level > d) {
                    break;
                }
                tree.entry(&dir[..i]).or_default().add(c);
            }
        }
        level += 1;
        if depth.is_none_or(|d| level <= d) {
            tree.entry(dir).or_default().add(c);
        }
    }
    let rows = |m: BTreeMap<&str, Counts>| {
        m.into_iter()
            .map(|(k, v)| Row {
                name: k.to_string(),
                counts: v,
            })
            .collect()
    };
    Summary {
        total,
        files,
        packages: rows(packages),
        tree: rows(tree),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ParseOptions, parse_bytes};

    #[test]
    fn rollups() {
        let p = parse_bytes(
            b"mode: set\nk8s.io/a/x.go:1.1,1.2 2 1\nk8s.io/a/b/y.go:1.1,1.2 2 0\nk8s.io/c/z.go:1.1,1.2 1 1\n",
            "t",
            &ParseOptions::default(),
        )
        .unwrap();
        let s = summarize(&p, None);
        assert_eq!(
            s.total,
            Counts {
                covered: 3,
                total: 5
            }
        );
        let names: Vec<_> = s.tree.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["k8s.io", "k8s.io/a", "k8s.io/a/b", "k8s.io/c"]);
        assert_eq!(
            s.tree[1].counts,
            Counts {
                covered: 2,
                total: 4
            }
        );
        let s = summarize(&p, Some(2));
        let names: Vec<_> = s.tree.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["k8s.io", "k8s.io/a", "k8s.io/c"]);
        assert_eq!(s.packages.len(), 3);
    }
}

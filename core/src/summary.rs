//! Rollups of statement counts per file, per package and per directory tree.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::Error;
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
    /// The directory the rollups are under (`""`: none); the tree lists
    /// directories below it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub root: String,
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
    summarize_under(p, "", depth).expect("every file is under the empty root")
}

/// The rollups of the files under directory `root` (an import-path
/// prefix; `""` for all, a trailing `/` ignored): the tree lists the
/// directories below `root` (full names), `depth` counting path elements
/// below it. A file outside `root` is an error naming it: no count is
/// left out unseen.
pub fn summarize_under(p: &Profile, root: &str, depth: Option<usize>) -> Result<Summary, Error> {
    let root = root.trim_end_matches('/');
    let mut total = Counts::default();
    let mut files = Vec::with_capacity(p.files.len());
    let mut packages: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut tree: BTreeMap<&str, Counts> = BTreeMap::new();
    for f in &p.files {
        let c = f.statements();
        let dir = package_of(&f.name);
        let rel = if root.is_empty() {
            dir
        } else {
            under_root(root, dir).ok_or_else(|| outside(root, &f.name))?
        };
        total.add(c);
        files.push(Row {
            name: f.name.clone(),
            counts: c,
        });
        packages.entry(dir).or_default().add(c);
        if rel.is_empty() || rel == "." {
            continue;
        }
        // Where `rel` starts in `dir`.
        let offset = dir.len() - rel.len();
        // Every prefix of the directory, ending at a '/' or the whole dir.
        let mut level = 0usize;
        for (i, ch) in rel.char_indices() {
            if ch == '/' && i > 0 {
                level += 1;
                if depth.is_some_and(|d| level > d) {
                    break;
                }
                tree.entry(&dir[..offset + i]).or_default().add(c);
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
    Ok(Summary {
        root: root.to_string(),
        total,
        files,
        packages: rows(packages),
        tree: rows(tree),
    })
}

fn outside(root: &str, name: &str) -> Error {
    Error::OutsideRoot {
        name: name.to_string(),
        root: root.trim_end_matches('/').to_string(),
    }
}

/// `name` relative to directory `root` (`""` for `root` itself); `None`
/// when it is outside. Every name is under the empty root.
pub fn under_root<'a>(root: &str, name: &'a str) -> Option<&'a str> {
    let root = root.trim_end_matches('/');
    if root.is_empty() {
        return Some(name);
    }
    match name.strip_prefix(root)? {
        "" => Some(""),
        rest => rest.strip_prefix('/'),
    }
}

/// The longest directory holding every file named (`k8s.io/kubernetes/pkg`
/// for files in `k8s.io/kubernetes/pkg/api/...` and `.../pkg/util/...`);
/// `""` when they share none.
pub fn common_dir<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut common: Option<&str> = None;
    for name in names {
        let dir = match package_of(name) {
            "." | "/" => "",
            d => d,
        };
        let mut c = common.unwrap_or(dir);
        while under_root(c, dir).is_none() {
            c = c.rfind('/').map_or("", |i| &c[..i]);
        }
        common = Some(c);
        if c.is_empty() {
            break;
        }
    }
    common.unwrap_or("").to_string()
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

    #[test]
    fn rollups_under_a_root() {
        let p = parse_bytes(
            b"mode: set\nk8s.io/k/pkg/a/x.go:1.1,1.2 2 1\nk8s.io/k/pkg/a/b/y.go:1.1,1.2 2 0\nk8s.io/k/pkg/c/z.go:1.1,1.2 1 1\n",
            "t",
            &ParseOptions::default(),
        )
        .unwrap();
        let root = common_dir(p.files().iter().map(|f| f.name()));
        assert_eq!(root, "k8s.io/k/pkg");
        let s = summarize_under(&p, &root, Some(1)).unwrap();
        let names: Vec<_> = s.tree.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["k8s.io/k/pkg/a", "k8s.io/k/pkg/c"]);
        assert_eq!(s.tree[0].counts.total, 4);
        let s = summarize_under(&p, "k8s.io/k/", Some(2)).unwrap();
        let names: Vec<_> = s.tree.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["k8s.io/k/pkg", "k8s.io/k/pkg/a", "k8s.io/k/pkg/c"]);
        let e = summarize_under(&p, "k8s.io/k/pkg/a", None).unwrap_err();
        assert!(
            e.to_string().contains("k8s.io/k/pkg/c/z.go is not under"),
            "{e}"
        );
        // Whole path elements only.
        assert_eq!(under_root("a/b", "a/bc"), None);
        assert_eq!(common_dir(["a/bc/x.go", "a/b/y.go"]), "a");
        assert_eq!(common_dir(["x.go", "a/b/y.go"]), "");
    }
}

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

/// The most bytes the names of the directory rows may take together: the
/// rows of a file name with 25,000 path elements took 1.25 GB (each row
/// names its directory in full). Kubernetes' whole tree takes well under
/// a megabyte.
pub const MAX_TREE_NAME_BYTES: usize = 256 << 20;

/// Computes the rollups. `depth` limits the directory tree to prefixes of
/// at most that many path elements (`None`: every level).
/// Fails only past [`MAX_TREE_NAME_BYTES`] (every file is under the empty
/// root).
pub fn summarize(p: &Profile, depth: Option<usize>) -> Result<Summary, Error> {
    summarize_under(p, "", depth)
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
    let mut name_bytes = 0usize;
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
                row(&mut tree, &dir[..offset + i], &mut name_bytes)?.add(c);
            }
        }
        level += 1;
        if depth.is_none_or(|d| level <= d) {
            row(&mut tree, dir, &mut name_bytes)?.add(c);
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

/// The tree row of directory `dir`, counting the bytes of new rows' names
/// against [`MAX_TREE_NAME_BYTES`].
fn row<'a, 'm>(
    tree: &'m mut BTreeMap<&'a str, Counts>,
    dir: &'a str,
    name_bytes: &mut usize,
) -> Result<&'m mut Counts, Error> {
    use std::collections::btree_map::Entry;
    match tree.entry(dir) {
        Entry::Occupied(e) => Ok(e.into_mut()),
        Entry::Vacant(e) => {
            *name_bytes += dir.len();
            if *name_bytes > MAX_TREE_NAME_BYTES {
                let depth = dir.split('/').count();
                return Err(Error::Invalid(format!(
                    "the directory rows would name more than {MAX_TREE_NAME_BYTES} bytes of directories \
                     (one has {depth} path elements); rows down to a smaller depth take less"
                )));
            }
            Ok(e.insert(Counts::default()))
        }
    }
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

    /// Directory rows name their directory in full, so a deep name costs
    /// the square of its depth: past [`MAX_TREE_NAME_BYTES`] it is an
    /// error, found without building the rows (a 200 KB profile took
    /// 19.6 GB). A smaller depth is fine.
    #[test]
    fn directory_rows_are_bounded() {
        let deep = format!("mode: set\n{}x.go:1.1,1.2 1 1\n", "ab/".repeat(17_000));
        let p = crate::parse_bytes(deep.as_bytes(), "deep", &Default::default()).unwrap();
        let e = summarize(&p, None).unwrap_err().to_string();
        assert!(e.contains("path elements"), "{e}");
        assert_eq!(summarize(&p, Some(100)).unwrap().tree.len(), 100);
    }
    use crate::{ParseOptions, parse_bytes};

    #[test]
    fn rollups() {
        let p = parse_bytes(
            b"mode: set\nk8s.io/a/x.go:1.1,1.2 2 1\nk8s.io/a/b/y.go:1.1,1.2 2 0\nk8s.io/c/z.go:1.1,1.2 1 1\n",
            "t",
            &ParseOptions::default(),
        )
        .unwrap();
        let s = summarize(&p, None).unwrap();
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
        let s = summarize(&p, Some(2)).unwrap();
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

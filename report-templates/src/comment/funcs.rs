//! Functions that lost coverage: each file's functions found in the head's
//! source and in the base's, rebuilt from it by undoing the diff, and
//! compared by name.

use std::collections::{BTreeMap, HashMap};

use covlens_core::{
    Counts, FileProfile, FuncExtent, FuncFinder, Profile, SourceResolver, funcs_coverage,
};
use serde::{Deserialize, Serialize};

use super::{Comment, DeltaRow, DiffFile, PathMap};
use crate::Stat;
use crate::stat::tenths;

/// A function whose coverage is lower in the head than in the base.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FuncDelta {
    /// The file (repository-relative when known).
    pub file: String,
    /// The file's name in the profiles (its import path), which the
    /// report's pages go by.
    #[serde(default)]
    pub name: String,
    /// The function's line in the head.
    pub line: u32,
    /// `Add`, or `T.Add` for a method; base and head as `go tool cover
    /// -func` counts them.
    pub row: DeltaRow,
}

/// How many files' sources a comment reads by default (for its functions,
/// and the pull request's report for its source pages): each needs a read
/// (through GitHub's API, for the Prow reporter).
pub const MAX_SOURCE_FILES: usize = 30;

/// The sources of `files` that `resolver` finds (as `covlens func` finds
/// them); the others are left out, and counted by
/// [`Comment::set_functions`].
pub fn read_sources(files: &[SourceFile], resolver: &SourceResolver) -> BTreeMap<String, Vec<u8>> {
    files
        .iter()
        .filter_map(|f| Some((f.name.clone(), resolver.read_source(&f.name).ok()?.1)))
        .collect()
}

/// A file of the head whose source is wanted ([`source_files`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// The profile's name of the file (an import path).
    pub name: String,
    /// Repository-relative path, when the diff or the module tells it.
    pub path: Option<String>,
}

/// The files of `head` a reviewer most needs the source of, at most `max`,
/// the likeliest first: files the diff changes or adds, and unchanged files
/// with a block covered in the base and not in the head (whose functions
/// may have lost coverage).
pub fn source_files(
    base: &Profile,
    head: &Profile,
    diff: Option<&[DiffFile]>,
    module: Option<&str>,
    max: usize,
) -> Vec<SourceFile> {
    let changed = changed_paths(base, head, diff, module);
    let mut found: Vec<(u64, SourceFile)> = Vec::new();
    for hf in head.files() {
        let path = changed.get(hf.name()).map(|d| d.path.clone());
        let size = match base.file(hf.name()) {
            Some(bf) => lost_statements(bf, hf),
            // New: its uncovered statements.
            None if path.is_some() => {
                let c = hf.statements();
                c.total - c.covered
            }
            None => continue,
        };
        if path.is_none() && size == 0 {
            continue;
        }
        let path = path.or_else(|| repo_path(hf.name(), module?));
        // A changed file may lose coverage in one function and gain it in
        // another: it ranks as if one statement were lost.
        found.push((
            size.max(1),
            SourceFile {
                name: hf.name().to_string(),
                path,
            },
        ));
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
    found.truncate(max);
    found.into_iter().map(|(_, f)| f).collect()
}

/// Where file `name` is in the repository of `module`: below the root,
/// or, for another module of the same host (`k8s.io/api` beside
/// `k8s.io/kubernetes`), in Kubernetes' `staging/src/` tree, as [`PathMap`]
/// maps the other way (a guess a reader may not find). `None` for other
/// modules' files: they are not the repository's.
fn repo_path(name: &str, module: &str) -> Option<String> {
    let m = module.trim_end_matches('/');
    if let Some(rel) = name.strip_prefix(m).and_then(|r| r.strip_prefix('/')) {
        return Some(rel.to_string());
    }
    fn host(s: &str) -> Option<&str> {
        s.split('/').next().filter(|h| h.contains('.'))
    }
    let same_host = host(name).is_some() && host(name) == host(m);
    (same_host && !name.split('/').any(|s| s == "..")).then(|| format!("staging/src/{name}"))
}

/// The base's sources, as [`lost_functions`] rebuilds them: the head's
/// source of each file, found by a [`SourceResolver`], with the diff's
/// change to it undone.
pub struct BaseSources<'a> {
    changed: HashMap<String, &'a DiffFile>,
    resolver: &'a SourceResolver,
}

impl<'a> BaseSources<'a> {
    /// The sources of `base`'s files, `diff` being the change from it to
    /// `head` (names mapped to paths as comments map them).
    pub fn new(
        base: &Profile,
        head: &Profile,
        diff: &'a [DiffFile],
        module: Option<&str>,
        resolver: &'a SourceResolver,
    ) -> BaseSources<'a> {
        BaseSources {
            changed: changed_paths(base, head, Some(diff), module),
            resolver,
        }
    }

    /// The base's source of the file the profiles name `name`.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, String> {
        let (_, new) = self.resolver.read_source(name).map_err(|e| e.to_string())?;
        match self.changed.get(name) {
            Some(d) => d.old_text(&new).ok_or_else(|| {
                "the diff cannot be undone on its source (another version, or too large a diff)"
                    .to_string()
            }),
            None => Ok(new),
        }
    }
}

/// The diff's files by profile name.
fn changed_paths<'d>(
    base: &Profile,
    head: &Profile,
    diff: Option<&'d [DiffFile]>,
    module: Option<&str>,
) -> HashMap<String, &'d DiffFile> {
    let map = PathMap::new(module, &[base, head]);
    diff.unwrap_or_default()
        .iter()
        .filter_map(|d| Some((map.map(&d.path)?, d)))
        .collect()
}

/// Statements covered in `b` and not in `h`, block by block when both have
/// the same blocks; otherwise how many fewer are covered.
fn lost_statements(b: &FileProfile, h: &FileProfile) -> u64 {
    let same_blocks = b.blocks().len() == h.blocks().len()
        && b.blocks()
            .iter()
            .zip(h.blocks())
            .all(|(x, y)| x.same_shape(y));
    if !same_blocks {
        return b
            .statements()
            .covered
            .saturating_sub(h.statements().covered);
    }
    b.blocks()
        .iter()
        .zip(h.blocks())
        .filter(|(x, y)| x.count > 0 && y.count == 0)
        .map(|(x, _)| u64::from(x.num_stmt))
        .sum()
}

impl Comment {
    /// Sets `functions` and `functions_unread` from [`lost_functions`].
    pub fn set_functions(
        &mut self,
        base: &Profile,
        head: &Profile,
        diff: Option<&[DiffFile]>,
        module: Option<&str>,
        files: &[SourceFile],
        sources: &BTreeMap<String, Vec<u8>>,
    ) {
        let lost = lost_functions(base, head, diff, module, files, sources);
        self.functions = lost.functions;
        self.functions_more = 0;
        self.functions_unread = lost.unread;
    }
}

/// Functions whose coverage fell, and the files that could not be compared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LostFunctions {
    /// Worst first.
    pub functions: Vec<FuncDelta>,
    /// Files whose source is missing, or does not parse on either side.
    pub unread: usize,
}

/// The functions whose coverage fell from `base` to `head`, worst first,
/// from the head's source of `files` ([`source_files`] chooses them;
/// `sources` by profile name). The base's source is the head's with the
/// diff undone, so a base run of another commit than the diff's base
/// compares less exactly, as every number of a comment does.
pub fn lost_functions(
    base: &Profile,
    head: &Profile,
    diff: Option<&[DiffFile]>,
    module: Option<&str>,
    files: &[SourceFile],
    sources: &BTreeMap<String, Vec<u8>>,
) -> LostFunctions {
    let changed = changed_paths(base, head, diff, module);
    let mut finder = FuncFinder::new().ok();
    let mut out = Vec::new();
    let mut unread = 0;
    for f in files {
        let (Some(bf), Some(hf)) = (base.file(&f.name), head.file(&f.name)) else {
            continue;
        };
        let found = (|| {
            let finder = finder.as_mut()?;
            let new = sources.get(&f.name)?;
            let old = match changed.get(&f.name) {
                Some(d) => std::borrow::Cow::Owned(d.old_text(new)?),
                None => std::borrow::Cow::Borrowed(new),
            };
            let head_funcs = finder.find(new, &f.name).ok()?;
            let base_funcs = finder.find(&old, &f.name).ok()?;
            Some((head_funcs, base_funcs))
        })();
        let Some((head_funcs, base_funcs)) = found else {
            unread += 1;
            continue;
        };
        let file = f.path.clone().unwrap_or_else(|| f.name.clone());
        out.extend(file_lost_functions(
            &file,
            &f.name,
            bf,
            &base_funcs,
            hf,
            &head_funcs,
        ));
    }
    out.sort_by(|a, b| {
        tenths(a.row.delta)
            .cmp(&tenths(b.row.delta))
            .then_with(|| a.file.cmp(&b.file))
            .then_with(|| a.line.cmp(&b.line))
    });
    LostFunctions {
        functions: out,
        unread,
    }
}

/// The functions of one file whose printed coverage fell.
fn file_lost_functions(
    file: &str,
    name: &str,
    bf: &FileProfile,
    base_funcs: &[FuncExtent],
    hf: &FileProfile,
    head_funcs: &[FuncExtent],
) -> Vec<FuncDelta> {
    // By receiver and name; `init` may repeat, so also by occurrence.
    let key = |funcs: &[FuncExtent]| {
        let mut seen: HashMap<(Option<&str>, &str), usize> = HashMap::new();
        funcs
            .iter()
            .map(|f| {
                let n = seen.entry((f.receiver.as_deref(), &f.name)).or_default();
                *n += 1;
                (f.receiver.clone(), f.name.clone(), *n)
            })
            .collect::<Vec<_>>()
    };
    let base_cov = funcs_coverage(base_funcs, bf.blocks());
    let head_cov = funcs_coverage(head_funcs, hf.blocks());
    let base_by_key: HashMap<_, Counts> = key(base_funcs).into_iter().zip(base_cov).collect();
    let mut out = Vec::new();
    for ((k, f), h) in key(head_funcs).into_iter().zip(head_funcs).zip(head_cov) {
        let Some(&b) = base_by_key.get(&k) else {
            continue;
        };
        if b.total == 0 || h.total == 0 {
            continue;
        }
        let row = DeltaRow::new(
            match &f.receiver {
                Some(r) => format!("{r}.{}", f.name),
                None => f.name.clone(),
            },
            Some(Stat::from(b)),
            Some(Stat::from(h)),
            None,
        );
        if row.delta < 0.0 {
            out.push(FuncDelta {
                file: file.to_string(),
                name: name.to_string(),
                line: f.start_line,
                row,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comment::parse_diff;
    use crate::test_profile as profile;

    // The base: a() covered, T.b() covered; the head inserts c() above
    // them (lines move by 4), a() loses its test, T.b() keeps it.
    const HEAD: &str = "package p\n\nfunc c() {\n\tprintln()\n}\n\nfunc a() {\n\tprintln()\n}\n\nfunc (t *T) b() {\n\tprintln()\n}\n";
    const DIFF: &str = "diff --git a/p.go b/p.go\n--- a/p.go\n+++ b/p.go\n@@ -2,0 +3,4 @@\n+func c() {\n+\tprintln()\n+}\n+\n";

    #[test]
    fn functions_are_matched_across_the_diff() {
        let base = profile("mode: set\nm/p.go:3.10,5.2 1 1\nm/p.go:7.17,9.2 1 1\n");
        let head =
            profile("mode: set\nm/p.go:3.10,5.2 1 0\nm/p.go:7.10,9.2 1 0\nm/p.go:11.17,13.2 1 1\n");
        let diff = parse_diff(DIFF).unwrap();
        let files = source_files(&base, &head, Some(&diff), Some("m"), 10);
        assert_eq!(
            files,
            [SourceFile {
                name: "m/p.go".into(),
                path: Some("p.go".into())
            }]
        );
        let mut c = Comment::build(&base, &head, Some(&diff), Some("m"), None);
        let sources = BTreeMap::from([("m/p.go".to_string(), HEAD.as_bytes().to_vec())]);
        c.set_functions(&base, &head, Some(&diff), Some("m"), &files, &sources);
        let got: Vec<_> = c
            .functions
            .iter()
            .map(|f| (f.row.name.as_str(), f.line, f.row.delta))
            .collect();
        // c() is new (no base), T.b() kept its coverage.
        assert_eq!(got, [("a", 7, -100.0)]);
        assert_eq!(c.functions_unread, 0);

        // A source that does not fit the diff, or is missing, is counted.
        let short = BTreeMap::from([("m/p.go".to_string(), b"package p\n".to_vec())]);
        c.set_functions(&base, &head, Some(&diff), Some("m"), &files, &short);
        assert_eq!((c.functions.len(), c.functions_unread), (0, 1));
        c.set_functions(
            &base,
            &head,
            Some(&diff),
            Some("m"),
            &files,
            &BTreeMap::new(),
        );
        assert_eq!(c.functions_unread, 1);
    }

    #[test]
    fn unchanged_files_are_chosen_by_lost_blocks() {
        let base =
            profile("mode: set\nm/x.go:1.1,2.2 3 1\nm/y.go:1.1,2.2 1 1\nm/z.go:1.1,2.2 1 0\n");
        let head =
            profile("mode: set\nm/x.go:1.1,2.2 3 0\nm/y.go:1.1,2.2 1 0\nm/z.go:1.1,2.2 1 1\n");
        let names = |max| -> Vec<String> {
            source_files(&base, &head, None, None, max)
                .into_iter()
                .map(|f| f.name)
                .collect()
        };
        // z.go gained coverage: nothing lost there.
        assert_eq!(names(10), ["m/x.go", "m/y.go"]);
        assert_eq!(names(1), ["m/x.go"]);
    }

    #[test]
    fn repository_paths_of_profile_names() {
        let m = "k8s.io/kubernetes";
        assert_eq!(
            repo_path("k8s.io/kubernetes/pkg/a.go", m).as_deref(),
            Some("pkg/a.go")
        );
        assert_eq!(
            repo_path("k8s.io/api/core/v1/types.go", m).as_deref(),
            Some("staging/src/k8s.io/api/core/v1/types.go")
        );
        assert_eq!(repo_path("/abs/x.go", m), None);
        assert_eq!(repo_path("k8s.io/x/../../y.go", m), None);
        assert_eq!(repo_path("github.com/dep/x.go", m), None);
    }

    #[test]
    fn new_files_of_the_diff_are_chosen() {
        let base = profile("mode: set\nm/x.go:1.1,2.2 3 1\n");
        let head =
            profile("mode: set\nm/x.go:1.1,2.2 3 1\nm/n.go:1.1,2.2 2 0\nm/o.go:1.1,2.2 1 0\n");
        let diff = parse_diff("+++ b/n.go\n@@ -0,0 +1,2 @@\n+a\n+b\n").unwrap();
        let got = source_files(&base, &head, Some(&diff), Some("m"), 10);
        // o.go is new too, but not in the diff: nothing says where it is.
        assert_eq!(
            got,
            [SourceFile {
                name: "m/n.go".into(),
                path: Some("n.go".into())
            }]
        );
    }
}

//! `comment`: the Markdown of a pull-request comment, always within
//! GitHub's size limit.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result};
use clap::Args;
use covlens_core::{Counts, FileProfile, Profile, package_of};
use covlens_report_templates::{Comment, DeltaRow, Stat, Uncovered, signed, write_comment};

use crate::input::{InputArgs, load};
use covlens_core::output::Output;

#[derive(Args, Debug)]
pub struct CommentArgs {
    /// The profile of the base branch.
    #[arg(long)]
    base: String,
    /// The profile of the pull request.
    #[arg(long)]
    head: String,
    /// The pull request's unified diff (`git diff base...head`).
    #[arg(long, value_name = "FILE")]
    git_diff: Option<String>,
    /// GitHub's limit; the comment stays below it with a margin.
    #[arg(long, default_value_t = 65536)]
    max_chars: usize,
    /// Link to the full report.
    #[arg(long, value_name = "URL")]
    report_url: Option<String>,
    /// Import path of the repository root (profile names are import paths,
    /// diff paths are repository-relative). Default: the `module` line of
    /// ./go.mod; without one, names are matched by suffix.
    #[arg(long, value_name = "PREFIX")]
    module: Option<String>,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
}

pub fn run(input: &InputArgs, a: CommentArgs) -> Result<()> {
    let popts = input.load_options();
    let base = load(&a.base, &popts)?;
    let head = load(&a.head, &popts)?;
    let diff = match &a.git_diff {
        Some(path) => Some(parse_diff(
            &std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?,
        )),
        None => None,
    };
    let module = match a.module.clone() {
        Some(m) => Some(m),
        None => std::fs::read_to_string("go.mod")
            .ok()
            .and_then(|s| module_line(&s)),
    };
    let c = build(
        &base,
        &head,
        diff.as_deref(),
        module.as_deref(),
        a.report_url,
    );
    let mut out = Output::create(&a.output)?;
    write_comment(&mut out, &c, a.max_chars)?;
    Ok(out.commit()?)
}

/// One file of a diff: its new path and the added lines, ascending.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DiffFile {
    pub path: String,
    pub added: Vec<u32>,
}

/// The files and added lines of a unified diff (as `git diff` writes it).
/// Deleted files are left out. Hunk lengths are followed, so content lines
/// that look like headers (`+++ …` inside a hunk) are content.
pub fn parse_diff(text: &str) -> Vec<DiffFile> {
    let mut files: Vec<DiffFile> = Vec::new();
    let mut cur: Option<DiffFile> = None;
    let (mut old_left, mut new_left, mut line) = (0u32, 0u32, 0u32);
    for l in text.lines() {
        if old_left > 0 || new_left > 0 {
            match l.as_bytes().first() {
                Some(b'+') => {
                    if let Some(f) = cur.as_mut() {
                        f.added.push(line);
                    }
                    line += 1;
                    new_left = new_left.saturating_sub(1);
                }
                Some(b'-') => old_left = old_left.saturating_sub(1),
                Some(b'\\') => {}
                _ => {
                    line += 1;
                    old_left = old_left.saturating_sub(1);
                    new_left = new_left.saturating_sub(1);
                }
            }
            continue;
        }
        if let Some(rest) = l.strip_prefix("diff --git ") {
            files.extend(cur.take());
            // `a/x b/x`; the +++ line, when present, has the exact name.
            let path = rest.rsplit_once(" b/").map_or("", |(_, p)| p);
            cur = Some(DiffFile {
                path: path.to_string(),
                added: Vec::new(),
            });
        } else if let Some(p) = l.strip_prefix("+++ ") {
            let f = cur.get_or_insert_with(DiffFile::default);
            if p.starts_with("/dev/null") {
                f.path.clear();
            } else {
                f.path = p.strip_prefix("b/").unwrap_or(p).trim_end().to_string();
            }
        } else if let Some(h) = l.strip_prefix("@@ -")
            && let Some((old, rest)) = h.split_once(" +")
            && let Some((new, _)) = rest.split_once(" @@")
        {
            let range = |r: &str| -> (u32, u32) {
                match r.split_once(',') {
                    Some((s, n)) => (s.parse().unwrap_or(0), n.parse().unwrap_or(0)),
                    None => (r.parse().unwrap_or(0), 1),
                }
            };
            let (_, on) = range(old);
            let (ns, nn) = range(new);
            (old_left, new_left, line) = (on, nn, ns);
        } else if l.starts_with("deleted file mode")
            && let Some(f) = cur.as_mut()
        {
            f.path.clear();
        }
    }
    files.extend(cur);
    files.retain(|f| !f.path.is_empty());
    files
}

/// The module path of a go.mod.
pub fn module_line(gomod: &str) -> Option<String> {
    gomod.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("module")?;
        let m = rest.trim().trim_matches('"');
        (!m.is_empty() && rest.starts_with([' ', '\t'])).then(|| m.to_string())
    })
}

/// Maps repository-relative diff paths to profile names: `module/path`
/// first; then Kubernetes' `staging/src/` and `vendor/` trees, whose
/// import paths are the rest of the path; then the shortest profile name
/// ending in `/path`.
struct PathMap<'a> {
    module: Option<&'a str>,
    names: HashMap<&'a str, ()>,
    by_base: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> PathMap<'a> {
    fn new(module: Option<&'a str>, profiles: &[&'a Profile]) -> PathMap<'a> {
        let mut names = HashMap::new();
        let mut by_base: HashMap<&str, Vec<&str>> = HashMap::new();
        for p in profiles {
            for f in p.files() {
                if names.insert(f.name(), ()).is_none() {
                    let base = f.name().rsplit('/').next().unwrap_or(f.name());
                    by_base.entry(base).or_default().push(f.name());
                }
            }
        }
        PathMap {
            module,
            names,
            by_base,
        }
    }

    fn map(&self, path: &str) -> Option<String> {
        if let Some(m) = self.module {
            let n = format!("{}/{path}", m.trim_end_matches('/'));
            if self.names.contains_key(n.as_str()) {
                return Some(n);
            }
        }
        for marker in ["staging/src/", "vendor/"] {
            if let Some(i) = path.find(marker)
                && (i == 0 || path[..i].ends_with('/'))
                && self.names.contains_key(&path[i + marker.len()..])
            {
                return Some(path[i + marker.len()..].to_string());
            }
        }
        if self.names.contains_key(path) {
            return Some(path.to_string());
        }
        let base = path.rsplit('/').next().unwrap_or(path);
        let suffix = format!("/{path}");
        self.by_base
            .get(base)?
            .iter()
            .filter(|n| n.ends_with(&suffix))
            .min_by_key(|n| n.len())
            .map(|n| n.to_string())
    }
}

fn stat(c: Counts) -> Stat {
    Stat::new(c.covered, c.total)
}

/// Builds the comment. Lists are ranked by size of change: packages and
/// files by the number of statements whose state changed (|Δcovered| +
/// |Δtotal|), then by |Δ%|; uncovered changed statements by count.
pub fn build(
    base: &Profile,
    head: &Profile,
    diff: Option<&[DiffFile]>,
    module: Option<&str>,
    report_url: Option<String>,
) -> Comment {
    let (bt, ht) = (base.statements(), head.statements());
    let total = DeltaRow::new("total".into(), Some(stat(bt)), Some(stat(ht)), None);

    let mut pkgs: BTreeMap<&str, [Option<Counts>; 2]> = BTreeMap::new();
    for (i, p) in [base, head].into_iter().enumerate() {
        for f in p.files() {
            pkgs.entry(package_of(f.name())).or_default()[i]
                .get_or_insert_with(Counts::default)
                .add(f.statements());
        }
    }
    let mut packages: Vec<(u64, DeltaRow)> = pkgs
        .into_iter()
        .filter(|(_, [b, h])| b != h)
        .map(|(name, [b, h])| {
            let size = change_size(b, h);
            (
                size,
                DeltaRow::new(name.to_string(), b.map(stat), h.map(stat), None),
            )
        })
        .collect();
    rank(&mut packages);

    let mut files = Vec::new();
    let mut uncovered = Vec::new();
    let mut patch = diff.map(|_| Counts::default());
    if let Some(diff) = diff {
        let map = PathMap::new(module, &[base, head]);
        for d in diff {
            let name = map.map(&d.path);
            let bf = name.as_deref().and_then(|n| base.file(n));
            let hf = name.as_deref().and_then(|n| head.file(n));
            if bf.is_none() && hf.is_none() && !d.path.ends_with(".go") {
                continue; // not Go: nothing to say
            }
            let (b, h) = (
                bf.map(FileProfile::statements),
                hf.map(FileProfile::statements),
            );
            let mut file_patch = None;
            if let Some(hf) = hf {
                let (pc, u) = changed_statements(hf, &d.added);
                if pc.total > 0 {
                    patch.get_or_insert_with(Counts::default).add(pc);
                    file_patch = Some(stat(pc));
                }
                if let Some((ranges, n)) = u {
                    uncovered.push((
                        n,
                        Uncovered {
                            file: d.path.clone(),
                            ranges,
                            more: 0,
                            statements: n,
                        },
                    ));
                }
            }
            let size = change_size(b, h) + file_patch.as_ref().map_or(0, |p| p.total);
            files.push((
                size,
                DeltaRow::new(d.path.clone(), b.map(stat), h.map(stat), file_patch),
            ));
        }
    }
    rank(&mut files);
    uncovered.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.file.cmp(&b.1.file)));

    let d = ht.percent() - bt.percent();
    Comment {
        title: format!("Coverage: {:.1}% ({})", ht.percent(), signed(d)),
        total,
        patch: patch.map(stat),
        packages: packages.into_iter().map(|p| p.1).collect(),
        packages_more: 0,
        files: files.into_iter().map(|p| p.1).collect(),
        files_more: 0,
        uncovered: uncovered.into_iter().map(|u| u.1).collect(),
        uncovered_more: 0,
        report_url,
        truncated: false,
    }
}

fn change_size(b: Option<Counts>, h: Option<Counts>) -> u64 {
    let (b, h) = (b.unwrap_or_default(), h.unwrap_or_default());
    b.covered.abs_diff(h.covered) + b.total.abs_diff(h.total)
}

fn rank(v: &mut [(u64, DeltaRow)]) {
    let pp = |r: &DeltaRow| r.delta.parse::<f64>().unwrap_or(0.0).abs();
    v.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| pp(&b.1).total_cmp(&pp(&a.1)))
            .then_with(|| a.1.name.cmp(&b.1.name))
    });
}

/// Statements of blocks that overlap an added line, and the line ranges
/// (and statement count) of those not covered.
fn changed_statements(f: &FileProfile, added: &[u32]) -> (Counts, Option<(Vec<String>, u64)>) {
    let mut c = Counts::default();
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    let mut n = 0;
    for b in f.blocks() {
        let i = added.partition_point(|&l| l < b.start_line);
        if b.num_stmt == 0 || added.get(i).is_none_or(|&l| l > b.end_line) {
            continue;
        }
        c.add_block(b);
        if b.count == 0 {
            n += u64::from(b.num_stmt);
            match ranges.last_mut() {
                Some(r) if b.start_line <= r.1 + 1 => r.1 = r.1.max(b.end_line),
                _ => ranges.push((b.start_line, b.end_line)),
            }
        }
    }
    let u = (n > 0).then(|| {
        let r = ranges
            .iter()
            .map(|&(s, e)| {
                if s == e {
                    s.to_string()
                } else {
                    format!("{s}-{e}")
                }
            })
            .collect();
        (r, n)
    });
    (c, u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_parsing() {
        let d = "diff --git a/pkg/x.go b/pkg/x.go\nindex 1..2 100644\n--- a/pkg/x.go\n+++ b/pkg/x.go\n@@ -1,3 +1,4 @@\n a\n+b\n c\n-d\n+e\n@@ -10 +11,2 @@\n-x\n++++ y\n+z\ndiff --git a/old.go b/old.go\ndeleted file mode 100644\n--- a/old.go\n+++ /dev/null\n@@ -1 +0,0 @@\n-gone\n";
        let f = parse_diff(d);
        assert_eq!(
            f,
            vec![DiffFile {
                path: "pkg/x.go".into(),
                added: vec![2, 4, 11, 12]
            }]
        );
    }

    #[test]
    fn module() {
        assert_eq!(
            module_line("// c\nmodule k8s.io/kubernetes\n\ngo 1.22\n").as_deref(),
            Some("k8s.io/kubernetes")
        );
        assert_eq!(module_line("modules x\n"), None);
    }
}

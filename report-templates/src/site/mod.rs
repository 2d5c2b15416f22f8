//! The report site: a static, self-contained site (no request leaves the
//! page).
//!
//! `index.html` carries the top of the directory tree; every directory
//! and every file with source is a `data/<id>.js` script the page adds
//! with `<script src>` when it is opened, so the site works from
//! `file://` (where `fetch` of local files is refused) and stays fast at
//! Kubernetes scale. Files whose source is not found keep their numbers
//! in the tree but get no page. Ids are `d<n>` for directories, numbered
//! breadth first from the root `d0`, and `f<n>` for files, numbered in
//! name order.

mod sink;
mod source;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;

use covlens_core::flaky::FlakyReport;
use covlens_core::ignore::IgnoreReport;
use covlens_core::owners::{OwnerBy, OwnersTree};
use covlens_core::{
    Block, Counts, FileProfile, Profile, SourceResolver, find_funcs, package_of, under_root,
};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

pub use self::sink::{DirSink, MemorySink, SiteSink};
pub use self::source::source_lines;
use crate::comment::FuncDelta;
use crate::escape::{ScriptContext, script_json};
use crate::render::render_to;
use crate::{Error, Stat};

/// Where the site finds the source of a profile's file.
pub trait Sources {
    /// The source of profile file `name` and a path naming it in
    /// messages; `None` when it is not available (the file then has no
    /// page).
    fn source(&self, name: &str) -> Option<(PathBuf, Vec<u8>)>;
}

/// Only what [`SourceResolver::read_source`] allows: `.go` files that the
/// import-path mapping finds inside a trusted directory. Absolute names,
/// `..` and links out of the tree get no page.
impl Sources for SourceResolver {
    fn source(&self, name: &str) -> Option<(PathBuf, Vec<u8>)> {
        self.read_source(name).ok()
    }
}

/// Sources already read, by profile file name (the Prow reporter's, read
/// through GitHub); the name is also the path shown.
impl Sources for std::collections::BTreeMap<String, Vec<u8>> {
    fn source(&self, name: &str) -> Option<(PathBuf, Vec<u8>)> {
        self.get(name).map(|s| (PathBuf::from(name), s.clone()))
    }
}

/// No sources: a site with numbers only.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoSources;

impl Sources for NoSources {
    fn source(&self, _: &str) -> Option<(PathBuf, Vec<u8>)> {
        None
    }
}

/// What [`write_site`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SiteStats {
    /// Files of the profiles.
    pub files: usize,
    /// Files with a source page.
    pub pages: usize,
    /// Directory entries of the tree.
    pub dirs: usize,
}

/// What a site (or its one-file form, [`write_page`]) shows besides the
/// profiles.
#[derive(Clone, Copy, Debug, Default)]
pub struct SiteOptions<'a> {
    /// The page title.
    pub title: &'a str,
    /// The directory the tree starts at (an import-path prefix, a trailing
    /// `/` ignored); `""`: the longest directory common to every file,
    /// which is also what [`write_site`] uses.
    pub root: &'a str,
}

impl SiteOptions<'_> {
    /// Fails, naming the first such file, when a file of `columns` is not
    /// under the root: the tree would leave it out.
    pub fn check(&self, columns: &[(String, Profile)]) -> Result<(), Error> {
        let root = self.root.trim_end_matches('/');
        for (_, p) in columns {
            for f in p.files() {
                if under_root(root, package_of(f.name())).is_none() {
                    return Err(Error::OutsideRoot {
                        file: f.name().to_string(),
                        root: root.to_string(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Where the site's files go: a sink, or one page holding everything.
enum Out<'s> {
    Sink(&'s mut dyn SiteSink),
    /// The data of every `data/<id>.js`, by callback and id, for the page.
    Inline(BTreeMap<&'static str, BTreeMap<String, serde_json::Value>>),
}

/// Per column `[covered, total]`, `null` where a column lacks the entry.
type Cells = Vec<Option<[u64; 2]>>;

fn cells(cols: &[Option<Counts>]) -> Cells {
    cols.iter()
        .map(|c| c.map(|c| [c.covered, c.total]))
        .collect()
}

// The structs below are the page script's data (app.js); fields are in
// alphabetical order, the order the files have always had.

/// An entry of a directory listing.
#[derive(Clone, Serialize)]
struct Kid {
    c: Cells,
    /// Flaky statements (with [`SiteExtras::flaky`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    fl: Option<u64>,
    id: String,
    /// Name shown (a chain of single directories joined with `/`).
    n: String,
    /// 1 when the file has a page.
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<u8>,
    /// `d` or `f`.
    t: &'static str,
    /// Coverage of the last recorded runs, oldest first (directories,
    /// with [`SiteExtras::trends`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    tr: Option<Vec<Option<f64>>>,
}

/// `data/d<n>.js`: one directory.
#[derive(Clone, Serialize)]
struct DirData {
    c: Cells,
    id: String,
    kids: Vec<Kid>,
    name: String,
    path: String,
    /// Breadcrumbs: (name, id) of each directory above.
    up: Vec<(String, String)>,
}

/// `data/f<n>.js`: one file with source.
#[derive(Serialize)]
struct FileData<'a> {
    /// Per column, the counts of the first column's blocks when that
    /// column's file has the same blocks (see [`block_counts`]); only
    /// with several columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    bc: Option<Vec<Option<Vec<u64>>>>,
    c: Cells,
    dir: &'a str,
    dirname: &'a str,
    /// (name, line, cells) per function.
    funcs: Vec<(String, u32, Cells)>,
    /// 1 when blocks left out by annotations are shown (greyed).
    #[serde(skip_serializing_if = "Option::is_none")]
    ig: Option<u8>,
    lines: Vec<String>,
    name: &'a str,
    path: &'a str,
    set: bool,
    up: &'a [(String, String)],
}

/// The data inlined into `index.html`: the root and its children (and in
/// the one-file page every directory, file and the search list).
#[derive(Serialize)]
struct Boot<'a> {
    cols: Vec<&'a str>,
    dirs: BTreeMap<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<BTreeMap<String, serde_json::Value>>,
    /// Whether rows have a flaky column.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    flaky: bool,
    root: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    search: Option<serde_json::Value>,
    title: &'a str,
    /// Runs of the trend column (absent: no trends).
    #[serde(skip_serializing_if = "Option::is_none")]
    trend: Option<usize>,
}

/// Per package, its statements in each recorded run, oldest first.
pub type PackageTrends = HashMap<String, Vec<Option<Counts>>>;

/// Extra columns of the site's tree.
#[derive(Clone, Debug, Default)]
pub struct SiteExtras {
    /// Per package (import path), its statements in each of the last
    /// recorded runs, oldest first; directories show the trend of the
    /// packages below them (a sparkline drawn by the page, nothing
    /// loaded). The `usize` is the number of runs.
    pub trends: Option<(usize, PackageTrends)>,
    /// Per file, its flaky statements (`covlens flaky`); directories sum
    /// their files.
    pub flaky: Option<HashMap<String, u64>>,
    /// Per file, the groups it belongs to (owners or OWNERS labels): the
    /// tree's top level lists the groups, each holding the directories of
    /// its files below the root. A file in several groups is listed in
    /// each; the root counts it once. A file missing here is in no group
    /// and is listed at the top level's `(unowned)` entry.
    pub groups: Option<HashMap<String, Vec<String>>>,
    /// With `groups` and `trends`: per group, its statements in each
    /// recorded run (the top-level entries' trends; directories inside a
    /// group, which count only the group's files, get none).
    pub group_trends: Option<HashMap<String, Vec<Option<Counts>>>>,
    /// Functions whose coverage fell from the base to the head (a pull
    /// request's: the comment's [`Comment::functions`](crate::Comment::functions),
    /// whole), listed on the index page with links to their lines.
    pub lost_functions: Vec<FuncDelta>,
    /// Files whose functions could not be compared (see
    /// [`LostFunctions::unread`](crate::LostFunctions::unread)), said under the list.
    pub lost_unread: usize,
    /// What `// coverage-ignore` annotations left out of the columns
    /// ([`SiteExtras::leave_out_annotated`]): the index says how much,
    /// file pages show those blocks greyed.
    pub left_out: Option<LeftOut>,
}

/// Blocks `// coverage-ignore` annotations left out of a site's columns.
#[derive(Clone, Debug, Default)]
pub struct LeftOut {
    /// Per column, what was left out of it.
    pub columns: Vec<LeftOutColumn>,
    /// Per column, per file, the blocks left out of it; a file page greys
    /// those of the column whose blocks it shows (a base's sit where the
    /// base's source had them).
    pub blocks: Vec<HashMap<String, Vec<Block>>>,
}

/// What annotations left out of one column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LeftOutColumn {
    /// The statements left out, and how many of them were covered.
    pub statements: Counts,
    /// Files blocks were left out of (whole files included).
    pub files: usize,
    /// Files whose annotations could not be read (all blocks kept).
    pub unchecked: usize,
}

/// The most files whose functions a report compares
/// ([`SiteExtras::set_lost_functions`]): local sources are cheap to read,
/// but each is parsed twice.
pub const MAX_LOST_FUNCTION_FILES: usize = 1000;

impl SiteExtras {
    /// Sets [`SiteExtras::lost_functions`] and [`SiteExtras::lost_unread`]:
    /// the functions whose coverage fell from `base` to `head`, as a pull
    /// request's comment finds them ([`lost_functions`](crate::lost_functions)),
    /// in at most [`MAX_LOST_FUNCTION_FILES`] files, read through `resolver`.
    pub fn set_lost_functions(
        &mut self,
        base: &Profile,
        head: &Profile,
        diff: Option<&[crate::DiffFile]>,
        module: Option<&str>,
        resolver: &covlens_core::SourceResolver,
    ) {
        let files = crate::source_files(base, head, diff, module, MAX_LOST_FUNCTION_FILES);
        let sources = crate::read_sources(&files, resolver);
        let lost = crate::lost_functions(base, head, diff, module, &files, &sources);
        self.lost_functions = lost.functions;
        self.lost_unread = lost.unread;
    }

    /// `columns` without the blocks `// coverage-ignore` comments mark in
    /// the sources `sources` finds, and what was left out of each column,
    /// which [`SiteExtras::left_out`] records. With `base` (the change
    /// from the second column to the first, and the module), the second
    /// column is a pull request's base: its annotations are read from its
    /// own sources, rebuilt as [`leave_out_annotated`](crate::leave_out_annotated)
    /// rebuilds them; other columns read the sources the site shows.
    pub fn leave_out_annotated(
        &mut self,
        columns: Vec<(String, Profile)>,
        base: Option<(&[crate::DiffFile], Option<&str>)>,
        sources: &SourceResolver,
    ) -> (Vec<(String, Profile)>, Vec<IgnoreReport>) {
        let mut kept = Vec::with_capacity(columns.len());
        let mut reports = Vec::with_capacity(columns.len());
        let mut rest = columns.into_iter();
        let pair = match base {
            Some(b) if rest.len() >= 2 => rest.next().zip(rest.next()).map(|p| (b, p)),
            _ => None,
        };
        if let Some(((diff, module), ((head_name, head), (base_name, base)))) = pair {
            let a =
                crate::leave_out_annotated(head, Some((base, diff)), module, sources, |_| false);
            kept.push((head_name, a.head));
            reports.push(a.head_report);
            kept.extend(a.base.map(|b| (base_name, b)));
            reports.extend(a.base_report);
        }
        for (name, p) in rest {
            let a = crate::leave_out_annotated(p, None, None, sources, |_| false);
            kept.push((name, a.head));
            reports.push(a.head_report);
        }
        let blocks = reports
            .iter()
            .map(|r| {
                let files = r.files.iter().filter(|f| !f.left_out.is_empty());
                files
                    .map(|f| (f.name.clone(), f.left_out.clone()))
                    .collect()
            })
            .collect();
        let columns = reports
            .iter()
            .map(|r| LeftOutColumn {
                statements: r.statements(),
                files: r.files.len(),
                unchecked: r.unchecked.len(),
            })
            .collect();
        self.left_out = Some(LeftOut { columns, blocks });
        (kept, reports)
    }

    /// Sets [`SiteExtras::groups`]: every file of `profiles` with its
    /// owners or labels (`by`) in `tree`.
    pub fn set_groups(&mut self, profiles: &[(String, Profile)], tree: &OwnersTree, by: OwnerBy) {
        let names = profiles
            .iter()
            .flat_map(|(_, p)| p.files().iter().map(|f| f.name()));
        self.groups = Some(
            names
                .map(|n| (n.to_string(), tree.groups_of(n, by)))
                .collect(),
        );
    }

    /// Sets [`SiteExtras::flaky`] from `covlens flaky`'s report.
    pub fn set_flaky(&mut self, report: FlakyReport) {
        let files = report.files.into_iter();
        self.flaky = Some(files.map(|f| (f.name, f.statements)).collect());
    }
}

/// The group of files that [`SiteExtras::groups`] does not name.
const NO_GROUP: &str = "(unowned)";

/// The shell page's own fields.
#[derive(Serialize)]
struct Index<'a> {
    title: &'a str,
    /// The tree's root directory (`""`: none).
    root: &'a str,
    columns: Vec<&'a str>,
    totals: Vec<Stat>,
    files: usize,
    set_mode: bool,
    /// [`SiteExtras::lost_functions`], at most [`MAX_LOST_ROWS`].
    lost: Vec<LostRow<'a>>,
    /// Those left out.
    lost_more: usize,
    /// [`SiteExtras::lost_unread`].
    lost_unread: usize,
    /// [`SiteExtras::left_out`], per column.
    left_out: Option<&'a [LeftOutColumn]>,
}

/// The most functions the index lists; the rest are counted.
const MAX_LOST_ROWS: usize = 500;

/// A function that lost coverage, with the link to its line when its file
/// has a page.
#[derive(Serialize)]
struct LostRow<'a> {
    f: &'a FuncDelta,
    href: Option<String>,
}

/// A directory of the tree while it is built.
#[derive(Default)]
struct Dir {
    dirs: BTreeMap<String, usize>,
    files: Vec<usize>,
    counts: Vec<Option<Counts>>,
    trend: Vec<Option<Counts>>,
    flaky: u64,
}

fn percents(points: &[Option<Counts>]) -> Vec<Option<f64>> {
    points
        .iter()
        .map(|p| p.filter(|c| c.total > 0).map(|c| c.percent()))
        .collect()
}

fn add(cols: &mut [Option<Counts>], i: usize, c: Counts) {
    cols[i].get_or_insert_with(Counts::default).add(c);
}

/// Writes the site for `columns` (label, profile), newest first, into
/// `sink`: the data files, `data/search.js`, then `index.html` last.
pub fn write_site(
    sink: &mut dyn SiteSink,
    title: &str,
    columns: &[(String, Profile)],
    sources: &dyn Sources,
) -> Result<SiteStats, Error> {
    let opts = SiteOptions { title, root: "" };
    write_site_with_extras(sink, &opts, columns, sources, &SiteExtras::default())
}

/// [`write_site`] with [`SiteOptions`]: a root other than the common
/// directory ([`SiteOptions::check`] first).
pub fn write_site_with(
    sink: &mut dyn SiteSink,
    opts: &SiteOptions,
    columns: &[(String, Profile)],
    sources: &dyn Sources,
) -> Result<SiteStats, Error> {
    write_site_with_extras(sink, opts, columns, sources, &SiteExtras::default())
}

/// [`write_site_with`] with extra columns in the tree: trends from the
/// history and flaky statements.
pub fn write_site_with_extras(
    sink: &mut dyn SiteSink,
    opts: &SiteOptions,
    columns: &[(String, Profile)],
    sources: &dyn Sources,
    extras: &SiteExtras,
) -> Result<SiteStats, Error> {
    let (html, stats) = build(&mut Out::Sink(&mut *sink), opts, columns, sources, extras)?;
    put(sink, "index.html", &html)?;
    Ok(stats)
}

/// The report of [`write_site`] as one self-contained HTML file: the same
/// page, style and script, with the data of every directory and file (and
/// the search list) inlined as JSON in the page, so it opens anywhere
/// from one file; sizes grow with the profiles (the site loads each
/// directory and file when opened).
pub fn write_page<W: std::io::Write>(
    w: W,
    opts: &SiteOptions,
    columns: &[(String, Profile)],
    sources: &dyn Sources,
) -> Result<SiteStats, Error> {
    write_page_with_extras(w, opts, columns, sources, &SiteExtras::default())
}

/// [`write_page`] with [`SiteExtras`], as [`write_site_with_extras`].
pub fn write_page_with_extras<W: std::io::Write>(
    mut w: W,
    opts: &SiteOptions,
    columns: &[(String, Profile)],
    sources: &dyn Sources,
    extras: &SiteExtras,
) -> Result<SiteStats, Error> {
    let (html, stats) = build(
        &mut Out::Inline(BTreeMap::new()),
        opts,
        columns,
        sources,
        extras,
    )?;
    w.write_all(&html).map_err(Error::Write)?;
    Ok(stats)
}

/// Writes the data of the site to `out` and returns `index.html`.
fn build(
    out: &mut Out,
    opts: &SiteOptions,
    columns: &[(String, Profile)],
    sources: &dyn Sources,
    extras: &SiteExtras,
) -> Result<(Vec<u8>, SiteStats), Error> {
    opts.check(columns)?;
    let title = opts.title;
    let n = columns.len();
    // Every file of every profile, with its counts per column.
    let mut files: BTreeMap<&str, Vec<Option<Counts>>> = BTreeMap::new();
    for (i, (_, p)) in columns.iter().enumerate() {
        for f in p.files() {
            add(
                files.entry(f.name()).or_insert_with(|| vec![None; n]),
                i,
                f.statements(),
            );
        }
    }
    let names: Vec<&str> = files.keys().copied().collect();
    let mut dirs = vec![Dir {
        counts: vec![None; n],
        ..Dir::default()
    }];
    let root_dir = opts.root.trim_end_matches('/');
    let grouped = extras.groups.as_ref();
    let no_group = vec![NO_GROUP.to_string()];
    for (fi, (name, cols)) in files.iter().enumerate() {
        let add_all = |dir: &mut Dir| {
            for (i, c) in cols.iter().enumerate() {
                if let Some(c) = c {
                    add(&mut dir.counts, i, *c);
                }
            }
        };
        let flaky = extras.flaky.as_ref().and_then(|m| m.get(*name)).copied();
        add_all(&mut dirs[0]);
        dirs[0].flaky += flaky.unwrap_or(0);
        // The chains of directories the file is listed under: its package
        // path, or per group the group then the path below the root.
        let dir = package_of(name);
        let chains: Vec<(Option<&str>, &str)> = match grouped {
            None => vec![(None, dir)],
            Some(g) => {
                let rel = under_root(root_dir, dir).unwrap_or(dir);
                let gs = g.get(*name).filter(|v| !v.is_empty()).unwrap_or(&no_group);
                gs.iter().map(|g| (Some(g.as_str()), rel)).collect()
            }
        };
        for (group, path) in chains {
            let parts = path.split('/').filter(|p| !p.is_empty() && *p != ".");
            let mut d = 0;
            for part in group.into_iter().chain(parts) {
                d = match dirs[d].dirs.get(part) {
                    Some(&x) => x,
                    None => {
                        dirs.push(Dir {
                            counts: vec![None; n],
                            ..Dir::default()
                        });
                        let x = dirs.len() - 1;
                        dirs[d].dirs.insert(part.to_string(), x);
                        x
                    }
                };
                add_all(&mut dirs[d]);
                dirs[d].flaky += flaky.unwrap_or(0);
            }
            dirs[d].files.push(fi);
        }
    }
    // Down to the root asked for (`check` saw every file under it); a
    // root with no file below it gets an empty tree. Grouped trees start
    // below the root already.
    let explicit_root = (!root_dir.is_empty() && grouped.is_none()).then(|| {
        let mut d = Some(0);
        for part in root_dir.split('/').filter(|p| !p.is_empty() && *p != ".") {
            d = d.and_then(|d| dirs[d].dirs.get(part).copied());
        }
        d.unwrap_or_else(|| {
            dirs.push(Dir {
                counts: vec![None; n],
                ..Dir::default()
            });
            dirs.len() - 1
        })
    });
    // Trends: each package adds its runs to its directory and those above
    // it that the profiles have (no directory is made for a package only
    // the history knows).
    if let (Some((runs, trends)), Some(_)) = (&extras.trends, grouped) {
        // The root has every package once; the groups their own numbers.
        let add_points = |dirs: &mut [Dir], d: usize, points: &[Option<Counts>]| {
            let t = &mut dirs[d].trend;
            t.resize(*runs, None);
            for (i, p) in points.iter().enumerate().take(*runs) {
                if let Some(c) = p {
                    t[i].get_or_insert_with(Counts::default).add(*c);
                }
            }
        };
        // As without groups, only packages the profiles have count.
        let present: std::collections::HashSet<&str> =
            names.iter().map(|n| package_of(n)).collect();
        for (pkg, points) in trends {
            if present.contains(pkg.as_str()) {
                add_points(&mut dirs, 0, points);
            }
        }
        for (g, points) in extras.group_trends.iter().flatten() {
            if let Some(&d) = dirs[0].dirs.get(g) {
                add_points(&mut dirs, d, points);
            }
        }
    } else if let Some((runs, trends)) = &extras.trends {
        for (pkg, points) in trends {
            let mut chain = vec![0];
            let mut d = 0;
            let mut found = true;
            for part in pkg.split('/').filter(|p| !p.is_empty() && *p != ".") {
                match dirs[d].dirs.get(part) {
                    Some(&x) => {
                        d = x;
                        chain.push(d);
                    }
                    None => {
                        found = false;
                        break;
                    }
                }
            }
            if !found {
                continue;
            }
            for d in chain {
                let t = &mut dirs[d].trend;
                t.resize(*runs, None);
                for (i, p) in points.iter().enumerate().take(*runs) {
                    if let Some(c) = p {
                        t[i].get_or_insert_with(Counts::default).add(*c);
                    }
                }
            }
        }
    }
    let has_flaky = extras.flaky.is_some();
    let trend_of = |d: &Dir| -> Option<Vec<Option<f64>>> {
        extras.trends.as_ref()?;
        (!d.trend.is_empty()).then(|| percents(&d.trend))
    };
    // Chains of directories with one subdirectory and no files show as one
    // entry (`k8s.io/kubernetes`).
    let follow = |mut d: usize, mut name: String| -> (usize, String) {
        while dirs[d].files.is_empty() && dirs[d].dirs.len() == 1 {
            let (child, &c) = dirs[d].dirs.iter().next().expect("one child");
            name = if name.is_empty() {
                child.clone()
            } else {
                format!("{name}/{child}")
            };
            d = c;
        }
        (d, name)
    };
    let (root, root_name) = match explicit_root {
        Some(d) => (d, root_dir.to_string()),
        // Groups stay the top level even when there is one.
        None if grouped.is_some() => (0, String::new()),
        None => follow(0, String::new()),
    };
    let set_mode = columns
        .iter()
        .any(|(_, p)| p.mode().as_ref().is_some_and(|m| m.is_set()));
    let labels: Vec<&str> = columns.iter().map(|(l, _)| l.as_str()).collect();

    // Visit visible directories breadth first, so ids of the top levels
    // are small and the boot data holds the root and its children.
    let mut boot_dirs = BTreeMap::new();
    // (path, id) of every directory and file; a file without a page
    // points at its directory.
    let mut search: Vec<(String, String)> = Vec::new();
    let mut queue = VecDeque::new();
    let mut pages: HashMap<usize, bool> = HashMap::new();
    let mut next_id = 1usize;
    let mut stats = SiteStats {
        files: names.len(),
        pages: 0,
        dirs: 0,
    };
    queue.push_back((
        root,
        0usize,
        root_name.clone(),
        root_name,
        Vec::new(),
        0usize,
    ));
    while let Some((d, id, path, name, up, level)) = queue.pop_front() {
        let did = format!("d{id}");
        let shown = if name.is_empty() { "(root)" } else { &name };
        let mut my_up: Vec<(String, String)> = up.clone();
        my_up.push((shown.to_string(), did.clone()));
        let mut kids = Vec::new();
        for (cname, &c) in &dirs[d].dirs {
            // A group is an entry of its own, not joined with its path.
            let (c, cname) = if grouped.is_some() && level == 0 {
                (c, cname.clone())
            } else {
                follow(c, cname.clone())
            };
            let cid = format!("d{next_id}");
            let cpath = if path.is_empty() {
                cname.clone()
            } else {
                format!("{path}/{cname}")
            };
            kids.push(Kid {
                c: cells(&dirs[c].counts),
                fl: has_flaky.then_some(dirs[c].flaky),
                id: cid.clone(),
                n: cname.clone(),
                s: None,
                t: "d",
                tr: trend_of(&dirs[c]),
            });
            search.push((format!("{cpath}/"), cid));
            queue.push_back((c, next_id, cpath, cname, my_up.clone(), level + 1));
            next_id += 1;
        }
        // Names that are not clean (`a//b.go`, `a/./b.go`) land in the
        // directory of their clean twin: such rows show their whole name.
        let base = |fi: usize| names[fi].rsplit('/').next().unwrap_or(names[fi]);
        let mut bases: HashMap<&str, usize> = HashMap::new();
        for &fi in &dirs[d].files {
            *bases.entry(base(fi)).or_default() += 1;
        }
        for &fi in &dirs[d].files {
            let fname = names[fi];
            let fid = format!("f{fi}");
            // A file listed in several groups has one page, under the
            // first.
            let has_src = match pages.get(&fi) {
                Some(&h) => h,
                None => {
                    let page = FilePage {
                        id: &fid,
                        name: fname,
                        dir: &did,
                        dirname: &name,
                        up: &up,
                        set_mode,
                        left_out: extras.left_out.as_ref(),
                    };
                    let h = page.write(out, columns, sources)?;
                    pages.insert(fi, h);
                    stats.pages += usize::from(h);
                    h
                }
            };
            kids.push(Kid {
                c: cells(&files[fname]),
                fl: extras
                    .flaky
                    .as_ref()
                    .map(|m| m.get(fname).copied().unwrap_or(0)),
                id: fid.clone(),
                n: if bases[base(fi)] > 1 { fname } else { base(fi) }.to_string(),
                s: has_src.then_some(1),
                t: "f",
                tr: None,
            });
            search.push((fname.to_string(), if has_src { fid } else { did.clone() }));
        }
        let data = DirData {
            c: cells(&dirs[d].counts),
            id: did.clone(),
            kids,
            name: shown.to_string(),
            path,
            up,
        };
        put_data(out, &did, "dir", &data)?;
        stats.dirs += 1;
        if level <= 1 && matches!(out, Out::Sink(_)) {
            boot_dirs.insert(did, to_value(&data)?);
        }
    }
    put_data(out, "search", "search", &search)?;

    let mut boot = Boot {
        cols: labels.clone(),
        dirs: boot_dirs,
        files: None,
        flaky: has_flaky,
        root: "d0",
        search: None,
        title,
        trend: extras.trends.as_ref().map(|(runs, _)| *runs),
    };
    if let Out::Inline(data) = out {
        boot.dirs = data.remove("dir").unwrap_or_default();
        boot.files = Some(data.remove("file").unwrap_or_default());
        boot.search = data.remove("search").and_then(|mut s| s.remove("search"));
    }
    let index = Index {
        title,
        root: root_dir,
        columns: labels,
        totals: columns.iter().map(|(_, p)| p.statements().into()).collect(),
        files: names.len(),
        set_mode,
        lost: extras
            .lost_functions
            .iter()
            .take(MAX_LOST_ROWS)
            .map(|f| LostRow {
                f,
                href: names
                    .binary_search(&f.name.as_str())
                    .ok()
                    .filter(|fi| pages.get(fi) == Some(&true))
                    .map(|fi| format!("#f{fi}/L{}", f.line)),
            })
            .collect(),
        lost_more: extras.lost_functions.len().saturating_sub(MAX_LOST_ROWS),
        lost_unread: extras.lost_unread,
        left_out: extras.left_out.as_ref().map(|l| &l.columns[..]),
    };
    let mut html = Vec::new();
    render_to(
        "site/index.html",
        context! { s => Serde(&index), boot => script_json(&boot, ScriptContext::Inline)? },
        &mut html,
    )?;
    Ok((html, stats))
}

fn to_value<T: Serialize>(data: &T) -> Result<serde_json::Value, Error> {
    serde_json::to_value(data).map_err(Error::Json)
}

/// One file's page, `data/<id>.js`.
struct FilePage<'a> {
    id: &'a str,
    name: &'a str,
    /// Id and name of its directory.
    dir: &'a str,
    dirname: &'a str,
    /// Breadcrumbs above its directory.
    up: &'a [(String, String)],
    set_mode: bool,
    /// What annotations left out, greyed.
    left_out: Option<&'a LeftOut>,
}

impl FilePage<'_> {
    /// Writes the coloured source and the functions if the source is
    /// found; returns whether it was.
    fn write(
        &self,
        out: &mut Out,
        columns: &[(String, Profile)],
        sources: &dyn Sources,
    ) -> Result<bool, Error> {
        let Some((path, src)) = sources.source(self.name) else {
            return Ok(false);
        };
        let per: Vec<Option<&FileProfile>> =
            columns.iter().map(|(_, p)| p.file(self.name)).collect();
        let (column, first) = per
            .iter()
            .enumerate()
            .find_map(|(i, p)| p.map(|p| (i, p)))
            .expect("file is in a profile");
        // The blocks left out of the column whose blocks are shown.
        let left_out = self
            .left_out
            .and_then(|l| l.blocks.get(column)?.get(self.name))
            .map_or(&[][..], Vec::as_slice);
        let funcs = find_funcs(&src, &path.to_string_lossy())
            .unwrap_or_default()
            .iter()
            .map(|f| {
                let mut c: Vec<Option<Counts>> = per
                    .iter()
                    .map(|p| p.map(|p| f.coverage(p.blocks())))
                    .collect();
                // A function annotations left out whole shows `—`, not 0%.
                if c.iter().flatten().all(|c| c.total == 0) && f.coverage(left_out).total > 0 {
                    c.fill(None);
                }
                (f.name.clone(), f.start_line, cells(&c))
            })
            .collect();
        let c: Vec<Option<Counts>> = per.iter().map(|p| p.map(FileProfile::statements)).collect();
        let data = FileData {
            bc: (columns.len() > 1).then(|| block_counts(first.blocks(), &per)),
            c: cells(&c),
            dir: self.dir,
            dirname: self.dirname,
            funcs,
            ig: (!left_out.is_empty()).then_some(1),
            lines: source_lines(&src, first.blocks(), left_out, self.set_mode)?,
            name: self.name.rsplit('/').next().unwrap_or(self.name),
            path: self.name,
            set: self.set_mode,
            up: self.up,
        };
        put_data(out, self.id, "file", &data)?;
        Ok(true)
    }
}

/// Per column, the counts of `blocks` (the spans' `data-k` indices) when
/// that column's file has the same blocks, so the page can colour the
/// source by any column; `None` for a column without the file or with
/// another layout (another version of the source).
fn block_counts(blocks: &[Block], per: &[Option<&FileProfile>]) -> Vec<Option<Vec<u64>>> {
    per.iter()
        .map(|p| {
            let p = (*p)?;
            let same = p.blocks().len() == blocks.len()
                && p.blocks().iter().zip(blocks).all(|(a, b)| a.same_shape(b));
            same.then(|| p.blocks().iter().map(|b| b.count).collect())
        })
        .collect()
}

/// Writes `data/<id>.js`, a script that hands `data` to the page
/// (`covlens.<callback>(id, data)`). Scripts added with `<script src>`
/// load from `file://` too, where `fetch` is refused.
fn put_data<T: Serialize>(
    out: &mut Out,
    id: &str,
    callback: &'static str,
    data: &T,
) -> Result<(), Error> {
    let sink = match out {
        Out::Sink(sink) => sink,
        Out::Inline(all) => {
            all.entry(callback)
                .or_default()
                .insert(id.to_string(), to_value(data)?);
            return Ok(());
        }
    };
    let js = format!(
        "covlens.{callback}({},{});\n",
        script_json(id, ScriptContext::File)?,
        script_json(data, ScriptContext::File)?
    );
    put(*sink, &format!("data/{id}.js"), js.as_bytes())
}

fn put(sink: &mut dyn SiteSink, path: &str, bytes: &[u8]) -> Result<(), Error> {
    sink.put(path, bytes).map_err(|source| Error::Sink {
        path: path.to_string(),
        source,
    })
}

#[cfg(test)]
mod colour_tests {
    /// WCAG 2 relative luminance of `#rrggbb`.
    fn luminance(hex: &str) -> f64 {
        let c = |i: usize| {
            let v = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
            if v <= 0.04045 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * c(1) + 0.7152 * c(3) + 0.0722 * c(5)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    /// Hue in degrees.
    fn hue(hex: &str) -> f64 {
        let c = |i: usize| f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
        let (r, g, b) = (c(1), c(3), c(5));
        let (max, min) = (r.max(g).max(b), r.min(g).min(b));
        let d = max - min;
        let h = if d == 0.0 {
            0.0
        } else if max == r {
            ((g - b) / d).rem_euclid(6.0)
        } else if max == g {
            (b - r) / d + 2.0
        } else {
            (r - g) / d + 4.0
        };
        h * 60.0
    }

    /// The background of `.covN` in the site's style sheet.
    fn background(n: usize) -> String {
        rule_background(&format!("cov{n}"))
    }

    fn rule_background(class: &str) -> String {
        let css = include_str!("../../templates/site/style.css");
        let rule = format!(".{class} {{ background: #");
        let i = css.find(&rule).unwrap_or_else(|| panic!("no {rule}")) + rule.len() - 1;
        css[i..i + 7].to_string()
    }

    /// Issue 13, item 9: the "low count" shade was #eef8ee, hard to tell
    /// from plain white (1.09:1). Now: text readable on every shade
    /// (WCAG AA, 4.5:1), the lowest count visibly apart from plain text,
    /// red for not covered and greens for counts as `go tool cover -html`,
    /// each count darker than the one below.
    #[test]
    fn count_shades_are_readable_and_distinct() {
        let (text, plain) = ("#1f2328", "#ffffff");
        let red = background(0);
        assert!(!(30.0..=330.0).contains(&hue(&red)), "{red} is not red");
        assert!(contrast(&red, text) >= 4.5);
        assert!(contrast(&red, plain) >= 1.25);
        let mut last = plain.to_string();
        for n in 1..=10 {
            let g = background(n);
            assert!(contrast(&g, text) >= 4.5, "cov{n} {g}: text contrast");
            assert!((90.0..=170.0).contains(&hue(&g)), "cov{n} {g} is not green");
            assert!(
                luminance(&g) < luminance(&last),
                "cov{n} {g} not darker than {last}"
            );
            last = g;
        }
        let low = background(1);
        assert!(
            contrast(&low, plain) >= 1.25,
            "low count {low} vs plain: {}",
            contrast(&low, plain)
        );
        assert!(
            contrast(&low, &red) >= 1.25,
            "low count {low} vs not covered {red}"
        );
    }

    /// Blocks left out by annotations: readable, grey (neither covered nor
    /// not), and apart from plain text.
    #[test]
    fn left_out_shade_is_grey_and_readable() {
        let ign = rule_background("ign");
        let css = include_str!("../../templates/site/style.css");
        let text = css
            .split(".ign {")
            .nth(1)
            .and_then(|r| r.split("color: ").nth(1))
            .map(|c| c[..7].to_string())
            .expect(".ign has a color");
        assert!(contrast(&ign, &text) >= 4.5, "{ign} vs {text}");
        assert!(contrast(&ign, "#ffffff") >= 1.2, "{ign} vs plain");
        let c = |i: usize| u8::from_str_radix(&ign[i..i + 2], 16).unwrap();
        let (r, g, b) = (c(1), c(3), c(5));
        assert!(r.max(g).max(b) - r.min(g).min(b) <= 8, "{ign} is not grey");
    }
}

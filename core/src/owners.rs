//! Code ownership from a source tree: Kubernetes `OWNERS` files and GitHub
//! `CODEOWNERS`, and coverage rolled up per owner or per label ("coverage
//! per SIG").
//!
//! - `OWNERS` (any directory): `approvers`, `reviewers`, `labels` lists and
//!   `options: {no_parent_owners: true}`; aliases from the root's
//!   `OWNERS_ALIASES` (`aliases: {name: [users]}`) are expanded. A file's
//!   owners are the approvers of its directory's `OWNERS` and of every
//!   `OWNERS` above it, up to and including one with `no_parent_owners`
//!   (Kubernetes' inheritance); its labels are gathered the same way.
//!   Reviewers are read but do not own. `filters:` (per-file-pattern
//!   owners) is not supported: a file using it is an error, not silently
//!   misread.
//! - `CODEOWNERS` (first found of `.github/`, the root, `docs/`): the last
//!   matching pattern wins; patterns are gitignore-style (`/` anchors, `*`,
//!   `?`, `**`, a trailing `/` for directories; a directory pattern owns
//!   everything below it). Its owners are added to the `OWNERS` ones. A line
//!   GitHub would not read is left out, with a warning.
//!
//! Profile names are import paths; they map to tree paths through the
//! module path of the tree's `go.mod`. A file that maps nowhere, or that
//! nobody owns, is in the [`UNOWNED`] row. A file with several owners
//! counts in the row of each, so the rows do not add up to the total.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Serialize;

use crate::error::Error;
use crate::printable::{name_column, printable};
use crate::profile::{Counts, Profile};
use crate::within::{Refusal, read_within};

/// The row of files nobody owns (or outside the tree).
pub const UNOWNED: &str = "(unowned)";

/// One `OWNERS` file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnersFile {
    /// Who approves changes here (aliases expanded).
    pub approvers: Vec<String>,
    /// Who reviews changes here.
    pub reviewers: Vec<String>,
    /// Labels for changes here (`sig/node`).
    pub labels: Vec<String>,
    /// `options: {no_parent_owners: true}`: owners above do not apply.
    pub no_parent_owners: bool,
}

/// A small YAML subset: what `OWNERS` files hold.
#[derive(Clone, Debug, PartialEq)]
enum Yaml {
    Scalar(String),
    List(Vec<String>),
    Map(Vec<(String, Yaml)>),
}

fn bad(path: &str, line: usize, msg: &str) -> Error {
    Error::Invalid(format!("{path}:{line}: {msg}"))
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    for q in ['"', '\''] {
        if let Some(rest) = s.strip_prefix(q)
            && let Some(end) = rest.find(q)
        {
            return rest[..end].to_string();
        }
    }
    match s.find(" #") {
        Some(i) => s[..i].trim_end().to_string(),
        None => s.to_string(),
    }
}

/// Parses maps of lists, scalars and maps, by indentation; flow lists
/// (`[a, b]`) too. Enough for `OWNERS` and `OWNERS_ALIASES`.
fn parse_yaml(text: &str, path: &str) -> Result<Yaml, Error> {
    // A byte order mark is no part of the first key (YAML readers skip it).
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<(usize, usize, &str)> = text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let body = l.trim_end();
            let t = body.trim_start();
            if t.is_empty() || t.starts_with('#') || t == "---" {
                return None;
            }
            Some((i + 1, body.len() - t.len(), t))
        })
        .collect();
    if let Some((n, _, _)) = lines.iter().find(|(_, _, t)| t.contains('\t')) {
        return Err(bad(path, *n, "tabs are not allowed in YAML indentation"));
    }
    let mut pos = 0;
    let v = block(&lines, &mut pos, 0, path)?;
    if let Some((n, _, _)) = lines.get(pos) {
        return Err(bad(path, *n, "unexpected indentation"));
    }
    Ok(v)
}

fn block(
    lines: &[(usize, usize, &str)],
    pos: &mut usize,
    indent: usize,
    path: &str,
) -> Result<Yaml, Error> {
    let Some(&(_, ind, first)) = lines.get(*pos) else {
        return Ok(Yaml::Map(Vec::new()));
    };
    if ind < indent {
        return Ok(Yaml::Map(Vec::new()));
    }
    if first.starts_with("- ") || first == "-" {
        let mut items = Vec::new();
        while let Some(&(n, i, t)) = lines.get(*pos) {
            if i != ind || !(t.starts_with("- ") || t == "-") {
                if i > ind {
                    return Err(bad(path, n, "nested lists are not supported"));
                }
                break;
            }
            items.push(unquote(&t[1..]));
            *pos += 1;
        }
        return Ok(Yaml::List(items));
    }
    let mut map = Vec::new();
    while let Some(&(n, i, t)) = lines.get(*pos) {
        if i < ind {
            break;
        }
        if i > ind {
            return Err(bad(path, n, "unexpected indentation"));
        }
        let Some((k, rest)) = t.split_once(':') else {
            return Err(bad(path, n, "expected `key:`"));
        };
        *pos += 1;
        let rest = rest.trim();
        let v = if rest.is_empty() || rest.starts_with('#') {
            match lines.get(*pos) {
                Some(&(_, ni, nt)) if ni > ind || (ni == ind && nt.starts_with('-')) => {
                    block(lines, pos, ni, path)?
                }
                _ => Yaml::List(Vec::new()),
            }
        } else if let Some(flow) = rest.strip_prefix('[') {
            let Some(inner) = flow
                .split('#')
                .next()
                .and_then(|f| f.trim().strip_suffix(']'))
            else {
                return Err(bad(path, n, "unterminated `[` list"));
            };
            Yaml::List(
                inner
                    .split(',')
                    .map(unquote)
                    .filter(|s| !s.is_empty())
                    .collect(),
            )
        } else if let Some(flow) = rest.strip_prefix('{') {
            // `{key: value, ...}` of scalars (`options: {no_parent_owners: true}`).
            let inner = flow
                .split(" #")
                .next()
                .and_then(|f| f.trim().strip_suffix('}'))
                .filter(|i| !i.contains(['{', '[', '}']))
                .ok_or_else(|| bad(path, n, "expected a one-line `{key: value}` map"))?;
            let mut entries = Vec::new();
            for e in inner.split(',').filter(|e| !e.trim().is_empty()) {
                let Some((k, v)) = e.split_once(':') else {
                    return Err(bad(path, n, "expected `key: value` in a `{}` map"));
                };
                entries.push((unquote(k), Yaml::Scalar(unquote(v))));
            }
            Yaml::Map(entries)
        } else {
            Yaml::Scalar(unquote(rest))
        };
        map.push((unquote(k), v));
    }
    Ok(Yaml::Map(map))
}

fn list(v: &Yaml, key: &str, path: &str) -> Result<Vec<String>, Error> {
    match v {
        Yaml::List(l) => Ok(l.clone()),
        Yaml::Scalar(s) if s.is_empty() => Ok(Vec::new()),
        _ => Err(Error::Invalid(format!("{path}: `{key}` must be a list"))),
    }
}

/// Parses an `OWNERS` file (`path` names it in errors), expanding
/// `aliases`.
pub fn parse_owners(
    text: &str,
    path: &str,
    aliases: &HashMap<String, Vec<String>>,
) -> Result<OwnersFile, Error> {
    let Yaml::Map(map) = parse_yaml(text, path)? else {
        return Err(Error::Invalid(format!("{path}: expected a map of keys")));
    };
    let mut o = OwnersFile::default();
    let expand = |names: Vec<String>| -> Vec<String> {
        let mut out = Vec::new();
        for n in names {
            let n = norm_login(&n);
            match aliases.get(&n) {
                Some(users) => out.extend(users.iter().cloned()),
                None => out.push(n),
            }
        }
        out
    };
    for (k, v) in &map {
        match k.as_str() {
            "approvers" => o.approvers = expand(list(v, k, path)?),
            "reviewers" => o.reviewers = expand(list(v, k, path)?),
            "labels" => o.labels = list(v, k, path)?,
            "options" => {
                let opts = match v {
                    Yaml::Map(opts) => opts.as_slice(),
                    // `options:` with nothing below it.
                    Yaml::List(l) if l.is_empty() => &[],
                    _ => return Err(Error::Invalid(format!("{path}: `options` must be a map"))),
                };
                for (ok, ov) in opts {
                    if ok == "no_parent_owners" {
                        o.no_parent_owners = yaml11_bool(ov).ok_or_else(|| {
                            Error::Invalid(format!(
                                "{path}: `no_parent_owners` must be true or false"
                            ))
                        })?;
                    }
                }
            }
            "filters" => {
                return Err(Error::Invalid(format!(
                    "{path}: `filters` (per-pattern owners) is not supported"
                )));
            }
            // emeritus_approvers, required_reviewers, ...: not owners.
            _ => {}
        }
    }
    Ok(o)
}

/// Parses `OWNERS_ALIASES`: `aliases: {name: [users]}`.
pub fn parse_aliases(text: &str, path: &str) -> Result<HashMap<String, Vec<String>>, Error> {
    let mut out = HashMap::new();
    if let Yaml::Map(map) = parse_yaml(text, path)? {
        for (k, v) in map {
            if k == "aliases"
                && let Yaml::Map(aliases) = v
            {
                for (name, users) in aliases {
                    let users = list(&users, &name, path)?;
                    out.insert(
                        norm_login(&name),
                        users.iter().map(|u| norm_login(u)).collect(),
                    );
                }
            }
        }
    }
    Ok(out)
}

/// A GitHub login as Prow compares them: lower case, without `@`
/// (`Alice` and `alice` are one owner, and an alias matches either way).
fn norm_login(s: &str) -> String {
    let s = s.to_lowercase();
    s.strip_prefix('@').map_or(s.clone(), str::to_string)
}

/// A boolean as Prow's YAML reader (YAML 1.1) takes it: `true`, `yes`,
/// `on`, `y` in their spellings, and the same for false.
fn yaml11_bool(v: &Yaml) -> Option<bool> {
    let Yaml::Scalar(s) = v else { return None };
    match s.as_str() {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

/// A `CODEOWNERS` file: patterns and their owners, in file order.
#[derive(Clone, Debug, Default)]
pub struct CodeOwners {
    rules: Vec<(Regex, Vec<String>)>,
    /// Lines left out, as GitHub leaves out a line it cannot read, each
    /// as `PATH:LINE: why`.
    skipped: Vec<String>,
}

/// An owner GitHub accepts in `CODEOWNERS`: `@login`, `@org/team` or an
/// e-mail address.
fn is_code_owner(o: &str) -> bool {
    match o.strip_prefix('@') {
        Some(login) => !login.is_empty() && !login.contains('@'),
        None => o
            .split_once('@')
            .is_some_and(|(u, d)| !u.is_empty() && d.contains('.')),
    }
}

/// A gitignore-style pattern as a regex over `/`-separated tree paths.
fn pattern_regex(pat: &str) -> Option<Regex> {
    let dir_only = pat.ends_with('/');
    let p = pat.trim_end_matches('/');
    let anchored = p.starts_with('/') || p.contains('/');
    let p = p.trim_start_matches('/');
    if p.is_empty() {
        return None;
    }
    let mut re = String::from(if anchored { "^" } else { "^(?:.*/)?" });
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                if chars.get(i + 2) == Some(&'/') {
                    re.push_str("(?:.*/)?");
                    i += 3;
                } else {
                    re.push_str(".*");
                    i += 2;
                }
                continue;
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    // GitHub's rule, not gitignore's: `docs/*` owns the files in docs/,
    // not those of its subdirectories.
    let last = p.rsplit('/').next().unwrap_or(p);
    let files_only = anchored && last.contains('*') && !last.contains("**");
    re.push_str(if dir_only {
        "/.*$"
    } else if files_only {
        "$"
    } else {
        "(?:/.*)?$"
    });
    Regex::new(&re).ok()
}

impl CodeOwners {
    /// Parses a `CODEOWNERS` file: `PATTERN OWNER...` per line, `#`
    /// comments; a pattern without owners un-owns what it matches. A line
    /// GitHub would not read (a `!` negation, a pattern of only `/`, an
    /// owner that is neither `@login`, `@org/team` nor an e-mail address)
    /// is left out, as GitHub leaves it out, and named in [`skipped`].
    ///
    /// [`skipped`]: CodeOwners::skipped
    pub fn parse(text: &str, path: &str) -> Result<CodeOwners, Error> {
        let (mut rules, mut skipped) = (Vec::new(), Vec::new());
        for (i, line) in text.lines().enumerate() {
            // A comment starts at a `#` after white space, or the line's.
            let end = (line.char_indices())
                .find(|&(i, c)| c == '#' && line[..i].ends_with(char::is_whitespace))
                .map_or(line.len(), |(i, _)| i);
            let line = line[..end].trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let pat = parts.next().unwrap_or("");
            let owners: Vec<String> = parts.map(str::to_string).collect();
            let why = match pattern_regex(pat) {
                _ if pat.starts_with('!') => format!("negated pattern {:?}", printable(pat)),
                None => format!("bad pattern {:?}", printable(pat)),
                Some(re) => match owners.iter().find(|o| !is_code_owner(o)) {
                    Some(o) => format!(
                        "owner {:?} is not @login, @org/team or an e-mail address",
                        printable(o)
                    ),
                    None => {
                        rules.push((re, owners));
                        continue;
                    }
                },
            };
            skipped.push(format!("{path}:{}: line left out: {why}", i + 1));
        }
        Ok(CodeOwners { rules, skipped })
    }

    /// The lines left out, as `PATH:LINE: why`, in file order.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// The owners of a tree path: the last matching pattern's.
    pub fn owners_of(&self, path: &str) -> &[String] {
        self.rules
            .iter()
            .rev()
            .find(|(re, _)| re.is_match(path))
            .map_or(&[][..], |(_, o)| o)
    }
}

/// Who owns a file, and its labels.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileOwners {
    /// Owners, sorted, each once.
    pub owners: Vec<String>,
    /// Labels, sorted, each once.
    pub labels: Vec<String>,
}

/// The largest `OWNERS`, `OWNERS_ALIASES`, `CODEOWNERS` or `go.mod` read:
/// they are small text files; the bound keeps memory bounded whatever the
/// tree holds.
pub const MAX_OWNERS_FILE: u64 = 4 << 20;

/// The ownership of a source tree.
#[derive(Clone, Debug, Default)]
pub struct OwnersTree {
    /// `OWNERS` per directory (`""` is the root).
    dirs: HashMap<String, OwnersFile>,
    codeowners: Option<CodeOwners>,
    /// Module path of the tree's `go.mod`.
    module: Option<String>,
}

impl OwnersTree {
    /// What was read but left out (`CODEOWNERS` lines GitHub would not
    /// read), one message each, for the caller to show.
    pub fn warnings(&self) -> &[String] {
        self.codeowners
            .as_ref()
            .map_or(&[][..], CodeOwners::skipped)
    }
}

/// Directories never read: VCS data and vendored code (their `OWNERS`
/// belong to other projects).
const SKIP_DIRS: &[&str] = &[".git", "vendor", "node_modules", "_output"];

/// Where `CODEOWNERS` is looked for, first found wins (GitHub's order).
const CODEOWNERS_PATHS: &[&str] = &[".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

/// Whether a directory named `name` is left out of the walk (VCS data,
/// vendored code, build output).
pub fn is_skipped_dir(name: &str) -> bool {
    SKIP_DIRS.contains(&name)
}

/// Whether the tree path `path` (`/`-separated, relative to the root) is a
/// file [`OwnersTree::from_files`] reads: an `OWNERS` outside the skipped
/// directories, or the root's `OWNERS_ALIASES`, `go.mod` or a `CODEOWNERS`.
pub fn is_ownership_file(path: &str) -> bool {
    let (dirs, name) = path.rsplit_once('/').unwrap_or(("", path));
    let skipped = || dirs.split('/').any(is_skipped_dir);
    (name == "OWNERS" && !skipped())
        || matches!(path, "OWNERS_ALIASES" | "go.mod")
        || CODEOWNERS_PATHS.contains(&path)
}

impl OwnersTree {
    /// Reads every `OWNERS` under `root` (links are not followed), the
    /// first `CODEOWNERS` of `.github/`, the root and `docs/`, and the
    /// module path of `root/go.mod`. The tree may come from a pull request:
    /// a file is read only if it is a regular file inside `root` once links
    /// are resolved, and of at most [`MAX_OWNERS_FILE`] bytes.
    pub fn load(root: &Path) -> Result<OwnersTree, Error> {
        let read = |p: &Path| -> Result<Option<String>, Error> {
            let refused = |why: String| Error::Invalid(format!("{}: {why}", p.display()));
            match read_within(p, root, MAX_OWNERS_FILE) {
                Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
                Err(Refusal::Io(e)) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(Refusal::Io(e)) => Err(Error::io(p.to_string_lossy(), e)),
                Err(Refusal::NotAFile) => Err(refused("not a regular file".into())),
                Err(Refusal::Outside(real)) => Err(refused(format!(
                    "leads outside {} (to {})",
                    root.display(),
                    real.display()
                ))),
                Err(Refusal::TooLarge(max)) => Err(refused(format!("larger than {max} bytes"))),
            }
        };
        let mut files = BTreeMap::new();
        for p in ["OWNERS_ALIASES", "go.mod"].iter().chain(CODEOWNERS_PATHS) {
            if let Some(t) = read(&root.join(p))? {
                files.insert(p.to_string(), t);
            }
        }
        let mut stack: Vec<(PathBuf, String)> = vec![(root.to_path_buf(), String::new())];
        while let Some((dir, rel)) = stack.pop() {
            let entries =
                std::fs::read_dir(&dir).map_err(|e| Error::io(dir.to_string_lossy(), e))?;
            for entry in entries {
                let entry = entry.map_err(|e| Error::io(dir.to_string_lossy(), e))?;
                // file_type() does not follow links.
                let ft = entry
                    .file_type()
                    .map_err(|e| Error::io(entry.path().to_string_lossy(), e))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let child_rel = if rel.is_empty() {
                    name.clone()
                } else {
                    format!("{rel}/{name}")
                };
                if ft.is_dir() && !is_skipped_dir(&name) {
                    stack.push((entry.path(), child_rel));
                } else if ft.is_file() && name == "OWNERS" {
                    let text = read(&entry.path())?.unwrap_or_default();
                    files.insert(child_rel, text);
                }
            }
        }
        OwnersTree::from_files(&files)
    }

    /// The ownership of the git repository at `root` as it was at
    /// `commit`, read from git's objects (the work tree is not looked at):
    /// the files [`OwnersTree::load`] reads, as regular blobs of at most
    /// [`MAX_OWNERS_FILE`] bytes. Runs `git`; an error when the repository
    /// does not hold `commit`.
    pub fn load_at(root: &Path, commit: &str) -> Result<OwnersTree, Error> {
        let files = crate::git::files_at(root, commit, MAX_OWNERS_FILE, is_ownership_file)?;
        let files: BTreeMap<String, String> = files
            .into_iter()
            .map(|(p, b)| (p, String::from_utf8_lossy(&b).into_owned()))
            .collect();
        OwnersTree::from_files(&files)
    }

    /// The ownership of a tree given as its files: tree path to text, for
    /// example read through a forge's API. Paths
    /// [`is_ownership_file`] rejects are ignored.
    pub fn from_files(files: &BTreeMap<String, String>) -> Result<OwnersTree, Error> {
        let aliases = match files.get("OWNERS_ALIASES") {
            Some(t) => parse_aliases(t, "OWNERS_ALIASES")?,
            None => HashMap::new(),
        };
        let mut tree = OwnersTree::default();
        for (path, text) in files.iter().filter(|(p, _)| is_ownership_file(p)) {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            if name == "OWNERS" {
                let owners = parse_owners(text, path, &aliases)?;
                tree.dirs.insert(dir.to_string(), owners);
            }
        }
        if let Some((p, t)) = CODEOWNERS_PATHS
            .iter()
            .find_map(|p| files.get(*p).map(|t| (p, t)))
        {
            tree.codeowners = Some(CodeOwners::parse(t, p)?);
        }
        if let Some(t) = files.get("go.mod") {
            tree.module = crate::module_path(t);
        }
        Ok(tree)
    }

    /// The tree path of a profile file name: below the module path, or
    /// `None` for files outside the tree's module.
    pub fn tree_path<'a>(&self, name: &'a str) -> Option<&'a str> {
        let m = self.module.as_deref()?;
        name.strip_prefix(m)?.strip_prefix('/')
    }

    /// Owners and labels of a tree path (see the module documentation).
    pub fn owners_of(&self, tree_path: &str) -> FileOwners {
        let mut owners = BTreeSet::new();
        let mut labels = BTreeSet::new();
        let mut dir = tree_path.rsplit_once('/').map_or("", |(d, _)| d);
        loop {
            if let Some(o) = self.dirs.get(dir) {
                owners.extend(o.approvers.iter().cloned());
                labels.extend(o.labels.iter().cloned());
                if o.no_parent_owners {
                    break;
                }
            }
            if dir.is_empty() {
                break;
            }
            dir = dir.rsplit_once('/').map_or("", |(d, _)| d);
        }
        if let Some(c) = &self.codeowners {
            owners.extend(c.owners_of(tree_path).iter().cloned());
        }
        FileOwners {
            owners: owners.into_iter().collect(),
            labels: labels.into_iter().collect(),
        }
    }
}

impl OwnersTree {
    /// The owners (or labels) a profile file counts for: [`UNOWNED`] alone
    /// when it has none or is outside the tree's module.
    pub fn groups_of(&self, name: &str, by: OwnerBy) -> Vec<String> {
        let o = self
            .tree_path(name)
            .map(|t| self.owners_of(t))
            .unwrap_or_default();
        let names = match by {
            OwnerBy::Owner => o.owners,
            OwnerBy::Label => o.labels,
        };
        if names.is_empty() {
            vec![UNOWNED.to_string()]
        } else {
            names
        }
    }
}

/// What [`rollup`] groups by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OwnerBy {
    /// Per owner (approvers and CODEOWNERS owners).
    Owner,
    /// Per `OWNERS` label (`sig/node`).
    Label,
}

/// One row of a [`rollup`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OwnerRow {
    /// Owner or label, or [`UNOWNED`].
    pub name: String,
    /// Files counted.
    pub files: u64,
    /// Statements: covered and all.
    #[serde(flatten)]
    pub counts: Counts,
}

/// Coverage per owner or label: each file counts in the row of each of its
/// owners (labels), files with none in [`UNOWNED`]; rows by name,
/// [`UNOWNED`] last.
pub fn rollup(p: &Profile, tree: &OwnersTree, by: OwnerBy) -> Vec<OwnerRow> {
    let mut rows: BTreeMap<String, OwnerRow> = BTreeMap::new();
    let mut unowned = OwnerRow {
        name: UNOWNED.to_string(),
        files: 0,
        counts: Counts::default(),
    };
    for f in p.files() {
        let c = f.statements();
        let who = tree.tree_path(f.name()).map(|t| tree.owners_of(t));
        let names = match (&who, by) {
            (Some(w), OwnerBy::Owner) => &w.owners[..],
            (Some(w), OwnerBy::Label) => &w.labels[..],
            (None, _) => &[][..],
        };
        if names.is_empty() {
            unowned.files += 1;
            unowned.counts.add(c);
        }
        for n in names {
            let r = rows.entry(n.clone()).or_insert_with(|| OwnerRow {
                name: n.clone(),
                files: 0,
                counts: Counts::default(),
            });
            r.files += 1;
            r.counts.add(c);
        }
    }
    let mut out: Vec<OwnerRow> = rows.into_values().collect();
    if unowned.files > 0 {
        out.push(unowned);
    }
    out
}

/// Writes a rollup as pretty JSON (`by`, a note that a file with several
/// owners counts in each row, `rows`), with a final newline.
pub fn write_rollup_json<W: Write>(mut w: W, rows: &[OwnerRow], by: OwnerBy) -> io::Result<()> {
    let doc = serde_json::json!({
        "by": by,
        "note": "a file with several owners counts in the row of each",
        "rows": rows,
    });
    serde_json::to_writer_pretty(&mut w, &doc)?;
    w.write_all(b"\n")
}

/// Writes a rollup as an aligned table (names escaped for terminals),
/// with the note that a file with several owners counts in each row.
pub fn write_rollup_table<W: Write>(mut w: W, rows: &[OwnerRow], by: OwnerBy) -> io::Result<()> {
    let head = match by {
        OwnerBy::Owner => "OWNER",
        OwnerBy::Label => "LABEL",
    };
    let (names, width) = name_column(head, rows.iter().map(|r| r.name.as_str()));
    writeln!(
        w,
        "{head:<width$}  {:>7}  {:>11}  {:>7}",
        "FILES", "STATEMENTS", "COVERED"
    )?;
    for (r, n) in rows.iter().zip(&names) {
        writeln!(
            w,
            "{n:<width$}  {:>7}  {:>11}  {:>6.1}%",
            r.files,
            format!("{}/{}", r.counts.covered, r.counts.total),
            r.counts.percent()
        )?;
    }
    writeln!(
        w,
        "note: a file with several {}s counts in the row of each; rows do not add up to the total",
        match by {
            OwnerBy::Owner => "owner",
            OwnerBy::Label => "label",
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `load_at`: the ownership of an older commit of a git checkout whose
    /// work tree moved on, read from git's objects; vendored OWNERS and
    /// links are left out as `load` leaves them out; a commit the
    /// repository does not hold, or no commit id at all, is an error.
    #[test]
    #[ignore = "needs git"]
    fn load_at_reads_the_commits_files_not_the_work_tree() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .arg("-C")
                .arg(root)
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args)
                .output()
                .expect("this test needs git");
            assert!(out.status.success(), "git {args:?}: {out:?}");
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        };
        let write = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        git(&["init", "-q"]);
        write("go.mod", "module example.com/m\n");
        write("OWNERS", "approvers: [root]\n");
        write("pkg/OWNERS", "approvers: [alice]\nlabels: [sig/a]\n");
        write("vendor/x/OWNERS", "approvers: [vendored]\n");
        std::os::unix::fs::symlink("../OWNERS", root.join("pkg/sub")).unwrap();
        git(&["add", "-A"]);
        git(&["commit", "-qm", "one"]);
        let first = git(&["rev-parse", "HEAD"]);
        write("pkg/OWNERS", "approvers: [bob]\nlabels: [sig/b]\n");
        git(&["commit", "-qam", "two"]);
        write("pkg/OWNERS", "approvers: [uncommitted]\n");

        let groups = |tree: &OwnersTree, by| tree.groups_of("example.com/m/pkg/x.go", by);
        let then = OwnersTree::load_at(root, &first[..12]).unwrap();
        assert_eq!(groups(&then, OwnerBy::Owner), ["alice", "root"]);
        assert_eq!(groups(&then, OwnerBy::Label), ["sig/a"]);
        let head = git(&["rev-parse", "HEAD"]);
        let now = OwnersTree::load_at(root, &head).unwrap();
        assert_eq!(groups(&now, OwnerBy::Owner), ["bob", "root"]);
        assert!(
            !now.groups_of("example.com/m/vendor/x/y.go", OwnerBy::Owner)
                .contains(&"vendored".to_string())
        );
        // The work tree's uncommitted edit is what `load` sees.
        let work = OwnersTree::load(root).unwrap();
        assert_eq!(groups(&work, OwnerBy::Owner), ["root", "uncommitted"]);

        let err = OwnersTree::load_at(root, "0123456789abcdef").unwrap_err();
        assert!(
            err.to_string().contains("no commit 0123456789abcdef"),
            "{err}"
        );
        let err = OwnersTree::load_at(root, "--output=x").unwrap_err();
        assert!(err.to_string().contains("expected a commit id"), "{err}");
    }

    /// A tree from a pull request: links out of it, FIFOs and huge files
    /// are refused with the file's name, never followed, waited on or read
    /// whole.
    #[test]
    fn load_reads_only_regular_bounded_files_inside_the_tree() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("repo");
        std::fs::create_dir_all(root.join("pkg")).unwrap();
        std::fs::write(root.join("pkg/OWNERS"), "approvers: [alice]\n").unwrap();
        std::fs::write(t.path().join("secret"), "aliases:\n  x: [mallory]\n").unwrap();
        assert!(OwnersTree::load(&root).is_ok());

        std::os::unix::fs::symlink(t.path().join("secret"), root.join("OWNERS_ALIASES")).unwrap();
        let e = OwnersTree::load(&root).unwrap_err().to_string();
        assert!(
            e.contains("OWNERS_ALIASES") && e.contains("leads outside"),
            "{e}"
        );
        std::fs::remove_file(root.join("OWNERS_ALIASES")).unwrap();

        std::fs::create_dir(root.join(".github")).unwrap();
        let fifo = root.join(".github/CODEOWNERS");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        let e = OwnersTree::load(&root).unwrap_err().to_string();
        assert!(
            e.contains("CODEOWNERS") && e.contains("not a regular file"),
            "{e}"
        );
        std::fs::remove_file(&fifo).unwrap();

        let big = vec![b'#'; MAX_OWNERS_FILE as usize + 1];
        std::fs::write(root.join("pkg/OWNERS"), big).unwrap();
        let e = OwnersTree::load(&root).unwrap_err().to_string();
        assert!(e.contains("pkg/OWNERS") && e.contains("larger than"), "{e}");
    }

    /// The files a forge lists: only ownership files count, `vendor/` and
    /// the like are skipped, and the tree is the one `load` reads.
    #[test]
    fn from_files_reads_what_load_reads() {
        let file = |p: &str, t: &str| (p.to_string(), t.to_string());
        let files: BTreeMap<String, String> = [
            // A comment after the module path: Go reads past it.
            file("go.mod", "module example.com/m // the module\n"),
            file("OWNERS", "approvers: [root]\nlabels: [sig/all]\n"),
            file("OWNERS_ALIASES", "aliases:\n  team: [ann, ben]\n"),
            file("pkg/OWNERS", "approvers: [team]\nlabels: [sig/node]\n"),
            file(
                "pkg/x/OWNERS",
                "options: {no_parent_owners: true}\napprovers: [xo]\n",
            ),
            file("vendor/y/OWNERS", "approvers: [vendored]\n"),
            file("pkg/NOT_OWNERS", "approvers: [nobody]\n"),
            file("docs/CODEOWNERS", "*.md @writers\n"),
            file("pkg/main.go", "package main\n"),
        ]
        .into_iter()
        .collect();
        let t = OwnersTree::from_files(&files).unwrap();
        let of = |n: &str| t.groups_of(n, OwnerBy::Owner);
        assert_eq!(of("example.com/m/pkg/a.go"), ["ann", "ben", "root"]);
        assert_eq!(of("example.com/m/pkg/x/b.go"), ["xo"]);
        assert_eq!(of("example.com/m/vendor/y/c.go"), ["root"]);
        assert_eq!(
            of("example.com/m/pkg/r.md"),
            ["@writers", "ann", "ben", "root"]
        );
        assert_eq!(of("other.org/z.go"), [UNOWNED]);
        let labels = t.groups_of("example.com/m/pkg/a.go", OwnerBy::Label);
        assert_eq!(labels, ["sig/all", "sig/node"]);

        let d = tempfile::tempdir().unwrap();
        for (p, text) in &files {
            let path = d.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let loaded = OwnersTree::load(d.path()).unwrap();
        for n in [
            "pkg/a.go",
            "pkg/x/b.go",
            "vendor/y/c.go",
            "pkg/r.md",
            "q.go",
        ] {
            let n = format!("example.com/m/{n}");
            for by in [OwnerBy::Owner, OwnerBy::Label] {
                assert_eq!(loaded.groups_of(&n, by), t.groups_of(&n, by), "{n}");
            }
        }
        assert!(is_ownership_file("a/b/OWNERS") && !is_ownership_file("a/go.mod"));
        assert!(!is_ownership_file("a/_output/OWNERS") && !is_ownership_file("a/CODEOWNERS"));
    }

    /// Every byte that could change how an ownership file reads.
    const EDITS: &[u8] = b":-[]{}#\"' \t\n@*/?,\\\xc3";

    /// Ownership files hold whatever was merged: every truncation and every
    /// one-byte edit of real ones parses or fails naming the file, and
    /// never panics.
    #[test]
    fn mangled_ownership_files_never_panic() {
        let owners = [
            include_str!("../../fixtures/owners/OWNERS"),
            include_str!("../../fixtures/owners/calc/OWNERS"),
            "options: {no_parent_owners: true} # x\napprovers: ['a', \"b\"]\nlabels: []\n",
        ];
        let aliases = include_str!("../../fixtures/owners/OWNERS_ALIASES");
        let codeowners = include_str!("../../fixtures/owners/.github/CODEOWNERS");
        let variants = |text: &str| {
            let b = text.as_bytes();
            let mut out: Vec<String> = (0..=b.len())
                .map(|n| String::from_utf8_lossy(&b[..n]).into_owned())
                .collect();
            for i in 0..b.len() {
                for &e in EDITS {
                    let mut m = b.to_vec();
                    m[i] = e;
                    out.push(String::from_utf8_lossy(&m).into_owned());
                }
            }
            out
        };
        let none = HashMap::new();
        let named = |r: Result<(), Error>, name: &str| {
            if let Err(e) = r {
                assert!(e.to_string().contains(name), "{e}");
            }
        };
        for text in owners.iter().flat_map(|t| variants(t)) {
            named(parse_owners(&text, "x/OWNERS", &none).map(drop), "x/OWNERS");
        }
        for text in variants(aliases) {
            named(
                parse_aliases(&text, "OWNERS_ALIASES").map(drop),
                "OWNERS_ALIASES",
            );
        }
        for text in variants(codeowners) {
            if let Ok(c) = CodeOwners::parse(&text, "CODEOWNERS") {
                c.owners_of("cmd/a/b.go");
            }
        }
    }

    #[test]
    fn owners_files() {
        let aliases = parse_aliases(
            "aliases:\n  sig-node-approvers:\n    - alice\n    - bob\n",
            "OWNERS_ALIASES",
        )
        .unwrap();
        let o = parse_owners(
            "# comment\napprovers:\n- sig-node-approvers\n- \"carol\" # lead\nreviewers: [dave, 'erin']\nlabels:\n  - sig/node\noptions:\n  no_parent_owners: true\nemeritus_approvers:\n- zed\n",
            "pkg/OWNERS",
            &aliases,
        )
        .unwrap();
        assert_eq!(o.approvers, ["alice", "bob", "carol"]);
        assert_eq!(o.reviewers, ["dave", "erin"]);
        assert_eq!(o.labels, ["sig/node"]);
        assert!(o.no_parent_owners);
        let e = parse_owners("approvers:\n  - a\n - b\n", "x/OWNERS", &aliases).unwrap_err();
        assert!(e.to_string().contains("x/OWNERS:3"), "{e}");
        assert!(parse_owners("filters:\n  \".*\":\n    approvers: [a]\n", "O", &aliases).is_err());
        // A one-line map is read, not taken for a string and ignored.
        let flow = "options: {no_parent_owners: true} # here\napprovers: [a]\n";
        assert!(parse_owners(flow, "O", &aliases).unwrap().no_parent_owners);
        assert!(
            !parse_owners("options:\napprovers: [a]\n", "O", &aliases)
                .unwrap()
                .no_parent_owners
        );
        for bad in ["options: {a: [b]}\n", "options: {x}\n", "options: yes\n"] {
            assert!(parse_owners(bad, "O", &aliases).is_err(), "{bad}");
        }
        // YAML 1.1's booleans, as Prow reads them; before, anything but
        // `true` let the parent's owners in.
        let npo = |v: &str| {
            let text = format!("options:\n  no_parent_owners: {v}\napprovers: [a]\n");
            parse_owners(&text, "O", &aliases).map(|o| o.no_parent_owners)
        };
        for v in ["True", "TRUE", "yes", "on", "Y"] {
            assert!(npo(v).unwrap(), "{v}");
        }
        for v in ["False", "no", "off", "N"] {
            assert!(!npo(v).unwrap(), "{v}");
        }
        assert!(
            npo("maybe")
                .unwrap_err()
                .to_string()
                .contains("no_parent_owners")
        );
        // Logins and alias names compare in lower case, without `@`.
        let aliases = parse_aliases("aliases:\n  Team-A: [Ann, '@ben']\n", "A").unwrap();
        let o = parse_owners("approvers: [team-a, Carl, '@Dee']\n", "O", &aliases).unwrap();
        assert_eq!(o.approvers, ["ann", "ben", "carl", "dee"]);
        // A byte order mark is no part of the first key.
        let o = parse_owners("\u{feff}approvers: [a]\n", "O", &aliases).unwrap();
        assert_eq!(o.approvers, ["a"]);
    }

    #[test]
    fn codeowners_last_match_wins() {
        let c = CodeOwners::parse(
            "* @all\n/docs/ @docs\n*.md @writers\npkg/**/gen_*.go @gen\n/pkg/kubelet/ @node\n/pkg/kubelet/x.go\nbuild @build\n",
            "CODEOWNERS",
        )
        .unwrap();
        assert_eq!(c.owners_of("main.go"), ["@all"]);
        assert_eq!(c.owners_of("docs/a/b.txt"), ["@docs"]);
        assert_eq!(c.owners_of("docs/a.md"), ["@writers"]);
        assert_eq!(c.owners_of("pkg/a/b/gen_x.go"), ["@gen"]);
        assert_eq!(c.owners_of("pkg/gen_x.go"), ["@gen"]);
        assert_eq!(c.owners_of("pkg/kubelet/y.go"), ["@node"]);
        // No owners: un-owned.
        assert!(c.owners_of("pkg/kubelet/x.go").is_empty());
        // Unanchored: a directory at any depth.
        assert_eq!(c.owners_of("a/build/x.go"), ["@build"]);
        assert_eq!(c.owners_of("a/buildx/x.go"), ["@all"]);
        // GitHub's `docs/*`: the files of docs/, not of its subdirectories.
        let c = CodeOwners::parse("* @all\ndocs/* @docs\n/api/*.go @api\n", "C").unwrap();
        assert_eq!(c.owners_of("docs/a.md"), ["@docs"]);
        assert_eq!(c.owners_of("docs/sub/b.go"), ["@all"]);
        assert_eq!(c.owners_of("api/x.go"), ["@api"]);
        assert_eq!(c.owners_of("api/v1/x.go"), ["@all"]);
        // A comment after any white space, tabs too; not a `#` in a name.
        let c = CodeOwners::parse("*.go\t@go\t# tab comment\n*.md @team#1 # x\n", "C").unwrap();
        assert_eq!(c.owners_of("a.go"), ["@go"]);
        assert_eq!(c.owners_of("a.md"), ["@team#1"]);
    }

    #[test]
    fn codeowners_lines_github_cannot_read_are_left_out_and_named() {
        let text =
            "* @all\n!vendor/ @none\n/ @root\n/api/ @api bob\n/web/ @org/web dev@example.com\n";
        let c = CodeOwners::parse(text, ".github/CODEOWNERS").unwrap();
        // The rest of the file still applies.
        assert_eq!(c.owners_of("web/x.go"), ["@org/web", "dev@example.com"]);
        assert_eq!(c.owners_of("api/x.go"), ["@all"]);
        assert_eq!(c.owners_of("vendor/x.go"), ["@all"]);
        assert_eq!(
            c.skipped(),
            [
                ".github/CODEOWNERS:2: line left out: negated pattern \"!vendor/\"",
                ".github/CODEOWNERS:3: line left out: bad pattern \"/\"",
                ".github/CODEOWNERS:4: line left out: owner \"bob\" is not @login, @org/team or an e-mail address",
            ]
        );
        let files = BTreeMap::from([(".github/CODEOWNERS".to_string(), text.to_string())]);
        let tree = OwnersTree::from_files(&files).unwrap();
        assert_eq!(tree.warnings(), c.skipped());
    }
}

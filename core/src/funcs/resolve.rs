//! Finding the source file a profile names, without running `go list`.
//!
//! A profile names files as `import/path/file.go`. `go tool cover` asks
//! `go list` for each package's directory; this module answers the same
//! question from the files `go list` reads: `go.work`, `go.mod`,
//! `vendor/`, the module cache and `GOROOT`.
//!
//! [`SourceResolver::resolve`] finds what `go tool cover` would read.
//! [`SourceResolver::read_source`] is for embedding sources in a report
//! built from untrusted profiles: it reads only `.go` files the import-path
//! mapping finds, and only when the file, after `..` and symbolic links
//! are resolved, lies inside the directory that mapping trusts (its
//! anchor, see [`Found`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::error::Error;
use crate::gomod::{ModFile, Replace, cmp_versions, escape_case, is_dir_path};
use crate::profile::package_of;
use crate::within::{Refusal, read_within};

/// Configures a [`SourceResolver`].
///
/// Go settings (`GOWORK`, `GOFLAGS`, `GOMODCACHE`, `GOPATH`, `GOROOT`,
/// `GO111MODULE`) come from the environment, then from the `go env -w`
/// file, unless overridden with [`env`](SourceResolverBuilder::env).
#[derive(Clone, Debug, Default)]
pub struct SourceResolverBuilder {
    cwd: Option<PathBuf>,
    roots: Vec<(String, PathBuf)>,
    goroot: Option<PathBuf>,
    gomodcache: Option<PathBuf>,
    env: HashMap<String, Option<String>>,
}

impl SourceResolverBuilder {
    /// A builder with the defaults: the process's working directory and
    /// environment.
    pub fn new() -> SourceResolverBuilder {
        SourceResolverBuilder::default()
    }

    /// The directory `go.mod`/`go.work` are searched from (and relative
    /// profile names are relative to), like the directory `go tool cover`
    /// runs in.
    pub fn cwd(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Looks for packages under `import_prefix` (a whole number of path
    /// elements; empty matches everything) in `dir` first. The longest
    /// matching prefix is tried first.
    pub fn source_root(&mut self, import_prefix: &str, dir: impl Into<PathBuf>) -> &mut Self {
        let prefix = import_prefix.trim_end_matches('/').to_string();
        self.roots.push((prefix, dir.into()));
        self
    }

    /// The Go root for standard-library packages (default: `$GOROOT`, else
    /// `go env GOROOT`, run once when first needed).
    pub fn goroot(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.goroot = Some(dir.into());
        self
    }

    /// The module cache (default: `$GOMODCACHE`, else the first `$GOPATH`
    /// entry's `pkg/mod`, else `~/go/pkg/mod`).
    pub fn gomodcache(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.gomodcache = Some(dir.into());
        self
    }

    /// Overrides a Go setting such as `GOFLAGS` or `GOWORK`; `None` makes
    /// it unset.
    pub fn env(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        self.env.insert(key.to_string(), value.map(str::to_string));
        self
    }

    /// Reads `go.work` or `go.mod` (from the working directory up) and
    /// returns the resolver.
    pub fn build(&self) -> Result<SourceResolver, Error> {
        let cwd = match &self.cwd {
            Some(d) => d.clone(),
            None => std::env::current_dir().map_err(|e| Error::io(".", e))?,
        };
        let env = GoEnv::load(&self.env);
        let mut roots = self.roots.clone();
        // Stable: equal prefixes keep the order they were given in.
        roots.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        let home = env.get("HOME").map(PathBuf::from);
        let gopath: Vec<PathBuf> = match env.get("GOPATH") {
            Some(p) => std::env::split_paths(&p).collect(),
            None => home.iter().map(|h| h.join("go")).collect(),
        };
        let modcache = self
            .gomodcache
            .clone()
            .or_else(|| env.get("GOMODCACHE").map(PathBuf::from))
            .or_else(|| gopath.first().map(|p| p.join("pkg").join("mod")));
        let goroot = self
            .goroot
            .clone()
            .or_else(|| env.get("GOROOT").map(PathBuf::from));
        let module_mode = env.get("GO111MODULE").as_deref() != Some("off");
        let mut r = SourceResolver {
            cwd: cwd.clone(),
            roots,
            modules: Vec::new(),
            vendor: None,
            gopath_src: Vec::new(),
            goroot_preset: goroot,
            goroot: OnceLock::new(),
            note: None,
        };
        if !module_mode {
            r.gopath_src = gopath.iter().map(|p| p.join("src")).collect();
            return Ok(r);
        }
        let layout = match find_workspace(&cwd, &env) {
            Some(work) => Layout::workspace(&work)?,
            None => match find_up(&cwd, "go.mod") {
                Some(gomod) => Layout::module(&gomod)?,
                None => {
                    r.note = Some(format!(
                        "no go.mod or go.work in {} or its parents",
                        cwd.display()
                    ));
                    return Ok(r);
                }
            },
        };
        let vendor_mode = match mod_flag(env.get("GOFLAGS").as_deref()) {
            Some(m) => m == "vendor",
            None => {
                layout.vendor_default
                    && layout.vendor.is_dir()
                    && vendored_workspace(&layout.vendor) == layout.workspace
            }
        };
        let mut modules: Vec<ModuleDir> = layout
            .main
            .iter()
            .map(|(path, dir)| ModuleDir {
                path: path.clone(),
                dir: dir.clone(),
                anchor: if layout.workspace {
                    layout.root.clone()
                } else {
                    dir.clone()
                },
            })
            .collect();
        if vendor_mode {
            r.vendor = Some(layout.vendor.clone());
        } else {
            modules.extend(layout.dependencies(modcache.as_deref()));
        }
        modules.sort_by_key(|m| std::cmp::Reverse(m.path.len()));
        r.modules = modules;
        Ok(r)
    }
}

/// The largest source [`SourceResolver::read_source`] reads (Kubernetes'
/// largest generated file is a few MiB): a tree holding a pull request's
/// files may hold anything, and a source is read and parsed whole.
pub const MAX_SOURCE_BYTES: u64 = 64 << 20;

/// Maps profile file names to source files. Cheap to share between
/// threads; see [`SourceResolverBuilder`] for the configuration.
#[derive(Debug)]
pub struct SourceResolver {
    cwd: PathBuf,
    /// Source roots, longest prefix first.
    roots: Vec<(String, PathBuf)>,
    /// Main modules and dependencies, longest module path first.
    modules: Vec<ModuleDir>,
    /// The vendor directory when the build would use it.
    vendor: Option<PathBuf>,
    /// `$GOPATH/src` entries (GOPATH mode only).
    gopath_src: Vec<PathBuf>,
    goroot_preset: Option<PathBuf>,
    goroot: OnceLock<Option<PathBuf>>,
    /// Why module lookups cannot work, for error messages.
    note: Option<String>,
}

#[derive(Debug)]
struct ModuleDir {
    path: String,
    dir: PathBuf,
    /// The directory its sources must stay in for [`SourceResolver::read_source`]:
    /// its own directory for a main module found from the working
    /// directory or in the module cache; the main module's (or
    /// workspace's) directory for directories that `use` and `replace`
    /// lines name, which a checked-out tree can point anywhere.
    anchor: PathBuf,
}

/// A file the mapping found.
struct Found {
    path: PathBuf,
    /// The trusted directory it was found through, `None` for names that
    /// are paths (`./x.go`, `/abs/x.go`).
    anchor: Option<PathBuf>,
}

impl SourceResolver {
    /// A resolver for the current directory and environment.
    pub fn new() -> Result<SourceResolver, Error> {
        SourceResolverBuilder::new().build()
    }

    /// A builder to configure one.
    pub fn builder() -> SourceResolverBuilder {
        SourceResolverBuilder::new()
    }

    /// The source file of profile entry `name`.
    ///
    /// Names starting with `.` or `/` are paths. Otherwise the package
    /// (everything before the last `/`) is looked up in order: source
    /// roots, the standard library (first path element without a dot),
    /// the main module(s), then `vendor/` or the required modules in the
    /// module cache (`replace` directives applied), then `$GOPATH/src` in
    /// GOPATH mode. The first candidate that exists wins. Import paths
    /// with `.` or `..` elements are invalid in Go and refused.
    pub fn resolve(&self, name: &str) -> Result<PathBuf, Error> {
        self.locate(name).map(|f| f.path)
    }

    /// The contents of profile entry `name`'s source and the path they were
    /// read from, for a report that shows them. Stricter than
    /// [`resolve`](Self::resolve), as `name` may come from anyone: only
    /// import paths (no absolute or relative names), only `.go` files, and
    /// only when the file actually opened (after `..` and symbolic links)
    /// lies inside the directory the mapping trusts: the source root, the
    /// main module or workspace, `GOROOT/src`, the module's directory in
    /// the module cache, `vendor/` or `$GOPATH/src`. A link inside a
    /// module that points out of it is refused.
    /// At most [`MAX_SOURCE_BYTES`] are read.
    pub fn read_source(&self, name: &str) -> Result<(PathBuf, Vec<u8>), Error> {
        let found = self.locate(name)?;
        let refuse = |reason: String| Error::SourceRefused {
            name: name.to_string(),
            reason,
        };
        let Some(anchor) = found.anchor else {
            return Err(refuse(
                "absolute and relative names are not read, only import paths".into(),
            ));
        };
        if !name.ends_with(".go") {
            return Err(refuse("not a Go source file".into()));
        }
        match read_within(&found.path, &anchor, MAX_SOURCE_BYTES) {
            Ok(src) => Ok((found.path, src)),
            Err(Refusal::Io(e)) => Err(Error::io(found.path.display().to_string(), e)),
            Err(Refusal::NotAFile) => Err(refuse(format!(
                "{} is not a regular file",
                found.path.display()
            ))),
            Err(Refusal::Outside(real)) => Err(refuse(format!(
                "{} is {}, outside {}",
                found.path.display(),
                real.display(),
                anchor.display()
            ))),
            Err(Refusal::TooLarge(max)) => Err(refuse(format!("larger than {max} bytes"))),
        }
    }

    fn locate(&self, name: &str) -> Result<Found, Error> {
        let mut looked = Vec::new();
        if name.starts_with('.') || name.starts_with('/') {
            let dir = [(self.cwd.clone(), None)];
            return first_file(dir, name, &mut looked)
                .ok_or_else(|| self.not_found(name, &looked, None));
        }
        // An empty element (`a//b.go`) would name the same file as
        // `a/b.go`: one source read, shown and embedded once per alias.
        if name
            .split('/')
            .any(|e| e.is_empty() || e == "." || e == "..")
        {
            return Err(Error::SourceRefused {
                name: name.to_string(),
                reason: "an import path has no empty, \".\" or \"..\" elements".into(),
            });
        }
        let pkg = package_of(name);
        let base = &name[name.rfind('/').map_or(0, |i| i + 1)..];
        let explicit = self
            .roots
            .iter()
            .filter_map(|(prefix, dir)| {
                Some((dir.join(strip_prefix(pkg, prefix)?), Some(dir.clone())))
            })
            .chain((pkg == ".").then(|| (self.cwd.clone(), Some(self.cwd.clone()))));
        if let Some(p) = first_file(explicit, base, &mut looked) {
            return Ok(p);
        }
        // Only now, so `go env GOROOT` runs only when it can matter.
        let goroot = is_standard(pkg).then(|| self.goroot());
        let implied = goroot
            .flatten()
            .map(|g| (g.join("src").join(pkg), Some(g.join("src"))))
            .into_iter()
            .chain(self.modules.iter().filter_map(|m| {
                Some((
                    m.dir.join(strip_prefix(pkg, &m.path)?),
                    Some(m.anchor.clone()),
                ))
            }))
            .chain(self.vendor.iter().map(|v| (v.join(pkg), Some(v.clone()))))
            .chain(
                self.gopath_src
                    .iter()
                    .map(|s| (s.join(pkg), Some(s.clone()))),
            );
        if let Some(p) = first_file(implied, base, &mut looked) {
            return Ok(p);
        }
        let hint = matches!(goroot, Some(None))
            .then_some("GOROOT is unknown (set GOROOT or put go on PATH)");
        Err(self.not_found(name, &looked, hint))
    }

    fn not_found(&self, name: &str, looked: &[String], hint: Option<&str>) -> Error {
        let mut detail = if looked.is_empty() {
            "no source root or module provides its package".to_string()
        } else {
            format!("not found at {}", looked.join(", "))
        };
        for note in hint.into_iter().chain(self.note.as_deref()) {
            detail.push_str("; ");
            detail.push_str(note);
        }
        Error::SourceNotFound {
            name: name.to_string(),
            detail,
        }
    }

    fn goroot(&self) -> Option<&Path> {
        self.goroot
            .get_or_init(|| {
                self.goroot_preset
                    .clone()
                    .or_else(|| go_env_goroot(&self.cwd))
            })
            .as_deref()
    }
}

/// The first `dir/file` that is a file, with the anchor it came with;
/// records the others in `looked`.
fn first_file(
    dirs: impl IntoIterator<Item = (PathBuf, Option<PathBuf>)>,
    file: &str,
    looked: &mut Vec<String>,
) -> Option<Found> {
    for (dir, anchor) in dirs {
        let path = dir.join(file);
        if path.is_file() {
            return Some(Found { path, anchor });
        }
        looked.push(path.display().to_string());
    }
    None
}

/// `go env GOROOT`, for when the environment does not say.
fn go_env_goroot(cwd: &Path) -> Option<PathBuf> {
    let out = Command::new("go")
        .args(["env", "GOROOT"])
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?;
    let s = s.trim();
    (out.status.success() && !s.is_empty()).then(|| PathBuf::from(s))
}

/// `search.IsStandardImportPath`: no dot in the first path element.
fn is_standard(pkg: &str) -> bool {
    !pkg.split('/').next().unwrap_or("").contains('.')
}

/// The rest of `pkg` below `prefix`, if `prefix` is a whole-element prefix.
fn strip_prefix<'a>(pkg: &'a str, prefix: &str) -> Option<&'a str> {
    if prefix.is_empty() {
        return Some(pkg);
    }
    let rest = pkg.strip_prefix(prefix)?;
    if rest.is_empty() {
        Some("")
    } else {
        rest.strip_prefix('/')
    }
}

/// The value of `-mod=` in `GOFLAGS`.
fn mod_flag(goflags: Option<&str>) -> Option<&str> {
    goflags?
        .split_whitespace()
        .rev()
        .find_map(|f| f.strip_prefix("-mod=").or_else(|| f.strip_prefix("--mod=")))
}

/// `base/rel`, cleaned lexically as Go's `filepath.Join` does.
fn join_clean(base: &Path, rel: &str) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in base.join(rel).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

fn find_up(start: &Path, file: &str) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join(file))
        .find(|p| p.is_file())
}

fn find_workspace(cwd: &Path, env: &GoEnv) -> Option<PathBuf> {
    match env.get("GOWORK").as_deref() {
        Some("off") => None,
        Some(path) => Some(cwd.join(path)),
        None => find_up(cwd, "go.work"),
    }
}

/// Whether `vendor/modules.txt` was written by `go work vendor`; Go only
/// uses a vendor directory made in the mode it runs in.
fn vendored_workspace(vendor: &Path) -> bool {
    let text = std::fs::read_to_string(vendor.join("modules.txt")).unwrap_or_default();
    let first = text.lines().next().unwrap_or("");
    first
        .strip_prefix("## ")
        .is_some_and(|a| a.split(';').any(|e| e.trim() == "workspace"))
}

fn read_modfile(path: &Path) -> Result<ModFile, Error> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::io(path.display().to_string(), e))?;
    Ok(ModFile::parse(&text))
}

/// What a `go.work` or `go.mod` says about where packages live.
struct Layout {
    /// The directory of `go.work`, or of `go.mod` for a single module.
    root: PathBuf,
    /// (module path, directory) of each main module.
    main: Vec<(String, PathBuf)>,
    requires: Vec<(String, String)>,
    /// Replacements in precedence order, each with the directory relative
    /// paths in it start from.
    replaces: Vec<(Replace, PathBuf)>,
    vendor: PathBuf,
    /// Whether the `go` version (at least 1.14) makes an existing vendor
    /// directory the default.
    vendor_default: bool,
    workspace: bool,
}

impl Layout {
    fn module(gomod: &Path) -> Result<Layout, Error> {
        let dir = gomod.parent().unwrap_or(Path::new(".")).to_path_buf();
        let m = read_modfile(gomod)?;
        let vendor_default = m.go_at_least(14);
        Ok(Layout {
            root: dir.clone(),
            main: m.module.iter().map(|p| (p.clone(), dir.clone())).collect(),
            requires: m.require,
            replaces: m.replace.into_iter().map(|r| (r, dir.clone())).collect(),
            vendor: dir.join("vendor"),
            vendor_default,
            workspace: false,
        })
    }

    fn workspace(gowork: &Path) -> Result<Layout, Error> {
        let root = gowork.parent().unwrap_or(Path::new(".")).to_path_buf();
        let w = read_modfile(gowork)?;
        let vendor_default = w.go_at_least(14);
        let mut l = Layout {
            root: root.clone(),
            main: Vec::new(),
            requires: Vec::new(),
            replaces: w.replace.into_iter().map(|r| (r, root.clone())).collect(),
            vendor: root.join("vendor"),
            vendor_default,
            workspace: true,
        };
        for u in &w.uses {
            let dir = join_clean(&root, u);
            let m = read_modfile(&dir.join("go.mod"))?;
            if let Some(p) = m.module {
                l.main.push((p, dir.clone()));
            }
            l.requires.extend(m.require);
            l.replaces
                .extend(m.replace.into_iter().map(|r| (r, dir.clone())));
        }
        Ok(l)
    }

    /// Directories of the required modules: the highest required version
    /// of each, with replacements applied.
    fn dependencies(&self, modcache: Option<&Path>) -> Vec<ModuleDir> {
        let mut versions: Vec<(&str, &str)> = Vec::new();
        for (path, v) in &self.requires {
            if self.main.iter().any(|(m, _)| m == path) {
                continue;
            }
            match versions.iter_mut().find(|(p, _)| p == path) {
                Some(e) => {
                    if cmp_versions(v, e.1).is_gt() {
                        e.1 = v;
                    }
                }
                None => versions.push((path, v)),
            }
        }
        let cache = |path: &str, version: &str| {
            modcache.map(|c| c.join(format!("{}@{}", escape_case(path), escape_case(version))))
        };
        let mut out = Vec::new();
        for (path, version) in &versions {
            let exact = self
                .replaces
                .iter()
                .find(|(r, _)| r.old == *path && r.old_version.as_deref() == Some(version));
            let any = || {
                self.replaces
                    .iter()
                    .find(|(r, _)| r.old == *path && r.old_version.is_none())
            };
            // (directory, anchor): a directory replacement may only show
            // files inside the main module or workspace.
            let dir = match exact.or_else(any) {
                Some((r, base)) if is_dir_path(&r.new) => {
                    Some((join_clean(base, &r.new), self.root.clone()))
                }
                Some((r, _)) => r
                    .new_version
                    .as_deref()
                    .and_then(|v| cache(&r.new, v))
                    .map(|d| (d.clone(), d)),
                None => cache(path, version).map(|d| (d.clone(), d)),
            };
            if let Some((dir, anchor)) = dir {
                out.push(ModuleDir {
                    path: path.to_string(),
                    dir,
                    anchor,
                });
            }
        }
        // Directory replacements of modules not (yet) required: Go would
        // not use them, but they cannot shadow anything that it would.
        for (r, base) in &self.replaces {
            let known = versions.iter().any(|(p, _)| *p == r.old)
                || self.main.iter().any(|(m, _)| *m == r.old);
            if !known && r.old_version.is_none() && is_dir_path(&r.new) {
                out.push(ModuleDir {
                    path: r.old.clone(),
                    dir: join_clean(base, &r.new),
                    anchor: self.root.clone(),
                });
            }
        }
        out
    }
}

/// Go settings: overrides, then the process environment, then the file
/// `go env -w` writes.
struct GoEnv<'a> {
    overrides: &'a HashMap<String, Option<String>>,
    file: HashMap<String, String>,
}

impl<'a> GoEnv<'a> {
    fn load(overrides: &'a HashMap<String, Option<String>>) -> GoEnv<'a> {
        let mut env = GoEnv {
            overrides,
            file: HashMap::new(),
        };
        let path = match env.get("GOENV") {
            Some(p) if p == "off" => None,
            Some(p) => Some(PathBuf::from(p)),
            None => env
                .get("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .or_else(|| env.get("HOME").map(|h| Path::new(&h).join(".config")))
                .map(|d| d.join("go").join("env")),
        };
        if let Some(text) = path.and_then(|p| std::fs::read_to_string(p).ok()) {
            for line in text.lines() {
                if let Some((k, v)) = line.split_once('=') {
                    let v = v.trim();
                    if !v.is_empty() {
                        env.file.insert(k.trim().to_string(), v.to_string());
                    }
                }
            }
        }
        env
    }

    fn get(&self, key: &str) -> Option<String> {
        if let Some(v) = self.overrides.get(key) {
            return v.clone().filter(|v| !v.is_empty());
        }
        match std::env::var(key) {
            Ok(v) if !v.is_empty() => Some(v),
            _ => self.file.get(key).cloned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// Writes `files` (path, contents) under a new temporary directory.
    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = t.path().join(path);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
        t
    }

    /// A builder isolated from the machine's Go settings.
    fn builder(t: &tempfile::TempDir, cwd: &str) -> SourceResolverBuilder {
        let mut b = SourceResolver::builder();
        b.cwd(t.path().join(cwd))
            .goroot(t.path().join("goroot"))
            .gomodcache(t.path().join("modcache"))
            .env("GOENV", Some("off"))
            .env("GOFLAGS", None)
            .env("GOWORK", None)
            .env("GO111MODULE", None);
        b
    }

    fn rel(t: &tempfile::TempDir, p: PathBuf) -> String {
        p.strip_prefix(t.path()).unwrap().display().to_string()
    }

    #[test]
    fn main_module_std_and_module_cache() {
        let t = tree(&[
            (
                "m/go.mod",
                "module example.com/m\n\ngo 1.22\n\nrequire (\n\tgithub.com/BurntSushi/toml v1.3.2\n\texample.com/lib v1.0.0-RC1 // indirect\n)\n",
            ),
            ("m/pkg/a.go", "package pkg"),
            ("m/main.go", "package main"),
            ("goroot/src/strings/strings.go", "package strings"),
            (
                "modcache/github.com/!burnt!sushi/toml@v1.3.2/decode.go",
                "package toml",
            ),
            (
                "modcache/example.com/lib@v1.0.0-!r!c1/sub/x.go",
                "package sub",
            ),
        ]);
        let r = builder(&t, "m/pkg").build().unwrap();
        let got = |n: &str| rel(&t, r.resolve(n).unwrap());
        assert_eq!(got("example.com/m/pkg/a.go"), "m/pkg/a.go");
        assert_eq!(got("example.com/m/main.go"), "m/main.go");
        assert_eq!(got("strings/strings.go"), "goroot/src/strings/strings.go");
        assert_eq!(
            got("github.com/BurntSushi/toml/decode.go"),
            "modcache/github.com/!burnt!sushi/toml@v1.3.2/decode.go"
        );
        assert_eq!(
            got("example.com/lib/sub/x.go"),
            "modcache/example.com/lib@v1.0.0-!r!c1/sub/x.go"
        );
        // Relative names are paths from the working directory.
        assert_eq!(got("./a.go"), "m/pkg/./a.go");
    }

    #[test]
    fn missing_files_name_the_entry_and_the_places_looked() {
        let t = tree(&[("m/go.mod", "module example.com/m\n")]);
        let r = builder(&t, "m").build().unwrap();
        let err = r
            .resolve("example.com/m/pkg/gone.go")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cannot find the source of example.com/m/pkg/gone.go: not found at "),
            "{err}"
        );
        assert!(
            err.contains(&t.path().join("m/pkg/gone.go").display().to_string()),
            "{err}"
        );
        let err = r.resolve("example.com/other/x.go").unwrap_err().to_string();
        assert!(err.contains("no source root or module provides"), "{err}");

        let r = builder(&t, "").build().unwrap();
        let err = r.resolve("example.com/m/x.go").unwrap_err().to_string();
        assert!(err.contains("no go.mod or go.work in"), "{err}");
    }

    #[test]
    fn source_roots_longest_prefix_first() {
        let t = tree(&[
            ("a/x/y/f.go", ""),
            ("b/y/f.go", ""),
            ("b/y/g.go", ""),
            ("c/example.com/x/y/h.go", ""),
        ]);
        let mut b = builder(&t, "");
        b.source_root("example.com", t.path().join("a"))
            .source_root("example.com/x/", t.path().join("b"))
            .source_root("", t.path().join("c"));
        let r = b.build().unwrap();
        let got = |n: &str| rel(&t, r.resolve(n).unwrap());
        assert_eq!(got("example.com/x/y/g.go"), "b/y/g.go");
        assert_eq!(got("example.com/x/y/f.go"), "b/y/f.go");
        // Not under the longer prefix: falls back to the shorter ones.
        assert_eq!(got("example.com/x/y/h.go"), "c/example.com/x/y/h.go");
        // Prefixes match whole path elements only.
        assert!(r.resolve("example.community/y/f.go").is_err());
    }

    #[test]
    fn replace_directives() {
        let t = tree(&[
            (
                "m/go.mod",
                "module example.com/m\ngo 1.22\nrequire (\n\texample.com/local v1.0.0\n\texample.com/fork v1.0.0\n\texample.com/pinned v1.0.0\n)\nreplace example.com/local => ../local\nreplace example.com/fork => example.com/Forked v1.2.0\nreplace example.com/pinned v0.9.0 => ../wrong\n",
            ),
            ("local/p/a.go", ""),
            ("modcache/example.com/!forked@v1.2.0/b.go", ""),
            ("modcache/example.com/pinned@v1.0.0/c.go", ""),
            ("wrong/c.go", ""),
        ]);
        let r = builder(&t, "m").build().unwrap();
        let got = |n: &str| rel(&t, r.resolve(n).unwrap());
        assert_eq!(got("example.com/local/p/a.go"), "local/p/a.go");
        assert_eq!(
            got("example.com/fork/b.go"),
            "modcache/example.com/!forked@v1.2.0/b.go"
        );
        assert_eq!(
            got("example.com/pinned/c.go"),
            "modcache/example.com/pinned@v1.0.0/c.go"
        );
    }

    #[test]
    fn vendor_mode_and_nested_modules() {
        let files = [
            (
                "m/go.mod",
                "module example.com/m\ngo 1.22\nrequire example.com/dep v1.0.0\nrequire example.com/m/nested v1.0.0\n",
            ),
            (
                "m/vendor/modules.txt",
                "# example.com/dep v1.0.0\nexample.com/dep\n",
            ),
            ("m/vendor/example.com/dep/d.go", ""),
            ("modcache/example.com/dep@v1.0.0/d.go", ""),
            ("modcache/example.com/m/nested@v1.0.0/n.go", ""),
            ("m/nested/n.go", ""),
        ];
        let t = tree(&files);
        let r = builder(&t, "m").build().unwrap();
        assert_eq!(
            rel(&t, r.resolve("example.com/dep/d.go").unwrap()),
            "m/vendor/example.com/dep/d.go"
        );

        let mut b = builder(&t, "m");
        b.env("GOFLAGS", Some("-buildvcs=false -mod=mod"));
        let r = b.build().unwrap();
        let got = |n: &str| rel(&t, r.resolve(n).unwrap());
        assert_eq!(
            got("example.com/dep/d.go"),
            "modcache/example.com/dep@v1.0.0/d.go"
        );
        // The longer module path wins over the main module.
        assert_eq!(
            got("example.com/m/nested/n.go"),
            "modcache/example.com/m/nested@v1.0.0/n.go"
        );
    }

    #[test]
    fn workspaces() {
        let t = tree(&[
            ("w/go.work", "go 1.23\n\nuse (\n\t./a\n\t./b\n)\n"),
            (
                "w/a/go.mod",
                "module example.com/a\nrequire example.com/b v0.0.0\nrequire example.com/dep v1.1.0\n",
            ),
            (
                "w/b/go.mod",
                "module example.com/b\nrequire example.com/dep v1.2.0\n",
            ),
            ("w/a/x.go", ""),
            ("w/b/q/y.go", ""),
            ("modcache/example.com/dep@v1.2.0/z.go", ""),
        ]);
        let r = builder(&t, "w/a").build().unwrap();
        let got = |n: &str| rel(&t, r.resolve(n).unwrap());
        assert_eq!(got("example.com/a/x.go"), "w/a/x.go");
        assert_eq!(got("example.com/b/q/y.go"), "w/b/q/y.go");
        assert_eq!(
            got("example.com/dep/z.go"),
            "modcache/example.com/dep@v1.2.0/z.go"
        );

        let mut b = builder(&t, "w/a");
        b.env("GOWORK", Some("off"));
        let r = b.build().unwrap();
        assert!(r.resolve("example.com/b/q/y.go").is_err());
    }

    #[test]
    fn gopath_mode() {
        let t = tree(&[("gp/src/example.com/old/o.go", "")]);
        let mut b = builder(&t, "");
        b.env("GO111MODULE", Some("off"))
            .env("GOPATH", Some(t.path().join("gp").to_str().unwrap()));
        let r = b.build().unwrap();
        assert_eq!(
            rel(&t, r.resolve("example.com/old/o.go").unwrap()),
            "gp/src/example.com/old/o.go"
        );
    }

    /// Issue 10, item 1: what a report may embed.
    #[test]
    fn read_source_stays_inside_the_trusted_directories() {
        let t = tree(&[
            (
                "w/m/go.mod",
                "module example.com/m\ngo 1.22\nrequire (\n\texample.com/in v1.0.0\n\texample.com/out v1.0.0\n)\nreplace example.com/in => ./staging/in\nreplace example.com/out => ../../elsewhere\n",
            ),
            ("w/m/pkg/a.go", "package pkg // A"),
            ("w/m/pkg/notes.txt", "notes"),
            ("w/m/staging/in/i.go", "package in"),
            ("elsewhere/e.go", "package out // SECRET"),
            ("goroot/src/strings/strings.go", "package strings"),
            ("root/example.com/r/r.go", "package r"),
        ]);
        let link = t.path().join("w/m/pkg/link.go");
        std::os::unix::fs::symlink(t.path().join("elsewhere/e.go"), &link).unwrap();
        std::os::unix::fs::symlink("a.go", t.path().join("w/m/pkg/same.go")).unwrap();
        let fifo = t.path().join("w/m/pkg/fifo.go");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let mut b = builder(&t, "w/m");
        b.source_root("", t.path().join("root"));
        let r = b.build().unwrap();
        let read = |n: &str| r.read_source(n).map(|(_, s)| String::from_utf8(s).unwrap());
        assert_eq!(read("example.com/m/pkg/a.go").unwrap(), "package pkg // A");
        assert_eq!(
            read("example.com/m/pkg/same.go").unwrap(),
            "package pkg // A"
        );
        assert_eq!(read("example.com/in/i.go").unwrap(), "package in");
        assert_eq!(read("strings/strings.go").unwrap(), "package strings");
        assert_eq!(read("example.com/r/r.go").unwrap(), "package r");
        let refused = |n: &str| match r.read_source(n) {
            Err(e @ Error::SourceRefused { .. }) => e.to_string(),
            other => panic!("{n}: {other:?}"),
        };
        // A link in the module pointing out of it.
        let e = refused("example.com/m/pkg/link.go");
        assert!(e.contains("elsewhere/e.go, outside "), "{e}");
        // A replacement leading out of the main module: `go tool cover`
        // reads it, a report does not.
        assert!(r.resolve("example.com/out/e.go").is_ok());
        assert!(refused("example.com/out/e.go").contains("outside"));
        assert!(refused("example.com/m/pkg/notes.txt").contains("not a Go source file"));
        // Never opened (a FIFO would block): not a file.
        assert!(r.read_source("example.com/m/pkg/fifo.go").is_err());
        // A huge file (sparse: no disk used) is refused before it is read.
        let huge = std::fs::File::create(t.path().join("w/m/pkg/huge.go")).unwrap();
        huge.set_len(MAX_SOURCE_BYTES + 1).unwrap();
        assert!(refused("example.com/m/pkg/huge.go").contains("larger than 67108864 bytes"));
        huge.set_len(MAX_SOURCE_BYTES).unwrap();
        assert_eq!(
            read("example.com/m/pkg/huge.go").unwrap().len() as u64,
            MAX_SOURCE_BYTES
        );
        let abs = t.path().join("w/m/pkg/a.go");
        assert!(r.resolve(abs.to_str().unwrap()).is_ok());
        assert!(refused(abs.to_str().unwrap()).contains("only import paths"));
        assert!(refused("./pkg/a.go").contains("only import paths"));
        for n in [
            "example.com/m/../m/pkg/a.go",
            "example.com/m/./pkg/a.go",
            "strings/../../../elsewhere/e.go",
            // Empty elements: aliases of a file another name reads (a
            // hostile profile could embed one big source once per alias).
            "example.com/m/pkg//a.go",
            "example.com/m//pkg/a.go",
            "example.com/r//r.go",
        ] {
            assert!(
                refused(n).contains("no empty, \".\" or \"..\" elements"),
                "{n}"
            );
            assert!(r.resolve(n).is_err(), "{n}");
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(strip_prefix("a/b/c", "a/b"), Some("c"));
        assert_eq!(strip_prefix("a/b", "a/b"), Some(""));
        assert_eq!(strip_prefix("a/bc", "a/b"), None);
        assert!(is_standard("net/http") && is_standard("cmd/go") && !is_standard("example.com/x"));
        assert_eq!(mod_flag(Some("-mod=vendor -x")), Some("vendor"));
        assert_eq!(mod_flag(Some("-buildvcs=false")), None);
    }
}

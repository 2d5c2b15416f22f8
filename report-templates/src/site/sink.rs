//! Where the site's files go: a local directory, memory, or (in the Prow
//! reporter) an object store.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use covlens_core::output::Staged;

/// Receives the site's files. Paths are relative, `/`-separated and made
/// by the site writer (`index.html`, `data/d0.js`), never from profile
/// data.
pub trait SiteSink {
    /// Stores `bytes` as `path`, replacing what was there.
    fn put(&mut self, path: &str, bytes: &[u8]) -> io::Result<()>;
}

/// Files kept in memory, by path: for tests, and for callers that upload
/// the site themselves.
#[derive(Debug, Default)]
pub struct MemorySink {
    /// The files written, by path.
    pub files: BTreeMap<String, Vec<u8>>,
}

impl SiteSink for MemorySink {
    fn put(&mut self, path: &str, bytes: &[u8]) -> io::Result<()> {
        self.files.insert(path.to_string(), bytes.to_vec());
        Ok(())
    }
}

/// A local directory, written all at once. Each file is staged through
/// [`covlens_core::output::Staged`] (a temporary file beside it), and
/// [`DirSink::commit`] renames them all into place in the order they came
/// (the site writer puts `index.html` last); dropped before that, the sink
/// removes its temporary files and the directories it made, so a run that
/// fails midway (a full disk) leaves the directory as it was. A link (or
/// FIFO) at a destination is replaced, not written through; a replaced
/// file keeps its permission bits, a new one gets the umask's. A
/// subdirectory that is a symbolic link is refused.
#[derive(Default)]
pub struct DirSink {
    root: PathBuf,
    staged: Vec<Staged>,
    /// Directories this sink made, parents first.
    made: Vec<PathBuf>,
    /// Every file put, by directory.
    written: BTreeMap<PathBuf, std::collections::BTreeSet<std::ffi::OsString>>,
}

impl std::fmt::Debug for DirSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (f.debug_struct("DirSink").field("root", &self.root))
            .field("staged", &self.staged.len())
            .finish()
    }
}

impl DirSink {
    /// A sink writing below `root`, which is created if missing.
    pub fn create(root: impl Into<PathBuf>) -> io::Result<DirSink> {
        let root = root.into();
        let mut sink = DirSink::default();
        // The missing ancestors, outermost first, are made (and removed
        // again if nothing is committed).
        let mut missing = Vec::new();
        let mut dir = root.as_path();
        while !dir.as_os_str().is_empty() && fs::symlink_metadata(dir).is_err() {
            missing.push(dir.to_path_buf());
            dir = dir.parent().unwrap_or(Path::new(""));
        }
        for d in missing.into_iter().rev() {
            fs::create_dir(&d)?;
            sink.made.push(d);
        }
        if !fs::metadata(&root)?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} is not a directory", root.display()),
            ));
        }
        sink.root = root;
        Ok(sink)
    }

    /// Renames every staged file into place, in the order they were put,
    /// then removes the site files of an earlier run that this one did not
    /// write (`data/f12.js` of a file no longer in the report, which an
    /// old link would still open). Only names the site writer uses go:
    /// anything else in the directory stays.
    pub fn commit(mut self) -> io::Result<()> {
        for f in std::mem::take(&mut self.staged) {
            f.commit().map_err(io_error)?;
        }
        self.made.clear();
        for (dir, names) in &self.written {
            let Ok(rel) = dir.strip_prefix(&self.root) else {
                continue;
            };
            for e in fs::read_dir(dir)? {
                let e = e?;
                let name = e.file_name();
                if !names.contains(&name)
                    && name.to_str().is_some_and(|n| site_file_name(rel, n))
                    && !e.file_type()?.is_dir()
                {
                    fs::remove_file(e.path())?;
                }
            }
        }
        Ok(())
    }

    /// The directory for `rel`'s parent, created as needed, refusing
    /// anything but plain names and real directories.
    fn parent_dir(&mut self, rel: &Path) -> io::Result<PathBuf> {
        let mut dir = self.root.clone();
        let parent = rel.parent().unwrap_or(Path::new(""));
        for c in parent.components() {
            let Component::Normal(name) = c else {
                return Err(bad_path(rel));
            };
            dir.push(name);
            match fs::symlink_metadata(&dir) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        format!("{} is not a directory", dir.display()),
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    fs::create_dir(&dir)?;
                    self.made.push(dir.clone());
                }
                Err(e) => return Err(e),
            }
        }
        Ok(dir)
    }
}

impl Drop for DirSink {
    fn drop(&mut self) {
        // Uncommitted: the temporary files go first, then the directories
        // made for them, innermost first (only if empty).
        self.staged.clear();
        for d in self.made.iter().rev() {
            let _ = fs::remove_dir(d);
        }
    }
}

/// The library's error as an `io::Error` of the same kind.
fn io_error(e: covlens_core::Error) -> io::Error {
    let kind = std::error::Error::source(&e)
        .and_then(|s| s.downcast_ref::<io::Error>())
        .map_or(io::ErrorKind::Other, io::Error::kind);
    io::Error::new(kind, e)
}

/// Whether the site writer gives its files this name in directory `dir`
/// (relative to the site): `index.html` at the top, and in `data/`
/// `search.js`, `dN.js` and `fN.js`.
fn site_file_name(dir: &Path, name: &str) -> bool {
    let numbered = |p: char| {
        (name.strip_prefix(p).and_then(|n| n.strip_suffix(".js")))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    if dir.as_os_str().is_empty() {
        name == "index.html"
    } else {
        dir == Path::new("data") && (name == "search.js" || numbered('d') || numbered('f'))
    }
}

fn bad_path(rel: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("not a plain relative path: {}", rel.display()),
    )
}

impl SiteSink for DirSink {
    fn put(&mut self, path: &str, bytes: &[u8]) -> io::Result<()> {
        let rel = Path::new(path);
        let Some(name) = rel.file_name() else {
            return Err(bad_path(rel));
        };
        let dir = self.parent_dir(rel)?;
        let staged = Staged::new(&dir.join(name), bytes).map_err(io_error)?;
        self.staged.push(staged);
        (self.written.entry(dir).or_default()).insert(name.to_os_string());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_links_instead_of_following_them() {
        let d = tempfile::tempdir().unwrap();
        let outside = d.path().join("outside");
        fs::write(&outside, "keep").unwrap();
        let site = d.path().join("site");
        fs::create_dir_all(site.join("data")).unwrap();
        std::os::unix::fs::symlink(&outside, site.join("index.html")).unwrap();
        let mut s = DirSink::create(&site).unwrap();
        s.put("index.html", b"page").unwrap();
        s.put("data/d0.js", b"js").unwrap();
        s.commit().unwrap();
        assert_eq!(fs::read_to_string(&outside).unwrap(), "keep");
        assert_eq!(fs::read_to_string(site.join("index.html")).unwrap(), "page");
        assert!(
            !fs::symlink_metadata(site.join("index.html"))
                .unwrap()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(site.join("data/d0.js")).unwrap(), "js");
    }

    #[test]
    fn refuses_linked_directories_and_odd_paths() {
        let d = tempfile::tempdir().unwrap();
        let elsewhere = d.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        let site = d.path().join("site");
        fs::create_dir(&site).unwrap();
        std::os::unix::fs::symlink(&elsewhere, site.join("data")).unwrap();
        let mut s = DirSink::create(&site).unwrap();
        assert!(s.put("data/d0.js", b"x").is_err());
        assert!(s.put("../x", b"x").is_err());
        assert!(s.put("/abs", b"x").is_err());
        assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
    }

    #[test]
    fn a_failure_midway_leaves_the_directory_as_it_was() {
        let d = tempfile::tempdir().unwrap();
        let site = d.path().join("site");
        fs::create_dir(&site).unwrap();
        fs::write(site.join("index.html"), "old page").unwrap();
        fs::write(site.join("f"), "a file where a directory goes").unwrap();
        let names = |dir: &Path| {
            let mut v: Vec<_> = walk(dir);
            v.sort();
            v
        };
        let before = names(d.path());
        {
            let mut s = DirSink::create(&site).unwrap();
            s.put("data/d0.js", b"js").unwrap();
            s.put("data/deep/d1.js", b"js").unwrap();
            s.put("index.html", b"new page").unwrap();
            assert!(s.put("f/x.js", b"x").is_err());
            // Nothing is in place before the commit.
            assert_eq!(
                fs::read_to_string(site.join("index.html")).unwrap(),
                "old page"
            );
        }
        assert_eq!(names(d.path()), before);
        assert_eq!(
            fs::read_to_string(site.join("index.html")).unwrap(),
            "old page"
        );

        // A new output directory, and its missing parents, go too.
        let new = d.path().join("a/b/site");
        let mut s = DirSink::create(&new).unwrap();
        s.put("data/d0.js", b"js").unwrap();
        drop(s);
        assert_eq!(names(d.path()), before);

        let mut s = DirSink::create(&new).unwrap();
        s.put("data/d0.js", b"js").unwrap();
        s.put("index.html", b"page").unwrap();
        s.commit().unwrap();
        assert_eq!(fs::read_to_string(new.join("data/d0.js")).unwrap(), "js");
        assert_eq!(fs::read_to_string(new.join("index.html")).unwrap(), "page");
    }

    #[test]
    fn an_earlier_runs_site_files_go_and_nothing_else() {
        let d = tempfile::tempdir().unwrap();
        let site = d.path().join("site");
        let mut s = DirSink::create(&site).unwrap();
        for f in [
            "data/d0.js",
            "data/d1.js",
            "data/f0.js",
            "data/f7.js",
            "data/search.js",
            "index.html",
        ] {
            s.put(f, b"old").unwrap();
        }
        s.commit().unwrap();
        for f in [
            "data/notes.txt",
            "data/f.js",
            "data/f7.jsx",
            "notes.html",
            "d3.js",
        ] {
            fs::write(site.join(f), "mine").unwrap();
        }
        fs::create_dir(site.join("data/f9.js")).unwrap();
        let mut s = DirSink::create(&site).unwrap();
        for f in ["data/d0.js", "data/f0.js", "index.html"] {
            s.put(f, b"new").unwrap();
        }
        s.commit().unwrap();
        let mut left: Vec<String> = walk(&site)
            .iter()
            .map(|p| p.strip_prefix(&site).unwrap().display().to_string())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "d3.js",
                "data",
                "data/d0.js",
                "data/f.js",
                "data/f0.js",
                "data/f7.jsx",
                "data/f9.js",
                "data/notes.txt",
                "index.html",
                "notes.html"
            ]
        );
    }

    /// Every path below `dir`, temporary files included.
    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if fs::symlink_metadata(&p).unwrap().is_dir() {
                out.extend(walk(&p));
            }
            out.push(p);
        }
        out
    }
}

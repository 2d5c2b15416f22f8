//! Where the site's files go: a local directory, memory, or (in the Prow
//! reporter) an object store.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

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

/// A local directory. Each file goes through
/// [`covlens_core::output::replace_file`]: written to a temporary file
/// beside it and renamed into place, so a reader never sees half a file,
/// and a symbolic link (or FIFO) at the destination is replaced, not
/// written through; a replaced file keeps its permission bits, a new one
/// gets the umask's. A subdirectory that is a symbolic link is refused.
#[derive(Debug)]
pub struct DirSink {
    root: PathBuf,
}

impl DirSink {
    /// A sink writing below `root`, which is created if missing.
    pub fn create(root: impl Into<PathBuf>) -> io::Result<DirSink> {
        let root = root.into();
        fs::create_dir_all(&root)?;
        Ok(DirSink { root })
    }

    /// The directory for `rel`'s parent, created as needed, refusing
    /// anything but plain names and real directories.
    fn parent_dir(&self, rel: &Path) -> io::Result<PathBuf> {
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
                Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir(&dir)?,
                Err(e) => return Err(e),
            }
        }
        Ok(dir)
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
        covlens_core::output::replace_file(&dir.join(name), bytes).map_err(|e| {
            let kind = std::error::Error::source(&e)
                .and_then(|s| s.downcast_ref::<io::Error>())
                .map_or(io::ErrorKind::Other, io::Error::kind);
            io::Error::new(kind, e)
        })
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
}

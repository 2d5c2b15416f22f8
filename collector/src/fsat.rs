//! Files on directories others can write to (the shared volume, a shared
//! destination), reached without following links planted there.
//!
//! A directory is opened once ([`DirFd`]) and everything inside it is
//! opened, created, renamed and removed relative to that descriptor, with
//! `O_NOFOLLOW`: a symlink planted in place of a file or subdirectory makes
//! the operation fail (and says so) instead of redirecting it, and renaming
//! or replacing the directory itself afterwards changes nothing for the
//! collector. New files are created under fresh random names with
//! `O_EXCL` and renamed into place, so nothing that already exists is ever
//! opened for writing. Every descriptor is `O_CLOEXEC`.

use std::ffi::OsStr;
use std::fs::{File, Metadata, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};

use crate::error::esc;

/// A link found where a file or directory was expected.
#[derive(Debug)]
struct PlantedLink(PathBuf);

impl std::fmt::Display for PlantedLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is a symbolic link; links on shared directories are not followed",
            esc(&self.0)
        )
    }
}

impl std::error::Error for PlantedLink {}

fn link_error(what: &Path) -> io::Error {
    io::Error::other(PlantedLink(what.to_path_buf()))
}

/// Whether `e` reports a link that was not followed.
pub(crate) fn is_link_error(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<PlantedLink>())
}

/// Whether `e` is what `O_NOFOLLOW` reports for a link (`ELOOP`; with
/// `O_DIRECTORY`, some kernels say `ENOTDIR`).
fn maybe_link(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ELOOP) | Some(libc::ENOTDIR) | Some(libc::EMLINK)
    )
}

/// The user the collector runs as.
pub(crate) fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Opens a file on a shared directory for reading: not through a link at
/// its last component (`O_NOFOLLOW`), without blocking on a FIFO
/// (`O_NONBLOCK`), and only if it is a regular file. Returns it with its
/// metadata (fstat of the open file, so they describe what is read).
pub(crate) fn open_source(path: &Path) -> io::Result<(File, Metadata)> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                link_error(path)
            } else {
                e
            }
        })?;
    let m = f.metadata()?;
    if !m.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", esc(path)),
        ));
    }
    Ok((f, m))
}

/// A directory opened once; what is inside is reached relative to it.
#[derive(Clone, Debug)]
pub(crate) struct DirFd {
    fd: Arc<OwnedFd>,
    /// Where it was opened, for messages only.
    path: PathBuf,
}

/// Entries of a directory: (name, is a directory, is a regular file).
pub(crate) type Entries = Vec<(String, bool, bool)>;

impl DirFd {
    /// Opens `path` as a directory. Links in `path` are followed: it is the
    /// operator's (a `--dest` or `--staging` option); use
    /// [`DirFd::open_nofollow`] where its last component could be planted.
    pub(crate) fn open(path: &Path) -> io::Result<DirFd> {
        let fd = rustix::fs::open(path, dir_flags(), Mode::empty())?;
        Ok(DirFd {
            fd: Arc::new(fd),
            path: path.to_path_buf(),
        })
    }

    /// Opens `path` as a directory, failing if its last component is a link.
    pub(crate) fn open_nofollow(path: &Path) -> io::Result<DirFd> {
        match rustix::fs::open(path, dir_flags() | OFlags::NOFOLLOW, Mode::empty()) {
            Ok(fd) => Ok(DirFd {
                fd: Arc::new(fd),
                path: path.to_path_buf(),
            }),
            Err(e) => {
                let e = io::Error::from(e);
                if maybe_link(&e)
                    && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
                {
                    return Err(link_error(path));
                }
                Err(e)
            }
        }
    }

    /// Where it was opened (for messages).
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The path of an entry (for messages).
    pub(crate) fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// fstat of the directory.
    pub(crate) fn stat(&self) -> io::Result<Stat> {
        Ok(rustix::fs::fstat(&*self.fd)?)
    }

    /// An error for `name` after `e`: a link, if it is one.
    fn explain(&self, name: &str, e: rustix::io::Errno) -> io::Error {
        let e = io::Error::from(e);
        if maybe_link(&e) && self.is_link(name) {
            link_error(&self.join(name))
        } else {
            e
        }
    }

    fn is_link(&self, name: &str) -> bool {
        rustix::fs::statat(&*self.fd, name, AtFlags::SYMLINK_NOFOLLOW)
            .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink)
    }

    /// The subdirectory `name`, never through a link; created with `mode`
    /// (less the umask) if missing and `create` is set.
    pub(crate) fn subdir(&self, name: &str, create: Option<u32>) -> io::Result<DirFd> {
        let path = self.join(name);
        let open = || {
            rustix::fs::openat(
                &*self.fd,
                name,
                dir_flags() | OFlags::NOFOLLOW,
                Mode::empty(),
            )
        };
        let fd = match (open(), create) {
            (Ok(fd), _) => fd,
            (Err(rustix::io::Errno::NOENT), Some(mode)) => {
                match rustix::fs::mkdirat(&*self.fd, name, Mode::from_raw_mode(mode)) {
                    Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                    Err(e) => return Err(self.explain(name, e)),
                }
                open().map_err(|e| self.explain(name, e))?
            }
            (Err(e), _) => return Err(self.explain(name, e)),
        };
        Ok(DirFd {
            fd: Arc::new(fd),
            path,
        })
    }

    /// lstat of an entry; `None` if there is none.
    pub(crate) fn entry(&self, name: &str) -> io::Result<Option<Stat>> {
        match rustix::fs::statat(&*self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(st)),
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Opens a regular file for reading, never through a link.
    pub(crate) fn open_file(&self, name: &str) -> io::Result<File> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&*self.fd, name, flags, Mode::empty())
            .map_err(|e| self.explain(name, e))?;
        let f = File::from(fd);
        if !f.metadata()?.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a regular file", esc(&self.join(name))),
            ));
        }
        Ok(f)
    }

    /// Opens `name` for reading and writing, creating it with `mode` if
    /// missing; never through a link, and never truncating.
    pub(crate) fn open_or_create(&self, name: &str, mode: u32) -> io::Result<File> {
        let flags = OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&*self.fd, name, flags, Mode::from_raw_mode(mode))
            .map_err(|e| self.explain(name, e))?;
        Ok(File::from(fd))
    }

    /// Replaces `name` atomically: `fill` writes the content into a new
    /// file (fresh random name, `O_EXCL`, `mode` less the umask) and
    /// returns false to give up; then fsync, rename over `name` (which
    /// replaces a link there rather than following it) and a sync of the
    /// directory. Nothing is left behind unless it succeeded.
    pub(crate) fn replace(
        &self,
        name: &str,
        mode: u32,
        fill: impl FnOnce(&mut File) -> io::Result<bool>,
    ) -> io::Result<bool> {
        let (mut f, tmp) = self.create_temp(name, mode)?;
        let res = (|| {
            if !fill(&mut f)? {
                return Ok(false);
            }
            f.sync_all()?;
            drop(f);
            rustix::fs::renameat(&*self.fd, tmp.as_str(), &*self.fd, name)
                .map_err(|e| self.explain(name, e))?;
            // Persist the rename; not every filesystem can sync a directory.
            let _ = rustix::fs::fsync(&*self.fd);
            Ok(true)
        })();
        if !matches!(res, Ok(true)) {
            let _ = rustix::fs::unlinkat(&*self.fd, tmp.as_str(), AtFlags::empty());
        }
        res
    }

    /// A new file `.<name>.tmp.<pid>.<random>`, created exclusively.
    fn create_temp(&self, name: &str, mode: u32) -> io::Result<(File, String)> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut last = None;
        for _ in 0..8 {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(SEQ.fetch_add(1, Ordering::Relaxed));
            let tmp = format!(".{name}.tmp.{}.{:016x}", std::process::id(), h.finish());
            match rustix::fs::openat(&*self.fd, tmp.as_str(), flags, Mode::from_raw_mode(mode)) {
                Ok(fd) => return Ok((File::from(fd), tmp)),
                // Something is there already (planted?): another name.
                Err(rustix::io::Errno::EXIST) => last = Some(rustix::io::Errno::EXIST),
                Err(e) => return Err(self.explain(name, e)),
            }
        }
        Err(last.unwrap_or(rustix::io::Errno::EXIST).into())
    }

    /// Removes the file (or link) `name`; a missing one is not an error.
    pub(crate) fn remove(&self, name: &str) -> io::Result<()> {
        match rustix::fs::unlinkat(&*self.fd, name, AtFlags::empty()) {
            Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The entries (without `.` and `..`).
    pub(crate) fn entries(&self) -> io::Result<Entries> {
        let mut out = Vec::new();
        for ent in rustix::fs::Dir::read_from(&*self.fd)? {
            let ent = ent?;
            let name = OsStr::from_bytes(ent.file_name().to_bytes());
            if name == "." || name == ".." {
                continue;
            }
            let name = name.to_string_lossy().into_owned();
            let ft = match ent.file_type() {
                FileType::Unknown => match self.entry(&name)? {
                    Some(st) => FileType::from_raw_mode(st.st_mode),
                    None => continue,
                },
                t => t,
            };
            out.push((name, ft == FileType::Directory, ft == FileType::RegularFile));
        }
        Ok(out)
    }
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::fs::symlink;

    #[test]
    fn links_are_never_followed() {
        let t = tempfile::tempdir().unwrap();
        let d = DirFd::open(t.path()).unwrap();
        let victim = t.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        std::fs::create_dir(t.path().join("vdir")).unwrap();
        symlink(&victim, t.path().join("f")).unwrap();
        symlink(t.path().join("vdir"), t.path().join("sub")).unwrap();
        for e in [
            d.open_file("f").unwrap_err(),
            d.open_or_create("f", 0o600).unwrap_err(),
            d.subdir("sub", Some(0o700)).unwrap_err(),
            DirFd::open_nofollow(&t.path().join("sub")).unwrap_err(),
            open_source(&t.path().join("f")).unwrap_err(),
        ] {
            assert!(
                is_link_error(&e) && e.to_string().contains("symbolic link"),
                "{e}"
            );
        }
        // Replacing a link replaces the link, not its target.
        assert!(
            d.replace("f", 0o600, |f| f.write_all(b"new").map(|()| true))
                .unwrap()
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        let mut s = String::new();
        d.open_file("f").unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, "new");
        // A failed fill leaves nothing behind.
        assert!(!d.replace("g", 0o600, |_| Ok(false)).unwrap());
        let mut names: Vec<_> = d.entries().unwrap().into_iter().map(|e| e.0).collect();
        names.sort();
        assert_eq!(names, ["f", "sub", "vdir", "victim"]);
        d.remove("sub").unwrap();
        d.remove("sub").unwrap();
        assert!(t.path().join("vdir").is_dir());
    }

    #[test]
    fn sources_must_be_regular_files() {
        let t = tempfile::tempdir().unwrap();
        let fifo = t.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        // Does not block, and is refused.
        let e = open_source(&fifo).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let e = open_source(t.path()).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }
}

//! Output files that appear whole or not at all: the one place that
//! writes output files, for the CLI, the report site and the reporter.
//!
//! What a name is decides how it is written:
//!
//! * a descriptor (`-`, `/dev/stdout`, `/dev/fd/N`, a link to
//!   `/proc/self/fd/N`) is written directly, at its offset (so `>>`
//!   appends), never replaced;
//! * an existing character or block device, FIFO or socket is written in
//!   place;
//! * a regular file, or a new name, is written to a temporary file in the
//!   same directory and renamed into place by [`Output::commit`], so a failed
//!   or interrupted run never leaves a half-written file. A replaced file
//!   keeps its permission bits (and owner and group where allowed); a new
//!   one gets `0666` less the umask, as a shell redirection would.
//!
//! [`Output::create`] (`-o NAME`) follows a link to a regular file and
//! replaces the file it points to. [`Output::replace`] and [`replace_file`]
//! never follow: they are for names inside an output directory, where a
//! link or FIFO planted under a name the writer uses is replaced, never
//! written through.
//!
//! On a terminal (standard output or a descriptor that is one), control
//! characters in the text are written escaped, so names from profiles
//! cannot drive the terminal (see [`crate::printable`]); files and pipes
//! get the bytes as they are.
//!
//! Every live temporary file is registered, so a process ended by a
//! signal can remove them first: see [`abandon_temporaries`].

use std::fs;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::error::Error;
use crate::printable::TerminalSafe;

/// Where a command writes: see the [module docs](self).
pub struct Output(Dest);

enum Dest {
    Stdout(BufWriter<io::Stdout>),
    /// Standard output or a descriptor that is a terminal: controls in
    /// the text are shown escaped (see [`crate::printable`]).
    Terminal(TerminalSafe<BufWriter<Box<dyn Write + Send>>>),
    /// A descriptor or an existing non-regular file: written in place,
    /// never replaced.
    Direct(BufWriter<fs::File>),
    File {
        tmp: Temp,
        dest: PathBuf,
        buf: Vec<u8>,
    },
}

/// Small writes are gathered up to this many bytes before they go out.
const GATHER: usize = 1 << 20;

impl Output {
    /// An output for `-o path`: `-` is standard output, see the
    /// [module docs](self) for the rest.
    pub fn create(path: &str) -> Result<Output, Error> {
        if path == "-" {
            if io::stdout().is_terminal() {
                return Ok(Output::terminal(Box::new(io::stdout())));
            }
            widen_stdout_pipe();
            return Ok(Output(Dest::Stdout(BufWriter::with_capacity(
                1 << 16,
                io::stdout(),
            ))));
        }
        Output::follow(Path::new(path))
    }

    fn terminal(w: Box<dyn Write + Send>) -> Output {
        Output(Dest::Terminal(TerminalSafe::new(BufWriter::with_capacity(
            1 << 16,
            w,
        ))))
    }

    /// Writes in place to `f`, escaping controls if it is a terminal.
    fn direct(f: fs::File) -> Output {
        if f.is_terminal() {
            return Output::terminal(Box::new(f));
        }
        Output(Dest::Direct(BufWriter::with_capacity(1 << 16, f)))
    }

    /// An output for the file at `dest` (`-` is a file name here) that
    /// follows links, as [`create`](Output::create) does.
    fn follow(dest: &Path) -> Result<Output, Error> {
        let cannot = |e| Error::write(format!("cannot write {}", dest.display()), e);
        if let Some(fd) = descriptor_of(dest) {
            return Ok(Output::direct(dup_descriptor(fd).map_err(cannot)?));
        }
        match fs::metadata(dest) {
            Ok(m) if m.is_file() => {
                let is_link = fs::symlink_metadata(dest).is_ok_and(|l| l.file_type().is_symlink());
                let real = if is_link {
                    fs::canonicalize(dest).map_err(cannot)?
                } else {
                    dest.to_path_buf()
                };
                Output::temp_for(&real, Some(&m))
            }
            Ok(m) if m.is_dir() => Err(cannot(io::Error::new(
                io::ErrorKind::IsADirectory,
                "it is a directory",
            ))),
            Ok(_) => {
                let f = fs::OpenOptions::new()
                    .write(true)
                    .open(dest)
                    .map_err(|e| Error::write(format!("cannot open {}", dest.display()), e))?;
                Ok(Output::direct(f))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if fs::symlink_metadata(dest).is_ok() {
                    return Err(cannot(io::Error::new(
                        io::ErrorKind::NotFound,
                        "it is a symbolic link to nothing",
                    )));
                }
                Output::temp_for(dest, None)
            }
            Err(e) => Err(cannot(e)),
        }
    }

    /// An output that replaces `dest` through a temporary file renamed
    /// into place, whatever `dest` is now (a link, a FIFO, a device
    /// node), never writing through it; only a directory is refused. For
    /// names inside an output directory.
    pub fn replace(dest: &Path) -> Result<Output, Error> {
        match fs::symlink_metadata(dest) {
            Ok(m) if m.is_dir() => Err(Error::write(
                format!("cannot write {}", dest.display()),
                io::Error::new(io::ErrorKind::IsADirectory, "it is a directory"),
            )),
            Ok(m) if m.is_file() => Output::temp_for(dest, Some(&m)),
            _ => Output::temp_for(dest, None),
        }
    }

    /// A temporary file beside `dest`, with the mode of `keep` (the file
    /// being replaced) or the umask's.
    fn temp_for(dest: &Path, keep: Option<&fs::Metadata>) -> Result<Output, Error> {
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let tmp = Temp::new_in(dir, keep).map_err(|e| {
            Error::write(
                format!("cannot create a temporary file in {}", dir.display()),
                e,
            )
        })?;
        Ok(Output(Dest::File {
            tmp,
            dest: dest.to_path_buf(),
            buf: Vec::new(),
        }))
    }

    /// Flushes and, for files, renames the temporary file into place.
    /// Dropping an output without committing it removes the temporary
    /// file and leaves the destination as it was.
    pub fn commit(self) -> Result<(), Error> {
        match self.0 {
            Dest::Stdout(mut w) => w
                .flush()
                .map_err(|e| Error::write("cannot write to standard output", e)),
            Dest::Direct(mut w) => w
                .flush()
                .map_err(|e| Error::write("cannot write output", e)),
            Dest::Terminal(mut w) => w
                .flush()
                .map_err(|e| Error::write("cannot write to the terminal", e)),
            Dest::File { mut tmp, dest, buf } => {
                let failed = |e| Error::write(format!("cannot write {}", dest.display()), e);
                tmp.file().write_all(&buf).map_err(failed)?;
                tmp.persist(&dest).map_err(failed)
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match &mut self.0 {
            Dest::Stdout(w) => w.write(data),
            Dest::Direct(w) => w.write(data),
            Dest::Terminal(w) => w.write(data),
            Dest::File { tmp, buf, .. } => {
                // Gather small writes; large ones go straight to the file.
                if buf.len() + data.len() > GATHER {
                    tmp.file().write_all(buf)?;
                    buf.clear();
                    if data.len() > GATHER / 2 {
                        return tmp.file().write(data);
                    }
                }
                buf.extend_from_slice(data);
                Ok(data.len())
            }
        }
    }

    /// Large gathers go to a file in one call, without a copy (the
    /// streaming merge writes its pieces so).
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match &mut self.0 {
            Dest::Stdout(w) => w.write_vectored(bufs),
            Dest::Direct(w) => w.write_vectored(bufs),
            Dest::Terminal(w) => w.write_vectored(bufs),
            Dest::File { tmp, buf, .. } => {
                let total: usize = bufs.iter().map(|b| b.len()).sum();
                if buf.len() + total <= GATHER {
                    for b in bufs {
                        buf.extend_from_slice(b);
                    }
                    return Ok(total);
                }
                if !buf.is_empty() {
                    tmp.file().write_all(buf)?;
                    buf.clear();
                }
                tmp.file().write_vectored(bufs)
            }
        }
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        let mut d = data;
        while !d.is_empty() {
            let n = self.write(d)?;
            d = &d[n..];
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.0 {
            Dest::Stdout(w) => w.flush(),
            Dest::Direct(w) => w.flush(),
            Dest::Terminal(w) => w.flush(),
            Dest::File { .. } => Ok(()),
        }
    }
}

/// Writes `bytes` to `path` as [`Output::create`] would (`-` is a file
/// name here, not stdout): a regular file is replaced whole, a link to one
/// is followed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_all(Output::follow(path)?, path, bytes)
}

/// Replaces `path` with `bytes` through a temporary file renamed into
/// place, never following a link or writing into a special file found
/// there (see [`Output::replace`]); for files inside an output directory.
pub fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_all(Output::replace(path)?, path, bytes)
}

fn write_all(mut o: Output, path: &Path, bytes: &[u8]) -> Result<(), Error> {
    o.write_all(bytes)
        .map_err(|e| Error::write(format!("cannot write {}", path.display()), e))?;
    o.commit()
}

/// A file written whole beside `path`, as [`replace_file`] writes it, and
/// closed, but not yet renamed into place: a writer of many files stages
/// them all, then commits them, so a run that fails midway (a full disk)
/// changes none of them. Dropped uncommitted, the temporary file goes.
pub struct Staged {
    tmp: Temp,
    dest: PathBuf,
}

impl Staged {
    /// Writes `bytes` for `path` (never following a link or writing into a
    /// special file found there, as [`replace_file`]).
    pub fn new(path: &Path, bytes: &[u8]) -> Result<Staged, Error> {
        let failed = |e| Error::write(format!("cannot write {}", path.display()), e);
        let Output(Dest::File { mut tmp, dest, .. }) = Output::replace(path)? else {
            unreachable!("Output::replace always writes through a temporary file")
        };
        tmp.file().write_all(bytes).map_err(failed)?;
        tmp.close();
        Ok(Staged { tmp, dest })
    }

    /// Renames the file into place.
    pub fn commit(self) -> Result<(), Error> {
        let dest = self.dest;
        (self.tmp.persist(&dest))
            .map_err(|e| Error::write(format!("cannot write {}", dest.display()), e))
    }
}

/// Paths of the temporary files not yet renamed or removed.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Removes every temporary file of this process's outputs and keeps new
/// ones from being created (the registry stays locked, so a thread that
/// tries waits), for a process about to end on a signal: call it from the
/// thread that handles the signal, then re-raise the signal. Not for a
/// signal handler itself (it takes a lock and allocates).
pub fn abandon_temporaries() {
    let live = live();
    for p in live.iter() {
        let _ = fs::remove_file(p);
    }
    std::mem::forget(live);
}

/// A registered temporary file: removed (and unregistered) when dropped,
/// unregistered once renamed.
struct Temp {
    /// Open until written ([`Temp::close`]).
    file: Option<fs::File>,
    /// Removes the file when dropped, unless persisted.
    name: Option<tempfile::TempPath>,
    path: PathBuf,
}

impl Temp {
    fn new_in(dir: &Path, keep: Option<&fs::Metadata>) -> io::Result<Temp> {
        let bits = keep.map_or(0o666, |m| m.mode() & 0o777);
        // Registered under the lock, so a signal that arrives meanwhile
        // finds it.
        let mut live = live();
        // The kernel applies the umask to this mode.
        let file = tempfile::Builder::new()
            .prefix(".covlens-")
            .permissions(fs::Permissions::from_mode(bits))
            .tempfile_in(dir)?;
        if let Some(m) = keep {
            let f = file.as_file();
            let now = f.metadata()?;
            if (now.uid(), now.gid()) != (m.uid(), m.gid()) {
                // Allowed for root, or for a group of the user's own.
                let _ = std::os::unix::fs::fchown(f, Some(m.uid()), Some(m.gid()));
            }
            f.set_permissions(fs::Permissions::from_mode(bits))?;
        }
        let path = file.path().to_path_buf();
        live.push(path.clone());
        let (file, name) = file.into_parts();
        Ok(Temp {
            file: Some(file),
            name: Some(name),
            path,
        })
    }

    fn file(&mut self) -> &mut fs::File {
        self.file.as_mut().expect("a temporary file until closed")
    }

    /// Closes the descriptor; the file stays until persisted or dropped.
    fn close(&mut self) {
        drop(self.file.take());
    }

    /// Renames the file to `dest`; on failure it is removed.
    fn persist(mut self, dest: &Path) -> io::Result<()> {
        self.close();
        let name = self.name.take().expect("persisted once");
        name.persist(dest).map_err(|e| e.error)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        // Removes the file (unless persisted), then forgets its name.
        self.close();
        drop(self.name.take());
        live().retain(|p| *p != self.path);
    }
}

/// The descriptor `path` names, if it is one of this process's: `/dev/fd/N`,
/// `/proc/self/fd/N`, `/proc/<our pid>/fd/N`, or a chain of links ending
/// there (`/dev/stdout`). Opening such a name would open the file anew
/// (losing the offset and `O_APPEND`) or fail for a socket; the
/// descriptor itself is written instead.
fn descriptor_of(path: &Path) -> Option<i32> {
    let mut p = std::env::current_dir().ok()?.join(path);
    // Linux follows at most 40 links in a path.
    for _ in 0..40 {
        if let Some(fd) = fd_number(&p) {
            return Some(fd);
        }
        let parent = fs::canonicalize(p.parent()?).ok()?;
        let p2 = parent.join(p.file_name()?);
        if let Some(fd) = fd_number(&p2) {
            return Some(fd);
        }
        if !fs::symlink_metadata(&p2).ok()?.file_type().is_symlink() {
            return None;
        }
        p = parent.join(fs::read_link(&p2).ok()?);
    }
    None
}

/// `N` of `/dev/fd/N`, `/proc/self/fd/N`, `/proc/thread-self/fd/N`,
/// `/proc/<our pid>/fd/N` or `/proc/<our pid>/task/<tid>/fd/N`.
fn fd_number(p: &Path) -> Option<i32> {
    let s = p.to_str()?;
    let pid = std::process::id().to_string();
    let ours = || {
        let rest = s.strip_prefix("/proc/")?.strip_prefix(pid.as_str())?;
        rest.strip_prefix("/fd/").or_else(|| {
            let (task, n) = rest.strip_prefix("/task/")?.split_once("/fd/")?;
            task.bytes().all(|b| b.is_ascii_digit()).then_some(n)
        })
    };
    let n = s
        .strip_prefix("/dev/fd/")
        .or_else(|| s.strip_prefix("/proc/self/fd/"))
        .or_else(|| s.strip_prefix("/proc/thread-self/fd/"))
        .or_else(ours)?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// A new descriptor for the open file `fd`, sharing its offset and flags.
#[allow(unsafe_code)]
fn dup_descriptor(fd: i32) -> io::Result<fs::File> {
    use std::os::fd::FromRawFd;
    // SAFETY: F_DUPFD_CLOEXEC only reads the descriptor table; an fd that
    // is not open gives EBADF, reported below.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if new < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `new` was just created by fcntl and is owned by nothing
    // else; the File closes it.
    Ok(unsafe { fs::File::from_raw_fd(new) })
}

/// When stdout is a pipe, asks for a 1 MiB pipe buffer (Linux' default
/// limit for unprivileged processes) instead of 64 KiB: a 70 MB profile
/// then crosses in ~70 round trips with the reader instead of ~1,100.
/// Best effort: any failure leaves the pipe as it was.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn widen_stdout_pipe() {
    use std::os::fd::AsRawFd;
    let fd = io::stdout().as_raw_fd();
    let Ok(meta) = fs::metadata(format!("/proc/self/fd/{fd}")) else {
        return;
    };
    if !std::os::unix::fs::FileTypeExt::is_fifo(&meta.file_type()) {
        return;
    }
    // SAFETY: F_SETPIPE_SZ takes an int argument and only changes the
    // kernel-side capacity of the pipe behind our own stdout descriptor; it
    // touches no memory of this process. Errors (EPERM, EBUSY) are ignored.
    unsafe {
        libc::fcntl(fd, libc::F_SETPIPE_SZ, 1 << 20);
    }
}

#[cfg(not(target_os = "linux"))]
fn widen_stdout_pipe() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_appear_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.txt");
        fs::write(&dest, "old").unwrap();
        let mut o = Output::create(dest.to_str().unwrap()).unwrap();
        o.write_all(&vec![b'x'; 3 << 20]).unwrap();
        // Not committed: the old content stays, no temporary file is left.
        drop(o);
        assert_eq!(fs::read(&dest).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let mut o = Output::create(dest.to_str().unwrap()).unwrap();
        for _ in 0..3 {
            o.write_all(&vec![b'y'; 700 << 10]).unwrap();
        }
        o.commit().unwrap();
        assert_eq!(fs::read(&dest).unwrap(), vec![b'y'; 3 * (700 << 10)]);
        write_atomic(&dir.path().join("-"), b"dash").unwrap();
        assert_eq!(fs::read(dir.path().join("-")).unwrap(), b"dash");
        let e = write_atomic(&dir.path().join("missing/x"), b"").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot create a temporary file in ")
        );
    }

    #[test]
    fn replace_never_follows_and_follow_does() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::write(&target, "keep").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link");
        symlink(&target, &link).unwrap();
        replace_file(&link, b"new").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"keep");
        assert_eq!(fs::read(&link).unwrap(), b"new");
        assert!(
            !fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        fs::remove_file(&link).unwrap();
        symlink(&target, &link).unwrap();
        write_atomic(&link, b"through").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"through");
        assert_eq!(fs::metadata(&target).unwrap().mode() & 0o777, 0o640);
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(!live().iter().any(|p| p.starts_with(dir.path())));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
        let e = replace_file(dir.path(), b"").unwrap_err().to_string();
        assert!(e.starts_with("cannot write "), "{e}");
    }

    #[test]
    fn descriptor_names() {
        let pid = std::process::id();
        for (p, fd) in [
            ("/dev/fd/1".to_string(), Some(1)),
            ("/proc/self/fd/12".to_string(), Some(12)),
            ("/proc/thread-self/fd/2".to_string(), Some(2)),
            (format!("/proc/{pid}/fd/3"), Some(3)),
            (format!("/proc/{pid}/task/{pid}/fd/4"), Some(4)),
            (format!("/proc/{}/fd/3", pid + 1), None),
            ("/dev/fd/".to_string(), None),
            ("/dev/fd/1x".to_string(), None),
            ("/tmp/fd/1".to_string(), None),
        ] {
            assert_eq!(fd_number(Path::new(&p)), fd, "{p}");
        }
        assert_eq!(descriptor_of(Path::new("/dev/stdout")), Some(1));
        assert_eq!(descriptor_of(Path::new("/dev/fd/2")), Some(2));
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("out");
        std::os::unix::fs::symlink("/proc/self/fd/5", &link).unwrap();
        assert_eq!(descriptor_of(&link), Some(5));
        assert_eq!(descriptor_of(&dir.path().join("plain")), None);
    }
}

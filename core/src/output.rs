//! Output files that appear whole or not at all.
//!
//! [`Output`] writes to standard output (`-`) or to a temporary file in the
//! destination's directory, renamed into place by [`Output::commit`], so a
//! failed run never leaves a half-written or empty file behind. Existing
//! special files (`/dev/null`, a FIFO, a terminal) are written in place.
//! [`write_atomic`] does the same for bytes already in memory.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::Error;

/// Where a command writes: see the [module docs](self).
pub struct Output(Dest);

enum Dest {
    Stdout(BufWriter<io::Stdout>),
    /// An existing non-regular file: written in place, never replaced.
    Special(BufWriter<fs::File>),
    File {
        tmp: tempfile::NamedTempFile,
        dest: PathBuf,
        buf: Vec<u8>,
    },
}

/// Small writes are gathered up to this many bytes before they go out.
const GATHER: usize = 1 << 20;

impl Output {
    /// An output for `path`; `-` is standard output.
    pub fn create(path: &str) -> Result<Output, Error> {
        if path == "-" {
            widen_stdout_pipe();
            return Ok(Output(Dest::Stdout(BufWriter::with_capacity(
                1 << 16,
                io::stdout(),
            ))));
        }
        Output::file(Path::new(path))
    }

    /// An output for the file at `dest` (never standard output).
    fn file(dest: &Path) -> Result<Output, Error> {
        if let Ok(meta) = fs::metadata(dest)
            && !meta.is_file()
            && !meta.is_dir()
        {
            let f = fs::OpenOptions::new()
                .write(true)
                .open(dest)
                .map_err(|e| Error::write(format!("cannot open {}", dest.display()), e))?;
            return Ok(Output(Dest::Special(BufWriter::with_capacity(1 << 16, f))));
        }
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".covlens-")
            .tempfile_in(dir)
            .map_err(|e| {
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

    /// Flushes and, for files, renames the temporary file into place
    /// (mode 0644). Dropping an output without committing it removes the
    /// temporary file and leaves the destination as it was.
    pub fn commit(self) -> Result<(), Error> {
        match self.0 {
            Dest::Stdout(mut w) => w
                .flush()
                .map_err(|e| Error::write("cannot write to standard output", e)),
            Dest::Special(mut w) => w
                .flush()
                .map_err(|e| Error::write("cannot write output", e)),
            Dest::File { mut tmp, dest, buf } => {
                let failed = |e| Error::write(format!("cannot write {}", dest.display()), e);
                tmp.write_all(&buf).map_err(failed)?;
                let perm = <fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o644);
                let _ = fs::set_permissions(tmp.path(), perm);
                tmp.persist(&dest).map_err(|e| failed(e.error))?;
                Ok(())
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match &mut self.0 {
            Dest::Stdout(w) => w.write(data),
            Dest::Special(w) => w.write(data),
            Dest::File { tmp, buf, .. } => {
                // Gather small writes; large ones go straight to the file.
                if buf.len() + data.len() > GATHER {
                    tmp.write_all(buf)?;
                    buf.clear();
                    if data.len() > GATHER / 2 {
                        return tmp.write(data);
                    }
                }
                buf.extend_from_slice(data);
                Ok(data.len())
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
            Dest::Special(w) => w.flush(),
            Dest::File { .. } => Ok(()),
        }
    }
}

/// Writes `bytes` to the file at `path` through a temporary file renamed
/// into place, as [`Output`] does (`-` is a file name here, not stdout).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut o = Output::file(path)?;
    o.write_all(bytes)
        .map_err(|e| Error::write(format!("cannot write {}", path.display()), e))?;
    o.commit()
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
}

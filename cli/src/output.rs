//! Output files that appear whole or not at all.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Where a command writes: stdout (`-`) or a file written through a temp
/// file in the same directory and renamed into place on success, so a
/// failed run never leaves a half-written or empty output behind.
pub enum Output {
    Stdout(BufWriter<io::Stdout>),
    /// An existing non-regular file (`/dev/null`, a FIFO, a terminal):
    /// written in place, never replaced.
    Special(BufWriter<fs::File>),
    File {
        tmp: tempfile::NamedTempFile,
        dest: PathBuf,
        buf: Vec<u8>,
    },
}

impl Output {
    pub fn create(path: &str) -> Result<Output> {
        if path == "-" {
            widen_stdout_pipe();
            return Ok(Output::Stdout(BufWriter::with_capacity(
                1 << 16,
                io::stdout(),
            )));
        }
        let dest = PathBuf::from(path);
        if let Ok(meta) = fs::metadata(&dest)
            && !meta.is_file()
            && !meta.is_dir()
        {
            let f = fs::OpenOptions::new()
                .write(true)
                .open(&dest)
                .with_context(|| format!("cannot open {}", dest.display()))?;
            return Ok(Output::Special(BufWriter::with_capacity(1 << 16, f)));
        }
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".covlens-")
            .tempfile_in(&dir)
            .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
        Ok(Output::File {
            tmp,
            dest,
            buf: Vec::new(),
        })
    }

    /// Flushes and, for files, renames the temp file into place.
    pub fn commit(self) -> Result<()> {
        match self {
            Output::Stdout(mut w) => w.flush().context("cannot write to standard output"),
            Output::Special(mut w) => w.flush().context("cannot write output"),
            Output::File { mut tmp, dest, buf } => {
                tmp.write_all(&buf)
                    .with_context(|| format!("cannot write {}", dest.display()))?;
                persist(tmp, &dest)
            }
        }
    }
}

fn persist(tmp: tempfile::NamedTempFile, dest: &Path) -> Result<()> {
    let perm = <fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o644);
    let _ = fs::set_permissions(tmp.path(), perm);
    tmp.persist(dest)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", dest.display()))?;
    Ok(())
}

impl Write for Output {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(data),
            Output::Special(w) => w.write(data),
            Output::File { tmp, buf, .. } => {
                // Batch small writes; large ones go straight to the file.
                if buf.len() + data.len() > (1 << 20) {
                    tmp.write_all(buf)?;
                    buf.clear();
                    if data.len() > (1 << 19) {
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
        match self {
            Output::Stdout(w) => w.flush(),
            Output::Special(w) => w.flush(),
            Output::File { .. } => Ok(()),
        }
    }
}

/// Writes `data` to `path` atomically (used for side outputs such as JSON
/// reports).
pub fn write_file(path: &str, data: &[u8]) -> Result<()> {
    let mut o = Output::create(path)?;
    o.write_all(data)?;
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

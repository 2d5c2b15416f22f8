//! Reading a file of a source tree that may be hostile: only a regular
//! file, only if the file actually opened lies inside the tree's root once
//! links are resolved, never blocking on a FIFO, and at most so many bytes.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Why [`read_within`] did not read a file.
#[derive(Debug)]
pub(crate) enum Refusal {
    Io(io::Error),
    NotAFile,
    /// The file opened is really this one.
    Outside(PathBuf),
    /// The file holds more than this many bytes.
    TooLarge(u64),
}

impl From<io::Error> for Refusal {
    fn from(e: io::Error) -> Refusal {
        Refusal::Io(e)
    }
}

/// Reads the regular file `path` if the file actually opened lies inside
/// `anchor` once both are resolved, and holds at most `max` bytes. The
/// check is made on the open file, so a link swapped in between cannot
/// redirect the read.
pub(crate) fn read_within(path: &Path, anchor: &Path, max: u64) -> Result<Vec<u8>, Refusal> {
    use std::os::unix::fs::OpenOptionsExt;
    let anchor = fs::canonicalize(anchor)?;
    // Non-blocking, so a FIFO planted in a tree cannot hang the open.
    let f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(Refusal::NotAFile);
    }
    let real = opened_path(&f, path)?;
    if !real.starts_with(&anchor) {
        return Err(Refusal::Outside(real));
    }
    // Refused unread when it is already too large.
    if meta.len() > max {
        return Err(Refusal::TooLarge(max));
    }
    let mut src = Vec::new();
    // One byte more than allowed tells a file that grew past the limit.
    f.take(max.saturating_add(1)).read_to_end(&mut src)?;
    if src.len() as u64 > max {
        return Err(Refusal::TooLarge(max));
    }
    Ok(src)
}

/// The resolved path of the open file `f`, opened as `path`: what the
/// kernel says on Linux; elsewhere `path` resolved, if it still names the
/// same file.
fn opened_path(f: &fs::File, path: &Path) -> io::Result<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        if let Ok(p) = fs::read_link(format!("/proc/self/fd/{}", f.as_raw_fd()))
            && p.is_absolute()
        {
            return Ok(p);
        }
    }
    let p = fs::canonicalize(path)?;
    let (a, b) = (fs::metadata(&p)?, f.metadata()?);
    if (a.dev(), a.ino()) == (b.dev(), b.ino()) {
        Ok(p)
    } else {
        Err(io::Error::other(
            "the file was replaced while it was opened",
        ))
    }
}

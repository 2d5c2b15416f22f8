//! The one place covlens maps files into memory.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;

use memmap2::{Mmap, UncheckedAdvice};

/// Maps a finished input file read-only.
pub(crate) fn map(file: &File) -> io::Result<Mmap> {
    // SAFETY: the map is only read. If another process truncated the file
    // while we read it the access would fault (SIGBUS); callers pass only
    // finished inputs (profiles given on the command line), never a file a
    // running program is rewriting, and `--no-mmap` avoids mapping entirely.
    let map = unsafe { Mmap::map(file)? };
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(map)
}

/// Drops the pages of an already-parsed window from our resident set.
pub(crate) fn release(map: &Mmap, offset: usize, len: usize) {
    // SAFETY: the mapping is private to this module's callers and read-only;
    // for a file-backed read-only mapping MADV_DONTNEED only discards clean
    // pages, which the kernel reloads from the file if they are touched again,
    // so no data the program can observe changes. No references into the
    // window are alive past this call (names were copied into Strings).
    let _ = unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, offset, len) };
}

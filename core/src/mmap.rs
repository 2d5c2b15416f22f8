//! The one place covlens maps files into memory.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;

use memmap2::{Mmap, MmapOptions};

/// Window offsets are multiples of this, which is a multiple of the page
/// size on every platform we know (4, 16 and 64 KiB pages).
pub(crate) const PAGE: u64 = 64 * 1024;

/// Maps `len` bytes of a finished input file at `offset`, read-only, with
/// the pages populated up front (one call instead of a fault per page).
pub(crate) fn map_window(file: &File, offset: u64, len: usize) -> io::Result<Mmap> {
    // SAFETY: the map is only read, and dropped before the file is. If
    // another process truncated the file while we read it the access would
    // fault (SIGBUS); callers pass only finished inputs (profiles named on
    // the command line), never a file a running program is rewriting (the
    // collector copies live files instead), and `--no-mmap` avoids mapping.
    let map = unsafe {
        MmapOptions::new()
            .offset(offset)
            .len(len)
            .populate()
            .map(file)?
    };
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(map)
}

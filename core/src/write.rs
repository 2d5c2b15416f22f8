//! The text profile writer.

use std::io::{self, Write};
use std::sync::mpsc;

use rayon::prelude::*;

use crate::profile::{Block, FileProfile, Profile};

/// Output is formatted in batches of about this many bytes per thread.
const BATCH: usize = 1 << 20;

/// Writes `p` in Go's text format: `mode: M`, then one line per block.
///
/// Lines are formatted without allocation into large buffers, several
/// batches in parallel, and each buffer goes out in one `write` call. A
/// profile without a mode writes nothing (as `go tool covdata textfmt` does
/// for no data).
pub fn write_profile<W: Write>(w: &mut W, p: &Profile) -> io::Result<()> {
    let Some(mode) = &p.mode else { return Ok(()) };
    let mut head = Vec::with_capacity(16);
    head.extend_from_slice(b"mode: ");
    head.extend_from_slice(mode.as_str().as_bytes());
    head.push(b'\n');
    w.write_all(&head)?;

    // Group files into batches of roughly BATCH output bytes.
    let mut batches: Vec<&[FileProfile]> = Vec::new();
    let mut start = 0;
    let mut size = 0usize;
    for (i, f) in p.files.iter().enumerate() {
        size += f.blocks.len() * (f.name.len() + 24);
        if size >= BATCH {
            batches.push(&p.files[start..=i]);
            start = i + 1;
            size = 0;
        }
    }
    if start < p.files.len() {
        batches.push(&p.files[start..]);
    }
    if batches.len() <= 2 {
        let mut buf = Vec::with_capacity(BATCH + BATCH / 4);
        for f in batches.iter().flat_map(|b| b.iter()) {
            format_file(&mut buf, f);
        }
        return w.write_all(&buf);
    }
    // A formatting thread fills a window of buffers in parallel while this
    // thread writes the previous window, so formatting overlaps the
    // kernel's copy. Buffers come back through `free` for reuse.
    let window = rayon::current_num_threads().max(1) * 2;
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = mpsc::sync_channel::<Vec<u8>>(window);
        let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
        scope.spawn(move || {
            for group in batches.chunks(window) {
                let mut bufs: Vec<Vec<u8>> = (0..group.len())
                    .map(|_| {
                        free_rx
                            .try_recv()
                            .unwrap_or_else(|_| Vec::with_capacity(BATCH + BATCH / 4))
                    })
                    .collect();
                bufs.par_iter_mut()
                    .zip(group.par_iter())
                    .for_each(|(buf, files)| {
                        buf.clear();
                        for f in files.iter() {
                            format_file(buf, f);
                        }
                    });
                for buf in bufs {
                    // The writer stopped (an error): stop formatting.
                    if full_tx.send(buf).is_err() {
                        return;
                    }
                }
            }
        });
        for buf in full_rx {
            w.write_all(&buf)?;
            let _ = free_tx.send(buf);
        }
        Ok(())
    })
}

fn format_file(buf: &mut Vec<u8>, f: &FileProfile) {
    let name = f.name.as_bytes();
    let mut line = [0u8; 128];
    for b in &f.blocks {
        let n = format_tail(&mut line, b);
        buf.reserve(name.len() + n);
        buf.extend_from_slice(name);
        buf.extend_from_slice(&line[..n]);
    }
}

/// Formats `:sl.sc,el.ec n c\n` into `line`, returning its length.
#[inline]
fn format_tail(line: &mut [u8; 128], b: &Block) -> usize {
    let mut i = 0;
    line[i] = b':';
    i += 1;
    i = put(line, i, u64::from(b.start_line));
    line[i] = b'.';
    i = put(line, i + 1, u64::from(b.start_col));
    line[i] = b',';
    i = put(line, i + 1, u64::from(b.end_line));
    line[i] = b'.';
    i = put(line, i + 1, u64::from(b.end_col));
    line[i] = b' ';
    i = put(line, i + 1, u64::from(b.num_stmt));
    line[i] = b' ';
    i = put(line, i + 1, b.count);
    line[i] = b'\n';
    i + 1
}

/// Writes `v` in decimal at `line[at..]`, returning the end.
#[inline]
fn put(line: &mut [u8; 128], at: usize, mut v: u64) -> usize {
    let mut tmp = [0u8; 20];
    let mut j = tmp.len();
    loop {
        j -= 1;
        tmp[j] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let n = tmp.len() - j;
    line[at..at + n].copy_from_slice(&tmp[j..]);
    at + n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MAX_COUNT, Mode};

    #[test]
    fn formats_extremes() {
        let mut b = Block::new((u32::MAX, 0), (1, 10), 7, MAX_COUNT);
        b.src_line = 3;
        let p = Profile {
            mode: Some(Mode::Other("x y".into())),
            files: vec![FileProfile {
                name: "a b:c.go".into(),
                blocks: vec![b],
            }],
        };
        let mut out = Vec::new();
        write_profile(&mut out, &p).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "mode: x y\na b:c.go:4294967295.0,1.10 7 9223372036854775807\n"
        );
    }

    #[test]
    fn many_files_in_order() {
        let files: Vec<FileProfile> = (0..5000)
            .map(|i| FileProfile {
                name: format!("pkg/f{i:05}.go"),
                blocks: (1..40)
                    .map(|l| Block::new((l, 1), (l, 9), 1, u64::from(l) * 3))
                    .collect(),
            })
            .collect();
        let p = Profile {
            mode: Some(Mode::Count),
            files,
        };
        let mut out = Vec::new();
        write_profile(&mut out, &p).unwrap();
        let back = crate::parse_bytes(&out, "x", &crate::ParseOptions::default()).unwrap();
        assert_eq!(back.files.len(), 5000);
        assert_eq!(back.files[4999].blocks[38].count, 39 * 3);
        assert_eq!(
            back.files.iter().map(|f| f.blocks.len()).sum::<usize>(),
            p.block_count()
        );
    }
}

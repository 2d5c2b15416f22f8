//! The text profile writer.

use std::io::{self, Write};

use crate::profile::Profile;

/// Writes `p` in Go's text format: `mode: M`, then one line per block.
///
/// Output is assembled in a large buffer with allocation-free integer
/// formatting, so one `write` call carries many lines. A profile without a
/// mode writes nothing (as `go tool covdata textfmt` does for no data).
pub fn write_profile<W: Write>(w: &mut W, p: &Profile) -> io::Result<()> {
    let Some(mode) = &p.mode else { return Ok(()) };
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    buf.extend_from_slice(b"mode: ");
    buf.extend_from_slice(mode.as_str().as_bytes());
    buf.push(b'\n');
    let mut ib = itoa::Buffer::new();
    for f in &p.files {
        let name = f.name.as_bytes();
        for b in &f.blocks {
            buf.extend_from_slice(name);
            buf.push(b':');
            buf.extend_from_slice(ib.format(b.start_line).as_bytes());
            buf.push(b'.');
            buf.extend_from_slice(ib.format(b.start_col).as_bytes());
            buf.push(b',');
            buf.extend_from_slice(ib.format(b.end_line).as_bytes());
            buf.push(b'.');
            buf.extend_from_slice(ib.format(b.end_col).as_bytes());
            buf.push(b' ');
            buf.extend_from_slice(ib.format(b.num_stmt).as_bytes());
            buf.push(b' ');
            buf.extend_from_slice(ib.format(b.count).as_bytes());
            buf.push(b'\n');
            if buf.len() >= (1 << 16) - 512 {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
    }
    w.write_all(&buf)
}

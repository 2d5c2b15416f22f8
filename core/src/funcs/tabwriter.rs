//! Go's `text/tabwriter` as `go tool cover -func` configures it:
//! `NewWriter(out, 1, 8, 1, '\t', 0)` (minwidth 1, tabwidth 8, padding 1,
//! tabs as padding, no flags).
//!
//! Text is split into cells at `\t` and `\v` and into lines at `\n` and
//! `\f`. A run of lines that all have a cell in column `j` forms a column
//! block; the block's width is the widest cell (in runes) plus the
//! padding, and every cell is padded with tabs up to that width rounded to
//! a multiple of 8. Buffered lines are laid out on `\f`, after a line with
//! one cell, and on [`TabWriter::flush`]. Escapes (byte 0xFF) cannot occur
//! because input comes as `&str`.

use std::io::{self, Write};

const MIN_WIDTH: usize = 1;
const TAB_WIDTH: usize = 8;
const PADDING: usize = 1;

#[derive(Clone, Copy, Default)]
struct Cell {
    /// Bytes of text.
    size: usize,
    /// Runes of text.
    width: usize,
}

pub(crate) struct TabWriter<W: Write> {
    out: W,
    /// Text of every buffered cell, back to back.
    buf: Vec<u8>,
    /// Terminated cells of each buffered line; the last line is open.
    lines: Vec<Vec<Cell>>,
    /// The open cell at the end of `buf`.
    cell: Cell,
    /// Widths of the columns being laid out (a stack, as in Go).
    widths: Vec<usize>,
}

impl<W: Write> TabWriter<W> {
    pub(crate) fn new(out: W) -> TabWriter<W> {
        TabWriter {
            out,
            buf: Vec::new(),
            lines: vec![Vec::new()],
            cell: Cell::default(),
            widths: Vec::new(),
        }
    }

    pub(crate) fn write_str(&mut self, s: &str) -> io::Result<()> {
        let mut rest = s;
        while let Some(i) = rest.find(['\t', '\u{b}', '\n', '\u{c}']) {
            let sep = rest.as_bytes()[i];
            self.append(&rest[..i]);
            rest = &rest[i + 1..];
            let line = self.lines.last_mut().expect("always one open line");
            line.push(std::mem::take(&mut self.cell));
            let cells = line.len();
            if sep == b'\n' || sep == b'\x0c' {
                self.lines.push(Vec::new());
                // A one-cell line cannot affect later columns, so Go lays
                // out everything buffered so far; `\f` always does.
                if sep == b'\x0c' || cells == 1 {
                    self.flush_lines()?;
                }
            }
        }
        self.append(rest);
        Ok(())
    }

    fn append(&mut self, text: &str) {
        self.buf.extend_from_slice(text.as_bytes());
        self.cell.size += text.len();
        self.cell.width += text.chars().count();
    }

    /// Lays out and writes everything buffered, then flushes `out`.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.flush_lines()?;
        self.out.flush()
    }

    pub(crate) fn into_inner(self) -> W {
        self.out
    }

    fn flush_lines(&mut self) -> io::Result<()> {
        if self.cell.size > 0 {
            let cell = std::mem::take(&mut self.cell);
            self.lines
                .last_mut()
                .expect("always one open line")
                .push(cell);
        }
        let n = self.lines.len();
        self.format(0, 0, n)?;
        self.buf.clear();
        self.cell = Cell::default();
        self.lines.clear();
        self.lines.push(Vec::new());
        self.widths.clear();
        Ok(())
    }

    /// Go's `format`: finds the column blocks of `lines[line0..line1]` for
    /// the column after those in `widths`, recursing to the right.
    fn format(&mut self, mut pos: usize, mut line0: usize, line1: usize) -> io::Result<usize> {
        let column = self.widths.len();
        let mut this = line0;
        while this < line1 {
            // The last cell of a line is not in any column.
            if column + 1 >= self.lines[this].len() {
                this += 1;
                continue;
            }
            pos = self.write_lines(pos, line0, this)?;
            line0 = this;
            let mut width = MIN_WIDTH;
            while this < line1 && column + 1 < self.lines[this].len() {
                width = width.max(self.lines[this][column].width + PADDING);
                this += 1;
            }
            self.widths.push(width);
            pos = self.format(pos, line0, this)?;
            self.widths.pop();
            line0 = this;
        }
        self.write_lines(pos, line0, line1)
    }

    fn write_lines(&mut self, mut pos: usize, line0: usize, line1: usize) -> io::Result<usize> {
        for i in line0..line1 {
            for (j, c) in self.lines[i].iter().enumerate() {
                self.out.write_all(&self.buf[pos..pos + c.size])?;
                pos += c.size;
                if let Some(&w) = self.widths.get(j) {
                    write_padding(&mut self.out, c.width, w)?;
                }
            }
            if i + 1 == self.lines.len() {
                // The open line: its text has no newline yet.
                self.out.write_all(&self.buf[pos..pos + self.cell.size])?;
                pos += self.cell.size;
            } else {
                self.out.write_all(b"\n")?;
            }
        }
        Ok(pos)
    }
}

fn write_padding<W: Write>(out: &mut W, text_width: usize, cell_width: usize) -> io::Result<()> {
    const TABS: &[u8] = b"\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";
    let cell_width = cell_width.div_ceil(TAB_WIDTH) * TAB_WIDTH;
    let mut n = (cell_width - text_width).div_ceil(TAB_WIDTH);
    while n > 0 {
        let k = n.min(TABS.len());
        out.write_all(&TABS[..k])?;
        n -= k;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tab(s: &str) -> String {
        let mut t = TabWriter::new(Vec::new());
        t.write_str(s).unwrap();
        t.flush().unwrap();
        String::from_utf8(t.into_inner()).unwrap()
    }

    #[test]
    fn widths_round_to_tab_stops() {
        // Widest first cell 36 runes: width 37, rounded to 40.
        let long = "a".repeat(36);
        let got = tab(&format!("{long}\tF\t1.0%\ntotal:\t(statements)\t1.0%\n"));
        assert_eq!(
            got,
            format!("{long}\tF\t\t1.0%\ntotal:\t\t\t\t\t(statements)\t1.0%\n")
        );
    }

    #[test]
    fn widths_count_runes_not_bytes() {
        // 7 runes (14 bytes): width 8, one tab stop.
        let got = tab("ääääääa\tx\nb\ty\n");
        assert_eq!(got, "ääääääa\tx\nb\ty\n");
        let got = tab("äääääääa\tx\nb\ty\n");
        assert_eq!(got, "äääääääa\tx\nb\t\ty\n");
    }

    #[test]
    fn column_blocks_and_flushes() {
        // Lines without a cell in a column end its block; a one-cell line
        // flushes everything before it.
        let got = tab("aaaaaaaaaa\tb\tc\nx\ty\nlonely\nq\tr\n");
        assert_eq!(got, "aaaaaaaaaa\tb\tc\nx\t\ty\nlonely\nq\tr\n");
        // A form feed ends the line like a newline and flushes.
        assert_eq!(tab("aaaaaaaaaa\tb\x0cx\ty\n"), "aaaaaaaaaa\tb\nx\ty\n");
        // Text after the last newline is kept as is.
        assert_eq!(tab("a\tb\nc"), "a\tb\nc");
        assert_eq!(tab(""), "");
    }
}

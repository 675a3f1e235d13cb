//! The one renderer of the tables the commands print (`extract`, `catalog sync`, `check`):
//! aligned columns under a header, the last column unpadded, and free lines between rows
//! (a dry run's `would …`).

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A column: its header, alignment, narrowest width, and the gap printed before it.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub header: &'static str,
    pub align: Align,
    pub min_width: usize,
    pub gap: &'static str,
}

impl Column {
    pub const fn left(header: &'static str, min_width: usize, gap: &'static str) -> Column {
        Column {
            header,
            align: Align::Left,
            min_width,
            gap,
        }
    }

    pub const fn right(header: &'static str, min_width: usize, gap: &'static str) -> Column {
        Column {
            header,
            align: Align::Right,
            min_width,
            gap,
        }
    }
}

enum Line {
    Row(Vec<String>),
    Note(String),
}

pub struct TextTable {
    columns: Vec<Column>,
    lines: Vec<Line>,
}

impl TextTable {
    pub fn new(columns: &[Column]) -> TextTable {
        TextTable {
            columns: columns.to_vec(),
            lines: Vec::new(),
        }
    }

    /// A row: one cell per column.
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        self.lines.push(Line::Row(cells));
    }

    /// A line printed as it is, after the rows so far.
    pub fn note(&mut self, line: String) {
        self.lines.push(Line::Note(line));
    }

    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self
            .columns
            .iter()
            .map(|c| c.min_width.max(c.header.len()))
            .collect();
        for line in &self.lines {
            if let Line::Row(cells) = line {
                for (w, cell) in widths.iter_mut().zip(cells) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let mut out = String::new();
        let headers: Vec<String> = self.columns.iter().map(|c| c.header.to_string()).collect();
        self.render_row(&mut out, &headers, &widths);
        for line in &self.lines {
            match line {
                Line::Row(cells) => self.render_row(&mut out, cells, &widths),
                Line::Note(text) => {
                    out.push_str(text);
                    out.push('\n');
                }
            }
        }
        out
    }

    fn render_row(&self, out: &mut String, cells: &[String], widths: &[usize]) {
        let last = self.columns.len() - 1;
        for (i, (column, cell)) in self.columns.iter().zip(cells).enumerate() {
            out.push_str(column.gap);
            let pad = widths[i].saturating_sub(cell.chars().count());
            match (column.align, i == last) {
                (Align::Left, true) => out.push_str(cell),
                (Align::Left, false) => {
                    out.push_str(cell);
                    out.extend(std::iter::repeat_n(' ', pad));
                }
                (Align::Right, _) => {
                    out.extend(std::iter::repeat_n(' ', pad));
                    out.push_str(cell);
                }
            }
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns_and_keeps_notes() {
        let mut t = TextTable::new(&[
            Column::left("TABLE", 5, ""),
            Column::right("ROWS", 6, " "),
            Column::left("STATUS", 0, "  "),
        ]);
        t.row(vec!["auth_user".into(), "12".into(), "ok".into()]);
        t.note("  would create".into());
        t.row(vec!["t".into(), "1234567".into(), "FAILED".into()]);
        assert_eq!(
            t.render(),
            "TABLE        ROWS  STATUS\n\
             auth_user      12  ok\n  would create\n\
             t         1234567  FAILED\n"
        );
    }
}

//! The edlake CSV dialect (docs/csv-dialect.md), built for Athena's OpenCSVSerde with
//! `separatorChar=','`, `quoteChar='"'`, `escapeChar='\\'` and every column `string`.
//!
//! OpenCSVSerde cannot represent NULL (an empty field reads as ''), splits rows on any CR or
//! LF, and drops a backslash that precedes an ordinary character. So a value goes through two
//! layers:
//!
//! 1. Text layer (what a reader sees after the SerDe, decoded by the typed views): a backslash
//!    becomes `\\`, LF `\n`, CR `\r`; SQL NULL is the whole value `\N`. After this layer
//!    nothing contains CR or LF, and `\N` cannot be produced by any real value.
//! 2. CSV layer: every backslash of layer 1 is doubled again for OpenCSVSerde's escapeChar,
//!    then the field is quoted (always) with `"` doubled, rows end with LF.
//!
//! Both layers are applied in one pass by [`escape_text`]; quoting is csv-core's.

use csv_core::{QuoteStyle, Terminator, WriteResult, Writer, WriterBuilder};

use crate::table::ColumnKind;

/// The CSV dialect as a lake file format: a header line, then one line per row.
#[derive(Debug, Clone, Copy, Default)]
pub struct Csv;

impl super::FileFormat for Csv {
    fn extension(&self) -> &'static str {
        "csv"
    }

    fn new_file(&self, columns: &[super::FileColumn<'_>]) -> Box<dyn super::PartitionFile> {
        let mut header = RowEncoder::new();
        let buf = header.header(columns.iter().map(|c| c.name));
        Box::new(CsvFile {
            kinds: columns.iter().map(|c| c.kind).collect(),
            csv: csv_writer(),
            scratch: Vec::new(),
            buf,
        })
    }
}

/// One partition's CSV file: its lines so far, in memory. Lines are encoded straight into
/// the buffer, and the escaping scratch grows only when a value needs it: thousands of
/// partitions of one table cost little beyond their buffered lines.
struct CsvFile {
    kinds: Box<[ColumnKind]>,
    csv: Writer,
    scratch: Vec<u8>,
    buf: Vec<u8>,
}

impl super::PartitionFile for CsvFile {
    fn push_row(&mut self, values: &[Option<&[u8]>]) {
        for (i, (kind, value)) in self.kinds.iter().zip(values).enumerate() {
            push_field(
                &mut self.csv,
                &mut self.scratch,
                &mut self.buf,
                i == 0,
                *kind,
                *value,
            );
        }
        end_line(&mut self.csv, &mut self.buf);
    }

    fn buffered(&self) -> usize {
        self.buf.len()
    }

    fn take_buffered(&mut self) -> Vec<u8> {
        // Release the memory, not only the length: a spilled partition may stay quiet.
        std::mem::take(&mut self.buf)
    }

    // CSV is its lines in order: the rest goes after what was spilled.
    fn finish(
        self: Box<Self>,
        spilled: Option<&std::path::Path>,
    ) -> std::io::Result<super::Finished> {
        Ok(match spilled {
            Some(path) => {
                super::append(path, &self.buf)?;
                super::Finished {
                    bytes: std::fs::metadata(path)?.len(),
                    content: super::Content::File(path.to_path_buf()),
                    nulled: 0,
                }
            }
            None => super::Finished {
                bytes: self.buf.len() as u64,
                content: super::Content::Bytes(self.buf),
                nulled: 0,
            },
        })
    }
}

/// NULL as it appears in the file: layer 1 `\N`, each backslash doubled by layer 2.
pub const NULL_FIELD: &[u8] = br"\\N";

/// Encodes rows into CSV lines. One encoder is reused for a whole table.
pub struct RowEncoder {
    csv: Writer,
    scratch: Vec<u8>,
    line: Vec<u8>,
    fields_in_line: usize,
}

impl Default for RowEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl RowEncoder {
    pub fn new() -> RowEncoder {
        RowEncoder {
            csv: csv_writer(),
            scratch: Vec::with_capacity(1024),
            line: Vec::with_capacity(4096),
            fields_in_line: 0,
        }
    }

    /// The header line: column names, encoded as text.
    pub fn header<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
        for name in names {
            self.push(ColumnKind::Text, Some(name.as_bytes()));
        }
        self.finish_line().to_vec()
    }

    /// Appends one field to the current line.
    pub fn push(&mut self, kind: ColumnKind, value: Option<&[u8]>) {
        push_field(
            &mut self.csv,
            &mut self.scratch,
            &mut self.line,
            self.fields_in_line == 0,
            kind,
            value,
        );
        self.fields_in_line += 1;
    }

    /// Terminates the current line and returns it (header or row, ending in LF).
    pub fn finish_line(&mut self) -> &[u8] {
        end_line(&mut self.csv, &mut self.line);
        self.fields_in_line = 0;
        &self.line
    }

    /// Must be called before the next line is pushed.
    pub fn clear(&mut self) {
        self.line.clear();
    }
}

/// The dialect's csv-core writer: every field quoted, `"` doubled, lines ending in LF.
fn csv_writer() -> Writer {
    WriterBuilder::new()
        .quote_style(QuoteStyle::Always)
        .double_quote(true)
        .terminator(Terminator::Any(b'\n'))
        .build()
}

/// Appends one field to the line at the end of `out` (`first`: no delimiter before it).
fn push_field(
    csv: &mut Writer,
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
    first: bool,
    kind: ColumnKind,
    value: Option<&[u8]>,
) {
    if !first {
        drive(out, |buf| {
            let (r, n) = csv.delimiter(buf);
            (r, 0, n)
        });
    }
    let field: &[u8] = match value {
        None => NULL_FIELD,
        Some(v) => match kind {
            ColumnKind::Number | ColumnKind::Date => v,
            ColumnKind::Text => escape_text(v, scratch),
            ColumnKind::DateTime | ColumnKind::Time => pad_fraction(v, scratch),
            ColumnKind::Binary => hex_upper(v, scratch),
            ColumnKind::Bit => bit_to_decimal(v, scratch),
        },
    };
    let mut rest = field;
    loop {
        let mut consumed = 0;
        let result = drive(out, |buf| {
            let (r, nin, nout) = csv.field(rest, buf);
            consumed = nin;
            (r, nin, nout)
        });
        rest = &rest[consumed..];
        if result == WriteResult::InputEmpty {
            break;
        }
    }
}

/// Ends the line at the end of `out`.
fn end_line(csv: &mut Writer, out: &mut Vec<u8>) {
    drive(out, |buf| {
        let (r, n) = csv.terminator(buf);
        (r, 0, n)
    });
}

/// Runs one csv-core step against the spare room at the end of `buf`, growing it until the
/// step fits.
fn drive(
    buf: &mut Vec<u8>,
    mut step: impl FnMut(&mut [u8]) -> (WriteResult, usize, usize),
) -> WriteResult {
    let mut room = 64;
    loop {
        let start = buf.len();
        buf.resize(start + room, 0);
        let (result, nin, nout) = step(&mut buf[start..]);
        buf.truncate(start + nout);
        if result == WriteResult::InputEmpty || nin > 0 || nout > 0 {
            return result;
        }
        room *= 4;
    }
}

/// Layers 1 and 2 for text: `\` → `\\\\`, LF → `\\n`, CR → `\\r` (file bytes).
/// Returns the input itself when nothing needs escaping (the common case).
pub fn escape_text<'a>(value: &'a [u8], scratch: &'a mut Vec<u8>) -> &'a [u8] {
    let Some(first) = memchr::memchr3(b'\\', b'\n', b'\r', value) else {
        return value;
    };
    scratch.clear();
    scratch.extend_from_slice(&value[..first]);
    for &b in &value[first..] {
        match b {
            b'\\' => scratch.extend_from_slice(br"\\\\"),
            b'\n' => scratch.extend_from_slice(br"\\n"),
            b'\r' => scratch.extend_from_slice(br"\\r"),
            _ => scratch.push(b),
        }
    }
    scratch
}

/// MySQL sends as many fraction digits as the column's precision (none for precision 0);
/// the lake always has six so one `date_parse` format reads every row.
fn pad_fraction<'a>(value: &'a [u8], scratch: &'a mut Vec<u8>) -> &'a [u8] {
    let digits = match memchr::memchr(b'.', value) {
        Some(dot) => value.len() - dot - 1,
        None => 0,
    };
    if digits >= 6 {
        return value;
    }
    scratch.clear();
    scratch.extend_from_slice(value);
    if digits == 0 && !value.contains(&b'.') {
        scratch.push(b'.');
    }
    scratch.resize(scratch.len() + 6 - digits, b'0');
    scratch
}

fn hex_upper<'a>(value: &[u8], scratch: &'a mut Vec<u8>) -> &'a [u8] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    scratch.clear();
    scratch.reserve(value.len() * 2);
    for &b in value {
        scratch.push(HEX[(b >> 4) as usize]);
        scratch.push(HEX[(b & 0xF) as usize]);
    }
    scratch
}

/// The text protocol sends BIT(n) as its raw big-endian bytes.
fn bit_to_decimal<'a>(value: &[u8], scratch: &'a mut Vec<u8>) -> &'a [u8] {
    let n = value.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64);
    scratch.clear();
    scratch.extend_from_slice(n.to_string().as_bytes());
    scratch
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(fields: &[(ColumnKind, Option<&[u8]>)]) -> String {
        let mut e = RowEncoder::new();
        for (k, v) in fields {
            e.push(*k, *v);
        }
        String::from_utf8(e.finish_line().to_vec()).unwrap()
    }

    #[test]
    fn text_is_quoted_and_escaped() {
        use ColumnKind::Text;
        assert_eq!(line(&[(Text, Some(b"plain"))]), "\"plain\"\n");
        assert_eq!(
            line(&[(Text, Some(b"a,b")), (Text, Some(b"say \"hi\""))]),
            "\"a,b\",\"say \"\"hi\"\"\"\n"
        );
        assert_eq!(
            line(&[(Text, Some(b"l1\nl2\r\nl3\rend"))]),
            "\"l1\\\\nl2\\\\r\\\\nl3\\\\rend\"\n"
        );
        assert_eq!(line(&[(Text, Some(br"c:\dir"))]), "\"c:\\\\\\\\dir\"\n");
        assert_eq!(line(&[(Text, Some(b""))]), "\"\"\n");
        assert_eq!(line(&[(Text, None)]), "\"\\\\N\"\n");
        // A real value `\N` differs from NULL.
        assert_eq!(line(&[(Text, Some(br"\N"))]), "\"\\\\\\\\N\"\n");
        assert_eq!(line(&[(Text, None), (Text, None)]), "\"\\\\N\",\"\\\\N\"\n");
    }

    #[test]
    fn typed_values() {
        use ColumnKind::*;
        assert_eq!(
            line(&[
                (DateTime, Some(b"2024-03-05 14:02:11")),
                (DateTime, Some(b"2024-03-05 14:02:11.5")),
                (DateTime, Some(b"2024-03-05 14:02:11.123456")),
                (Time, Some(b"-838:59:59")),
                (Date, Some(b"2024-03-05")),
            ]),
            "\"2024-03-05 14:02:11.000000\",\"2024-03-05 14:02:11.500000\",\"2024-03-05 14:02:11.123456\",\"-838:59:59.000000\",\"2024-03-05\"\n"
        );
        assert_eq!(
            line(&[
                (Binary, Some(&[0x00, 0xff, 0x10])),
                (Bit, Some(&[0x01, 0x02])),
                (Number, Some(b"-12.50")),
                (Number, Some(b"1e300"))
            ]),
            "\"00FF10\",\"258\",\"-12.50\",\"1e300\"\n"
        );
    }

    #[test]
    fn long_fields_grow_the_buffer() {
        let big = "\"".repeat(10_000);
        let out = line(&[(ColumnKind::Text, Some(big.as_bytes()))]);
        assert_eq!(out.len(), 20_000 + 3);
    }

    #[test]
    fn kinds_from_mysql_types() {
        assert_eq!(ColumnKind::from_mysql("LONGTEXT"), ColumnKind::Text);
        assert_eq!(ColumnKind::from_mysql("json"), ColumnKind::Text);
        assert_eq!(ColumnKind::from_mysql("tinyint"), ColumnKind::Number);
        assert_eq!(ColumnKind::from_mysql("decimal"), ColumnKind::Number);
        assert_eq!(ColumnKind::from_mysql("datetime"), ColumnKind::DateTime);
        assert_eq!(ColumnKind::from_mysql("varbinary"), ColumnKind::Binary);
        assert_eq!(ColumnKind::from_mysql("bit"), ColumnKind::Bit);
    }
}

//! The `.sql` files of a research data package: tab-separated text with a header row, no
//! quoting, `NULL` for NULL, and backslash, tab, LF and CR escaped with a backslash (edX's
//! exporter; docs/research-packages.md). Records end at LF only: a bare CR is data (some
//! older exports hold raw CRs in free-text profile fields).

use std::io::BufRead;

use anyhow::{bail, Context, Result};

/// One record's values, in the header's order; `None` is NULL.
pub type Record = Vec<Option<String>>;

/// Reads the records of one `.sql` file, one at a time (bounded memory whatever its size).
pub struct RecordReader<R> {
    input: R,
    /// The file's name, for messages.
    name: String,
    header: Vec<String>,
    line: Vec<u8>,
    /// The number of the record last read, 1 for the first after the header (line 2).
    record: u64,
    /// How NULL is written: `NULL` in edX's files, `\N` in edlake's staged ones (where the
    /// text `NULL` is a value like any other).
    null: &'static [u8],
}

impl<R: BufRead> RecordReader<R> {
    /// Reads the header. An empty file (not even a header) is an error: the exporter always
    /// writes one.
    pub fn new(input: R, name: &str) -> Result<RecordReader<R>> {
        Self::with_null(input, name, b"NULL")
    }

    /// A file edlake staged itself: the same escaping, NULL as `\N`.
    pub fn staged(input: R, name: &str) -> Result<RecordReader<R>> {
        Self::with_null(input, name, b"\\N")
    }

    fn with_null(mut input: R, name: &str, null: &'static [u8]) -> Result<RecordReader<R>> {
        let mut line = Vec::new();
        let read = input
            .read_until(b'\n', &mut line)
            .with_context(|| format!("reading {name}"))?;
        if read == 0 {
            bail!("{name}: empty file, without the header row every export file starts with");
        }
        strip_lf(&mut line);
        let header = std::str::from_utf8(&line)
            .map_err(|_| anyhow::anyhow!("{name}: the header row is not UTF-8"))?
            .split('\t')
            .map(str::to_string)
            .collect::<Vec<_>>();
        if header.iter().any(|c| c.is_empty()) {
            bail!(
                "{name}: the header row has an empty column name: {line:?}",
                line = String::from_utf8_lossy(&line)
            );
        }
        Ok(RecordReader {
            input,
            name: name.to_string(),
            header,
            line,
            record: 0,
            null,
        })
    }

    /// The column names, in file order.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The next record, or None at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<Record>> {
        self.line.clear();
        let read = self
            .input
            .read_until(b'\n', &mut self.line)
            .with_context(|| format!("reading {}", self.name))?;
        if read == 0 {
            return Ok(None);
        }
        self.record += 1;
        strip_lf(&mut self.line);
        let fields: Vec<&[u8]> = self.line.split(|&b| b == b'\t').collect();
        if fields.len() != self.header.len() {
            bail!(
                "{}: line {} has {} fields, the header {}",
                self.name,
                self.record + 1,
                fields.len(),
                self.header.len()
            );
        }
        let null = self.null;
        fields
            .into_iter()
            .map(|f| decode_field(f, null))
            .collect::<Result<Record, _>>()
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{}: line {}: {e}", self.name, self.record + 1))
    }
}

fn strip_lf(line: &mut Vec<u8>) {
    if line.last() == Some(&b'\n') {
        line.pop();
    }
}

/// One field: `null` (`NULL`) is NULL; `\\`, `\t`, `\n`, `\r` are decoded left to right; NUL bytes
/// (which the exporter strips, older exports may hold) are dropped.
fn decode_field(field: &[u8], null: &[u8]) -> Result<Option<String>, String> {
    if field == null {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(field.len());
    let mut bytes = field.iter().copied();
    while let Some(b) = bytes.next() {
        match b {
            b'\\' => match bytes.next() {
                Some(b'\\') => out.push(b'\\'),
                Some(b't') => out.push(b'\t'),
                Some(b'n') => out.push(b'\n'),
                Some(b'r') => out.push(b'\r'),
                Some(b'0') => {}
                // Not an escape the exporter writes: kept as it is.
                Some(other) => out.extend_from_slice(&[b'\\', other]),
                None => out.push(b'\\'),
            },
            0 => {}
            b => out.push(b),
        }
    }
    String::from_utf8(out)
        .map(Some)
        .map_err(|_| "a value is not UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &[u8]) -> Result<(Vec<String>, Vec<Record>)> {
        let mut reader = RecordReader::new(text, "t.sql")?;
        let mut records = Vec::new();
        while let Some(r) = reader.next_record()? {
            records.push(r);
        }
        Ok((reader.header().to_vec(), records))
    }

    #[test]
    fn the_exporters_escaping_decodes_left_to_right() {
        let text = b"id\tbio\tgoals\n\
            1\tC:\\\\Users\\\\me\\tcol two\\nline\\\\\tNULL\n\
            2\t\tbare\rcr and \\r escaped and \"quotes\" {\"a\\\\\"b\"}\n\
            3\t\\\\n is not a newline\tnul\x00gone\n\
            4\tNULLx\tlast line without LF";
        let (header, records) = read_all(text).unwrap();
        assert_eq!(header, ["id", "bio", "goals"]);
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            records,
            [
                vec![s("1"), s("C:\\Users\\me\tcol two\nline\\"), None],
                vec![
                    s("2"),
                    s(""),
                    s("bare\rcr and \r escaped and \"quotes\" {\"a\\\"b\"}")
                ],
                vec![s("3"), s("\\n is not a newline"), s("nulgone")],
                vec![s("4"), s("NULLx"), s("last line without LF")],
            ]
        );
    }

    #[test]
    fn header_only_empty_and_malformed_files() {
        assert_eq!(read_all(b"id\tname\n").unwrap().1.len(), 0);
        let err = read_all(b"").unwrap_err().to_string();
        assert!(err.contains("t.sql: empty file"), "{err}");
        let err = read_all(b"id\tname\n1\ta\n2\tb\tc\n")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "t.sql: line 3 has 3 fields, the header 2");
        let err = read_all(b"id\n\xff\n").unwrap_err().to_string();
        assert_eq!(err, "t.sql: line 2: a value is not UTF-8");
    }
}

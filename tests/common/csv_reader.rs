//! Athena's view of a file: lake files read the way OpenCSVSerde reads them.

use std::collections::BTreeMap;

/// What Athena reads from a lake file through a table declared with OpenCSVSerde
/// (`separatorChar ','`, `quoteChar '"'`, `escapeChar '\\'`, `skip.header.line.count 1`):
/// Hadoop's TextInputFormat splits lines on LF, CR or CRLF; the first line is skipped; each
/// line is parsed by opencsv 2.3's `CSVParser.parseLine`, ported below rule for rule.
/// Returns the header fields and the rows as OpenCSVSerde hands them to the engine.
pub fn read_like_opencsv_serde(data: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::str::from_utf8(data).expect("lake files are UTF-8");
    assert!(!text.starts_with('\u{feff}'), "no BOM");
    let mut lines = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&text[start..i]);
                if i + 1 < bytes.len() && bytes[i + 1] == b'\n' {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < bytes.len() {
        lines.push(&text[start..]);
    }
    let mut rows = lines.into_iter().map(opencsv_parse_line);
    let header = rows.next().expect("a header line");
    (header, rows.collect())
}

/// opencsv 2.3 `CSVParser.parseLine(line, multi=false)` with strictQuotes=false,
/// ignoreLeadingWhiteSpace=true (the defaults OpenCSVSerde uses). A line ending inside
/// quotes is an error in single-line mode: the writer must never produce one.
pub fn opencsv_parse_line(line: &str) -> Vec<String> {
    const SEP: char = ',';
    const QUOTE: char = '"';
    const ESC: char = '\\';
    let chars: Vec<char> = line.chars().collect();
    let mut tokens = Vec::new();
    let mut sb = String::new();
    let mut in_quotes = false;
    let mut in_field = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let more = (in_quotes || in_field) && chars.len() > i + 1;
        if c == ESC {
            // isNextCharacterEscapable
            if more && (chars[i + 1] == QUOTE || chars[i + 1] == ESC) {
                sb.push(chars[i + 1]);
                i += 1;
            }
        } else if c == QUOTE {
            // isNextCharacterEscapedQuote
            if more && chars[i + 1] == QUOTE {
                sb.push(chars[i + 1]);
                i += 1;
            } else {
                // the tricky case of an embedded quote in the middle: a,bc"d"ef,g
                if i > 2 && chars[i - 1] != SEP && chars.len() > i + 1 && chars[i + 1] != SEP {
                    if !sb.is_empty() && sb.chars().all(char::is_whitespace) {
                        sb.clear();
                    } else {
                        sb.push(c);
                    }
                }
                in_quotes = !in_quotes;
            }
            in_field = !in_field;
        } else if c == SEP && !in_quotes {
            tokens.push(std::mem::take(&mut sb));
            in_field = false;
        } else {
            sb.push(c);
            in_field = true;
        }
        i += 1;
    }
    assert!(
        !in_quotes,
        "Un-terminated quoted field at end of CSV line: {line:?}"
    );
    tokens.push(sb);
    tokens
}

/// Decodes the dialect's text layer (docs/csv-dialect.md), as the typed views do: the whole
/// value `\N` is NULL; `\\`, `\n`, `\r` are a backslash, LF, CR. Anything else after a
/// backslash is a writer bug.
pub fn decode_text_layer(value: &str) -> Option<String> {
    if value == "\\N" {
        return None;
    }
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                other => panic!("invalid escape \\{other:?} in {value:?}"),
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// A lake file read like Athena and decoded like the views: header, then rows of
/// `column → value`.
pub fn read_table_file(data: &[u8]) -> (Vec<String>, Vec<BTreeMap<String, Option<String>>>) {
    let (header, rows) = read_like_opencsv_serde(data);
    let rows = rows
        .into_iter()
        .map(|fields| {
            assert_eq!(
                fields.len(),
                header.len(),
                "every row has every column: {fields:?}"
            );
            header
                .iter()
                .cloned()
                .zip(fields.iter().map(|f| decode_text_layer(f)))
                .collect()
        })
        .collect();
    (header, rows)
}

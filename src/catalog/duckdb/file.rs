//! The DuckDB catalog file: plain SQL that DuckDB's CLI (`-init`) and Python package
//! run, made of one section per table. A section starts with a comment line holding the
//! table's entry as JSON (what the next sync merges its columns with, as Glue's table
//! definition is for the Glue backend) and ends with `-- edlake:end`; the header and the
//! footer are rendered anew on every write.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::super::api::CatalogColumn;
use super::super::view::{quote_ident, quote_literal};

const BEGIN: &str = "-- edlake:table ";
const END: &str = "-- edlake:end";

/// The DuckDB variable the views read the lake root from.
pub const LAKE_VARIABLE: &str = "edlake_lake";

/// What the catalog knows of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub database: String,
    pub raw_table: String,
    pub view: String,
    /// `[name, Hive type, MySQL type]`, in file order.
    pub columns: Vec<[String; 3]>,
    pub partition_keys: Vec<String>,
    /// Whether the raw view reads files (false: no file existed at the last sync).
    pub files: bool,
    /// The files' format: `csv`, `json` or `parquet` (entries written before formats
    /// existed are CSV tables or the tracking logs, both read as text).
    #[serde(default = "csv")]
    pub format: String,
}

fn csv() -> String {
    "csv".into()
}

impl Entry {
    pub fn catalog_columns(&self) -> Vec<CatalogColumn> {
        self.columns
            .iter()
            .map(|[name, hive, mysql]| CatalogColumn::typed(name, hive, mysql))
            .collect()
    }

    pub fn columns_of(columns: &[CatalogColumn]) -> Vec<[String; 3]> {
        columns
            .iter()
            .map(|c| [c.name.clone(), c.glue_type.clone(), c.mysql_type.clone()])
            .collect()
    }
}

/// A table's section: its entry and its statements (each ending in `;`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub entry: Entry,
    pub statements: Vec<String>,
}

/// The whole file, sections keyed by database and raw table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogFile {
    pub sections: BTreeMap<(String, String), Section>,
}

impl CatalogFile {
    pub fn parse(text: &str) -> Result<CatalogFile> {
        let mut file = CatalogFile::default();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let Some(json) = line.strip_prefix(BEGIN) else {
                continue;
            };
            let entry: Entry = serde_json::from_str(json)
                .with_context(|| format!("a table entry of the DuckDB catalog: {json}"))?;
            let mut body = String::new();
            loop {
                match lines.next() {
                    Some(END) => break,
                    Some(l) => {
                        body.push_str(l);
                        body.push('\n');
                    }
                    None => bail!(
                        "the DuckDB catalog's section of {} has no end (a truncated file? \
                         delete it and run `edlake catalog sync`)",
                        entry.raw_table
                    ),
                }
            }
            let statements = split_statements(&body);
            file.sections.insert(
                (entry.database.clone(), entry.raw_table.clone()),
                Section { entry, statements },
            );
        }
        Ok(file)
    }

    pub fn entry(&self, database: &str, raw_table: &str) -> Option<&Section> {
        self.sections
            .get(&(database.to_string(), raw_table.to_string()))
    }

    /// The file's text. `root` is the lake as edlake reads it, `schema` the one the
    /// session lands in.
    pub fn render(&self, root: &str, schema: &str) -> String {
        let mut out = format!(
            "-- The DuckDB catalog of the edlake lake at {root}.\n\
             -- edlake rewrites this file whenever a table's columns, files or views change: edits are lost.\n\
             -- Open it:  duckdb -init <this file>   or, in Python: duckdb.connect().execute(open(<this file>).read())\n\
             -- The views find the lake at the DuckDB variable {LAKE_VARIABLE}, by default the path above. From another\n\
             -- mount, or over S3 with httpfs, set it BEFORE this file runs (DuckDB checks a view's files when it\n\
             -- creates it): duckdb -cmd \"SET VARIABLE {LAKE_VARIABLE} = '<root>'\" -cmd \".read <this file>\" (docs/query-locally.md).\n"
        );
        let mut schemas: Vec<&str> = self
            .sections
            .keys()
            .map(|(db, _)| db.as_str())
            .chain([schema])
            .collect();
        schemas.sort();
        schemas.dedup();
        for db in schemas {
            out.push_str(&format!(
                "CREATE SCHEMA IF NOT EXISTS {};\n",
                quote_ident(db)
            ));
        }
        for section in self.sections.values() {
            out.push('\n');
            out.push_str(BEGIN);
            out.push_str(&serde_json::to_string(&section.entry).expect("an entry serializes"));
            out.push('\n');
            for statement in &section.statements {
                out.push_str(statement);
                out.push('\n');
            }
            out.push_str(END);
            out.push('\n');
        }
        out.push_str(&format!("\nUSE {};\n", quote_ident(schema)));
        out
    }
}

/// The statements of a section body: each ends with `;` at the end of a line (statements
/// hold no line ending in `;` but their last: their string literals hold no line break).
fn split_statements(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in body.lines() {
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(line);
        if line.ends_with(';') {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

/// The SQL expression of the lake root: the variable when set, else `root`.
pub fn root_expression(root: &str) -> String {
    format!(
        "COALESCE(getvariable({}), {})",
        quote_literal(LAKE_VARIABLE),
        quote_literal(root)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(table: &str) -> Entry {
        Entry {
            database: "panorama".into(),
            raw_table: format!("openedx_raw_{table}"),
            view: format!("openedx_table_{table}"),
            columns: vec![["id".into(), "string".into(), "int(11)".into()]],
            partition_keys: vec!["lms".into()],
            files: true,
            format: "csv".into(),
        }
    }

    #[test]
    fn a_rendered_file_parses_back_to_the_same_sections() {
        let mut file = CatalogFile::default();
        for t in ["b", "a"] {
            let e = entry(t);
            file.sections.insert(
                (e.database.clone(), e.raw_table.clone()),
                Section {
                    entry: e,
                    statements: vec![
                        format!("CREATE OR REPLACE VIEW x_{t} AS\nSELECT 'a;'\nFROM y;"),
                        "SELECT 2;".into(),
                    ],
                },
            );
        }
        let text = file.render("/lake", "panorama");
        assert!(text.contains("CREATE SCHEMA IF NOT EXISTS \"panorama\";"));
        assert!(text.ends_with("USE \"panorama\";\n"));
        assert!(text.find("openedx_raw_a").unwrap() < text.find("openedx_raw_b").unwrap());
        assert_eq!(CatalogFile::parse(&text).unwrap(), file);
    }

    #[test]
    fn a_truncated_section_is_an_error() {
        let mut file = CatalogFile::default();
        let e = entry("a");
        file.sections.insert(
            (e.database.clone(), e.raw_table.clone()),
            Section {
                entry: e,
                statements: vec!["SELECT 1;".into()],
            },
        );
        let text = file.render("/lake", "panorama");
        let cut = &text[..text.find(END).unwrap()];
        let err = CatalogFile::parse(cut).unwrap_err().to_string();
        assert!(err.contains("has no end"), "{err}");
    }
}

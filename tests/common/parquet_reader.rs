//! Parquet lake files read by pyarrow (scripts/parquet_read.py): a reader independent of
//! the writer's own crate (arrow-rs) and of DuckDB, and what it should read for MySQL's
//! rows.

use std::path::Path;
use std::process::Command;

use edlake::catalog::view::{mysql_type, SqlType};

use super::*;

/// A Parquet column as pyarrow reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParquetColumn {
    pub name: String,
    /// pyarrow's type: `timestamp[us]`, `decimal128(20, 0)`, `date32[day]`, …
    pub arrow: String,
    /// The Parquet physical type: `INT64`, `FIXED_LEN_BYTE_ARRAY`, …
    pub physical: String,
    /// The Parquet logical type as pyarrow prints it (`None` for none).
    pub logical: String,
    /// The first row group's codec for the column (`ZSTD`).
    pub compression: Option<String>,
    /// Whether the first row group's column chunk has min/max statistics.
    pub statistics: bool,
}

/// A Parquet file as pyarrow read it.
#[derive(Debug, Clone)]
pub struct ParquetRead {
    pub columns: Vec<ParquetColumn>,
    pub row_groups: u64,
    /// Values in scripts/duckdb_query.py's canonical text.
    pub rows: Vec<Vec<Option<String>>>,
}

impl ParquetRead {
    pub fn column(&self, name: &str) -> &ParquetColumn {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    /// The rows by column name, doubles in [`float_text`]'s form.
    pub fn records(&self) -> Vec<Record> {
        self.rows
            .iter()
            .map(|row| {
                self.columns
                    .iter()
                    .zip(row)
                    .map(|(c, v)| {
                        let v = match c.arrow.as_str() {
                            "double" => v.as_deref().map(float_text),
                            _ => v.clone(),
                        };
                        (c.name.clone(), v)
                    })
                    .collect()
            })
            .collect()
    }
}

/// Reads `file` with pyarrow.
pub fn pyarrow_read(file: &Path) -> ParquetRead {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/parquet_read.py");
    let out = Command::new(python())
        .arg(&script)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => {}
        Some(3) => panic!("pyarrow is missing ({stderr}): run scripts/stack-up.sh"),
        _ => panic!("pyarrow failed on {}: {stderr}", file.display()),
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the script's JSON");
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let columns = json["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| ParquetColumn {
            name: text(&c["name"]).unwrap(),
            arrow: text(&c["arrow"]).unwrap(),
            physical: text(&c["physical"]).unwrap(),
            logical: text(&c["logical"]).unwrap(),
            compression: text(&c["compression"]),
            statistics: c["statistics"].as_bool().unwrap(),
        })
        .collect();
    let rows = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().iter().map(text).collect())
        .collect();
    ParquetRead {
        columns,
        row_groups: json["row_groups"].as_u64().unwrap(),
        rows,
    }
}

/// What a Parquet file holds for a value of MySQL type `column_type` whose MySQL text is
/// `text`, as pyarrow reads it: what the typed view shows ([`typed_text`]), but a TIME is
/// stored as its microseconds since midnight (Hive has no TIME type; the views make it one).
pub fn parquet_text(column_type: &str, text: Option<&str>) -> Option<String> {
    let typed = typed_text(column_type, text)?;
    if mysql_type(column_type) != Some(SqlType::Time) {
        return Some(typed);
    }
    // `HH:MM:SS.ffffff`, within a day.
    let (hms, micros) = typed.split_once('.').unwrap();
    let seconds = hms
        .split(':')
        .map(|p| p.parse::<i64>().unwrap())
        .fold(0, |acc, p| acc * 60 + p);
    Some((seconds * 1_000_000 + micros.parse::<i64>().unwrap()).to_string())
}

/// How many values of MySQL's `table` a Parquet file writes as NULL: those not NULL in
/// MySQL that the column's type cannot hold (zero dates, times outside a day).
pub async fn values_nulled_in_parquet(db: &TestDb, table: &str) -> usize {
    let texts = mysql_records_as(db, table, |_, text| text.map(str::to_string)).await;
    let types: std::collections::HashMap<String, String> =
        mysql_columns(db, table).await.into_iter().collect();
    texts
        .iter()
        .flat_map(|r| r.iter())
        .filter(|(column, text)| {
            text.is_some() && parquet_text(&types[*column], text.as_deref()).is_none()
        })
        .count()
}

//! DuckDB: the local catalog's views run by real DuckDB (scripts/duckdb_query.py, the
//! CLI), and MySQL's rows in the same canonical text, typed as the views should type them,
//! so a test compares strings row for row.

use std::path::{Path, PathBuf};
use std::process::Command;

use edlake::catalog::view::{mysql_type, SqlType};
use sqlx::Row;

use super::*;

/// One row, column → canonical text (None: NULL).
pub type Record = std::collections::BTreeMap<String, Option<String>>;

/// The environment override that turns the DuckDB catalog on ([`edlake_command`] turns it
/// off).
pub const DUCKDB_ON: (&str, &str) = ("EDLAKE_CATALOG__DUCKDB", "true");

/// The catalog file of a local lake with the default prefix.
pub fn catalog_file(lake: &Path) -> PathBuf {
    lake.join("openedx.duckdb.sql")
}

/// What DuckDB answered: the columns with DuckDB's type names, the rows as canonical text
/// (scripts/duckdb_query.py says which).
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl QueryResult {
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|(n, _)| n.as_str()).collect()
    }

    pub fn type_of(&self, column: &str) -> &str {
        self.columns
            .iter()
            .find(|(n, _)| n == column)
            .map(|(_, t)| t.as_str())
            .unwrap_or_else(|| panic!("no column {column} in {:?}", self.names()))
    }

    /// The rows by column name, DOUBLE values in [`float_text`]'s form.
    pub fn records(&self) -> Vec<Record> {
        self.rows
            .iter()
            .map(|row| {
                self.columns
                    .iter()
                    .zip(row)
                    .map(|((name, ty), v)| {
                        let v = match ty.as_str() {
                            "DOUBLE" => v.as_deref().map(float_text),
                            _ => v.clone(),
                        };
                        (name.clone(), v)
                    })
                    .collect()
            })
            .collect()
    }
}

/// How DuckDB is set up before the catalog runs.
#[derive(Debug, Clone, Default)]
pub struct DuckDbOptions {
    /// `SET VARIABLE edlake_lake`.
    pub lake: Option<String>,
    /// httpfs and an S3 secret for this endpoint (moto: path style, no TLS, test/test).
    pub s3_endpoint: Option<String>,
    /// The session's TimeZone.
    pub time_zone: Option<String>,
}

/// Runs the catalog file, then `sql`, in a fresh in-memory DuckDB (the Python package).
pub fn duckdb_query(catalog: &Path, sql: &str, opts: &DuckDbOptions) -> QueryResult {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/duckdb_query.py");
    let mut cmd = Command::new(python());
    cmd.arg(&script).arg(catalog).arg(sql);
    if let Some(lake) = &opts.lake {
        cmd.args(["--lake", lake]);
    }
    if let Some(endpoint) = &opts.s3_endpoint {
        cmd.args(["--s3-endpoint", endpoint]);
        cmd.args(["--extensions", &duckdb_extensions()]);
    }
    if let Some(zone) = &opts.time_zone {
        cmd.args(["--time-zone", zone]);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => {}
        Some(3) => panic!("DuckDB is missing ({stderr}): run scripts/stack-up.sh"),
        _ => panic!(
            "DuckDB failed on {sql:?} over {}: {stderr}",
            catalog.display()
        ),
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the script's JSON");
    let columns = json["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c[0].as_str().unwrap().to_string(),
                c[1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let rows = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .collect();
    QueryResult { columns, rows }
}

/// The DuckDB CLI scripts/stack-up.sh installs.
pub fn duckdb_cli() -> PathBuf {
    let cli = PathBuf::from(stack_var("EDLAKE_TEST_DUCKDB"));
    assert!(
        cli.exists(),
        "the DuckDB CLI {} is missing: run scripts/stack-up.sh",
        cli.display()
    );
    cli
}

/// Where scripts/stack-up.sh put DuckDB's httpfs extension.
pub fn duckdb_extensions() -> String {
    let dir = stack_var("EDLAKE_TEST_DUCKDB_EXTENSIONS");
    assert!(
        Path::new(&dir).is_dir(),
        "DuckDB's extension directory {dir} is missing: run scripts/stack-up.sh"
    );
    dir
}

/// `(name, COLUMN_TYPE)` of a MySQL table, in column order.
pub async fn mysql_columns(db: &TestDb, table: &str) -> Vec<(String, String)> {
    let rows = sqlx::query(
        "SELECT CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR) FROM information_schema.COLUMNS
         WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
    )
    .bind(&db.name)
    .bind(table)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert!(!rows.is_empty(), "no MySQL table {table}");
    rows.iter()
        .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
        .collect()
}

/// Every row of a MySQL table as the typed view should show it: MySQL's own text (read in
/// a UTC session, binary as `HEX()`, bits as numbers) made canonical by [`typed_text`].
pub async fn mysql_records(db: &TestDb, table: &str) -> Vec<Record> {
    mysql_records_as(db, table, typed_text).await
}

/// Every row of a MySQL table, each value MySQL's own text (read in a UTC session, binary
/// as `HEX()`, bits as numbers) made canonical by `canonical(column_type, text)`.
pub async fn mysql_records_as(
    db: &TestDb,
    table: &str,
    canonical: impl Fn(&str, Option<&str>) -> Option<String>,
) -> Vec<Record> {
    let columns = mysql_columns(db, table).await;
    let select: Vec<String> = columns
        .iter()
        .map(|(name, ty)| {
            let c = format!("`{name}`");
            let base = ty.split(['(', ' ']).next().unwrap().to_ascii_lowercase();
            match base.as_str() {
                "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
                    format!("HEX({c})")
                }
                "bit" => format!("CAST({c} + 0 AS CHAR)"),
                "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum"
                | "set" => c,
                _ => format!("CAST({c} AS CHAR)"),
            }
        })
        .collect();
    let mut conn = db.pool.acquire().await.unwrap();
    sqlx::raw_sql("SET time_zone = '+00:00'")
        .execute(&mut *conn)
        .await
        .unwrap();
    let sql = format!("SELECT {} FROM `{table}`", select.join(", "));
    let rows = sqlx::raw_sql(&sql).fetch_all(&mut *conn).await.unwrap();
    rows.iter()
        .map(|row| {
            columns
                .iter()
                .enumerate()
                .map(|(i, (name, ty))| {
                    let bytes: Option<Vec<u8>> = row.try_get_unchecked(i).unwrap();
                    let text = bytes.map(|b| String::from_utf8(b).expect("UTF-8 from MySQL"));
                    (name.clone(), canonical(ty, text.as_deref()))
                })
                .collect()
        })
        .collect()
}

/// What a typed view shows for a value of MySQL type `column_type` whose MySQL text is
/// `text`, in scripts/duckdb_query.py's canonical form: the expectation the tests hold
/// DuckDB to (the Athena view reads the same, docs/csv-dialect.md).
pub fn typed_text(column_type: &str, text: Option<&str>) -> Option<String> {
    let text = text?;
    match mysql_type(column_type) {
        None | Some(SqlType::Varchar) => Some(text.to_string()),
        // Any non-zero value is true, as in MySQL.
        Some(SqlType::Boolean) => Some((text != "0").to_string()),
        Some(SqlType::Integer | SqlType::Bigint) => Some(
            text.parse::<i128>()
                .unwrap_or_else(|_| panic!("{column_type}: {text}"))
                .to_string(),
        ),
        // Exact, with the column's scale, as MySQL writes it.
        Some(SqlType::Decimal(..)) => Some(text.to_string()),
        Some(SqlType::Double) => Some(float_text(text)),
        Some(SqlType::Timestamp) => timestamp_text(text),
        Some(SqlType::Date) => (!zero_in_date(text)).then(|| text.to_string()),
        Some(SqlType::Time) => time_text(text),
        Some(SqlType::Varbinary) => Some(text.to_string()),
    }
}

/// A double's text in one form (Rust's shortest round trip), whoever printed it.
pub fn float_text(text: &str) -> String {
    let v: f64 = text
        .parse()
        .unwrap_or_else(|_| panic!("not a double: {text}"));
    format!("{v:?}")
}

/// MySQL's zero date and dates with a zero month or day: no timestamp holds them.
fn zero_in_date(text: &str) -> bool {
    text.get(5..7) == Some("00") || text.get(8..10) == Some("00")
}

/// `YYYY-MM-DD HH:MM:SS[.f]` with 6 fraction digits; None for zero dates.
pub fn timestamp_text(text: &str) -> Option<String> {
    if zero_in_date(text) {
        return None;
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    Some(format!("{whole}.{fraction:0<6}"))
}

/// `HH:MM:SS.ffffff`; None outside 00:00:00–23:59:59.999999 (Athena's time(6) holds no more,
/// so MySQL's negative and ≥ 24 h TIME values read as NULL).
pub fn time_text(text: &str) -> Option<String> {
    if text.starts_with('-') {
        return None;
    }
    let (hms, fraction) = text.split_once('.').unwrap_or((text, ""));
    let hours: u32 = hms.split(':').next()?.parse().ok()?;
    if hours > 23 {
        return None;
    }
    Some(format!("{hms}.{fraction:0<6}"))
}

/// `text` shortened for a failure message (one value may be a megabyte).
pub fn short(value: &Option<String>) -> String {
    match value {
        None => "NULL".into(),
        Some(v) if v.chars().count() > 80 => {
            let head: String = v.chars().take(60).collect();
            format!("{head:?}… ({} bytes)", v.len())
        }
        Some(v) => format!("{v:?}"),
    }
}

/// Asserts that `actual` and `expected` hold the same rows (as multisets); a failure names
/// the first differing rows by `key` and their differing cells.
pub fn assert_same_rows(what: &str, key: &str, actual: &[Record], expected: &[Record]) {
    let mut a = actual.to_vec();
    let mut e = expected.to_vec();
    a.sort();
    e.sort();
    if a == e {
        return;
    }
    let a_only: Vec<&Record> = a.iter().filter(|r| !e.contains(r)).collect();
    let e_only: Vec<&Record> = e.iter().filter(|r| !a.contains(r)).collect();
    let mut message = format!(
        "{what}: {} rows read, {} expected; {} rows only read, {} only expected",
        a.len(),
        e.len(),
        a_only.len(),
        e_only.len()
    );
    let first = key.to_string();
    let cell = |r: &Record| r.get(&first).cloned().flatten();
    for exp in e_only.iter().take(5) {
        match a_only.iter().find(|r| r.get(&first) == exp.get(&first)) {
            Some(act) => {
                for (col, want) in exp.iter() {
                    let got = act
                        .get(col)
                        .cloned()
                        .unwrap_or(Some("<missing column>".into()));
                    if &got != want {
                        message.push_str(&format!(
                            "\n  {first}={}: {col}: read {} expected {}",
                            short(&cell(exp)),
                            short(&got),
                            short(want)
                        ));
                    }
                }
                for col in act.keys().filter(|c| !exp.contains_key(*c)) {
                    message.push_str(&format!("\n  unexpected column {col}"));
                }
            }
            None => message.push_str(&format!("\n  not read: {first}={}", short(&cell(exp)))),
        }
    }
    for act in a_only.iter().take(5) {
        if !e_only.iter().any(|r| r.get(&first) == act.get(&first)) {
            message.push_str(&format!("\n  only read: {first}={}", short(&cell(act))));
        }
    }
    panic!("{message}");
}

/// Every row of a table's CSV files in a local lake, read as Athena reads them, with its
/// partition values from the path, typed as the view should show it: `types` maps each
/// file column to its MySQL type (partition columns are text).
pub fn lake_records(lake: &Path, table: &str, types: &[(&str, &str)]) -> Vec<Record> {
    let dir = format!("openedx/{table}/");
    let mut out = Vec::new();
    for key in files_under(lake) {
        let Some(rest) = key.strip_prefix(&dir) else {
            continue;
        };
        if !key.ends_with(".csv") {
            continue;
        }
        let (partitions, _) = rest.rsplit_once('/').expect("a partitioned file");
        let values: Vec<(String, Option<String>)> = partitions
            .split('/')
            .map(|p| {
                let (k, v) = p.split_once('=').expect("key=value");
                let v = (v != edlake::lake::HIVE_DEFAULT_PARTITION)
                    .then(|| edlake::lake::unescape_path_name(v));
                (k.to_string(), v)
            })
            .collect();
        let data = std::fs::read(lake.join(&key)).unwrap();
        for row in read_table_file(&data).1 {
            let mut record: Record = row
                .into_iter()
                .map(|(column, value)| {
                    let ty = types
                        .iter()
                        .find(|(n, _)| *n == column)
                        .unwrap_or_else(|| panic!("{key}: no type for column {column}"))
                        .1;
                    let typed = typed_text(ty, value.as_deref());
                    (column, typed)
                })
                .collect();
            for (k, v) in &values {
                record.insert(k.clone(), v.clone());
            }
            out.push(record);
        }
    }
    out
}

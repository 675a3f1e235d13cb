//! The raw tables of the DuckDB catalog: views over DuckDB's own readers that return what
//! Athena's raw tables return. A CSV column is the text of the dialect's layer 1 (the
//! file's layer-2 doubling undone), a partition column its unescaped directory value
//! (Hive's default partition as NULL), and `"$path"` the file, as Athena's pseudo-column.

use super::super::api::{CatalogColumn, TableFormat, TableSpec};
use super::super::view::{quote_ident, quote_literal, PATH_COLUMN};
use crate::lake::HIVE_DEFAULT_PARTITION;

/// The column DuckDB's readers name the file in; renamed `"$path"` by the view (a data
/// column may well be called `filename`, DuckDB's default).
const FILE_COLUMN: &str = "__edlake_file";

/// The longest line a CSV file may hold. DuckDB's default (2 MB) is below what a MySQL
/// `mediumtext` holds; this is its buffer per file, not an allocation per row.
const MAX_LINE_BYTES: u64 = 64 << 20;

/// What the raw view reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Files {
    /// The files matching a glob, given as a SQL string expression.
    Glob(String),
    /// No file exists yet: DuckDB's readers fail on an empty glob, so the view is an empty
    /// select with the same columns.
    None,
}

/// The glob of every file of the table under the SQL string expression `dir` (the table's
/// directory, ending in `/`): one level per partition key, as the layout writes them.
pub fn glob(spec: &TableSpec, dir: &str) -> String {
    let mut pattern = String::new();
    for key in &spec.partition_keys {
        pattern.push_str(&key.name);
        pattern.push_str("=*/");
    }
    pattern.push('*');
    pattern.push_str(spec.format.suffix());
    format!("{dir} || {}", quote_literal(&pattern))
}

/// `CREATE OR REPLACE VIEW "database"."raw_table"` for `spec` with the raw `columns`.
pub fn raw_view_sql(
    database: &str,
    spec: &TableSpec,
    columns: &[CatalogColumn],
    files: &Files,
) -> String {
    let name = format!("{}.{}", quote_ident(database), quote_ident(&spec.raw_table));
    let types: Vec<(String, String)> = columns
        .iter()
        .map(|c| (c.name.clone(), duckdb_type(&c.glue_type)))
        .collect();
    let glob = match files {
        Files::Glob(glob) => glob,
        Files::None => {
            let mut select: Vec<String> = types
                .iter()
                .map(|(n, t)| format!("CAST(NULL AS {t}) AS {}", quote_ident(n)))
                .collect();
            select.extend(
                spec.partition_keys
                    .iter()
                    .map(|k| format!("CAST(NULL AS VARCHAR) AS {}", quote_ident(&k.name))),
            );
            select.push(format!(
                "CAST(NULL AS VARCHAR) AS {}",
                quote_ident(PATH_COLUMN)
            ));
            return format!(
                "CREATE OR REPLACE VIEW {name} AS\nSELECT\n  {}\nWHERE false",
                select.join(",\n  ")
            );
        }
    };
    let mut select: Vec<String> = columns
        .iter()
        .map(|c| {
            let q = quote_ident(&c.name);
            match spec.format {
                // Layer 2 is every backslash doubled, nothing else.
                TableFormat::Csv => format!("replace({q}, '\\\\', '\\') AS {q}"),
                TableFormat::GzipJsonLines | TableFormat::Parquet => q,
            }
        })
        .collect();
    select.extend(spec.partition_keys.iter().map(|k| {
        let q = quote_ident(&k.name);
        format!(
            "NULLIF({q}, {}) AS {q}",
            quote_literal(HIVE_DEFAULT_PARTITION)
        )
    }));
    select.push(format!(
        "{} AS {}",
        quote_ident(FILE_COLUMN),
        quote_ident(PATH_COLUMN)
    ));
    let column_types = struct_literal(&types);
    let hive_types = struct_literal(
        &spec
            .partition_keys
            .iter()
            .map(|k| (k.name.clone(), "VARCHAR".to_string()))
            .collect::<Vec<_>>(),
    );
    let reader = match spec.format {
        // Every field is quoted, so no field is NULL to the reader (`\N` is the NULL);
        // files written before a column was appended are short, and padded with NULL.
        TableFormat::Csv => format!(
            "read_csv({glob}, columns = {column_types}, header = true, auto_detect = false, \
             delim = ',', quote = '\"', escape = '\"', allow_quoted_nulls = false, \
             null_padding = true, max_line_size = {MAX_LINE_BYTES}, hive_partitioning = true, \
             hive_types = {hive_types}, filename = {})",
            quote_literal(FILE_COLUMN)
        ),
        TableFormat::GzipJsonLines => format!(
            "read_json({glob}, format = 'newline_delimited', columns = {column_types}, \
             compression = 'gzip', hive_partitioning = true, hive_types = {hive_types}, \
             filename = {})",
            quote_literal(FILE_COLUMN)
        ),
        // Typed already; columns by name, as ParquetHiveSerDe reads them, so files written
        // before a column was added read it as NULL.
        TableFormat::Parquet => format!(
            "read_parquet({glob}, union_by_name = true, hive_partitioning = true, \
             hive_types = {hive_types}, filename = {})",
            quote_literal(FILE_COLUMN)
        ),
    };
    format!(
        "CREATE OR REPLACE VIEW {name} AS\nSELECT\n  {}\nFROM {reader}",
        select.join(",\n  ")
    )
}

/// `{'a': 'VARCHAR', …}`: the column types a DuckDB reader takes.
fn struct_literal(pairs: &[(String, String)]) -> String {
    let items: Vec<String> = pairs
        .iter()
        .map(|(n, t)| format!("{}: {}", quote_literal(n), quote_literal(t)))
        .collect();
    format!("{{{}}}", items.join(", "))
}

/// The DuckDB type of a Hive (Glue) column type: `string`, scalars, `struct<…>`, `array<…>`.
pub fn duckdb_type(hive: &str) -> String {
    let hive = hive.trim();
    let lower = hive.to_ascii_lowercase();
    if let Some(inner) = lower
        .strip_prefix("struct<")
        .and_then(|s| s.strip_suffix('>'))
    {
        let fields: Vec<String> = split_top_level(inner)
            .into_iter()
            .filter_map(|field| {
                let (name, ty) = field.split_once(':')?;
                Some(format!("{} {}", quote_ident(name.trim()), duckdb_type(ty)))
            })
            .collect();
        return format!("STRUCT({})", fields.join(", "));
    }
    if let Some(inner) = lower
        .strip_prefix("array<")
        .and_then(|s| s.strip_suffix('>'))
    {
        return format!("{}[]", duckdb_type(inner));
    }
    if lower.starts_with("decimal(") {
        return lower.to_ascii_uppercase();
    }
    match lower.as_str() {
        "timestamp" => "TIMESTAMP".into(),
        "date" => "DATE".into(),
        "tinyint" | "smallint" | "int" | "integer" => "INTEGER".into(),
        "bigint" => "BIGINT".into(),
        "boolean" => "BOOLEAN".into(),
        "double" | "float" => "DOUBLE".into(),
        "binary" => "BLOB".into(),
        _ => "VARCHAR".into(),
    }
}

/// `a:string,b:struct<c:int,d:int>` split on its top-level commas.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, ch) in s.char_indices() {
        match ch {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_types_become_duckdb_types() {
        assert_eq!(duckdb_type("string"), "VARCHAR");
        assert_eq!(
            duckdb_type("struct<course_id:string,user_id:string>"),
            r#"STRUCT("course_id" VARCHAR, "user_id" VARCHAR)"#
        );
        assert_eq!(
            duckdb_type("struct<a:struct<b:bigint,c:string>,d:array<string>>"),
            r#"STRUCT("a" STRUCT("b" BIGINT, "c" VARCHAR), "d" VARCHAR[])"#
        );
    }
}

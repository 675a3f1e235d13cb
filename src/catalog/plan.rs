//! The pure planning of a sync: the raw table's definition, its columns after schema drift,
//! and the partition writes that bring Glue to the lake. No I/O: the engine reads Glue,
//! asks these what to write, and writes it.

use std::collections::{BTreeMap, HashMap};

use super::api::{
    CatalogColumn, GluePartition, PartitionSpec, TableDefinition, TableFormat, TableSpec,
    JSON_SERDE, OPENCSV_SERDE, PARQUET_SERDE,
};
use crate::table::SqlType;

/// The Hive type Glue declares for a Parquet column of `ty`. Hive has no TIME: a TIME is
/// stored as microseconds since midnight, a `bigint`, and the view makes it a time.
pub fn hive_type(ty: SqlType) -> String {
    match ty {
        SqlType::Varchar => "string".into(),
        SqlType::Boolean => "boolean".into(),
        SqlType::Integer => "int".into(),
        SqlType::Bigint | SqlType::Time => "bigint".into(),
        SqlType::Decimal(p, s) => format!("decimal({p},{s})"),
        SqlType::Double => "double".into(),
        SqlType::Timestamp => "timestamp".into(),
        SqlType::Date => "date".into(),
        SqlType::Varbinary => "binary".into(),
    }
}

impl TableDefinition {
    /// The format of the files this definition reads, from its SerDe.
    pub fn format(&self) -> Option<TableFormat> {
        match self.serde_library.as_str() {
            OPENCSV_SERDE => Some(TableFormat::Csv),
            JSON_SERDE => Some(TableFormat::GzipJsonLines),
            PARQUET_SERDE => Some(TableFormat::Parquet),
            _ => None,
        }
    }
}

/// The raw table's column for a source column (name and MySQL column type) in `format`:
/// every CSV column is a `string` the view decodes; a Parquet column has its stored type.
pub fn file_column(format: TableFormat, name: &str, mysql_type: &str) -> CatalogColumn {
    match format {
        TableFormat::Parquet => CatalogColumn::typed(
            name,
            &hive_type(crate::table::sql_type(mysql_type)),
            mysql_type,
        ),
        _ => CatalogColumn::new(name, mysql_type),
    }
}

/// The catalog's columns of a table as `spec`'s format types them. After a switch of
/// format every file is rewritten, columns the source lost included (as NULL), so their
/// raw types must follow: a CSV `string` becomes the Parquet column's type, and back.
pub fn columns_in_format(
    existing: Vec<CatalogColumn>,
    existing_format: Option<TableFormat>,
    spec: &TableSpec,
) -> Vec<CatalogColumn> {
    if existing_format == Some(spec.format) || spec.format == TableFormat::GzipJsonLines {
        return existing;
    }
    existing
        .iter()
        .map(|c| file_column(spec.format, &c.name, &c.mysql_type))
        .collect()
}

/// Fails when `spec`, a Parquet table, gives a column another type than the Parquet table
/// `what` has (a table of another format is being switched: its files are all rewritten).
pub fn same_types(
    spec: &TableSpec,
    existing_format: Option<TableFormat>,
    existing: &[CatalogColumn],
    what: &str,
) -> anyhow::Result<()> {
    if spec.format != TableFormat::Parquet || existing_format != Some(TableFormat::Parquet) {
        return Ok(());
    }
    let changes = type_changes(existing, &spec.columns);
    if !changes.is_empty() {
        anyhow::bail!(
            "{what}: the source changed the type of column(s) {}; the Parquet files hold the old type. \
             Rewrite the table: delete its files of this LMS and its catalog entries \
             (the Glue table, or its section of the DuckDB catalog), then run `edlake extract --full --table {}`",
            changes.join(", "),
            spec.table
        );
    }
    Ok(())
}

/// The columns of a Parquet table whose stored type differs between what the catalog has
/// and what the source now gives: `name: old → new`. Files already written hold the old
/// type, so such a column cannot be reinterpreted in place.
pub fn type_changes(existing: &[CatalogColumn], source: &[CatalogColumn]) -> Vec<String> {
    existing
        .iter()
        .filter_map(|old| {
            let now = source.iter().find(|s| s.name == old.name)?;
            (now.glue_type != old.glue_type)
                .then(|| format!("{}: {} → {}", old.name, old.glue_type, now.glue_type))
        })
        .collect()
}

// The definition a table should have, and whether Glue's already is it, are planning: they
// live here, the type in api.rs.
impl TableDefinition {
    /// The raw table for `spec` with `columns` (already merged with the existing table).
    pub fn raw_table(spec: &TableSpec, columns: Vec<CatalogColumn>) -> TableDefinition {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let (serde_library, serde_parameters, parameters) = match spec.format {
            TableFormat::Csv => (
                OPENCSV_SERDE,
                // The dialect of docs/csv-dialect.md.
                map(&[
                    ("separatorChar", ","),
                    ("quoteChar", "\""),
                    ("escapeChar", "\\"),
                ]),
                map(&[
                    ("EXTERNAL", "TRUE"),
                    ("classification", "csv"),
                    ("skip.header.line.count", "1"),
                ]),
            ),
            TableFormat::Parquet => (
                PARQUET_SERDE,
                BTreeMap::new(),
                map(&[("EXTERNAL", "TRUE"), ("classification", "parquet")]),
            ),
            // Gzip is detected from the `.gz` suffix; the parameters are informational.
            TableFormat::GzipJsonLines => (
                JSON_SERDE,
                BTreeMap::new(),
                map(&[
                    ("EXTERNAL", "TRUE"),
                    ("classification", "json"),
                    ("compressionType", "gzip"),
                ]),
            ),
        };
        TableDefinition {
            table_type: "EXTERNAL_TABLE".into(),
            columns,
            partition_keys: spec.partition_keys.iter().map(|k| k.name.clone()).collect(),
            location: spec.location.clone(),
            serde_library: serde_library.into(),
            serde_parameters,
            parameters,
        }
    }

    /// Whether this (existing) definition already is `desired`, ignoring parameters that
    /// others own.
    pub fn covers(&self, desired: &TableDefinition) -> bool {
        let contains = |have: &BTreeMap<String, String>, want: &BTreeMap<String, String>| {
            want.iter().all(|(k, v)| have.get(k) == Some(v))
        };
        self.table_type == desired.table_type
            && self.columns == desired.columns
            && self.partition_keys == desired.partition_keys
            && self.location == desired.location
            && self.serde_library == desired.serde_library
            && contains(&self.serde_parameters, &desired.serde_parameters)
            && contains(&self.parameters, &desired.parameters)
    }

    /// `desired` with the parameters others set on this definition kept.
    pub(super) fn merged_into(&self, desired: &TableDefinition) -> TableDefinition {
        let mut out = desired.clone();
        for (k, v) in &self.parameters {
            out.parameters.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, v) in &self.serde_parameters {
            out.serde_parameters
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
        out
    }
}

/// Columns of the Glue table from now on: the existing ones in their order (the source's
/// current type where the source still has them), then the source's new ones appended.
/// OpenCSVSerde maps columns by position, so a column is never moved or removed.
pub fn merge_columns(
    existing: &[CatalogColumn],
    source: &[CatalogColumn],
) -> (Vec<CatalogColumn>, Vec<String>, Vec<String>) {
    let mut merged = Vec::with_capacity(existing.len().max(source.len()));
    let mut absent = Vec::new();
    for old in existing {
        match source.iter().find(|s| s.name == old.name) {
            Some(now) => merged.push(now.clone()),
            None => {
                absent.push(old.name.clone());
                merged.push(old.clone());
            }
        }
    }
    let mut added = Vec::new();
    for col in source {
        if !existing.iter().any(|e| e.name == col.name) {
            added.push(col.name.clone());
            merged.push(col.clone());
        }
    }
    (merged, added, absent)
}

/// Writes that bring Glue's partitions (of one LMS) to `desired`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PartitionPlan {
    pub create: Vec<PartitionSpec>,
    pub update: Vec<PartitionSpec>,
    pub delete: Vec<Vec<String>>,
}

pub fn plan_partitions(
    existing: &[GluePartition],
    desired: &[PartitionSpec],
    def: &TableDefinition,
) -> PartitionPlan {
    let have: HashMap<&[String], &GluePartition> =
        existing.iter().map(|p| (p.values.as_slice(), p)).collect();
    let want: HashMap<&[String], &PartitionSpec> =
        desired.iter().map(|p| (p.values.as_slice(), p)).collect();
    let mut plan = PartitionPlan::default();
    for spec in desired {
        match have.get(spec.values.as_slice()) {
            None => plan.create.push(spec.clone()),
            Some(old) => {
                // A partition is read with its own storage descriptor: after a column is
                // appended or a location moves (a Panorama-registered `%2B` path), it must
                // be rewritten too.
                if old.location != spec.location
                    || old.columns != def.columns
                    || old.serde_library != def.serde_library
                {
                    plan.update.push(spec.clone());
                }
            }
        }
    }
    for old in existing {
        if !want.contains_key(old.values.as_slice()) {
            plan.delete.push(old.values.clone());
        }
    }
    plan.create.sort();
    plan.update.sort();
    plan.delete.sort();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_appends_new_columns_and_keeps_gone_ones() {
        let cols = |names: &[&str]| -> Vec<CatalogColumn> {
            names.iter().map(|n| CatalogColumn::new(n, "int")).collect()
        };
        let (merged, added, absent) =
            merge_columns(&cols(&["a", "b", "c"]), &cols(&["c", "d", "a"]));
        let names: Vec<_> = merged.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
        assert_eq!(added, ["d"]);
        assert_eq!(absent, ["b"]);
        let (merged, added, _) = merge_columns(&[], &cols(&["X", "y"]));
        assert_eq!(merged[0].name, "x");
        assert_eq!(added, ["x", "y"]);
    }

    #[test]
    fn a_switch_of_format_retypes_every_column_the_catalog_has() {
        let spec = |format| TableSpec {
            table: "t".into(),
            raw_table: "openedx_raw_t".into(),
            view: "openedx_table_t".into(),
            location: "s3://b/openedx/t/".into(),
            columns: vec![],
            partition_keys: vec![CatalogColumn::new("lms", "varchar(255)")],
            base_keys: 1,
            view_order: None,
            format,
            view_select: None,
            dedup: None,
        };
        // `gone` is no longer in the source: it stays, typed for the new format.
        let csv = vec![
            CatalogColumn::new("id", "int(11)"),
            CatalogColumn::new("gone", "datetime(6)"),
        ];
        let parquet = columns_in_format(
            csv.clone(),
            Some(TableFormat::Csv),
            &spec(TableFormat::Parquet),
        );
        let types: Vec<&str> = parquet.iter().map(|c| c.glue_type.as_str()).collect();
        assert_eq!(types, ["bigint", "timestamp"]);
        let back = columns_in_format(parquet, Some(TableFormat::Parquet), &spec(TableFormat::Csv));
        assert_eq!(back, csv);
        let same = columns_in_format(csv.clone(), Some(TableFormat::Csv), &spec(TableFormat::Csv));
        assert_eq!(same, csv);
    }
}

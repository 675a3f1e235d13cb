//! The local catalog: a DuckDB SQL file beside the lake (`<root>/<prefix>.duckdb.sql`)
//! defining, under the Glue database's name, the same raw tables and typed views as Glue
//! and Athena, so the lake is queryable with DuckDB's CLI or Python package and nothing
//! else. DuckDB finds the files by glob at query time, so partitions need no registering:
//! the file changes only when a table's columns or views do, or its first file appears.
//!
//! The file is written by compare-and-swap ([`Store::put_if`]): tables are synced under
//! their own leases, concurrently, and each rewrites only its own section.

pub mod file;
pub mod raw;

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use async_trait::async_trait;
use bytes::Bytes;

use super::api::{
    Catalog, CatalogColumn, Deletes, ExistingTable, PartitionSpec, SyncReport, TableFormat,
    TableSpec,
};
use super::plan::{columns_in_format, merge_columns, same_types};
use super::view::{create_view_sql, duckdb::DuckDb, quote_literal, spec_view};
use crate::config::{Config, LakeLocation};
use crate::store::Store;
use file::{root_expression, CatalogFile, Entry, Section};
use raw::{glob, raw_view_sql, Files};

/// How often a sync retries its compare-and-swap when other tables' syncs keep winning.
const MAX_ATTEMPTS: usize = 20;

pub struct DuckDbCatalog {
    store: Arc<dyn Store>,
    /// The file's key in the store.
    key: String,
    /// The lake root as DuckDB reads it: an absolute path or `s3://bucket[/root]`.
    root: String,
    database: String,
}

/// The catalog file's key: beside the prefix's directory, outside every table.
pub fn file_key(prefix: &str) -> String {
    format!("{}.duckdb.sql", prefix.trim_matches('/'))
}

/// The lake root as DuckDB reads it.
pub fn lake_root(location: &LakeLocation) -> Result<String> {
    Ok(match location {
        LakeLocation::Local(path) => std::path::absolute(path)
            .with_context(|| format!("the absolute path of {}", path.display()))?
            .display()
            .to_string()
            .trim_end_matches('/')
            .to_string(),
        LakeLocation::S3 { bucket, root } => {
            let root = root.trim_matches('/');
            if root.is_empty() {
                format!("s3://{bucket}")
            } else {
                format!("s3://{bucket}/{root}")
            }
        }
    })
}

impl DuckDbCatalog {
    pub fn new(store: Arc<dyn Store>, key: &str, root: &str, database: &str) -> DuckDbCatalog {
        DuckDbCatalog {
            store,
            key: key.to_string(),
            root: root.to_string(),
            database: database.to_string(),
        }
    }

    /// The catalog of the lake `config` describes, in `store` (the lake's).
    pub fn open(config: &Config, store: Arc<dyn Store>) -> Result<DuckDbCatalog> {
        Ok(DuckDbCatalog::new(
            store,
            &file_key(&config.datalake.prefix),
            &lake_root(&config.lake_location()?)?,
            &config.catalog.database,
        ))
    }

    /// The file as stored now, and its version (None: no file yet).
    async fn read(&self) -> Result<(CatalogFile, Option<String>)> {
        match self
            .store
            .get_versioned(&self.key)
            .await
            .with_context(|| format!("reading the DuckDB catalog {}", self.describe()))?
        {
            None => Ok((CatalogFile::default(), None)),
            Some((bytes, version)) => {
                let text = std::str::from_utf8(&bytes).with_context(|| {
                    format!("the DuckDB catalog {} is not UTF-8", self.describe())
                })?;
                Ok((CatalogFile::parse(text)?, Some(version)))
            }
        }
    }

    /// The views the file defines now (None: no file yet), for `edlake check`.
    pub async fn views(&self) -> Result<Option<Vec<String>>> {
        let (file, version) = self.read().await?;
        Ok(version.map(|_| {
            file.sections
                .values()
                .map(|s| s.entry.view.clone())
                .collect()
        }))
    }

    /// The SQL string expression of a table's directory (ending in `/`): under the lake
    /// root through the variable, or literally when the table lives elsewhere (tracking
    /// logs with their own `tracking_logs.url`).
    fn dir_expression(&self, location: &str) -> String {
        let location = if location.ends_with('/') {
            location.to_string()
        } else {
            format!("{location}/")
        };
        match location.strip_prefix(&format!("{}/", self.root)) {
            Some(rest) => format!(
                "{} || {}",
                root_expression(&self.root),
                quote_literal(&format!("/{rest}"))
            ),
            None => quote_literal(&location),
        }
    }

    /// Whether any file of the table is left in the lake (when this LMS has none).
    async fn table_has_files(&self, spec: &TableSpec) -> Result<bool> {
        let Some(dir) = spec.location.strip_prefix(&format!("{}/", self.root)) else {
            // Elsewhere: not ours to list; keep what the last sync saw.
            return Ok(true);
        };
        let suffix = spec.format.suffix();
        let keys = self
            .store
            .list(dir)
            .await
            .with_context(|| format!("listing {dir} for the DuckDB catalog"))?;
        Ok(keys.iter().any(|k| k.ends_with(suffix)))
    }

    /// The section `spec` should have, given the raw `columns` and whether files exist.
    fn section(&self, spec: &TableSpec, columns: &[CatalogColumn], files: bool) -> Section {
        let source = if files {
            Files::Glob(glob(spec, &self.dir_expression(&spec.location)))
        } else {
            Files::None
        };
        let raw = raw_view_sql(&self.database, spec, columns, &source);
        let view = create_view_sql(
            &DuckDb,
            &self.database,
            &spec.view,
            &spec.raw_table,
            &spec_view(spec, columns),
        );
        Section {
            entry: Entry {
                database: self.database.clone(),
                raw_table: spec.raw_table.clone(),
                view: spec.view.clone(),
                columns: Entry::columns_of(columns),
                partition_keys: spec.partition_keys.iter().map(|k| k.name.clone()).collect(),
                files,
                format: format_name(spec.format).into(),
            },
            statements: vec![format!("{raw};"), format!("{view};")],
        }
    }
}

#[async_trait]
impl Catalog for DuckDbCatalog {
    fn describe(&self) -> String {
        format!(
            "{}/{}",
            self.store.describe().trim_end_matches('/'),
            self.key
        )
    }

    async fn ensure_database(&self, _dry_run: bool) -> Result<Option<String>> {
        // The schema is created by the file itself, on every open.
        Ok(None)
    }

    async fn existing_table(&self, raw_table: &str) -> Result<Option<ExistingTable>> {
        let (file, _) = self.read().await?;
        Ok(file
            .entry(&self.database, raw_table)
            .map(|s| ExistingTable {
                columns: s.entry.catalog_columns(),
                format: format_of_name(&s.entry.format),
            }))
    }

    async fn sync_table(
        &self,
        spec: &TableSpec,
        desired: &[PartitionSpec],
        _deletes: Deletes<'_>,
        dry_run: bool,
    ) -> Result<SyncReport> {
        let mut report = SyncReport {
            table: spec.table.clone(),
            raw_table: spec.raw_table.clone(),
            view: spec.view.clone(),
            partitions: desired.len(),
            ..Default::default()
        };
        let db = &self.database;
        for _ in 0..MAX_ATTEMPTS {
            let (mut file, version) = self.read().await?;
            let existing = file.entry(db, &spec.raw_table).cloned();
            let old_columns = match &existing {
                Some(s) => columns_in_format(
                    s.entry.catalog_columns(),
                    format_of_name(&s.entry.format),
                    spec,
                ),
                None => Vec::new(),
            };
            if let Some(old) = &existing {
                let keys: Vec<String> =
                    spec.partition_keys.iter().map(|k| k.name.clone()).collect();
                if old.entry.partition_keys != keys {
                    bail!(
                        "the DuckDB catalog has {db}.{} partitioned by ({}) but the config says ({}); \
                         delete its section (or the file {}) and run `edlake catalog sync`",
                        spec.raw_table,
                        old.entry.partition_keys.join(", "),
                        keys.join(", "),
                        self.describe()
                    );
                }
            }
            if let Some(old) = &existing {
                same_types(
                    spec,
                    format_of_name(&old.entry.format),
                    &old_columns,
                    &format!("the DuckDB catalog's {db}.{}", spec.raw_table),
                )?;
            }
            let (columns, added, absent) = merge_columns(&old_columns, &spec.columns);
            report.added_columns = if existing.is_some() {
                added
            } else {
                Vec::new()
            };
            report.absent_columns = absent;
            let files = !desired.is_empty()
                || match &existing {
                    Some(old) if old.entry.files => self.table_has_files(spec).await?,
                    _ => false,
                };
            let section = self.section(spec, &columns, files);
            report.operations.clear();
            match &existing {
                Some(old) if *old == section => return Ok(report),
                Some(old) => {
                    report.table_change = Some("updated");
                    report.view_replaced = old.statements.get(1) != section.statements.get(1);
                }
                None => {
                    report.table_change = Some("created");
                    report.view_replaced = true;
                }
            }
            report.operations.push(format!(
                "{} DuckDB views {db}.{} and {db}.{} in {}",
                if existing.is_some() {
                    "replace"
                } else {
                    "create"
                },
                spec.raw_table,
                spec.view,
                self.describe()
            ));
            if dry_run {
                return Ok(report);
            }
            file.sections
                .insert((db.clone(), spec.raw_table.clone()), section);
            let text = file.render(&self.root, db);
            let written = self
                .store
                .put_if(&self.key, Bytes::from(text), version.as_deref())
                .await
                .with_context(|| format!("writing the DuckDB catalog {}", self.describe()))?;
            if written.is_some() {
                return Ok(report);
            }
            // Another table's sync wrote the file meanwhile: merge with its version.
        }
        bail!(
            "the DuckDB catalog {} kept changing under {} attempts to write {}'s section; run `edlake catalog sync` again",
            self.describe(),
            MAX_ATTEMPTS,
            spec.raw_table
        )
    }
}

/// An entry's name of a format.
fn format_name(format: TableFormat) -> &'static str {
    match format {
        TableFormat::Csv => "csv",
        TableFormat::GzipJsonLines => "json",
        TableFormat::Parquet => "parquet",
    }
}

fn format_of_name(name: &str) -> Option<TableFormat> {
    [
        TableFormat::Csv,
        TableFormat::GzipJsonLines,
        TableFormat::Parquet,
    ]
    .into_iter()
    .find(|f| format_name(*f) == name)
}

#[cfg(test)]
mod tests;

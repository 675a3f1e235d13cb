//! The catalogs a config keeps in step, behind one handle: the jobs sync a table once and
//! every catalog that is on follows (Glue and Athena for an S3 lake, the DuckDB file for
//! any lake).

use std::sync::Arc;

use anyhow::Result;

use super::api::{Catalog, Deletes, ExistingTable, PartitionSpec, SyncReport, TableSpec};
use super::duckdb::DuckDbCatalog;
use super::glue::GlueCatalog;
use crate::config::Config;
use crate::store::Store;

pub struct Catalogs {
    backends: Vec<Box<dyn Catalog>>,
}

impl Catalogs {
    pub fn new(backends: Vec<Box<dyn Catalog>>) -> Catalogs {
        Catalogs { backends }
    }

    /// Every catalog `config` turns on: Glue first, whose columns the files follow when it
    /// has the table.
    pub async fn open(config: &Config) -> Result<Catalogs> {
        let lake = if config.duckdb_catalog_enabled() {
            Some(crate::store::open(config).await?)
        } else {
            None
        };
        Catalogs::open_in(config, lake).await
    }

    /// [`Catalogs::open`] with the lake's store already open.
    pub async fn open_with(config: &Config, lake: Arc<dyn Store>) -> Result<Catalogs> {
        Catalogs::open_in(config, Some(lake)).await
    }

    async fn open_in(config: &Config, lake: Option<Arc<dyn Store>>) -> Result<Catalogs> {
        let mut backends: Vec<Box<dyn Catalog>> = Vec::new();
        if config.catalog_enabled() {
            backends.push(Box::new(GlueCatalog::open(config).await?));
        }
        if let (true, Some(lake)) = (config.duckdb_catalog_enabled(), lake) {
            backends.push(Box::new(DuckDbCatalog::open(config, lake)?));
        }
        Ok(Catalogs { backends })
    }

    pub fn is_empty(&self) -> bool {
        self.backends.is_empty()
    }

    pub fn describe(&self) -> String {
        let names: Vec<String> = self.backends.iter().map(|b| b.describe()).collect();
        names.join(" and ")
    }

    /// Creates each catalog's database when missing; the operations made (or planned).
    pub async fn ensure_database(&self, dry_run: bool) -> Result<Vec<String>> {
        let mut made = Vec::new();
        for backend in &self.backends {
            made.extend(backend.ensure_database(dry_run).await?);
        }
        Ok(made)
    }

    /// The raw table as the first catalog that has it has it.
    pub async fn existing_table(&self, raw_table: &str) -> Result<Option<ExistingTable>> {
        for backend in &self.backends {
            if let Some(table) = backend.existing_table(raw_table).await? {
                return Ok(Some(table));
            }
        }
        Ok(None)
    }

    /// Syncs the table in every catalog, in order; the first failure stops it.
    pub async fn sync_table(
        &self,
        spec: &TableSpec,
        desired: &[PartitionSpec],
        deletes: Deletes<'_>,
        dry_run: bool,
    ) -> Result<SyncReport> {
        let mut merged: Option<SyncReport> = None;
        for backend in &self.backends {
            let report = backend.sync_table(spec, desired, deletes, dry_run).await?;
            merged = Some(match merged {
                None => report,
                Some(m) => merge(m, report),
            });
        }
        Ok(merged.unwrap_or_else(|| SyncReport {
            table: spec.table.clone(),
            raw_table: spec.raw_table.clone(),
            view: spec.view.clone(),
            partitions: desired.len(),
            ..Default::default()
        }))
    }
}

/// One report of two catalogs' syncs of the same table: counts add up, the first catalog's
/// column report stands.
fn merge(mut a: SyncReport, b: SyncReport) -> SyncReport {
    if a.added_columns.is_empty() {
        a.added_columns = b.added_columns;
    }
    if a.absent_columns.is_empty() {
        a.absent_columns = b.absent_columns;
    }
    a.partitions = a.partitions.max(b.partitions);
    a.created += b.created;
    a.updated += b.updated;
    a.deleted += b.deleted;
    a.operations.extend(b.operations);
    a.table_change = a.table_change.or(b.table_change);
    a.view_replaced |= b.view_replaced;
    a.glue_calls += b.glue_calls;
    a.athena_queries += b.athena_queries;
    a
}

//! The catalog spec of a configured MySQL table: its names, location, columns and partition
//! keys, from the table's source plan.

use anyhow::Result;

use super::api::{CatalogColumn, Dedup, TableFormat, TableSpec};
use super::keys::lake_url;
use super::names::{raw_table_name, view_name};
pub use super::plan::file_column;
use crate::config::{Config, TableConfig};
use crate::lake::Layout;
use crate::table::{Column, TablePlan};

/// Catalog columns of source columns (name and MySQL column type), in CSV.
pub fn source_columns(columns: &[Column]) -> Vec<CatalogColumn> {
    columns
        .iter()
        .map(|c| CatalogColumn::new(&c.name, &c.column_type))
        .collect()
}

/// The leading partition keys of every table of this installation: its base partitions
/// (`lms`, …), strings as in Panorama's catalog.
pub fn base_partition_keys(layout: &Layout) -> Vec<CatalogColumn> {
    layout
        .base()
        .iter()
        .map(|b| CatalogColumn::new(&b.name, "varchar(255)"))
        .collect()
}

/// The catalog spec of a configured table, from its source plan.
pub fn table_spec(config: &Config, table: &TableConfig, plan: &TablePlan) -> Result<TableSpec> {
    let layout = config.layout();
    let format = TableFormat::of(config.format_of(table));
    let mut partition_keys = base_partition_keys(&layout);
    partition_keys.extend(source_columns(&plan.partition_columns));
    Ok(TableSpec {
        table: table.name.clone(),
        raw_table: raw_table_name(config, table),
        view: view_name(config, table),
        location: lake_url(config, &layout.table_dir(&table.name))?,
        columns: plan
            .data_columns
            .iter()
            .map(|c| file_column(format, &c.name, &c.column_type))
            .collect(),
        partition_keys,
        base_keys: layout.base().len(),
        view_order: None,
        format,
        view_select: None,
        dedup: plan.incremental.as_ref().map(|i| Dedup {
            key: i.key.clone(),
            latest_by: i.change_column.clone(),
        }),
    })
}

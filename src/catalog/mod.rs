//! The catalogs: AWS Glue tables and partitions with Athena typed views, and a DuckDB
//! catalog file, kept in step with the lake.
//!
//! Every catalog implements one trait ([`Catalog`]); [`Catalogs`] is the set a config turns
//! on. Views come from one model ([`view`]) rendered in Trino's SQL for Athena and in
//! DuckDB's for the local catalog.
//!
//! Glue is driven through its API in batches (never one Athena DDL per partition), every
//! answer is checked, and only differences are written: a rerun over an unchanged lake
//! reads a few pages and writes nothing. Two small traits are its service seams
//! ([`GlueApi`], [`AthenaApi`]); the AWS SDK backs them in production, stubs in unit tests
//! (the emulator ignores Glue's paging and batch limits and never runs SQL).

pub mod api;
pub mod catalogs;
pub mod duckdb;
pub mod glue;
pub mod keys;
pub mod names;
pub mod plan;
pub mod spec;
pub mod view;

pub use api::{
    AthenaApi, Catalog, CatalogColumn, Dedup, Deletes, GlueApi, GluePartition, PartitionFailure,
    PartitionPage, PartitionSpec, Polling, QueryState, QueryStatus, Relist, SyncReport,
    TableDefinition, TableFormat, TableSpec, JSON_SERDE, MAX_CREATE_BATCH, MAX_DELETE_BATCH,
    MAX_UPDATE_BATCH, OPENCSV_SERDE, PARTITION_PAGE_SIZE, VIEW_HASH_PARAMETER, VIRTUAL_VIEW,
};
pub use catalogs::Catalogs;
pub use glue::engine::describe_partition;
pub use glue::GlueCatalog;
pub use keys::{
    lake_url, location_url, partition_values, partitions_from_files, partitions_from_keys,
};
pub use names::{glue_name, raw_table_name, table_prefix, view_name};
pub use plan::{merge_columns, plan_partitions, PartitionPlan};
pub use spec::{source_columns, table_spec};

#[cfg(test)]
mod stubs;

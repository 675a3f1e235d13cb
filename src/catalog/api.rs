//! The catalog's API: what the entries of a lake table are made from ([`TableSpec`]), what
//! a sync did ([`SyncReport`]), the seam every catalog implements ([`Catalog`]), and for
//! the Glue backend what Glue holds ([`TableDefinition`], [`GluePartition`]) and its two
//! service seams ([`GlueApi`], [`AthenaApi`]), which the AWS SDK implements in production
//! (catalog/glue/) and stubs implement in unit tests.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use async_trait::async_trait;

use super::view::ViewColumn;

pub const OPENCSV_SERDE: &str = "org.apache.hadoop.hive.serde2.OpenCSVSerde";
/// Hive's JSON SerDe, which AWS advises over OpenX's (athena-glue.md §8).
pub const JSON_SERDE: &str = "org.apache.hive.hcatalog.data.JsonSerDe";
pub const PARQUET_SERDE: &str = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";

/// The input and output formats Glue records beside a SerDe.
pub fn io_formats(serde_library: &str) -> (&'static str, &'static str) {
    if serde_library == PARQUET_SERDE {
        (
            "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        )
    } else {
        (
            "org.apache.hadoop.mapred.TextInputFormat",
            "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        )
    }
}
pub const VIRTUAL_VIEW: &str = "VIRTUAL_VIEW";
/// Raw-table parameter holding the SHA-256 of the view statement last applied, so an
/// unchanged view costs no Athena query.
pub const VIEW_HASH_PARAMETER: &str = "edlake.view_sha256";
/// Glue API limits (the SDK does not enforce them).
pub const MAX_CREATE_BATCH: usize = 100;
pub const MAX_UPDATE_BATCH: usize = 100;
pub const MAX_DELETE_BATCH: usize = 25;
pub const PARTITION_PAGE_SIZE: i32 = 1000;

/// A raw-table column: Glue type `string`; its comment records the MySQL column type the
/// view casts back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogColumn {
    pub name: String,
    pub mysql_type: String,
    /// The Hive type Glue declares: `string` for every CSV column; JSON tables also use
    /// `struct<…>` for nested objects.
    pub glue_type: String,
}

impl CatalogColumn {
    pub fn new(name: &str, mysql_type: &str) -> CatalogColumn {
        CatalogColumn::typed(name, "string", mysql_type)
    }

    /// A column whose Glue type is not `string`; `comment` is what Glue keeps as its comment.
    pub fn typed(name: &str, glue_type: &str, comment: &str) -> CatalogColumn {
        CatalogColumn {
            // Glue and Athena fold names to lower case; comparing folded names keeps reruns
            // from seeing a difference that is not there.
            name: name.to_ascii_lowercase(),
            mysql_type: comment.to_ascii_lowercase(),
            glue_type: glue_type.to_ascii_lowercase(),
        }
    }
}

/// How a table's files are written, and so which SerDe reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// docs/csv-dialect.md, read with OpenCSVSerde.
    Csv,
    /// Gzip JSON lines (the tracking logs), read with Hive's JsonSerDe.
    GzipJsonLines,
    /// Typed Parquet (docs/parquet.md), read with ParquetHiveSerDe, columns by name.
    Parquet,
}

impl TableFormat {
    /// The catalog format of a lake table format.
    pub fn of(format: crate::lake::Format) -> TableFormat {
        match format {
            crate::lake::Format::Csv => TableFormat::Csv,
            crate::lake::Format::Parquet => TableFormat::Parquet,
        }
    }

    /// The suffix of the table's files.
    pub fn suffix(self) -> &'static str {
        match self {
            TableFormat::Csv => ".csv",
            TableFormat::GzipJsonLines => ".gz",
            TableFormat::Parquet => ".parquet",
        }
    }
}

/// A table as a catalog has it: its columns in order, and the format its files are in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingTable {
    pub columns: Vec<CatalogColumn>,
    /// None when the catalog's definition is not one edlake writes.
    pub format: Option<TableFormat>,
}

/// What the catalog entries of one lake table are made from.
#[derive(Debug, Clone)]
pub struct TableSpec {
    pub table: String,
    pub raw_table: String,
    pub view: String,
    /// `s3://bucket/<root>/<prefix>/<table>/`.
    pub location: String,
    /// Data columns as the source has them now, in file order.
    pub columns: Vec<CatalogColumn>,
    /// The base partitions (`lms`, …), then the table's `partition_by` columns.
    pub partition_keys: Vec<CatalogColumn>,
    /// How many of `partition_keys` are base partitions.
    pub base_keys: usize,
    /// The view's column order when it is not data columns, partition columns, base
    /// partitions (columns it does not name follow in that default order).
    pub view_order: Option<Vec<String>>,
    pub format: TableFormat,
    /// The view's columns when they are not the typed decoding of the raw columns.
    pub view_select: Option<Vec<ViewColumn>>,
    /// For a table written incrementally: the view keeps one row per key.
    pub dedup: Option<Dedup>,
}

/// How the view of an incrementally written table keeps the current version of each row:
/// of the rows sharing `lms`, the partition values and `key`, the one with the latest
/// `latest_by`, and on a tie the one in the file whose path sorts last (deltas sort after
/// the full file, in the order they were written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dedup {
    pub key: Vec<String>,
    pub latest_by: String,
}

/// The parts of a Glue table edlake owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDefinition {
    pub table_type: String,
    pub columns: Vec<CatalogColumn>,
    pub partition_keys: Vec<String>,
    pub location: String,
    pub serde_library: String,
    pub serde_parameters: BTreeMap<String, String>,
    pub parameters: BTreeMap<String, String>,
}

/// When a sync may delete the partitions Glue has and the lake listing does not (docs/
/// catalog.md, "Who deletes partitions"). A partition is deleted only when it is proven
/// stale by a process holding the table's lease.
#[derive(Clone, Copy)]
pub enum Deletes<'a> {
    /// `desired` was listed under the table's lease, which every writer of the table
    /// holds: what it lacks is gone.
    Listed,
    /// Adds and updates only: the caller does not hold the lease every writer holds (a
    /// tracking-log shipper, one of many replicas), so its listing may predate another's
    /// new partition.
    Never,
    /// The table's writers take no lease (tracking logs): the caller holds the lease
    /// against other syncs, and deletes only what a listing made after reading Glue still
    /// lacks.
    Relist(&'a dyn Relist),
}

/// Lists a table's partitions again, for [`Deletes::Relist`].
#[async_trait]
pub trait Relist: Send + Sync {
    async fn relist(&self) -> Result<Vec<PartitionSpec>>;
}

/// A partition as it should be: values (lms first) and the exact prefix its files are under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PartitionSpec {
    pub values: Vec<String>,
    pub location: String,
}

/// A partition as Glue has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GluePartition {
    pub values: Vec<String>,
    pub location: String,
    pub columns: Vec<CatalogColumn>,
    pub serde_library: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionFailure {
    pub values: Vec<String>,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct PartitionPage {
    pub partitions: Vec<GluePartition>,
    pub next_token: Option<String>,
}

/// The Glue operations edlake makes.
#[async_trait]
pub trait GlueApi: Send + Sync {
    async fn database_exists(&self, database: &str) -> Result<bool>;
    async fn create_database(&self, database: &str) -> Result<()>;
    /// `None` when the table (or its database) does not exist.
    async fn get_table(&self, database: &str, table: &str) -> Result<Option<TableDefinition>>;
    async fn create_table(&self, database: &str, table: &str, def: &TableDefinition) -> Result<()>;
    async fn update_table(&self, database: &str, table: &str, def: &TableDefinition) -> Result<()>;
    async fn get_partitions(
        &self,
        database: &str,
        table: &str,
        expression: &str,
        next_token: Option<String>,
    ) -> Result<PartitionPage>;
    /// Partitions get a copy of the table's storage descriptor with their own location.
    async fn batch_create_partition(
        &self,
        database: &str,
        table: &str,
        def: &TableDefinition,
        partitions: &[PartitionSpec],
    ) -> Result<Vec<PartitionFailure>>;
    async fn batch_update_partition(
        &self,
        database: &str,
        table: &str,
        def: &TableDefinition,
        partitions: &[PartitionSpec],
    ) -> Result<Vec<PartitionFailure>>;
    async fn batch_delete_partition(
        &self,
        database: &str,
        table: &str,
        values: &[Vec<String>],
    ) -> Result<Vec<PartitionFailure>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

#[derive(Debug, Clone)]
pub struct QueryStatus {
    pub state: QueryState,
    /// Athena's reason for a FAILED or CANCELLED query.
    pub reason: Option<String>,
}

/// The Athena operations edlake makes (workgroup, output location and database context
/// are the implementation's).
#[async_trait]
pub trait AthenaApi: Send + Sync {
    async fn start_query(&self, sql: &str) -> Result<String>;
    async fn query_status(&self, id: &str) -> Result<QueryStatus>;
    async fn stop_query(&self, id: &str) -> Result<()>;
}

/// How Athena queries are waited for.
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    pub first: Duration,
    pub max: Duration,
    pub timeout: Duration,
}

/// A catalog kept in step with the lake: Glue and Athena ([`super::glue::GlueCatalog`]),
/// or the DuckDB catalog file ([`super::duckdb::DuckDbCatalog`]).
#[async_trait]
pub trait Catalog: Send + Sync {
    /// Which catalog, for messages (`Glue database panorama`, the DuckDB file's path).
    fn describe(&self) -> String;

    /// Creates the database when missing; the operation made (or planned), if any.
    async fn ensure_database(&self, dry_run: bool) -> Result<Option<String>>;

    /// The raw table as the catalog has it (None when it does not exist yet): the column
    /// order new files must follow, and the format of the files already registered.
    async fn existing_table(&self, raw_table: &str) -> Result<Option<ExistingTable>>;

    /// Brings the raw table, this LMS's partitions and the view of `spec` in line with the
    /// lake, `desired` being every partition of this LMS that has files. Partitions the
    /// catalog has beyond `desired` are deleted only as `deletes` allows.
    async fn sync_table(
        &self,
        spec: &TableSpec,
        desired: &[PartitionSpec],
        deletes: Deletes<'_>,
        dry_run: bool,
    ) -> Result<SyncReport>;
}

/// What syncing one table did (or, in a dry run, would do).
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    pub table: String,
    pub raw_table: String,
    pub view: String,
    /// Columns the source has that the Glue table did not (appended).
    pub added_columns: Vec<String>,
    /// Columns the Glue table has that the source no longer exports (kept, read as NULL).
    pub absent_columns: Vec<String>,
    pub partitions: usize,
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    /// Every write made (or planned), one line each.
    pub operations: Vec<String>,
    /// `created` or `updated` when the raw table was (or would be).
    pub table_change: Option<&'static str>,
    /// The view statement was (or would be) sent.
    pub view_replaced: bool,
    pub glue_calls: u64,
    pub athena_queries: u64,
}

impl SyncReport {
    /// `+3 -1 ~0 partitions, view replaced`-style summary.
    pub fn summary(&self) -> String {
        let mut parts = vec![format!(
            "+{} -{} ~{} partitions",
            self.created, self.deleted, self.updated
        )];
        if !self.added_columns.is_empty() {
            parts.push(format!(
                "columns appended: {}",
                self.added_columns.join(", ")
            ));
        }
        if !self.absent_columns.is_empty() {
            parts.push(format!(
                "gone from source (NULL): {}",
                self.absent_columns.join(", ")
            ));
        }
        if let Some(change) = self.table_change {
            parts.push(format!("table {change}"));
        }
        if self.view_replaced {
            parts.push("view replaced".into());
        }
        parts.join(", ")
    }
}

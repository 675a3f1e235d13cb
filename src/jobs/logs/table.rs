//! The tracking logs in Glue and Athena: a JSON-SerDe table over the day partitions and a
//! typed view.

use anyhow::{Context, Result};

use super::{PARTITION_COLUMNS, TABLE};
use crate::catalog::view::{Expr, SqlType, ViewColumn};
use crate::catalog::{
    self, CatalogColumn, Catalogs, Deletes, PartitionSpec, Relist, SyncReport, TableFormat,
    TableSpec,
};
use crate::config::Config;
use crate::lake::BasePartition;
use crate::store::Store;

/// Raw-table columns: `(name, Glue type, comment)`. Every scalar is a string, numbers
/// included (`context.user_id` is a number, null or '' depending on the event): the view
/// casts, so an odd event gives NULL instead of failing the query.
const COLUMNS: &[(&str, &str, &str)] = &[
    ("name", "string", "event name (supersedes event_type)"),
    ("event_type", "string", "legacy event name"),
    ("time", "string", "ISO-8601 UTC time"),
    ("username", "string", ""),
    ("event_source", "string", "server, browser, mobile or task"),
    (
        "context",
        "struct<course_id:string,org_id:string,user_id:string,path:string>",
        "",
    ),
    ("page", "string", ""),
    ("session", "string", ""),
    ("host", "string", ""),
    ("event", "string", "event payload as JSON text"),
];

/// The view: the event's name (`name`, else the legacy `event_type`), its time as a UTC
/// timestamp, the context's fields as columns, the rest as is.
/// The view's columns; `base` names the base partitions (`lms`, …), which come before the
/// event day as in the path.
fn view_columns(base: &[BasePartition]) -> Vec<ViewColumn> {
    let text = |name: &str| ViewColumn::raw(name, SqlType::Varchar);
    let context = |field: &str| Expr::Field("context".into(), field.into());
    let mut columns = vec![
        ViewColumn::new(
            "name",
            Expr::Coalesce(vec![Expr::column("name"), Expr::column("event_type")]),
            SqlType::Varchar,
        ),
        text("event_type"),
        ViewColumn::new(
            "time",
            Expr::Iso8601Utc(Expr::column("time").boxed()),
            SqlType::Timestamp,
        ),
        text("username"),
        text("event_source"),
        ViewColumn::new("course_id", context("course_id"), SqlType::Varchar),
        ViewColumn::new(
            "user_id",
            Expr::TryCast(context("user_id").boxed(), SqlType::Bigint),
            SqlType::Bigint,
        ),
        ViewColumn::new("org_id", context("org_id"), SqlType::Varchar),
        ViewColumn::new("path", context("path"), SqlType::Varchar),
        text("page"),
        text("session"),
        text("host"),
        text("event"),
    ];
    columns.extend(base.iter().map(|b| text(&b.name)));
    columns.extend(["year", "month", "day"].map(text));
    columns
}

pub fn table_spec(config: &Config) -> Result<TableSpec> {
    let table = crate::jobs::logs::settings::table_config(config);
    let layout = config.layout();
    let mut partition_keys = catalog::spec::base_partition_keys(&layout);
    partition_keys.extend(
        PARTITION_COLUMNS
            .iter()
            .map(|c| CatalogColumn::new(c, "varchar(4)")),
    );
    Ok(TableSpec {
        table: TABLE.into(),
        raw_table: catalog::raw_table_name(config, &table),
        view: catalog::view_name(config, &table),
        location: catalog::location_url(
            crate::jobs::logs::settings::location(config)?,
            &layout.table_dir(TABLE),
        )?,
        columns: COLUMNS
            .iter()
            .map(|(name, ty, comment)| CatalogColumn::typed(name, ty, comment))
            .collect(),
        partition_keys,
        base_keys: layout.base().len(),
        view_order: None,
        format: TableFormat::GzipJsonLines,
        view_select: Some(view_columns(layout.base())),
        dedup: None,
    })
}

/// Registers the table, every day partition this LMS has objects in, and the view; deletes
/// no partition: a shipper holds no lease, and another replica may have just added a day
/// its listing missed.
pub async fn sync(config: &Config, store: &dyn Store, dry_run: bool) -> Result<SyncReport> {
    let catalog = Catalogs::open(config).await?;
    catalog.ensure_database(dry_run).await?;
    let desired = partitions(config, store).await?;
    catalog
        .sync_table(&table_spec(config)?, &desired, Deletes::Never, dry_run)
        .await
}

/// `catalog sync` of the table, under its lease: also deletes the day partitions whose
/// objects are gone, proven by a listing made after Glue was read.
pub async fn sync_with(
    config: &Config,
    store: &dyn Store,
    catalog: &Catalogs,
    dry_run: bool,
) -> Result<SyncReport> {
    let desired = partitions(config, store).await?;
    let relist = Relisting { config, store };
    catalog
        .sync_table(
            &table_spec(config)?,
            &desired,
            Deletes::Relist(&relist),
            dry_run,
        )
        .await
}

/// Every day partition this LMS has objects in.
async fn partitions(config: &Config, store: &dyn Store) -> Result<Vec<PartitionSpec>> {
    let table = crate::jobs::logs::settings::table_config(config);
    let layout = config.layout();
    let keys = store
        .list(&layout.base_dir(TABLE))
        .await
        .with_context(|| format!("listing {}", store.describe()))?;
    catalog::partitions_from_files(
        config,
        &table,
        &keys,
        ".gz",
        crate::jobs::logs::settings::location(config)?,
    )
}

struct Relisting<'a> {
    config: &'a Config,
    store: &'a dyn Store,
}

#[async_trait::async_trait]
impl Relist for Relisting<'_> {
    async fn relist(&self) -> Result<Vec<PartitionSpec>> {
        partitions(self.config, self.store).await
    }
}

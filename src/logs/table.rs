//! The tracking logs in Glue and Athena: a JSON-SerDe table over the day partitions and a
//! typed view.

use anyhow::{Context, Result};

use super::{PARTITION_COLUMNS, TABLE};
use crate::catalog::{self, Catalog, CatalogColumn, SyncReport, TableFormat, TableSpec};
use crate::config::Config;
use crate::lake::Layout;
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

pub fn table_spec(config: &Config) -> Result<TableSpec> {
    let table = config.tracking_logs_table();
    let layout = Layout::new(&config.datalake.prefix, &config.lms_host);
    let mut partition_keys = vec![CatalogColumn::new("lms", "varchar(255)")];
    partition_keys.extend(
        PARTITION_COLUMNS
            .iter()
            .map(|c| CatalogColumn::new(c, "varchar(4)")),
    );
    let view_select = [
        r#"COALESCE("name", "event_type") AS "name""#,
        r#""event_type""#,
        r#"TRY(CAST(from_iso8601_timestamp("time") AT TIME ZONE 'UTC' AS timestamp(3))) AS "time""#,
        r#""username""#,
        r#""event_source""#,
        r#""context"."course_id" AS "course_id""#,
        r#"TRY_CAST("context"."user_id" AS bigint) AS "user_id""#,
        r#""context"."org_id" AS "org_id""#,
        r#""context"."path" AS "path""#,
        r#""page""#,
        r#""session""#,
        r#""host""#,
        r#""event""#,
        r#""lms""#,
        r#""year""#,
        r#""month""#,
        r#""day""#,
    ];
    Ok(TableSpec {
        table: TABLE.into(),
        raw_table: config.raw_table_name(&table),
        view: config.view_name(&table),
        location: catalog::location_url(
            config.tracking_logs_location()?,
            &layout.table_dir(TABLE),
        )?,
        columns: COLUMNS
            .iter()
            .map(|(name, ty, comment)| CatalogColumn::typed(name, ty, comment))
            .collect(),
        partition_keys,
        view_order: None,
        format: TableFormat::GzipJsonLines,
        view_select: Some(view_select.iter().map(|s| s.to_string()).collect()),
        dedup: None,
    })
}

/// Registers the table, every day partition this LMS has objects in, and the view.
pub async fn sync(config: &Config, store: &dyn Store, dry_run: bool) -> Result<SyncReport> {
    let catalog = Catalog::open(config).await?;
    catalog.ensure_database(dry_run).await?;
    sync_with(config, store, &catalog, dry_run).await
}

pub async fn sync_with(
    config: &Config,
    store: &dyn Store,
    catalog: &Catalog,
    dry_run: bool,
) -> Result<SyncReport> {
    let table = config.tracking_logs_table();
    let layout = Layout::new(&config.datalake.prefix, &config.lms_host);
    let keys = store
        .list(&layout.lms_dir(TABLE))
        .await
        .with_context(|| format!("listing {}", store.describe()))?;
    let desired = catalog::partitions_from_files(
        config,
        &table,
        &keys,
        ".gz",
        config.tracking_logs_location()?,
    )?;
    catalog
        .sync_table(&table_spec(config)?, &desired, dry_run)
        .await
}

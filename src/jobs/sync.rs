//! `edlake catalog sync`: registers what the lake holds for this LMS (tables, partitions,
//! views), with column types from the MySQL source. `--dry-run` reads Glue but writes
//! nothing, and lists the writes it would make.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use futures::StreamExt;

use crate::catalog::{self, Catalogs, Deletes, SyncReport};
use crate::config::{Config, TableConfig};
use crate::context::Context;
use crate::jobs::extract::{course_structures, Selection};
use crate::jobs::logs;
use crate::lease::{Fence, Leases};
use crate::shutdown;
use crate::source::mysql::MysqlSource;
use crate::store::{self, Store};
use crate::text_table::{Column, TextTable};

pub struct SyncOutcome {
    pub table: String,
    pub result: Result<SyncReport>,
}

/// Operations made before any table (the database), then one outcome per table. Each
/// table is synced under its lease (but for a dry run, which writes nothing); once
/// `ctx.stop` is cancelled no table starts.
pub async fn run(
    config: &Config,
    ctx: &Context,
    selection: &Selection<'_>,
    dry_run: bool,
) -> Result<(Vec<String>, Vec<SyncOutcome>)> {
    anyhow::ensure!(config.any_catalog_enabled(), "every catalog is disabled");
    let tables = &selection.tables;
    let source = if tables.is_empty() {
        None
    } else {
        Some(ctx.mysql(config).await?)
    };
    let lease = config.lease_settings()?;
    let store = store::open(config).await?;
    let layout = config.layout();
    let leases = if dry_run {
        Leases::off(store.clone(), &layout)
    } else {
        Leases::new(
            store.clone(),
            &layout,
            "catalog sync",
            lease,
            ctx.stop.clone(),
        )
    };
    // Optional tables the database does not have get no catalog entry.
    let mut present = Vec::with_capacity(tables.len());
    for table in tables.iter().copied() {
        match &source {
            Some(source) if source.optional_and_absent(table).await? => {
                source.log_absent(&table.name)
            }
            _ => present.push(table),
        }
    }
    let tables = &present;
    let catalog = Arc::new(Catalogs::open_with(config, store.clone()).await?);
    let database_op = catalog.ensure_database(dry_run).await?;
    let (source, store_ref, catalog_ref, leases_ref) =
        (source.as_deref(), store.as_ref(), catalog.as_ref(), &leases);
    let outcomes = futures::stream::iter(tables.iter().copied())
        .map(|table| async move {
            let source = source.expect("connected when there are tables");
            let work = |fence| {
                sync_table(
                    config,
                    &ctx.stop,
                    source,
                    store_ref,
                    catalog_ref,
                    table,
                    fence,
                    dry_run,
                )
            };
            let result = match shutdown::check(&ctx.stop) {
                Ok(()) => leases_ref.hold(&table.name, work).await,
                Err(e) => Err(e),
            };
            if let Err(e) = &result {
                tracing::error!(table = %table.name, "{e:#}");
            }
            SyncOutcome {
                table: table.name.clone(),
                result,
            }
        })
        // Each table may start one Athena DDL; stay well under the account's DDL quota.
        .buffer_unordered(4)
        .collect::<Vec<_>>()
        .await;
    let mut outcomes = outcomes;
    let order = |name: &str| config.tables.iter().position(|t| t.name == name);
    outcomes.sort_by_key(|o| order(&o.table));
    if selection.course_structures {
        // Types are fixed, so only the lake is read: MongoDB is not needed.
        let table = crate::jobs::extract::course_structures::table_config(config);
        let (store, layout, catalog, table) = (&store, &layout, &catalog, &table);
        let work = |fence: Fence| async move {
            let keys = store
                .list(&layout.base_dir(&table.name))
                .await
                .context("listing the lake")?;
            let desired = catalog::partitions_from_keys(config, table, &keys)?;
            let spec = course_structures::table_spec(config)?;
            fence.check()?;
            catalog
                .sync_table(&spec, &desired, Deletes::Listed, dry_run)
                .await
        };
        outcomes.push(outcome(
            &table.name,
            leases_after(&ctx.stop, &leases, &table.name, work).await,
        ));
    }
    if selection.tracking_logs {
        // Shippers take no lease; this lease keeps two syncs from deleting at once, and
        // deletions are proven by a listing made after Glue is read.
        let work = |fence: Fence| async move {
            let logs_store =
                store::open_location(config, crate::jobs::logs::settings::location(config)?)
                    .await?;
            fence.check()?;
            logs::table::sync_with(config, logs_store.as_ref(), &catalog, dry_run).await
        };
        outcomes.push(outcome(
            logs::TABLE,
            leases_after(&ctx.stop, &leases, logs::TABLE, work).await,
        ));
    }
    Ok((database_op.into_iter().collect(), outcomes))
}

/// `work` under the lease of `table`, unless the process is stopping.
async fn leases_after<W>(
    stop: &tokio_util::sync::CancellationToken,
    leases: &Leases,
    table: &str,
    work: impl FnOnce(Fence) -> W,
) -> Result<SyncReport>
where
    W: std::future::Future<Output = Result<SyncReport>>,
{
    shutdown::check(stop)?;
    leases.hold(table, work).await
}

fn outcome(table: &str, result: Result<SyncReport>) -> SyncOutcome {
    if let Err(e) = &result {
        tracing::error!(table, "{e:#}");
    }
    SyncOutcome {
        table: table.to_string(),
        result,
    }
}

#[allow(clippy::too_many_arguments)]
async fn sync_table(
    config: &Config,
    stop: &tokio_util::sync::CancellationToken,
    source: &MysqlSource,
    store: &dyn Store,
    catalog: &Catalogs,
    table: &TableConfig,
    fence: Fence,
    dry_run: bool,
) -> Result<SyncReport> {
    let plan = {
        let _slot = source.slot(stop).await?;
        source.plan(table, &config.column_policy(table)).await?
    };
    let layout = config.layout();
    let keys = store
        .list(&layout.base_dir(&table.name))
        .await
        .context("listing the lake")?;
    let desired = catalog::partitions_from_keys(config, table, &keys)?;
    let spec = catalog::table_spec(config, table, &plan)?;
    fence.check()?;
    catalog
        .sync_table(&spec, &desired, Deletes::Listed, dry_run)
        .await
}

/// The per-table summary printed by `edlake catalog sync`.
pub fn render(database_ops: &[String], outcomes: &[SyncOutcome], dry_run: bool) -> String {
    let mut out = String::new();
    for op in database_ops {
        out.push_str(&format!("{}{op}\n", if dry_run { "would " } else { "" }));
    }
    let mut table = TextTable::new(&[
        Column::left("TABLE", 5, ""),
        Column::right("PARTITIONS", 10, " "),
        Column::right("CREATED", 8, " "),
        Column::right("UPDATED", 8, " "),
        Column::right("DELETED", 8, " "),
        Column::right("GLUE", 6, " "),
        Column::right("ATHENA", 6, " "),
        Column::left("STATUS", 0, "  "),
    ]);
    for o in outcomes {
        match &o.result {
            Ok(r) => {
                table.row(vec![
                    o.table.clone(),
                    r.partitions.to_string(),
                    r.created.to_string(),
                    r.updated.to_string(),
                    r.deleted.to_string(),
                    r.glue_calls.to_string(),
                    r.athena_queries.to_string(),
                    if dry_run { "dry run" } else { "ok" }.to_string(),
                ]);
                if dry_run {
                    for op in &r.operations {
                        table.note(format!("  would {op}"));
                    }
                }
            }
            Err(_) => {
                let mut cells = vec![o.table.clone()];
                cells.extend(std::iter::repeat_n("-".to_string(), 6));
                cells.push("FAILED".into());
                table.row(cells);
            }
        }
    }
    out.push_str(&table.render());
    out
}

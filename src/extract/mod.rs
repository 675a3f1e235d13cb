//! The extract job: MySQL table → CSV partitions → store, one sequential scan per table.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use futures::{StreamExt, TryStreamExt};
use sqlx::mysql::MySqlRow;
use sqlx::Row;

use crate::catalog::{self, Catalog, PartitionSpec, SyncReport};
use crate::config::{Config, CourseIndexSource, TableConfig};
use crate::encode::csv::{ColumnKind, RowEncoder};
use crate::lake::Layout;
use crate::lease::Leases;
use crate::privacy::Pseudonymizer;
use crate::progress::{self, Bar};
use crate::source::mysql::MysqlSource;
use crate::store::{self, Store};

pub mod course_structures;
pub mod incremental;
pub mod spool;

use spool::{push_key_value, Spool};

/// What one table's extraction did.
#[derive(Debug, Clone, Default)]
pub struct TableReport {
    pub table: String,
    pub rows: u64,
    pub partitions: usize,
    pub files: usize,
    pub bytes: u64,
    pub stale_removed: usize,
    pub seconds: f64,
    /// How a MySQL table was extracted: `full` or `incremental` (a table with a change
    /// column), or `snapshot`; empty for course structures.
    pub mode: &'static str,
    /// What the catalog step did, when the catalog is enabled.
    pub catalog: Option<SyncReport>,
    /// Items skipped because the lake already holds them (course structures whose
    /// published version has not moved).
    pub unchanged: usize,
    /// Items that failed while the rest of the table was written, one line each
    /// (`course X: why`); any makes the run incomplete.
    pub failures: Vec<String>,
    /// Warnings logged about the data (e.g. a problem whose weight is unknown).
    pub warnings: usize,
    /// Blocks not reachable from their course's root.
    pub orphans: usize,
}

pub struct TableOutcome {
    pub table: String,
    pub result: Result<TableReport>,
}

/// What a command works on: configured MySQL tables, and course_structures when MongoDB
/// is configured.
#[derive(Debug, Clone)]
pub struct Selection<'a> {
    pub tables: Vec<&'a TableConfig>,
    pub course_structures: bool,
    /// Only `catalog sync` acts on it: `edlake logs ship` ships the logs.
    pub tracking_logs: bool,
}

/// Everything configured, or the named tables (each must be configured;
/// `course_structures` needs `mongodb.url`).
pub fn select_tables<'a>(config: &'a Config, names: &[String]) -> Result<Selection<'a>> {
    let structures = config.course_structures_enabled();
    let logs = config.tracking_logs_enabled();
    if config.tables.is_empty() && !structures && !logs {
        bail!("no tables configured (add [[tables]] entries to the config file, mongodb.url for course_structures, or tracking_logs.path)");
    }
    if names.is_empty() {
        return Ok(Selection {
            tables: config.tables.iter().collect(),
            course_structures: structures,
            tracking_logs: logs,
        });
    }
    let mut selection = Selection {
        tables: Vec::new(),
        course_structures: false,
        tracking_logs: false,
    };
    for name in names {
        if name == crate::logs::TABLE {
            if !logs {
                bail!("table tracking_logs comes from the log files: set tracking_logs.path");
            }
            selection.tracking_logs = true;
            continue;
        }
        if name == course_structures::TABLE {
            if !structures {
                bail!("table course_structures comes from MongoDB: set mongodb.url to extract it");
            }
            selection.course_structures = true;
            continue;
        }
        let table = config
            .tables
            .iter()
            .find(|t| &t.name == name)
            .ok_or_else(|| {
                let mut known: Vec<&str> = config.tables.iter().map(|t| t.name.as_str()).collect();
                if structures {
                    known.push(course_structures::TABLE);
                }
                if logs {
                    known.push(crate::logs::TABLE);
                }
                anyhow!(
                    "unknown table {name}: not in the configured tables ({})",
                    known.join(", ")
                )
            })?;
        selection.tables.push(table);
    }
    Ok(selection)
}

/// Extracts the selection: MySQL tables up to `mysql.max_connections` at a time, then the
/// course structures. Connection or store failures abort the run; a failing table is
/// reported and the others go on. `full` re-extracts what is known to be unchanged, and
/// every table whole.
pub async fn run(
    config: &Config,
    selection: &Selection<'_>,
    full: bool,
) -> Result<Vec<TableOutcome>> {
    let tables = &selection.tables;
    let needs_mysql = !tables.is_empty()
        || (selection.course_structures
            && config.course_structures.course_index != CourseIndexSource::Mongodb);
    let source = if needs_mysql {
        Some(Arc::new(MysqlSource::connect(config).await?))
    } else {
        None
    };
    let lease = config.lease_settings()?;
    let store = store::open(config).await?;
    let layout = Layout::new(&config.datalake.prefix, &config.lms_host);
    let leases = Leases::new(store.clone(), &layout, "extract", lease);
    // Fail fast on a missing bucket or an unreachable endpoint, before scanning anything.
    store.list(&layout.state_root()).await?;
    let catalog = if config.catalog_enabled() {
        let catalog = Catalog::open(config).await?;
        // Same for Glue: credentials and the database, before any table is read.
        catalog.ensure_database(false).await?;
        Some(Arc::new(catalog))
    } else {
        None
    };
    let mut outcomes = match &source {
        Some(source) => {
            futures::stream::iter(tables.iter().copied())
                .map(|table| {
                    let (source, store, layout) = (source.clone(), store.clone(), layout.clone());
                    let (catalog, leases) = (catalog.clone(), &leases);
                    async move {
                        let work = extract_table(
                            config,
                            &source,
                            store.as_ref(),
                            catalog.as_deref(),
                            &layout,
                            table,
                            full,
                        );
                        let result = leases.hold(&table.name, work).await;
                        log_outcome(&table.name, &result);
                        TableOutcome {
                            table: table.name.clone(),
                            result,
                        }
                    }
                })
                .buffer_unordered(config.mysql.max_connections as usize)
                .collect::<Vec<_>>()
                .await
        }
        None => Vec::new(),
    };
    let order = |name: &str| config.tables.iter().position(|t| t.name == name);
    outcomes.sort_by_key(|o| order(&o.table));
    if selection.course_structures {
        let work = course_structures::extract(
            config,
            source.as_deref(),
            store.as_ref(),
            catalog.as_deref(),
            &layout,
            full,
        );
        let result = leases.hold(course_structures::TABLE, work).await;
        log_outcome(course_structures::TABLE, &result);
        outcomes.push(TableOutcome {
            table: course_structures::TABLE.into(),
            result,
        });
    }
    if let Some(source) = source {
        source.close().await;
    }
    Ok(outcomes)
}

fn log_outcome(table: &str, result: &Result<TableReport>) {
    match result {
        Ok(r) => tracing::info!(
            table = %r.table, rows = r.rows, partitions = r.partitions,
            bytes = r.bytes, seconds = r.seconds, mode = %r.mode, "table extracted"
        ),
        Err(e) => tracing::error!(table = %table, "{e:#}"),
    }
}

/// One table: scan, route rows to partitions, publish each partition atomically, then bring
/// the catalog in line and record the watermark. A full run replaces every file and
/// removes partitions (and delta files) that no longer have rows; an incremental run of a
/// table with a change column adds one delta file per partition it touches and removes
/// nothing (docs/incremental.md).
pub async fn extract_table(
    config: &Config,
    source: &MysqlSource,
    store: &dyn Store,
    catalog: Option<&Catalog>,
    layout: &Layout,
    table: &TableConfig,
    full: bool,
) -> Result<TableReport> {
    let started = Instant::now();
    let mut plan = source.plan(table, &config.column_policy(table)).await?;
    if let Some(catalog) = catalog {
        // Files must line up with the Glue columns, which only ever grow at the end.
        let existing = catalog
            .existing_columns(&config.raw_table_name(table))
            .await
            .context("catalog")?;
        let order: Vec<(String, String)> = existing
            .into_iter()
            .map(|c| (c.name, c.mysql_type))
            .collect();
        plan.follow_order(&order);
    }
    // The key is read only for a table that has pseudonyms (validation made sure it is set).
    let pseudonyms = match plan.pseudonymized.is_empty() {
        true => None,
        false => Some(Pseudonymizer::new(
            &config
                .privacy_key()?
                .context("columns to pseudonymize but no privacy key")?,
        )),
    };
    let mut tracker = incremental::Tracker::start(
        &config.incremental_settings()?,
        store,
        layout,
        &plan,
        pseudonyms.as_ref().map(|p| p.check_value()).as_deref(),
        full,
    )
    .await?;
    let delta = tracker.delta();
    if plan.incremental.is_some() {
        tracing::info!(table = %table.name, "{}", tracker.mode().describe());
    }
    let estimate = match progress::enabled() && delta.is_none() {
        true => source.estimated_rows(&table.name).await,
        false => None,
    };
    let bar = Bar::rows(&table.name, estimate);
    let partition_names = plan.partition_names();
    let kinds: Vec<ColumnKind> = plan.data_columns.iter().map(|c| c.kind).collect();
    // Per data column, in file order (after any reordering by the catalog).
    let pseudonymized: Vec<bool> = plan
        .data_columns
        .iter()
        .map(|c| plan.pseudonymized.contains(&c.name))
        .collect();
    let mut scratch = Vec::with_capacity(64);
    let data_count = kinds.len();
    let partition_count = partition_names.len();

    let mut encoder = RowEncoder::new();
    let header = encoder.header(plan.data_columns.iter().map(|c| c.name.as_str()));
    encoder.clear();
    // Dropping the guard removes every spool file, on success and on failure alike.
    let spool_dir = store.spool_dir()?;
    let mut spool = Spool::new(
        spool_dir.path(),
        header,
        config.extract.memory_budget_mb * 1024 * 1024,
    );
    let mut key = Vec::with_capacity(64);
    let mut unreported = 0u64;
    let scanned = source
        .scan(&plan, tracker.changed_since().as_ref(), |row| {
            unreported += 1;
            if unreported == 4096 {
                bar.inc(unreported);
                unreported = 0;
            }
            if !tracker.keep(|i| raw(row, i).ok().flatten()) {
                return Ok(());
            }
            key.clear();
            for j in 0..partition_count {
                push_key_value(&mut key, raw(row, data_count + j)?);
            }
            for (i, kind) in kinds.iter().enumerate() {
                let value = raw(row, i)?;
                match (value, &pseudonyms) {
                    (Some(value), Some(p)) if pseudonymized[i] => {
                        scratch.clear();
                        p.pseudonym(value, &mut scratch);
                        encoder.push(*kind, Some(&scratch));
                    }
                    _ => encoder.push(*kind, value),
                }
            }
            let line = encoder.finish_line();
            let values = || {
                (0..partition_count)
                    .map(|j| {
                        raw(row, data_count + j)
                            .ok()
                            .flatten()
                            .filter(|v| !v.is_empty())
                            .map(|v| String::from_utf8_lossy(v).into_owned())
                    })
                    .collect()
            };
            let pushed = tokio::task::block_in_place(|| spool.push(&key, values, line));
            encoder.clear();
            pushed.with_context(|| {
                format!(
                    "cannot write spool files in {} (disk full? set datalake.spool_dir)",
                    spool_dir.path().display()
                )
            })
        })
        .await?;
    let rows = scanned.rows - tracker.skipped;
    bar.inc(unreported);
    if tracker.skipped > 0 {
        tracing::debug!(table = %table.name, skipped = tracker.skipped, "rows of the overlap already in the lake");
    }
    let mut report = TableReport {
        table: table.name.clone(),
        rows,
        mode: tracker.label(),
        ..Default::default()
    };
    if delta.is_some() && rows == 0 {
        // Nothing changed: no file, no catalog call, and the record stays as it is.
        report.seconds = started.elapsed().as_secs_f64();
        return Ok(report);
    }
    bar.stage("finishing files");
    if partition_count == 0 && delta.is_none() {
        spool.ensure(&[], Vec::new());
    }
    tracing::debug!(
        table = %table.name, rows, partitions = spool.partition_count(), spilled = spool.spilled_bytes(),
        "scan finished"
    );
    let partitions = tokio::task::block_in_place(|| spool.finish())?;
    report.partitions = if partition_count == 0 {
        0
    } else {
        partitions.len()
    };
    report.files = partitions.len();
    report.bytes = partitions.iter().map(|p| p.bytes).sum();
    let file_key = |values: &[Option<String>]| match delta {
        Some(n) => layout.delta_key(&table.name, &partition_names, values, n),
        None => layout.object_key(&table.name, &partition_names, values),
    };
    let written: HashSet<String> = partitions.iter().map(|p| file_key(&p.values)).collect();
    // What the catalog registers after a full run: exactly the prefixes just written.
    let registered = match (catalog, delta) {
        (Some(_), None) => partitions
            .iter()
            .map(|p| {
                Ok(PartitionSpec {
                    values: catalog::partition_values(&config.lms_host, &p.values),
                    location: catalog::lake_url(
                        config,
                        &layout.partition_dir(&table.name, &partition_names, &p.values),
                    )?,
                })
            })
            .collect::<Result<Vec<_>>>()?,
        _ => Vec::new(),
    };
    bar.stage(&format!("uploading {} file(s)", partitions.len()));
    futures::stream::iter(partitions)
        .map(|p| {
            let key = file_key(&p.values);
            async move {
                store
                    .put(&key, p.payload)
                    .await
                    .with_context(|| format!("writing {key}"))
            }
        })
        .buffer_unordered(config.datalake.upload_concurrency)
        .try_collect::<Vec<()>>()
        .await?;

    let in_lake = store.list(&layout.lms_dir(&table.name)).await?;
    if delta.is_none() {
        // Only after every partition is in place: drop the files a full run did not write
        // (partitions whose rows are gone, and the deltas it merged).
        let stale: Vec<String> = in_lake
            .iter()
            .filter(|k| k.ends_with(".csv") && !written.contains(*k))
            .cloned()
            .collect();
        if !stale.is_empty() {
            tracing::info!(table = %table.name, count = stale.len(), "removing stale files");
            store.delete(&stale).await?;
        }
        report.stale_removed = stale.len();
    }
    if let Some(catalog) = catalog {
        bar.stage("catalog");
        let desired = match delta {
            None => registered,
            // Every partition of the table: an incremental run adds, never removes.
            Some(_) => catalog::partitions_from_keys(config, table, &in_lake)?,
        };
        let spec = catalog::table_spec(config, table, &plan)?;
        let synced = catalog
            .sync_table(&spec, &desired, false)
            .await
            .context("catalog")?;
        tracing::info!(
            table = %table.name, glue_calls = synced.glue_calls, athena_queries = synced.athena_queries,
            "catalog: {}", synced.summary()
        );
        report.catalog = Some(synced);
    }
    tracker.finish(store, layout, &scanned.snapshot_utc).await?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The text-protocol bytes of column `i`, or None for SQL NULL.
fn raw(row: &MySqlRow, i: usize) -> Result<Option<&[u8]>> {
    // Unchecked: in the text protocol every value is bytes, whatever its SQL type.
    Ok(row.try_get_unchecked::<Option<&[u8]>, _>(i)?)
}

/// The per-table summary printed by `edlake extract`.
pub fn render(outcomes: &[TableOutcome]) -> String {
    let width = outcomes
        .iter()
        .map(|o| o.table.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!(
        "{:<width$} {:>12} {:>10} {:>6} {:>14} {:>8}  {:<11}  {}\n",
        "TABLE", "ROWS", "PARTITIONS", "FILES", "BYTES", "SECONDS", "MODE", "STATUS"
    );
    for o in outcomes {
        match &o.result {
            Ok(r) => out.push_str(&format!(
                "{:<width$} {:>12} {:>10} {:>6} {:>14} {:>8.2}  {:<11}  {}{}{}{}\n",
                r.table,
                r.rows,
                r.partitions,
                r.files,
                r.bytes,
                r.seconds,
                if r.mode.is_empty() { "-" } else { r.mode },
                if r.failures.is_empty() {
                    "ok".to_string()
                } else {
                    format!("INCOMPLETE ({} failed)", r.failures.len())
                },
                if r.unchanged > 0 {
                    format!(" ({} unchanged)", r.unchanged)
                } else {
                    String::new()
                },
                if r.stale_removed > 0 {
                    format!(" ({} stale removed)", r.stale_removed)
                } else {
                    String::new()
                },
                match &r.catalog {
                    Some(c) => format!("; catalog {}", c.summary()),
                    None => String::new(),
                }
            )),
            Err(_) => out.push_str(&format!(
                "{:<width$} {:>12} {:>10} {:>6} {:>14} {:>8}  {:<11}  FAILED\n",
                o.table, "-", "-", "-", "-", "-", "-"
            )),
        }
    }
    out
}

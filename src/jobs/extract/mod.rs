//! The extract job: MySQL table → CSV partitions → store, one sequential scan per table
//! (table.rs), then the course structures (course_structures.rs).

use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use futures::StreamExt;

use crate::catalog::{Catalogs, SyncReport};
use crate::config::{Config, CourseIndexSource, TableConfig};
use crate::context::Context;
use crate::lease::Leases;
use crate::shutdown;
use crate::store;
use crate::text_table::{Column, TextTable};

pub mod course_structures;
pub mod incremental;
pub mod spool;
pub mod table;

use table::TableJob;

/// What one table's extraction did.
#[derive(Debug, Clone, Default)]
pub struct TableReport {
    pub table: String,
    pub rows: u64,
    pub partitions: usize,
    pub files: usize,
    pub bytes: u64,
    pub stale_removed: usize,
    /// Values the file format's type for their column cannot hold (Parquet: MySQL's zero
    /// date, a TIME outside a day), written as NULL.
    pub nulled: u64,
    pub seconds: f64,
    /// How a MySQL table was extracted: `full` or `incremental` (a table with a change
    /// column), or `snapshot`; empty for course structures.
    pub mode: &'static str,
    /// What the catalog step did, when the catalog is enabled.
    pub catalog: Option<SyncReport>,
    /// Items skipped because the lake already holds them (for course structures, the
    /// courses whose published version has not moved).
    pub unchanged: usize,
    /// Items that failed while the rest of the table was written, one line each
    /// (`course X: why`); any makes the run incomplete.
    pub failures: Vec<String>,
}

/// [`TableReport::mode`] of an optional table the database does not have: nothing read,
/// nothing written.
pub const ABSENT: &str = "absent";

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
        if name == crate::jobs::logs::TABLE {
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
                    known.push(crate::jobs::logs::TABLE);
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
/// every table whole. Once `ctx.stop` is cancelled no table starts; those not started are
/// reported as not done.
pub async fn run(
    config: &Config,
    ctx: &Context,
    selection: &Selection<'_>,
    full: bool,
) -> Result<Vec<TableOutcome>> {
    let tables = &selection.tables;
    let needs_mysql = !tables.is_empty()
        || (selection.course_structures
            && config.course_structures.course_index != CourseIndexSource::Mongodb);
    let source = if needs_mysql {
        Some(ctx.mysql(config).await?)
    } else {
        None
    };
    let lease = config.lease_settings()?;
    let store = store::open(config).await?;
    let layout = config.layout();
    // Fail fast on a missing bucket or an unreachable endpoint, before scanning anything.
    store.list(&layout.state_root()).await?;
    crate::lease::require_conditional_writes(store.as_ref(), &layout, lease).await?;
    let leases = Leases::new(store.clone(), &layout, "extract", lease, ctx.stop.clone());
    let catalog = if config.any_catalog_enabled() {
        let catalog = Catalogs::open_with(config, store.clone()).await?;
        // Same for Glue: credentials and the database, before any table is read.
        catalog.ensure_database(false).await?;
        Some(Arc::new(catalog))
    } else {
        None
    };
    let mut outcomes = match &source {
        Some(source) => {
            let job = TableJob {
                config,
                stop: &ctx.stop,
                source,
                store: &store,
                catalog: catalog.as_deref(),
                layout: &layout,
                full,
            };
            let (job, leases) = (&job, &leases);
            futures::stream::iter(tables.iter().copied())
                .map(|table| async move {
                    let result = match shutdown::check(&ctx.stop) {
                        Ok(()) => match job.source.optional_and_absent(table).await {
                            Ok(true) => {
                                job.source.log_absent(&table.name);
                                Ok(TableReport {
                                    table: table.name.clone(),
                                    mode: ABSENT,
                                    ..TableReport::default()
                                })
                            }
                            Ok(false) => {
                                leases
                                    .hold(&table.name, |fence| {
                                        table::extract_table(job, table, fence)
                                    })
                                    .await
                            }
                            Err(e) => Err(e),
                        },
                        Err(e) => Err(e),
                    };
                    log_outcome(&table.name, &result);
                    TableOutcome {
                        table: table.name.clone(),
                        result,
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
        let result = match shutdown::check(&ctx.stop) {
            Ok(()) => {
                leases
                    .hold(course_structures::TABLE, |fence| {
                        course_structures::extract(
                            config,
                            &ctx.stop,
                            source.as_deref(),
                            store.as_ref(),
                            catalog.as_deref(),
                            &layout,
                            full,
                            fence,
                        )
                    })
                    .await
            }
            Err(e) => Err(e),
        };
        log_outcome(course_structures::TABLE, &result);
        outcomes.push(TableOutcome {
            table: course_structures::TABLE.into(),
            result,
        });
    }
    Ok(outcomes)
}

fn log_outcome(table: &str, result: &Result<TableReport>) {
    match result {
        // Said once already, by the source.
        Ok(r) if r.mode == ABSENT => {}
        Ok(r) => tracing::info!(
            table = %r.table, rows = r.rows, partitions = r.partitions,
            bytes = r.bytes, seconds = r.seconds, mode = %r.mode, "table extracted"
        ),
        Err(e) => tracing::error!(table = %table, "{e:#}"),
    }
}

/// The per-table summary printed by `edlake extract`.
pub fn render(outcomes: &[TableOutcome]) -> String {
    let mut table = TextTable::new(&[
        Column::left("TABLE", 5, ""),
        Column::right("ROWS", 12, " "),
        Column::right("PARTITIONS", 10, " "),
        Column::right("FILES", 6, " "),
        Column::right("BYTES", 14, " "),
        Column::right("SECONDS", 8, " "),
        Column::left("MODE", 11, "  "),
        Column::left("STATUS", 0, "  "),
    ]);
    for o in outcomes {
        match &o.result {
            Ok(r) if r.mode == ABSENT => {
                let mut cells = vec![r.table.clone()];
                cells.extend(std::iter::repeat_n("-".to_string(), 5));
                cells.push(ABSENT.into());
                cells.push("skipped: not in the database (optional table)".into());
                table.row(cells);
            }
            Ok(r) => table.row(vec![
                r.table.clone(),
                r.rows.to_string(),
                r.partitions.to_string(),
                r.files.to_string(),
                r.bytes.to_string(),
                format!("{:.2}", r.seconds),
                if r.mode.is_empty() { "-" } else { r.mode }.to_string(),
                format!(
                    "{}{}{}{}",
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
                ),
            ]),
            Err(_) => {
                let mut cells = vec![o.table.clone()];
                cells.extend(std::iter::repeat_n("-".to_string(), 6));
                cells.push("FAILED".into());
                table.row(cells);
            }
        }
    }
    table.render()
}

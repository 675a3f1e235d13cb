//! One MySQL table: scan, route rows to partitions, publish each partition atomically, then
//! bring the catalog in line and record the watermark. A full run replaces every file and
//! removes partitions (and delta files) that no longer have rows; an incremental run of a
//! table with a change column adds one delta file per partition it touches and removes
//! nothing (docs/incremental.md).
//!
//! The scan runs on the async runtime; encoding and spooling, the CPU-bound part, run on a
//! blocking thread fed through a bounded channel, so a big table never stalls the other
//! jobs of the daemon or its HTTP endpoints.
//!
//! Every write that becomes visible (a file, a deletion, the catalog, the record) is made
//! only while the table's lease is known to be held ([`Fence::check`]), and the record
//! only by compare-and-swap: a run that stalled past its lease publishes nothing more.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use futures::{StreamExt, TryStreamExt};
use sqlx::mysql::MySqlRow;
use sqlx::Row;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::incremental::Tracker;
use super::spool::{push_key_value, Spool, SpoolColumn, SpooledPartition};
use super::TableReport;
use crate::catalog::{self, Catalogs, Deletes, PartitionSpec};
use crate::config::{Config, TableConfig};
use crate::encode::{self, FileFormat};
use crate::lake::Format;
use crate::lake::Layout;
use crate::lease::Fence;
use crate::privacy::Pseudonymizer;
use crate::progress::{self, Bar, Counter};
use crate::source::mysql::{MysqlSource, RowBatch};
use crate::store::Store;

/// What every table of one extract shares.
pub struct TableJob<'a> {
    pub config: &'a Config,
    pub stop: &'a CancellationToken,
    pub source: &'a MysqlSource,
    pub store: &'a Arc<dyn Store>,
    pub catalog: Option<&'a Catalogs>,
    pub layout: &'a Layout,
    pub full: bool,
}

/// Batches in flight between the scan and the encoder: with [`BATCH_ROWS`]
/// (crate::source::mysql) rows each, a few MB at most.
const CHANNEL_BATCHES: usize = 4;

pub async fn extract_table(
    job: &TableJob<'_>,
    table: &TableConfig,
    fence: Fence,
) -> Result<TableReport> {
    let TableJob {
        config,
        stop,
        source,
        store,
        catalog,
        layout,
        full,
    } = *job;
    // One MySQL connection for this table, from plan to the end of the scan.
    let slot = source.slot(stop).await?;
    let started = Instant::now();
    let mut plan = source.plan(table, &config.column_policy(table)).await?;
    if let Some(catalog) = catalog {
        // Files must line up with the Glue columns, which only ever grow at the end.
        let raw_table = catalog::raw_table_name(config, table);
        let existing = catalog
            .existing_table(&raw_table)
            .await
            .context("catalog")?;
        if let Some(existing) = existing {
            // A Parquet column whose type changed fails here, before any file is written.
            let spec = catalog::table_spec(config, table, &plan)?;
            catalog::plan::same_types(&spec, existing.format, &existing.columns, &raw_table)
                .context("catalog")?;
            let order: Vec<(String, String)> = existing
                .columns
                .into_iter()
                .map(|c| (c.name, c.mysql_type))
                .collect();
            plan.follow_order(&order);
        }
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
    let tracker = Tracker::start(
        &config.incremental_settings()?,
        store.as_ref(),
        layout,
        &plan,
        pseudonyms.as_ref().map(|p| p.check_value()).as_deref(),
        config.format_of(table),
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
    let changed_since = tracker.changed_since();

    let format = encode::format(config.format_of(table));
    let encoding = Encoding {
        format,
        columns: plan
            .data_columns
            .iter()
            .map(|c| SpoolColumn {
                name: c.name.clone(),
                kind: c.kind,
                column_type: c.column_type.clone(),
            })
            .collect(),
        // Per data column, in file order (after any reordering by the catalog).
        pseudonymized: plan
            .data_columns
            .iter()
            .map(|c| plan.pseudonymized.contains(&c.name))
            .collect(),
        pseudonyms,
        partition_count: partition_names.len(),
        // An unpartitioned table still gets its header-only file after a full run.
        ensure_empty: partition_names.is_empty() && delta.is_none(),
        tracker,
        spool_dir: store.spool_dir()?,
        budget: config.extract.memory_budget_mb * 1024 * 1024,
        counter: bar.counter(),
        table: table.name.clone(),
    };
    let (rows_tx, rows_rx) = mpsc::channel::<RowBatch>(CHANNEL_BATCHES);
    // The thread owns the spool directory until it hands the finished partitions back, so a
    // cancelled run's directory is removed by the only thread that writes in it.
    let encoder_thread = tokio::task::spawn_blocking(move || encoding.run(rows_rx));
    let scanned = source
        .scan(&plan, changed_since.as_ref(), rows_tx, stop)
        .await;
    let encoded = encoder_thread
        .await
        .map_err(|e| anyhow!("the row encoder failed: {e}"))?;
    // The encoder's own error (disk full) explains a scan cut short by it.
    let Encoded {
        partitions,
        tracker,
        spool_dir,
    } = encoded?;
    let scanned = scanned?;
    drop(slot);
    let rows = scanned.rows - tracker.skipped;
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
    report.partitions = if partition_names.is_empty() {
        0
    } else {
        partitions.len()
    };
    report.files = partitions.len();
    report.bytes = partitions.iter().map(|p| p.bytes).sum();
    report.nulled = partitions.iter().map(|p| p.nulled).sum();
    if report.nulled > 0 {
        tracing::warn!(
            table = %table.name, values = report.nulled,
            "values their column's Parquet type cannot hold (zero dates, times outside a day) written as NULL"
        );
    }
    let ext = format.extension();
    // This run's own id in its delta files' names: no other run can write them.
    let run = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    let file_key = |values: &[Option<String>]| match delta {
        Some(n) => layout.delta_key(&table.name, &partition_names, values, n, &run, ext),
        None => layout.object_key(&table.name, &partition_names, values, ext),
    };
    let written: HashSet<String> = partitions.iter().map(|p| file_key(&p.values)).collect();
    // What the catalog registers after a full run: exactly the prefixes just written.
    let registered = match (catalog, delta) {
        (Some(_), None) => partitions
            .iter()
            .map(|p| {
                Ok(PartitionSpec {
                    values: catalog::partition_values(layout, &p.values),
                    location: catalog::lake_url(
                        config,
                        &layout.partition_dir(&table.name, &partition_names, &p.values),
                    )?,
                })
            })
            .collect::<Result<Vec<_>>>()?,
        _ => Vec::new(),
    };
    crate::testing::pause_point("extract.before-publish");
    fence.check()?;
    bar.stage(&format!("uploading {} file(s)", partitions.len()));
    // Until the record is written, this run's delta files are taken back if it fails or is
    // cancelled: the next run reads their rows again.
    let mut unpublished = UnpublishedDeltas::new(store.clone(), delta.is_some());
    let uploads = futures::stream::iter(partitions)
        .map(|p| {
            let key = file_key(&p.values);
            let fence = &fence;
            async move {
                fence.check()?;
                store
                    .put(&key, p.payload)
                    .await
                    .with_context(|| format!("writing {key}"))?;
                Ok::<_, anyhow::Error>(key)
            }
        })
        .buffer_unordered(config.datalake.upload_concurrency);
    futures::pin_mut!(uploads);
    while let Some(key) = uploads.try_next().await? {
        unpublished.add(key);
    }
    drop(spool_dir);

    let in_lake = store.list(&layout.base_dir(&table.name)).await?;
    if let Some(catalog) = catalog {
        bar.stage("catalog");
        let desired = match delta {
            None => registered,
            // Every partition of the table: an incremental run adds, never removes.
            Some(_) => catalog::partitions_from_keys(config, table, &in_lake)?,
        };
        let spec = catalog::table_spec(config, table, &plan)?;
        fence.check()?;
        let synced = catalog
            .sync_table(&spec, &desired, Deletes::Listed, false)
            .await
            .context("catalog")?;
        tracing::info!(
            table = %table.name, catalogs = %catalog.describe(), glue_calls = synced.glue_calls,
            athena_queries = synced.athena_queries, "catalog: {}", synced.summary()
        );
        report.catalog = Some(synced);
    }
    if delta.is_none() {
        // Only after every partition is in place and the catalogs point at them: drop the
        // files a full run did not write (partitions whose rows are gone, the deltas it
        // merged, and the folders of another spelling of the same partition, such as
        // Panorama's `%2B`, whose catalog partitions just moved here). Deleted earlier, a
        // moved partition would read as empty until the catalog caught up.
        let stale: Vec<String> = in_lake
            .iter()
            // Any format's: after a switch of format, the other format's files go too.
            .filter(|k| Format::is_table_file(k) && !written.contains(*k))
            .cloned()
            .collect();
        if !stale.is_empty() {
            fence.check()?;
            tracing::info!(table = %table.name, count = stale.len(), "removing stale files");
            store.delete(&stale).await?;
        }
        report.stale_removed = stale.len();
    }
    fence.check()?;
    tracker
        .finish(store.as_ref(), layout, &scanned.snapshot_utc)
        .await?;
    unpublished.published();
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The delta files of an incremental run whose record is not written yet. Dropped before
/// [`published`](Self::published) (the run failed, was cancelled, or lost its lease), it
/// deletes them in a cleanup task the process waits for: the rows are read again by the
/// next run, and a half-done run leaves no file behind.
struct UnpublishedDeltas {
    store: Arc<dyn Store>,
    keys: Vec<String>,
    active: bool,
}

impl UnpublishedDeltas {
    fn new(store: Arc<dyn Store>, active: bool) -> UnpublishedDeltas {
        UnpublishedDeltas {
            store,
            keys: Vec::new(),
            active,
        }
    }

    fn add(&mut self, key: String) {
        if self.active {
            self.keys.push(key);
        }
    }

    fn published(mut self) {
        self.keys.clear();
    }
}

impl Drop for UnpublishedDeltas {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let (store, keys) = (self.store.clone(), std::mem::take(&mut self.keys));
        crate::shutdown::spawn_cleanup(async move {
            match store.delete(&keys).await {
                Ok(()) => tracing::info!(
                    files = keys.len(),
                    "removed the delta files of a run that did not finish"
                ),
                // Harmless: the view keeps the newest version of each row, so a leftover
                // delta only repeats rows the next run writes again.
                Err(e) => {
                    tracing::warn!("cannot remove the delta files of an unfinished run: {e:#}")
                }
            }
        });
    }
}

/// The encoder thread's state: everything it needs to turn rows into spooled partitions.
struct Encoding {
    format: &'static dyn FileFormat,
    /// Data columns in file order.
    columns: Vec<SpoolColumn>,
    pseudonymized: Vec<bool>,
    pseudonyms: Option<Pseudonymizer>,
    partition_count: usize,
    ensure_empty: bool,
    tracker: Tracker,
    spool_dir: tempfile::TempDir,
    budget: usize,
    counter: Counter,
    table: String,
}

/// What the encoder thread hands back.
struct Encoded {
    partitions: Vec<SpooledPartition>,
    tracker: Tracker,
    /// Holds the spool files of `partitions` until they are uploaded.
    spool_dir: tempfile::TempDir,
}

impl Encoding {
    /// Encodes every batch until the scan closes the channel; then finishes the spool.
    fn run(mut self, mut rows: mpsc::Receiver<RowBatch>) -> Result<Encoded> {
        let dir = self.spool_dir.path().to_path_buf();
        let data_count = self.columns.len();
        let mut spool = Spool::new(
            &dir,
            self.format,
            std::mem::take(&mut self.columns),
            self.budget,
        );
        let mut key = Vec::with_capacity(64);
        // One buffer per pseudonymized column: a row's values borrow them.
        let mut pseudonym_bufs: Vec<Vec<u8>> = vec![Vec::new(); data_count];
        while let Some(batch) = rows.blocking_recv() {
            self.counter.inc(batch.len() as u64);
            for row in &batch {
                if !self.tracker.keep(|i| raw(row, i).ok().flatten()) {
                    continue;
                }
                key.clear();
                for j in 0..self.partition_count {
                    push_key_value(&mut key, raw(row, data_count + j)?);
                }
                if let Some(p) = &self.pseudonyms {
                    for (i, buf) in pseudonym_bufs.iter_mut().enumerate() {
                        if let (true, Some(value)) = (self.pseudonymized[i], raw(row, i)?) {
                            buf.clear();
                            p.pseudonym(value, buf);
                        }
                    }
                }
                let mut values = Vec::with_capacity(data_count);
                for (i, buf) in pseudonym_bufs.iter().enumerate() {
                    let value = raw(row, i)?;
                    values.push(match value {
                        Some(_) if self.pseudonymized[i] => Some(buf.as_slice()),
                        _ => value,
                    });
                }
                let partition_count = self.partition_count;
                let partition_values = || {
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
                spool
                    .push(&key, partition_values, &values)
                    .with_context(|| {
                        format!(
                            "cannot write spool files in {} (disk full? set datalake.spool_dir)",
                            dir.display()
                        )
                    })?;
            }
        }
        if self.ensure_empty {
            spool.ensure(&[], Vec::new());
        }
        tracing::debug!(
            table = %self.table, partitions = spool.partition_count(), spilled = spool.spilled_bytes(),
            "scan finished"
        );
        let partitions = spool.finish()?;
        Ok(Encoded {
            partitions,
            tracker: self.tracker,
            spool_dir: self.spool_dir,
        })
    }
}

/// The text-protocol bytes of column `i`, or None for SQL NULL.
fn raw(row: &MySqlRow, i: usize) -> Result<Option<&[u8]>> {
    // Unchecked: in the text protocol every value is bytes, whatever its SQL type.
    Ok(row.try_get_unchecked::<Option<&[u8]>, _>(i)?)
}

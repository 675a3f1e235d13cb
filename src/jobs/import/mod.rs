//! `edlake import`: edX research data packages into the same lake, tables and views as a
//! self-hosted site, under `lms=<import.lms>` (docs/research-packages.md).
//!
//! Packages are taken oldest first. Each is read whole (decrypted, checked) before any of
//! it is published; its course snapshots replace those of older packages, never of newer
//! ones. Per-learner tables are merged so a learner appears once, from the newest package
//! that holds them. Event files go to `tracking_logs` exactly once. A ledger in the lake
//! records what was imported, so importing the same files again changes nothing. The whole
//! run holds the lease `research_packages` of the import's partitions.

mod events;
mod ledger;
mod merge;
mod packages;
mod tables;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;

use crate::catalog::{Catalogs, SyncReport};
use crate::config::Config;
use crate::lake::Layout;
use crate::lease::{Fence, Leases};
use crate::privacy::Pseudonymizer;
use crate::source::research_package::{gpg, inputs};
use crate::store::{self, Store};
use crate::text_table::{Column, TextTable};
use ledger::{CourseSnapshot, Ledger};
use tables::TableModel;

/// The lease every import holds.
const LEASE: &str = "research_packages";

#[derive(Debug, Default)]
pub struct ImportReport {
    /// Each package (its zip's name, or its folder's) and what became of it.
    pub packages: Vec<(String, &'static str)>,
    /// Rows written per table by this run.
    pub rows: BTreeMap<String, u64>,
    pub event_files: Vec<(String, &'static str, u64)>,
    /// Uncompressed bytes of the event files imported, and the seconds they took.
    pub event_bytes: u64,
    pub event_seconds: f64,
    pub ignored: usize,
    /// One line per file or table that failed; the rest went on.
    pub failures: Vec<String>,
    pub catalog: Vec<(String, SyncReport)>,
}

impl ImportReport {
    pub fn is_complete(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The config the import writes with: `lms` (and `lms_host`) = `import.lms`, so every
/// layout, catalog filter and partition of this run is the import's.
pub fn import_config(config: &Config) -> Config {
    let mut c = config.clone();
    c.base_partitions = config.import_layout().base().to_vec();
    c.lms_host = config.import.lms.clone();
    c
}

pub async fn run(
    config: &Config,
    paths: &[PathBuf],
    stop: &CancellationToken,
) -> Result<ImportReport> {
    let config = &import_config(config);
    let layout = config.layout();
    let store = store::open(config).await?;
    store.list(&layout.state_root()).await?;
    // S3 prefixes where packages land are copied here first (streamed: event files run to
    // gigabytes), then read as local folders.
    let downloads = store.spool_dir()?;
    let mut local = Vec::new();
    for (n, path) in paths.iter().enumerate() {
        let text = path.to_string_lossy();
        match text.starts_with("s3://") {
            true => {
                local.push(download(config, &text, &downloads.path().join(n.to_string())).await?)
            }
            false => local.push(path.clone()),
        }
    }
    let found = inputs::discover(&local)?;
    let lease = config.lease_settings()?;
    crate::lease::require_conditional_writes(store.as_ref(), &layout, lease).await?;
    let catalog = match config.any_catalog_enabled() {
        true => {
            let catalog = Catalogs::open_with(config, store.clone()).await?;
            catalog.ensure_database(false).await?;
            Some(catalog)
        }
        false => None,
    };
    let leases = Leases::new(store.clone(), &layout, "import", lease, stop.clone());
    let job = Job {
        config,
        layout: &layout,
        store: &store,
        catalog: catalog.as_ref(),
        stop,
        gnupghome: config.import.gnupghome.clone().or_else(gpg::default_home),
    };
    let mut report = ImportReport {
        ignored: found.ignored.len(),
        ..ImportReport::default()
    };
    let (job, found_ref, report_ref) = (&job, &found, &mut report);
    leases
        .hold(LEASE, |fence| async move {
            job.import(found_ref, &fence, report_ref).await
        })
        .await?;
    Ok(report)
}

/// Copies every object under the `s3://bucket/prefix` `url` into `dir`, keeping the keys'
/// folders (a loose package's `{org}-{date}/`).
async fn download(config: &Config, url: &str, dir: &Path) -> Result<PathBuf> {
    let location = crate::lake::parse_location("an import path", url)?;
    let source = store::open_location(config, location).await?;
    let keys = source.list("").await?;
    if keys.is_empty() {
        anyhow::bail!("{url}: no object under this prefix");
    }
    for key in keys {
        if key.split('/').any(|part| part == "..") {
            anyhow::bail!("{url}: object {key:?} names a parent folder; not imported");
        }
        let path = dir.join(&key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        source.download(&key, &path).await?;
    }
    Ok(dir.to_path_buf())
}

/// The ledger as the lake holds it, and its version tag.
struct Saved {
    ledger: Ledger,
    tag: Option<String>,
}

struct Job<'a> {
    config: &'a Config,
    layout: &'a Layout,
    store: &'a Arc<dyn Store>,
    catalog: Option<&'a Catalogs>,
    stop: &'a CancellationToken,
    gnupghome: Option<PathBuf>,
}

impl Job<'_> {
    async fn import(
        &self,
        found: &inputs::Found,
        fence: &Fence,
        report: &mut ImportReport,
    ) -> Result<()> {
        let (mut ledger, tag) = ledger::read(self.store.as_ref(), self.layout).await?;
        let mut saved = Saved {
            ledger: ledger.clone(),
            tag,
        };
        let scratch = self.store.spool_dir()?;
        for package in &found.packages {
            crate::shutdown::check(self.stop)?;
            let fingerprint = {
                let p = package.clone();
                tokio::task::spawn_blocking(move || p.fingerprint()).await??
            };
            if ledger.packages.get(&package.name) == Some(&fingerprint) {
                report
                    .packages
                    .push((package.display_name(), "already imported"));
                continue;
            }
            match self
                .import_package(package, scratch.path(), &mut ledger, fence, report)
                .await
            {
                Ok(status) => {
                    ledger.packages.insert(package.name.clone(), fingerprint);
                    self.save(&ledger, &mut saved, fence).await?;
                    report.packages.push((package.display_name(), status));
                }
                Err(e) => {
                    report.packages.push((package.display_name(), "FAILED"));
                    report
                        .failures
                        .push(format!("package {}: {e:#}", package.name));
                }
            }
        }
        // Before the events: the merges and catalog entries of what was just published
        // (and of a run that stopped before doing them). The events' own come after them.
        let pending: Vec<String> = ledger
            .pending
            .iter()
            .filter(|t| *t != crate::table::TRACKING_LOGS)
            .cloned()
            .collect();
        for table in pending {
            crate::shutdown::check(self.stop)?;
            match self.finish_table(&table, &ledger, fence, report).await {
                Ok(()) => {
                    ledger.pending.remove(&table);
                }
                Err(e) => report.failures.push(format!("table {table}: {e:#}")),
            }
        }
        self.save(&ledger, &mut saved, fence).await?;
        for file in &found.events {
            crate::shutdown::check(self.stop)?;
            let fingerprint = {
                let f = file.clone();
                tokio::task::spawn_blocking(move || events::fingerprint(&f)).await??
            };
            if ledger.events.get(&file.name).map(|r| &r.fingerprint) == Some(&fingerprint) {
                report
                    .event_files
                    .push((file.name.clone(), "already imported", 0));
                continue;
            }
            fence.check()?;
            let started = std::time::Instant::now();
            let imported = events::import_file(
                self.store.as_ref(),
                self.layout,
                file,
                &fingerprint,
                self.gnupghome.as_deref(),
                scratch.path(),
            )
            .await;
            match imported {
                Ok(imported) => {
                    report.event_bytes += imported.bytes;
                    report.event_seconds += started.elapsed().as_secs_f64();
                    let count = imported.record.events;
                    // A file delivered again with other content replaces what it was.
                    let replaced: Vec<String> = ledger
                        .events
                        .get(&file.name)
                        .map(|old| {
                            old.objects
                                .iter()
                                .filter(|k| !imported.record.objects.contains(k))
                                .cloned()
                                .collect()
                        })
                        .unwrap_or_default();
                    fence.check()?;
                    self.store.delete(&replaced).await?;
                    ledger.events.insert(file.name.clone(), imported.record);
                    ledger.pending.insert(crate::table::TRACKING_LOGS.into());
                    self.save(&ledger, &mut saved, fence).await?;
                    *report
                        .rows
                        .entry(crate::table::TRACKING_LOGS.into())
                        .or_default() += count;
                    report
                        .event_files
                        .push((file.name.clone(), "imported", count));
                }
                Err(e) => {
                    report.event_files.push((file.name.clone(), "FAILED", 0));
                    report.failures.push(format!("{e:#}"));
                }
            }
        }
        if ledger.pending.contains(crate::table::TRACKING_LOGS) {
            match self.sync_tracking_logs(fence, report).await {
                Ok(()) => {
                    ledger.pending.remove(crate::table::TRACKING_LOGS);
                    self.save(&ledger, &mut saved, fence).await?;
                }
                Err(e) => report
                    .failures
                    .push(format!("table tracking_logs: catalog: {e:#}")),
            }
        }
        Ok(())
    }

    /// Writes the ledger when it changed since it was last read or written: after the
    /// files it records, under the lease.
    async fn save(&self, ledger: &Ledger, saved: &mut Saved, fence: &Fence) -> Result<()> {
        if *ledger == saved.ledger {
            return Ok(());
        }
        fence.check()?;
        let tag = ledger::write(
            self.store.as_ref(),
            self.layout,
            ledger,
            saved.tag.as_deref(),
        )
        .await?;
        *saved = Saved {
            ledger: ledger.clone(),
            tag: Some(tag),
        };
        Ok(())
    }

    /// Reads, checks and publishes one package; returns what became of it.
    async fn import_package(
        &self,
        package: &inputs::Package,
        scratch: &Path,
        ledger: &mut Ledger,
        fence: &Fence,
        report: &mut ImportReport,
    ) -> Result<&'static str> {
        let dir = tempfile::tempdir_in(scratch)?;
        let (plain, structures) = {
            let (p, d, h) = (
                package.clone(),
                dir.path().to_path_buf(),
                self.gnupghome.clone(),
            );
            tokio::task::spawn_blocking(move || packages::decrypt_all(&p, &d, h.as_deref()))
                .await??
        };
        let has_structures = !structures.is_empty();
        let mut models = BTreeMap::new();
        for table in packages::tables_of(&plain) {
            let headers: Vec<Vec<String>> = plain
                .iter()
                .filter(|p| p.table == table)
                .map(|p| p.header.clone())
                .collect();
            let order = self.column_order(&table, ledger).await?;
            models.insert(
                table.clone(),
                TableModel::new(self.config, &table, &order, &headers),
            );
        }
        let pseudonyms = match models.values().any(TableModel::pseudonymizes) {
            true => Some(Pseudonymizer::new(
                &self
                    .config
                    .privacy_key()?
                    .context("columns to pseudonymize but no privacy key")?,
            )),
            false => None,
        };
        let staging = format!("{}staging/", ledger::imports_dir(self.layout));
        let prepared = {
            let (config, layout, models2, dir_path) = (
                self.config.clone(),
                self.layout.clone(),
                models.clone(),
                dir.path().to_path_buf(),
            );
            tokio::task::spawn_blocking(move || {
                packages::encode_package(
                    &config,
                    &layout,
                    &models2,
                    &plain,
                    &structures,
                    &dir_path,
                    pseudonyms.as_ref(),
                    &staging,
                )
            })
            .await??
        };
        let mut newest = 0;
        for (course, files) in prepared.courses {
            let older = ledger
                .courses
                .get(&course)
                .is_some_and(|c| c.date > package.date);
            if older {
                continue;
            }
            newest += 1;
            let mut snapshot = CourseSnapshot {
                package: package.name.clone(),
                date: package.date.clone(),
                ..CourseSnapshot::default()
            };
            for (key, payload) in files.files {
                fence.check()?;
                self.store
                    .put(&key, payload)
                    .await
                    .with_context(|| format!("writing {key}"))?;
                snapshot.files.push(key);
            }
            for (key, payload) in files.staged {
                fence.check()?;
                self.store
                    .put(&key, payload)
                    .await
                    .with_context(|| format!("writing {key}"))?;
                snapshot.staged.push(key);
            }
            // What the course's older snapshot wrote and this one did not (a table the
            // newer package has no file for: no rows).
            if let Some(old) = ledger.courses.get(&course) {
                let gone: Vec<String> = old
                    .files
                    .iter()
                    .chain(&old.staged)
                    .filter(|k| !snapshot.files.contains(k) && !snapshot.staged.contains(k))
                    .cloned()
                    .collect();
                fence.check()?;
                self.store.delete(&gone).await?;
                for key in &gone {
                    if let Some(table) = self.table_of_key(key) {
                        ledger.pending.insert(table);
                    }
                }
            }
            ledger.courses.insert(course, snapshot);
        }
        for (table, rows) in prepared.rows {
            *report.rows.entry(table).or_default() += rows;
        }
        for (table, model) in models {
            ledger.columns.insert(table.clone(), model.columns.clone());
            ledger.pending.insert(table);
        }
        if has_structures {
            ledger
                .pending
                .insert(crate::table::COURSE_STRUCTURES.into());
        }
        Ok(if newest == 0 {
            "older: newer snapshots kept"
        } else {
            "imported"
        })
    }

    /// The table a lake or staging key belongs to.
    fn table_of_key(&self, key: &str) -> Option<String> {
        let staging = format!("{}staging/", ledger::imports_dir(self.layout));
        if let Some(rest) = key.strip_prefix(&staging) {
            return rest.split('/').next().map(str::to_string);
        }
        key.strip_prefix(&self.layout.prefix_dir())?
            .split('/')
            .next()
            .map(str::to_string)
    }

    /// The order a table's files must follow: the catalog's columns, then the ones this
    /// import wrote before.
    async fn column_order(&self, table: &str, ledger: &Ledger) -> Result<Vec<String>> {
        let mut order = Vec::new();
        if let Some(catalog) = self.catalog {
            let raw = crate::catalog::raw_table_name(
                self.config,
                &tables::table_config(self.config, table),
            );
            if let Some(existing) = catalog.existing_table(&raw).await.context("catalog")? {
                order.extend(existing.columns.into_iter().map(|c| c.name));
            }
        }
        for c in ledger.columns.get(table).into_iter().flatten() {
            if !order.iter().any(|o| o.eq_ignore_ascii_case(c)) {
                order.push(c.clone());
            }
        }
        Ok(order)
    }

    async fn finish_table(
        &self,
        table: &str,
        ledger: &Ledger,
        fence: &Fence,
        report: &mut ImportReport,
    ) -> Result<()> {
        if table == crate::table::COURSE_STRUCTURES {
            return merge::sync_structures(
                self.config,
                self.store.as_ref(),
                self.catalog,
                fence,
                report,
            )
            .await;
        }
        let order = ledger.columns.get(table).cloned().unwrap_or_default();
        let model = TableModel::new(self.config, table, &order, &[]);
        if crate::source::research_package::schema::learner_key(table).is_some() {
            merge::merge_learners(self.config, self.layout, self.store, &model, ledger, fence)
                .await?;
        }
        merge::sync_table(
            self.config,
            self.store.as_ref(),
            self.catalog,
            &model,
            fence,
            report,
        )
        .await
    }

    async fn sync_tracking_logs(&self, fence: &Fence, report: &mut ImportReport) -> Result<()> {
        let Some(catalog) = self.catalog else {
            return Ok(());
        };
        fence.check()?;
        let synced =
            crate::jobs::logs::table::sync_with(self.config, self.store.as_ref(), catalog, false)
                .await?;
        report
            .catalog
            .push((crate::table::TRACKING_LOGS.into(), synced));
        Ok(())
    }
}

/// The summary `edlake import` prints.
pub fn render(report: &ImportReport) -> String {
    let mut table = TextTable::new(&[Column::left("FILE", 4, ""), Column::left("STATUS", 0, "  ")]);
    for (name, status) in &report.packages {
        table.row(vec![name.clone(), status.to_string()]);
    }
    for (name, status, events) in &report.event_files {
        let status = match *status {
            "imported" => format!("imported: {events} events"),
            other => other.to_string(),
        };
        table.row(vec![name.clone(), status]);
    }
    let mut out = table.render();
    let rows: Vec<String> = report
        .rows
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    if !rows.is_empty() {
        out.push_str(&format!("rows written: {}\n", rows.join(", ")));
    }
    for (t, synced) in &report.catalog {
        out.push_str(&format!("catalog {t}: {}\n", synced.summary()));
    }
    if report.event_bytes > 0 {
        out.push_str(&format!(
            "events: {} MB in {:.1} s ({:.0} MB/s, decrypted and uncompressed)\n",
            report.event_bytes / 1_000_000,
            report.event_seconds,
            report.event_bytes as f64 / 1e6 / report.event_seconds.max(1e-9)
        ));
    }
    if report.ignored > 0 {
        out.push_str(&format!(
            "{} other file(s) ignored (forum dumps, OLX, …)\n",
            report.ignored
        ));
    }
    out
}

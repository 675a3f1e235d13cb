//! After packages are published: the per-learner tables merged from their staged course
//! snapshots (newest first, a learner's first row wins), and the catalog entries of every
//! table the import wrote, from a listing of the import's partitions.

use std::sync::Arc;

use anyhow::{Context, Result};

use super::ledger::{self, Ledger};
use super::tables::{self, LearnerMerge, TableModel};
use super::ImportReport;
use crate::catalog::{self, Catalogs, Deletes};
use crate::config::Config;
use crate::encode;
use crate::jobs::extract::course_structures as structures;
use crate::lake::{Format, Layout};
use crate::lease::Fence;
use crate::store::Store;

/// Rewrites a per-learner table from every course's staged snapshot: one row per learner,
/// from the newest package that holds them (ties: the course name decides, so the result
/// never depends on listing order).
pub async fn merge_learners(
    config: &Config,
    layout: &Layout,
    store: &Arc<dyn Store>,
    model: &TableModel,
    ledger: &Ledger,
    fence: &Fence,
) -> Result<()> {
    let table = model.name().to_string();
    let staging = format!("{}staging/{table}/", ledger::imports_dir(layout));
    let mut staged: Vec<(&str, &str, &String)> = ledger
        .courses
        .iter()
        .flat_map(|(course, snapshot)| {
            snapshot
                .staged
                .iter()
                .filter(|k| k.starts_with(&staging))
                .map(move |k| (snapshot.date.as_str(), course.as_str(), k))
        })
        .collect();
    staged.sort_by(|a, b| b.0.cmp(a.0).then(a.1.cmp(b.1)));
    let format = config.format_of(&model.config);
    let scratch = store.spool_dir()?;
    let mut spool = tables::spool(model, encode::format(format), scratch.path());
    let mut merge = LearnerMerge::new(&table).context("not a per-learner table")?;
    let mut rows = 0;
    for (_, _, key) in staged {
        let bytes = store
            .get(key)
            .await
            .with_context(|| format!("reading {key}"))?;
        let mut reader = tables::staged_reader(&bytes, key)?;
        rows += tables::encode_records(model, &mut reader, None, &mut spool, |h, r| {
            merge.first(h, r)
        })?;
    }
    let parts = spool.finish()?;
    let mut written = Vec::new();
    for part in parts {
        let key = layout.object_key(
            &table,
            &model.partition_by,
            &part.values,
            format.extension(),
        );
        fence.check()?;
        store
            .put(&key, part.payload)
            .await
            .with_context(|| format!("writing {key}"))?;
        written.push(key);
    }
    // The merged file replaces every other file of the table in the import's partitions.
    let stale: Vec<String> = store
        .list(&layout.base_dir(&table))
        .await?
        .into_iter()
        .filter(|k| Format::is_table_file(k) && !written.contains(k))
        .collect();
    fence.check()?;
    store.delete(&stale).await?;
    tracing::info!(table = %table, learners = rows, "per-learner table merged");
    Ok(())
}

/// Registers the table's partitions of the import and its view, as an extract would.
pub async fn sync_table(
    config: &Config,
    store: &dyn Store,
    catalog: Option<&Catalogs>,
    model: &TableModel,
    fence: &Fence,
    report: &mut ImportReport,
) -> Result<()> {
    let Some(catalog) = catalog else {
        return Ok(());
    };
    let layout = config.layout();
    let keys = store.list(&layout.base_dir(model.name())).await?;
    let desired = catalog::partitions_from_keys(config, &model.config, &keys)?;
    let spec = catalog::table_spec(config, &model.config, &model.plan())?;
    fence.check()?;
    let synced = catalog
        .sync_table(&spec, &desired, Deletes::Listed, false)
        .await
        .context("catalog")?;
    report.catalog.push((model.name().to_string(), synced));
    Ok(())
}

/// The course structures' partitions and view.
pub async fn sync_structures(
    config: &Config,
    store: &dyn Store,
    catalog: Option<&Catalogs>,
    fence: &Fence,
    report: &mut ImportReport,
) -> Result<()> {
    let Some(catalog) = catalog else {
        return Ok(());
    };
    let table = structures::table_config(config);
    let keys = store
        .list(&config.layout().base_dir(structures::TABLE))
        .await?;
    let desired = catalog::partitions_from_keys(config, &table, &keys)?;
    fence.check()?;
    let synced = catalog
        .sync_table(
            &structures::table_spec(config)?,
            &desired,
            Deletes::Listed,
            false,
        )
        .await
        .context("catalog")?;
    report.catalog.push((structures::TABLE.into(), synced));
    Ok(())
}

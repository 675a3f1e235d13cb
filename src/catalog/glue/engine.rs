//! The Glue backend's sync: [`GlueCatalog`] reads Glue through [`GlueApi`], plans with
//! plan.rs, and writes the differences in batches; views (the view model in Trino's SQL)
//! go through [`AthenaApi`] only when their statement changed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use sha2::{Digest, Sha256};

use async_trait::async_trait;

use crate::catalog::api::{
    AthenaApi, Catalog, Deletes, ExistingTable, GlueApi, GluePartition, PartitionFailure,
    PartitionSpec, Polling, SyncReport, TableDefinition, TableSpec, MAX_CREATE_BATCH,
    MAX_DELETE_BATCH, MAX_UPDATE_BATCH, VIEW_HASH_PARAMETER, VIRTUAL_VIEW,
};
use crate::catalog::plan::{
    columns_in_format, merge_columns, plan_partitions, same_types, PartitionPlan,
};
use crate::catalog::view::{create_view_sql, spec_view, trino::Trino};
use crate::config::Config;
use crate::lake::BasePartition;

/// `lms=a/course_id=b` style, for messages.
pub fn describe_partition(keys: &[String], values: &[String]) -> String {
    keys.iter()
        .zip(values)
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("/")
}

/// A Glue partition-filter literal.
fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

pub struct GlueCatalog {
    glue: Arc<dyn GlueApi>,
    athena: Arc<dyn AthenaApi>,
    database: String,
    /// This installation's base partitions: the only partitions it lists and changes.
    base: Vec<BasePartition>,
    polling: Polling,
}

impl GlueCatalog {
    pub fn new(
        glue: Arc<dyn GlueApi>,
        athena: Arc<dyn AthenaApi>,
        database: &str,
        base: &[BasePartition],
        polling: Polling,
    ) -> GlueCatalog {
        GlueCatalog {
            glue,
            athena,
            database: database.to_string(),
            base: base.to_vec(),
            polling,
        }
    }

    /// The AWS-backed catalog `config` describes.
    pub async fn open(config: &Config) -> Result<GlueCatalog> {
        let settings = &config.catalog;
        let (glue, athena) = super::sdk_clients(config).await;
        Ok(GlueCatalog::new(
            Arc::new(glue),
            Arc::new(super::SdkAthena::new(
                athena,
                &settings.athena_workgroup,
                settings.athena_output.as_deref(),
                &settings.database,
            )),
            &settings.database,
            &config.base_partitions(),
            GlueCatalog::polling(config),
        ))
    }

    pub fn polling(config: &Config) -> Polling {
        Polling {
            first: Duration::from_millis(200),
            max: Duration::from_secs(3),
            timeout: Duration::from_secs(config.catalog.athena_timeout_secs),
        }
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    pub fn glue(&self) -> &dyn GlueApi {
        self.glue.as_ref()
    }

    pub fn athena(&self) -> &dyn AthenaApi {
        self.athena.as_ref()
    }

    /// Every partition of this installation, following `NextToken` to the end.
    async fn list_partitions(
        &self,
        raw_table: &str,
        report: &mut SyncReport,
    ) -> Result<Vec<GluePartition>> {
        let expression = self
            .base
            .iter()
            .map(|b| format!("{} = {}", b.name, quote_literal(&b.value)))
            .collect::<Vec<_>>()
            .join(" AND ");
        let base: Vec<&String> = self.base.iter().map(|b| &b.value).collect();
        let mut all = Vec::new();
        let mut token = None;
        loop {
            report.glue_calls += 1;
            let page = self
                .glue
                .get_partitions(&self.database, raw_table, &expression, token)
                .await?;
            // Defensive: never touch another installation's partitions, whatever the filter
            // did.
            all.extend(page.partitions.into_iter().filter(|p| {
                p.values.len() >= base.len() && p.values.iter().zip(&base).all(|(v, b)| v == *b)
            }));
            match page.next_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => break,
            }
        }
        Ok(all)
    }

    async fn apply_partitions(
        &self,
        spec: &TableSpec,
        def: &TableDefinition,
        plan: PartitionPlan,
        dry_run: bool,
        report: &mut SyncReport,
    ) -> Result<()> {
        let db = self.database.as_str();
        let table = spec.raw_table.as_str();
        let keys = &def.partition_keys;
        report.created = plan.create.len();
        report.updated = plan.update.len();
        report.deleted = plan.delete.len();
        if !plan.create.is_empty() {
            report.operations.push(format!(
                "create {} partitions in {db}.{table}",
                plan.create.len()
            ));
        }
        if !plan.update.is_empty() {
            report.operations.push(format!(
                "update {} partitions in {db}.{table} (location or columns)",
                plan.update.len()
            ));
        }
        if !plan.delete.is_empty() {
            report.operations.push(format!(
                "delete {} partitions from {db}.{table} (no longer in the lake)",
                plan.delete.len()
            ));
        }
        if dry_run {
            return Ok(());
        }
        let refused = |action: &str, failures: Vec<PartitionFailure>| -> Result<()> {
            if let Some(first) = failures.first() {
                bail!(
                    "Glue refused to {action} {} partition(s) of {db}.{table}, first {}: {}: {}",
                    failures.len(),
                    describe_partition(keys, &first.values),
                    first.code,
                    first.message
                );
            }
            Ok(())
        };
        for chunk in plan.create.chunks(MAX_CREATE_BATCH) {
            report.glue_calls += 1;
            let failures = self
                .glue
                .batch_create_partition(db, table, def, chunk)
                .await?;
            // Created meanwhile (another run, a crawler): that is what we wanted.
            refused(
                "create",
                failures
                    .into_iter()
                    .filter(|f| f.code != "AlreadyExistsException")
                    .collect(),
            )?;
        }
        for chunk in plan.update.chunks(MAX_UPDATE_BATCH) {
            report.glue_calls += 1;
            let failures = self
                .glue
                .batch_update_partition(db, table, def, chunk)
                .await?;
            refused("update", failures)?;
        }
        for chunk in plan.delete.chunks(MAX_DELETE_BATCH) {
            report.glue_calls += 1;
            let failures = self.glue.batch_delete_partition(db, table, chunk).await?;
            refused(
                "delete",
                failures
                    .into_iter()
                    .filter(|f| f.code != "EntityNotFoundException")
                    .collect(),
            )?;
        }
        Ok(())
    }

    /// Runs one statement and waits for a final state; anything but SUCCEEDED is an error
    /// carrying Athena's reason.
    pub async fn run_query(&self, sql: &str, purpose: &str) -> Result<()> {
        super::athena::wait_for(self.athena.as_ref(), sql, purpose, self.polling).await
    }
}

#[async_trait]
impl Catalog for GlueCatalog {
    fn describe(&self) -> String {
        format!("Glue database {}", self.database)
    }

    /// Creates the Glue database when missing; returns the operation made, if any.
    async fn ensure_database(&self, dry_run: bool) -> Result<Option<String>> {
        if self.glue.database_exists(&self.database).await? {
            return Ok(None);
        }
        if !dry_run {
            self.glue.create_database(&self.database).await?;
        }
        Ok(Some(format!("create database {}", self.database)))
    }

    /// The raw table as Glue has it: the order new files must follow, and its SerDe.
    async fn existing_table(&self, raw_table: &str) -> Result<Option<ExistingTable>> {
        Ok(self
            .glue
            .get_table(&self.database, raw_table)
            .await?
            .map(|t| ExistingTable {
                format: t.format(),
                columns: t.columns,
            }))
    }

    /// Brings the raw table, this LMS's partitions and the view of `spec` in line with the
    /// lake, `desired` being every partition of this LMS that has files. Partitions Glue
    /// has beyond `desired` are deleted only as `deletes` allows.
    async fn sync_table(
        &self,
        spec: &TableSpec,
        desired: &[PartitionSpec],
        deletes: Deletes<'_>,
        dry_run: bool,
    ) -> Result<SyncReport> {
        let db = self.database.as_str();
        let mut report = SyncReport {
            table: spec.table.clone(),
            raw_table: spec.raw_table.clone(),
            view: spec.view.clone(),
            partitions: desired.len(),
            ..Default::default()
        };

        // The raw table.
        report.glue_calls += 1;
        let existing = self.glue.get_table(db, &spec.raw_table).await?;
        if let Some(t) = &existing {
            if t.table_type == VIRTUAL_VIEW {
                bail!("Glue {db}.{} is a view, not a table (drop it or set the table's raw_table name)", spec.raw_table);
            }
        }
        let old_columns = match &existing {
            Some(t) => columns_in_format(t.columns.clone(), t.format(), spec),
            None => Vec::new(),
        };
        if let Some(old) = &existing {
            same_types(
                spec,
                old.format(),
                &old_columns,
                &format!("Glue table {db}.{}", spec.raw_table),
            )?;
        }
        let (columns, added, absent) = merge_columns(&old_columns, &spec.columns);
        if existing.is_some() {
            report.added_columns = added;
        }
        report.absent_columns = absent;
        let def = TableDefinition::raw_table(spec, columns.clone());
        let mut params = BTreeMap::new();
        match &existing {
            None => {
                report
                    .operations
                    .push(format!("create table {db}.{}", spec.raw_table));
                report.table_change = Some("created");
                if !dry_run {
                    report.glue_calls += 1;
                    self.glue.create_table(db, &spec.raw_table, &def).await?;
                }
            }
            Some(old) => {
                if old.partition_keys != def.partition_keys {
                    bail!(
                        "Glue table {db}.{} is partitioned by ({}) but the config says ({}); \
                         drop the Glue table (the lake keeps the data) and run `edlake catalog sync`",
                        spec.raw_table,
                        old.partition_keys.join(", "),
                        def.partition_keys.join(", ")
                    );
                }
                params = old.parameters.clone();
                if !old.covers(&def) {
                    report.table_change = Some("updated");
                    report.operations.push(format!(
                        "update table {db}.{}{}",
                        spec.raw_table,
                        if report.added_columns.is_empty() {
                            String::new()
                        } else {
                            format!(" (append columns {})", report.added_columns.join(", "))
                        }
                    ));
                    if !dry_run {
                        report.glue_calls += 1;
                        self.glue
                            .update_table(db, &spec.raw_table, &old.merged_into(&def))
                            .await?;
                    }
                }
            }
        }

        // This LMS's partitions.
        let current = if existing.is_some() {
            self.list_partitions(&spec.raw_table, &mut report).await?
        } else {
            Vec::new()
        };
        let mut plan = plan_partitions(&current, desired, &def);
        match deletes {
            Deletes::Listed => {}
            Deletes::Never => plan.delete.clear(),
            Deletes::Relist(list) => {
                if !plan.delete.is_empty() {
                    // Listed after Glue was read: a partition registered by then had its
                    // files uploaded before, so this listing shows them (S3 lists strongly
                    // consistently). Only what is still missing is stale.
                    let now = list.relist().await?;
                    plan.delete
                        .retain(|values| !now.iter().any(|p| &p.values == values));
                }
            }
        }
        self.apply_partitions(spec, &def, plan, dry_run, &mut report)
            .await?;

        // The view, only when its statement changed or it is gone.
        let sql = create_view_sql(
            &Trino,
            db,
            &spec.view,
            &spec.raw_table,
            &spec_view(spec, &columns),
        );
        let hash = format!("{:x}", Sha256::digest(sql.as_bytes()));
        report.glue_calls += 1;
        let view = self.glue.get_table(db, &spec.view).await?;
        if let Some(v) = &view {
            if v.table_type != VIRTUAL_VIEW {
                bail!(
                    "Glue {db}.{} is a table, not a view (drop it or set the table's view name)",
                    spec.view
                );
            }
        }
        if view.is_none() || params.get(VIEW_HASH_PARAMETER) != Some(&hash) {
            report
                .operations
                .push(format!("create or replace view {db}.{}", spec.view));
            report.view_replaced = true;
            if !dry_run {
                report.athena_queries += 1;
                self.run_query(&sql, &format!("creating view {db}.{}", spec.view))
                    .await?;
                let mut recorded = def.clone();
                if let Some(old) = &existing {
                    recorded = old.merged_into(&recorded);
                }
                recorded.parameters.insert(VIEW_HASH_PARAMETER.into(), hash);
                report.glue_calls += 1;
                self.glue
                    .update_table(db, &spec.raw_table, &recorded)
                    .await?;
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests;

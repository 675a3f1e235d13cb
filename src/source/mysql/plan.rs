//! A configured table resolved against the live schema: which columns are exported, in
//! which order, which are partitions, which are pseudonymized, and whether the table can be
//! read incrementally.

use anyhow::{anyhow, bail, Result};

use super::{ALWAYS_EXCLUDED, SECRET_BY_DEFAULT};
use crate::config::{panorama_column_order, TableConfig};
use crate::table::{Column, ColumnKind, ColumnPolicy, Incremental, TablePlan};

/// Data columns: pinned list (in its order) or every column, minus exclusions and the
/// partition columns (Athena forbids a partition key that is also a data column).
pub fn plan_columns(
    table: &TableConfig,
    policy: &ColumnPolicy,
    all: &[Column],
) -> Result<TablePlan> {
    let find = |name: &str| all.iter().find(|c| c.name.eq_ignore_ascii_case(name));
    for name in &policy.required {
        if find(name).is_none() {
            bail!("column {name} named by the privacy settings does not exist (fix [privacy] or pseudonymize in the config)");
        }
    }
    let excluded = |name: &str| {
        policy.drops(name)
            || table
                .exclude_columns
                .iter()
                .any(|x| x.eq_ignore_ascii_case(name))
            || ALWAYS_EXCLUDED
                .iter()
                .any(|(t, c)| t.eq_ignore_ascii_case(&table.name) && c.eq_ignore_ascii_case(name))
            || (SECRET_BY_DEFAULT
                .iter()
                .any(|(t, c)| t.eq_ignore_ascii_case(&table.name) && c.eq_ignore_ascii_case(name))
                && !table
                    .columns
                    .iter()
                    .flatten()
                    .any(|p| p.eq_ignore_ascii_case(name)))
            || table
                .partition_by
                .iter()
                .any(|p| p.eq_ignore_ascii_case(name))
    };
    let mut partition_columns = Vec::new();
    for p in &table.partition_by {
        let col = find(p).ok_or_else(|| {
            anyhow!("partition column {p} does not exist (fix partition_by in the config)")
        })?;
        partition_columns.push(col.clone());
    }
    let data_columns: Vec<Column> = match &table.columns {
        Some(pinned) => {
            let mut cols = Vec::new();
            for name in pinned {
                let col = find(name).ok_or_else(|| {
                    anyhow!("column {name} does not exist (fix columns in the config)")
                })?;
                if !excluded(&col.name) {
                    cols.push(col.clone());
                }
            }
            cols
        }
        None => {
            let mut rest: Vec<Column> =
                all.iter().filter(|c| !excluded(&c.name)).cloned().collect();
            // Panorama's order first for its tables, whatever the site's physical order.
            let mut cols = Vec::with_capacity(rest.len());
            for name in panorama_column_order(&table.name).unwrap_or_default() {
                if let Some(i) = rest.iter().position(|c| c.name.eq_ignore_ascii_case(name)) {
                    cols.push(rest.remove(i));
                }
            }
            cols.append(&mut rest);
            cols
        }
    };
    if data_columns.is_empty() {
        bail!("no column left to export (check columns and exclude_columns)");
    }
    let mut pseudonymized = Vec::new();
    for name in &policy.pseudonymize {
        if partition_columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(name))
        {
            bail!("column {name} cannot be both a partition column and pseudonymized (fix partition_by or [privacy])");
        }
        if let Some(col) = data_columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
        {
            if col.kind != ColumnKind::Text {
                bail!("column {} is {}: only text columns can be pseudonymized (fix [privacy] or pseudonymize)", col.name, col.column_type);
            }
            pseudonymized.push(col.name.clone());
        }
    }
    Ok(TablePlan {
        table: table.name.clone(),
        data_columns,
        partition_columns,
        pseudonymized,
        incremental: None,
    })
}

/// The table's incremental settings when its change column and primary key are exported.
/// A table that cannot be incremental stays a full snapshot; only a change column the
/// config names explicitly makes that an error.
pub fn resolve_incremental(
    table: &TableConfig,
    plan: &TablePlan,
    primary_key: &[String],
) -> Result<Option<Incremental>> {
    let Some(wanted) = table.change_column() else {
        return Ok(None);
    };
    let explicit = table.change_column.is_some();
    let problem = |why: String| -> Result<Option<Incremental>> {
        if explicit {
            bail!("{why} (fix change_column in the config, or set it to \"\" for full snapshots)");
        }
        tracing::debug!(table = %table.name, "full snapshots: {why}");
        Ok(None)
    };
    let Some(column) = plan
        .data_columns
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(wanted) && !c.absent)
    else {
        return problem(format!("change column {wanted} is not exported"));
    };
    if !matches!(column.data_type.as_str(), "datetime" | "timestamp" | "date") {
        return problem(format!(
            "change column {} is {}, not a date or time",
            column.name, column.column_type
        ));
    }
    if primary_key.is_empty() {
        return problem("the table has no primary key to keep one row per".into());
    }
    let exported = |name: &str| {
        plan.data_columns
            .iter()
            .chain(&plan.partition_columns)
            .any(|c| c.name.eq_ignore_ascii_case(name) && !c.absent)
    };
    if let Some(missing) = primary_key.iter().find(|k| !exported(k)) {
        return problem(format!("primary key column {missing} is not exported"));
    }
    Ok(Some(Incremental {
        change_column: column.name.clone(),
        key: primary_key.to_vec(),
    }))
}

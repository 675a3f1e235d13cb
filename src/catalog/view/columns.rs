//! From a table's columns to its view model: each MySQL column type's decoding and SQL
//! type, the view's column order, and the newest-row-per-key window of incremental tables.

use super::{Expr, Latest, SqlType, ViewColumn, ViewModel};
use crate::catalog::api::{CatalogColumn, TableFormat, TableSpec};

/// The SQL type a MySQL COLUMN_TYPE reads back as; `None` means text (decoded varchar).
pub fn mysql_type(column_type: &str) -> Option<SqlType> {
    match crate::table::sql_type(column_type) {
        SqlType::Varchar => None,
        ty => Some(ty),
    }
}

/// `value` typed as `ty`, the NULL marker already handled.
fn typed(value: Expr, ty: SqlType) -> Expr {
    match ty {
        SqlType::Boolean => Expr::NonZero(value.boxed()),
        SqlType::Varbinary => Expr::FromHex(value.boxed()),
        ty => Expr::TryCast(value.boxed(), ty),
    }
}

/// How a data column (written by the CSV encoder) is read back.
pub fn data_column(column: &CatalogColumn) -> ViewColumn {
    let raw = Expr::column(&column.name);
    match mysql_type(&column.mysql_type) {
        None => ViewColumn::new(
            &column.name,
            Expr::DecodedText(raw.boxed()),
            SqlType::Varchar,
        ),
        Some(ty) => ViewColumn::new(&column.name, typed(Expr::NullMarker(raw.boxed()), ty), ty),
    }
}

/// How a Parquet column is read back: as stored, but a TIME, which is stored as
/// microseconds since midnight (Hive has no TIME type).
pub fn stored_column(column: &CatalogColumn) -> ViewColumn {
    match crate::table::sql_type(&column.mysql_type) {
        SqlType::Time => ViewColumn::new(
            &column.name,
            Expr::MicrosToTime(Expr::column(&column.name).boxed()),
            SqlType::Time,
        ),
        ty => ViewColumn::raw(&column.name, ty),
    }
}

/// How a partition column is read back: the raw table returns the unescaped directory
/// value (Hive's default partition as NULL), so only a cast is needed.
pub fn partition_column(column: &CatalogColumn) -> ViewColumn {
    match mysql_type(&column.mysql_type) {
        None => ViewColumn::raw(&column.name, SqlType::Varchar),
        Some(ty) => ViewColumn::new(&column.name, typed(Expr::column(&column.name), ty), ty),
    }
}

/// The typed view of a table whose raw `columns` (the raw table's, after drift) are in the
/// CSV dialect: data columns, then the table's partition columns, then the base partitions
/// (Panorama's view has the MySQL columns, then `lms`), reordered by `spec.view_order`; for an
/// incremental table, the latest version of each key.
pub fn table_view(spec: &TableSpec, columns: &[CatalogColumn]) -> ViewModel {
    let read = |c: &CatalogColumn| match spec.format {
        TableFormat::Parquet => stored_column(c),
        _ => data_column(c),
    };
    let mut view: Vec<ViewColumn> = columns.iter().map(read).collect();
    // The base partitions (`lms`, …) come first among the partition keys but last in the
    // view.
    let base = spec.base_keys.min(spec.partition_keys.len());
    let mut keys: Vec<&CatalogColumn> = spec.partition_keys[base..].iter().collect();
    keys.extend(&spec.partition_keys[..base]);
    view.extend(keys.into_iter().map(partition_column));
    if let Some(order) = &spec.view_order {
        // Stable: columns the order does not name keep their default place after it.
        view.sort_by_key(|c| {
            order
                .iter()
                .position(|o| o.eq_ignore_ascii_case(&c.name))
                .unwrap_or(usize::MAX)
        });
    }
    let latest = spec.dedup.as_ref().map(|dedup| {
        // Raw partition values first, so a query's filter on `lms` or `course_id` still
        // prunes partitions beneath the window.
        let mut partition_by: Vec<String> =
            spec.partition_keys.iter().map(|k| k.name.clone()).collect();
        for key in &dedup.key {
            if !partition_by.iter().any(|p| p.eq_ignore_ascii_case(key)) {
                partition_by.push(key.clone());
            }
        }
        let order_by = match columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(&dedup.latest_by))
        {
            Some(c) => read(c).expr,
            None => Expr::column(&dedup.latest_by),
        };
        Latest {
            partition_by,
            order_by,
        }
    });
    ViewModel {
        columns: view,
        latest,
    }
}

/// The view of `spec`: its own select list when it has one, else the typed decoding of
/// `columns`.
pub fn spec_view(spec: &TableSpec, columns: &[CatalogColumn]) -> ViewModel {
    match &spec.view_select {
        Some(select) => ViewModel {
            columns: select.clone(),
            latest: None,
        },
        None => table_view(spec, columns),
    }
}

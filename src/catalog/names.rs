//! What a configured table is called in the catalog: `<table_prefix>_raw_<table>` and
//! `<table_prefix>_table_<table>` unless the table names them (docs/catalog.md, "Names").

use crate::config::{Config, TableConfig};

/// Name of a Glue object: lower case, only `[a-z0-9_]`.
pub fn glue_name(raw: &str) -> String {
    raw.to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Prefix of Glue names (Panorama's `base_prefix`).
pub fn table_prefix(config: &Config) -> String {
    match &config.catalog.table_prefix {
        Some(p) => p.clone(),
        None => glue_name(config.datalake.prefix.trim_matches('/')),
    }
}

fn prefixed(config: &Config, kind: &str, table: &str) -> String {
    let prefix = table_prefix(config);
    if prefix.is_empty() {
        format!("{kind}_{}", table.to_ascii_lowercase())
    } else {
        format!("{prefix}_{kind}_{}", table.to_ascii_lowercase())
    }
}

pub fn raw_table_name(config: &Config, table: &TableConfig) -> String {
    table
        .raw_table
        .clone()
        .unwrap_or_else(|| prefixed(config, "raw", &table.name))
}

pub fn view_name(config: &Config, table: &TableConfig) -> String {
    table
        .view
        .clone()
        .unwrap_or_else(|| prefixed(config, "table", &table.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glue_names_are_lower_case_identifiers() {
        assert_eq!(glue_name("Open-edX/lake"), "open_edx_lake");
    }
}

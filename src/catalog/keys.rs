//! From lake keys to catalog partitions: the inverse of [`Layout`]. A partition's values
//! come from its `name=value` directories (unescaped, `lms` first) and its location is the
//! exact prefix its files are under, as an `s3://` URL.

use std::collections::BTreeMap;

use anyhow::{anyhow, Result};

use super::api::PartitionSpec;
use crate::config::{Config, LakeLocation, TableConfig};
use crate::lake::{unescape_path_name, Layout, HIVE_DEFAULT_PARTITION};
use crate::store::join_key;

/// Where a key of the lake is, as the catalogs name it: `s3://bucket/<root>/<key>`, or
/// the absolute path for a local lake (which only the DuckDB catalog reads).
pub fn lake_url(config: &Config, key: &str) -> Result<String> {
    location_url(config.lake_location()?, key)
}

/// [`lake_url`] for a key of the store at `location`.
pub fn location_url(location: LakeLocation, key: &str) -> Result<String> {
    match location {
        LakeLocation::S3 { bucket, root } => Ok(format!("s3://{bucket}/{}", join_key(&root, key))),
        LakeLocation::Local(path) => {
            let root = std::path::absolute(&path)
                .map_err(|e| anyhow!("the absolute path of {}: {e}", path.display()))?;
            Ok(format!(
                "{}/{}",
                root.display().to_string().trim_end_matches('/'),
                key.trim_start_matches('/')
            ))
        }
    }
}

/// Glue values of a partition of this installation written with `values` (the table's
/// `partition_by` values): the base partitions' values first; NULL and '' are Hive's
/// default partition, as in the path.
pub fn partition_values(layout: &Layout, values: &[Option<String>]) -> Vec<String> {
    layout
        .base_values()
        .into_iter()
        .chain(values.iter().map(|v| match v.as_deref() {
            None | Some("") => HIVE_DEFAULT_PARTITION.to_string(),
            Some(v) => v.to_string(),
        }))
        .collect()
}

/// Partitions of this installation that have files in the lake, from the keys under its
/// base partitions' directory. Keys that do not follow the table's layout are skipped with a warning.
pub fn partitions_from_keys(
    config: &Config,
    table: &TableConfig,
    keys: &[String],
) -> Result<Vec<PartitionSpec>> {
    let suffix = super::TableFormat::of(config.format_of(table)).suffix();
    partitions_from_files(config, table, keys, suffix, config.lake_location()?)
}

/// [`partitions_from_keys`] for files ending in `suffix` in the store at `location`.
pub fn partitions_from_files(
    config: &Config,
    table: &TableConfig,
    keys: &[String],
    suffix: &str,
    location: LakeLocation,
) -> Result<Vec<PartitionSpec>> {
    let layout = config.layout();
    let base_dir = layout.base_dir(&table.name);
    let columns: Vec<String> = table
        .partition_by
        .iter()
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let mut found = BTreeMap::new();
    for key in keys {
        if !key.ends_with(suffix) {
            continue;
        }
        let Some(rest) = key.strip_prefix(&base_dir) else {
            continue;
        };
        let dir_len = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let segments = partition_segments(&rest[..dir_len]);
        let parsed: Option<Vec<Option<String>>> = (segments.len() == columns.len())
            .then(|| {
                segments
                    .iter()
                    .zip(&columns)
                    .map(|(segment, column)| {
                        let (name, value) = segment.split_once('=')?;
                        (unescape_path_name(name) == *column).then(|| match value {
                            HIVE_DEFAULT_PARTITION => None,
                            v => Some(unescape_path_name(v)),
                        })
                    })
                    .collect()
            })
            .flatten();
        match parsed {
            Some(values) => {
                let dir = format!("{base_dir}{}", &rest[..dir_len]);
                let own = dir == layout.partition_dir(&table.name, &columns, &values);
                let url = location_url(location.clone(), &dir)?;
                // The same partition in two spellings (a Panorama lake before edlake's
                // first full run): edlake's own folder is the one to read.
                let entry = found.entry(partition_values(&layout, &values));
                match own {
                    true => {
                        entry.insert_entry(url);
                    }
                    false => {
                        entry.or_insert(url);
                    }
                }
            }
            None => tracing::warn!(
                table = %table.name, key = %key,
                "file outside the table's partition layout; not registered"
            ),
        }
    }
    Ok(found
        .into_iter()
        .map(|(values, location)| PartitionSpec { values, location })
        .collect())
}

/// The `name=value` directories of a partition path (`a=1/b=2/`). A directory without `=`
/// continues the value before it: Panorama's spelling keeps `/` in a value, so an old-style
/// course id `MITx/6.002x/2012_Fall` nests (`course_id=MITx/6.002x/2012_Fall/`). Both
/// spellings escape a value's own `=`, so an `=` always starts a directory of its own.
fn partition_segments(path: &str) -> Vec<String> {
    let mut segments: Vec<String> = Vec::new();
    for part in path.split('/').filter(|s| !s.is_empty()) {
        match segments.last_mut() {
            Some(last) if !part.contains('=') => {
                last.push_str("%2F");
                last.push_str(part);
            }
            _ => segments.push(part.to_string()),
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_come_from_the_lake_keys() {
        let config: Config = toml::from_str(
            r#"
            lms_host = "lms.example.com"
            [mysql]
            url = "mysql://u@h/db"
            [datalake]
            url = "s3://bucket/root"
            "#,
        )
        .unwrap();
        let table: TableConfig =
            toml::from_str("name = 'courseware_studentmodule'\npartition_by = 'course_id'")
                .unwrap();
        let dir = "openedx/courseware_studentmodule/lms=lms.example.com/";
        let keys = vec![
            format!("{dir}course_id=course-v1%3AOrg+X+Run/courseware_studentmodule.csv"),
            format!("{dir}course_id=course-v1%3AOrg+X+Run/delta-1.csv"),
            format!("{dir}course_id=__HIVE_DEFAULT_PARTITION__/courseware_studentmodule.csv"),
            format!("{dir}courseware_studentmodule.csv"),
            format!("{dir}course_id=a/extra=b/courseware_studentmodule.csv"),
            format!("{dir}course_id=a/notes.txt"),
            // Panorama's spelling: the same partition as the first, in a folder of its own
            // (edlake's is the one registered), and a nested old-style id.
            format!("{dir}course_id=course-v1%3AOrg%2BX%2BRun/courseware_studentmodule.csv"),
            format!("{dir}course_id=MITx/6.002x/2012_Fall/courseware_studentmodule.csv"),
            format!("{dir}course_id=course-v1%3ACaf%C3%A9%2BY/courseware_studentmodule.csv"),
        ];
        let found = partitions_from_keys(&config, &table, &keys).unwrap();
        assert_eq!(
            found,
            vec![
                PartitionSpec {
                    values: vec!["lms.example.com".into(), "MITx/6.002x/2012_Fall".into()],
                    location: format!("s3://bucket/root/{dir}course_id=MITx/6.002x/2012_Fall/"),
                },
                PartitionSpec {
                    values: vec![
                        "lms.example.com".into(),
                        "__HIVE_DEFAULT_PARTITION__".into()
                    ],
                    location: format!(
                        "s3://bucket/root/{dir}course_id=__HIVE_DEFAULT_PARTITION__/"
                    ),
                },
                PartitionSpec {
                    values: vec!["lms.example.com".into(), "course-v1:Café+Y".into()],
                    location: format!("s3://bucket/root/{dir}course_id=course-v1%3ACaf%C3%A9%2BY/"),
                },
                PartitionSpec {
                    values: vec!["lms.example.com".into(), "course-v1:Org+X+Run".into()],
                    location: format!("s3://bucket/root/{dir}course_id=course-v1%3AOrg+X+Run/"),
                },
            ]
        );
    }
}

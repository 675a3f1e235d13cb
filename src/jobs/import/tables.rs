//! How an imported table is written: its file columns (the catalog's, then new ones at the
//! end, as for an extracted table), the privacy policy applied to every value, and the
//! encoding of a package's records into lake files. A course-scoped table gets one file
//! per course (`<table>.<course>.csv` in its partition), replaced by a newer package's; a
//! per-learner table (`auth_user`, …) is staged per course and merged into one file where
//! each learner appears once, from the newest package that holds them.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use anyhow::{Context, Result};
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use crate::config::{Config, TableConfig};
use crate::encode;
use crate::jobs::extract::spool::{push_key_value, Spool, SpoolColumn, SpooledPartition};
use crate::privacy::Pseudonymizer;
use crate::source::research_package::records::{Record, RecordReader};
use crate::source::research_package::schema;
use crate::table::{Column, ColumnKind, ColumnPolicy, Incremental, TablePlan};

/// Memory for one table file's partition buffers before they spill to disk.
const SPOOL_BUDGET: usize = 16 << 20;

/// The config of a package table: the configured entry, else the built-in one (for its
/// partitioning), else a plain one.
pub fn table_config(config: &Config, table: &str) -> TableConfig {
    config
        .tables
        .iter()
        .chain(&crate::config::default_tables())
        .find(|t| t.name == table)
        .cloned()
        .unwrap_or_else(|| TableConfig {
            name: table.to_string(),
            ..TableConfig::default()
        })
}

/// One imported table as this run writes it.
#[derive(Debug, Clone)]
pub struct TableModel {
    pub config: TableConfig,
    /// Data columns in file order.
    pub columns: Vec<String>,
    pub partition_by: Vec<String>,
    policy: ColumnPolicy,
}

impl TableModel {
    /// `catalog_order`: the catalog's columns, which files must follow (new ones go last);
    /// `headers`: every header of this run's files of the table.
    pub fn new(
        config: &Config,
        table: &str,
        catalog_order: &[String],
        headers: &[Vec<String>],
    ) -> TableModel {
        let table_config = table_config(config, table);
        let policy = config.column_policy(&table_config);
        let partition_by: Vec<String> = table_config.partition_by.clone();
        let mut columns: Vec<String> = catalog_order.to_vec();
        for name in headers.iter().flatten() {
            let keep = !schema::never_exported(table, name)
                && !policy.drops(name)
                && !table_config.exclude_columns.iter().any(|c| c == name)
                && !partition_by.iter().any(|p| p == name)
                && !columns.iter().any(|c| c.eq_ignore_ascii_case(name));
            if keep {
                columns.push(name.clone());
            }
        }
        TableModel {
            config: table_config,
            columns,
            partition_by,
            policy,
        }
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub fn pseudonymizes(&self) -> bool {
        !self.policy.pseudonymize.is_empty()
    }

    /// The table's plan, for its catalog entries: the same shape an extract would give it,
    /// so both writers of a shared table agree on its view.
    pub fn plan(&self) -> TablePlan {
        let column = |name: &str| {
            let column_type = schema::column_type(&self.config.name, name);
            let data_type = column_type.split('(').next().unwrap_or(column_type);
            Column {
                name: name.to_string(),
                data_type: data_type.to_string(),
                column_type: column_type.to_string(),
                kind: ColumnKind::from_mysql(data_type),
                absent: false,
            }
        };
        let data_columns: Vec<Column> = self.columns.iter().map(|c| column(c)).collect();
        let has = |c: &str| self.columns.iter().any(|n| n.eq_ignore_ascii_case(c));
        let incremental = self
            .config
            .change_column()
            .filter(|c| has(c) && has("id"))
            .map(|c| Incremental {
                change_column: c.to_string(),
                key: vec!["id".into()],
            });
        TablePlan {
            table: self.config.name.clone(),
            data_columns,
            partition_columns: self.partition_by.iter().map(|c| column(c)).collect(),
            pseudonymized: self.policy.pseudonymize.clone(),
            incremental,
        }
    }

    fn spool_columns(&self) -> Vec<SpoolColumn> {
        self.plan()
            .data_columns
            .into_iter()
            .map(|c| SpoolColumn {
                name: c.name,
                kind: c.kind,
                column_type: c.column_type,
            })
            .collect()
    }

    /// A record of a file with `header`, in file column order with the privacy policy
    /// applied, and its partition values.
    fn row(
        &self,
        header: &HashMap<String, usize>,
        mut record: Record,
        pseudonyms: Option<&Pseudonymizer>,
    ) -> (Vec<Option<String>>, Vec<Option<String>>) {
        // Each field is taken once: data and partition columns are distinct.
        let mut get = |name: &str| header.get(name).and_then(|&i| record[i].take());
        let partition = self.partition_by.iter().map(|c| get(c)).collect();
        let values = self
            .columns
            .iter()
            .map(|c| {
                let value = get(c);
                match (value, pseudonyms) {
                    (Some(v), Some(p))
                        if self
                            .policy
                            .pseudonymize
                            .iter()
                            .any(|x| x.eq_ignore_ascii_case(c)) =>
                    {
                        let mut out = Vec::new();
                        p.pseudonym(v.as_bytes(), &mut out);
                        Some(String::from_utf8_lossy(&out).into_owned())
                    }
                    (v, _) => v,
                }
            })
            .collect();
        (values, partition)
    }
}

fn header_index(header: &[String]) -> HashMap<String, usize> {
    header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.clone(), i))
        .collect()
}

/// Pushes the records of `reader` (a package file, or a staged one) into `spool`'s
/// partitions. `keep` says which records go in (the per-learner merge).
pub fn encode_records<R: BufRead>(
    model: &TableModel,
    reader: &mut RecordReader<R>,
    pseudonyms: Option<&Pseudonymizer>,
    spool: &mut Spool<'_>,
    mut keep: impl FnMut(&HashMap<String, usize>, &Record) -> bool,
) -> Result<u64> {
    let header = header_index(reader.header());
    let mut rows = 0;
    let mut key = Vec::new();
    while let Some(record) = reader.next_record()? {
        if !keep(&header, &record) {
            continue;
        }
        let (values, partition) = model.row(&header, record, pseudonyms);
        key.clear();
        for v in &partition {
            push_key_value(&mut key, v.as_deref().map(str::as_bytes));
        }
        let refs: Vec<Option<&[u8]>> = values
            .iter()
            .map(|v| v.as_deref().map(str::as_bytes))
            .collect();
        spool.push(&key, || partition.clone(), &refs)?;
        rows += 1;
    }
    Ok(rows)
}

/// A spool for one file of `model` in `format`, spilling under `dir`.
pub fn spool<'f>(model: &TableModel, format: &'f dyn encode::FileFormat, dir: &Path) -> Spool<'f> {
    let mut spool = Spool::new(dir, format, model.spool_columns(), SPOOL_BUDGET);
    if model.partition_by.is_empty() {
        // An unpartitioned table still gets its header-only file.
        spool.ensure(&[], Vec::new());
    }
    spool
}

/// Finished partitions of a spool, each written to a file under `dir` (nothing of a
/// package stays in memory until it is published).
pub fn finish_to_files(spool: Spool<'_>, dir: &Path) -> Result<Vec<SpooledPartition>> {
    let mut out = spool.finish()?;
    for part in &mut out {
        if let crate::store::Payload::Bytes(bytes) = &part.payload {
            let path = tempfile::Builder::new()
                .prefix("part-")
                .tempfile_in(dir)?
                .into_temp_path()
                .keep()?;
            std::fs::write(&path, bytes)?;
            part.payload = crate::store::Payload::File(path);
        }
    }
    Ok(out)
}

/// Writes a per-learner table's file of one course, policy applied, as a staged file:
/// gzip, tab-separated, `\N` for NULL (read back by [`RecordReader::staged`]).
pub fn stage_learners<R: BufRead>(
    model: &TableModel,
    reader: &mut RecordReader<R>,
    pseudonyms: Option<&Pseudonymizer>,
    out: &Path,
) -> Result<u64> {
    let header = header_index(reader.header());
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut gz = GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::fast());
    let mut names: Vec<&str> = model.columns.iter().map(String::as_str).collect();
    names.extend(model.partition_by.iter().map(String::as_str));
    gz.write_all(names.join("\t").as_bytes())?;
    gz.write_all(b"\n")?;
    let mut rows = 0;
    let mut line = Vec::new();
    while let Some(record) = reader.next_record()? {
        let (values, partition) = model.row(&header, record, pseudonyms);
        line.clear();
        for (i, v) in values.iter().chain(&partition).enumerate() {
            if i > 0 {
                line.push(b'\t');
            }
            match v {
                None => line.extend_from_slice(b"\\N"),
                Some(v) => escape_into(v.as_bytes(), &mut line),
            }
        }
        line.push(b'\n');
        gz.write_all(&line)?;
        rows += 1;
    }
    gz.finish()?.flush()?;
    Ok(rows)
}

fn escape_into(value: &[u8], out: &mut Vec<u8>) {
    for &b in value {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b => out.push(b),
        }
    }
}

/// A reader of a staged file's bytes.
pub fn staged_reader<'a>(
    bytes: &'a [u8],
    name: &str,
) -> Result<RecordReader<BufReader<Box<dyn Read + Send + 'a>>>> {
    let decoder: Box<dyn Read + Send + 'a> = Box::new(MultiGzDecoder::new(bytes));
    RecordReader::staged(BufReader::new(decoder), name)
}

/// The merge of per-learner snapshots: newest first, a learner's first row wins.
pub struct LearnerMerge {
    key: String,
    seen: HashSet<String>,
}

impl LearnerMerge {
    pub fn new(table: &str) -> Option<LearnerMerge> {
        schema::learner_key(table).map(|key| LearnerMerge {
            key: key.to_string(),
            seen: HashSet::new(),
        })
    }

    /// Whether the record is the learner's first (newest) row.
    pub fn first(&mut self, header: &HashMap<String, usize>, record: &Record) -> bool {
        match header.get(&self.key).and_then(|&i| record[i].as_ref()) {
            Some(id) => self.seen.insert(id.clone()),
            // No key: nothing to merge it with.
            None => true,
        }
    }
}

//! Routes encoded rows of one sequential table scan to per-partition outputs under a fixed
//! memory budget.
//!
//! Every partition starts as an in-memory buffer. When all buffers together pass the budget,
//! the largest are appended to their partition's spool file until half the budget is free,
//! so a huge course streams to disk in big sequential writes while thousands of small
//! courses stay in memory, and no file descriptor is held between spills.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::encode::{self, Content, FileColumn, FileFormat, PartitionFile};
use crate::store::Payload;
use crate::table::ColumnKind;

pub struct Spool<'f> {
    dir: PathBuf,
    format: &'f dyn FileFormat,
    columns: Vec<SpoolColumn>,
    budget: usize,
    buffered: usize,
    parts: HashMap<Vec<u8>, Part>,
    spilled_bytes: u64,
}

struct Part {
    values: Vec<Option<String>>,
    file: Box<dyn PartitionFile>,
    /// The partition's spool file, once it has spilled.
    path: Option<PathBuf>,
    rows: u64,
    /// Bytes moved to the spool file so far.
    spilled: u64,
}

/// One finished partition, ready for the store.
#[derive(Debug)]
pub struct SpooledPartition {
    pub values: Vec<Option<String>>,
    pub payload: Payload,
    pub rows: u64,
    pub bytes: u64,
    /// Values written as NULL because the format's type for them cannot hold them.
    pub nulled: u64,
}

/// A data column: name, kind and MySQL COLUMN_TYPE (see [`FileColumn`]).
#[derive(Debug, Clone)]
pub struct SpoolColumn {
    pub name: String,
    pub kind: ColumnKind,
    pub column_type: String,
}

impl<'f> Spool<'f> {
    /// Partitions are files of `format` with `columns` (in file order).
    pub fn new(
        dir: &Path,
        format: &'f dyn FileFormat,
        columns: Vec<SpoolColumn>,
        budget: usize,
    ) -> Spool<'f> {
        Spool {
            dir: dir.to_path_buf(),
            format,
            columns,
            budget: budget.max(1),
            buffered: 0,
            parts: HashMap::new(),
            spilled_bytes: 0,
        }
    }

    /// Appends `row` to the partition identified by `key`; `values` is called once, when
    /// the partition is first seen.
    pub fn push(
        &mut self,
        key: &[u8],
        values: impl FnOnce() -> Vec<Option<String>>,
        row: &[Option<&[u8]>],
    ) -> io::Result<()> {
        // One hash lookup per row for partitions already seen (the hot path).
        if !self.parts.contains_key(key) {
            self.insert(key, values());
        }
        let part = self.parts.get_mut(key).expect("inserted above");
        let before = part.file.buffered();
        part.file.push_row(row);
        part.rows += 1;
        self.buffered = self.buffered + part.file.buffered() - before;
        if self.buffered > self.budget {
            self.spill()?;
        }
        Ok(())
    }

    /// Makes sure a partition exists even without rows (an unpartitioned empty table still
    /// gets its header-only file).
    pub fn ensure(&mut self, key: &[u8], values: Vec<Option<String>>) {
        if !self.parts.contains_key(key) {
            self.insert(key, values);
        }
    }

    /// A new partition: its file starts (a header, for CSV).
    fn insert(&mut self, key: &[u8], values: Vec<Option<String>>) {
        let columns: Vec<FileColumn> = self
            .columns
            .iter()
            .map(|c| FileColumn {
                name: &c.name,
                kind: c.kind,
                column_type: &c.column_type,
            })
            .collect();
        let file = self.format.new_file(&columns);
        self.buffered += file.buffered();
        self.parts.insert(
            key.to_vec(),
            Part {
                values,
                file,
                path: None,
                rows: 0,
                spilled: 0,
            },
        );
    }

    /// Bytes written to spool files so far.
    pub fn spilled_bytes(&self) -> u64 {
        self.spilled_bytes
    }

    pub fn partition_count(&self) -> usize {
        self.parts.len()
    }

    /// Moves the largest buffers to their spool files until half the budget is free.
    fn spill(&mut self) -> io::Result<()> {
        let mut by_size: Vec<(&Vec<u8>, usize)> = self
            .parts
            .iter()
            .map(|(k, p)| (k, p.file.buffered()))
            .collect();
        by_size.sort_unstable_by_key(|&(_, size)| std::cmp::Reverse(size));
        let target = self.budget / 2;
        let mut victims = Vec::new();
        let mut remaining = self.buffered;
        for (key, size) in by_size {
            if remaining <= target || size == 0 {
                break;
            }
            remaining -= size;
            victims.push(key.clone());
        }
        let mut next_id = self.parts.values().filter(|p| p.path.is_some()).count();
        for key in victims {
            let part = self.parts.get_mut(&key).expect("victim exists");
            let path = match &part.path {
                Some(p) => p.clone(),
                None => {
                    let p = self.dir.join(format!("part-{next_id:06}"));
                    next_id += 1;
                    part.path = Some(p.clone());
                    p
                }
            };
            // What a format holds in memory need not be what it hands over.
            let held = part.file.buffered();
            let bytes = part.file.take_buffered();
            encode::append(&path, &bytes)?;
            self.buffered = self.buffered - held + part.file.buffered();
            self.spilled_bytes += bytes.len() as u64;
            part.spilled += bytes.len() as u64;
        }
        Ok(())
    }

    /// Closes every partition, one at a time: the format makes each file from what was
    /// spilled and what is held (CSV appends; Parquet writes the file then).
    pub fn finish(self) -> io::Result<Vec<SpooledPartition>> {
        let mut out = Vec::with_capacity(self.parts.len());
        for (_, part) in self.parts {
            let done = part.file.finish(part.path.as_deref())?;
            let payload = match done.content {
                Content::File(path) => Payload::File(path),
                Content::Bytes(bytes) => Payload::Bytes(Bytes::from(bytes)),
            };
            out.push(SpooledPartition {
                values: part.values,
                payload,
                rows: part.rows,
                bytes: done.bytes,
                nulled: done.nulled,
            });
        }
        Ok(out)
    }
}

/// Appends one partition value to a routing key. NULL and '' share Hive's default
/// partition directory, so they share a key; every other value has its own.
pub fn push_key_value(key: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        None | Some(b"") => key.push(0),
        Some(v) => {
            key.push(1);
            key.extend_from_slice(&(v.len() as u32).to_le_bytes());
            key.extend_from_slice(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::csv::Csv;

    fn contents(p: &SpooledPartition) -> Vec<u8> {
        match &p.payload {
            Payload::Bytes(b) => b.to_vec(),
            Payload::File(f) => std::fs::read(f).unwrap(),
        }
    }

    fn column(name: &str, kind: ColumnKind, column_type: &str) -> SpoolColumn {
        SpoolColumn {
            name: name.into(),
            kind,
            column_type: column_type.into(),
        }
    }

    fn one_column() -> Vec<SpoolColumn> {
        vec![column("h", ColumnKind::Number, "int(11)")]
    }

    #[test]
    fn routes_rows_and_spills_the_biggest_partitions() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::new(dir.path(), &Csv, one_column(), 1000);
        let big = vec![b'x'; 96];
        for i in 0..200 {
            let key: &[u8] = if i % 10 == 0 { b"small" } else { b"big" };
            spool
                .push(
                    key,
                    || vec![Some(String::from_utf8_lossy(key).into())],
                    &[Some(&big)],
                )
                .unwrap();
            assert!(spool.buffered <= 1000, "budget held: {}", spool.buffered);
        }
        assert!(spool.spilled_bytes() > 0);
        let mut parts = spool.finish().unwrap();
        parts.sort_by_key(|p| p.rows);
        assert_eq!(parts.len(), 2);
        let (small, big_part) = (&parts[0], &parts[1]);
        assert_eq!(small.rows, 20);
        assert_eq!(big_part.rows, 180);
        assert!(matches!(big_part.payload, Payload::File(_)));
        for p in [small, big_part] {
            let data = contents(p);
            assert_eq!(data.len() as u64, p.bytes);
            assert!(data.starts_with(b"\"h\"\n"));
            assert_eq!(
                data.iter().filter(|&&b| b == b'\n').count() as u64,
                p.rows + 1
            );
        }
    }

    #[test]
    fn empty_partition_has_its_header() {
        let dir = tempfile::tempdir().unwrap();
        let columns = vec![
            column("a", ColumnKind::Text, "text"),
            column("b", ColumnKind::Text, "text"),
        ];
        let mut spool = Spool::new(dir.path(), &Csv, columns, 1 << 20);
        spool.ensure(b"", vec![]);
        let parts = spool.finish().unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(contents(&parts[0]), b"\"a\",\"b\"\n");
        assert_eq!(parts[0].rows, 0);
    }

    #[test]
    fn null_and_empty_share_the_default_partition() {
        let (mut a, mut b, mut c, mut d) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        push_key_value(&mut a, None);
        push_key_value(&mut b, Some(b""));
        push_key_value(&mut c, Some(b"x"));
        push_key_value(&mut d, Some(b"x\0"));
        assert_eq!(a, b);
        assert_ne!(b, c);
        assert_ne!(c, d);
    }
}

//! Routes encoded rows of one sequential table scan to per-partition outputs under a fixed
//! memory budget.
//!
//! Every partition starts as an in-memory buffer. When all buffers together pass the budget,
//! the largest are appended to their partition's spool file until half the budget is free,
//! so a huge course streams to disk in big sequential writes while thousands of small
//! courses stay in memory, and no file descriptor is held between spills.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::store::Payload;

pub struct Spool {
    dir: PathBuf,
    header: Vec<u8>,
    budget: usize,
    buffered: usize,
    parts: HashMap<Vec<u8>, Part>,
    spilled_bytes: u64,
}

struct Part {
    values: Vec<Option<String>>,
    buf: Vec<u8>,
    file: Option<PathBuf>,
    rows: u64,
    bytes: u64,
}

/// One finished partition, ready for the store.
#[derive(Debug)]
pub struct SpooledPartition {
    pub values: Vec<Option<String>>,
    pub payload: Payload,
    pub rows: u64,
    pub bytes: u64,
}

impl Spool {
    /// `header` starts every partition's file.
    pub fn new(dir: &Path, header: Vec<u8>, budget: usize) -> Spool {
        Spool {
            dir: dir.to_path_buf(),
            header,
            budget: budget.max(1),
            buffered: 0,
            parts: HashMap::new(),
            spilled_bytes: 0,
        }
    }

    /// Appends `line` to the partition identified by `key`; `values` is called once, when
    /// the partition is first seen.
    pub fn push(
        &mut self,
        key: &[u8],
        values: impl FnOnce() -> Vec<Option<String>>,
        line: &[u8],
    ) -> io::Result<()> {
        // One hash lookup per row for partitions already seen (the hot path).
        let part = match self.parts.get_mut(key) {
            Some(p) => p,
            None => self.insert(key, values()),
        };
        part.buf.extend_from_slice(line);
        part.rows += 1;
        part.bytes += line.len() as u64;
        self.buffered += line.len();
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

    /// A new partition starts with the header.
    fn insert(&mut self, key: &[u8], values: Vec<Option<String>>) -> &mut Part {
        self.buffered += self.header.len();
        self.parts.entry(key.to_vec()).or_insert(Part {
            values,
            buf: self.header.clone(),
            file: None,
            rows: 0,
            bytes: self.header.len() as u64,
        })
    }

    /// Bytes written to spool files so far.
    pub fn spilled_bytes(&self) -> u64 {
        self.spilled_bytes
    }

    pub fn partition_count(&self) -> usize {
        self.parts.len()
    }

    fn spill(&mut self) -> io::Result<()> {
        let mut by_size: Vec<(&Vec<u8>, usize)> =
            self.parts.iter().map(|(k, p)| (k, p.buf.len())).collect();
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
        let mut next_id = self.parts.values().filter(|p| p.file.is_some()).count();
        for key in victims {
            let part = self.parts.get_mut(&key).expect("victim exists");
            let path = match &part.file {
                Some(p) => p.clone(),
                None => {
                    let p = self.dir.join(format!("part-{next_id:06}.csv"));
                    next_id += 1;
                    part.file = Some(p.clone());
                    p
                }
            };
            let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
            file.write_all(&part.buf)?;
            self.buffered -= part.buf.len();
            self.spilled_bytes += part.buf.len() as u64;
            // Release the memory, not only the length: a spilled partition may stay quiet.
            part.buf = Vec::new();
        }
        Ok(())
    }

    /// Closes every partition: spilled ones become files, the rest stay in memory.
    pub fn finish(self) -> io::Result<Vec<SpooledPartition>> {
        let mut out = Vec::with_capacity(self.parts.len());
        for (_, part) in self.parts {
            let payload = match part.file {
                Some(path) => {
                    if !part.buf.is_empty() {
                        let mut file = OpenOptions::new().append(true).open(&path)?;
                        file.write_all(&part.buf)?;
                    }
                    Payload::File(path)
                }
                None => Payload::Bytes(Bytes::from(part.buf)),
            };
            out.push(SpooledPartition {
                values: part.values,
                payload,
                rows: part.rows,
                bytes: part.bytes,
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

    fn contents(p: &SpooledPartition) -> Vec<u8> {
        match &p.payload {
            Payload::Bytes(b) => b.to_vec(),
            Payload::File(f) => std::fs::read(f).unwrap(),
        }
    }

    #[test]
    fn routes_rows_and_spills_the_biggest_partitions() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::new(dir.path(), b"h\n".to_vec(), 1000);
        let big = vec![b'x'; 99];
        for i in 0..200 {
            let key: &[u8] = if i % 10 == 0 { b"small" } else { b"big" };
            let mut line = big.clone();
            line.push(b'\n');
            spool
                .push(
                    key,
                    || vec![Some(String::from_utf8_lossy(key).into())],
                    &line,
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
            assert!(data.starts_with(b"h\n"));
            assert_eq!(
                data.iter().filter(|&&b| b == b'\n').count() as u64,
                p.rows + 1
            );
        }
    }

    #[test]
    fn empty_partition_has_its_header() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::new(dir.path(), b"a,b\n".to_vec(), 1 << 20);
        spool.ensure(b"", vec![]);
        let parts = spool.finish().unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(contents(&parts[0]), b"a,b\n");
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

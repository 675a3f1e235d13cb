//! The durable record of shipped files: one small JSON file per shipped file, named by its
//! fingerprint, under `<state_dir>/shipped/`.
//!
//! A record says which part of a file's content is in the lake: every line of
//! `[0, shipped_bytes)`. Before the objects of a new part are uploaded, the record pins its
//! end (`pending_to`), so a pass cut short ships exactly that part again, to the same
//! objects, however much the file has grown since; once every object is confirmed the
//! record moves `shipped_bytes` to that end. A local file is deleted only when its record
//! has nothing pending.
//!
//! A record's name never changes: the fingerprint of the file's first `fingerprint_bytes`
//! (64 KiB, or all of a shorter file). A short file that grows has another fingerprint, so
//! [`Ledger::find`] also tries the fingerprints of a file's prefixes at the lengths of the
//! short records.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::durable;
use crate::source::tracking_logs::{digest_hex, prefix_fingerprints, FINGERPRINT_BYTES};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    /// SHA-256 of the first `fingerprint_bytes` of content: the record's name, and the
    /// file's in its objects' keys.
    pub fingerprint: String,
    /// Where the file was when last read.
    pub source: PathBuf,
    /// Seconds since the epoch, of the last shipment.
    pub shipped_at: u64,
    /// Size on disk when last read.
    pub file_size: u64,
    pub events: u64,
    pub quarantined: u64,
    /// Keys written, relative to the destination root.
    pub objects: Vec<String>,
    /// How many content bytes the fingerprint covers: [`FINGERPRINT_BYTES`], or the whole
    /// content of a shorter file. `None` in records of earlier releases.
    #[serde(default)]
    pub fingerprint_bytes: Option<u64>,
    /// Content bytes shipped: every line of `[0, shipped_bytes)` is in the lake. `None` in
    /// records of earlier releases, which shipped the whole file as it then was.
    #[serde(default)]
    pub shipped_bytes: Option<u64>,
    /// SHA-256 of the first `min(shipped_bytes, FINGERPRINT_BYTES)` content bytes: what a
    /// file must start with to be this one (its fingerprint alone may cover only a line).
    #[serde(default)]
    pub shipped_head: Option<String>,
    /// `[shipped_bytes, pending_to)` was read and its objects are being uploaded.
    #[serde(default)]
    pub pending_to: Option<u64>,
    /// A gzip copy of the file whose content was counted, so that an unchanged copy is not
    /// decompressed again at every pass to see whether it holds more than was shipped.
    #[serde(default)]
    pub gzip_copy: Option<GzipCopy>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct GzipCopy {
    pub path: PathBuf,
    /// Size on disk.
    pub size: u64,
    pub content_bytes: u64,
}

impl Record {
    /// The record of a file not shipped yet, named by the fingerprint of `head` (its first
    /// bytes, up to [`FINGERPRINT_BYTES`]).
    pub fn new(head: &[u8], source: &Path, file_size: u64) -> Record {
        Record {
            fingerprint: digest_hex(head),
            source: source.to_path_buf(),
            shipped_at: now_secs(),
            file_size,
            events: 0,
            quarantined: 0,
            objects: Vec::new(),
            fingerprint_bytes: Some(head.len() as u64),
            shipped_bytes: Some(0),
            shipped_head: None,
            pending_to: None,
            gzip_copy: None,
        }
    }

    pub fn shipped_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.shipped_at)
    }

    /// Fills in what a record of an earlier release leaves out, from `len`, the length of
    /// the prefix whose fingerprint it matched: a fingerprint shorter than
    /// [`FINGERPRINT_BYTES`] covered the whole file, so that much was shipped.
    fn complete_legacy(&mut self, len: usize) {
        self.fingerprint_bytes.get_or_insert(len as u64);
        if self.shipped_bytes.is_none() && len < FINGERPRINT_BYTES {
            self.shipped_bytes = Some(len as u64);
            self.shipped_head = Some(self.fingerprint.clone());
        }
    }

    /// Whether a file starting with `head` can be this record's file: it starts with what
    /// was shipped (as far as `head` and [`FINGERPRINT_BYTES`] go).
    fn starts(&self, head: &[u8]) -> bool {
        let (Some(shipped), Some(expected)) = (self.shipped_bytes, &self.shipped_head) else {
            return true;
        };
        let len = shipped.min(FINGERPRINT_BYTES as u64) as usize;
        // Shorter than what was shipped: an older copy, all of it shipped.
        head.len() < len || digest_hex(&head[..len]) == *expected
    }

    /// How long the prefix its fingerprint covers is, when shorter than
    /// [`FINGERPRINT_BYTES`] (a record of an earlier release: its size when plain).
    fn short_len(&self) -> Option<usize> {
        let len = match self.fingerprint_bytes {
            Some(len) => len,
            None => self.file_size,
        };
        (len < FINGERPRINT_BYTES as u64).then_some(len as usize)
    }
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

pub struct Ledger {
    dir: PathBuf,
    /// Fingerprints of the records shorter than [`FINGERPRINT_BYTES`], by length.
    short: BTreeMap<usize, HashSet<String>>,
}

impl Ledger {
    pub fn open(state_dir: &Path) -> Result<Ledger> {
        let dir = state_dir.join("shipped");
        durable::create_dir_all(&dir).with_context(|| {
            format!(
                "cannot create the state directory {} (set tracking_logs.state_dir to a writable, persistent directory)",
                dir.display()
            )
        })?;
        let mut ledger = Ledger {
            dir,
            short: BTreeMap::new(),
        };
        for fingerprint in ledger.names()? {
            if let Some(record) = ledger.get(&fingerprint)? {
                ledger.index(&record);
            }
        }
        Ok(ledger)
    }

    fn names(&self) -> Result<Vec<String>> {
        let entries = fs::read_dir(&self.dir)
            .with_context(|| format!("cannot list {}", self.dir.display()))?;
        Ok(entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".json").map(str::to_string)
            })
            .filter(|name| !name.starts_with('.'))
            .collect())
    }

    fn index(&mut self, record: &Record) {
        if let Some(len) = record.short_len() {
            self.short
                .entry(len)
                .or_default()
                .insert(record.fingerprint.clone());
        }
    }

    fn path(&self, fingerprint: &str) -> PathBuf {
        self.dir.join(format!("{fingerprint}.json"))
    }

    pub fn get(&self, fingerprint: &str) -> Result<Option<Record>> {
        let path = self.path(fingerprint);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "unreadable record {} (delete it: its file, if still on disk, is then shipped again whole)",
                    path.display()
                )
            })?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// The record of the file whose content starts with `head` (its first bytes, up to
    /// [`FINGERPRINT_BYTES`]): the file as it was shipped, or grown since. The longest
    /// match wins.
    pub fn find(&self, head: &[u8]) -> Result<Option<Record>> {
        let mut tries = vec![(head.len(), digest_hex(head))];
        let shorter = prefix_fingerprints(head, self.short.range(..head.len()).map(|(l, _)| *l));
        tries.extend(
            shorter
                .into_iter()
                .rev()
                .filter(|(len, fp)| self.short[len].contains(fp)),
        );
        for (len, fingerprint) in tries {
            let Some(mut record) = self.get(&fingerprint)? else {
                continue;
            };
            record.complete_legacy(len);
            if record.starts(head) {
                return Ok(Some(record));
            }
        }
        Ok(None)
    }

    /// Writes `record` durably: a temporary file, fsync, rename, fsync of the directory.
    /// The objects it lists are durable already: the store's `put` returned for each.
    pub fn put(&mut self, record: &Record) -> Result<()> {
        let path = self.path(&record.fingerprint);
        let tmp = self.dir.join(format!(".{}.tmp", record.fingerprint));
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(&serde_json::to_vec_pretty(record)?)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)?;
            durable::sync_dir(&self.dir)
        };
        write().with_context(|| format!("cannot write the shipped record {}", path.display()))?;
        self.index(record);
        Ok(())
    }

    /// Removes records older than `before` whose file is not among `present` (the
    /// fingerprints of files still on disk). Returns how many were removed.
    pub fn prune(&mut self, present: &HashSet<String>, before: SystemTime) -> Result<usize> {
        let mut removed = 0;
        for fp in self.names()? {
            if present.contains(&fp) {
                continue;
            }
            if let Ok(Some(record)) = self.get(&fp) {
                if record.shipped_at() < before && fs::remove_file(self.path(&fp)).is_ok() {
                    if let Some(len) = record.short_len() {
                        if let Some(set) = self.short.get_mut(&len) {
                            set.remove(&fp);
                        }
                    }
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests;

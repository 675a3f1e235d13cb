//! The durable record of shipped files: one small JSON file per shipped file, named by its
//! fingerprint, under `<state_dir>/shipped/`. A record is written (and fsync-ed) only after
//! every object of the file is confirmed by the store, and a local file is deleted only
//! when its record exists.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::source::tracking_logs::sync_dir;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    pub fingerprint: String,
    /// Where the file was when shipped.
    pub source: PathBuf,
    /// Seconds since the epoch.
    pub shipped_at: u64,
    /// Size on disk when shipped.
    pub file_size: u64,
    pub events: u64,
    pub quarantined: u64,
    /// Keys written, relative to the destination root.
    pub objects: Vec<String>,
}

impl Record {
    pub fn shipped_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.shipped_at)
    }
}

pub struct Ledger {
    dir: PathBuf,
}

impl Ledger {
    pub fn open(state_dir: &Path) -> Result<Ledger> {
        let dir = state_dir.join("shipped");
        fs::create_dir_all(&dir).with_context(|| {
            format!(
                "cannot create the state directory {} (set tracking_logs.state_dir to a writable, persistent directory)",
                dir.display()
            )
        })?;
        Ok(Ledger { dir })
    }

    fn path(&self, fingerprint: &str) -> PathBuf {
        self.dir.join(format!("{fingerprint}.json"))
    }

    pub fn get(&self, fingerprint: &str) -> Result<Option<Record>> {
        let path = self.path(fingerprint);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "unreadable record {} (delete it: the file will be shipped again to the same objects)",
                    path.display()
                )
            })?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Writes `record` durably: a temporary file, fsync, rename, fsync of the directory.
    pub fn put(&self, record: &Record) -> Result<()> {
        let path = self.path(&record.fingerprint);
        let tmp = self.dir.join(format!(".{}.tmp", record.fingerprint));
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(&serde_json::to_vec_pretty(record)?)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)?;
            sync_dir(&self.dir);
            Ok(())
        };
        write().with_context(|| format!("cannot write the shipped record {}", path.display()))
    }

    /// Removes records older than `before` whose file is not among `present` (the
    /// fingerprints of files still on disk). Returns how many were removed.
    pub fn prune(&self, present: &HashSet<String>, before: SystemTime) -> Result<usize> {
        let mut removed = 0;
        let entries = fs::read_dir(&self.dir)
            .with_context(|| format!("cannot list {}", self.dir.display()))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(fp) = name.strip_suffix(".json") else {
                continue;
            };
            if present.contains(fp) {
                continue;
            }
            if let Ok(Some(record)) = self.get(fp) {
                if record.shipped_at() < before && fs::remove_file(entry.path()).is_ok() {
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fp: &str, shipped_at: u64) -> Record {
        Record {
            fingerprint: fp.into(),
            source: "/logs/tracking.log-1".into(),
            shipped_at,
            file_size: 10,
            events: 2,
            quarantined: 0,
            objects: vec!["a/b.gz".into()],
        }
    }

    #[test]
    fn records_round_trip_and_prune() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path()).unwrap();
        assert_eq!(ledger.get("aa").unwrap(), None);
        ledger.put(&record("aa", 100)).unwrap();
        ledger.put(&record("bb", 100)).unwrap();
        ledger.put(&record("cc", 5000)).unwrap();
        assert_eq!(ledger.get("aa").unwrap(), Some(record("aa", 100)));
        let present: HashSet<String> = ["bb".to_string()].into();
        let removed = ledger
            .prune(&present, UNIX_EPOCH + Duration::from_secs(1000))
            .unwrap();
        // aa is old and gone; bb is old but its file is still there; cc is recent.
        assert_eq!(removed, 1);
        assert_eq!(ledger.get("aa").unwrap(), None);
        assert!(ledger.get("bb").unwrap().is_some());
        assert!(ledger.get("cc").unwrap().is_some());
    }
}

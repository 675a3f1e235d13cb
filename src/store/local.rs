//! A lake in a local directory. Objects are written to a hidden staging directory inside the
//! root and renamed into place, which is atomic on POSIX filesystems.
//!
//! And durable once `put`, `put_if` or `delete` returns: the file is fsynced before its
//! rename, its directory after it, and the parent of every directory created for it, so a
//! record written afterwards (a watermark, `versions.json`, a tracking-log ledger entry)
//! never survives a power cut that the files it records do not (docs/lake-layout.md).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use async_trait::async_trait;
use bytes::Bytes;

use super::{Payload, Store};
use crate::durable;

/// Staging files and spool directories live in the root under this prefix, so the final
/// rename stays on one filesystem. Hidden from lake readers: Hive, Spark, Trino and Athena
/// skip names starting with `.` or `_`; listings skip them too.
const STAGING_PREFIX: &str = ".edlake-tmp-";

#[derive(Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: &Path) -> Result<LocalStore> {
        durable::create_dir_all(root).map_err(|e| {
            anyhow!(
                "cannot create the lake directory {}: {e} (check datalake.url and permissions)",
                root.display()
            )
        })?;
        let root = root
            .canonicalize()
            .with_context(|| format!("cannot resolve the lake directory {}", root.display()))?;
        Ok(LocalStore { root })
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    /// The path of `key`, its directory created (durably).
    fn path_with_parent(&self, key: &str) -> Result<PathBuf> {
        let target = self.path(key);
        let parent = target.parent().expect("keys have a parent");
        durable::create_dir_all(parent).map_err(|e| {
            anyhow!(
                "cannot create {}: {e} (check permissions)",
                parent.display()
            )
        })?;
        Ok(target)
    }

    fn staging_file(&self) -> Result<tempfile::NamedTempFile> {
        tempfile::Builder::new()
            .prefix(STAGING_PREFIX)
            .tempfile_in(&self.root)
            .map_err(|e| {
                anyhow!(
                    "cannot write in the lake directory {}: {e} (check permissions)",
                    self.root.display()
                )
            })
    }

    /// Content fsynced, renamed into place, directory fsynced: in that order, so the name
    /// never survives a crash that its bytes do not. Once `abandoned` is set (the caller
    /// stopped waiting: a failed or cancelled run) the object is not renamed into place.
    fn put_blocking(&self, key: &str, payload: Payload, abandoned: &AtomicBool) -> Result<()> {
        let wanted = || !abandoned.load(Ordering::Acquire);
        if !wanted() {
            return Ok(());
        }
        let target = self.path_with_parent(key)?;
        let cannot_write = |e: std::io::Error| anyhow!("cannot write {}: {e}", target.display());
        match payload {
            Payload::Bytes(bytes) => {
                let mut tmp = self.staging_file()?;
                tmp.write_all(&bytes)
                    .and_then(|_| tmp.as_file().sync_all())
                    .map_err(cannot_write)?;
                if !wanted() {
                    return Ok(());
                }
                self.persist(tmp, &target)?;
            }
            Payload::File(src) => {
                durable::sync_file(&src).map_err(cannot_write)?;
                if !wanted() {
                    return Ok(());
                }
                if let Err(e) = std::fs::rename(&src, &target) {
                    // Another filesystem (EXDEV): copy beside the target first, then rename.
                    if e.raw_os_error() == Some(18) {
                        let tmp = self.staging_file()?;
                        std::fs::copy(&src, tmp.path())
                            .and_then(|_| tmp.as_file().sync_all())
                            .map_err(cannot_write)?;
                        self.persist(tmp, &target)?;
                    } else {
                        return Err(anyhow!("cannot move a file into {}: {e}", target.display()));
                    }
                }
            }
        }
        let dir = target.parent().expect("keys have a parent");
        durable::sync_dir(dir).map_err(|e| {
            anyhow!(
                "cannot sync the directory {} after writing {}: {e}",
                dir.display(),
                target.display()
            )
        })
    }

    fn persist(&self, tmp: tempfile::NamedTempFile, target: &Path) -> Result<()> {
        tmp.persist(target)
            .map(drop)
            .map_err(|e| anyhow!("cannot move a file into {}: {}", target.display(), e.error))
    }

    /// Compare-and-swap under an exclusive `flock` of a lock file beside the object, which
    /// every writer of the key takes: atomic between processes of this machine (and NFSv4
    /// clients). The lock file has the staging prefix, so listings never show it. The
    /// version tag is the content's SHA-256.
    fn put_if_blocking(
        &self,
        key: &str,
        bytes: Bytes,
        expected: Option<&str>,
    ) -> Result<Option<String>> {
        let target = self.path_with_parent(key)?;
        let name = target
            .file_name()
            .expect("keys name a file")
            .to_string_lossy();
        let lock_path = target.with_file_name(format!("{STAGING_PREFIX}lock-{name}"));
        let lock = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| {
                anyhow!(
                    "cannot open {}: {e} (check permissions)",
                    lock_path.display()
                )
            })?;
        lock.lock()
            .map_err(|e| anyhow!("cannot lock {}: {e}", lock_path.display()))?;
        let current = match std::fs::read(&target) {
            Ok(data) => Some(version_tag(&data)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(anyhow!("cannot read {}: {e}", target.display())),
        };
        if current.as_deref() != expected {
            return Ok(None);
        }
        let tag = version_tag(&bytes);
        self.put_blocking(key, Payload::Bytes(bytes), &AtomicBool::new(false))?;
        Ok(Some(tag))
    }

    fn list_blocking(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let start = self.path(prefix.trim_end_matches('/'));
        if !start.exists() {
            return Ok(keys);
        }
        let mut stack = vec![start];
        while let Some(dir) = stack.pop() {
            if dir.is_file() {
                keys.push(self.key_of(&dir));
                continue;
            }
            for entry in
                std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?
            {
                let entry = entry?;
                let name = entry.file_name();
                if name.to_string_lossy().starts_with(STAGING_PREFIX) {
                    continue;
                }
                let path = entry.path();
                if entry.file_type()?.is_dir() {
                    stack.push(path);
                } else {
                    keys.push(self.key_of(&path));
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    fn key_of(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .expect("listed under the root")
            .to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/")
    }

    /// Removes the files (and the directories they leave empty), then fsyncs each directory
    /// that lost an entry and remains, once: a full run's record must not outlive the
    /// removal of the stale files it no longer counts.
    fn delete_blocking(&self, keys: &[String]) -> Result<()> {
        let mut changed = BTreeSet::new();
        for key in keys {
            let path = self.path(key);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(anyhow!("cannot delete {}: {e}", path.display())),
            }
            // A partition that lost its file loses its directory too.
            let mut dir = path.parent();
            while let Some(d) = dir {
                if d == self.root || std::fs::remove_dir(d).is_err() {
                    changed.insert(d.to_path_buf());
                    break;
                }
                dir = d.parent();
            }
        }
        // A directory removed after it was noted is gone, and its parent noted instead.
        for dir in &changed {
            match durable::sync_dir(dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(anyhow!(
                        "cannot sync the directory {} after deleting from it: {e}",
                        dir.display()
                    ))
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Store for LocalStore {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    /// On the blocking pool, not in place: the `upload_concurrency` puts of a table then
    /// overlap, and the filesystem commits their fsyncs together instead of one by one.
    async fn put(&self, key: &str, payload: Payload) -> Result<()> {
        // Set when this future is dropped unfinished, so that a put the caller gave up on
        // does not land afterwards (as an aborted S3 upload does not).
        struct Abandon(Arc<AtomicBool>);
        impl Drop for Abandon {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Release);
            }
        }
        let abandon = Abandon(Arc::new(AtomicBool::new(false)));
        let (store, key, abandoned) = (self.clone(), key.to_string(), abandon.0.clone());
        let put =
            tokio::task::spawn_blocking(move || store.put_blocking(&key, payload, &abandoned));
        let result = put.await.map_err(|e| anyhow!("a lake write failed: {e}"))?;
        drop(abandon); // finished: the flag no longer matters
        result
    }

    async fn get(&self, key: &str) -> Result<Bytes> {
        let path = self.path(key);
        let data = tokio::fs::read(&path)
            .await
            .map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
        Ok(Bytes::from(data))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        tokio::task::block_in_place(|| self.list_blocking(prefix))
    }

    async fn get_versioned(&self, key: &str) -> Result<Option<(Bytes, String)>> {
        let path = self.path(key);
        match tokio::fs::read(&path).await {
            Ok(data) => {
                let tag = version_tag(&data);
                Ok(Some((Bytes::from(data), tag)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow!("cannot read {}: {e}", path.display())),
        }
    }

    async fn put_if(
        &self,
        key: &str,
        bytes: Bytes,
        expected: Option<&str>,
    ) -> Result<Option<String>> {
        tokio::task::block_in_place(|| self.put_if_blocking(key, bytes, expected))
    }

    async fn delete(&self, keys: &[String]) -> Result<()> {
        tokio::task::block_in_place(|| self.delete_blocking(keys))
    }

    fn conditional_writes_known(&self) -> bool {
        true
    }

    fn spool_dir(&self) -> Result<tempfile::TempDir> {
        tempfile::Builder::new()
            .prefix(STAGING_PREFIX)
            .tempdir_in(&self.root)
            .map_err(|e| {
                anyhow!(
                    "cannot write in the lake directory {}: {e} (check permissions)",
                    self.root.display()
                )
            })
    }
}

fn version_tag(data: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn put_list_delete_prunes_directories() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path()).unwrap();
        store
            .put(
                "t/lms=h/course_id=a/t.csv",
                Payload::Bytes(Bytes::from_static(b"x")),
            )
            .await
            .unwrap();
        store
            .put(
                "t/lms=h/course_id=b/t.csv",
                Payload::Bytes(Bytes::from_static(b"y")),
            )
            .await
            .unwrap();
        // Staging never shows up in listings.
        let _spool = store.spool_dir().unwrap();
        let _tmp = store.staging_file().unwrap();
        assert_eq!(
            store.list("t/").await.unwrap(),
            ["t/lms=h/course_id=a/t.csv", "t/lms=h/course_id=b/t.csv"]
        );
        assert_eq!(
            &store.get("t/lms=h/course_id=b/t.csv").await.unwrap()[..],
            b"y"
        );
        store
            .delete(&["t/lms=h/course_id=a/t.csv".into()])
            .await
            .unwrap();
        assert!(!dir.path().join("t/lms=h/course_id=a").exists());
        assert!(dir.path().join("t/lms=h/course_id=b").exists());
        assert!(store.list("nothing/").await.unwrap().is_empty());
    }

    #[test]
    fn an_abandoned_put_does_not_land() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path()).unwrap();
        let gone = AtomicBool::new(true);
        store
            .put_blocking("a/b.csv", Payload::Bytes(Bytes::from_static(b"x")), &gone)
            .unwrap();
        let spool = store.spool_dir().unwrap();
        let f = spool.path().join("p0");
        std::fs::write(&f, b"data").unwrap();
        store
            .put_blocking("a/c.csv", Payload::File(f.clone()), &gone)
            .unwrap();
        assert!(f.exists());
        drop(spool);
        // Nothing under its name, and no staging file left behind.
        assert!(store.list_blocking("").unwrap().is_empty());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(names.is_empty(), "{names:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn file_payloads_are_moved_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path()).unwrap();
        let spool = store.spool_dir().unwrap();
        let f = spool.path().join("p0");
        std::fs::write(&f, b"data").unwrap();
        store
            .put("a/b.csv", Payload::File(f.clone()))
            .await
            .unwrap();
        assert!(!f.exists());
        assert_eq!(std::fs::read(dir.path().join("a/b.csv")).unwrap(), b"data");
    }
}

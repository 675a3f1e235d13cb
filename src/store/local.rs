//! A lake in a local directory. Objects are written to a hidden staging directory inside the
//! root and renamed into place, which is atomic on POSIX filesystems.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use async_trait::async_trait;
use bytes::Bytes;

use super::{Payload, Store};

/// Staging files and spool directories live in the root under this prefix, so the final
/// rename stays on one filesystem. Hidden from lake readers: Hive, Spark, Trino and Athena
/// skip names starting with `.` or `_`; listings skip them too.
const STAGING_PREFIX: &str = ".edlake-tmp-";

pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: &Path) -> Result<LocalStore> {
        std::fs::create_dir_all(root).map_err(|e| {
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

    /// The path of `key`, its directory created.
    fn path_with_parent(&self, key: &str) -> Result<PathBuf> {
        let target = self.path(key);
        let parent = target.parent().expect("keys have a parent");
        std::fs::create_dir_all(parent).map_err(|e| {
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

    fn put_blocking(&self, key: &str, payload: Payload) -> Result<()> {
        let target = self.path_with_parent(key)?;
        match payload {
            Payload::Bytes(bytes) => {
                let mut tmp = self.staging_file()?;
                tmp.write_all(&bytes)
                    .and_then(|_| tmp.flush())
                    .map_err(|e| anyhow!("cannot write {}: {e}", target.display()))?;
                tmp.persist(&target).map_err(|e| {
                    anyhow!("cannot move a file into {}: {}", target.display(), e.error)
                })?;
            }
            Payload::File(src) => {
                if let Err(e) = std::fs::rename(&src, &target) {
                    // Another filesystem (EXDEV): copy beside the target first, then rename.
                    if e.raw_os_error() == Some(18) {
                        let tmp = self.staging_file()?;
                        std::fs::copy(&src, tmp.path()).map_err(|e| {
                            anyhow!("cannot copy a file into {}: {e}", target.display())
                        })?;
                        tmp.persist(&target).map_err(|e| {
                            anyhow!("cannot move a file into {}: {}", target.display(), e.error)
                        })?;
                    } else {
                        return Err(anyhow!("cannot move a file into {}: {e}", target.display()));
                    }
                }
            }
        }
        Ok(())
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
        self.put_blocking(key, Payload::Bytes(bytes))?;
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

    fn delete_blocking(&self, keys: &[String]) -> Result<()> {
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
                    break;
                }
                dir = d.parent();
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

    async fn put(&self, key: &str, payload: Payload) -> Result<()> {
        tokio::task::block_in_place(|| self.put_blocking(key, payload))
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

//! Object stores: one small trait, a local-directory backend and an S3 backend.
//!
//! Keys are `/`-separated and relative to the store's root. `put` is atomic: a reader sees
//! the previous object or the new one, never a partial one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use async_trait::async_trait;
use bytes::Bytes;

use crate::config::{Config, LakeLocation};

pub mod local;
pub mod s3;

/// The content of an object to write.
#[derive(Debug)]
pub enum Payload {
    Bytes(Bytes),
    /// A finished spool file; the store may move it (local) or stream it (S3).
    File(PathBuf),
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Where the store points, for messages (`/abs/path` or `s3://bucket/root`).
    fn describe(&self) -> String;

    /// Writes `key` atomically.
    async fn put(&self, key: &str, payload: Payload) -> Result<()>;

    async fn get(&self, key: &str) -> Result<Bytes>;

    /// Copies `key` into the local file `path`. Stores whose objects can be large stream it
    /// (S3); the default reads it whole.
    async fn download(&self, key: &str, path: &Path) -> Result<()> {
        let bytes = self.get(key).await?;
        tokio::fs::write(path, bytes)
            .await
            .with_context(|| format!("writing {}", path.display()))
    }

    /// Every key under `prefix` (recursively).
    async fn list(&self, prefix: &str) -> Result<Vec<String>>;

    /// Deletes the keys; missing keys are not an error.
    async fn delete(&self, keys: &[String]) -> Result<()>;

    /// A small object and its version tag (S3: its ETag), or None when it does not exist.
    async fn get_versioned(&self, key: &str) -> Result<Option<(Bytes, String)>>;

    /// Compare-and-swap: writes `bytes` to `key` only if the object's version is still
    /// `expected` (None: only if there is no object). Returns the new version tag, or None
    /// when another writer got there first. What the lake lease is built on.
    async fn put_if(
        &self,
        key: &str,
        bytes: Bytes,
        expected: Option<&str>,
    ) -> Result<Option<String>>;

    /// Whether [`Store::put_if`] is known to be a real compare-and-swap without probing it
    /// (a local directory: `flock`). Other stores are probed, since some S3-compatible
    /// ones silently ignore conditional headers.
    fn conditional_writes_known(&self) -> bool {
        false
    }

    /// A directory for spool files of one run, on a filesystem from which `put` of a
    /// [`Payload::File`] is cheap. Removed when the returned guard drops.
    fn spool_dir(&self) -> Result<tempfile::TempDir>;
}

/// Opens the store `datalake.url` points at.
pub async fn open(config: &Config) -> Result<Arc<dyn Store>> {
    open_location(config, config.lake_location()?).await
}

/// Opens the store at `location`, with `datalake`'s S3 settings (endpoint, region, …).
pub async fn open_location(config: &Config, location: LakeLocation) -> Result<Arc<dyn Store>> {
    Ok(match location {
        LakeLocation::Local(path) => Arc::new(local::LocalStore::new(&path)?),
        LakeLocation::S3 { bucket, root } => {
            Arc::new(s3::S3Store::new(&config.datalake, &bucket, &root).await?)
        }
    })
}

/// Joins a root and a key with exactly one `/`.
pub(crate) fn join_key(root: &str, key: &str) -> String {
    match (root.is_empty(), key.is_empty()) {
        (true, _) => key.to_string(),
        (_, true) => root.to_string(),
        _ => format!(
            "{}/{}",
            root.trim_end_matches('/'),
            key.trim_start_matches('/')
        ),
    }
}

pub(crate) fn spool_in(dir: &Path) -> Result<tempfile::TempDir> {
    std::fs::create_dir_all(dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create spool directory {}: {e} (check permissions or set datalake.spool_dir)",
            dir.display()
        )
    })?;
    tempfile::Builder::new()
        .prefix("edlake-run-")
        .tempdir_in(dir)
        .map_err(|e| anyhow::anyhow!("cannot create a spool directory in {}: {e}", dir.display()))
}

//! The import ledger: what `edlake import` has put in the lake, kept in the lake itself at
//! `<prefix>/_edlake/imports/<base partitions>/ledger.json` so any machine can continue.
//! It is written by compare-and-swap after the files it records, so it never names a file
//! that is not there; a run killed before writing it is redone in full by the next, over
//! the same file names, which is what makes a second import change nothing.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::lake::Layout;
use crate::store::Store;

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct Ledger {
    /// Imported packages, by name (`{org}-{date}`): the SHA-256 of what was imported.
    #[serde(default)]
    pub packages: BTreeMap<String, String>,
    /// Each course (the file names' `{org}-{course}-{run}`): the package its snapshot
    /// comes from, and the lake files that snapshot wrote.
    #[serde(default)]
    pub courses: BTreeMap<String, CourseSnapshot>,
    /// Imported event files, by file name.
    #[serde(default)]
    pub events: BTreeMap<String, EventsRecord>,
    /// Each imported table's file columns, in order, as last written: later files follow
    /// them (CSV is read by position) and append new ones.
    #[serde(default)]
    pub columns: BTreeMap<String, Vec<String>>,
    /// Tables whose per-learner merge or catalog entries are not done yet (a run stopped
    /// after publishing files): the next run finishes them first.
    #[serde(default)]
    pub pending: std::collections::BTreeSet<String>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct CourseSnapshot {
    pub package: String,
    pub date: String,
    /// Lake keys of the course's own files (course-scoped tables, its course structure).
    pub files: Vec<String>,
    /// Staged per-learner tables of the course (`_edlake/imports/…/staging/…`).
    pub staged: Vec<String>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct EventsRecord {
    pub fingerprint: String,
    pub events: u64,
    pub quarantined: u64,
    pub objects: Vec<String>,
}

/// `<prefix>/_edlake/imports/<base partitions>/`.
pub fn imports_dir(layout: &Layout) -> String {
    layout.state_dir("imports")
}

fn key(layout: &Layout) -> String {
    format!("{}ledger.json", imports_dir(layout))
}

/// The ledger and its version tag (None: no ledger yet).
pub async fn read(store: &dyn Store, layout: &Layout) -> Result<(Ledger, Option<String>)> {
    let key = key(layout);
    match store.get_versioned(&key).await? {
        None => Ok((Ledger::default(), None)),
        Some((bytes, tag)) => Ok((
            serde_json::from_slice(&bytes)
                .with_context(|| format!("{key}: not an import ledger (damaged?)"))?,
            Some(tag),
        )),
    }
}

/// Writes `ledger` over the version `tag` read; fails if another import wrote it since.
pub async fn write(
    store: &dyn Store,
    layout: &Layout,
    ledger: &Ledger,
    tag: Option<&str>,
) -> Result<String> {
    let key = key(layout);
    let json = serde_json::to_vec_pretty(ledger).expect("the ledger serializes");
    store
        .put_if(&key, Bytes::from(json), tag)
        .await
        .with_context(|| format!("writing {key}"))?
        .with_context(|| {
            format!("{key} changed during this import: another edlake import ran at the same time; run it again")
        })
}

//! Daily event files into `tracking_logs`, by event day, through the same line handling as
//! `logs ship` (events by the UTC day of their `time`, anything else to the quarantine).
//!
//! Exactly once: a file is decrypted, gunzipped and cut into day files on local disk in one
//! stream (bounded memory whatever its size), then uploaded under names made from its
//! content, then recorded in the ledger. A run killed before the record re-imports the
//! file over the very same objects.

use std::io::BufReader;
use std::path::Path;

use anyhow::{Context, Result};
use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use super::ledger::EventsRecord;
use crate::jobs::logs::{day_key, quarantine_key, segment};
use crate::lake::Layout;
use crate::source::research_package::inputs::{self, EventFile};
use crate::source::research_package::{gpg, read_error};
use crate::store::{Payload, Store};

/// What one event file became.
pub struct Imported {
    pub record: EventsRecord,
    pub bytes: u64,
}

/// The SHA-256 of an event file (its identity in the ledger).
pub fn fingerprint(file: &EventFile) -> Result<String> {
    let mut hash = Sha256::new();
    inputs::hash_file(&file.path, &mut hash)?;
    Ok(format!("{:x}", hash.finalize()))
}

/// Imports one event file whose fingerprint is `fingerprint`.
pub async fn import_file(
    store: &dyn Store,
    layout: &Layout,
    file: &EventFile,
    fingerprint: &str,
    gnupghome: Option<&Path>,
    scratch: &Path,
) -> Result<Imported> {
    let dir = tempfile::tempdir_in(scratch)?;
    let split = {
        let (file, dir_path, home) = (
            file.clone(),
            dir.path().to_path_buf(),
            gnupghome.map(Path::to_path_buf),
        );
        tokio::task::spawn_blocking(move || split_file(&file, &dir_path, home.as_deref())).await??
    };
    // `{org}-{site}-events-{date}`: the objects' names start with it.
    let base = file
        .name
        .trim_end_matches(".gpg")
        .trim_end_matches(".gz")
        .trim_end_matches(".log")
        .to_string();
    let fp = &fingerprint[..16];
    let mut objects = Vec::new();
    for day in &split.days {
        let key = day_key(layout, &base, fp, 0, day);
        store
            .put(&key, Payload::File(day.path.clone()))
            .await
            .with_context(|| format!("{}: uploading {key}", file.name))?;
        objects.push(key);
    }
    let quarantined: u64 = split.rejected.values().sum();
    if let Some(q) = &split.quarantine {
        let key = quarantine_key(layout, &base, fp, 0);
        store
            .put(&key, Payload::File(q.clone()))
            .await
            .with_context(|| format!("{}: uploading {key}", file.name))?;
        objects.push(key);
        tracing::warn!(file = %file.name, lines = quarantined, "lines that are not events quarantined");
    }
    Ok(Imported {
        record: EventsRecord {
            fingerprint: fingerprint.to_string(),
            events: split.events,
            quarantined,
            objects,
        },
        bytes: split.bytes,
    })
}

fn split_file(file: &EventFile, dir: &Path, gnupghome: Option<&Path>) -> Result<segment::Split> {
    let raw: Box<dyn std::io::Read + Send> = if file.name.ends_with(".gpg") {
        let mut decrypted = gpg::decrypt(&file.path, gnupghome)?;
        decrypted.set_name(&file.name);
        Box::new(decrypted)
    } else {
        Box::new(
            std::fs::File::open(&file.path)
                .with_context(|| format!("opening {}", file.path.display()))?,
        )
    };
    let reader = BufReader::with_capacity(1 << 16, MultiGzDecoder::new(raw));
    segment::split_stream(reader, dir).map_err(|e| read_error(&file.name, e))
}

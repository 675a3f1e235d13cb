//! One rotated file: recognise it, ship the part of it not in the lake yet, delete it
//! `keep` after its last shipment.
//!
//! A file is shipped as consecutive parts of its content, each exactly once: the whole of
//! it the first time, then whatever a writer appended after that (one that kept its
//! descriptor open longer than `grace`). A part's objects are named by the file's
//! fingerprint and the part's first byte, and the part's end is pinned in the record
//! before any upload, so a pass cut short at any point writes the same objects again with
//! the same bytes, however much the file has grown since.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::time::SystemTime;

use anyhow::{anyhow, bail, Result};

use super::ledger::{now_secs, GzipCopy, Ledger, Record};
use super::segment::split_segment;
use super::{day_key, put, quarantine_key, remove, ShipReport, ShippedFile};
use crate::jobs::logs::settings::TrackingLogsSettings;
use crate::lake::Layout;
use crate::progress::Bar;
use crate::source::tracking_logs::{self as files, Head, RotatedFile, FINGERPRINT_BYTES};
use crate::store::Store;

const UNREADABLE: &str =
    "(left in place; a corrupt or truncated gzip stays until fixed or removed)";

pub(super) struct Shipper<'a> {
    pub settings: &'a TrackingLogsSettings,
    pub ledger: &'a mut Ledger,
    pub store: &'a dyn Store,
    pub layout: &'a Layout,
    pub spool: &'a Path,
    /// The live file's name, which starts every object's name.
    pub base: String,
}

impl Shipper<'_> {
    pub async fn ship_file(
        &mut self,
        file: &RotatedFile,
        present: &mut HashSet<String>,
        report: &mut ShipReport,
    ) -> Result<()> {
        let now = SystemTime::now();
        if !file.settled(self.settings.grace, now) {
            report.waiting.push(file.path.clone());
            return Ok(());
        }
        let path = file.path.clone();
        let head = tokio::task::spawn_blocking(move || files::read_head(&path, FINGERPRINT_BYTES))
            .await?
            .map_err(|e| anyhow!("cannot read it: {e} (left in place; fix or remove it)"))?;
        if head.bytes.is_empty() {
            report.empty += 1;
            if now.duration_since(file.modified).unwrap_or_default() >= self.settings.keep {
                remove(&file.path, report);
            }
            return Ok(());
        }
        // A copy of a file shipped earlier in this pass (logrotate compressing it) finds
        // the record just written.
        let mut record = match self.ledger.find(&head.bytes)? {
            Some(record) => record,
            None => Record::new(&head.bytes, &file.path, file.size),
        };
        present.insert(record.fingerprint.clone());

        let counted_before = record.gzip_copy.clone();
        let mut shipped = false;
        if let Some(to) = record.pending_to {
            // A pass was cut short while uploading this part: the same part again.
            shipped |= self
                .ship_part(file, &head, &mut record, Some(to), report)
                .await?;
        }
        let grown = match record.shipped_bytes {
            Some(0) => true,
            Some(done) => {
                let content = self.content_len(file, &head, &mut record).await?;
                if content > done {
                    report.warnings.push(format!(
                        "{} grew by {} bytes after it was shipped (a writer kept it open longer than tracking_logs.grace): shipping what was appended",
                        file.path.display(),
                        content - done
                    ));
                }
                content > done
            }
            None => {
                // Shipped by an earlier release, which did not record how much.
                if record.source == file.path && file.size > record.file_size {
                    report.warnings.push(format!(
                        "{} grew by {} bytes after an earlier release shipped it; lines written after `grace` are not shipped (raise tracking_logs.grace)",
                        file.path.display(),
                        file.size - record.file_size
                    ));
                }
                false
            }
        };
        if grown {
            shipped |= self
                .ship_part(file, &head, &mut record, None, report)
                .await?;
        } else if record.gzip_copy != counted_before {
            // A gzip copy counted just now: the next pass need not count it again.
            self.ledger.put(&record)?;
        }

        if !shipped {
            report.already_shipped += 1;
        }
        if record.pending_to.is_none()
            && (now >= record.shipped_at() + self.settings.keep
                || (shipped && self.settings.keep.is_zero()))
        {
            remove(&file.path, report);
        }
        Ok(())
    }

    /// How many content bytes `file` holds: its size when plain; when gzip, counted
    /// (once per copy: the count is kept in `record`).
    async fn content_len(
        &self,
        file: &RotatedFile,
        head: &Head,
        record: &mut Record,
    ) -> Result<u64> {
        if !head.gzip {
            return Ok(file.size);
        }
        if let Some(copy) = &record.gzip_copy {
            if copy.path == file.path && copy.size == file.size {
                return Ok(copy.content_bytes);
            }
        }
        let path = file.path.clone();
        let content_bytes = tokio::task::spawn_blocking(move || files::content_len(&path))
            .await?
            .map_err(|e| anyhow!("cannot read it: {e} {UNREADABLE}"))?;
        record.gzip_copy = Some(GzipCopy {
            path: file.path.clone(),
            size: file.size,
            content_bytes,
        });
        Ok(content_bytes)
    }

    /// Ships the content from `record.shipped_bytes` to `to` (to the end when `None`) and
    /// records it. Whether there was anything to ship.
    async fn ship_part(
        &mut self,
        file: &RotatedFile,
        head: &Head,
        record: &mut Record,
        to: Option<u64>,
        report: &mut ShipReport,
    ) -> Result<bool> {
        let from = record.shipped_bytes.unwrap_or(0);
        let short = record.fingerprint[..16].to_string();
        let work = self.spool.join(format!("{short}-{from}"));
        fs::create_dir_all(&work)?;
        let (source, dir) = (file.path.clone(), work.clone());
        let remaining = if head.gzip {
            file.size
        } else {
            file.size.saturating_sub(from)
        };
        let bar = Bar::bytes(&file.path.display().to_string(), remaining);
        let split =
            tokio::task::spawn_blocking(move || split_segment(&source, from, to, &dir, &bar))
                .await?
                .map_err(|e| anyhow!("cannot read it: {e} {UNREADABLE}"))?;
        let end = from + split.bytes;
        if let Some(to) = to {
            if end != to {
                bail!(
                    "it holds {end} bytes of content, fewer than the {to} an interrupted pass read: it was truncated or replaced in place (left in place; edlake ships files that only grow)"
                );
            }
        }
        if split.bytes == 0 {
            return Ok(false);
        }
        // The part's end, pinned before its first upload.
        if record.pending_to != Some(end) {
            record.pending_to = Some(end);
            self.ledger.put(record)?;
        }

        let mut objects = Vec::new();
        let mut days = Vec::new();
        for day in &split.days {
            let key = day_key(self.layout, &self.base, &short, from, day);
            put(self.store, &key, &day.path).await?;
            objects.push(key);
            let date = day.date.to_string();
            if days.last() != Some(&date) {
                days.push(date);
            }
        }
        let quarantined: u64 = split.rejected.values().sum();
        if let Some(path) = &split.quarantine {
            let key = quarantine_key(self.layout, &self.base, &short, from);
            put(self.store, &key, path).await?;
            report.warnings.push(format!(
                "{}: {quarantined} line(s) quarantined in {key} ({})",
                file.path.display(),
                split
                    .rejected
                    .iter()
                    .map(|(r, n)| format!("{}: {n}", r.describe()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            objects.push(key);
        }
        let _ = fs::remove_dir_all(&work);

        // What a file must start with to be this one, from now on.
        let head_len = end.min(FINGERPRINT_BYTES as u64) as usize;
        let shipped_head = if head_len <= head.bytes.len() {
            files::digest_hex(&head.bytes[..head_len])
        } else {
            // The file grew between reading its head and reading it through.
            let path = file.path.clone();
            let longer = tokio::task::spawn_blocking(move || files::read_head(&path, head_len))
                .await?
                .map_err(|e| anyhow!("cannot read it: {e} {UNREADABLE}"))?;
            files::digest_hex(&longer.bytes)
        };
        record.shipped_bytes = Some(end);
        record.shipped_head = Some(shipped_head);
        record.pending_to = None;
        record.shipped_at = now_secs();
        record.source = file.path.clone();
        record.file_size = file.size;
        record.events += split.events;
        record.quarantined += quarantined;
        record.objects.extend(objects.iter().cloned());
        if head.gzip {
            record.gzip_copy = Some(GzipCopy {
                path: file.path.clone(),
                size: file.size,
                content_bytes: end,
            });
        }
        self.ledger.put(record)?;
        tracing::info!(file = %file.path.display(), from, events = split.events, objects = objects.len(), "shipped");
        report.shipped.push(ShippedFile {
            path: file.path.clone(),
            from,
            events: split.events,
            rejected: split.rejected,
            objects,
            days,
        });
        Ok(true)
    }
}

//! Incremental extraction's memory: one watermark record per table of an LMS, kept in the
//! lake at `<prefix>/_edlake/watermarks/lms=<host>/<table>.json` so a stateless CronJob
//! pod continues where the last run stopped. Only the table's lease holder reads or writes
//! it, and only after the run's files and catalog entries are in place (docs/incremental.md).

use std::collections::HashSet;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::config::IncrementalSettings;
use crate::lake::{Format, Layout};
use crate::source::mysql::ChangedSince;
use crate::store::Store;
use crate::table::{Incremental, TablePlan};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Watermark {
    pub table: String,
    pub change_column: String,
    /// Of the plan the files were written with: another plan (columns, key, pseudonym
    /// key) means a full extract, so a delta never mixes with files of another shape.
    pub fingerprint: String,
    /// MySQL text of the newest change read, capped at the snapshot's UTC time; None
    /// while the table has had no row.
    pub watermark: Option<String>,
    /// When the last full extract ran (RFC 3339).
    pub full_at: String,
    /// Incremental runs that wrote delta files since; also the last delta's number.
    pub deltas: u32,
    /// Rows within the overlap of the watermark, already in the lake: hashes of key and
    /// change time (16 hex digits each). The next run reads them again and skips them, so
    /// a run with no change writes nothing.
    #[serde(default)]
    pub recent: String,
}

impl Watermark {
    pub fn recent_rows(&self) -> HashSet<u64> {
        (0..self.recent.len() / 16)
            .filter_map(|i| u64::from_str_radix(&self.recent[i * 16..i * 16 + 16], 16).ok())
            .collect()
    }
}

/// Collects, during a scan, the rows whose change time is within the overlap of the newest
/// change seen, pruning as the newest moves on so a full scan keeps only a window's worth.
pub struct RecentRows {
    overlap: i64,
    newest: i64,
    entries: Vec<(i64, u64)>,
    prune_at: usize,
}

impl RecentRows {
    pub fn new(overlap: std::time::Duration) -> RecentRows {
        RecentRows {
            overlap: i64::try_from(overlap.as_micros()).unwrap_or(i64::MAX),
            newest: i64::MIN,
            entries: Vec::new(),
            prune_at: 4096,
        }
    }

    /// Notes a row changed at `micros`; true when it is within the overlap of the newest
    /// change so far, and must then be [`push`](Self::push)ed.
    pub fn wants(&mut self, micros: i64) -> bool {
        self.newest = self.newest.max(micros);
        micros >= self.newest.saturating_sub(self.overlap)
    }

    pub fn push(&mut self, micros: i64, row: u64) {
        self.entries.push((micros, row));
        if self.entries.len() >= self.prune_at {
            let floor = self.newest.saturating_sub(self.overlap);
            self.entries.retain(|(m, _)| *m >= floor);
            self.prune_at = (self.entries.len() * 2).max(4096);
        }
    }

    /// The rows the next run's overlap reads again: changed at or after `watermark` minus
    /// the overlap, as sorted hex.
    pub fn finish(self, watermark: Option<&str>) -> String {
        let Some(floor) = watermark
            .and_then(|w| datetime_micros(w.as_bytes()))
            .map(|w| w.saturating_sub(self.overlap))
        else {
            return String::new();
        };
        let mut rows: Vec<u64> = self
            .entries
            .into_iter()
            .filter(|(m, _)| *m >= floor)
            .map(|(_, r)| r)
            .collect();
        rows.sort_unstable();
        rows.dedup();
        rows.iter().map(|r| format!("{r:016x}")).collect()
    }
}

/// FNV-1a of a row's key values and change time: stable across runs and releases, and
/// cheap enough for every row of a full scan.
pub fn row_hash<'a>(key: impl Iterator<Item = Option<&'a [u8]>>, changed: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for part in key {
        match part {
            Some(v) => {
                eat(&[1]);
                eat(v);
            }
            None => eat(&[0]),
        }
        eat(&[0xff]);
    }
    eat(changed);
    h
}

/// Microseconds since 0000-03-01-ish of MySQL's text for a DATE, DATETIME or TIMESTAMP
/// (`YYYY-MM-DD[ HH:MM:SS[.f…]]`); None for zero dates and anything else.
pub fn datetime_micros(text: &[u8]) -> Option<i64> {
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.iter().try_fold(0i64, |n, b| {
            b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
        })
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?)
            .ok()?;
    let mut micros = i64::from(date.to_julian_day()) * 86_400_000_000;
    if text.len() >= 19 {
        micros += (num(11..13)? * 3600 + num(14..16)? * 60 + num(17..19)?) * 1_000_000;
        if text.len() > 20 {
            let fraction = &text[20..text.len().min(26)];
            let mut f = num(20..20 + fraction.len())?;
            for _ in fraction.len()..6 {
                f *= 10;
            }
            micros += f;
        }
    }
    Some(micros)
}

/// What a run of an incremental table does.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Full(&'static str),
    /// Rows changed since `since` (every row when None), written as delta number `delta`.
    Incremental {
        since: Option<String>,
        delta: u32,
    },
}

impl Mode {
    pub fn describe(&self) -> String {
        match self {
            Mode::Full(why) => format!("full extract: {why}"),
            Mode::Incremental {
                since: Some(since),
                delta,
            } => {
                format!("incremental extract of the rows changed since {since} (delta {delta})")
            }
            Mode::Incremental { since: None, delta } => {
                format!("incremental extract of every row (delta {delta})")
            }
        }
    }
}

pub fn record_key(layout: &Layout, table: &str) -> String {
    format!("{}{table}.json", layout.state_dir("watermarks"))
}

/// The table's record and its version tag (for the compare-and-swap that writes the next
/// one); `(None, None)` when there is none. An unreadable record reads as none, with its tag.
pub async fn load(
    store: &dyn Store,
    layout: &Layout,
    table: &str,
) -> Result<(Option<Watermark>, Option<String>)> {
    let key = record_key(layout, table);
    let Some((bytes, tag)) = store.get_versioned(&key).await? else {
        return Ok((None, None));
    };
    match serde_json::from_slice(&bytes) {
        Ok(record) => Ok((Some(record), Some(tag))),
        Err(e) => {
            // Unreadable memory costs one full extract, never a lost change.
            tracing::warn!(table, key = %key, "unreadable watermark record ({e}): extracting in full");
            Ok((None, Some(tag)))
        }
    }
}

/// Writes `record` only if the record is still the version `expected` (None: still absent),
/// the one read when this run's lease was taken. Another version means another process
/// wrote it meanwhile: it took the table over, and this run must publish nothing more.
pub async fn save(
    store: &dyn Store,
    layout: &Layout,
    record: &Watermark,
    expected: Option<&str>,
) -> Result<()> {
    let key = record_key(layout, &record.table);
    let bytes = serde_json::to_vec_pretty(record)?;
    match store
        .put_if(&key, bytes.into(), expected)
        .await
        .with_context(|| format!("writing the watermark {key}"))?
    {
        Some(_) => Ok(()),
        None => anyhow::bail!(
            "the watermark {key} changed during this run: another edlake took the table over (this one stalled past lease.ttl); nothing more was published, the next run continues from the other's watermark"
        ),
    }
}

/// One table's run as incremental extraction sees it: what to read, which rows to skip,
/// and the record to leave. A table without a change column passes through untouched.
pub struct Tracker {
    table: String,
    incremental: Option<Incremental>,
    mode: Mode,
    record: Option<Watermark>,
    /// The version of the record read at the start: the next record replaces exactly it.
    record_tag: Option<String>,
    fingerprint: String,
    overlap_seconds: u64,
    started: OffsetDateTime,
    /// Row positions (data columns, then partition columns) of the change column and key.
    change_index: Option<usize>,
    key_index: Vec<usize>,
    newest: Option<Vec<u8>>,
    recent: RecentRows,
    /// Rows the last run wrote within its overlap: read again now, and skipped.
    already: HashSet<u64>,
    pub skipped: u64,
}

impl Tracker {
    /// Reads the table's record (unless `full`) and decides the mode. `key_check`
    /// identifies the privacy key when the table has pseudonyms.
    pub async fn start(
        settings: &IncrementalSettings,
        store: &dyn Store,
        layout: &Layout,
        plan: &TablePlan,
        key_check: Option<&str>,
        format: Format,
        full: bool,
    ) -> Result<Tracker> {
        let fingerprint = fingerprint(plan, key_check, format);
        let started = OffsetDateTime::now_utc();
        let (mode, record, record_tag) = match &plan.incremental {
            None => (Mode::Full("no change column"), None, None),
            Some(_) => {
                // Read even for a full run: its version is what the new record replaces.
                let (record, tag) = load(store, layout, &plan.table).await?;
                let record = record.filter(|_| !full);
                let mode = decide(record.as_ref(), &fingerprint, settings, full, started);
                (mode, record, tag)
            }
        };
        let columns = || plan.data_columns.iter().chain(&plan.partition_columns);
        let position = |name: &str| columns().position(|c| c.name.eq_ignore_ascii_case(name));
        let (change_index, key_index) = match &plan.incremental {
            Some(inc) => (
                position(&inc.change_column),
                inc.key.iter().filter_map(|k| position(k)).collect(),
            ),
            None => (None, Vec::new()),
        };
        let already = match (&record, &mode) {
            (Some(r), Mode::Incremental { .. }) => r.recent_rows(),
            _ => HashSet::new(),
        };
        Ok(Tracker {
            table: plan.table.clone(),
            incremental: plan.incremental.clone(),
            mode,
            record,
            record_tag,
            fingerprint,
            overlap_seconds: settings.overlap.as_secs(),
            started,
            change_index,
            key_index,
            newest: None,
            recent: RecentRows::new(settings.overlap),
            already,
            skipped: 0,
        })
    }

    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// `full` or `incremental` for a table with a change column, `snapshot` for the others.
    pub fn label(&self) -> &'static str {
        match (&self.incremental, &self.mode) {
            (None, _) => "snapshot",
            (Some(_), Mode::Full(_)) => "full",
            (Some(_), Mode::Incremental { .. }) => "incremental",
        }
    }

    /// The delta number an incremental run writes.
    pub fn delta(&self) -> Option<u32> {
        match self.mode {
            Mode::Incremental { delta, .. } => Some(delta),
            Mode::Full(_) => None,
        }
    }

    /// The scan's filter: None reads every row.
    pub fn changed_since(&self) -> Option<ChangedSince> {
        match (&self.mode, &self.incremental) {
            (
                Mode::Incremental {
                    since: Some(since), ..
                },
                Some(inc),
            ) => Some(ChangedSince {
                column: inc.change_column.clone(),
                since: since.clone(),
                overlap_seconds: self.overlap_seconds,
            }),
            _ => None,
        }
    }

    /// Notes a scanned row (`value(i)`: its i-th column); false when the lake already has
    /// it.
    pub fn keep<'r>(&mut self, value: impl Fn(usize) -> Option<&'r [u8]>) -> bool {
        let Some(changed) = self.change_index.and_then(&value) else {
            return true;
        };
        if self.newest.as_deref().is_none_or(|n| changed > n) {
            self.newest = Some(changed.to_vec());
        }
        let recent = datetime_micros(changed).filter(|m| self.recent.wants(*m));
        // A full scan hashes only the rows near the newest change, not every row.
        if recent.is_none() && self.already.is_empty() {
            return true;
        }
        let id = row_hash(self.key_index.iter().map(|k| value(*k)), changed);
        if let Some(micros) = recent {
            self.recent.push(micros, id);
        }
        if self.already.contains(&id) {
            self.skipped += 1;
            return false;
        }
        true
    }

    /// Writes the record: only once the run's files and catalog entries are in place, so a
    /// run that failed before is redone whole by the next one; and only over the version
    /// read at the start (compare-and-swap), so a run that lost its lease cannot move it.
    pub async fn finish(
        self,
        store: &dyn Store,
        layout: &Layout,
        snapshot_utc: &str,
    ) -> Result<()> {
        let delta = self.delta();
        let Some(inc) = self.incremental else {
            return Ok(());
        };
        let previous = self.record.as_ref().filter(|_| delta.is_some());
        let watermark = advance(
            previous.and_then(|r| r.watermark.as_deref()),
            self.newest.as_deref(),
            snapshot_utc,
        );
        let record = Watermark {
            table: self.table,
            change_column: inc.change_column,
            fingerprint: self.fingerprint,
            full_at: match previous {
                Some(r) => r.full_at.clone(),
                None => self.started.format(&Rfc3339).unwrap_or_default(),
            },
            deltas: delta.unwrap_or(0),
            recent: self.recent.finish(watermark.as_deref()),
            watermark,
        };
        save(store, layout, &record, self.record_tag.as_deref()).await
    }
}

/// Full or incremental, from the last record and the settings.
pub fn decide(
    record: Option<&Watermark>,
    fingerprint: &str,
    settings: &IncrementalSettings,
    full_requested: bool,
    now: OffsetDateTime,
) -> Mode {
    if full_requested {
        return Mode::Full("requested");
    }
    if !settings.enabled {
        return Mode::Full("incremental.enabled is off");
    }
    let Some(record) = record else {
        return Mode::Full("no watermark yet");
    };
    if record.fingerprint != fingerprint {
        return Mode::Full("the exported columns changed");
    }
    if record.deltas >= settings.max_deltas {
        return Mode::Full("incremental.max_deltas reached (compaction)");
    }
    let age = OffsetDateTime::parse(&record.full_at, &Rfc3339)
        .map(|at| now - at)
        .unwrap_or(time::Duration::MAX);
    if age >= settings.full_every {
        return Mode::Full("incremental.full_every elapsed (compaction)");
    }
    Mode::Incremental {
        since: record.watermark.clone(),
        delta: record.deltas + 1,
    }
}

/// The newer of the old watermark and what this scan read, never past the snapshot's time.
/// MySQL's text of one DATETIME/TIMESTAMP column has one width, so text order is time
/// order.
pub fn advance(
    old: Option<&str>,
    newest_read: Option<&[u8]>,
    snapshot_utc: &str,
) -> Option<String> {
    let read = newest_read.map(|v| {
        let v = String::from_utf8_lossy(v);
        if v.as_ref() > snapshot_utc {
            snapshot_utc.to_string()
        } else {
            v.into_owned()
        }
    });
    match (old, read) {
        (Some(old), Some(read)) if old >= read.as_str() => Some(old.to_string()),
        (_, Some(read)) => Some(read),
        (old, None) => old.map(str::to_string),
    }
}

/// Identifies the files' shape: columns in file order with types, partition columns, the
/// key and change column, the pseudonymized columns and a check value of their key, and
/// the file format (a switch of format makes the next run full, which rewrites every file).
pub fn fingerprint(plan: &TablePlan, key_check: Option<&str>, format: Format) -> String {
    let mut h = Sha256::new();
    for c in plan.data_columns.iter().chain(&plan.partition_columns) {
        h.update(format!("{}:{}:{};", c.name, c.column_type, c.absent));
    }
    h.update(format!(
        "|{:?}|{:?}|",
        plan.partition_names(),
        plan.incremental
    ));
    h.update(format!("{:?}|{key_check:?}", plan.pseudonymized));
    // CSV lakes written before formats existed keep their fingerprint.
    if format != Format::Csv {
        h.update(format!("|{}", format.extension()));
    }
    format!("{:x}", h.finalize())
}

#[cfg(test)]
mod tests;

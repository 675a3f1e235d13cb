//! `edlake logs ship`: rotate the live tracking log when due, then ship every rotated file
//! not shipped yet, each line to exactly one object.
//!
//! Exactly once (docs/tracking-logs.md):
//! - a rotated file is read only when settled (untouched for `grace`), through its end;
//! - its objects have names made from its content (fingerprint, first byte of the part,
//!   day, first event), and the part's end is recorded before any upload, so shipping it
//!   again after a crash overwrites the same objects with the same bytes;
//! - its record moves past the part only after every object is confirmed, and the local
//!   file is deleted only after that, `keep` later;
//! - what a writer appends after that is shipped as the next part, never the whole again.

mod file;
pub mod ledger;
pub mod segment;
pub mod settings;
pub mod table;

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};
use time::macros::format_description;
use tokio_util::sync::CancellationToken;

use crate::catalog::SyncReport;
use crate::config::Config;
use crate::encode::gzip_lines::DayFile;
use crate::jobs::logs::settings::TrackingLogsSettings;
use crate::lake::Layout;
use crate::source::tracking_logs::line::Rejection;
use crate::source::tracking_logs::{self as files, Rotation};
use crate::store::{self, Payload, Store};
use ledger::Ledger;

pub use crate::table::TRACKING_LOGS as TABLE;

/// Partition columns after `lms`.
pub const PARTITION_COLUMNS: [&str; 3] = ["year", "month", "day"];

/// Records of files no longer on disk are dropped this long after shipping.
const RECORD_RETENTION: Duration = Duration::from_secs(30 * 86400);

#[derive(Debug, Default)]
pub struct ShipReport {
    pub rotation: Option<Rotation>,
    pub shipped: Vec<ShippedFile>,
    pub already_shipped: usize,
    pub empty: usize,
    /// Files written to or renamed less than `grace` ago: the next pass takes them.
    pub waiting: Vec<PathBuf>,
    pub deleted: Vec<PathBuf>,
    pub failures: Vec<String>,
    pub warnings: Vec<String>,
    pub catalog: Option<std::result::Result<SyncReport, String>>,
    pub seconds: f64,
}

#[derive(Debug)]
pub struct ShippedFile {
    pub path: PathBuf,
    /// The first content byte shipped: 0 for the whole file, more for what was appended
    /// after it was shipped.
    pub from: u64,
    pub events: u64,
    pub rejected: BTreeMap<Rejection, u64>,
    pub objects: Vec<String>,
    pub days: Vec<String>,
}

impl ShipReport {
    pub fn is_complete(&self) -> bool {
        self.failures.is_empty() && !matches!(self.catalog, Some(Err(_)))
    }
}

/// Runs one pass. Errors that stop the pass (no lock, store unusable) are `Err`; a file
/// that cannot be shipped is a failure in the report and the others go on. Once `stop` is
/// cancelled no further file starts (the rest wait for the next pass).
pub async fn ship(config: &Config, stop: &CancellationToken) -> Result<ShipReport> {
    let started = Instant::now();
    let settings = crate::jobs::logs::settings::settings(config)?;
    let _lock = lock(&settings.state_dir)?;
    let mut ledger = Ledger::open(&settings.state_dir)?;
    let store =
        store::open_location(config, crate::jobs::logs::settings::location(config)?).await?;
    let layout = config.layout();
    let mut report = ShipReport::default();

    let rotation = {
        let s = settings.clone();
        tokio::task::spawn_blocking(move || {
            files::rotate_if_due(&s.path, s.rotate_bytes, s.rotate_age, SystemTime::now())
        })
        .await??
    };
    if let Rotation::Rotated(path) = &rotation {
        tracing::info!(file = %path.display(), "rotated the live log; waiting {:?} for writers to reopen", settings.grace);
        // A stop cuts the wait short: the loop below then ships nothing, and the next
        // pass finds the rotated file.
        tokio::select! {
            _ = tokio::time::sleep(settings.grace) => {}
            _ = stop.cancelled() => {}
        }
    }
    report.rotation = Some(rotation);

    let (candidates, skipped) =
        files::discover(&settings.path, &settings.rotated_glob, &settings.state_dir)?;
    report
        .warnings
        .extend(skipped.into_iter().map(|s| format!("skipped {s}")));
    let spool = store.spool_dir()?;
    let mut present = HashSet::new();
    let mut shipper = file::Shipper {
        settings: &settings,
        ledger: &mut ledger,
        store: store.as_ref(),
        layout: &layout,
        spool: spool.path(),
        base: settings
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "tracking.log".into()),
    };
    let total = candidates.len();
    for (i, file) in candidates.into_iter().enumerate() {
        if stop.is_cancelled() {
            report.failures.push(format!(
                "{} rotated file(s) not shipped: edlake is stopping (the next pass ships them)",
                total - i
            ));
            break;
        }
        let outcome = shipper.ship_file(&file, &mut present, &mut report).await;
        if let Err(e) = outcome {
            let mut message = format!("tracking log {}: {e:#}", file.path.display());
            let store_down = e.downcast_ref::<StoreFailure>().is_some();
            if store_down {
                // The destination is down: the other files would fail the same way, and
                // stay on disk as this one does.
                message += &match total - i - 1 {
                    0 => "; it stays on disk for the next pass".to_string(),
                    n => {
                        format!("; it and {n} other rotated file(s) stay on disk for the next pass")
                    }
                };
            }
            tracing::error!("{message}");
            report.failures.push(message);
            if store_down {
                break;
            }
        }
    }
    // Only after a pass that saw every file: `present` must hold all fingerprints on disk.
    if report.failures.is_empty() {
        if let Some(before) = SystemTime::now().checked_sub(settings.keep + RECORD_RETENTION) {
            ledger.prune(&present, before)?;
        }
    }

    if config.any_catalog_enabled() && !report.shipped.is_empty() {
        report.catalog = Some(
            table::sync(config, store.as_ref(), false)
                .await
                .map_err(|e| format!("{e:#}")),
        );
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Marks an error of the destination store.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct StoreFailure(String);

fn lock(state_dir: &Path) -> Result<File> {
    // Durably: the ledger's records are in it.
    crate::durable::create_dir_all(state_dir).with_context(|| {
        format!(
            "cannot create the state directory {} (set tracking_logs.state_dir to a writable, persistent directory)",
            state_dir.display()
        )
    })?;
    let path = state_dir.join("lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another `edlake logs ship` holds {} (a pass is still running; this one does nothing)",
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// `<prefix>/tracking_logs/lms=<host>/year=YYYY/month=MM/day=DD/<base>-YYYYMMDD-HHMMSS-<fp>[-from<byte>][-<part>].gz`:
/// `from<byte>` names a part of the file after its start (what was appended after it was
/// shipped).
pub fn day_key(layout: &Layout, base: &str, fingerprint: &str, from: u64, day: &DayFile) -> String {
    let d = day.date;
    let values = [
        Some(format!("{:04}", d.year())),
        Some(format!("{:02}", u8::from(d.month()))),
        Some(format!("{:02}", d.day())),
    ];
    let columns: Vec<String> = PARTITION_COLUMNS.iter().map(|c| c.to_string()).collect();
    let part = if day.part == 0 {
        String::new()
    } else {
        format!("-{}", day.part)
    };
    let first = day
        .first_event
        .format(format_description!(
            "[year][month][day]-[hour][minute][second]"
        ))
        .expect("a UTC time formats");
    format!(
        "{}{base}-{first}-{fingerprint}{}{part}.gz",
        layout.partition_dir(TABLE, &columns, &values),
        from_suffix(from)
    )
}

/// `<prefix>/_edlake/quarantine/tracking_logs/lms=<host>/<base>-<fp>[-from<byte>].gz`
pub fn quarantine_key(layout: &Layout, base: &str, fingerprint: &str, from: u64) -> String {
    format!(
        "{}{base}-{fingerprint}{}.gz",
        layout.state_dir(&format!("quarantine/{TABLE}")),
        from_suffix(from)
    )
}

fn from_suffix(from: u64) -> String {
    if from == 0 {
        String::new()
    } else {
        format!("-from{from}")
    }
}

async fn put(store: &dyn Store, key: &str, path: &Path) -> Result<()> {
    store
        .put(key, Payload::File(path.to_path_buf()))
        .await
        .map_err(|e| StoreFailure(format!("{e:#}")).into())
}

fn remove(path: &Path, report: &mut ShipReport) {
    match fs::remove_file(path) {
        Ok(()) => {
            // Best effort: a shipped file back after a crash is known by its record.
            let _ = crate::durable::sync_dir(&files::parent_dir(path));
            report.deleted.push(path.to_path_buf());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => report.warnings.push(format!(
            "cannot delete shipped file {}: {e}",
            path.display()
        )),
    }
}

/// What the operator reads after a pass.
pub fn render(report: &ShipReport, settings: &TrackingLogsSettings) -> String {
    let mut out = String::new();
    match &report.rotation {
        Some(Rotation::Rotated(p)) => {
            out += &format!("rotated {} to {}\n", settings.path.display(), p.display())
        }
        Some(Rotation::NotDue { size, age }) => {
            out += &format!(
                "live log {} not due for rotation ({size} bytes{})\n",
                settings.path.display(),
                age.map(|a| format!(", first event {}s old", a.as_secs()))
                    .unwrap_or_default()
            )
        }
        Some(Rotation::Nothing) | None => {}
    }
    for s in &report.shipped {
        out += &format!(
            "shipped {}{}: {} events in {} object(s) (day {}){}\n",
            s.path.display(),
            if s.from == 0 {
                String::new()
            } else {
                format!(" from byte {} (appended after it was shipped)", s.from)
            },
            s.events,
            s.objects.len(),
            s.days.join(", "),
            match s.rejected.values().sum::<u64>() {
                0 => String::new(),
                n => format!(", {n} line(s) quarantined"),
            }
        );
    }
    out += &format!(
        "tracking logs: {} shipped, {} already shipped, {} empty, {} waiting, {} deleted in {:.1}s{}\n",
        report.shipped.len(),
        report.already_shipped,
        report.empty,
        report.waiting.len(),
        report.deleted.len(),
        report.seconds,
        if report.failures.is_empty() {
            String::new()
        } else {
            format!(", INCOMPLETE ({} failed)", report.failures.len())
        }
    );
    if let Some(Ok(r)) = &report.catalog {
        out += &format!("catalog: {}\n", r.summary());
    }
    out
}
